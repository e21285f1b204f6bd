"""``merm-lab serve --worklist/--pacs/--pacs-web``: the hospital addresses the consoles get.

The server passes them to every console kernel through the environment (``MERM_WORKLIST``,
``MERM_PACS``, ``MERM_PACS_WEB``), which the consoles read when they open
(:mod:`simulator.console.hospital_panel`).
"""

from __future__ import annotations

import argparse
from collections.abc import MutableMapping

from simulator.hospital.address import parse_address

__all__ = ["add_serve_arguments", "serve_env"]


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--worklist``, ``--pacs`` and ``--pacs-web`` to ``serve``."""
    parser.add_argument(
        "--worklist",
        default=None,
        metavar="AET@host:port",
        help="modality worklist server: the MR console's patient step lists its procedures",
    )
    parser.add_argument(
        "--pacs",
        default=None,
        metavar="AET@host:port",
        help="PACS: the consoles get a Send to PACS button",
    )
    parser.add_argument(
        "--pacs-web",
        default=None,
        metavar="URL",
        help="the PACS's web address (Orthanc, http://host:8042) for a viewer link per series",
    )


def serve_env(args: argparse.Namespace, env: MutableMapping[str, str]) -> None:
    """Check the addresses (one-line UserError if malformed) and put them into ``env``."""
    for option, name in (("worklist", "MERM_WORKLIST"), ("pacs", "MERM_PACS")):
        value = getattr(args, option, None)
        if value:
            env[name] = str(parse_address(value, f"--{option}"))
    web = getattr(args, "pacs_web", None)
    if web:
        env["MERM_PACS_WEB"] = str(web).rstrip("/")
