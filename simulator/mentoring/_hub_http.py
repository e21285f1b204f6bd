"""The hub's HTTP routes: room creation, audit export, the mentor and call pages.

:class:`HttpRoutes` is the hub's part with its plain HTTP handlers (the WebSocket is in
:mod:`.server`), on the hub's :class:`~._hub_state.HubState`; ``make_app`` wires them to
their paths. :func:`origin_ok`, :func:`has_secret` and :func:`room_creator` are the
credential checks of a request.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from aiohttp import web

from ._hub_state import HubConfig, HubState, RoomRuntime
from .audit import to_csv
from .media import ConsoleSource
from .room import Room
from .room_request import RoomRequestError, parse_room_request
from .tokens import TokenError, sign_token, verify_token, verify_user_key
from .url_prefix import origin_of

__all__ = ["STATIC", "HttpRoutes", "origin_ok", "has_secret", "room_creator"]

STATIC = Path(__file__).with_name("static")


def page_link(base: str, page: str, *tokens: str) -> str:
    """``<base>/<page>#t=T1&t=T2…``: the tokens ride in the fragment, never sent to a server."""
    return f"{base}/{page}#" + "&".join(f"t={t}" for t in tokens)


def _refusal(exc: RoomRequestError) -> web.Response:
    """400 with the code, the field at fault and the message in English and French."""
    return web.json_response(
        {"error": exc.en, "code": exc.code, "field": exc.field, "message_fr": exc.fr}, status=400
    )


