"""`gdfast bench`: the side-by-side comparison.

Runs the benchmark cases of gdfast.benchcases (the same definitions that
bench/ times with pytest-benchmark) with gdfast.benchcases.run_case: for each
comparison group, gdfast against the NumPy reference, scikit-learn and
PyTorch where installed, and the memory-bandwidth floor measured in the same
run. Each time is the median over repeats; the ratio is impl time / gdfast
time (above 1: gdfast is faster). Absent peers are reported as skipped.
"""
from __future__ import annotations

import dataclasses
import json
import os
import platform
import sys
import time

from ._util import CLIError, fmt_rate, fmt_seconds

QUICK_MIN_TIME, QUICK_REPEATS = 0.1, 3
QUICK_BUDGET = 50.0  # seconds: --quick starts no group after this, so it ends within ~a minute
FULL_MIN_TIME, FULL_REPEATS = 0.5, 5
PEERS = ("numpy", "scipy", "scikit-learn", "torch", "threadpoolctl", "tqdm", "matplotlib")


def add_parser(sub):
    p = sub.add_parser(
        "bench", help="gdfast vs NumPy, scikit-learn, PyTorch and the memory floor",
        description="Time every benchmark case (the optimizer step and the data loops) for "
                    "gdfast and its peers: the NumPy reference, scikit-learn and PyTorch "
                    "where installed, and the memory-bandwidth floor. Medians over repeats; "
                    "ratio = impl time / gdfast time.")
    p.add_argument("--quick", action="store_true",
                   help=f"the quick subset, min-time {QUICK_MIN_TIME} s, {QUICK_REPEATS} "
                        "repeats (about a minute)")
    p.add_argument("--filter", action="append", default=[], metavar="SUBSTRING",
                   help="only groups containing SUBSTRING (repeatable: any of them)")
    p.add_argument("--min-time", type=float, default=None,
                   help=f"seconds of timing per implementation (default {FULL_MIN_TIME}, "
                        f"--quick {QUICK_MIN_TIME})")
    p.add_argument("--repeats", type=int, default=None,
                   help=f"samples per median (default {FULL_REPEATS}, --quick {QUICK_REPEATS})")
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                   help="start no new group after this many seconds; the rest are reported "
                        f"as not run (default: {QUICK_BUDGET:g} with --quick, none otherwise)")
    p.add_argument("--json", metavar="PATH", help="write the results as JSON")
    p.add_argument("--plot", metavar="PATH", help="write a bar chart of the ratios (PNG)")
    p.add_argument("--list", action="store_true", help="list the selected groups and exit")
    p.set_defaults(run=run)
    return p


def machine_info():
    """gdfast.config() (ISA, threads, compiler) plus the peers' versions."""
    import gdfast

    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # Python < 3.8 has no importlib.metadata
        version, PackageNotFoundError = None, Exception
    info = dict(gdfast.config())
    info["cpu"] = _cpu_name()
    info["platform"] = platform.platform()
    versions = {}
    for name in PEERS:
        try:
            versions[name] = version(name) if version else None
        except PackageNotFoundError:
            versions[name] = None
    info["versions"] = versions
    return info


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def select_cases(quick, filters):
    from gdfast.benchcases import all_cases

    cases = all_cases(quick=quick)
    if quick:
        cases = [c for c in cases if c.quick]
    if filters:
        cases = [c for c in cases if any(f in c.group for f in filters)]
    return cases


def throughput(case, seconds):
    """'12.3 M samples/s' (or GB/s for a case whose unit is bytes), None without work."""
    if not case.work or not isinstance(seconds, float) or seconds <= 0:
        return None, None
    rate = case.work / seconds
    if case.unit == "bytes":
        return rate, f"{rate / 1e9:.3g} GB/s"
    return rate, f"{fmt_rate(rate)} {case.unit}/s"


def run_group(case, *, min_time, repeats):
    """Time each implementation of a case with gdfast.benchcases.run_case, one
    at a time so one failing peer does not hide the others' results."""
    from gdfast.benchcases import run_case

    out = {}
    for name, factory in case.impls.items():
        single = dataclasses.replace(case, impls={name: factory})
        try:
            out.update(run_case(single, min_time=min_time, repeats=repeats))
        except KeyboardInterrupt:
            raise
        except Exception as e:  # noqa: BLE001 - a peer crashing is reported, not fatal
            out[name] = f"failed: {type(e).__name__}: {e}"
    return out


def rows_for(case, res):
    """JSON-ready result rows for one case: seconds or skipped/failed, and ratio."""
    base = res.get(case.baseline)
    rows = []
    for impl, val in res.items():
        row = {"group": case.group, "impl": impl, "threads": case.threads,
               "work": case.work, "unit": case.unit}
        if isinstance(val, float):
            row["seconds"] = val
            row["ratio"] = val / base if isinstance(base, float) and base > 0 else None
            rate, _ = throughput(case, val)
            row["throughput"] = rate
        elif val.startswith("skipped"):
            row["skipped"] = val.split(":", 1)[1].strip() if ":" in val else val
            row["ratio"] = None
        else:
            row["failed"] = val.split(":", 1)[1].strip() if ":" in val else val
            row["ratio"] = None
        if case.params:
            row["params"] = {k: (v if isinstance(v, (int, float, str, bool)) or v is None
                                 else str(v)) for k, v in case.params.items()}
        rows.append(row)
    return rows


