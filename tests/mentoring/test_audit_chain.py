"""The audit log's hash chain: every edited, removed or reordered line is found, by the
library and by ``merm-lab hub --verify-audit``; the chain goes on across rotations and
restarts, and the hub publishes its head."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from mentoring_fakes import SECRET

from simulator.mentoring.audit import AuditLog, log_files, verify_file
from simulator.mentoring.audit_chain import GENESIS, ChainBroken, verify_lines
from simulator.mentoring.client import HubClient, create_room

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _log(path: Path, n: int = 8, **kw) -> AuditLog:  # noqa: ANN003
    log = AuditLog(path, **kw)
    for i in range(n):
        log.append(f"r{i % 2}", "Alice", "trainee", "chat", {"text": f"line {i}"}, now=T0)
    return log


def _verify_cli(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "simulator", "hub", "--verify-audit", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_each_line_hashes_its_canonical_form_and_links_to_the_one_before(tmp_path) -> None:
    """An independent check with hashlib alone: sha256 over sorted-key compact JSON."""
    path = tmp_path / "audit.jsonl"
    _log(path, 3).close()
    prev = GENESIS
    for line in path.read_text().splitlines():
        obj = json.loads(line)
        body = {k: v for k, v in obj.items() if k != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert obj["hash"] == hashlib.sha256(text.encode()).hexdigest()
        assert obj["prev"] == prev
        prev = obj["hash"]
    out = _verify_cli(path)
    assert out.returncode == 0, out.stderr
    assert "3 lines, seq 1–3" in out.stdout and prev in out.stdout


def _edit(lines: list[str]) -> list[str]:
    obj = json.loads(lines[4])
    obj["detail"]["text"] = "something else"
    return lines[:4] + [json.dumps(obj)] + lines[5:]


def _edit_and_rehash(lines: list[str]) -> list[str]:
    from simulator.mentoring.audit_chain import canonical, line_hash

    obj = json.loads(lines[4])
    obj["actor"] = "Mallory"
    obj["hash"] = line_hash(obj)
    return lines[:4] + [canonical(obj)] + lines[5:]


@pytest.mark.parametrize(
    "tamper,line,word",
    [
        (_edit, 5, "edited"),
        (_edit_and_rehash, 6, "prev does not match"),  # the next line still points at the old one
        (lambda ls: ls[:4] + ls[5:], 5, "missing: seq 5"),
        (lambda ls: ls[:3] + ls[5:], 4, "missing: seq 4–5"),
        (lambda ls: ls[:4] + [ls[5], ls[4]] + ls[6:], 5, "reordered"),
        (lambda ls: ls[:4] + [ls[2]] + ls[4:], 5, "inserted or repeated"),
        (lambda ls: ls[:4] + ["{not json"] + ls[5:], 5, "unreadable"),
        (lambda ls: ls[1:], 1, "wrong start"),
    ],
    ids=["edited", "edited-rehashed", "removed", "two-removed", "reordered", "repeated",
         "garbage", "first-removed"],
)  # fmt: skip
def test_a_tampered_line_is_found_and_named(tmp_path, tamper, line: int, word: str) -> None:
    path = tmp_path / "audit.jsonl"
    _log(path).close()
    lines = path.read_text().splitlines()
    tampered = tamper(lines)
    if word == "wrong start":  # drop the first line but keep it looking like the start
        first = json.loads(tampered[0])
        first["prev"] = GENESIS
        from simulator.mentoring.audit_chain import canonical, line_hash

        first["hash"] = line_hash(first)
        tampered[0] = canonical(first)
    path.write_text("\n".join(tampered) + "\n")
    with pytest.raises(ChainBroken) as err:
        verify_file(path)
    assert err.value.line == line and word in err.value.why
    out = _verify_cli(path)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert f"line {line}" in out.stderr and word in out.stderr


def test_the_last_line_edited_with_its_hash_redone_shows_against_the_published_head(
    tmp_path,
) -> None:
    path = tmp_path / "audit.jsonl"
    log = _log(path)
    published = log.head["hash"]
    log.close()
    lines = _edit_and_rehash(path.read_text().splitlines()[:5])
    path.write_text("\n".join(lines) + "\n")
    assert verify_lines(path.read_text().splitlines()).head != published


def test_a_restarted_log_goes_on_with_the_chain_and_the_numbering(tmp_path) -> None:
    path = tmp_path / "audit.jsonl"
    first = _log(path, 3)
    head = first.head
    first.close()
    again = AuditLog(path)
    assert again.head == head and len(again.events("r0")) == 2
    event = again.append("r0", "Dr M", "mentor", "join", now=T0)
    assert (event.seq, event.prev) == (4, head["hash"])
    again.close()
    assert verify_file(path)[0].last_seq == 4


def test_rotation_by_size_and_by_day_carries_the_chain_across_files(tmp_path) -> None:
    path = tmp_path / "audit.jsonl"
    log = _log(path, 10, rotate_bytes=1200)
    log.append("r0", "Alice", "trainee", "leave", now=T0 + timedelta(days=1))  # a new UTC day
    log.close()
    files = log_files(path)
    assert len(files) >= 3 and files[-1] == path
    assert json.loads(path.read_text().splitlines()[0])["time"].startswith("2026-12-03")
    seqs, prev = [], GENESIS
    for file in files:
        summary, start = verify_file(file)
        assert summary.prev == prev, "each file starts from the head of the one before"
        assert start == (
            "starts the log"
            if prev == GENESIS
            else "continues " + files[files.index(file) - 1].name
        )
        prev = summary.head
        seqs += list(range(summary.first_seq, summary.last_seq + 1))
    assert seqs == list(range(1, 12))
    # exports and numbering go on after a restart over rotated files
    again = AuditLog(path, rotate_bytes=1200)
    assert [e.seq for e in again.events()] == seqs and again.head["hash"] == prev
    again.close()
    # a rotated file whose last line was removed no longer links to the next one
    second = files[1]
    second.write_text("\n".join(second.read_text().splitlines()[:-1]) + "\n")
    out = _verify_cli(files[2])
    assert out.returncode == 2 and "line 1" in out.stderr


async def test_the_hub_publishes_the_head_and_404s_an_unknown_room(hub) -> None:
    room = await create_room(hub.url, SECRET, "MR 1", "mr")
    async with HubClient(hub.url, room["tokens"]["mentor"], "Dr M") as client:
        await client.send({"type": "chat", "text": "hello"})
        await client.wait_for("chat")
    async with aiohttp.ClientSession() as http:
        url = f"{hub.url}/api/rooms/{room['room']}/audit"
        async with http.get(url, params={"token": room["tokens"]["mentor"]}) as resp:
            body = await resp.json()
            header = resp.headers["X-Merm-Audit-Head"]
        lines = hub.config.audit_path.read_text().splitlines()
        last = json.loads(lines[-1])
        assert body["head"] == {"seq": last["seq"], "hash": last["hash"]}
        assert header == f"{last['seq']}:{last['hash']}"
        assert [e["hash"] for e in body["events"]] == [json.loads(x)["hash"] for x in lines]
        auth = {"Authorization": "Bearer " + SECRET.decode()}
        async with http.get(f"{hub.url}/api/rooms/nosuchroom/audit", headers=auth) as resp:
            assert resp.status == 404
        async with http.get(url, params={"format": "xml"}, headers=auth) as resp:
            assert resp.status == 400
    assert verify_file(hub.config.audit_path)[0].head == body["head"]["hash"]
