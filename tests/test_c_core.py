"""The C core builds and passes its own test with no Python headers at all."""
import os
import re
import shutil
import subprocess
import sysconfig

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src", "gdcore")


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                    reason="no C compiler")
@pytest.mark.skipif(sysconfig.get_platform().split("-")[-1] != "x86_64",
                    reason="the ISA flags below are x86-64's")
def isa_sources():
    """The per-ISA sources, read from CMakeLists.txt so the two never disagree."""
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        m = re.search(r"set\(GD_ISA_SOURCES([^)]*)\)", f.read())
    return [os.path.basename(s) for s in m.group(1).split()]


def test_plain_c_core(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    objs = []
    per_isa = isa_sources()
    assert "kernels.c" in per_isa
    # the kernels, once per ISA, as CMakeLists.txt does; no Python include path anywhere
    for isa, flags in [("baseline", []), ("avx2", ["-mavx2", "-mfma"]),
                       ("avx512", ["-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx2", "-mfma"])]:
        for src in per_isa:
            obj = str(tmp_path / f"{src[:-2]}_{isa}.o")
            subprocess.run([cc, "-std=c11", "-O2", "-fopenmp", "-ffp-contract=fast",
                            f"-DGD_ISA={isa}", *flags, "-I", SRC, "-c", os.path.join(SRC, src),
                            "-o", obj], check=True)
            objs.append(obj)
    exe = str(tmp_path / "test_gdcore")
    others = [os.path.join(SRC, f) for f in sorted(os.listdir(SRC))
              if f.endswith(".c") and f not in per_isa and f != "_core.c"]
    subprocess.run([cc, "-std=c11", "-O2", "-fopenmp", "-DGD_HAVE_AVX2=1", "-DGD_HAVE_AVX512=1",
                    "-I", SRC, *others, os.path.join(ROOT, "tests", "c", "test_gdcore.c"), *objs,
                    "-o", exe, "-lm"], check=True)
    proc = subprocess.run([exe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 failed" in proc.stdout
