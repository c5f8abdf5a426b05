"""`flock` command line: one subcommand per job, registered from a small table.

    flock lineage FILE.py|FILE.ipynb [--format json|dot|text]
    flock convert MODEL --out model.onnx            (flock_nbext/cli_convert.py)

Each entry of SUBCOMMANDS names a module and a function ``add_<name>_parser(subparsers)`` that
adds the subparser and sets ``func`` (args -> exit status); modules are imported only when the
command line is parsed, so ``flock lineage`` never imports the conversion stack.  Errors are one
line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

from .errors import FlockError

# name -> (module, function adding the subparser): add a subcommand by adding a line here.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "lineage": ("flock_nbext.cli", "add_lineage_parser"),
    "convert": ("flock_nbext.cli_convert", "add_convert_parser"),
}


def add_lineage_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "lineage", help="data sources, columns, models and metrics of a script or notebook",
        description="Static provenance of a .py script or .ipynb notebook: which data sources and "
                    "columns trained which model with which hyperparameters, and which metrics were "
                    "computed on it.")
    parser.add_argument("file", metavar="FILE", help="a .py script or .ipynb notebook")
    parser.add_argument("--format", choices=("json", "dot", "text"), default="json",
                        help="json (schema flock.lineage/1, default), dot (Graphviz) or text")
    parser.set_defaults(func=run_lineage)
    return parser


def run_lineage(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .analysis import lineage_of
    from .analysis.export import to_dot, to_text

    path = Path(args.file)
    if path.suffix not in (".py", ".ipynb"):
        raise FlockError(f"{args.file}: expected a .py or .ipynb file")
    if not path.exists():
        raise FlockError(f"{args.file}: no such file")
    if not path.is_file():
        raise FlockError(f"{args.file}: not a regular file")
    lineage = lineage_of(str(path))
    if args.format == "json":
        out = json.dumps(lineage, indent=2, ensure_ascii=False) + "\n"
    elif args.format == "dot":
        out = to_dot(lineage)
    else:
        out = to_text(lineage)
    sys.stdout.write(out)
    for cell in lineage.get("unparsable_cells", []):
        print(f"flock lineage: warning: cell {cell['cell']} not analysed: {cell['error']}", file=sys.stderr)
    return 0


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flock", description="flock-nbext command line")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, function) in SUBCOMMANDS.items():
        if only is not None and name != only:
            continue
        try:
            add = getattr(importlib.import_module(module), function)
        except (ImportError, AttributeError):  # a subcommand whose module is not installed
            continue
        add(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    parser = build_parser(only=command)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except FlockError as exc:
        print(f"flock {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except RecursionError:
        print(f"flock {args.command}: error: input nested too deeply to analyse", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"flock {args.command}: error: input too large to analyse", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
