"""The class board's data: the mentoring hub's open rooms (``GET /api/rooms`` with the hub
secret, see ``simulator/mentoring/PROTOCOL.md``), fetched by the progress server, which alone
holds the secret."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

__all__ = ["fetch_rooms", "BoardError"]


class BoardError(Exception):
    """The hub could not list its rooms: the reason in English and French."""

    def __init__(self, en: str, fr: str) -> None:
        super().__init__(en)
        self.en, self.fr = en, fr


def fetch_rooms(hub_url: str, secret: bytes, timeout_s: float = 10.0) -> tuple[list[dict[str, Any]], str | None]:
    """The open rooms and the class link of the hub at ``hub_url`` (its internal URL)."""
    url = hub_url.rstrip("/") + "/api/rooms"
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + secret.decode("utf-8", "replace")})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as r:  # noqa: S310 (the configured hub)
            data = json.loads(r.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            raise BoardError("the mentoring hub refused the hub secret (401): the progress service "
                             "and the hub must share $MERM_HUB_SECRET",
                             "le hub de mentorat refuse le secret (401) : le service de progression "
                             "et le hub doivent partager $MERM_HUB_SECRET") from None
        raise BoardError(f"the mentoring hub answered {exc.code} at {url}",
                         f"le hub de mentorat a répondu {exc.code} à {url}") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BoardError(f"the mentoring hub does not answer at {url} ({reason})",
                         f"le hub de mentorat ne répond pas à {url} ({reason})") from None
    rooms = data.get("rooms") if isinstance(data, dict) else None
    if not isinstance(rooms, list):
        raise BoardError(f"{url} is not a mentoring hub (no room list)",
                         f"{url} n'est pas un hub de mentorat (pas de liste de salles)")
    link = data.get("class_link")
    return [r for r in rooms if isinstance(r, dict)], link if isinstance(link, str) else None
