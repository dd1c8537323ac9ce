"""`gdfast demo`: what gdfast is for, in one command.

A seeded, generated least-squares problem (default 1,000,000 x 100 float32)
shaped as an ill-conditioned valley: feature j has scale s_j, geometrically
spaced from 1 to 30, so the Hessian of the mean squared error,
E[x x^T] = diag(s_j^2), has condition number 900. Plain gradient descent
crawls along the flat directions; momentum gets there much faster.

It trains with full batch, stochastic (batch 1) and mini-batch descent, each
without and with momentum, with gdfast.fit_linear and with the pure-NumPy
reference (gdfast.reference.fit_linear) doing the same updates, and prints
one table: mode, momentum, epochs, final loss, seconds, samples/s and
gdfast's speed-up over NumPy. The NumPy runs are shortened (a few
full-batch iterations; one epoch over a prefix of the rows for the
per-sample and mini-batch loops); their seconds are extrapolated from their
samples/s and labelled so, and their losses are checked against gdfast's on
exactly the same work. With matplotlib installed it also writes the loss
curves (against epochs and against seconds) to a PNG.
"""
from __future__ import annotations

import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from ._util import CLIError, EpochClock, Progress, fmt_rate, table

SCALE_MIN, SCALE_MAX = 1.0, 30.0
NOISE = 0.5
INTERCEPT = 1.0
MOMENTUM = 0.9
# Full-batch lr * L: plain gradient descent is stable below 2 (1.8 keeps a margin for
# the sampled Hessian's top eigenvalue); heavy ball below 2 (1 + momentum) = 3.8, and at
# 3 every direction of the valley contracts by sqrt(momentum) per iteration
# (complex roots), while plain descent's flattest direction contracts by 1 - 1.8/900.
FULL_LR = {0.0: 1.8, MOMENTUM: 3.0}
_GEN_CHUNKS = 16  # fixed, so the data depend on the seed only, never on the thread count


@dataclass
class Mode:
    """One training configuration of the demo."""
    name: str                # "full batch", "stochastic", "mini-batch 256"
    batch_size: Optional[int]
    epochs: int
    lr: float
    momentum: float
    ref_rows: Optional[int] = None    # NumPy: rows of the prefix it trains on (None: all)
    ref_epochs: Optional[int] = None  # NumPy: epochs (iterations) it runs

    def fit_kwargs(self, seed):
        return dict(loss="squared_error", batch_size=self.batch_size, lr=self.lr,
                    momentum=self.momentum, seed=seed, fit_intercept=True, n_jobs=None)


@dataclass
class Run:
    """The outcome of one training run (gdfast or NumPy) for the table and plot."""
    mode: Mode
    impl: str                  # "gdfast" or "numpy"
    epochs: int                # epochs actually run
    samples: int               # rows visited (epochs x rows)
    seconds: float
    final_loss: Optional[float] = None   # objective at the returned weights (None: partial run)
    loss_history: List[float] = field(default_factory=list)
    epoch_times: List[float] = field(default_factory=list)
    note: str = ""             # e.g. "extrapolated from 20000 rows"
    extrapolated_seconds: Optional[float] = None

    @property
    def rate(self):
        return self.samples / self.seconds if self.seconds > 0 else float("inf")


def add_parser(sub):
    p = sub.add_parser(
        "demo", help="gdfast vs NumPy on a generated ill-conditioned problem",
        description=__doc__.split("\n\n")[0] + " Full batch, stochastic and mini-batch "
                    "descent, each with and without momentum, gdfast against the pure-NumPy "
                    "reference.")
    p.add_argument("--n", type=int, default=1_000_000, help="rows (default 1000000)")
    p.add_argument("--d", type=int, default=100, help="features (default 100)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=256,
                   help="the mini-batch size (default 256)")
    p.add_argument("--epochs-scale", type=float, default=1.0,
                   help="multiply every run's epochs (iterations for full batch) by this")
    p.add_argument("--no-numpy", dest="numpy", action="store_false",
                   help="skip the NumPy reference runs")
    p.add_argument("--out-dir", default=".",
                   help="where the loss-curve PNG goes (default: the current directory)")
    p.add_argument("--no-plot", dest="plot", action="store_false")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    p.set_defaults(run=run)
    return p