def _page(name: str) -> web.FileResponse:
    """A static page; its script, WebSocket and API URLs are relative to the hub's prefix."""
    return web.FileResponse(
        STATIC / name, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


def origin_ok(config: HubConfig, request: web.Request) -> bool:
    """Whether a browser's ``Origin`` may open the WebSocket (no ``Origin``: not a browser,
    the token is the only credential)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    own = {f"{request.scheme}://{request.host}", origin_of(config.public_url)}
    return origin in own or origin in config.allowed_origins


def has_secret(config: HubConfig, request: web.Request) -> bool:
    """Whether the request shows the hub secret (``Authorization: Bearer …``): staff."""
    auth = request.headers.get("Authorization", "")
    return auth.startswith("Bearer ") and secrets.compare_digest(
        auth[7:].encode(), config.secret
    )


def room_creator(config: HubConfig, request: web.Request) -> tuple[bool, str | None]:
    """(allowed, account): the hub secret → (True, None); a valid user key → (True, its
    account); anything else → (False, None)."""
    if has_secret(config, request):
        return True, None
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        return False, None
    try:
        return True, verify_user_key(config.secret, auth[7:])
    except TokenError:
        return False, None


class HttpRoutes:
    """``POST /api/rooms``, ``GET /api/rooms``, ``GET /api/rooms/{room}/audit``, ``/mentor``,
    ``/call``, ``/``.

    Parameters
    ----------
    state : HubState
        The hub's rooms, audit log and store.
    """

    def __init__(self, state: HubState) -> None:
        self.state = state
        self.config = state.config

    async def create_room(self, request: web.Request) -> web.Response:
        allowed, account = room_creator(self.config, request)
        if not allowed:
            return web.json_response({"error": "unauthorised"}, status=401)
        try:
            body = await request.json() if request.can_read_body else None
        except ValueError:
            return _refusal(RoomRequestError("bad_json", None, "not JSON", "pas du JSON"))
        try:
            req = parse_room_request(body, account, self.config.room_ttl_s)
        except RoomRequestError as exc:
            return _refusal(exc)
        label, modality, ttl = req.label, req.modality, req.ttl_s
        now = time.time()
        for old_id in [k for k, r in self.state.rooms.items() if r.room.expires < now and not r.conns]:
            self.state.forget(old_id)
        if account is not None and not self._make_way_for(account):
            return web.json_response(
                {"error": f"{self.config.max_rooms_per_user} rooms in use by this account"},
                status=429,
            )
        if len(self.state.rooms) >= self.config.max_rooms:
            return web.json_response({"error": "too many rooms"}, status=429)
        room_id = secrets.token_hex(6)
        exp = int(time.time()) + ttl
        rt = RoomRuntime(
            Room(room_id, label, modality, exp, self.config.max_peers),
            ConsoleSource(),
            owner=account,
        )
        self.state.rooms[room_id] = rt
        self.state.persist(rt)
        tokens = {
            r: sign_token(self.config.secret, room_id, r, exp)
            for r in ("trainee", "mentor", "observer", "instructor")
        }
        base = self.config.base
        self.state.audit.append(
            room_id,
            req.actor,
            "trainee",
            "create",
            {
                "label": label,
                "modality": modality,
                "expires": exp,
                "by": "user key" if account is not None else "hub secret",
            },
        )
        return web.json_response(
            {
                "room": room_id,
                "label": label,
                "modality": modality,
                "expires": exp,
                "tokens": tokens,
                "links": {
                    "mentor": page_link(base, "mentor", tokens["mentor"]),
                    "observer": page_link(base, "mentor", tokens["observer"]),
                    "instructor": page_link(base, "mentor", tokens["instructor"]),
                    "trainee_call": page_link(base, "call", tokens["trainee"]),
                },
            }
        )

    async def list_rooms(self, request: web.Request) -> web.Response:
        """The open rooms, for the staff (hub secret): each with fresh instructor and observer
        links, and one class link that opens every console on the mentor page."""
        if not has_secret(self.config, request):
            return web.json_response({"error": "unauthorised"}, status=401)
        now = time.time()
        base = self.config.base
        rooms, tokens = [], []
        for room_id, rt in self.state.rooms.items():
            if rt.room.expires <= now:
                continue
            instructor = sign_token(self.config.secret, room_id, "instructor", rt.room.expires)
            observer = sign_token(self.config.secret, room_id, "observer", rt.room.expires)
            tokens.append(instructor)
            rooms.append(
                {
                    "room": room_id,
                    "label": rt.room.label,
                    "modality": rt.room.modality,
                    "owner": rt.owner,
                    "expires": rt.room.expires,
                    "peers": len(rt.room.peers),
                    "links": {
                        "instructor": page_link(base, "mentor", instructor),
                        "observer": page_link(base, "mentor", observer),
                    },
                }
            )
        class_link = page_link(base, "mentor", *tokens) if tokens else None
        return web.json_response({"rooms": rooms, "class_link": class_link})

    def _make_way_for(self, account: str) -> bool:
        """Whether ``account`` may open one more room; closes its oldest idle rooms (no one
        connected: a call hung up) to stay within ``max_rooms_per_user``."""
        own = [room_id for room_id, rt in self.state.rooms.items() if rt.owner == account]  # oldest first
        idle = [room_id for room_id in own if not self.state.rooms[room_id].conns]
        while len(own) >= self.config.max_rooms_per_user and idle:
            room_id = idle.pop(0)
            self.state.forget(room_id)
            self.state.audit.append(room_id, account, "trainee", "close", {"why": "a newer room"})
            own.remove(room_id)
        return len(own) < self.config.max_rooms_per_user

    async def audit_export(self, request: web.Request) -> web.Response:
        room_id = request.match_info["room"]
        token = request.query.get("token") or request.headers.get("Authorization", "")[7:]
        if not has_secret(self.config, request):
            try:
                verify_token(
                    self.config.secret,
                    token,
                    time.time(),
                    room=room_id,
                    roles=("trainee", "mentor", "instructor"),
                )
            except TokenError as exc:
                return web.json_response({"error": exc.en}, status=401)
        if request.query.get("format", "json") not in ("json", "csv"):
            return web.json_response({"error": "format: json or csv"}, status=400)
        if room_id not in self.state.rooms and not self.state.audit.knows(room_id):
            return web.json_response({"error": "no such room"}, status=404)
        events = self.state.audit.events(room_id)
        head = self.state.audit.head
        headers = {"X-Merm-Audit-Head": f"{head['seq']}:{head['hash']}"}
        if request.query.get("format", "json") == "csv":
            headers["Content-Disposition"] = f'attachment; filename="audit-{room_id}.csv"'
            return web.Response(text=to_csv(events), content_type="text/csv", headers=headers)
        return web.json_response(
            {"room": room_id, "head": head, "events": [e.__dict__ for e in events]},
            headers=headers,
        )

    async def mentor_page(self, request: web.Request) -> web.FileResponse:
        return _page("mentor.html")

    async def call_page(self, request: web.Request) -> web.FileResponse:
        return _page("call.html")

    async def to_prefix(self, request: web.Request) -> web.Response:
        """``/services/merm-hub`` → ``/services/merm-hub/`` (the pages' relative URLs need it)."""
        raise web.HTTPPermanentRedirect(self.config.prefix)

    async def index(self, request: web.Request) -> web.Response:
        return web.json_response({"service": "merm-lab hub", "rooms": len(self.state.rooms)})
