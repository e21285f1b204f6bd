"""Remote commands through the hub: from the mentor who holds control to the console.

:class:`Commands` checks that the sender holds control, queues the command under a hub id,
asks the trainee to confirm a PET acquisition first, sends ``apply`` to the trainee's
console and routes the console's ``result`` back to the sender (and into the audit log).
"""

from __future__ import annotations

from typing import Any

from . import messages as m
from ._hub_state import Conn, HubState, RoomRuntime
from .control import REMOTE_ROLES
from .room import Peer

__all__ = ["Commands"]


class Commands:
    """The pending commands of each room and their round trip to the console.

    Parameters
    ----------
    state : HubState
        The hub's rooms and fan-out.
    """

    def __init__(self, state: HubState) -> None:
        self.state = state

    def command(self, conn: Conn, msg: m.Command) -> None:
        rt, peer, room = conn.room, conn.peer, conn.room.room
        if peer.role not in REMOTE_ROLES:  # observers and the trainee never command here
            self.state.audit_event(rt, peer, "command_refused", command=msg.command, reason="forbidden")
            raise m.MessageError(
                "forbidden", f"not allowed for role {peer.role}", f"interdit au rôle {peer.role}"
            )
        if not room.lock.may_command(peer.id, peer.role):
            self.state.audit_event(rt, peer, "command_refused", command=msg.command, reason="no_control")
            raise m.MessageError("no_control", "you do not hold control", "vous n'avez pas la main")
        console = room.console_peer()
        if console is None:
            raise m.MessageError(
                "no_console",
                "the trainee's console is not connected",
                "la console n'est pas connectée",
            )
        hub_id = next(rt.ids)
        job = {
            "peer": peer.id,
            "client_id": msg.id,
            "command": msg.command,
            "actor": peer.name,
            "role": peer.role,
        }
        rt.pending[hub_id] = job
        if room.modality == "pet" and msg.command["type"] == "scan":
            room.pending_confirm[hub_id] = job
            self.state.audit_event(rt, peer, "confirm_request", id=hub_id, command=msg.command)
            text = m.server_message(
                "confirm_request", id=hub_id, actor=peer.name, command=msg.command
            )
            self.state.broadcast(rt, text, roles=("trainee",))
            rt.conns[console.id].send(text, console=True)
            conn.send(m.server_message("pending", id=msg.id, reason="trainee_confirmation"))
            return
        self._apply(rt, hub_id, job)

    def _apply(self, rt: RoomRuntime, hub_id: int, job: dict[str, Any]) -> None:
        console = rt.room.console_peer()
        if console is None:
            rt.pending.pop(hub_id, None)
            self.reply(rt, job, ok=False, message="the trainee's console is not connected")
            return
        rt.conns[console.id].send(
            m.server_message(
                "apply", id=hub_id, actor=job["actor"], role=job["role"], command=job["command"]
            ),
            console=True,
        )

    def confirm(self, rt: RoomRuntime, peer: Peer, msg: m.Confirm) -> None:
        job = rt.room.pending_confirm.pop(msg.id, None)
        if job is None:
            raise m.MessageError(
                "bad_field", "no such pending confirmation", "pas de confirmation en attente"
            )
        self.state.audit_event(rt, peer, "confirm", id=msg.id, accept=msg.accept, command=job["command"])
        self.state.broadcast(
            rt, m.server_message("confirm_done", id=msg.id, accept=msg.accept), roles=("trainee",)
        )
        if msg.accept:
            self._apply(rt, msg.id, job)
        else:
            rt.pending.pop(msg.id, None)
            self.reply(rt, job, ok=False, message="the trainee declined the remote acquisition")

    def result(self, rt: RoomRuntime, msg: m.Result) -> None:
        job = rt.pending.pop(msg.id, None)
        if job is None:
            return
        self.state.audit.append(
            rt.room.id,
            job["actor"],
            job["role"],
            "command",
            {
                "command": job["command"],
                "ok": msg.ok,
                "message": msg.message,
                "before": msg.before,
                "after": msg.after,
            },
        )
        self.reply(rt, job, ok=msg.ok, message=msg.message, before=msg.before, after=msg.after)

    def fail_pending(self, rt: RoomRuntime, message: str) -> None:
        """Answer every command still waiting in ``rt`` with a failure (the console left)."""
        for hub_id in list(rt.pending):
            job = rt.pending.pop(hub_id)
            rt.room.pending_confirm.pop(hub_id, None)
            self.reply(rt, job, ok=False, message=message)

    def reply(self, rt: RoomRuntime, job: dict[str, Any], **fields: Any) -> None:
        """Send a command's result to the peer that sent it (if still connected)."""
        conn = rt.conns.get(job["peer"])
        if conn is not None:
            conn.send(
                m.server_message("result", id=job["client_id"], command=job["command"], **fields),
                console=True,
            )