def feature_scales(d, dtype=np.float32):
    """s_j geometrically spaced from SCALE_MIN to SCALE_MAX."""
    if d == 1:
        return np.full(1, SCALE_MAX, dtype)
    return np.geomspace(SCALE_MIN, SCALE_MAX, d).astype(dtype)


def make_valley(n, d, dtype=np.float32, seed=0, threads=None):
    """The demo problem: X (n, d) with column j ~ N(0, s_j^2), coef_j ~
    N(0, 1/s_j^2), and y = X @ coef + intercept + noise, noise ~ N(0, NOISE^2).

    Generated in X's dtype (no float64 temporaries), in _GEN_CHUNKS row blocks
    with generators spawned from ``seed``, filled by a thread pool: the result
    depends on the seed only. Returns X, y, coef, intercept, scales.
    """
    dtype = np.dtype(dtype)
    ss = np.random.SeedSequence(seed)
    kids = ss.spawn(_GEN_CHUNKS + 1)
    rng = np.random.default_rng(kids[-1])
    scales = feature_scales(d, dtype)
    # coef_j ~ N(0, 1/s_j^2): every direction of the valley starts with the same
    # expected share of the loss, so the flat ones (that plain descent crawls
    # along) carry as much of it as the steep ones
    coef = (rng.standard_normal(d) / scales).astype(dtype)
    X = np.empty((n, d), dtype)
    y = np.empty(n, dtype)
    bounds = np.linspace(0, n, _GEN_CHUNKS + 1).astype(np.int64)

    def fill(k):
        a, b = bounds[k], bounds[k + 1]
        if a == b:
            return
        g = np.random.default_rng(kids[k])
        g.standard_normal(out=X[a:b], dtype=dtype)
        X[a:b] *= scales
        g.standard_normal(out=y[a:b], dtype=dtype)
        y[a:b] *= dtype.type(NOISE)
        y[a:b] += X[a:b] @ coef
        y[a:b] += dtype.type(INTERCEPT)

    # numpy's generators release the GIL while filling arrays
    with ThreadPoolExecutor(max_workers=threads or min(4, os.cpu_count() or 1)) as ex:
        list(ex.map(fill, range(_GEN_CHUNKS)))
    return X, y, coef, dtype.type(INTERCEPT), scales


def objective(X, y, coef, intercept, block=65536):
    """(1/2n) ||X coef + b - y||^2, accumulated in float64 over row blocks so
    the check does not need an n-sized temporary in float64."""
    n = X.shape[0]
    total = 0.0
    coef = np.asarray(coef, X.dtype).reshape(-1)
    b = X.dtype.type(np.asarray(intercept).reshape(-1)[0])
    for a in range(0, n, block):
        r = X[a:a + block] @ coef
        r += b
        r -= y[a:a + block]
        total += float(np.dot(r.astype(np.float64), r.astype(np.float64)))
    return 0.5 * total / n


def plan(n, d, *, batch_size=256, epochs_scale=1.0, scales=None):
    """The six runs: lr from the largest Hessian eigenvalue L = max s_j^2 (full
    batch and mini-batch) or from E||x||^2 = sum s_j^2 (per sample, where one
    sample's gradient has that curvature). Per-sample momentum multiplies lr by
    1 - momentum, since its effective step is lr / (1 - momentum)."""
    if scales is None:
        scales = feature_scales(d, np.float64)
    s2 = np.asarray(scales, np.float64) ** 2
    L = float(s2.max())
    trace = float(s2.sum()) + 1.0  # + the intercept's constant feature

    def ep(k):
        return max(1, int(round(k * epochs_scale)))

    full_ep, sgd_ep, mb_ep = ep(50), ep(2), ep(3)
    ref_full = min(full_ep, 2)
    ref_sgd = min(n, 20_000)
    ref_mb = min(n, 200_000)
    modes = []
    for m in (0.0, MOMENTUM):
        modes.append(Mode("full batch", None, full_ep, FULL_LR[m] / L, m,
                          ref_rows=None, ref_epochs=ref_full))
    for m in (0.0, MOMENTUM):
        lr = 0.5 / trace * (1.0 - m)
        modes.append(Mode("stochastic", 1, sgd_ep, lr, m, ref_rows=ref_sgd, ref_epochs=1))
    for m in (0.0, MOMENTUM):
        lr = 0.5 / L * (1.0 - m) if batch_size < 64 else 0.5 / L
        modes.append(Mode(f"mini-batch {batch_size}", batch_size, mb_ep, lr, m,
                          ref_rows=ref_mb, ref_epochs=1))
    return modes


