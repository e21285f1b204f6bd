"""The control lock of one console: who may drive it, pure state machine, no I/O.

The trainee always owns the console. A mentor (or instructor) *requests* control; the
trainee *grants* or *refuses*; the holder *releases*; the trainee can *take back* at any
time. At most one remote holder; while there is none, only the trainee drives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.errors import UserError

__all__ = ["ControlError", "ControlLock", "REMOTE_ROLES"]

#: Roles that may ask for control.
REMOTE_ROLES = ("mentor", "instructor")


class ControlError(UserError):
    """A control action that the lock's state does not allow (``code`` says why)."""

    def __init__(self, code: str, en: str, fr: str) -> None:
        super().__init__(en, fr)
        self.code = code


@dataclass
class ControlLock:
    """Holder (a peer id, or ``None`` when the trainee drives) and pending requests.

    Examples
    --------
    >>> lock = ControlLock()
    >>> lock.request("m1", "mentor"); lock.grant("m1"); lock.holder
    'm1'
    >>> lock.take_back()
    'm1'
    >>> lock.holder is None
    True
    """

    holder: str | None = None
    pending: list[str] = field(default_factory=list)

    def request(self, peer: str, role: str) -> None:
        """``peer`` asks for control."""
        if role not in REMOTE_ROLES:
            raise ControlError(
                "forbidden",
                f"role {role} cannot take control",
                f"le rôle {role} ne peut pas prendre la main",
            )
        if self.holder == peer:
            raise ControlError("already", "you already hold control", "vous avez déjà la main")
        if self.holder is not None:
            raise ControlError("busy", "another mentor holds control", "un autre mentor a la main")
        if peer in self.pending:
            raise ControlError(
                "already", "you already asked for control", "vous avez déjà demandé la main"
            )
        self.pending.append(peer)

    def grant(self, peer: str) -> None:
        """The trainee gives control to ``peer`` (who must have asked)."""
        if peer not in self.pending:
            raise ControlError(
                "no_request",
                "that peer has not asked for control",
                "ce pair n'a pas demandé la main",
            )
        if self.holder is not None:
            raise ControlError("busy", "take control back first", "reprenez d'abord la main")
        self.pending.remove(peer)
        self.holder = peer

    def refuse(self, peer: str) -> None:
        """The trainee declines ``peer``'s request."""
        if peer not in self.pending:
            raise ControlError(
                "no_request",
                "that peer has not asked for control",
                "ce pair n'a pas demandé la main",
            )
        self.pending.remove(peer)

    def release(self, peer: str) -> None:
        """The holder gives control back to the trainee."""
        if self.holder != peer:
            raise ControlError("not_holder", "you do not hold control", "vous n'avez pas la main")
        self.holder = None

    def take_back(self) -> str | None:
        """The trainee takes control back; returns the previous holder (or ``None``)."""
        previous, self.holder = self.holder, None
        self.pending.clear()
        return previous

    def drop(self, peer: str) -> bool:
        """Forget ``peer`` (it left); ``True`` when it held control."""
        if peer in self.pending:
            self.pending.remove(peer)
        if self.holder == peer:
            self.holder = None
            return True
        return False

    def may_command(self, peer: str, role: str) -> bool:
        """Whether the hub may forward a console command from ``peer``."""
        return role in REMOTE_ROLES and self.holder == peer
