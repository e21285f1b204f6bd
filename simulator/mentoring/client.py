"""A Python client of the hub (aiohttp + aiortc): the trainee kernel, test and bench peers.

>>> # async with HubClient(url, token, name="Dr Martin") as c:
>>> #     await c.start_media(receive_video=True); frame = await c.next_frame()
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp

from simulator.errors import UserError

if TYPE_CHECKING:  # aiortc (and av under it) load only when a call starts media
    from aiortc import MediaStreamTrack, RTCPeerConnection

__all__ = ["HubClient", "HubUnavailable", "create_room", "ws_url"]

#: Longest wait for the hub to answer a room request (an unreachable host must not hang).
CREATE_TIMEOUT_S = 15.0


class HubUnavailable(UserError, ConnectionError):
    """The hub could not open a room: unreachable, timed out, refused, or not a MERM Lab hub
    at that address (a 404 or an HTML page, e.g. a wrong URL prefix). ``status`` is the
    HTTP status of a refusal (``None`` when nothing answered)."""

    def __init__(self, en: str, fr: str | None = None, status: int | None = None) -> None:
        super().__init__(en, fr)
        self.status = status


def ws_url(hub_url: str, token: str) -> str:
    base = hub_url.rstrip("/").replace("https://", "wss://").replace("http://", "ws://")
    return f"{base}/ws?token={token}"


async def create_room(
    hub_url: str,
    secret: bytes,
    label: str,
    modality: str,
    name: str = "trainee",
    ttl_s: int = 4 * 3600,
) -> dict[str, Any]:
    """POST /api/rooms with the hub secret or a user key; returns the JSON answer (tokens,
    links).

    Raises
    ------
    HubUnavailable
        Every failure, as one line in English and French: no answer, a timeout, a refusal
        (the hub's own message), or an answer that is not the hub's JSON.
    """
    url = hub_url.rstrip("/") + "/api/rooms"
    try:
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=CREATE_TIMEOUT_S)
        ) as http:
            async with http.post(
                url,
                json={"label": label, "modality": modality, "name": name, "ttl_s": ttl_s},
                headers={"Authorization": "Bearer " + secret.decode()},
            ) as resp:
                status = resp.status
                try:
                    body = await resp.json(content_type=None)
                except (ValueError, aiohttp.ClientError):
                    body = None
    except TimeoutError:
        raise HubUnavailable(
            f"the hub at {hub_url} did not answer within {CREATE_TIMEOUT_S:g} s",
            f"le hub {hub_url} n'a pas répondu en {CREATE_TIMEOUT_S:g} s",
        ) from None
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        raise HubUnavailable(
            f"no mentoring hub answers at {hub_url} ({type(exc).__name__})",
            f"aucun hub de mentorat ne répond à {hub_url} ({type(exc).__name__})",
        ) from None
    if not isinstance(body, dict):
        raise HubUnavailable(
            f"{url} answered {status} without the hub's JSON: not a MERM Lab hub at this "
            "address (check the URL and its prefix)",
            f"{url} a répondu {status} sans le JSON du hub : pas de hub MERM Lab à cette "
            "adresse (vérifiez l'URL et son préfixe)",
        )
    if status != 200:
        why = str(body.get("error", status))
        why_fr = str(body.get("message_fr", why))
        raise HubUnavailable(
            f"the hub refused to open a room ({status}): {why}",
            f"le hub a refusé d'ouvrir une salle ({status}) : {why_fr}",
        )
    return body


class HubClient:
    """One connection to a room: signalling WebSocket, optional aiortc peer and data channel.

    Parameters
    ----------
    hub_url : str
        ``http://127.0.0.1:8890``.
    token : str
        Invitation token (says room and role).
    name : str
        Display name, sent in ``hello``.
    client : str
        ``"kernel"`` for the trainee's console peer, ``"bot"`` otherwise.
    """

    def __init__(
        self,
        hub_url: str,
        token: str,
        name: str,
        client: str = "bot",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.hub_url, self.token, self.name, self.client = hub_url, token, name, client
        self.headers = headers or {}
        self.welcome: dict[str, Any] = {}
        self.received: list[dict[str, Any]] = []
        self.pc: RTCPeerConnection | None = None
        self.dc: Any = None
        self.frames = 0
        self.last_frame: Any = None
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._changed = asyncio.Event()
        self._handlers: list[Callable[[dict[str, Any]], Any]] = []
        self._frame_event = asyncio.Event()

    async def __aenter__(self) -> HubClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def peer_id(self) -> str:
        return str(self.welcome.get("peer", ""))

    def on_message(self, handler: Callable[[dict[str, Any]], Any]) -> None:
        """Call ``handler(msg)`` for every message from the hub (WS or data channel)."""
        self._handlers.append(handler)

    async def connect(self) -> dict[str, Any]:
        """Open the WebSocket, read ``welcome``, send ``hello``; raises ConnectionError if refused."""
        self._http = aiohttp.ClientSession()
        try:
            self._ws = await self._http.ws_connect(
                ws_url(self.hub_url, self.token), headers=self.headers
            )
        except aiohttp.WSServerHandshakeError as exc:
            await self._http.close()
            raise HubUnavailable(
                f"hub refused the connection ({exc.status})",
                f"le hub a refusé la connexion ({exc.status})",
                status=exc.status,
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            await self._http.close()
            raise HubUnavailable(
                f"no mentoring hub answers at {self.hub_url} ({type(exc).__name__})",
                f"aucun hub de mentorat ne répond à {self.hub_url} ({type(exc).__name__})",
            ) from exc
        self.welcome = json.loads((await self._ws.receive()).data)
        self._tasks.append(asyncio.ensure_future(self._read_ws()))
        await self.send({"type": "hello", "name": self.name, "client": self.client})
        return self.welcome

    async def _read_ws(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self._deliver(json.loads(msg.data))
        self._deliver({"type": "_closed"})

    def _deliver(self, msg: dict[str, Any]) -> None:
        self.received.append(msg)
        for handler in self._handlers:
            result = handler(msg)
            if asyncio.iscoroutine(result):
                asyncio.ensure_future(result)
        self._changed.set()
        self._changed = asyncio.Event()

    async def send(self, msg: dict[str, Any] | str) -> None:
        """Send on the WebSocket."""
        assert self._ws is not None
        await self._ws.send_str(msg if isinstance(msg, str) else json.dumps(msg, default=str))

    async def send_console(self, msg: dict[str, Any]) -> None:
        """Send on the data channel when open, else on the WebSocket."""
        text = json.dumps(msg, default=str)
        if self.dc is not None and self.dc.readyState == "open":
            self.dc.send(text)
        else:
            await self.send(text)

    async def wait_for(
        self,
        type_: str,
        pred: Callable[[dict[str, Any]], bool] = lambda m: True,
        timeout: float = 5.0,
        start: int = 0,
    ) -> dict[str, Any]:
        """First message of ``type_`` (from index ``start`` of :attr:`received`) matching ``pred``."""
        deadline = time.monotonic() + timeout
        i = start
        while True:
            while i < len(self.received):
                msg = self.received[i]
                i += 1
                if msg.get("type") == type_ and pred(msg):
                    return msg
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {type_} message within {timeout} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def start_media(
        self,
        video: MediaStreamTrack | None = None,
        receive_video: bool = False,
        timeout: float = 10.0,
    ) -> None:
        """Open the peer connection to the hub: send ``video`` and/or receive the console."""
        from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

        servers = [RTCIceServer(**s) for s in self.welcome.get("ice_servers", [])]  # type: ignore[arg-type]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        self.pc = pc
        if video is not None:
            pc.addTrack(video)
        if receive_video:
            pc.addTransceiver("video", direction="recvonly")

            @pc.on("track")
            def on_track(track: MediaStreamTrack) -> None:
                self._tasks.append(asyncio.ensure_future(self._read_video(track)))

        self.dc = pc.createDataChannel("console")
        opened = asyncio.Event()
        self.dc.on("open", opened.set)

        @self.dc.on("message")
        def on_dc(data: str | bytes) -> None:
            self._deliver(json.loads(data))

        await pc.setLocalDescription(await pc.createOffer())
        start = len(self.received)
        await self.send({"type": "offer", "sdp": pc.localDescription.sdp})
        answer = await self.wait_for("answer", timeout=timeout, start=start)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        await asyncio.wait_for(opened.wait(), timeout)

    async def _read_video(self, track: MediaStreamTrack) -> None:
        from aiortc.mediastreams import MediaStreamError

        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.frames += 1
            self.last_frame = frame
            self._frame_event.set()
            self._frame_event = asyncio.Event()

    async def next_frame(self, timeout: float = 5.0) -> Any:
        """The next decoded console frame (``av.VideoFrame``)."""
        await asyncio.wait_for(self._frame_event.wait(), timeout)
        return self.last_frame

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self.pc is not None:
            await self.pc.close()
        if self._ws is not None:
            await self._ws.close()
        if self._http is not None:
            await self._http.close()
