"""The command line, end to end in subprocesses on small sizes: demo, bench,
fit/predict on every file format, and every bad-file case (one line on
stderr naming the file and the problem, a non-zero exit, no traceback)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from gdfast.cli import io

try:
    import matplotlib  # noqa: F401
    HAVE_MPL = True
except ImportError:
    HAVE_MPL = False

try:
    import scipy.sparse  # noqa: F401
    HAVE_SCIPY = True
except ImportError:
    HAVE_SCIPY = False

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def gdfast(*args, cwd=None, pre=None, timeout=120):
    """Run `python -m gdfast ARGS` (or, with pre, a snippet then main(ARGS))."""
    env = dict(os.environ)
    env.pop("GDFAST_ISA", None)
    if pre is None:
        cmd = [sys.executable, "-m", "gdfast", *map(str, args)]
    else:
        code = (f"import sys\n{pre}\nfrom gdfast.__main__ import main\n"
                f"sys.exit(main({[str(a) for a in args]!r}))")
        cmd = [sys.executable, "-c", code]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def assert_one_line_error(p, path_fragment, *words, status=2):
    assert p.returncode == status, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("gdfast: error: "), lines[0]
    assert path_fragment in lines[0]
    for w in words:
        assert w in lines[0].lower(), (w, lines[0])


def table_rows(text, first_col):
    """The rows of a plain-text table whose header starts with first_col."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(first_col))
    header = lines[start]
    assert set(lines[start + 1].replace(" ", "")) == {"-"}
    rows = []
    for ln in lines[start + 2:]:
        if not ln.strip():  # the table ends at a blank line
            break
        rows.append(ln)
    return header, rows


def check_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
    assert img.std() > 0  # not a blank canvas


# --- the command itself ------------------------------------------------------------------------

def test_help_and_usage_errors():
    p = gdfast("--help")
    assert p.returncode == 0
    for cmd in ("demo", "bench", "fit", "predict"):
        assert cmd in p.stdout
    p = gdfast()
    assert p.returncode == 2 and "Traceback" not in p.stderr
    p = gdfast("fit")  # DATA missing
    assert p.returncode == 2 and "DATA" in p.stderr
    p = gdfast("fit", "x.csv", "--batch-size", "0")
    assert p.returncode == 2 and "batch size" in p.stderr
    p = gdfast("--version")
    assert p.returncode == 0 and p.stdout.startswith("gdfast ")


def test_main_is_the_console_entry_point():
    from gdfast.__main__ import main

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0


# --- demo --------------------------------------------------------------------------------------

