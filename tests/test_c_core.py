"""The C core builds and passes its own plain-C tests with no Python headers
at all: every ISA variant of the kernels, compiled with the shipped flags."""
import os
import re
import shutil
import subprocess
import sysconfig

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src", "gdcore")
CC = shutil.which("cc") or shutil.which("gcc")
ISAS = [("baseline", []), ("avx2", ["-mavx2", "-mfma"]),
        ("avx512", ["-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma"])]

pytestmark = [
    pytest.mark.skipif(CC is None, reason="no C compiler"),
    pytest.mark.skipif(sysconfig.get_platform().split("-")[-1] != "x86_64",
                       reason="the ISA flags are x86-64's"),
]


def isa_sources():
    """The per-ISA sources, read from CMakeLists.txt so the two never disagree."""
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        m = re.search(r"set\(GD_ISA_SOURCES([^)]*)\)", f.read())
    return [os.path.basename(s) for s in m.group(1).split()]


def build_and_run(tmp_path, test_source):
    """Compile the core as CMakeLists.txt does (the per-ISA sources once per
    ISA, the rest once) with a plain-C test program; return its stdout."""
    per_isa = isa_sources()
    objs = []
    for isa, flags in ISAS:
        for src in per_isa:
            obj = str(tmp_path / f"{src[:-2]}_{isa}.o")
            # the shipped flags: no -ffast-math, so x - x and NaN compares keep their meaning
            subprocess.run([CC, "-std=c11", "-O3", "-fopenmp", "-ffp-contract=fast",
                            "-fno-math-errno", "-fno-trapping-math", f"-DGD_ISA={isa}", *flags,
                            "-I", SRC, "-c", os.path.join(SRC, src), "-o", obj], check=True)
            objs.append(obj)
    others = [os.path.join(SRC, f) for f in sorted(os.listdir(SRC))
              if f.endswith(".c") and f not in per_isa and f != "_core.c"]
    exe = str(tmp_path / "test_program")
    subprocess.run([CC, "-std=c11", "-O2", "-fopenmp", "-DGD_HAVE_AVX2=1", "-DGD_HAVE_AVX512=1",
                    "-I", SRC, *others, os.path.join(ROOT, "tests", "c", test_source), *objs,
                    "-o", exe, "-lm"], check=True)
    proc = subprocess.run([exe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 failed" in proc.stdout
    return proc.stdout


def test_sgd_step_every_isa_rule_size_thread_count(tmp_path):
    # every ISA x rule x size x thread count against a scalar double evaluation
    assert "kernels.c" in isa_sources()
    out = build_and_run(tmp_path, "test_gdcore.c")
    assert int(out.split()[0]) > 100


def test_whole_array_checks_every_isa(tmp_path):
    # all_finite / sumsq (gdfast.minimize's checks) on every ISA, NaN/inf anywhere
    assert "checks_kernels.c" in isa_sources()
    out = build_and_run(tmp_path, "test_checks.c")
    assert int(out.split()[0]) > 1000
