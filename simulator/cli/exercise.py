"""``merm-lab exercise``: check an exercise file, grade a protocol against it.

::

    merm-lab exercise check FILE.yaml [FILE.yaml ...]
        → "FILE: OK" on stdout and exit 0, or "FILE:LINE: message" lines on stderr and exit 2
    merm-lab exercise grade FILE.yaml --protocol P.yaml [--lang fr|en] [--json]
        → the score and one line per objective; exit 0 when every objective is met, 1 when
          not, 2 on a bad file or protocol. Records nothing, and says so.
    merm-lab exercise grade FILE.yaml --protocol P.yaml --user NAME [--progress-url URL]
        → the progress server grades the protocol and records the attempt for NAME; staff
          only ($MERM_STAFF_TOKEN or $JUPYTERHUB_API_TOKEN); exit 2 when refused

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
    g.add_argument("--user", metavar="NAME",
                   help="record the attempt for this trainee on the progress server (staff only: "
                        "the server grades it again and keeps its own result); without --user "
                        "nothing is recorded")
    g.add_argument("--progress-url", metavar="URL", default=None,
                   help="progress server: the merm-progress service (…/services/merm-progress/) or "
                        "a merm-lab serve lab (http://HOST:PORT/merm/); default $MERM_PROGRESS_URL, "
                        "else $MERM_LAB_URL/merm/. The staff credential is read from "
                        "$MERM_STAFF_TOKEN (serve: the printed instructor token), else "
                        "$JUPYTERHUB_API_TOKEN (an instructor's JupyterHub token)")


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
    recorded: dict[str, Any] | None = None
    if args.user:
        result, recorded = _record(args, ex, protocol, geometry, lang)
    else:
        result = grade(ex, protocol, geometry, lang)
    if args.json:
        print(json.dumps({**result.to_dict(), "recorded": recorded}, ensure_ascii=False, indent=2,
                         default=str))
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
        if recorded is not None:
            print(f"recorded: attempt {recorded['attempt_id']} for {recorded['user']} at {recorded['url']}"
                   if lang == "en" else
                   f"enregistré : tentative {recorded['attempt_id']} pour {recorded['user']} sur {recorded['url']}")
        else:
            print("not recorded (grading only; --user NAME with a staff credential records the attempt)"
                  if lang == "en" else
                  "non enregistré (correction seule ; --user NOM avec un identifiant formateur "
                  "enregistre la tentative)")
    return 0 if result.passed else 1


def _record(args: argparse.Namespace, ex: Any, protocol: dict[str, Any], geometry: Any,
            lang: str) -> tuple[Any, dict[str, Any]]:
    """Send the attempt to the progress server for ``args.user``; the server's grade."""
    from simulator.progress.client import ProgressClient, ProgressError

    url = args.progress_url or os.environ.get("MERM_PROGRESS_URL") or (
        os.environ["MERM_LAB_URL"].rstrip("/") + "/merm/" if os.environ.get("MERM_LAB_URL") else None)
    if not url:
        raise UserError("--user needs a progress server: --progress-url URL (or $MERM_PROGRESS_URL); "
                        "nothing was recorded",
                        "--user demande un serveur de progression : --progress-url URL (ou "
                        "$MERM_PROGRESS_URL) ; rien n'a été enregistré")
    token = os.environ.get("MERM_STAFF_TOKEN") or os.environ.get("JUPYTERHUB_API_TOKEN")
    if not token:
        raise UserError("--user needs a staff credential in $MERM_STAFF_TOKEN (serve: the instructor "
                        "token it printed) or $JUPYTERHUB_API_TOKEN; nothing was recorded",
                        "--user demande un identifiant formateur dans $MERM_STAFF_TOKEN (serve : le "
                        "jeton formateur affiché) ou $JUPYTERHUB_API_TOKEN ; rien n'a été enregistré")
    scheme = "Bearer" if url.rstrip("/").endswith("/merm") else "token"
    client = ProgressClient(url, f"{scheme} {token}", "staff")
    proto = {k: v for k, v in protocol.items() if k != "geometry"}
    geo = geometry if geometry is not None else protocol.get("geometry")
    try:
        attempt_id, result = client.submit(ex.id, proto, dict(geo) if geo else None, lang=lang,
                                           for_user=args.user)
    except ProgressError as exc:
        raise UserError(exc.en + " (nothing was recorded)", exc.fr + " (rien n'a été enregistré)") from None
    return result, {"attempt_id": attempt_id, "user": args.user, "url": client.base_url}


def run(args: argparse.Namespace) -> int:
    if args.action == "check":
        return _check(args.files)
    return _grade(args)