def _train(fit, X, y, mode, *, seed, epochs, label, quiet):
    with Progress(epochs, label, quiet=quiet, delay=1.0) as bar:
        clock = EpochClock(progress=bar)
        t0 = time.perf_counter()
        res = fit(X, y, epochs=epochs, callback=clock, **mode.fit_kwargs(seed))
        secs = time.perf_counter() - t0
    return res, secs, clock


def run_gdfast(X, y, mode, *, seed, quiet):
    import gdfast

    res, secs, clock = _train(gdfast.fit_linear, X, y, mode, seed=seed, epochs=mode.epochs,
                              label=f"gdfast {mode.name} m={mode.momentum:g}", quiet=quiet)
    n_ep = int(res.n_epochs)
    return Run(mode, "gdfast", n_ep, X.shape[0] * n_ep, secs,
               final_loss=objective(X, y, res.coef, res.intercept),
               loss_history=[float(v) for v in res.loss_history],
               epoch_times=list(clock.times)), res


def run_numpy(X, y, mode, *, seed, quiet):
    """The NumPy reference on the shortened work, and gdfast on exactly the
    same work for the agreement check. Returns (Run, max relative difference
    of the loss histories and weights)."""
    import gdfast
    from gdfast.reference import fit_linear as ref_fit

    rows = X.shape[0] if mode.ref_rows is None else mode.ref_rows
    Xp, yp = X[:rows], y[:rows]
    epochs = mode.ref_epochs or mode.epochs
    label = f"numpy  {mode.name} m={mode.momentum:g}"
    ref, secs, clock = _train(ref_fit, Xp, yp, mode, seed=seed, epochs=epochs, label=label,
                              quiet=quiet)
    same, _, _ = _train(gdfast.fit_linear, Xp, yp, mode, seed=seed, epochs=epochs,
                        label="check", quiet=True)
    diff = max(_rel(ref.loss_history, same.loss_history), _rel(ref.coef, same.coef),
               _rel(ref.intercept, same.intercept))
    n_ep = int(ref.n_epochs)
    full = rows == X.shape[0] and n_ep == mode.epochs
    run = Run(mode, "numpy", n_ep, rows * n_ep, secs,
              final_loss=objective(X, y, ref.coef, ref.intercept) if full else None,
              loss_history=[float(v) for v in ref.loss_history],
              epoch_times=list(clock.times))
    if not full:
        total = X.shape[0] * mode.epochs
        run.extrapolated_seconds = total / run.rate
        unit = "iterations" if mode.batch_size is None else "epochs"
        run.note = (f"extrapolated from {rows} rows" if rows < X.shape[0]
                    else f"extrapolated from {n_ep} of {mode.epochs} {unit}")
    return run, diff


def _rel(a, b):
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        return math.inf
    scale = max(float(np.abs(a).max(initial=0.0)), float(np.abs(b).max(initial=0.0)), 1e-30)
    return float(np.abs(a - b).max(initial=0.0)) / scale


def speedup(g, r):
    return g.rate / r.rate if r is not None and r.rate > 0 else None


