"""``merm-lab exercise``: check an exercise file, grade a protocol against it.

::

    merm-lab exercise check FILE.yaml [FILE.yaml ...]
        → "FILE: OK" on stdout and exit 0, or "FILE:LINE: message" lines on stderr and exit 2
    merm-lab exercise grade FILE.yaml --protocol P.yaml [--lang fr|en] [--json]
        → the score and one line per objective; exit 0 when every objective is met, 1 when
          not, 2 on a bad file or protocol

``P.yaml`` is a mapping of protocol parameters (the changed ones or all of them) with an
optional ``geometry:`` mapping for the planned slices.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from simulator.errors import UserError

HELP = "check an exercise file (errors with line numbers) or grade a protocol against it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
    check = sub.add_parser("check", help="validate exercise files", description="validate exercise files")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE.yaml",
                       help="exercise files, or folders of them")
    g = sub.add_parser("grade", help="grade a protocol", description="grade a protocol against an exercise")
    g.add_argument("file", type=Path, metavar="FILE.yaml")
    g.add_argument("--protocol", type=Path, metavar="P.yaml",
                   help="protocol parameters (YAML mapping, optional 'geometry'); default: the start protocol")
    g.add_argument("--solution", choices=("reference", "wrong"),
                   help="grade the exercise's own reference solution or typical wrong answer")
    g.add_argument("--lang", choices=("fr", "en"), default=None,
                   help="feedback language (default: $MERM_LANG, else fr)")
    g.add_argument("--json", action="store_true", help="print the result as JSON")


def _check(files: list[Path]) -> int:
    from simulator.exercises.loader import check_exercise

    bad = False
    expanded: list[Path] = []
    for f in files:
        expanded += sorted(f.glob("*.yaml")) if f.is_dir() else [f]
    for f in expanded:
        problems = check_exercise(f)
        if problems:
            bad = True
            for line in problems:
                print(line, file=sys.stderr)
        else:
            print(f"{f}: OK")
    return 2 if bad else 0


def _read_protocol(path: Path) -> dict[str, Any]:
    from simulator.exercises._yamlmarks import YamlSyntaxError, parse_with_lines

    try:
        data, _ = parse_with_lines(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}", f"lecture impossible de {path} : {exc.strerror}") from None
    except YamlSyntaxError as exc:
        raise UserError(f"{path}:{exc.line}: {exc.message}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: a protocol file is a YAML mapping of parameter: value",
                        f"{path} : un fichier de protocole est un dictionnaire YAML paramètre: valeur")
    return data


def _grade(args: argparse.Namespace) -> int:
    from simulator.exercises.grader import grade
    from simulator.exercises.loader import ExerciseError, load_exercise

    lang = args.lang or ("en" if os.environ.get("MERM_LANG", "fr").startswith("en") else "fr")
    try:
        ex = load_exercise(args.file)
    except ExerciseError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 2
    geometry = None
    if args.solution:
        setup = ex.reference_solution if args.solution == "reference" else ex.typical_wrong_answer
        protocol: dict[str, Any] = dict(setup.overrides)
        geometry = setup.geometry
    elif args.protocol is not None:
        protocol = _read_protocol(args.protocol)
    else:
        protocol = {}
    result = grade(ex, protocol, geometry, lang)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        title = ex.title.get(lang)
        word = "score" if lang == "en" else "note"
        print(f"{ex.id} — {title}")
        print(f"{word}: {result.score:.0f}/100")
        if result.error:
            print(("error: " if lang == "en" else "erreur : ") + result.error)
        for o in result.objectives:
            mark = "PASS" if o.passed else "FAIL"
            measured = "—" if o.measured is None else (
                f"{o.measured:.3g}" if isinstance(o.measured, float) else str(o.measured))
            target = "target" if lang == "en" else "cible"
            print(f"[{mark}] {o.id}: {o.label} = {measured} ({target} {o.target}) — {o.feedback}")
    return 0 if result.passed else 1


def run(args: argparse.Namespace) -> int:
    if args.action == "check":
        return _check(args.files)
    return _grade(args)
