"""A room: one trainee console, the people invited to it, its lock and shared state.

Pure bookkeeping, no I/O: the server asks the room and then does the talking.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from simulator.errors import UserError

from .control import ControlLock

__all__ = ["Peer", "Room", "RoomFull", "RateLimiter"]

_MAX_ANNOTATIONS = 50
_MAX_CHAT = 200


class RoomFull(UserError):
    """The room already has its maximum number of peers."""


@dataclass
class RateLimiter:
    """Token bucket: ``rate_per_s`` sustained, ``burst`` at once.

    Examples
    --------
    >>> r = RateLimiter(rate_per_s=1, burst=2)
    >>> [r.allow(now=0.0) for _ in range(3)]
    [True, True, False]
    >>> r.allow(now=1.0)
    True
    """

    rate_per_s: float
    burst: float
    _tokens: float = -1.0
    _last: float = 0.0

    def allow(self, now: float | None = None, cost: float = 1.0) -> bool:
        now = time.monotonic() if now is None else now
        if self._tokens < 0:
            self._tokens, self._last = self.burst, now
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate_per_s)
        self._last = now
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        return False


@dataclass
class Peer:
    """One connection to a room."""

    id: str
    role: str
    name: str = ""
    client: str = "browser"
    av: bool = False
    console: bool = False  # publishes the console (the trainee's kernel)
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(rate_per_s=40, burst=80))

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "role": self.role,
            "name": self.name,
            "client": self.client,
            "av": self.av,
        }


@dataclass
class Room:
    """State of one room that survives peers leaving and coming back."""

    id: str
    label: str
    modality: str
    expires: int
    max_peers: int = 8
    peers: dict[str, Peer] = field(default_factory=dict)
    lock: ControlLock = field(default_factory=ControlLock)
    snapshot: dict[str, Any] | None = None
    state_seq: int = 0
    annotations: list[dict[str, Any]] = field(default_factory=list)
    chat: deque = field(default_factory=lambda: deque(maxlen=_MAX_CHAT))
    pending_confirm: dict[int, dict[str, Any]] = field(default_factory=dict)
    consent: dict[str, bool] = field(default_factory=dict)
    next_peer: int = 1  # peer ids are never reused in a room, also across hub restarts

    def add_peer(self, role: str) -> Peer:
        """A new connection; raises :class:`RoomFull` past ``max_peers``."""
        if len(self.peers) >= self.max_peers:
            raise RoomFull(
                f"room full ({self.max_peers} peers)", f"salle pleine ({self.max_peers} pairs)"
            )
        peer = Peer(id=f"p{self.next_peer}", role=role)
        self.next_peer += 1
        self.peers[peer.id] = peer
        return peer

    def remove_peer(self, peer_id: str) -> bool:
        """Forget a peer; ``True`` when it held control (now back to the trainee)."""
        self.peers.pop(peer_id, None)
        self.consent.pop(peer_id, None)
        return self.lock.drop(peer_id)

    def console_peer(self) -> Peer | None:
        """The trainee kernel publishing the console, if connected."""
        return next((p for p in self.peers.values() if p.console), None)

    def set_snapshot(self, snapshot: dict[str, Any]) -> int:
        self.snapshot = snapshot
        self.state_seq += 1
        return self.state_seq

    def add_annotation(self, annotation: dict[str, Any]) -> None:
        self.annotations.append(annotation)
        del self.annotations[:-_MAX_ANNOTATIONS]

    def recording_consented(self) -> bool:
        """Trainee and at least one mentor agreed to record, and nobody present refused."""
        roles = {self.peers[p].role for p, ok in self.consent.items() if ok and p in self.peers}
        refused = any(not ok for ok in self.consent.values())
        return "trainee" in roles and bool(roles & {"mentor", "instructor"}) and not refused

    def control_view(self) -> dict[str, Any]:
        holder = self.peers.get(self.lock.holder) if self.lock.holder else None
        return {
            "holder": self.lock.holder,
            "holder_name": holder.name if holder else None,
            "pending": [
                {"peer": p, "name": self.peers[p].name}
                for p in self.lock.pending
                if p in self.peers
            ],
        }
