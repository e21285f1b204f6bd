"""The ``merm-lab`` command line.

Each subcommand lives in its own module of this package (``serve.py``, ``hub.py``,
``mr.py``, ``pet.py``, ``exercise.py``, ``pacs.py``, ``worklist.py``) exposing::

    HELP: str
    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...

A subcommand whose module is not there yet says so in one line and exits 2.
Any :class:`simulator.errors.UserError` becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from simulator import __version__
from simulator.errors import UserError

__all__ = ["main", "SUBCOMMANDS"]

SUBCOMMANDS = ("serve", "hub", "mr", "pet", "exercise", "pacs", "worklist")


def _not_available(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        print(f"merm-lab {name}: not available yet in this version", file=sys.stderr)
        return 2

    return run


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (no usage dump) on bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="merm-lab", description="MERM Lab: virtual MR/PET scanners and remote coaching.")
    parser.add_argument("--version", action="version", version=f"merm-lab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in SUBCOMMANDS:
        try:
            mod = importlib.import_module(f"simulator.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"simulator.cli.{name}":
                raise
            p = sub.add_parser(name, help="(not available yet)")
            p.set_defaults(func=_not_available(name))
            continue
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(func=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``merm-lab`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"merm-lab {args.command}: {exc.en}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
