"""The command line behind `gdfast` / `python -m gdfast`: demo, bench, fit, predict.

Each subcommand module exposes add_parser(subparsers) and run(args) -> int;
gdfast.__main__ wires them together. tqdm and matplotlib are optional (the
`demo` extra) and imported only when used.
"""
