"""``AET@host:port``: the address of a DICOM peer (a PACS, a worklist server)."""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass

from simulator.errors import UserError

__all__ = ["DicomAddress", "parse_address", "from_env", "CALLING_AET", "reachable"]

#: The AE title this station calls with (our own).
CALLING_AET = "MERMLAB"

_AET = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]{0,14}[\x21-\x7e])?$")


@dataclass(frozen=True)
class DicomAddress:
    """A DICOM application entity on the network.

    Parameters
    ----------
    aet : str
        Called AE title (1–16 printable characters, no backslash).
    host : str
        Host name or address.
    port : int
        TCP port, 1–65535.
    """

    aet: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.aet}@{self.host}:{self.port}"


def _bad(text: str, what: str, why_en: str, why_fr: str) -> UserError:
    return UserError(
        f"{what} {text!r}: {why_en}; expected AET@host:port (e.g. ORTHANC@127.0.0.1:4242)",
        f"{what} {text!r} : {why_fr} ; forme attendue AET@hôte:port (ex. ORTHANC@127.0.0.1:4242)",
    )


def parse_address(text: str, what: str = "address") -> DicomAddress:
    """Parse ``AET@host:port``.

    Raises
    ------
    UserError
        Not of that form, an AE title longer than 16 characters or with a backslash, a port
        outside 1–65535.
    """
    raw = str(text).strip()
    aet, at, rest = raw.rpartition("@")
    host, colon, port_text = rest.rpartition(":")
    if not at or not colon or not aet or not host:
        raise _bad(raw, what, "not of the form AET@host:port", "pas de la forme AET@hôte:port")
    if not _AET.match(aet) or "\\" in aet:
        raise _bad(
            raw,
            what,
            "AE title must be 1–16 printable characters without backslash",
            "le titre AE doit faire 1 à 16 caractères imprimables sans barre oblique inverse",
        )
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise _bad(raw, what, "port must be 1–65535", "le port doit être entre 1 et 65535")
    return DicomAddress(aet, host.strip("[]"), int(port_text))


def from_env(name: str) -> DicomAddress | None:
    """The address in environment variable ``name`` (``MERM_PACS``, ``MERM_WORKLIST``), or
    None when unset or empty."""
    text = os.environ.get(name, "").strip()
    return parse_address(text, name) if text else None


def reachable(addr: DicomAddress, timeout_s: float = 5.0) -> None:
    """Raise a one-line UserError unless something accepts TCP connections at ``addr``."""
    try:
        with socket.create_connection((addr.host, addr.port), timeout=timeout_s):
            return
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise UserError(
            f"{addr}: unreachable ({why}); is the server running and the port right?",
            f"{addr} : injoignable ({why}) ; le serveur tourne-t-il, le port est-il juste ?",
        ) from None
