"""Small shared pieces of the command line: progress bars, number formatting,
plain-text tables."""
from __future__ import annotations

import sys
import time


class CLIError(Exception):
    """A problem to report as one line 'gdfast: error: ...' with exit status
    ``status`` (2: usage or bad input, 1: training failed)."""

    def __init__(self, message, status=2):
        super().__init__(message)
        self.status = status


def is_tty(stream=None):
    stream = sys.stderr if stream is None else stream
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """A progress bar for one run, shown only on a terminal, only when not
    quiet, and only once the run has lasted ``delay`` seconds (tqdm's delay),
    so quick runs print nothing. Without tqdm it does nothing."""

    def __init__(self, total, desc, *, quiet=False, delay=1.0, unit="epoch"):
        self.bar = None
        if quiet or not is_tty():
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=total, desc=desc, unit=unit, delay=delay, leave=False,
                        dynamic_ncols=True, file=sys.stderr)

    def update(self, n=1, **postfix):
        if self.bar is not None:
            if postfix:
                self.bar.set_postfix(postfix, refresh=False)
            self.bar.update(n)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class EpochClock:
    """Records (epoch, seconds since start, loss) at each fit_linear callback:
    the loss curve against epochs and against wall time."""

    def __init__(self, progress=None, log=None, every=1):
        self.t0 = time.perf_counter()
        self.times = []
        self.losses = []
        self.progress = progress
        self.log = log
        self.every = max(1, int(every))

    def __call__(self, epoch, coef, intercept, loss):
        t = time.perf_counter() - self.t0
        self.times.append(t)
        self.losses.append(float(loss))
        if self.progress is not None:
            self.progress.update(1, loss=f"{loss:.4g}")
        if self.log is not None and (epoch == 0 or (epoch + 1) % self.every == 0):
            self.log(epoch, loss, t)
        return False


def fmt_seconds(s):
    if s is None:
        return "-"
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_rate(x):
    """A rate with an SI suffix: 1.23e6 -> '1.23M'."""
    if x is None:
        return "-"
    for div, suf in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{suf}"
    return f"{x:.3g}"


def table(headers, rows, *, align=None):
    """Plain-text table: a header, a rule, then the rows; numbers right-aligned."""
    cells = [[str(c) for c in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or ["<"] + [">"] * (len(headers) - 1)
    lines = []
    for k, r in enumerate(cells):
        lines.append("  ".join(f"{c:{a}{w}}" for c, a, w in zip(r, align, widths)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
