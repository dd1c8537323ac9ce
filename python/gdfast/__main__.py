"""The `gdfast` command (also `python -m gdfast`).

    gdfast demo                 the main job on a generated problem, gdfast vs NumPy
    gdfast bench [--quick]      the side-by-side comparison with NumPy, scikit-learn, PyTorch
    gdfast fit DATA             train a linear model on a .npy/.npz/.csv/svmlight file
    gdfast predict MODEL DATA   apply a saved model
    gdfast config               the ISA, threads and versions in use

Exit status: 0 success, 2 usage error or a bad data file, 1 training failed
(e.g. diverged), 130 interrupted. Errors are one line on stderr, never a traceback.
"""
from __future__ import annotations

import argparse
import sys


def build_parser():
    from . import __version__
    from .cli import bench, demo, fit

    p = argparse.ArgumentParser(
        prog="gdfast",
        description="gdfast: gradient descent with a compiled core. Full-batch, stochastic "
                    "and mini-batch descent with momentum, whole training loops in C.",
        epilog="Start with `gdfast demo`.")
    p.add_argument("--version", action="version", version=f"gdfast {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    demo.add_parser(sub)
    bench.add_parser(sub)
    fit.add_parser(sub)
    c = sub.add_parser("config", help="show the ISA, threads and versions in use")
    c.set_defaults(run=_run_config)
    return p


def _run_config(args):
    import gdfast

    gdfast.show_config()
    return 0


def main(argv=None):
    """Run the command line; returns the exit status (see the module docstring)."""
    from .cli._util import CLIError
    from .cli.io import DataError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except DataError as e:
        print(f"gdfast: error: {e}", file=sys.stderr)
        return 2
    except CLIError as e:
        print(f"gdfast: error: {e}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        print("gdfast: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `gdfast predict ... | head`: the reader went away; not an error of ours.
        # Point stdout at /dev/null so the interpreter's final flush stays quiet.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except MemoryError:
        print("gdfast: error: out of memory (try a smaller --n or --dtype float32)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
