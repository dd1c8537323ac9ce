"""`gdfast fit DATA` and `gdfast predict MODEL DATA`.

fit trains a linear model with gdfast.fit_linear on a .npy/.npz/.csv/svmlight
file and saves it (coef, intercept, the loss, the options used) to an .npz;
predict applies a saved model to another file and, when that file holds the
target, reports R^2 (regression losses) or accuracy (classification losses).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from . import io
from ._util import CLIError, EpochClock, Progress, fmt_rate, is_tty

REGRESSION_LOSSES = ("squared_error", "huber", "epsilon_insensitive",
                     "squared_epsilon_insensitive")
BINARY_LOSSES = ("log_loss", "hinge", "squared_hinge", "modified_huber", "perceptron")
LOSSES = REGRESSION_LOSSES + BINARY_LOSSES + ("softmax",)
SCHEDULES = ("constant", "invscaling", "optimal", "adaptive")
MODEL_FORMAT = "gdfast-linear-1"


def _batch_size(s):
    if s.lower() in ("full", "none", "all"):
        return None
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid batch size {s!r} (an integer >= 1, or "
                                         "'full' for full-batch descent)") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"invalid batch size {v} (must be >= 1, or 'full')")
    return v


def _positive_int(s):
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def add_data_options(p):
    p.add_argument("--format", choices=io.FORMATS, default=None,
                   help="the data format (default: from the file name)")
    p.add_argument("--dtype", choices=("float32", "float64"), default=None,
                   help="compute in this dtype (default: the file's float dtype; text is read "
                        "as float64)")


def add_parser(sub):
    p = sub.add_parser(
        "fit", help="train a linear model on a .npy/.npz/.csv/svmlight file",
        description="Train a linear model with gdfast.fit_linear. DATA is .npy (a 2-D array, "
                    "the target a column: the last unless --target), .npz (arrays X and y), "
                    ".csv (a header line; the target column named by --target, default the "
                    "last) or svmlight/libsvm text (.svm, .libsvm, .txt).")
    p.add_argument("data", metavar="DATA")
    p.add_argument("--target", default=None,
                   help="target column: a name (csv) or an index (npy, csv); default: the last")
    add_data_options(p)
    g = p.add_argument_group("model and loop (as gdfast.fit_linear)")
    g.add_argument("--loss", choices=LOSSES, default="squared_error")
    g.add_argument("--batch-size", type=_batch_size, default=32,
                   help="1: stochastic, k: mini-batch, 'full': full batch (default 32)")
    g.add_argument("--epochs", type=_positive_int, default=10)
    g.add_argument("--lr", type=float, default=0.01)
    g.add_argument("--momentum", type=float, default=0.0)
    g.add_argument("--dampening", type=float, default=0.0)
    g.add_argument("--nesterov", action="store_true")
    g.add_argument("--ema", action="store_true", help="momentum as an exponential moving average")
    g.add_argument("--debias", action="store_true", help="bias-corrected EMA (with --ema)")
    g.add_argument("--schedule", choices=SCHEDULES, default="constant")
    g.add_argument("--power-t", type=float, default=0.25)
    g.add_argument("--alpha", type=float, default=0.0, help="penalty strength")
    g.add_argument("--l1-ratio", type=float, default=0.0)
    g.add_argument("--epsilon", type=float, default=0.1,
                   help="huber / epsilon-insensitive width")
    g.add_argument("--no-intercept", dest="fit_intercept", action="store_false")
    g.add_argument("--no-shuffle", dest="shuffle", action="store_false")
    g.add_argument("--seed", type=int, default=None)
    g.add_argument("--average", type=int, default=0,
                   help="averaged SGD from this update on (0: off)")
    g.add_argument("--tol", type=float, default=None)
    g.add_argument("--n-iter-no-change", type=_positive_int, default=5)
    g.add_argument("--n-jobs", type=_positive_int, default=None,
                   help="threads (default: gdfast.get_num_threads())")
    p.add_argument("--out", default="model.npz", help="where to save the model (default "
                                                       "model.npz)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress, summary only")
    p.set_defaults(run=run_fit)

    q = sub.add_parser("predict", help="apply a saved model to a data file",
                       description="Apply a model saved by `gdfast fit` to DATA (same "
                                   "formats). When DATA holds the target, report R^2 "
                                   "(regression) or accuracy (classification) on stderr.")
    q.add_argument("model", metavar="MODEL")
    q.add_argument("data", metavar="DATA")
    q.add_argument("--target", default=None,
                   help="the target column, when DATA has one (default: detected)")
    add_data_options(q)
    q.add_argument("--out", default=None,
                   help="write predictions to this .npy or .csv (default: stdout)")
    q.add_argument("--quiet", "-q", action="store_true")
    q.set_defaults(run=run_predict)
    return p


def _fit_options(a):
    return dict(loss=a.loss, batch_size=a.batch_size, epochs=a.epochs, lr=a.lr,
                momentum=a.momentum, dampening=a.dampening, nesterov=a.nesterov, ema=a.ema,
                debias=a.debias, schedule=a.schedule, power_t=a.power_t, alpha=a.alpha,
                l1_ratio=a.l1_ratio, epsilon=a.epsilon, fit_intercept=a.fit_intercept,
                shuffle=a.shuffle, seed=a.seed,
                average=(a.average if a.average > 0 else False), tol=a.tol,
                n_iter_no_change=a.n_iter_no_change, n_jobs=a.n_jobs)


def _check_rule(a):
    """The update-rule options, checked before anything is printed or trained."""
    from .._validation import check_rule

    try:
        check_rule(a.lr, a.momentum, a.dampening, a.nesterov, 0.0, False, a.ema, a.debias)
    except (ValueError, TypeError) as e:
        raise CLIError(str(e)) from None


def _fit_linear():
    import gdfast

    fit = getattr(gdfast, "fit_linear", None)
    if fit is None:
        raise CLIError("this gdfast build has no fit_linear", status=1)
    return fit


_CSR_OK = None


def core_takes_csr():
    """Whether gdfast.fit_linear accepts SciPy CSR input (probed once, on a 2x1 problem)."""
    global _CSR_OK
    if _CSR_OK is None:
        try:
            import scipy.sparse as sp

            X = sp.csr_matrix(np.array([[1.0], [2.0]]))
            _fit_linear()(X, np.array([1.0, 2.0]), epochs=1, batch_size=1, lr=0.01, seed=0)
            _CSR_OK = True
        except Exception:  # noqa: BLE001 - any refusal means "give it dense arrays"
            _CSR_OK = False
    return _CSR_OK


def encode_target(path, y, loss):
    """Map the file's labels to what the loss takes; returns (y, classes).

    Binary losses: any two labels -> -1/+1 (classes[1] is the positive one).
    softmax: any labels -> class ids 0..K-1. Regression: unchanged, classes None.
    """
    if loss in REGRESSION_LOSSES:
        return y, None
    if y.ndim != 1:
        raise io.DataError(path, f"loss {loss} needs one target column, got y of shape "
                                 f"{y.shape}")
    classes = np.unique(y)
    if loss == "softmax":
        if len(classes) < 2:
            raise io.DataError(path, f"the target has a single class ({classes[0]:g}); "
                                     "softmax needs at least 2")
        return np.searchsorted(classes, y).astype(y.dtype), classes
    if len(classes) != 2:
        hint = " (use --loss softmax for several classes)" if len(classes) > 2 else ""
        raise io.DataError(path, f"loss {loss} needs exactly 2 classes in the target, found "
                                 f"{len(classes)}{hint}")
    return np.where(y == classes[1], 1, -1).astype(y.dtype), classes


def decision(X, coef, intercept):
    d = X @ coef
    return np.asarray(d) + intercept if coef.ndim == 2 else np.asarray(d).ravel() + intercept[0]


def predict_labels(dec, loss, classes):
    if loss in REGRESSION_LOSSES or classes is None:
        return dec
    if loss == "softmax":
        return classes[np.argmax(dec, axis=1)]
    return classes[(dec > 0).astype(np.intp)]


def score(y, pred, loss):
    """('R^2', value) for regression losses, ('accuracy', value) otherwise."""
    if loss in REGRESSION_LOSSES:
        y2 = y.reshape(len(y), -1).astype(np.float64)
        p2 = np.asarray(pred).reshape(len(y), -1).astype(np.float64)
        ss_res = ((y2 - p2) ** 2).sum(axis=0)
        ss_tot = ((y2 - y2.mean(axis=0)) ** 2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1),
                          np.where(ss_res == 0, 1.0, 0.0))
        return "R^2", float(r2.mean())
    return "accuracy", float(np.mean(pred == y))


def run_fit(a):
    t_load = time.perf_counter()
    ds = io.load(a.data, fmt=a.format, target=a.target, dtype=a.dtype)
    if hasattr(ds.X, "tocsr") and not core_takes_csr():
        ds = io.densify(ds)
    t_load = time.perf_counter() - t_load
    y, classes = encode_target(ds.path, ds.y, a.loss)
    opts = _fit_options(a)
    _check_rule(a)
    out = a.out
    if not out.endswith(".npz"):
        out += ".npz"  # np.savez would add it anyway; say the real name in the summary
    say = (lambda *s: None) if a.quiet else (lambda *s: print(*s, file=sys.stderr))
    kind = "sparse CSR" if hasattr(ds.X, "tocsr") else "dense"
    say(f"gdfast fit: {ds.path}: {ds.n_samples} samples x {ds.n_features} features "
        f"({kind} {ds.X.dtype}, {ds.format}, read in {t_load:.2f} s)")
    for note in ds.notes:
        say(f"note: {note}")
    mode = ("full batch" if a.batch_size is None or a.batch_size >= ds.n_samples
            else "stochastic" if a.batch_size == 1 else f"mini-batch {a.batch_size}")
    say(f"training: loss {a.loss}, {mode}, {a.epochs} epochs, lr {a.lr:g}, "
        f"momentum {a.momentum:g}{' nesterov' if a.nesterov else ''}"
        f"{' ema' if a.ema else ''}, alpha {a.alpha:g}")

    every = max(1, a.epochs // 50)  # bounds the per-epoch log lines when not on a terminal

    def log(epoch, loss, t):
        print(f"epoch {epoch + 1}/{a.epochs}  loss {loss:.6g}  {t:.2f} s", file=sys.stderr)

    fit = _fit_linear()
    with Progress(a.epochs, "fit", quiet=a.quiet, delay=0.5) as bar:
        clock = EpochClock(progress=bar,
                           log=None if (a.quiet or is_tty()) else log, every=every)
        try:
            res = fit(ds.X, y, callback=clock, **opts)
        except FloatingPointError as e:
            raise CLIError(f"training diverged: {e}", status=1) from None
        except (ValueError, TypeError) as e:
            raise CLIError(f"{ds.path}: {e}") from None
    coef = np.asarray(res.coef)
    intercept = np.atleast_1d(np.asarray(res.intercept))
    n_epochs = int(res.n_epochs)
    secs = float(getattr(res, "seconds", clock.times[-1] if clock.times else 0.0))
    final = float(res.loss_history[-1]) if len(res.loss_history) else float("nan")
    pred = predict_labels(decision(ds.X, coef, intercept), a.loss, classes)
    sname, sval = score(ds.y, pred, a.loss)
    model = dict(
        format=np.array(MODEL_FORMAT), coef=coef, intercept=intercept, loss=np.array(a.loss),
        options=np.array(json.dumps(opts)), n_features=np.array(ds.n_features),
        loss_history=np.asarray(res.loss_history, dtype=np.float64),
        n_epochs=np.array(n_epochs), n_updates=np.array(int(res.n_updates)),
        converged=np.array(bool(res.converged)), dtype=np.array(str(ds.X.dtype)),
        data_format=np.array(ds.format), gdfast_version=np.array(_version()),
    )
    if classes is not None:
        model["classes"] = classes
    if ds.feature_names is not None:
        model["feature_names"] = np.array(ds.feature_names)
    if ds.target_name is not None:
        model["target"] = np.array(ds.target_name)
    if ds.zero_based is not None:
        model["zero_based"] = np.array(ds.zero_based)
    try:
        d = os.path.dirname(out)
        if d:
            os.makedirs(d, exist_ok=True)
        np.savez(out, **model)
    except OSError as e:
        raise CLIError(f"{out}: cannot write the model ({e.strerror or e})") from None
    rate = ds.n_samples * n_epochs / secs if secs > 0 else float("inf")
    print(f"trained {a.loss} on {ds.path}: {n_epochs} epochs, {int(res.n_updates)} updates, "
          f"{secs:.3f} s ({fmt_rate(rate)} samples/s); final loss {final:.6g}; "
          f"converged: {'yes' if res.converged else 'no'}")
    print(f"training {sname}: {sval:.6g}")
    print(f"model saved to {out}")
    return 0


def _version():
    import gdfast

    return gdfast.__version__


def load_model(path):
    """The saved model as a dict; DataError when it is not one of ours."""
    if not os.path.exists(path):
        raise io.DataError(path, "no such file")
    try:
        with np.load(path, allow_pickle=False) as z:
            m = {k: z[k] for k in z.files}
    except Exception as e:  # noqa: BLE001 - anything unreadable is "not a model"
        raise io.DataError(path, f"not a gdfast model (.npz) ({type(e).__name__}: {e})") from None
    if str(m.get("format", "")) != MODEL_FORMAT:
        raise io.DataError(path, "not a gdfast model (no 'format' entry "
                                 f"{MODEL_FORMAT!r}; was it saved by `gdfast fit`?)")
    for k in ("coef", "intercept", "loss"):
        if k not in m:
            raise io.DataError(path, f"model has no {k!r}")
    m["loss"] = str(m["loss"])
    if m["loss"] not in LOSSES:
        raise io.DataError(path, f"model has an unknown loss {m['loss']!r}")
    return m


def run_predict(a):
    m = load_model(a.model)
    coef, intercept = m["coef"], m["intercept"]
    names = [str(s) for s in m["feature_names"]] if "feature_names" in m else None
    zb = bool(m["zero_based"]) if "zero_based" in m else "auto"
    ds = io.load(a.data, fmt=a.format, target=a.target, dtype=a.dtype or str(m["dtype"]),
                 require_target=False, n_features=coef.shape[0], feature_names=names,
                 zero_based=zb)
    if ds.n_features != coef.shape[0]:
        raise io.DataError(ds.path, f"has {ds.n_features} feature columns, the model "
                                    f"{a.model} was trained on {coef.shape[0]}")
    classes = m.get("classes")
    dec = decision(ds.X, coef.astype(ds.X.dtype, copy=False), intercept)
    pred = predict_labels(dec, m["loss"], classes)
    to_stdout = a.out is None
    msg = sys.stderr if to_stdout else sys.stdout
    if ds.y is not None and not a.quiet:
        sname, sval = score(ds.y, pred, m["loss"])
        print(f"{sname} on {ds.path} ({ds.n_samples} samples): {sval:.6g}", file=msg)
    fmt = "%.9g" if pred.dtype == np.float32 else "%.17g"
    if classes is not None:
        fmt = "%.17g"
    if to_stdout:
        np.savetxt(sys.stdout, pred.reshape(len(pred), -1), fmt=fmt, delimiter=",")
        return 0
    out = a.out
    try:
        d = os.path.dirname(out)
        if d:
            os.makedirs(d, exist_ok=True)
        if out.endswith(".npy"):
            np.save(out, pred)
        elif out.endswith(".csv"):
            cols = pred.reshape(len(pred), -1).shape[1]
            header = "prediction" if cols == 1 else ",".join(f"prediction_{i}"
                                                             for i in range(cols))
            np.savetxt(out, pred.reshape(len(pred), -1), fmt=fmt, delimiter=",",
                       header=header, comments="")
        else:
            raise CLIError(f"--out {out}: use a .npy or .csv file name")
    except OSError as e:
        raise CLIError(f"{out}: cannot write predictions ({e.strerror or e})") from None
    if not a.quiet:
        print(f"{len(pred)} predictions written to {out}", file=msg)
    return 0
