"""Wire messages from a client to the hub: dataclasses, validation, parse and serialise.

Every client message is one JSON object with a ``"type"`` field, on the signalling
WebSocket (at most :data:`MAX_WS_BYTES`) or on a data channel (at most
:data:`MAX_DC_BYTES`). :func:`parse_client` turns raw text into a validated dataclass or
raises :class:`MessageError` (the hub answers with an ``error`` message and goes on).
Messages from the hub to clients are plain dicts made by :func:`server_message`;
``PROTOCOL.md`` lists both directions.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

from simulator.errors import UserError

__all__ = [
    "MAX_WS_BYTES",
    "MAX_DC_BYTES",
    "MessageError",
    "ClientMessage",
    "CLIENT_TYPES",
    "COMMAND_TYPES",
    "parse_client",
    "serialise",
    "server_message",
    "validate_command",
]

MAX_WS_BYTES = 16 * 1024
MAX_DC_BYTES = 64 * 1024
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_PEER_RE = re.compile(r"^[a-z0-9]{1,16}$")
_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
_MAX_SDP = 15000
COMMAND_TYPES = ("set_param", "scan", "stop", "set_slice", "set_window", "set_geometry")
_GEOMETRY_KEYS = ("orientation", "center_mm", "angle_deg")


class MessageError(UserError):
    """A message that does not follow the protocol (``code`` is machine-readable)."""

    def __init__(self, code: str, en: str, fr: str | None = None) -> None:
        super().__init__(en, fr)
        self.code = code
        self.ref: str | None = None  # the refused message's type, once it is a known one


def _bad(field: str, why: str) -> MessageError:
    return MessageError("bad_field", f"{field}: {why}", f"{field} : {why}")


def _text(value: str, field: str, max_chars: int, min_chars: int = 0) -> None:
    if not min_chars <= len(value) <= max_chars:
        raise _bad(field, f"length allowed {min_chars}–{max_chars} characters")


def _sdp(value: str) -> None:
    """A session description: 10–15000 characters, ``v=0`` first, at least one ``m=`` line."""
    _text(value, "sdp", _MAX_SDP, 10)
    lines = value.replace("\r\n", "\n").split("\n")
    if lines[0].strip() != "v=0" or not any(line.startswith("m=") for line in lines):
        raise MessageError(
            "bad_sdp",
            "sdp: not a session description (v=0 first, then media m= lines)",
            "sdp : pas une description de session (v=0 d'abord, puis des lignes m=)",
        )


def _unit(value: float, field: str) -> None:
    if not 0.0 <= value <= 1.0:
        raise _bad(field, "allowed 0–1 (fraction of the image)")


#: Largest id of a command, confirmation, ping, pong or result (2³¹−1).
MAX_ID = 2**31 - 1


def _id(value: int) -> None:
    if not 0 <= value <= MAX_ID:
        raise _bad("id", f"an integer 0–{MAX_ID}")


def _peer(value: str, field: str) -> None:
    if not _PEER_RE.match(value):
        raise _bad(field, "a peer id (1–16 lowercase letters/digits)")


@dataclass(frozen=True)
class ClientMessage:
    """Base class: ``TYPE`` is the wire ``type``."""

    TYPE: ClassVar[str] = ""


@dataclass(frozen=True)
class Hello(ClientMessage):
    TYPE: ClassVar[str] = "hello"
    name: str
    client: str = "browser"

    def __post_init__(self) -> None:
        _text(self.name, "name", 40, 1)
        if self.client not in ("kernel", "browser", "bot"):
            raise _bad("client", "one of kernel, browser, bot")


@dataclass(frozen=True)
class Offer(ClientMessage):
    TYPE: ClassVar[str] = "offer"
    sdp: str

    def __post_init__(self) -> None:
        _sdp(self.sdp)


@dataclass(frozen=True)
class AvOffer(ClientMessage):
    TYPE: ClassVar[str] = "av_offer"
    to: str
    sdp: str

    def __post_init__(self) -> None:
        _peer(self.to, "to")
        _sdp(self.sdp)


@dataclass(frozen=True)
class AvAnswer(AvOffer):
    TYPE: ClassVar[str] = "av_answer"


@dataclass(frozen=True)
class AvHangup(ClientMessage):
    TYPE: ClassVar[str] = "av_hangup"
    to: str

    def __post_init__(self) -> None:
        _peer(self.to, "to")


@dataclass(frozen=True)
class AvReady(ClientMessage):
    TYPE: ClassVar[str] = "av_ready"
    on: bool = True


@dataclass(frozen=True)
class Chat(ClientMessage):
    TYPE: ClassVar[str] = "chat"
    text: str

    def __post_init__(self) -> None:
        _text(self.text, "text", 1000, 1)


@dataclass(frozen=True)
class Annotate(ClientMessage):
    TYPE: ClassVar[str] = "annotate"
    shape: str
    x0: float
    y0: float
    x1: float = 0.0
    y1: float = 0.0
    text: str = ""
    color: str = "#ffd000"

    def __post_init__(self) -> None:
        if self.shape not in ("arrow", "circle", "text"):
            raise _bad("shape", "one of arrow, circle, text")
        for name in ("x0", "y0", "x1", "y1"):
            _unit(getattr(self, name), name)
        _text(self.text, "text", 200, 1 if self.shape == "text" else 0)
        if not _COLOR_RE.match(self.color):
            raise _bad("color", "#rrggbb")


@dataclass(frozen=True)
class ClearAnnotations(ClientMessage):
    TYPE: ClassVar[str] = "clear_annotations"


@dataclass(frozen=True)
class RequestControl(ClientMessage):
    TYPE: ClassVar[str] = "request_control"


@dataclass(frozen=True)
class ReleaseControl(ClientMessage):
    TYPE: ClassVar[str] = "release_control"


@dataclass(frozen=True)
class TakeBack(ClientMessage):
    TYPE: ClassVar[str] = "take_back"


@dataclass(frozen=True)
class Grant(ClientMessage):
    TYPE: ClassVar[str] = "grant"
    peer: str

    def __post_init__(self) -> None:
        _peer(self.peer, "peer")


@dataclass(frozen=True)
class Refuse(Grant):
    TYPE: ClassVar[str] = "refuse"


@dataclass(frozen=True)
class Command(ClientMessage):
    TYPE: ClassVar[str] = "command"
    id: int
    command: dict

    def __post_init__(self) -> None:
        _id(self.id)
        object.__setattr__(self, "command", validate_command(self.command))


@dataclass(frozen=True)
class Confirm(ClientMessage):
    TYPE: ClassVar[str] = "confirm"
    id: int
    accept: bool

    def __post_init__(self) -> None:
        _id(self.id)


@dataclass(frozen=True)
class State(ClientMessage):
    TYPE: ClassVar[str] = "state"
    snapshot: dict


@dataclass(frozen=True)
class Result(ClientMessage):
    TYPE: ClassVar[str] = "result"
    id: int
    ok: bool
    message: str = ""
    before: Any = None
    after: Any = None

    def __post_init__(self) -> None:
        _id(self.id)
        _text(self.message, "message", 2000)


@dataclass(frozen=True)
class Ping(ClientMessage):
    TYPE: ClassVar[str] = "ping"
    id: int
    t: float

    def __post_init__(self) -> None:
        _id(self.id)


@dataclass(frozen=True)
class Pong(ClientMessage):
    TYPE: ClassVar[str] = "pong"
    id: int
    t: float
    to: str = ""

    def __post_init__(self) -> None:
        _id(self.id)
        if self.to:
            _peer(self.to, "to")


@dataclass(frozen=True)
class Consent(ClientMessage):
    TYPE: ClassVar[str] = "consent"
    recording: bool


_CLASSES: tuple[type[ClientMessage], ...] = (
    Hello, Offer, AvOffer, AvAnswer, AvHangup, AvReady, Chat, Annotate, ClearAnnotations,
    RequestControl, ReleaseControl, TakeBack, Grant, Refuse, Command, Confirm, State, Result,
    Ping, Pong, Consent,
)  # fmt: skip
CLIENT_TYPES: dict[str, type[ClientMessage]] = {c.TYPE: c for c in _CLASSES}


def _check_type(field: str, value: object, hint: object) -> object:
    if hint is Any:
        return value
    if isinstance(hint, types.UnionType):
        for option in typing.get_args(hint):
            if option is type(None) and value is None:
                return None
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if hint is bool:
        if not isinstance(value, bool):
            raise _bad(field, "true or false")
    elif hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(field, "an integer")
    elif hint is float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise _bad(field, "a finite number")
        return float(value)
    elif hint is str:
        if not isinstance(value, str):
            raise _bad(field, "a string")
    elif hint is dict:
        if not isinstance(value, dict):
            raise _bad(field, "an object")
    return value


def parse_client(raw: str | bytes, max_bytes: int = MAX_WS_BYTES) -> ClientMessage:
    """Parse and validate one client message.

    Raises
    ------
    MessageError
        ``too_large``, ``bad_json`` (also for any binary frame), ``unknown_type``,
        ``bad_field``, ``bad_sdp``.
    """
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    if size > max_bytes:
        raise MessageError(
            "too_large",
            f"message of {size} bytes, limit {max_bytes}",
            f"message de {size} octets, limite {max_bytes}",
        )
    if not isinstance(raw, str):  # binary frames: counted and size-checked, then refused
        raise MessageError(
            "bad_json", "text frames only (JSON as UTF-8 text)", "trames texte seulement (JSON)"
        )
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MessageError("bad_json", "not JSON", "pas du JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise MessageError("bad_json", "a JSON object with a type", "un objet JSON avec un type")
    cls = CLIENT_TYPES.get(data["type"])
    if cls is None:
        raise MessageError(
            "unknown_type",
            f"unknown type {data['type'][:40]!r}",
            f"type inconnu {data['type'][:40]!r}",
        )
    try:
        return _build(cls, data)
    except MessageError as exc:
        exc.ref = cls.TYPE
        raise


def _build(cls: type[ClientMessage], data: dict[str, Any]) -> ClientMessage:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    extra = set(data) - set(fields) - {"type"}
    if extra:
        raise _bad(sorted(extra)[0], "unknown field")
    kwargs: dict[str, object] = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING:
                raise _bad(name, "missing")
            continue
        kwargs[name] = _check_type(name, data[name], hints[name])
    return cls(**kwargs)


def serialise(message: ClientMessage) -> str:
    """The JSON text of ``message`` (inverse of :func:`parse_client`)."""
    return json.dumps({"type": message.TYPE, **dataclasses.asdict(message)}, separators=(",", ":"))


def server_message(type_: str, **fields: object) -> str:
    """JSON text of a hub → client message."""
    return json.dumps({"type": type_, **fields}, separators=(",", ":"), default=str)


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(field, "a finite number")
    return value


def validate_command(command: object) -> dict:
    """Check a console command's shape (not its physics: the console does that).

    Returns a new dict holding only the known keys.
    """
    if not isinstance(command, dict):
        raise _bad("command", "an object")
    kind = command.get("type")
    if kind not in COMMAND_TYPES:
        raise _bad("command.type", "one of " + ", ".join(COMMAND_TYPES))
    allowed = {
        "set_param": {"name", "value"},
        "scan": set(),
        "stop": set(),
        "set_slice": {"index"},
        "set_window": {"center", "width"},
        "set_geometry": set(_GEOMETRY_KEYS),
    }[kind]
    extra = set(command) - allowed - {"type"}
    if extra:
        raise _bad("command." + sorted(extra)[0], "unknown field")
    out: dict[str, object] = {"type": kind}
    if kind == "set_param":
        name, value = command.get("name"), command.get("value")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise _bad("command.name", "a parameter name (a-z, 0-9, _)")
        if isinstance(value, str):
            _text(value, "command.value", 40)
        elif not isinstance(value, bool):
            _number(value, "command.value")
        out.update(name=name, value=value)
    elif kind == "set_slice":
        index = command.get("index")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 10000:
            raise _bad("command.index", "an integer 0–9999")
        out["index"] = index
    elif kind == "set_window":
        out["center"] = _number(command.get("center"), "command.center")
        width = _number(command.get("width"), "command.width")
        if width <= 0:
            raise _bad("command.width", "> 0")
        out["width"] = width
    elif kind == "set_geometry":
        if "orientation" in command:
            if command["orientation"] not in ("axial", "sagittal", "coronal"):
                raise _bad("command.orientation", "axial, sagittal or coronal")
            out["orientation"] = command["orientation"]
        if "center_mm" in command:
            c = command["center_mm"]
            if not isinstance(c, list) or len(c) != 3:
                raise _bad("command.center_mm", "three numbers")
            out["center_mm"] = [_number(v, "command.center_mm") for v in c]
        if "angle_deg" in command:
            out["angle_deg"] = _number(command["angle_deg"], "command.angle_deg")
    return out