DEMO_COLUMNS = ["mode", "momentum", "impl", "epochs", "final loss", "seconds", "samples/s",
                "speed-up"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_demo_end_to_end(tmp_path, dtype):
    args = ["demo", "--n", "3000", "--d", "8", "--epochs-scale", "0.2", "--dtype", dtype,
            "--seed", "3", "--batch-size", "64", "--out-dir", tmp_path / "plots"]
    if dtype == "float64":
        args.append("--no-plot")
    p = gdfast(*args)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    header, rows = table_rows(p.stdout, "mode")
    cols = re.split(r"\s{2,}", header.strip())
    assert cols == DEMO_COLUMNS
    assert len(rows) == 12  # 3 modes x 2 momenta x (gdfast, numpy)
    cells = [re.split(r"\s{2,}", r.strip()) for r in rows]
    impls = [c[2] if len(c) == 8 else c[0] for c in cells]
    assert impls == ["gdfast", "numpy"] * 6
    modes = [r.split("  ")[0] for r in rows[::2]]
    assert modes == ["full batch"] * 2 + ["stochastic"] * 2 + ["mini-batch 64"] * 2
    for r in rows[::2]:  # gdfast rows: a finite final loss and a speed-up
        cells = re.split(r"\s{2,}", r.strip())
        loss, speed = float(cells[4]), cells[-1]
        assert np.isfinite(loss) and loss > 0
        assert re.fullmatch(r"\d+(\.\d+)?x", speed), speed
    # NumPy ran shortened work: its seconds are extrapolated and labelled so
    assert "extrapolated from 2 of 10 iterations" in p.stdout
    assert re.search(r"extrapolated from \d+ rows", p.stdout) is None  # n=3000: no prefix
    m = re.search(r"agree to ([0-9.e+-]+)", p.stdout)
    assert m, p.stdout
    assert float(m.group(1)) < (1e-3 if dtype == "float32" else 1e-9)
    png = tmp_path / "plots" / "gdfast-demo-loss.png"
    if dtype == "float32" and HAVE_MPL:
        assert f"loss curves written to {png}" in p.stdout
        check_png(png)
    else:
        assert not png.exists()


def test_demo_prefix_labels_and_momentum_matters(tmp_path):
    """With n above the per-sample prefix, NumPy's per-sample run is labelled
    as extrapolated from the prefix; on the valley, full-batch momentum ends
    far lower than plain gradient descent."""
    p = gdfast("demo", "--n", "21000", "--d", "20", "--no-plot", "--seed", "1")
    assert p.returncode == 0, p.stderr
    assert "its seconds are extrapolated from 20000 rows" in p.stdout
    _, rows = table_rows(p.stdout, "mode")
    plain = float(re.split(r"\s{2,}", rows[0].strip())[4])
    heavy = float(re.split(r"\s{2,}", rows[2].strip())[4])
    assert heavy < plain / 5, (plain, heavy)
    m = re.search(r"final loss after the same epochs: full batch ([0-9.]+)x lower", p.stdout)
    assert m and float(m.group(1)) == pytest.approx(plain / heavy, rel=0.01)


def test_demo_quiet_without_numpy(tmp_path):
    p = gdfast("demo", "--n", "500", "--d", "4", "--epochs-scale", "0.1", "--no-numpy",
               "--no-plot", "--quiet")
    assert p.returncode == 0, p.stderr
    _, rows = table_rows(p.stdout, "mode")
    assert len(rows) == 6 and all(" numpy " not in r for r in rows)
    assert p.stderr == ""


def test_demo_bad_options():
    p = gdfast("demo", "--n", "0")
    assert_one_line_error(p, "--n", "invalid")
    p = gdfast("demo", "--epochs-scale", "-1")
    assert_one_line_error(p, "--epochs-scale", "invalid")


def test_demo_generator_is_seeded_and_ill_conditioned():
    from gdfast.cli.demo import feature_scales, make_valley

    X, y, coef, b, s = make_valley(20000, 10, np.float32, seed=5, threads=1)
    X2, y2, _, _, _ = make_valley(20000, 10, np.float32, seed=5, threads=3)
    assert X.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_array_equal(X, X2)  # thread count does not change the data
    np.testing.assert_array_equal(y, y2)
    X3, _, _, _, _ = make_valley(20000, 10, np.float32, seed=6)
    assert not np.array_equal(X, X3)
    np.testing.assert_allclose(X.std(axis=0), s, rtol=0.03)
    assert s[0] == 1 and s[-1] == 30 and np.all(np.diff(s) > 0)
    resid = y - (X @ coef + b)
    assert abs(resid.std() - 0.5) < 0.02
    ev = np.linalg.eigvalsh(X.T.astype(np.float64) @ X / len(X))
    assert 700 < ev[-1] / ev[0] < 1100
    assert feature_scales(1).tolist() == [30.0]


def test_demo_table_and_curves_from_runs(tmp_path):
    """The table and plot code on hand-made runs (no training)."""
    from gdfast.cli.demo import Mode, Run, curve_points, format_table, plot_curves

    full = Mode("full batch", None, 4, 0.1, 0.0, ref_epochs=2)
    sgd = Mode("stochastic", 1, 2, 0.01, 0.9, ref_rows=100, ref_epochs=1)
    runs = [
        Run(full, "gdfast", 4, 4000, 2.0, final_loss=0.5, loss_history=[8, 4, 2, 1],
            epoch_times=[0.5, 1.0, 1.5, 2.0]),
        Run(full, "numpy", 2, 2000, 4.0, loss_history=[8, 4], epoch_times=[2, 4],
            extrapolated_seconds=8.0, note="extrapolated from 2 of 4 iterations"),
        Run(sgd, "gdfast", 2, 2000, 0.1, final_loss=0.25, loss_history=[3, 0.3],
            epoch_times=[0.05, 0.1]),
        Run(sgd, "numpy", 1, 100, 1.0, extrapolated_seconds=20.0,
            note="extrapolated from 100 rows"),
    ]
    text = format_table(runs)
    lines = text.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == DEMO_COLUMNS
    cells = re.split(r"\s{2,}", lines[2].strip())
    assert cells == ["full batch", "0", "gdfast", "4", "0.5", "2.00", "2k", "4.0x"]
    cells = re.split(r"\s{2,}", lines[3].strip())
    assert cells == ["numpy", "4", "-", "~8.0", "500", "-"]
    cells = re.split(r"\s{2,}", lines[4].strip())
    assert cells[-1] == "200.0x"  # 20000 samples/s against 100
    xe, xt, ys = curve_points(runs[0], 16.0)
    assert xe == [0, 1, 2, 3, 4] and ys == [16.0, 4, 2, 1, 0.5] and xt == [0, 0.5, 1, 1.5, 2]
    xe, xt, ys = curve_points(runs[2], 16.0)
    assert xe == [0, 1, 2] and ys == [16.0, 3, 0.3] and xt == [0, 0.05, 0.1]
    if HAVE_MPL:
        plot_curves(tmp_path / "c.png", runs, 16.0)
        check_png(tmp_path / "c.png")


# --- bench -------------------------------------------------------------------------------------

BENCH_GROUP = "step/float32/n=1e3/heavy/1thr"


def test_bench_quick_table_json_plot(tmp_path):
    js, png = tmp_path / "b.json", tmp_path / "b.png"
    args = ["bench", "--quick", "--filter", BENCH_GROUP, "--min-time", "0.005", "--repeats",
            "2", "--json", js]
    if HAVE_MPL:
        args += ["--plot", png]
    p = gdfast(*args)
    assert p.returncode == 0, p.stderr
    head = p.stdout.splitlines()[:4]
    assert "ISA" in head[0] and "threads" in head[0]
    assert "numpy" in head[2] and "scikit-learn" in head[2] and "torch" in head[2]
    header, rows = table_rows(p.stdout, "group")
    assert re.split(r"\s{2,}", header.strip()) == ["group", "impl", "median", "ratio",
                                                   "throughput"]
    from gdfast.benchcases import all_cases

    case = next(c for c in all_cases(quick=True) if c.group == BENCH_GROUP)
    assert len(rows) == len(case.impls)
    assert rows[0].startswith(BENCH_GROUP) and " gdfast " in rows[0] and " 1.00x " in rows[0]
    doc = json.loads(js.read_text())
    assert set(doc) >= {"machine", "results"}
    mach = doc["machine"]
    for k in ("isa", "threads", "numpy", "versions", "gdfast"):
        assert k in mach
    assert {"numpy", "scikit-learn", "torch"} <= set(mach["versions"])
    res = doc["results"]
    assert [r["impl"] for r in res] == list(case.impls)
    for r in res:
        assert r["group"] == BENCH_GROUP
        assert ("seconds" in r) != ("skipped" in r)
        assert "ratio" in r
        if "seconds" in r:
            assert r["seconds"] > 0
            base = next(x for x in res if x["impl"] == "gdfast")["seconds"]
            assert r["ratio"] == pytest.approx(r["seconds"] / base)
    assert next(r for r in res if r["impl"] == "gdfast")["ratio"] == 1.0
    if HAVE_MPL:
        assert f"ratio chart written to {png}" in p.stdout
        check_png(png)


def test_bench_reports_absent_peer_as_skipped(tmp_path):
    js = tmp_path / "b.json"
    p = gdfast("bench", "--filter", BENCH_GROUP, "--min-time", "0.005", "--repeats", "1",
               "--json", js, pre="sys.modules['torch'] = None  # as if not installed")
    assert p.returncode == 0, p.stderr
    res = json.loads(js.read_text())["results"]
    torch_rows = [r for r in res if r["impl"].startswith("torch")]
    assert torch_rows and all("skipped" in r and r["ratio"] is None for r in torch_rows)
    assert all("seconds" in r for r in res if not r["impl"].startswith("torch"))
    assert "skipped: torch is not installed" in p.stdout
    assert "0 failed" in p.stdout


def test_bench_budget_reports_groups_not_run(tmp_path):
    js = tmp_path / "b.json"
    p = gdfast("bench", "--quick", "--filter", "n=1e3/heavy", "--min-time", "0.005",
               "--repeats", "1", "--budget", "0", "--json", js,
               pre="sys.modules['torch'] = None  # faster: this test is about the budget")
    assert p.returncode == 0, p.stderr
    doc = json.loads(js.read_text())
    # a zero budget still runs the first group, then stops and says which were not run
    assert len({r["group"] for r in doc["results"]}) == 1
    assert doc["settings"]["not_run"] and "not run (time budget 0 s spent)" in p.stdout


def test_bench_list_and_bad_filter(tmp_path):
    p = gdfast("bench", "--quick", "--list")
    assert p.returncode == 0 and BENCH_GROUP in p.stdout
    p = gdfast("bench", "--filter", "no-such-group")
    assert_one_line_error(p, "no-such-group", "no benchmark group")
    p = gdfast("bench", "--filter", BENCH_GROUP, "--json", tmp_path / "nodir" / "x.json")
    assert_one_line_error(p, "nodir", "no such directory")


def test_bench_uses_the_shared_case_definitions():
    from gdfast.benchcases import AREAS, all_cases
    from gdfast.cli.bench import select_cases

    assert [c.group for c in select_cases(False, [])] == [c.group for c in all_cases()]
    quick = select_cases(True, [])
    assert quick and all(c.quick for c in quick)
    assert {c.group.split("/")[0] for c in all_cases()} <= set(AREAS) | {"linear", "minimize"}


# --- fit / predict -----------------------------------------------------------------------------

def _regression(n=300, d=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    X[rng.random((n, d)) < 0.3] = 0  # some zeros, so svmlight files are sparse
    coef = np.arange(1, d + 1, dtype=dtype) / d
    y = (X @ coef + 0.5 + 0.01 * rng.standard_normal(n)).astype(dtype)
    return X, y, coef


def _write(path, fmt, X, y):
    if fmt == "npy":
        np.save(path, np.column_stack([X, y]))
    elif fmt == "npz":
        np.savez(path, X=X, y=y)
    elif fmt == "csv":
        names = [f"f{j}" for j in range(X.shape[1])] + ["target"]
        np.savetxt(path, np.column_stack([X, y]), delimiter=",", header=",".join(names),
                   comments="", fmt="%.17g")
    else:
        io.write_svmlight(path, X, y)


FIT_ARGS = ["--batch-size", "16", "--epochs", "30", "--lr", "0.05", "--momentum", "0.5",
            "--seed", "0"]


@pytest.mark.parametrize("fmt,suffix", [("npy", ".npy"), ("npz", ".npz"), ("csv", ".csv"),
                                        ("svmlight", ".svm")])
def test_fit_predict_round_trip(tmp_path, fmt, suffix):
    X, y, coef = _regression()
    data = tmp_path / f"train{suffix}"
    _write(data, fmt, X, y)
    model = tmp_path / "m.npz"
    p = gdfast("fit", data, *FIT_ARGS, "--out", model)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    assert re.search(r"trained squared_error on .*: 30 epochs, \d+ updates", p.stdout)
    assert f"model saved to {model}" in p.stdout
    assert len(re.findall(r"^epoch \d+/30 ", p.stderr, re.M)) == 30  # progress per epoch
    r2 = float(re.search(r"training R\^2: ([0-9.]+)", p.stdout).group(1))
    assert r2 > 0.99
    with np.load(model) as m:
        np.testing.assert_allclose(m["coef"], coef, atol=0.05)
        assert abs(float(m["intercept"][0]) - 0.5) < 0.05
        opts = json.loads(str(m["options"]))
        assert opts["batch_size"] == 16 and opts["momentum"] == 0.5 and opts["lr"] == 0.05
        assert str(m["loss"]) == "squared_error" and len(m["loss_history"]) == 30
        coef_fit, b_fit = m["coef"], m["intercept"]
    if fmt == "svmlight" and HAVE_SCIPY:
        assert "sparse CSR" in p.stderr  # the core takes CSR: no dense copy
    # predict on the same file: the score goes to stderr, predictions to stdout
    p = gdfast("predict", model, data)
    assert p.returncode == 0, p.stderr
    pred = np.loadtxt(p.stdout.splitlines())
    np.testing.assert_allclose(pred, X @ coef_fit + b_fit[0], rtol=1e-9, atol=1e-9)
    assert re.search(r"R\^2 on .*: 0\.99", p.stderr)
    # and to files
    p = gdfast("predict", model, data, "--out", tmp_path / "p.npy")
    assert p.returncode == 0, p.stderr
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), pred, rtol=1e-12)
    p = gdfast("predict", model, data, "--out", tmp_path / "p.csv", "--quiet")
    assert p.returncode == 0 and p.stdout == ""
    got = np.loadtxt(tmp_path / "p.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(got, pred, rtol=1e-12)


def test_predict_without_target_columns(tmp_path):
    X, y, _ = _regression(n=60)
    _write(tmp_path / "t.csv", "csv", X, y)
    assert gdfast("fit", tmp_path / "t.csv", *FIT_ARGS, "--out", tmp_path / "m").returncode == 0
    assert (tmp_path / "m.npz").exists()
    # csv without the target column, columns in another order: matched by name
    names = [f"f{j}" for j in range(X.shape[1])][::-1]
    np.savetxt(tmp_path / "x.csv", X[:, ::-1], delimiter=",", header=",".join(names),
               comments="")
    p = gdfast("predict", tmp_path / "m.npz", tmp_path / "x.csv")
    assert p.returncode == 0, p.stderr
    assert "R^2" not in p.stderr  # no target, no score
    with np.load(tmp_path / "m.npz") as m:
        want = X @ m["coef"] + m["intercept"][0]
    np.testing.assert_allclose(np.loadtxt(p.stdout.splitlines()), want, rtol=1e-9)
    # npy without the target column
    np.save(tmp_path / "x.npy", X)
    p = gdfast("predict", tmp_path / "m.npz", tmp_path / "x.npy")
    assert p.returncode == 0, p.stderr
    np.testing.assert_allclose(np.loadtxt(p.stdout.splitlines()), want, rtol=1e-9)
    # a file with the wrong number of features
    np.save(tmp_path / "bad.npy", X[:, :2])
    p = gdfast("predict", tmp_path / "m.npz", tmp_path / "bad.npy")
    assert_one_line_error(p, "bad.npy", "feature")


def test_fit_classification_labels_round_trip(tmp_path):
    """Binary labels other than 0/1 and -1/+1 are mapped for the loss and
    mapped back by predict; accuracy is reported."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 3))
    lab = np.where(X @ [1.0, -2.0, 0.5] > 0, 7.0, 3.0)
    names = "a,b,c,label"
    np.savetxt(tmp_path / "c.csv", np.column_stack([lab, X]), delimiter=",",
               header="label,a,b,c", comments="", fmt="%.17g")
    p = gdfast("fit", tmp_path / "c.csv", "--target", "label", "--loss", "log_loss",
               "--epochs", "20", "--lr", "0.1", "--seed", "0", "--out", tmp_path / "c.npz")
    assert p.returncode == 0, p.stderr
    acc = float(re.search(r"training accuracy: ([0-9.]+)", p.stdout).group(1))
    assert acc > 0.95
    p = gdfast("predict", tmp_path / "c.npz", tmp_path / "c.csv")
    assert p.returncode == 0, p.stderr
    pred = np.loadtxt(p.stdout.splitlines())
    assert set(np.unique(pred)) <= {3.0, 7.0}
    assert np.mean(pred == lab) > 0.95
    assert "accuracy on" in p.stderr
    assert names  # the header above names the columns in a different order than X


def test_fit_softmax_npz_and_float32_stays_float32(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 4)).astype(np.float32)
    cls = np.argmax(X[:, :3], axis=1).astype(np.float32) * 10  # labels 0, 10, 20
    np.savez(tmp_path / "s.npz", X=X, y=cls)
    p = gdfast("fit", tmp_path / "s.npz", "--loss", "softmax", "--epochs", "20", "--lr", "0.5",
               "--seed", "0", "--out", tmp_path / "s_model.npz")
    assert p.returncode == 0, p.stderr
    with np.load(tmp_path / "s_model.npz") as m:
        assert m["coef"].dtype == np.float32 and m["coef"].shape == (4, 3)
        assert m["classes"].tolist() == [0, 10, 20]
    p = gdfast("predict", tmp_path / "s_model.npz", tmp_path / "s.npz")
    assert p.returncode == 0, p.stderr
    pred = np.loadtxt(p.stdout.splitlines())
    assert np.mean(pred == cls) > 0.9


def test_fit_divergence_is_exit_1_without_traceback(tmp_path):
    X, y, _ = _regression(n=100, dtype=np.float32)
    X *= np.float32(1e15)  # the first update overflows float32
    _write(tmp_path / "d.npz", "npz", X, y)
    p = gdfast("fit", tmp_path / "d.npz", "--lr", "1", "--epochs", "5", "--out",
               tmp_path / "d_model.npz")
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert "Traceback" not in p.stderr
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("gdfast: error: training diverged") and "epoch" in last
    assert not (tmp_path / "d_model.npz").exists()


def test_fit_bad_option_values_are_one_line(tmp_path):
    X, y, _ = _regression(n=50)
    _write(tmp_path / "t.npz", "npz", X, y)
    p = gdfast("fit", tmp_path / "t.npz", "--momentum", "1.5")
    assert_one_line_error(p, "momentum")
    p = gdfast("fit", tmp_path / "t.npz", "--loss", "hinge")  # continuous target, binary loss
    assert_one_line_error(p, "t.npz", "2 classes")


# --- bad files: one line naming the file and the problem, exit 2 ------------------------------

BAD_TEXT = {
    "empty.csv": ("", "empty file"),
    "blank.csv": ("\n\n", "empty file"),
    "header_only.csv": ("a,b,c\n", "no data rows"),
    "ragged.csv": ("a,b,c\n1,2,3\n4,5\n", "line 3: ragged row"),
    "nonnum.csv": ("a,b,c\n1,2,3\n4,five,6\n", "line 3: non-numeric cell 'five' in column 'b'"),
    "emptycell.csv": ("a,b,c\n1,,3\n", "line 2: empty cell in column 'b'"),
    "noheader.csv": ("1,2,3\n4,5,6\n", "header"),
    "nan.csv": ("a,b,c\n1,nan,3\n", "non-finite"),
    "onecol.csv": ("a\n1\n2\n", "at least 2 columns"),
    "empty.svm": ("", "empty file"),
    "badpair.svm": ("1 1:0.5 2:x\n", "line 1: non-numeric index:value pair '2:x'"),
    "nolabel.svm": ("1:0.5 2:1\n", "line 1: must start with a label"),
    "badlabel.svm": ("1 1:2\nyes 1:3\n", "line 2: non-numeric label 'yes'"),
    "order.svm": ("1 1:2\n0 3:1 2:1\n", "line 2: feature indices must increase"),
    "stray.svm": ("1 1:2 5\n", "line 1: expected index:value"),
    "comments.svm": ("# nothing here\n", "no data rows"),
    "garbage.npy": ("this is not numpy", "not a valid .npy"),
    "garbage.npz": ("PK nope", "not a valid .npz"),
    "noext.data": ("1,2\n", "cannot tell the format"),
}


@pytest.mark.parametrize("name", sorted(BAD_TEXT))
def test_bad_file(tmp_path, name):
    text, problem = BAD_TEXT[name]
    path = tmp_path / name
    path.write_text(text)
    p = gdfast("fit", path, "--out", tmp_path / "never.npz")
    assert_one_line_error(p, str(path), problem.lower())
    assert not (tmp_path / "never.npz").exists()


def test_bad_arrays_and_missing_pieces(tmp_path):
    np.save(tmp_path / "vec.npy", np.arange(5.0))
    assert_one_line_error(gdfast("fit", tmp_path / "vec.npy"), "vec.npy", "2-d")
    np.save(tmp_path / "str.npy", np.array([["a", "b"], ["c", "d"]]))
    assert_one_line_error(gdfast("fit", tmp_path / "str.npy"), "str.npy", "non-numeric")
    np.savez(tmp_path / "noX.npz", A=np.ones((3, 2)), y=np.ones(3))
    assert_one_line_error(gdfast("fit", tmp_path / "noX.npz"), "noX.npz", "no array 'x'")
    np.savez(tmp_path / "noy.npz", X=np.ones((3, 2)))
    assert_one_line_error(gdfast("fit", tmp_path / "noy.npz"), "noy.npz", "no array 'y'")
    np.savez(tmp_path / "rows.npz", X=np.ones((3, 2)), y=np.ones(4))
    assert_one_line_error(gdfast("fit", tmp_path / "rows.npz"), "rows.npz", "3 rows", "4")
    assert_one_line_error(gdfast("fit", tmp_path / "missing.csv"), "missing.csv",
                          "no such file")
    (tmp_path / "t.csv").write_text("a,b,c\n1,2,3\n4,5,6\n")
    assert_one_line_error(gdfast("fit", tmp_path / "t.csv", "--target", "zz"), "t.csv",
                          "no target column 'zz'", "a, b, c")
    assert_one_line_error(gdfast("fit", tmp_path / "t.csv", "--target", "7"), "t.csv",
                          "out of range")
    assert_one_line_error(gdfast("predict", tmp_path / "t.csv", tmp_path / "t.csv"), "t.csv",
                          "not a gdfast model")
    np.savez(tmp_path / "other.npz", coef=np.ones(2))
    assert_one_line_error(gdfast("predict", tmp_path / "other.npz", tmp_path / "t.csv"),
                          "other.npz", "not a gdfast model")


# --- loaders, in process -----------------------------------------------------------------------

def _svm_text(rng, n=200, d=30, zero_based=False):
    lines = []
    for i in range(n):
        idx = np.sort(rng.choice(d, size=rng.integers(0, 6), replace=False))
        if zero_based and i == 3:
            idx = np.union1d(idx, [0])
        off = 0 if zero_based else 1
        pairs = " ".join(f"{j + off}:{rng.standard_normal():.6g}" for j in idx)
        qid = f"qid:{i % 3} " if i % 5 == 0 else ""
        comment = "  # note" if i % 7 == 0 else ""
        lines.append(f"{rng.integers(-1, 2)} {qid}{pairs}{comment}")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("zero_based", [False, True])
@pytest.mark.skipif(not HAVE_SCIPY, reason="scikit-learn's parser is the oracle")
def test_svmlight_parser_matches_scikit_learn(tmp_path, zero_based, monkeypatch):
    datasets = pytest.importorskip("sklearn.datasets")
    rng = np.random.default_rng(4)
    data = _svm_text(rng, zero_based=zero_based)
    (tmp_path / "a.svm").write_bytes(data)
    want_X, want_y = datasets.load_svmlight_file(str(tmp_path / "a.svm"), n_features=31
                                                 if zero_based else 30,
                                                 zero_based=zero_based)
    ds = io.load(tmp_path / "a.svm")
    got = ds.X.toarray()
    np.testing.assert_array_equal(ds.y, want_y)
    np.testing.assert_array_equal(got, want_X.toarray()[:, :got.shape[1]])
    assert not want_X.toarray()[:, got.shape[1]:].any()
    # chunked parsing (the token array stays bounded) gives the same arrays
    monkeypatch.setattr(io, "_CHUNK_BYTES", 97)
    ds2 = io.load(tmp_path / "a.svm")
    np.testing.assert_array_equal(ds2.X.toarray(), got)
    np.testing.assert_array_equal(ds2.y, ds.y)
    dense = io.load(tmp_path / "a.svm", sparse=False)
    assert isinstance(dense.X, np.ndarray)
    np.testing.assert_array_equal(dense.X, got)


def test_svmlight_error_line_numbers_across_chunks(tmp_path, monkeypatch):
    lines = [f"1 1:{i}" for i in range(50)]
    lines[37] = "1 1:2 2:oops"
    (tmp_path / "e.svm").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(io, "_CHUNK_BYTES", 64)
    with pytest.raises(io.DataError, match="line 38: non-numeric index:value pair '2:oops'"):
        io.load(tmp_path / "e.svm")


def test_loaders_keep_dtype_and_never_upcast(tmp_path):
    X, y, _ = _regression(n=20, dtype=np.float32)
    np.save(tmp_path / "a.npy", np.column_stack([X, y]))
    ds = io.load(tmp_path / "a.npy")
    assert ds.X.dtype == np.float32 and ds.y.dtype == np.float32
    assert ds.X.flags.c_contiguous
    np.testing.assert_array_equal(ds.X, X)
    ds = io.load(tmp_path / "a.npy", dtype="float64")
    assert ds.X.dtype == np.float64
    np.save(tmp_path / "i.npy", np.arange(12).reshape(4, 3))
    ds = io.load(tmp_path / "i.npy", target=0)
    assert ds.X.dtype == np.float64 and ds.y.tolist() == [0, 3, 6, 9]
    _write(tmp_path / "a.csv", "csv", X.astype(np.float64), y.astype(np.float64))
    ds = io.load(tmp_path / "a.csv", dtype="float32", target="f1")
    assert ds.X.dtype == np.float32 and ds.feature_names == ["f0", "f2", "f3", "target"]
    np.testing.assert_array_equal(ds.y, X[:, 1])


def test_csv_delimiters_and_quotes(tmp_path):
    (tmp_path / "s.csv").write_text('"x";"y"\n1;2\n3;4\n')
    ds = io.load(tmp_path / "s.csv")
    assert ds.feature_names == ["x"] and ds.y.tolist() == [2, 4]
    (tmp_path / "t.tsv").write_text("x\ty\n1\t2\n# a comment\n3\t4\n")
    ds = io.load(tmp_path / "t.tsv")
    assert ds.X.ravel().tolist() == [1, 3]


def test_densify_refuses_what_does_not_fit(tmp_path):
    sp = pytest.importorskip("scipy.sparse")
    ds = io.Dataset(sp.csr_matrix(np.eye(4)), np.ones(4), "e.svm", "svmlight")
    with pytest.raises(io.DataError, match="would need"):
        io.densify(ds, max_bytes=16)
    out = io.densify(ds)
    assert isinstance(out.X, np.ndarray) and "dense copy" in out.notes[0]


def test_score_definitions():
    from gdfast.cli.fit import encode_target, predict_labels, score

    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.1, 1.9, 3.2, 3.9])
    name, v = score(y, p, "huber")
    assert name == "R^2"
    assert v == pytest.approx(1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2))
    enc, classes = encode_target("f", np.array([5.0, 2.0, 5.0]), "hinge")
    assert enc.tolist() == [1, -1, 1] and classes.tolist() == [2, 5]
    assert predict_labels(np.array([0.3, -2.0]), "hinge", classes).tolist() == [5, 2]
    assert score(np.array([5.0, 2.0]), np.array([5.0, 5.0]), "hinge") == ("accuracy", 0.5)
    with pytest.raises(io.DataError, match="exactly 2 classes"):
        encode_target("f", np.array([1.0, 2.0, 3.0]), "log_loss")


def test_progress_bar_only_on_a_terminal(monkeypatch):
    pytest.importorskip("tqdm")
    import io as _io

    from gdfast.cli import _util

    buf = _io.StringIO()
    monkeypatch.setattr(_util.sys, "stderr", buf)
    monkeypatch.setattr(_util, "is_tty", lambda stream=None: True)
    with _util.Progress(3, "run", delay=0) as bar:
        for _ in range(3):
            bar.update(1, loss="0.5")
    assert "run:" in buf.getvalue() and "/3 " in buf.getvalue()
    buf.truncate(0)
    with _util.Progress(3, "run", quiet=True, delay=0) as bar:
        bar.update(3)
    assert buf.getvalue().strip("\x00") == ""
    monkeypatch.setattr(_util, "is_tty", lambda stream=None: False)
    with _util.Progress(3, "run", delay=0) as bar:
        bar.update(3)
    assert buf.getvalue().strip("\x00") == ""
