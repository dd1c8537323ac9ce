"""The whole-array checks of the C core (checks.c) build and pass a plain-C
test on every ISA, with no Python headers."""
import os
import re
import shutil
import subprocess
import sysconfig

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src", "gdcore")
CC = shutil.which("cc") or shutil.which("gcc")


def isa_sources():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        m = re.search(r"set\(GD_ISA_SOURCES([^)]*)\)", f.read())
    return [os.path.basename(s) for s in m.group(1).split()]


@pytest.mark.skipif(CC is None, reason="no C compiler")
@pytest.mark.skipif(sysconfig.get_platform().split("-")[-1] != "x86_64",
                    reason="the ISA flags below are x86-64's")
def test_plain_c_checks(tmp_path):
    per_isa = isa_sources()
    assert "checks_kernels.c" in per_isa
    objs = []
    for isa, flags in [("baseline", []), ("avx2", ["-mavx2", "-mfma"]),
                       ("avx512", ["-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma"])]:
        for src in per_isa:
            obj = str(tmp_path / f"{src[:-2]}_{isa}.o")
            # the shipped flags: no -ffast-math, so x - x and NaN compares keep their meaning
            subprocess.run([CC, "-std=c11", "-O3", "-fopenmp", "-ffp-contract=fast",
                            "-fno-math-errno", "-fno-trapping-math", f"-DGD_ISA={isa}", *flags,
                            "-I", SRC, "-c", os.path.join(SRC, src), "-o", obj], check=True)
            objs.append(obj)
    others = [os.path.join(SRC, f) for f in sorted(os.listdir(SRC))
              if f.endswith(".c") and f not in per_isa and f != "_core.c"]
    exe = str(tmp_path / "test_checks")
    subprocess.run([CC, "-std=c11", "-O2", "-fopenmp", "-DGD_HAVE_AVX2=1", "-DGD_HAVE_AVX512=1",
                    "-I", SRC, *others, os.path.join(ROOT, "tests", "c", "test_checks.c"), *objs,
                    "-o", exe, "-lm"], check=True)
    proc = subprocess.run([exe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 failed" in proc.stdout
    assert int(proc.stdout.split()[0]) > 1000
