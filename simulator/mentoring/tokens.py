"""Invitation tokens and per-user room keys, HMAC-SHA256 signed.

A token is ``base64url(json claims) + "." + base64url(hmac_sha256(secret, payload))``.
The claims are ``{"room": str, "role": str, "exp": int (Unix seconds), "nonce": str}``:
expiring, bound to one room and one role. Only the hub signs them, with its secret.

A *user key* lets one account open rooms for its own console and nothing else:
``merm-user.<base64url(name)>.<hex hmac_sha256(secret, "merm-room-creator:" + name)>``.
On a shared JupyterHub each trainee's server gets its own key (the hub's secret stays with
the hub and the staff), so a trainee cannot sign invitations to someone else's room, and
the audit log names the account that opened a room. Anyone can derive the key from the
secret with the standard library alone (see ``docs/deploy.md``).

Pure functions: the caller passes the secret and the current time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from simulator.errors import UserError

__all__ = [
    "ROLES",
    "TokenClaims",
    "TokenError",
    "sign_token",
    "verify_token",
    "load_or_create_secret",
    "user_key",
    "verify_user_key",
]

_USER_KEY_PREFIX = "merm-user."
_USER_KEY_CONTEXT = b"merm-room-creator:"

#: Roles a token may carry; ``trainee`` owns the console of the room.
ROLES = ("trainee", "mentor", "observer", "instructor")
_MAX_TOKEN_CHARS = 1024


class TokenError(UserError):
    """A token that is malformed, forged, expired or for another room or role."""


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says.

    Parameters
    ----------
    room : str
        Room identifier.
    role : str
        One of :data:`ROLES`.
    exp : int
        Expiry, Unix seconds (UTC).
    nonce : str
        Random string making every invitation unique.
    """

    room: str
    role: str
    exp: int
    nonce: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise TokenError(f"unknown role {self.role!r}", f"rôle inconnu {self.role!r}")
        if not self.room or len(self.room) > 64:
            raise TokenError("bad room id", "identifiant de salle invalide")


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(secret: bytes, room: str, role: str, exp: int, nonce: str | None = None) -> str:
    """Return a signed token for ``room`` and ``role`` valid until ``exp`` (Unix seconds).

    Examples
    --------
    >>> t = sign_token(b"k", "r1", "mentor", exp=2_000_000_000, nonce="n")
    >>> verify_token(b"k", t, now=1_000_000_000).role
    'mentor'
    """
    claims = TokenClaims(room=room, role=role, exp=int(exp), nonce=nonce or secrets.token_hex(8))
    payload = _b64e(
        json.dumps(
            {"room": claims.room, "role": claims.role, "exp": claims.exp, "nonce": claims.nonce},
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
    )
    sig = hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest()
    return f"{payload}.{_b64e(sig)}"


def verify_token(
    secret: bytes,
    token: str,
    now: float,
    room: str | None = None,
    roles: tuple[str, ...] | None = None,
) -> TokenClaims:
    """Check signature, expiry, room and role of ``token``; return its claims.

    Raises
    ------
    TokenError
        If anything is wrong (the message does not say which secret part failed).
    """
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS or token.count(".") != 1:
        raise TokenError("malformed token", "jeton mal formé")
    payload, sig = token.split(".")
    try:
        expected = hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest()
        given = _b64d(sig)
    except (ValueError, UnicodeEncodeError) as exc:
        raise TokenError("malformed token", "jeton mal formé") from exc
    if not hmac.compare_digest(expected, given):
        raise TokenError("bad token signature", "signature du jeton invalide")
    try:
        raw = json.loads(_b64d(payload))
        if not isinstance(raw, dict) or not all(
            isinstance(raw.get(k), str) for k in ("room", "role", "nonce")
        ):
            raise ValueError("claims")
        if isinstance(raw.get("exp"), bool) or not isinstance(raw.get("exp"), int):
            raise ValueError("exp must be a JSON integer")  # not "2000000000", not 2e9
        claims = TokenClaims(
            room=str(raw["room"]),
            role=str(raw["role"]),
            exp=int(raw["exp"]),
            nonce=str(raw["nonce"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenError("malformed token", "jeton mal formé") from exc
    if claims.exp <= now:
        raise TokenError("token expired", "jeton expiré")
    if room is not None and claims.room != room:
        raise TokenError("token is for another room", "jeton d'une autre salle")
    if roles is not None and claims.role not in roles:
        raise TokenError(
            f"role {claims.role} not allowed here", f"rôle {claims.role} non autorisé ici"
        )
    return claims


def user_key(secret: bytes, name: str) -> str:
    """The key that lets account ``name`` open rooms on a hub with ``secret``.

    Examples
    --------
    >>> k = user_key(b"k" * 16, "alice")
    >>> k.startswith("merm-user.YWxpY2U.") and verify_user_key(b"k" * 16, k)
    'alice'
    """
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        raise TokenError("user name: 1–64 characters", "nom d'utilisateur : 1 à 64 caractères")
    raw = name.encode("utf-8")
    mac = hmac.new(secret, _USER_KEY_CONTEXT + raw, hashlib.sha256).hexdigest()
    return f"{_USER_KEY_PREFIX}{_b64e(raw)}.{mac}"


def verify_user_key(secret: bytes, key: str) -> str:
    """The account name a user key was made for.

    Raises
    ------
    TokenError
        If the key is malformed or was not derived from ``secret``.
    """
    if (
        not isinstance(key, str)
        or len(key) > 256
        or not key.startswith(_USER_KEY_PREFIX)
        or key.count(".") != 2
    ):
        raise TokenError("malformed user key", "clé d'utilisateur mal formée")
    _, b64name, _ = key.split(".")
    try:
        name = _b64d(b64name).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenError("malformed user key", "clé d'utilisateur mal formée") from exc
    try:
        expected = user_key(secret, name)
    except TokenError as exc:
        raise TokenError("malformed user key", "clé d'utilisateur mal formée") from exc
    if not hmac.compare_digest(expected.encode(), key.encode()):
        raise TokenError("bad user key", "clé d'utilisateur invalide")
    return name


def load_or_create_secret(path: Path) -> bytes:
    """Read the hub secret from ``path``, creating a random one (mode 0600) if absent.

    The hub and the kernels of one machine share it through ``$MERM_HOME/hub-secret``;
    it authorises creating rooms.
    """
    try:
        text = path.read_text().strip()
        if len(text) >= 32:
            return text.encode()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value.encode()