def format_header(info, *, n_cases, min_time, repeats, quick):
    v = info["versions"]
    peers = ", ".join(f"{k} {v[k]}" if v.get(k) else f"{k} (not installed)"
                      for k in ("numpy", "scikit-learn", "torch"))
    return "\n".join([
        f"gdfast bench: gdfast {info['gdfast']}, ISA {info['isa']} "
        f"(available: {', '.join(info['isa_available'])}), {info['threads']} threads, "
        f"OpenMP {'on' if info['openmp'] else 'off'}, {info['compiler']}",
        f"machine: {info['cpu']}, {info['cpus']} CPUs, Python {info['python']}",
        f"peers: {peers}",
        f"{n_cases} groups{' (quick)' if quick else ''}; median of {repeats} samples of "
        f"~{min_time / repeats * 1e3:.0f} ms each; ratio = impl time / gdfast time "
        "(> 1: gdfast faster); floor = memory-bandwidth floor",
    ])


class _Printer:
    """Streams the table: one block of rows per group as soon as it is timed."""

    def __init__(self, cases, out):
        self.out = out
        self.gw = max([len("group")] + [len(c.group) for c in cases])
        self.iw = max([len("impl")] + [len(i) for c in cases for i in c.impls])

    def header(self):
        h = (f"{'group':<{self.gw}}  {'impl':<{self.iw}}  {'median':>10}  {'ratio':>8}  "
             f"throughput")
        print(h, file=self.out)
        print("-" * (len(h) + 12), file=self.out)

    def group(self, case, res):
        base = res.get(case.baseline)
        for k, (impl, val) in enumerate(res.items()):
            g = case.group if k == 0 else ""
            if isinstance(val, float):
                ratio = (f"{val / base:.2f}x" if isinstance(base, float) and base > 0 else "-")
                _, tp = throughput(case, val)
                print(f"{g:<{self.gw}}  {impl:<{self.iw}}  {fmt_seconds(val):>10}  "
                      f"{ratio:>8}  {tp or ''}".rstrip(), file=self.out)
            else:
                print(f"{g:<{self.gw}}  {impl:<{self.iw}}  {val}", file=self.out)
        self.out.flush()


def plot_ratios(path, results):
    """A grouped bar chart of impl time / gdfast time per group (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys(r["group"] for r in results))
    # the baseline's own bar is 1 by definition: draw the others, packed per group
    ratio = {(r["group"], r["impl"]): r["ratio"] for r in results
             if r.get("ratio") and not (r["ratio"] == 1.0 and r["impl"] == "gdfast")}
    impls = list(dict.fromkeys(impl for (_, impl) in ratio))
    color = {impl: f"C{k % 10}" for k, impl in enumerate(impls)}
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(groups) + 2), 4.8))
    labelled = set()
    for i, g in enumerate(groups):
        here = [impl for impl in impls if (g, impl) in ratio]
        width = 0.8 / max(1, len(here))
        for k, impl in enumerate(here):
            x = i + (k - (len(here) - 1) / 2) * width
            ax.bar(x, ratio[(g, impl)], width=width, color=color[impl],
                   label=None if impl in labelled else impl)
            labelled.add(impl)
    ax.axhline(1.0, color="k", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups, rotation=35, ha="right", fontsize=7)
    ax.set_ylabel("time / gdfast time  (> 1: gdfast faster)")
    ax.set_title("gdfast bench: time relative to gdfast (median)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _check_writable(path, what):
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise CLIError(f"{what} {path}: no such directory {d}")


def run(a):
    min_time = a.min_time if a.min_time is not None else (QUICK_MIN_TIME if a.quick
                                                          else FULL_MIN_TIME)
    repeats = a.repeats if a.repeats is not None else (QUICK_REPEATS if a.quick
                                                       else FULL_REPEATS)
    if not min_time > 0:
        raise CLIError(f"invalid --min-time {a.min_time!r} (must be > 0)")
    if repeats < 1:
        raise CLIError(f"invalid --repeats {a.repeats!r} (must be >= 1)")
    if a.plot:
        _check_writable(a.plot, "--plot")
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CLIError("--plot needs matplotlib (pip install matplotlib)") from None
    if a.json:
        _check_writable(a.json, "--json")
    cases = select_cases(a.quick, a.filter)
    if not cases:
        raise CLIError(f"no benchmark group matches --filter {' / '.join(a.filter)!r}")
    if a.list:
        for c in cases:
            print(f"{c.group}  ({', '.join(c.impls)})")
        return 0
    info = machine_info()
    out = sys.stdout
    print(format_header(info, n_cases=len(cases), min_time=min_time, repeats=repeats,
                        quick=a.quick), file=out)
    print(file=out)
    printer = _Printer(cases, out)
    printer.header()
    results = []
    t0 = time.perf_counter()
    budget = a.budget if a.budget is not None else (QUICK_BUDGET if a.quick else None)
    not_run = []
    # the table streams one group at a time: it is its own progress display
    for case in cases:
        if budget is not None and results and time.perf_counter() - t0 > budget:
            not_run.append(case.group)
            continue
        res = run_group(case, min_time=min_time, repeats=repeats)
        printer.group(case, res)
        results.extend(rows_for(case, res))
    elapsed = time.perf_counter() - t0
    n_skip = sum("skipped" in r for r in results)
    n_fail = sum("failed" in r for r in results)
    print(f"\n{len(cases) - len(not_run)} groups in {elapsed:.1f} s; {n_skip} skipped (peer "
          f"not installed or not applicable), {n_fail} failed", file=out)
    if not_run:
        print(f"not run (time budget {budget:g} s spent): {', '.join(not_run)}", file=out)
    if a.json:
        doc = {"machine": info,
               "settings": {"quick": a.quick, "filter": a.filter, "min_time": min_time,
                            "repeats": repeats, "budget": budget, "seconds": elapsed,
                            "not_run": not_run},
               "results": results}
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1, default=str)
        print(f"results written to {a.json}", file=out)
    if a.plot:
        plot_ratios(a.plot, results)
        print(f"ratio chart written to {a.plot}", file=out)
    return 1 if n_fail else 0
