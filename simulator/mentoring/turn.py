"""ICE server settings for the peers: coturn REST-API short-lived credentials.

coturn's ``use-auth-secret`` scheme: ``username = "<expiry unix s>:<user>"`` and
``credential = base64(HMAC-SHA1(shared secret, username))``. With no TURN server
configured the list is empty: no public STUN default, loopback and LAN only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from simulator.errors import UserError

__all__ = ["TurnSettings", "turn_credentials", "ice_servers"]


@dataclass(frozen=True)
class TurnSettings:
    """Where the TURN server is and the secret it shares with the hub.

    Parameters
    ----------
    url : str
        ``turn:host:port`` or ``turns:host:port`` (``?transport=udp|tcp`` allowed).
    secret : str
        coturn ``static-auth-secret``.
    ttl_s : int
        Lifetime of the credentials handed to a peer.
    """

    url: str
    secret: str
    ttl_s: int = 6 * 3600

    def __post_init__(self) -> None:
        if not self.url.startswith(("turn:", "turns:")):
            raise UserError(
                f"TURN URL must start with turn: or turns: (got {self.url!r})",
                f"l'URL TURN doit commencer par turn: ou turns: ({self.url!r})",
            )
        if not self.secret:
            raise UserError("a TURN URL needs --turn-secret", "une URL TURN demande --turn-secret")
        if not 60 <= self.ttl_s <= 7 * 86400:
            raise UserError("TURN ttl allowed 60–604800 s", "durée TURN permise 60–604800 s")


def turn_credentials(secret: str, user: str, ttl_s: int, now: float) -> tuple[str, str]:
    """Return ``(username, credential)`` valid for ``ttl_s`` seconds after ``now``.

    Examples
    --------
    >>> turn_credentials("s", "alice", 60, now=100)[0]
    '160:alice'
    """
    username = f"{int(now) + int(ttl_s)}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def ice_servers(settings: TurnSettings | None, user: str, now: float) -> list[dict[str, object]]:
    """The ``iceServers`` list for one peer (RTCConfiguration shape); ``[]`` without TURN."""
    if settings is None:
        return []
    username, credential = turn_credentials(settings.secret, user, settings.ttl_s, now)
    return [{"urls": [settings.url], "username": username, "credential": credential}]
