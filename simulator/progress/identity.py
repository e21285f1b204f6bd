"""Signed identities of ``merm-lab serve``: the trainee's name and cohort, and the staff pass.

On one machine there is no school account: the lab server asks a trainee's name and cohort
on first use and keeps them in a browser cookie, signed by the lab server's secret so that
the progress API knows the cookie came from its own sign-in page. A cookie is

    base64url(JSON claims) "." hex(HMAC-SHA256(secret, "merm-identity:" + first part))

with claims ``{"n": name, "c": cohort, "r": "trainee" | "staff", "iat": Unix s}``. The
trainee's cookie is :data:`TRAINEE_COOKIE`, the instructor's (set by the start token that
``serve`` prints) :data:`STAFF_COOKIE`.

Voilà hands the page request's ``Cookie`` header to the console kernel as ``$HTTP_COOKIE``
(``VoilaConfiguration.http_header_envs``); the kernel sends the signed value back to the lab
server with each submission (:func:`kernel_credentials`), and the server records the name it
verifies, never one from the request body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from pathlib import Path

__all__ = ["Identity", "TRAINEE_COOKIE", "STAFF_COOKIE", "sign_identity", "verify_identity",
           "kernel_credentials", "kernel_display_name", "lab_secret", "clean_name",
           "NAME_MAX", "COHORT_MAX"]

TRAINEE_COOKIE = "merm-identity"
STAFF_COOKIE = "merm-staff"
NAME_MAX = 40
COHORT_MAX = 30
_CONTEXT = b"merm-identity:"


@dataclass(frozen=True)
class Identity:
    """Who is calling, as verified by a progress server.

    Parameters
    ----------
    name : str
        The account (JupyterHub user name) or the signed-in name (serve).
    staff : bool
        Instructor rights: member of the instructors group or admin (JupyterHub), holder of
        the start token (serve).
    cohort : str or None
        The cohort given at sign-in (serve only).
    """

    name: str
    staff: bool = False
    cohort: str | None = None


def clean_name(value: object, limit: int = NAME_MAX) -> str:
    """``value`` as a display name: stripped, control characters removed, at most ``limit``."""
    text = "".join(ch for ch in str(value or "") if ch.isprintable()).strip()
    return " ".join(text.split())[:limit]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_identity(secret: bytes, name: str, cohort: str | None = None, role: str = "trainee",
                  issued_at: int | None = None) -> str:
    """The signed cookie value for ``name`` (``role`` ``"trainee"`` or ``"staff"``)."""
    claims = {"n": name, "c": cohort, "r": role, "iat": int(time.time() if issued_at is None else issued_at)}
    body = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    mac = hmac.new(secret, _CONTEXT + body.encode("ascii"), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def _claims(value: str) -> dict[str, object] | None:
    body, _, _mac = value.partition(".")
    try:
        claims = json.loads(_unb64(body).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def verify_identity(secret: bytes, value: str | None, role: str = "trainee",
                    max_age_s: int = 90 * 86400) -> Identity | None:
    """The identity a cookie value proves, or ``None`` (missing, forged, other role, too old)."""
    if not value or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    expected = hmac.new(secret, _CONTEXT + body.encode("ascii", "replace"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected):
        return None
    claims = _claims(value)
    if claims is None or claims.get("r") != role:
        return None
    iat = claims.get("iat")
    if not isinstance(iat, int) or time.time() - iat > max_age_s:
        return None
    name = clean_name(claims.get("n"))
    if not name:
        return None
    cohort = claims.get("c")
    return Identity(name, staff=role == "staff",
                    cohort=clean_name(cohort, COHORT_MAX) or None if isinstance(cohort, str) else None)


def lab_secret(home: Path) -> bytes:
    """The lab server's signing secret, kept in ``home/lab-secret`` (mode 0600) so that a
    trainee's sign-in survives a restart of ``serve``."""
    path = home / "lab-secret"
    try:
        data = path.read_bytes().strip()
        if len(data) >= 32:
            return data
    except OSError:
        pass
    home.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(value)
    return value


def _cookies(environ: dict[str, str] | None = None) -> dict[str, str]:
    raw = (os.environ if environ is None else environ).get("HTTP_COOKIE", "")
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return {}
    return {k: m.value for k, m in jar.items()}


def kernel_credentials(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The signed cookies a Voilà kernel of ``serve`` received (``$HTTP_COOKIE``):
    ``{"trainee": value, "staff": value}``, each only when present."""
    jar = _cookies(environ)
    out = {}
    if jar.get(TRAINEE_COOKIE):
        out["trainee"] = jar[TRAINEE_COOKIE]
    if jar.get(STAFF_COOKIE):
        out["staff"] = jar[STAFF_COOKIE]
    return out


def kernel_display_name(environ: dict[str, str] | None = None) -> str | None:
    """The name this kernel's trainee is known by: ``$JUPYTERHUB_USER`` on JupyterHub, the
    signed-in name under ``serve`` (read, not verified: the server verifies), else ``None``."""
    env = dict(os.environ) if environ is None else environ
    if env.get("JUPYTERHUB_USER"):
        return env["JUPYTERHUB_USER"]
    value = kernel_credentials(env).get("trainee")
    claims = _claims(value) if value else None
    name = clean_name(claims.get("n")) if claims else ""
    return name or None
