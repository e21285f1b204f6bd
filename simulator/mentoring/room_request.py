"""The body of ``POST /api/rooms``: checked field by field, never truncated or coerced.

Pure function, no I/O: :func:`parse_room_request` turns the decoded JSON body and the
verified account (a user key's account, or ``None`` for the hub secret) into a
:class:`RoomRequest`, or raises :class:`RoomRequestError` naming the field (the hub
answers 400 with it). With a user key the room's label and the audit actor come from the
account, never from the body: a trainee cannot open a room in someone else's name.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.errors import UserError

__all__ = [
    "LABEL_MAX",
    "NAME_MAX",
    "TTL_RANGE_S",
    "RoomRequest",
    "RoomRequestError",
    "account_label",
    "parse_room_request",
]

LABEL_MAX = 60
NAME_MAX = 40
TTL_RANGE_S = (60, 86400)
_FIELDS = ("label", "modality", "name", "ttl_s")
_MODALITIES = ("mr", "pet")


class RoomRequestError(UserError):
    """A refused room request: ``code`` (``bad_json`` or ``bad_field``) and ``field``."""

    def __init__(self, code: str, field: str | None, en: str, fr: str) -> None:
        super().__init__(en, fr)
        self.code, self.field = code, field


@dataclass(frozen=True)
class RoomRequest:
    """What a room is opened with.

    Parameters
    ----------
    label : str
        Shown to mentors and in the class list (1–60 characters).
    modality : str
        ``"mr"`` or ``"pet"``.
    actor : str
        Who the audit ``create`` event names: the account, or the body's ``name``.
    ttl_s : int
        Lifetime of the room and its tokens, 60–86400 s.
    """

    label: str
    modality: str
    actor: str
    ttl_s: int


def account_label(modality: str, account: str) -> str:
    """The label of a room opened with ``account``'s user key (``"MR — alice"``)."""
    return f"{modality.upper()} — {account}"[:LABEL_MAX]


def _bad(field: str, en: str, fr: str) -> RoomRequestError:
    return RoomRequestError("bad_field", field, f"{field}: {en}", f"{field} : {fr}")


def _text(body: dict, field: str, max_chars: int, default: str) -> str:
    value = body.get(field, default)
    if not isinstance(value, str):
        raise _bad(field, "a string", "une chaîne de caractères")
    if not 1 <= len(value) <= max_chars:
        raise _bad(
            field,
            f"1–{max_chars} characters (got {len(value)})",
            f"1 à {max_chars} caractères (reçu {len(value)})",
        )
    return value


def parse_room_request(body: object, account: str | None, default_ttl_s: int) -> RoomRequest:
    """Check a ``POST /api/rooms`` body (all fields optional).

    Parameters
    ----------
    body : object
        The decoded JSON (``None`` when the request had no body).
    account : str or None
        The account of a verified user key; ``None`` when the hub secret was shown.
    default_ttl_s : int
        Lifetime when the body gives none.

    Raises
    ------
    RoomRequestError
        ``bad_json`` when the body is not a JSON object; ``bad_field`` naming the first
        unknown, mistyped or out-of-range field.

    Examples
    --------
    >>> parse_room_request({"modality": "pet"}, "alice", 3600).label
    'PET — alice'
    >>> parse_room_request({"label": 5}, None, 3600)
    Traceback (most recent call last):
    ...
    simulator.mentoring.room_request.RoomRequestError: label: a string
    """
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise RoomRequestError(
            "bad_json", None, "the body must be a JSON object", "le corps doit être un objet JSON"
        )
    extra = sorted(set(body) - set(_FIELDS))
    if extra:
        raise _bad(extra[0], "unknown field", "champ inconnu")
    modality = body.get("modality", "mr")
    if modality not in _MODALITIES:
        raise _bad("modality", "mr or pet", "mr ou pet")
    label = _text(body, "label", LABEL_MAX, "console")
    name = _text(body, "name", NAME_MAX, "trainee")
    ttl = body.get("ttl_s", default_ttl_s)
    lo, hi = TTL_RANGE_S
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not lo <= ttl <= hi:
        raise _bad("ttl_s", f"an integer {lo}–{hi}", f"un entier de {lo} à {hi}")
    if account is not None:  # the verified account speaks, not the body
        return RoomRequest(account_label(modality, account), modality, account, ttl)
    return RoomRequest(label, modality, name, ttl)