def format_table(runs):
    """The demo's table: one row per run, gdfast's speed-up over NumPy in
    samples/s on gdfast's row; NumPy's extrapolated figures are marked ~."""
    headers = ["mode", "momentum", "impl", "epochs", "final loss", "seconds", "samples/s",
               "speed-up"]
    rows = []
    by_key = {}
    for r in runs:
        by_key.setdefault((r.mode.name, r.mode.momentum), {})[r.impl] = r
    for (name, mom), pair in by_key.items():
        g, ref = pair.get("gdfast"), pair.get("numpy")
        for k, r in enumerate(x for x in (g, ref) if x is not None):
            first = k == 0
            if r.impl == "numpy" and r.extrapolated_seconds is not None:
                secs = f"~{r.extrapolated_seconds:.1f}"
                epochs = f"{r.mode.epochs}"
            else:
                secs = f"{r.seconds:.2f}"
                epochs = f"{r.epochs}"
            sp = speedup(r, ref) if r.impl == "gdfast" else None
            rows.append([
                name if first else "", f"{mom:g}" if first else "", r.impl, epochs,
                "-" if r.final_loss is None else f"{r.final_loss:.5g}", secs,
                fmt_rate(r.rate), "-" if sp is None else f"{sp:.1f}x",
            ])
    return table(headers, rows, align=["<", ">", "<", ">", ">", ">", ">", ">"])


def footnotes(runs, diffs):
    out = []
    for r in runs:
        if r.impl == "numpy" and r.note:
            unit = "iteration" if r.mode.batch_size is None else "epoch"
            out.append(f"~ numpy {r.mode.name}, momentum {r.mode.momentum:g}: ran {r.epochs} "
                       f"{unit}{'s' if r.epochs != 1 else ''} on "
                       f"{r.samples // max(r.epochs, 1)} rows in {r.seconds:.2f} s; its seconds "
                       f"are {r.note}")
    if diffs:
        worst = max(diffs)
        out.append(f"NumPy and gdfast did the same updates: on the same rows and epochs their "
                   f"loss histories and weights agree to {worst:.1e} (max relative difference)")
    return out


def momentum_effect(runs):
    """One line: per mode, how much lower (or higher) the final loss ends with
    momentum than without, after the same epochs."""
    final = {(r.mode.name, r.mode.momentum): r.final_loss for r in runs if r.impl == "gdfast"}
    parts = []
    for name in dict.fromkeys(n for n, _ in final):
        plain, heavy = final.get((name, 0.0)), final.get((name, MOMENTUM))
        if not plain or not heavy:
            continue
        ratio = plain / heavy
        if abs(math.log(ratio)) < 0.05:
            parts.append(f"{name} about the same")
        else:
            parts.append(f"{name} {ratio:.1f}x lower" if ratio > 1
                         else f"{name} {1 / ratio:.1f}x higher")
    if not parts:
        return None
    return (f"momentum {MOMENTUM:g} against none, final loss after the same epochs: "
            + ", ".join(parts))


def plot_curves(path, runs, initial_loss):
    """Loss against epoch and against seconds, one line per mode (gdfast runs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.4))
    colors = {}
    for r in runs:
        if r.impl != "gdfast":
            continue
        xs_e, xs_t, ys = curve_points(r, initial_loss)
        c = colors.setdefault(r.mode.name, f"C{len(colors)}")
        style = "-" if r.mode.momentum else "--"
        label = f"{r.mode.name}, momentum {r.mode.momentum:g}"
        ax1.plot(xs_e, ys, style, color=c, label=label, marker="." if len(xs_e) < 12 else None)
        ax2.plot(xs_t, ys, style, color=c, label=label, marker="." if len(xs_t) < 12 else None)
    for ax in (ax1, ax2):
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
        ax.set_ylabel("training loss (mean squared error / 2)")
    ax1.set_xscale("symlog", linthresh=1.0)
    ax1.set_xlim(left=0)
    ax2.set_xlim(left=0)
    ax1.set_xlabel("epoch (full batch: iteration)")
    ax2.set_xlabel("seconds")
    ax2.legend(fontsize=8, loc="upper right")
    fig.suptitle("gdfast demo: an ill-conditioned valley (feature scales 1..30)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def curve_points(r, initial_loss):
    """(epochs, seconds, loss) points of a run's curve: the initial loss at 0,
    then for full batch loss_history[e] (the objective after e updates) and
    the final objective; for the other modes each epoch's running loss at the
    epoch's end."""
    h, t = r.loss_history, r.epoch_times
    xs_e, xs_t, ys = [0.0], [0.0], [initial_loss]
    if r.mode.batch_size is None:
        for e in range(1, len(h)):
            xs_e.append(float(e))
            xs_t.append(t[e - 1] if e - 1 < len(t) else float("nan"))
            ys.append(h[e])
        if r.final_loss is not None:
            xs_e.append(float(len(h)))
            xs_t.append(t[-1] if t else r.seconds)
            ys.append(r.final_loss)
    else:
        for e in range(len(h)):
            xs_e.append(float(e + 1))
            xs_t.append(t[e] if e < len(t) else float("nan"))
            ys.append(h[e])
    return xs_e, xs_t, ys


