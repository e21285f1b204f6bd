"""``merm-lab hub``: the mentoring hub (rooms, signalling, control lock, audit log).

Binds 127.0.0.1 unless ``--ip`` says otherwise. The secret that authorises creating
rooms (and signs invitation tokens) is ``--secret-file`` (or ``--secret``, visible in ``ps``),
else ``$MERM_HUB_SECRET``, else a random one kept in ``$MERM_HOME/hub-secret`` (mode 0600)
that local kernels read too. Every route is under ``--prefix`` (default
``$JUPYTERHUB_SERVICE_PREFIX``, what JupyterHub gives a managed service, else ``/``). The coturn secret likewise: ``--turn-secret-file`` or
``--turn-secret``. ``--print-user-key NAME`` prints the key that lets account NAME (and only
it) open rooms on this hub — what a shared JupyterHub gives each user's server as
``$MERM_HUB_USER_KEY`` instead of the secret — and exits. ``--class-link`` asks the running
hub (``--hub-url``, else ``$MERM_HUB_URL``, else this port on localhost) for its open rooms and
prints them with one link that opens every console on the mentor page (instructor role).
Rooms, their expiry and who held control are kept in a store (``--db-url``, else
``$MERM_DB_URL``, the progress store's engine, else ``$MERM_HOME/hub-rooms.sqlite``): a
restarted hub serves them again, with control back to each trainee.
``--verify-audit FILE`` checks the hash chain of an audit file and names its first edited,
missing or reordered line (exit 2), or prints a summary with the head hash (exit 0).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from simulator.errors import ParameterError, UserError
from simulator.paths import data_home

HELP = "start the mentoring hub (rooms, signalling, control lock, audit log) on localhost"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ip", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8890, help="port (default 8890)")
    parser.add_argument(
        "--secret",
        default=None,
        help="hub secret (default: $MERM_HUB_SECRET or $MERM_HOME/hub-secret)",
    )
    parser.add_argument(
        "--secret-file", type=Path, default=None, help="read the hub secret from this file"
    )
    parser.add_argument("--public-url", default=None, help="base URL written into invitation links")
    parser.add_argument(
        "--prefix",
        default=None,
        help="URL path every route is served under (default: $JUPYTERHUB_SERVICE_PREFIX, else /)",
    )
    parser.add_argument(
        "--turn-url", default=None, help="coturn server, e.g. turn:turn.example.org:3478"
    )
    parser.add_argument(
        "--turn-secret", default=None, help="coturn static-auth-secret (REST API credentials)"
    )
    parser.add_argument(
        "--turn-secret-file", type=Path, default=None, help="read the coturn secret from this file"
    )
    parser.add_argument(
        "--turn-ttl-s", type=int, default=6 * 3600, help="lifetime of TURN credentials"
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        help="extra browser origin allowed (repeatable)",
    )
    parser.add_argument(
        "--voila-port", type=int, default=8866, help="Voilà port whose origin is allowed"
    )
    parser.add_argument("--max-peers", type=int, default=8, help="peers per room (default 8)")
    parser.add_argument(
        "--db-url",
        default=None,
        help="SQLAlchemy URL of the room store (default: $MERM_DB_URL, else "
        "$MERM_HOME/hub-rooms.sqlite)",
    )
    parser.add_argument("--no-record", action="store_true", help="never record, even with consent")
    parser.add_argument(
        "--print-user-key",
        metavar="NAME",
        default=None,
        help="print account NAME's room key for this hub's secret, and exit",
    )
    parser.add_argument(
        "--class-link",
        action="store_true",
        help="print the running hub's open rooms and one link to watch them all, and exit",
    )
    parser.add_argument(
        "--hub-url", default=None, help="hub asked by --class-link (default: $MERM_HUB_URL)"
    )
    parser.add_argument(
        "--verify-audit",
        metavar="FILE",
        type=Path,
        default=None,
        help="check the hash chain of an audit file, name its first broken line, and exit",
    )


def _read_secret(path: Path | None, flag: str) -> str | None:
    """The first line of a secret file, or a one-line error that names the flag."""
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            f"{flag}: cannot read {path} ({exc.__class__.__name__})",
            f"{flag} : impossible de lire {path} ({exc.__class__.__name__})",
        ) from None
    if not text:
        raise UserError(f"{flag}: {path} is empty", f"{flag} : {path} est vide")
    return text.splitlines()[0].strip()


def _open_rooms(hub_url: str, secret: bytes) -> dict:
    """``GET /api/rooms`` of a running hub, with the hub secret."""
    import json
    import urllib.error
    import urllib.request

    req = urllib.request.Request(
        hub_url.rstrip("/") + "/api/rooms", headers={"Authorization": "Bearer " + secret.decode()}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise UserError(
            f"the hub at {hub_url} refused the list of rooms ({exc.code}): is it the same secret?",
            f"le hub {hub_url} a refusé la liste des salles ({exc.code}) : même secret ?",
        ) from None
    except (OSError, ValueError) as exc:
        raise UserError(
            f"no mentoring hub answers at {hub_url} ({exc.__class__.__name__})",
            f"aucun hub de mentorat ne répond à {hub_url} ({exc.__class__.__name__})",
        ) from None


def class_link_text(listing: dict) -> str:
    """The rooms, one per line, then the link that opens them all (or that none is open)."""
    import time

    rooms = listing.get("rooms", [])
    if not rooms:
        return "no open room"
    lines = []
    for r in rooms:
        left_min = max(0, round((r["expires"] - time.time()) / 60))
        who = r["owner"] or "staff"
        lines.append(
            f"{r['label']} ({r['modality'].upper()}, {who}, {r['peers']} connected, "
            f"{left_min} min left): {r['links']['instructor']}"
        )
    lines.append(f"all {len(rooms)} consoles: {listing['class_link']}")
    return "\n".join(lines)


def verify_audit(path: Path) -> int:
    """``--verify-audit FILE``: a summary and 0 when the chain holds; one line naming the first
    edited, missing or reordered line and exit 2 otherwise."""
    from simulator.mentoring.audit import verify_file
    from simulator.mentoring.audit_chain import ChainBroken

    try:
        summary, start = verify_file(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            f"--verify-audit: cannot read {path} ({exc.__class__.__name__})",
            f"--verify-audit : impossible de lire {path} ({exc.__class__.__name__})",
        ) from None
    except ChainBroken as exc:
        raise UserError(
            f"{path}: audit chain broken at {exc}",
            f"{path} : chaîne d'audit rompue à la ligne {exc.line}"
            + (f" (seq {exc.seq})" if exc.seq is not None else "")
            + f" : {exc.why}",
        ) from None
    print(
        f"{path}: chain holds: {summary.lines} lines, seq {summary.first_seq}–{summary.last_seq}, "
        f"{start}; head {summary.head}"
    )
    return 0


def run(args: argparse.Namespace) -> int:
    if args.verify_audit is not None:
        return verify_audit(args.verify_audit)
    args.secret = _read_secret(args.secret_file, "--secret-file") or args.secret
    args.turn_secret = _read_secret(args.turn_secret_file, "--turn-secret-file") or args.turn_secret
    if not 1 <= args.port <= 65535:
        raise ParameterError("port", args.port, "1–65535")
    if not 2 <= args.max_peers <= 64:
        raise ParameterError("max_peers", args.max_peers, "2–64")
    if bool(args.turn_url) != bool(args.turn_secret):
        raise UserError(
            "--turn-url and --turn-secret go together", "--turn-url et --turn-secret vont ensemble"
        )
    from aiohttp import web

    from simulator.mentoring.server import MIN_SECRET_BYTES, HubConfig, make_app
    from simulator.mentoring.tokens import load_or_create_secret
    from simulator.mentoring.turn import TurnSettings

    secret_text = args.secret or os.environ.get("MERM_HUB_SECRET")
    if secret_text is not None and len(secret_text.encode()) < MIN_SECRET_BYTES:
        raise UserError(
            f"the hub secret needs at least {MIN_SECRET_BYTES} characters",
            f"le secret du hub demande au moins {MIN_SECRET_BYTES} caractères",
        )
    home = data_home()
    secret = secret_text.encode() if secret_text else load_or_create_secret(home / "hub-secret")
    if args.print_user_key is not None:
        from simulator.mentoring.tokens import user_key

        print(user_key(secret, args.print_user_key))
        return 0
    if args.class_link:
        url = args.hub_url or os.environ.get("MERM_HUB_URL") or f"http://127.0.0.1:{args.port}"
        print(class_link_text(_open_rooms(url, secret)))
        return 0
    turn = TurnSettings(args.turn_url, args.turn_secret, args.turn_ttl_s) if args.turn_url else None
    host = "localhost" if args.ip in ("127.0.0.1", "::1") else args.ip
    public = args.public_url or f"http://{args.ip}:{args.port}"
    origins = {f"http://{h}:{args.voila_port}" for h in (args.ip, host, "127.0.0.1", "localhost")}
    config = HubConfig(
        secret=secret,
        public_url=public,
        allowed_origins=tuple(sorted(origins | set(args.allow_origin))),
        turn=turn,
        max_peers=args.max_peers,
        audit_path=home / "audit" / "mentoring-audit.jsonl",
        recordings_dir=None if args.no_record else home / "recordings",
        prefix=args.prefix or os.environ.get("JUPYTERHUB_SERVICE_PREFIX") or "/",
        store_url=args.db_url
        or os.environ.get("MERM_DB_URL")
        or f"sqlite:///{home / 'hub-rooms.sqlite'}",
    )
    app = make_app(config)  # opens the audit and the room store: a bad one says so first
    print(f"MERM Lab mentoring hub on {config.base} (audit: {config.audit_path})", flush=True)
    web.run_app(
        app,
        host=args.ip,
        port=args.port,
        print=None,
        handle_signals=True,
        access_log=None,
    )  # URLs carry tokens
    return 0
