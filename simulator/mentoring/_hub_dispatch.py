"""The hub's message handling: validate each client message, then act on it by type.

:class:`Dispatch` checks a raw message (token still valid, size, rate limit, ``hello``
first) and routes it: presence and control-lock changes, chat, annotations and pings are
handled here; remote commands go to :mod:`._hub_commands`, WebRTC offers and A/V
signalling to :mod:`._hub_media`, recording consent to :mod:`._hub_recording`.
"""

from __future__ import annotations

import dataclasses
import logging
import time

from . import messages as m
from ._hub_commands import Commands
from ._hub_media import Media
from ._hub_recording import Recording
from ._hub_state import Conn, HubState, RoomRuntime
from .control import ControlError
from .room import Peer, RateLimiter
from .tokens import TokenError, verify_token

__all__ = ["Dispatch"]

log = logging.getLogger("merm.hub")


class Dispatch:
    """``handle_raw`` and ``dispatch`` of the hub: the part that reads every client message.

    Parameters
    ----------
    state : HubState
        The hub's rooms and fan-out.
    commands, media, recording : Commands, Media, Recording
        The parts it hands remote commands, WebRTC and A/V signalling, and recording
        consent to.
    """

    def __init__(self, state: HubState, commands: Commands, media: Media,
                 recording: Recording) -> None:
        self.state = state
        self.commands = commands
        self.media = media
        self.recording = recording

    async def handle_raw(self, conn: Conn, raw: str | bytes, limit: int) -> None:
        """Validate one message and act on it; any fault is answered, never fatal."""
        ref = None
        try:
            try:
                verify_token(self.state.config.secret, conn.token, time.time())
            except TokenError as exc:
                await conn._ws_send(m.server_message("error", code="token", message=exc.en))
                await conn.ws.close(code=4001, message=b"token expired")
                return
            try:
                msg = m.parse_client(raw, limit)
            except m.MessageError:
                if not conn.peer.limiter.allow():
                    return  # a flood of junk gets no replies
                raise
            ref = msg.TYPE
            # pongs answer pings already counted against the mentor who sent them
            exempt = conn.peer.console and isinstance(msg, m.Pong)
            if not exempt and not conn.peer.limiter.allow():
                raise m.MessageError("rate_limited", "too many messages", "trop de messages")
            if not conn.peer.name and not isinstance(msg, m.Hello):
                raise m.MessageError("hello_first", "send hello first", "envoyez hello d'abord")
            await self.dispatch(conn, msg)
        except (m.MessageError, ControlError) as exc:
            ref = ref or getattr(exc, "ref", None)
            conn.send(m.server_message("error", code=exc.code, message=exc.en, ref=ref))
        except Exception:  # a bug here must not end the session of the others
            log.exception("failed to handle %s from %s", ref, conn.peer.id)
            conn.send(m.server_message("error", code="internal", message="hub error", ref=ref))

    async def dispatch(self, conn: Conn, msg: m.ClientMessage) -> None:  # noqa: C901
        rt, peer, room = conn.room, conn.peer, conn.room.room
        forbidden = m.MessageError(
            "forbidden", f"not allowed for role {peer.role}", f"interdit au rôle {peer.role}"
        )
        if isinstance(msg, m.Hello):
            first = not peer.name
            # in a room opened with a user key the trainee is that account, whatever it says
            name = rt.owner if peer.role == "trainee" and rt.owner else msg.name
            peer.name, peer.client = name, msg.client
            if peer.role == "trainee" and msg.client == "kernel":
                old = room.console_peer()
                if old is not None and old is not peer:
                    old.console = False
                peer.console = True
                peer.limiter = RateLimiter(rate_per_s=200, burst=400)  # state during scans
            if first:
                self.state.audit_event(rt, peer, "join", client=msg.client)
            self.state.send_peers(rt)
        elif isinstance(msg, m.Offer):
            await self.media.answer(conn, msg.sdp)
        elif isinstance(msg, m.State):
            if not peer.console:
                raise forbidden
            seq = room.set_snapshot(msg.snapshot)
            self.state.touch(rt)
            text = m.server_message("state", seq=seq, snapshot=msg.snapshot)
            self.state.broadcast(rt, text, console=True, exclude=peer.id)
            await self.recording.update(rt)
        elif isinstance(msg, m.Result):
            if not peer.console:
                raise forbidden
            self.commands.result(rt, msg)
        elif isinstance(msg, m.Command):
            self.commands.command(conn, msg)
        elif isinstance(msg, m.Confirm):
            if peer.role != "trainee":
                raise forbidden
            self.commands.confirm(rt, peer, msg)
        elif isinstance(msg, m.RequestControl):
            self._one_console_at_a_time(rt, peer)
            room.lock.request(peer.id, peer.role)
            self.state.audit_event(rt, peer, "request")
            self.state.send_control(rt)
        elif isinstance(msg, m.ReleaseControl):
            room.lock.release(peer.id)
            self.state.audit_event(rt, peer, "release")
            self.state.send_control(rt)
        elif isinstance(msg, (m.Grant, m.Refuse, m.TakeBack)):
            if peer.role != "trainee":
                raise forbidden
            if isinstance(msg, m.TakeBack):
                previous = room.lock.take_back()
                prev = room.peers.get(previous) if previous else None
                self.state.audit_event(rt, peer, "take_back", previous=prev.name if prev else None)
            else:
                target = room.peers.get(msg.peer)
                if msg.TYPE == "grant" and target is not None:
                    self._one_console_at_a_time(rt, target)
                (room.lock.grant if msg.TYPE == "grant" else room.lock.refuse)(msg.peer)
                self.state.audit_event(rt, peer, msg.TYPE, to=target.name if target else msg.peer)
            self.state.send_control(rt)
        elif isinstance(msg, m.Chat):
            entry = {
                "from": peer.id,
                "name": peer.name,
                "role": peer.role,
                "text": msg.text,
                "time": self.state.audit.append(
                    room.id, peer.name, peer.role, "chat", {"text": msg.text}
                ).time,
            }
            room.chat.append(entry)
            self.state.touch(rt)
            self.state.broadcast(rt, m.server_message("chat", **entry))
        elif isinstance(msg, (m.Annotate, m.ClearAnnotations)):
            if peer.role == "observer":
                raise forbidden
            if isinstance(msg, m.Annotate):
                ann = dataclasses.asdict(msg) | {"by": peer.name, "role": peer.role}
                room.add_annotation(ann)
                self.state.audit_event(rt, peer, "annotate", **ann)
            else:
                room.annotations.clear()
                self.state.audit_event(rt, peer, "clear_annotations")
            self.state.touch(rt)
            self.state.broadcast(
                rt, m.server_message("annotations", items=room.annotations), console=True
            )
        elif isinstance(msg, m.Ping):
            console = room.console_peer()
            if peer.console or console is None:
                conn.send(m.server_message("pong", id=msg.id, t=msg.t, via="hub"), console=True)
            else:
                rt.conns[console.id].send(
                    m.server_message("ping", id=msg.id, t=msg.t, **{"from": peer.id}), console=True
                )
        elif isinstance(msg, m.Pong):
            dest = rt.conns.get(msg.to)
            if not peer.console:
                raise forbidden
            if dest is None:
                raise m.MessageError(
                    "bad_field", "pong to an unknown peer", "pong vers un pair inconnu"
                )
            dest.send(m.server_message("pong", id=msg.id, t=msg.t, via="console"), console=True)
        elif isinstance(msg, (m.AvOffer, m.AvAnswer, m.AvHangup, m.AvReady)):
            self.media.relay_av(conn, msg)
        elif isinstance(msg, m.Consent):
            room.consent[peer.id] = msg.recording
            self.state.audit_event(rt, peer, "consent", recording=msg.recording)
            await self.recording.update(rt)

    def _one_console_at_a_time(self, rt: RoomRuntime, peer: Peer) -> None:
        """A mentor (by name) holds control of one console at a time, across rooms."""
        for other in self.state.rooms.values():
            holder = other.room.peers.get(other.room.lock.holder or "")
            if other is not rt and holder is not None and holder.name == peer.name:
                raise ControlError(
                    "busy_elsewhere",
                    f"{peer.name} already controls {other.room.label}",
                    f"{peer.name} a déjà la main sur {other.room.label}",
                )
