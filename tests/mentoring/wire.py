"""A client of the hub written from PROTOCOL.md alone: raw HTTP, raw WebSocket frames, and
tokens and user keys signed with the document's formulas (hashlib/hmac). It never imports
the hub or the project's own client, so the conformance suite checks the wire, not code
against itself."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import aiohttp


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret: bytes, room: str, role: str, exp: object = None, **claims: object) -> str:
    """``base64url(JSON claims) "." base64url(HMAC-SHA256(secret, first part))``."""
    body = {"room": room, "role": role, "exp": int(time.time()) + 600 if exp is None else exp}
    body |= {"nonce": "n0"} | claims
    payload = b64(json.dumps(body).encode())
    sig = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{b64(sig)}"


def user_key(secret: bytes, name: str) -> str:
    mac = hmac.new(secret, b"merm-room-creator:" + name.encode(), hashlib.sha256).hexdigest()
    return f"merm-user.{b64(name.encode())}.{mac}"


async def http(
    method: str,
    url: str,
    *,
    bearer: str | None = None,
    body: object = ...,
    raw: bytes | None = None,
) -> tuple[int, Any, dict[str, str]]:
    """(status, JSON or text, headers) of one request."""
    headers = {"Authorization": "Bearer " + bearer} if bearer else {}
    data = raw if raw is not None else (None if body is ... else json.dumps(body).encode())
    async with aiohttp.ClientSession() as session:
        async with session.request(method, url, data=data, headers=headers) as resp:
            text = await resp.text()
            try:
                parsed: Any = json.loads(text)
            except ValueError:
                parsed = text
            return resp.status, parsed, dict(resp.headers)


class Wire:
    """One raw WebSocket to the hub; every message received is kept in :attr:`got`."""

    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        self.closed: int | None = None
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._new = asyncio.Event()

    @classmethod
    async def open(
        cls, base: str, tok: str, name: str | None = "someone", client: str = "bot", **headers: str
    ) -> Wire:
        """Connect; with ``name``, send ``hello`` after ``welcome`` and wait for ``peers``."""
        w = cls()
        w._session = aiohttp.ClientSession()
        url = base.replace("http://", "ws://") + "/ws?token=" + tok
        try:
            w._ws = await w._session.ws_connect(url, headers=headers, max_msg_size=0)
        except BaseException:
            await w._session.close()
            raise
        w._reader = asyncio.ensure_future(w._read())
        await w.next("welcome")
        if name is not None:
            await w.send({"type": "hello", "name": name, "client": client})
            await w.next("peers", lambda p: any(x["name"] == name for x in p["peers"]))
        return w

    @property
    def welcome(self) -> dict[str, Any]:
        return next(m for m in self.got if m["type"] == "welcome")

    @property
    def peer(self) -> str:
        return str(self.welcome["peer"])

    async def _read(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.got.append(json.loads(msg.data))
                self._new.set()
        self.closed = self._ws.close_code
        self._new.set()

    async def send(self, msg: dict[str, Any] | str | bytes) -> None:
        assert self._ws is not None
        if isinstance(msg, bytes):
            await self._ws.send_bytes(msg)
        else:
            await self._ws.send_str(msg if isinstance(msg, str) else json.dumps(msg))

    async def next(
        self,
        type_: str,
        pred: Callable[[dict[str, Any]], bool] = lambda m: True,
        after: int = 0,
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """The first message of ``type_`` from index ``after`` matching ``pred``."""
        deadline = time.monotonic() + timeout
        while True:
            for m in self.got[after:]:
                if m["type"] == type_ and pred(m):
                    return m
            left = deadline - time.monotonic()
            if left <= 0 or self.closed is not None:
                raise TimeoutError(f"no {type_} (got {[m['type'] for m in self.got[after:]]})")
            self._new.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), min(left, 0.5))

    async def refused(self, msg: dict[str, Any] | str | bytes) -> dict[str, Any]:
        """Send ``msg`` and return the ``error`` it gets (then check the session goes on)."""
        start = len(self.got)
        await self.send(msg)
        err = await self.next("error", after=start)
        probe = f"still here {start}"
        await self.send({"type": "chat", "text": probe})
        await self.next("chat", lambda c: c["text"] == probe, after=start)
        return err

    async def wait_closed(self, timeout: float = 5.0) -> int | None:
        deadline = time.monotonic() + timeout
        while self.closed is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.closed

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(self._reader, 2)
        if self._session is not None:
            await self._session.close()
