"""The hash chain of the audit log: how a line is hashed, and how a file is checked.

Every line of the log is the canonical JSON of one event (keys sorted, no spaces, UTF-8)
with two more fields: ``prev``, the hash of the line before it (:data:`GENESIS` for the
first line the hub ever wrote), and ``hash``, SHA-256 (hex) of the canonical JSON of the
line without its ``hash``. Changing a line breaks its own hash; removing, inserting or
reordering lines breaks the ``prev`` links and the ``seq`` run (1, 2, 3…, carried across
rotated files and restarts). The last hash is the log's *head*: the hub publishes it in
each audit export, so a copy of the head taken at a debrief also pins the last line (the
idea of Certificate Transparency's signed tree heads, RFC 6962, without the tree).
Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["GENESIS", "ChainBroken", "ChainSummary", "canonical", "line_hash", "verify_lines"]

#: ``prev`` of the very first line.
GENESIS = "0" * 64


def canonical(obj: dict[str, Any]) -> str:
    """The one serialisation that is hashed and written: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def line_hash(obj: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``obj`` without its ``hash`` field.

    Examples
    --------
    >>> h = line_hash({"seq": 1, "prev": GENESIS})
    >>> h == line_hash({"prev": GENESIS, "seq": 1, "hash": "whatever"}) and len(h)
    64
    """
    body = {k: v for k, v in obj.items() if k != "hash"}
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


class ChainBroken(ValueError):
    """The first line at which the chain does not hold.

    Attributes
    ----------
    line : int
        1-based line number in the file checked.
    seq : int or None
        The ``seq`` that line carries (``None`` when unreadable).
    why : str
        ``edited``, ``missing``, ``reordered``, ``inserted``, ``unreadable`` or
        ``wrong start``, with details.
    """

    def __init__(self, line: int, seq: int | None, why: str) -> None:
        self.line, self.seq, self.why = line, seq, why
        at = f"line {line}" + (f" (seq {seq})" if seq is not None else "")
        super().__init__(f"{at}: {why}")


@dataclass(frozen=True)
class ChainSummary:
    """A file whose chain holds: its lines, seq run, and the hashes it starts from and ends on."""

    lines: int
    first_seq: int
    last_seq: int
    prev: str  # the ``prev`` of its first line (GENESIS, or the previous file's head)
    head: str  # the ``hash`` of its last line


def _missing_or_reordered(later_seqs: set[int], expected: int, found: int) -> str:
    if found < expected:
        return f"inserted or repeated: seq {found} again where {expected} was expected"
    if expected in later_seqs:
        return f"reordered: seq {found} comes before seq {expected}"
    gap = f"seq {expected}" if found == expected + 1 else f"seq {expected}–{found - 1}"
    return f"missing: {gap} removed before this line"


def verify_lines(
    lines: Iterable[str], prev: str | None = None, first_seq: int | None = None
) -> ChainSummary:
    """Check the chain of a file's lines.

    Parameters
    ----------
    lines : iterable of str
        The file's lines (blank ones are not allowed: the hub never writes them).
    prev, first_seq : optional
        What the first line must continue from (the previous file's head and next seq);
        by default the first line must start the log (``prev`` = :data:`GENESIS`, seq 1)
        or, when its ``prev`` is another hash, it is taken as the continuation of a file
        not given.

    Raises
    ------
    ChainBroken
        At the first line that was edited, removed, reordered or inserted.
    """
    objs: list[tuple[int, dict[str, Any]]] = []
    for n, text in enumerate(lines, start=1):
        try:
            obj = json.loads(text)
            if not isinstance(obj, dict) or not isinstance(obj.get("seq"), int):
                raise ValueError("not an audit line")
        except ValueError:
            raise ChainBroken(n, None, "unreadable: not one JSON audit line") from None
        objs.append((n, obj))
    if not objs:
        raise ChainBroken(0, None, "empty: no audit line")
    want_prev = prev
    want_seq = first_seq
    start_prev = objs[0][1].get("prev")
    for i, (n, obj) in enumerate(objs):
        seq = obj["seq"]
        if obj.get("hash") != line_hash(obj):
            raise ChainBroken(n, seq, "edited: the line does not match its hash")
        if want_seq is None:  # the first line of a file given alone
            if obj.get("prev") == GENESIS and seq != 1:
                raise ChainBroken(n, seq, "wrong start: the first line of the log has seq 1")
            want_seq = seq
        if seq != want_seq:
            later = {o["seq"] for _, o in objs[i + 1 :]}
            raise ChainBroken(n, seq, _missing_or_reordered(later, want_seq, seq))
        if want_prev is not None and obj.get("prev") != want_prev:
            what = "the previous line" if i else "the previous file's head"
            raise ChainBroken(n, seq, f"prev does not match the hash of {what}")
        want_prev, want_seq = obj["hash"], seq + 1
    return ChainSummary(
        lines=len(objs),
        first_seq=objs[0][1]["seq"],
        last_seq=objs[-1][1]["seq"],
        prev=str(start_prev),
        head=str(want_prev),
    )