def _check_args(a):
    if a.n < 1:
        raise CLIError(f"invalid --n {a.n} (must be >= 1)")
    if a.d < 1:
        raise CLIError(f"invalid --d {a.d} (must be >= 1)")
    if a.batch_size < 2:
        raise CLIError(f"invalid --batch-size {a.batch_size} (the mini-batch size must be "
                       ">= 2; stochastic runs use 1)")
    if not (a.epochs_scale > 0 and math.isfinite(a.epochs_scale)):
        raise CLIError(f"invalid --epochs-scale {a.epochs_scale} (must be > 0)")
    if a.plot and not os.path.isdir(a.out_dir):
        try:
            os.makedirs(a.out_dir, exist_ok=True)
        except OSError as e:
            raise CLIError(f"--out-dir {a.out_dir}: {e.strerror or e}") from None
    import gdfast

    if not hasattr(gdfast, "fit_linear"):
        raise CLIError("this gdfast build has no fit_linear", status=1)


def run(a):
    _check_args(a)
    import gdfast

    t_all = time.perf_counter()
    say = print
    dtype = np.dtype(a.dtype)
    gib = a.n * a.d * dtype.itemsize / 2**30
    cfg = gdfast.config()
    say(f"gdfast demo: least squares on a generated {a.n} x {a.d} {dtype} problem "
        f"({gib:.2f} GiB), seed {a.seed}")
    say(f"  feature scales {SCALE_MIN:g}..{SCALE_MAX:g}: Hessian condition number "
        f"{(SCALE_MAX / SCALE_MIN) ** 2:.0f}, noise sd {NOISE:g}; ISA {cfg['isa']}, "
        f"{cfg['threads']} threads")
    t0 = time.perf_counter()
    X, y, _, _, scales = make_valley(a.n, a.d, dtype, a.seed)
    say(f"  generated in {time.perf_counter() - t0:.2f} s")
    initial = objective(X, y, np.zeros(a.d, dtype), 0.0)
    modes = plan(a.n, a.d, batch_size=a.batch_size, epochs_scale=a.epochs_scale,
                 scales=scales)
    runs, diffs = [], []
    for mode in modes:
        try:
            g, _ = run_gdfast(X, y, mode, seed=a.seed, quiet=a.quiet)
            runs.append(g)
            if a.numpy:
                r, diff = run_numpy(X, y, mode, seed=a.seed, quiet=a.quiet)
                runs.append(r)
                diffs.append(diff)
        except FloatingPointError as e:
            raise CLIError(f"{mode.name} (momentum {mode.momentum:g}) diverged: {e}",
                           status=1) from None
    say("")
    say(format_table(runs))
    say("")
    for line in footnotes(runs, diffs):
        say(line)
    effect = momentum_effect(runs)
    if effect:
        say(effect)
    say(f"initial loss {initial:.5g}; the noise floor is {NOISE ** 2 / 2:.4g}. lr: "
        + ", ".join(f"{m.name} m={m.momentum:g}: {m.lr:.3g}" for m in modes))
    if a.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            say("(matplotlib is not installed: no loss-curve plot; pip install matplotlib)")
        else:
            path = os.path.join(a.out_dir, "gdfast-demo-loss.png")
            plot_curves(path, runs, initial)
            say(f"loss curves written to {path}")
    say(f"total {time.perf_counter() - t_all:.1f} s")
    sys.stdout.flush()
    return 0
