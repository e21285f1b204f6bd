"""``merm-lab worklist``: fill a modality worklist from the lab's patient scenarios.

Examples
--------
::

    merm-lab worklist add --scenario headache --to /var/lib/orthanc/worklists
    merm-lab worklist add --modality PT --scenario lymphoma --to /var/lib/orthanc/worklists
    merm-lab worklist add --scenario all --to WL@127.0.0.1:4242 --folder /var/lib/orthanc/worklists
    merm-lab worklist list WL@127.0.0.1:4242

``--to DIR`` writes one ``.wl`` file per procedure into the worklist folder of Orthanc's
worklist plugin. ``--to AET@host:port`` writes them into ``--folder`` (that server's worklist
folder: DICOM has no service to push a worklist entry) and checks by C-FIND that the server
now lists them. ``--modality PT`` schedules the PET scenarios (FDG whole body, FDG brain)
for the PET console, whose worklist picker asks for ``PT`` only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os

from simulator.errors import UserError

__all__ = ["HELP", "add_arguments", "run"]

HELP = "Modality worklist: schedule MR or PET procedures from the lab's scenarios (.wl files)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``add`` and ``list`` actions."""
    sub = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
    add = sub.add_parser(
        "add", help="schedule scenario procedures", description="Schedule procedures."
    )
    add.add_argument("--scenario", required=True, help="a scenario key, or 'all' (a day's list)")
    add.add_argument(
        "--modality",
        default="MR",
        metavar="MR|PT",
        help="MR (default: the MR console's patients) or PT (PET: FDG whole body, FDG brain); "
        "a wrong --scenario lists that modality's scenarios",
    )
    add.add_argument("--to", required=True, metavar="DIR|AET@host:port")
    add.add_argument(
        "--folder",
        default=os.environ.get("MERM_WORKLIST_DIR", ""),
        help="with --to AET@host:port: that server's worklist folder",
    )
    add.add_argument(
        "--start",
        default=None,
        metavar="YYYY-MM-DDTHH:MM",
        help="first scheduled start (default: the next whole hour); then every 30 min",
    )
    add.add_argument("--station", default="MERMLAB", help="Scheduled Station AE Title")
    lst = sub.add_parser("list", help="C-FIND the worklist", description="C-FIND the worklist.")
    lst.add_argument("address", metavar="AET@host:port")


def _start(text: str | None) -> dt.datetime:
    if text is None:
        now = dt.datetime.now().replace(minute=0, second=0, microsecond=0)
        return now + dt.timedelta(hours=1)
    try:
        return dt.datetime.fromisoformat(text).replace(second=0, microsecond=0)
    except ValueError:
        raise UserError(
            f"--start {text!r}: expected YYYY-MM-DDTHH:MM",
            f"--start {text!r} : forme attendue AAAA-MM-JJTHH:MM",
        ) from None


def run(args: argparse.Namespace) -> int:
    """Run ``worklist add`` or ``worklist list``."""
    from simulator.hospital.address import parse_address
    from simulator.hospital.worklist import (
        find_worklist,
        parse_modality,
        procedure_for_scenario,
        scenario_names,
        write_worklist_files,
    )

    if args.action == "list":
        for sp in find_worklist(parse_address(args.address, "address")):
            print(f"{sp.accession_number}\t{sp.label}\t{sp.protocol}")
        return 0
    modality = parse_modality(args.modality)
    names = scenario_names(modality) if args.scenario == "all" else [args.scenario]
    start = _start(args.start)
    procs = [
        procedure_for_scenario(n, start + dt.timedelta(minutes=30 * i), i, args.station, modality)
        for i, n in enumerate(names)
    ]
    addr = None
    folder = args.to
    if "@" in args.to:
        addr = parse_address(args.to, "--to")
        if not args.folder:
            raise UserError(
                f"--to {args.to}: also give --folder, that server's worklist folder "
                "(DICOM cannot push worklist entries)",
                f"--to {args.to} : donnez aussi --folder, le dossier de worklist de ce "
                "serveur (DICOM ne peut pas pousser d'entrée de worklist)",
            )
        folder = args.folder
    paths = write_worklist_files(procs, folder)
    for sp, path in zip(procs, paths, strict=True):
        print(f"{path}: {sp.label} [{sp.protocol}]")
    if addr is not None:
        listed = {sp.accession_number for sp in find_worklist(addr)}
        missing = [sp.accession_number for sp in procs if sp.accession_number not in listed]
        if missing:
            raise UserError(
                f"{addr} does not list {', '.join(missing)}: is {folder} its worklist folder?",
                f"{addr} ne liste pas {', '.join(missing)} : {folder} est-il son dossier "
                "de worklist ?",
            )
        print(f"{addr}: lists the {len(procs)} new entries")
    return 0
