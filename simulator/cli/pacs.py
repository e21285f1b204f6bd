"""``merm-lab pacs``: check a PACS (C-ECHO) and send series folders to it (C-STORE).

Examples
--------
::

    merm-lab pacs echo ORTHANC@127.0.0.1:4242
    merm-lab pacs send exam/ --to ORTHANC@127.0.0.1:4242

``send`` prints one line per series (sent / failed and why) and exits 2 when any failed;
the folders are never removed, so the failed series can be sent again.
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["HELP", "add_arguments", "run"]

HELP = "PACS: C-ECHO a PACS, or C-STORE series folders to it (a status per series)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``echo`` and ``send`` actions."""
    sub = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
    echo = sub.add_parser("echo", help="C-ECHO a PACS", description="C-ECHO a DICOM peer.")
    echo.add_argument("address", metavar="AET@host:port")
    send = sub.add_parser(
        "send", help="C-STORE series folders", description="C-STORE every series under DIR."
    )
    send.add_argument("folder", metavar="DIR", help="a series folder, or a folder of them")
    send.add_argument("--to", required=True, metavar="AET@host:port", help="the PACS")
    send.add_argument(
        "--web",
        default=os.environ.get("MERM_PACS_WEB", ""),
        metavar="URL",
        help="Orthanc's HTTP address, to print each sent series' viewer link",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``pacs echo`` or ``pacs send``."""
    from simulator.hospital.address import parse_address
    from simulator.hospital.pacs import echo, send_series, series_folders

    if args.action == "echo":
        addr = parse_address(args.address, "address")
        echo(addr)
        print(f"{addr}: C-ECHO ok")
        return 0
    addr = parse_address(args.to, "--to")
    folders = series_folders(args.folder)
    statuses = send_series(folders, addr, web_base=args.web.rstrip("/"))
    failed = [s for s in statuses if s.state != "sent"]
    for s in statuses:
        head = f"series {s.number} {s.description!r} ({s.folder}):"
        if s.state == "sent":
            link = f" {s.viewer_url}" if s.viewer_url else ""
            print(f"{head} sent, {s.stored}/{s.files} files{link}")
        else:
            print(f"{head} FAILED ({s.stored}/{s.files} stored): {s.reason_en}; resend it")
    if failed:
        print(
            f"merm-lab pacs: {len(failed)} of {len(statuses)} series not sent to {addr}; "
            "they stay on disk: run the same command again",
            file=sys.stderr,
        )
        return 2
    return 0
