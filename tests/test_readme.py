"""The README's Python tour runs as written (on small data)."""
import os
import re

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_readme_python_blocks_run():
    pytest.importorskip("sklearn")
    with open(os.path.join(ROOT, "README.md")) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    assert len(blocks) >= 4
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 10)).astype(np.float32)
    y = np.where(X @ rng.standard_normal(10) > 0, 1.0, -1.0).astype(np.float32)
    ns = {"rng": rng, "X": X, "y": y, "d": 10,
          "gradients": [np.full(1_000_000, 0.1, np.float32) for _ in range(3)]}
    for block in blocks:
        # the tour's data are large; run it on the small X above
        code = block.replace("X = rng.standard_normal((200_000, 100), dtype=np.float32)", "")
        exec(compile(code, "README.md", "exec"), ns)
    assert ns["res"].nit > 0
    assert ns["clf"].coef_.dtype == np.float32
