"""PROTOCOL.md v2, row by row, over the wire only.

Every test talks to a real hub through HTTP and WebSocket frames (``wire.py``: tokens and
user keys signed with the document's formulas) and reads only what the document names
(answers, messages, the audit file). One test per row of the document's tables and per
error code, and the cases the independent client found (issue 18).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
import time

import pytest
from mentoring_fakes import SECRET
from wire import Wire, http, token, user_key

S = SECRET.decode()
SDP_NONE = "this is not a session description at all"


async def _room(base: str, **body: object) -> dict:
    status, room, _ = await http("POST", base + "/api/rooms", bearer=S, body=body or ...)
    assert status == 200, room
    return room


async def _people(base: str, room: dict, *roles: str) -> list[Wire]:
    out = []
    for i, role in enumerate(roles):
        client = "kernel" if role == "kernel" else "bot"
        tok = room["tokens"]["trainee" if role == "kernel" else role]
        out.append(await Wire.open(base, tok, name=f"{role}{i}", client=client))
    return out


async def _close(*wires: Wire) -> None:
    for w in wires:
        await w.close()


async def _grant(trainee: Wire, mentor: Wire) -> None:
    t0, m0 = len(trainee.got), len(mentor.got)
    await mentor.send({"type": "request_control"})
    await trainee.next(
        "control", lambda c: any(p["peer"] == mentor.peer for p in c["pending"]), after=t0
    )
    await trainee.send({"type": "grant", "peer": mentor.peer})
    await mentor.next("control", lambda c: c["holder"] == mentor.peer, after=m0)


# ---------------------------------------------------------------------------- HTTP table
async def test_post_rooms_answers_the_documented_fields(hub) -> None:
    room = await _room(hub.url, label="MR 1", modality="mr", ttl_s=600)
    assert set(room) == {"room", "label", "modality", "expires", "tokens", "links"}
    assert set(room["tokens"]) == {"trainee", "mentor", "observer", "instructor"}
    assert set(room["links"]) == {"mentor", "observer", "instructor", "trainee_call"}
    assert room["links"]["trainee_call"] == hub.url + "/call#t=" + room["tokens"]["trainee"]
    assert abs(room["expires"] - (time.time() + 600)) < 5
    status, _, _ = await http("POST", hub.url + "/api/rooms", body={})
    assert status == 401
    status, _, _ = await http("POST", hub.url + "/api/rooms", bearer="nope", body={})
    assert status == 401
    status, defaults, _ = await http("POST", hub.url + "/api/rooms", bearer=S)
    assert status == 200 and (defaults["label"], defaults["modality"]) == ("console", "mr")


@pytest.mark.parametrize(
    "raw,code,field",
    [
        (b"[1, 2]", "bad_json", None),
        (b'"x"', "bad_json", None),
        (b"{not json", "bad_json", None),
        (b'{"label": 5}', "bad_field", "label"),
        (b'{"label": "' + b"L" * 61 + b'"}', "bad_field", "label"),
        (b'{"label": ""}', "bad_field", "label"),
        (b'{"name": "' + b"N" * 41 + b'"}', "bad_field", "name"),
        (b'{"modality": "ct"}', "bad_field", "modality"),
        (b'{"ttl_s": 59}', "bad_field", "ttl_s"),
        (b'{"ttl_s": 86401}', "bad_field", "ttl_s"),
        (b'{"ttl_s": 600.0}', "bad_field", "ttl_s"),
        (b'{"owner": "alice"}', "bad_field", "owner"),
    ],
)
async def test_post_rooms_body_refusals_name_the_field(hub, raw, code, field) -> None:
    status, body, _ = await http("POST", hub.url + "/api/rooms", bearer=S, raw=raw)
    assert status == 400
    assert (body["code"], body["field"]) == (code, field)
    assert body["error"] and body["message_fr"]


async def test_post_rooms_body_limits_are_inclusive(hub) -> None:
    room = await _room(hub.url, label="L" * 60, name="N" * 40, ttl_s=86400)
    assert room["label"] == "L" * 60
    _, audit, _ = await http(
        "GET", f"{hub.url}/api/rooms/{room['room']}/audit?token={room['tokens']['trainee']}"
    )
    assert audit["events"][0]["actor"] == "N" * 40


async def test_a_user_key_room_is_labelled_and_audited_with_its_account(hub) -> None:
    key = user_key(SECRET, "alice")
    body = {"label": "MR — bob", "name": "bob", "modality": "pet"}
    status, room, _ = await http("POST", hub.url + "/api/rooms", bearer=key, body=body)
    assert status == 200 and room["label"] == "PET — alice"
    _, audit, _ = await http(
        "GET", f"{hub.url}/api/rooms/{room['room']}/audit?token={room['tokens']['trainee']}"
    )
    create = audit["events"][0]
    assert (create["actor"], create["detail"]["by"]) == ("alice", "user key")
    status, _, _ = await http("POST", hub.url + "/api/rooms", bearer=key, body={"label": 5})
    assert status == 400, "the body is still checked"


async def test_post_rooms_429_when_the_accounts_rooms_are_all_in_use(hub) -> None:
    key = user_key(SECRET, "carol")
    rooms = [(await http("POST", hub.url + "/api/rooms", bearer=key))[1] for _ in range(4)]
    wires = [
        await Wire.open(hub.url, r["tokens"]["mentor"], name=f"m{i}") for i, r in enumerate(rooms)
    ]
    try:
        status, body, _ = await http("POST", hub.url + "/api/rooms", bearer=key)
        assert status == 429 and "4 rooms" in body["error"]
    finally:
        await _close(*wires)


async def test_post_rooms_429_past_200_rooms_on_the_hub(hub) -> None:
    for _ in range(200):
        await _room(hub.url)
    status, body, _ = await http("POST", hub.url + "/api/rooms", bearer=S)
    assert status == 429 and "too many rooms" in body["error"]


async def test_get_rooms_lists_for_the_staff_only(hub) -> None:
    a = await _room(hub.url, label="A")
    b = await _room(hub.url, label="B", modality="pet")
    status, body, _ = await http("GET", hub.url + "/api/rooms", bearer=S)
    assert status == 200 and set(body) == {"rooms", "class_link"}
    assert [r["room"] for r in body["rooms"]] == [a["room"], b["room"]], "oldest first"
    for r in body["rooms"]:
        assert set(r) == {"room", "label", "modality", "owner", "expires", "peers", "links"}
        assert set(r["links"]) == {"instructor", "observer"} and r["owner"] is None
    assert body["class_link"].startswith(hub.url + "/mentor#t=")
    assert body["class_link"].count("t=") == 2
    status, _, _ = await http("GET", hub.url + "/api/rooms", bearer=user_key(SECRET, "alice"))
    assert status == 401
    status, _, _ = await http("GET", hub.url + "/api/rooms")
    assert status == 401


async def test_audit_export_json_csv_head_and_refusals(hub) -> None:
    room = await _room(hub.url)
    other = await _room(hub.url)
    url = f"{hub.url}/api/rooms/{room['room']}/audit"
    for role in ("trainee", "mentor", "instructor"):
        status, body, headers = await http("GET", f"{url}?token={room['tokens'][role]}")
        assert status == 200 and set(body) == {"room", "head", "events"}
        assert headers["X-Merm-Audit-Head"] == f"{body['head']['seq']}:{body['head']['hash']}"
        assert set(body["events"][0]) == {
            "seq", "time", "room", "actor", "role", "action", "detail", "prev", "hash"
        }  # fmt: skip
    status, text, headers = await http("GET", f"{url}?format=csv", bearer=S)
    assert status == 200 and "X-Merm-Audit-Head" in headers
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "seq",
        "time",
        "room",
        "actor",
        "role",
        "action",
        "detail",
        "prev",
        "hash",
    ]
    for bad in (
        f"?token={room['tokens']['observer']}",
        f"?token={other['tokens']['trainee']}",
        "?token=garbage",
        "",
    ):
        assert (await http("GET", url + bad))[0] == 401, bad
    assert (await http("GET", url, bearer=user_key(SECRET, "alice")))[0] == 401
    assert (await http("GET", f"{hub.url}/api/rooms/nosuchroom/audit", bearer=S))[0] == 404
    assert (await http("GET", f"{url}?format=xml", bearer=S))[0] == 400


async def test_ws_upgrade_refusals(hub) -> None:
    room = await _room(hub.url)
    expired = token(SECRET, room["room"], "mentor", exp=int(time.time()) - 1)
    forged = token(b"another-secret-of-16+", room["room"], "mentor")
    for bad in (
        "",
        "garbage",
        expired,
        forged,
        token(SECRET, room["room"], "mentor", exp="9999999999"),
    ):
        with pytest.raises(Exception) as err:  # noqa: PT011 - aiohttp's handshake error
            await Wire.open(hub.url, bad)
        assert getattr(err.value, "status", None) == 401, bad
    with pytest.raises(Exception) as err:  # noqa: PT011
        await Wire.open(hub.url, token(SECRET, "nosuchroom", "mentor"))
    assert getattr(err.value, "status", None) == 404
    with pytest.raises(Exception) as err:  # noqa: PT011
        await Wire.open(hub.url, room["tokens"]["mentor"], Origin="http://evil.example")
    assert getattr(err.value, "status", None) == 403
    ok = await Wire.open(hub.url, room["tokens"]["mentor"], Origin=hub.url)
    await ok.close()


async def test_ws_429_when_the_room_is_full(hub) -> None:
    room = await _room(hub.url)
    cap = hub.config.max_peers
    wires = [await Wire.open(hub.url, room["tokens"]["observer"], name=f"o{i}") for i in range(cap)]
    try:
        with pytest.raises(Exception) as err:  # noqa: PT011
            await Wire.open(hub.url, room["tokens"]["observer"])
        assert getattr(err.value, "status", None) == 429
    finally:
        await _close(*wires)


@pytest.mark.parametrize("page", ["mentor", "call"])
async def test_pages_are_served_without_caching_or_referrer(hub, page: str) -> None:
    status, text, headers = await http("GET", f"{hub.url}/{page}")
    assert status == 200 and "<html" in text and 'src="static/merm.js"' in text
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"


async def test_index(hub) -> None:
    await _room(hub.url)
    status, body, _ = await http("GET", hub.url + "/")
    assert (status, body) == (200, {"service": "merm-lab hub", "rooms": 1})


# ---------------------------------------------------------------------------- session
async def test_welcome_comes_before_hello_and_hello_comes_first(hub) -> None:
    room = await _room(hub.url, label="MR 9")
    w = await Wire.open(hub.url, room["tokens"]["mentor"], name=None)
    try:
        welcome = w.got[0]
        assert welcome["type"] == "welcome"
        assert set(welcome) >= {
            "peer", "room", "role", "label", "modality", "expires", "ice_servers", "control",
            "state_seq", "snapshot", "annotations", "chat", "peers",
        }  # fmt: skip
        assert welcome["ice_servers"] == [] and welcome["snapshot"] is None
        assert [p["name"] for p in welcome["peers"] if p["id"] == welcome["peer"]] == [""]
        start = len(w.got)
        await w.send({"type": "chat", "text": "hi"})
        err = await w.next("error", after=start)
        assert (err["code"], err["ref"]) == ("hello_first", "chat")
    finally:
        await w.close()


# ---------------------------------------------------------------------------- limits
async def test_ws_message_over_16_kib_is_too_large(hub) -> None:
    room = await _room(hub.url)
    (w,) = await _people(hub.url, room, "mentor")
    try:
        err = await w.refused(json.dumps({"type": "chat", "text": "x", "pad": "y" * 16400}))
        assert (err["code"], err["ref"]) == ("too_large", None)
        assert (await w.refused({"type": "chat", "text": "x" * 1001}))["code"] == "bad_field"
    finally:
        await w.close()


async def test_a_frame_over_256_kib_closes_the_socket(hub) -> None:
    room = await _room(hub.url)
    (w,) = await _people(hub.url, room, "mentor")
    try:
        await w.send("x" * (256 * 1024 + 1))
        assert await w.wait_closed() == 1009
    finally:
        await w.close()


async def test_data_channel_messages_up_to_64_kib(hub) -> None:
    from aiortc import RTCPeerConnection, RTCSessionDescription

    room = await _room(hub.url)
    (w,) = await _people(hub.url, room, "mentor")
    pc = RTCPeerConnection()
    got: list[dict] = []
    try:
        dc = pc.createDataChannel("console")
        opened = asyncio.Event()
        dc.on("open", opened.set)
        dc.on("message", lambda data: got.append(json.loads(data)))
        pc.addTransceiver("video", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        await w.send({"type": "offer", "sdp": pc.localDescription.sdp})
        answer = await w.next("answer", timeout=10)
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        await asyncio.wait_for(opened.wait(), 10)
        # 20 KiB passes the data channel's size check (the WebSocket's is 16 KiB) ...
        dc.send(json.dumps({"type": "chat", "text": "x", "pad": "y" * 20000}))
        # ... 64 KiB does not
        dc.send(json.dumps({"type": "chat", "text": "x", "pad": "y" * 65536}))
        await w.next("error", lambda e: e["code"] == "too_large")  # errors come on the WebSocket
        codes = [g["code"] for g in w.got if g["type"] == "error"]
        assert codes == ["bad_field", "too_large"]
    finally:
        await pc.close()
        await w.close()


async def test_rate_limit_and_the_kernels_higher_rate(hub) -> None:
    room = await _room(hub.url)
    kernel, mentor = await _people(hub.url, room, "kernel", "mentor")
    try:
        for i in range(150):
            await mentor.send({"type": "ping", "id": i, "t": 0.0})
            await kernel.send({"type": "ping", "id": i, "t": 0.0})
        err = await mentor.next("error", lambda e: e["code"] == "rate_limited")
        assert err["ref"] == "ping"
        await kernel.next("pong", lambda p: p["id"] == 149)
        assert not [e for e in kernel.got if e["type"] == "error"], (
            "150 is within the kernel's burst"
        )
        await asyncio.sleep(1.0)
        await mentor.send({"type": "chat", "text": "calm"})
        await mentor.next("chat", lambda c: c["text"] == "calm")
    finally:
        await _close(kernel, mentor)


async def test_binary_frames_are_counted_checked_and_refused_with_ref_null(hub) -> None:
    room = await _room(hub.url)
    (w,) = await _people(hub.url, room, "mentor")
    try:
        err = await w.refused(b'{"type": "chat", "text": "hi"}')
        assert (err["code"], err["ref"]) == ("bad_json", None)
        err = await w.refused(b"z" * 17000)
        assert (err["code"], err["ref"]) == ("too_large", None)
        start = len(w.got)
        for _ in range(100):
            await w.send(b"{}")
        await asyncio.sleep(0.5)
        replies = [m for m in w.got[start:] if m["type"] == "error"]
        assert len(replies) < 100, "junk past the rate limit gets no reply"
    finally:
        await w.close()


@pytest.mark.parametrize(
    "msg",
    [
        {"type": "hello", "name": "x" * 41},
        {"type": "hello", "name": ""},
        {"type": "annotate", "shape": "text", "x0": 0.1, "y0": 0.1, "text": ""},
        {"type": "annotate", "shape": "arrow", "x0": 0.1, "y0": 0.1, "text": "t" * 201},
        {"type": "av_offer", "to": "P1", "sdp": "v=0\r\nm=audio 9 x 0\r\n"},
        {"type": "offer", "sdp": "v=0"},
        {"type": "command", "id": 2**31, "command": {"type": "scan"}},
        {"type": "command", "id": -1, "command": {"type": "scan"}},
        {"type": "ping", "id": 2**31, "t": 0},
    ],
    ids=["name-long", "name-empty", "text-empty", "text-long", "peer-id", "sdp-short",
         "id-2^31", "id-negative", "ping-id"],
)  # fmt: skip
async def test_string_and_id_limits_are_bad_field(hub, msg: dict) -> None:
    room = await _room(hub.url)
    (w,) = await _people(hub.url, room, "mentor")
    try:
        err = await w.refused(msg)
        assert (err["code"], err["ref"]) == ("bad_field", msg["type"])
    finally:
        await w.close()


# ---------------------------------------------------------------------------- client → hub
async def test_hello_joins_and_a_kernel_trainee_publishes_the_console(hub) -> None:
    room = await _room(hub.url)
    kernel, mentor = await _people(hub.url, room, "kernel", "mentor")
    try:
        peers = (await mentor.next("peers", lambda p: len(p["peers"]) == 2))["peers"]
        assert {(p["role"], p["client"]) for p in peers} == {
            ("trainee", "kernel"),
            ("mentor", "bot"),
        }
        start = len(mentor.got)
        await mentor.send({"type": "ping", "id": 7, "t": 1.5})
        ping = await kernel.next("ping", lambda p: p["id"] == 7)
        assert ping["from"] == mentor.peer, "the kernel is the console peer"
        await kernel.send({"type": "pong", "id": 7, "t": 1.5, "to": ping["from"]})
        pong = await mentor.next("pong", after=start)
        assert (pong["id"], pong["t"], pong["via"]) == (7, 1.5, "console")
    finally:
        await _close(kernel, mentor)


async def test_offer_gets_an_answer_and_a_non_sdp_offer_bad_sdp(hub) -> None:
    from aiortc import RTCPeerConnection

    room = await _room(hub.url)
    (w,) = await _people(hub.url, room, "mentor")
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("video", direction="recvonly")
        pc.createDataChannel("console")
        await pc.setLocalDescription(await pc.createOffer())
        await w.send({"type": "offer", "sdp": pc.localDescription.sdp})
        answer = await w.next("answer", timeout=10)
        assert answer["sdp"].startswith("v=0")
        err = await w.refused({"type": "offer", "sdp": SDP_NONE})
        assert (err["code"], err["ref"]) == ("bad_sdp", "offer")
        assert len([m for m in w.got if m["type"] == "answer"]) == 1
    finally:
        await pc.close()
        await w.close()


async def test_state_is_stored_and_forwarded_from_the_console_only(hub) -> None:
    room = await _room(hub.url)
    kernel, mentor = await _people(hub.url, room, "kernel", "mentor")
    try:
        await kernel.send({"type": "state", "snapshot": {"tr_ms": 500}})
        state = await mentor.next("state")
        assert (state["seq"], state["snapshot"]) == (1, {"tr_ms": 500})
        assert not [m for m in kernel.got if m["type"] == "state"], "not echoed to its sender"
        err = await mentor.refused({"type": "state", "snapshot": {"tr_ms": 1}})
        assert (err["code"], err["ref"]) == ("forbidden", "state")
        late = await Wire.open(hub.url, room["tokens"]["observer"], name="late")
        assert (late.welcome["state_seq"], late.welcome["snapshot"]) == (1, {"tr_ms": 500})
        await late.close()
    finally:
        await _close(kernel, mentor)


async def test_command_apply_result_round_trip_and_audit(hub) -> None:
    room = await _room(hub.url)
    kernel, trainee, mentor = await _people(hub.url, room, "kernel", "trainee", "mentor")
    try:
        await _grant(trainee, mentor)
        cmd = {"type": "set_param", "name": "te_ms", "value": 90}
        await mentor.send({"type": "command", "id": 41, "command": cmd})
        apply = await kernel.next("apply")
        assert (apply["actor"], apply["role"], apply["command"]) == ("mentor2", "mentor", cmd)
        await kernel.send(
            {
                "type": "result",
                "id": apply["id"],
                "ok": True,
                "message": "",
                "before": 15,
                "after": 90,
            }
        )
        result = await mentor.next("result")
        assert (result["id"], result["ok"], result["before"], result["after"]) == (41, True, 15, 90)
        err = await mentor.refused({"type": "result", "id": 1, "ok": True})
        assert (err["code"], err["ref"]) == ("forbidden", "result")
        _, audit, _ = await http("GET", f"{hub.url}/api/rooms/{room['room']}/audit", bearer=S)
        command = [e for e in audit["events"] if e["action"] == "command"][0]
        assert (command["actor"], command["detail"]["after"]) == ("mentor2", 90)
    finally:
        await _close(kernel, trainee, mentor)


async def test_a_remote_pet_scan_waits_for_confirm(hub) -> None:
    room = await _room(hub.url, modality="pet")
    kernel, trainee, mentor = await _people(hub.url, room, "kernel", "trainee", "mentor")
    try:
        await _grant(trainee, mentor)
        await mentor.send({"type": "command", "id": 5, "command": {"type": "scan"}})
        pending = await mentor.next("pending")
        assert (pending["id"], pending["reason"]) == (5, "trainee_confirmation")
        ask = await trainee.next("confirm_request")
        assert ask["actor"] == "mentor2" and not [m for m in kernel.got if m["type"] == "apply"]
        await trainee.send({"type": "confirm", "id": ask["id"], "accept": True})
        done = await trainee.next("confirm_done")
        assert (done["id"], done["accept"]) == (ask["id"], True)
        await kernel.next("apply", lambda a: a["command"] == {"type": "scan"})
        err = await mentor.refused({"type": "confirm", "id": ask["id"], "accept": True})
        assert (err["code"], err["ref"]) == ("forbidden", "confirm")
        err = await trainee.refused({"type": "confirm", "id": 999, "accept": True})
        assert (err["code"], err["ref"]) == ("bad_field", "confirm")
    finally:
        await _close(kernel, trainee, mentor)


async def test_request_grant_refuse_release_take_back(hub) -> None:
    room = await _room(hub.url)
    trainee, mentor, other = await _people(hub.url, room, "trainee", "mentor", "instructor")
    try:
        await mentor.send({"type": "request_control"})
        ctl = await trainee.next("control", lambda c: c["pending"])
        assert ctl["pending"] == [{"peer": mentor.peer, "name": "mentor1"}]
        start = len(mentor.got)
        await trainee.send({"type": "refuse", "peer": mentor.peer})
        await mentor.next("control", lambda c: not c["pending"], after=start)
        await _grant(trainee, mentor)
        start = len(mentor.got)
        await mentor.send({"type": "release_control"})
        await mentor.next("control", lambda c: c["holder"] is None, after=start)
        start = len(other.got)
        await other.send({"type": "request_control"})
        await _grant(trainee, mentor)  # the instructor's request still pending
        await other.next(
            "control", lambda c: c["pending"] and c["holder"] == mentor.peer, after=start
        )
        start = len(other.got)
        await trainee.send({"type": "take_back"})
        ctl = await other.next("control", lambda c: c["holder"] is None, after=start)
        assert ctl["pending"] == [], "take_back clears the requests"
    finally:
        await _close(trainee, mentor, other)


async def test_chat_is_broadcast_and_audited(hub) -> None:
    room = await _room(hub.url)
    a, b = await _people(hub.url, room, "observer", "mentor")
    try:
        await a.send({"type": "chat", "text": "bonjour"})
        line = await b.next("chat")
        assert {k: line[k] for k in ("from", "name", "role", "text")} == {
            "from": a.peer, "name": "observer0", "role": "observer", "text": "bonjour"
        }  # fmt: skip
        assert line["time"].endswith("Z")
        _, audit, _ = await http("GET", f"{hub.url}/api/rooms/{room['room']}/audit", bearer=S)
        assert [e["detail"] for e in audit["events"] if e["action"] == "chat"] == [
            {"text": "bonjour"}
        ]
    finally:
        await _close(a, b)


async def test_annotate_and_clear_annotations(hub) -> None:
    room = await _room(hub.url)
    kernel, mentor, observer = await _people(hub.url, room, "kernel", "mentor", "observer")
    try:
        await mentor.send(
            {"type": "annotate", "shape": "circle", "x0": 0.5, "y0": 0.5, "x1": 0.6, "y1": 0.5}
        )
        items = (await kernel.next("annotations", lambda a: a["items"]))["items"]
        assert (items[0]["shape"], items[0]["by"], items[0]["role"]) == (
            "circle",
            "mentor1",
            "mentor",
        )
        for i in range(55):
            await mentor.send(
                {"type": "annotate", "shape": "arrow", "x0": 0.1, "y0": 0.1 + i / 100}
            )
            await asyncio.sleep(0.03)  # within the mentor's rate
        kept = await observer.next(
            "annotations", lambda a: a["items"][-1]["y0"] == pytest.approx(0.64)
        )
        assert len(kept["items"]) == 50
        await mentor.send({"type": "clear_annotations"})
        await observer.next("annotations", lambda a: a["items"] == [])
        for msg in (
            {"type": "annotate", "shape": "arrow", "x0": 0, "y0": 0},
            {"type": "clear_annotations"},
        ):
            err = await observer.refused(msg)
            assert (err["code"], err["ref"]) == ("forbidden", msg["type"])
    finally:
        await _close(kernel, mentor, observer)


async def test_ping_is_answered_by_the_hub_without_a_console(hub) -> None:
    room = await _room(hub.url)
    (w,) = await _people(hub.url, room, "mentor")
    try:
        await w.send({"type": "ping", "id": 3, "t": 2.5})
        pong = await w.next("pong")
        assert (pong["id"], pong["t"], pong["via"]) == (3, 2.5, "hub")
    finally:
        await w.close()


async def test_pong_from_anyone_but_the_console_is_forbidden(hub) -> None:
    room = await _room(hub.url)
    kernel, mentor = await _people(hub.url, room, "kernel", "mentor")
    try:
        err = await mentor.refused({"type": "pong", "id": 1, "t": 0, "to": kernel.peer})
        assert (err["code"], err["ref"]) == ("forbidden", "pong")
        err = await kernel.refused({"type": "pong", "id": 1, "t": 0, "to": "p99"})
        assert (err["code"], err["ref"]) == ("bad_field", "pong")
    finally:
        await _close(kernel, mentor)


async def test_av_ready_and_the_av_signalling_relay(hub) -> None:
    room = await _room(hub.url)
    a, b = await _people(hub.url, room, "trainee", "mentor")
    sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    try:
        await a.send({"type": "av_ready", "on": True})
        await b.next("peers", lambda p: any(x["id"] == a.peer and x["av"] for x in p["peers"]))
        for kind in ("av_offer", "av_answer"):
            await b.send({"type": kind, "to": a.peer, "sdp": sdp})
            got = await a.next(kind)
            assert (got["from"], got["name"], got["sdp"]) == (b.peer, "mentor1", sdp)
        await b.send({"type": "av_hangup", "to": a.peer})
        assert (await a.next("av_hangup"))["from"] == b.peer
        err = await b.refused({"type": "av_hangup", "to": "p99"})
        assert (err["code"], err["ref"]) == ("bad_field", "av_hangup")
        err = await b.refused({"type": "av_offer", "to": a.peer, "sdp": SDP_NONE})
        assert (err["code"], err["ref"]) == ("bad_sdp", "av_offer")
    finally:
        await _close(a, b)


async def test_consent_is_audited(hub) -> None:
    room = await _room(hub.url)
    a, b = await _people(hub.url, room, "trainee", "mentor")
    try:
        await a.send({"type": "consent", "recording": False})
        await a.next("audit", lambda e: e["event"]["action"] == "consent")
        await b.send({"type": "consent", "recording": True})
        event = await a.next(
            "audit",
            lambda e: e["event"]["actor"] == "mentor1" and e["event"]["action"] == "consent",
        )
        assert event["event"]["detail"] == {"recording": True}
        assert not [
            e for e in a.got if e["type"] == "audit" and e["event"]["action"] == "recording_start"
        ]
    finally:
        await _close(a, b)


# ---------------------------------------------------------------------------- hub → client
async def test_each_peer_gets_each_control_once(hub) -> None:
    room = await _room(hub.url)
    kernel, trainee, mentor = await _people(hub.url, room, "kernel", "trainee", "mentor")
    try:
        marks = [len(w.got) for w in (kernel, trainee, mentor)]
        await mentor.send({"type": "request_control"})
        await asyncio.sleep(0.5)
        for w, mark in zip((kernel, trainee, mentor), marks, strict=True):
            assert len([m for m in w.got[mark:] if m["type"] == "control"]) == 1
    finally:
        await _close(kernel, trainee, mentor)


async def test_audit_events_go_to_the_trainee_and_instructor_only(hub) -> None:
    room = await _room(hub.url)
    trainee, instructor, mentor, observer = await _people(
        hub.url, room, "trainee", "instructor", "mentor", "observer"
    )
    try:
        await mentor.send({"type": "chat", "text": "hi"})
        await observer.next("chat")
        await trainee.next(
            "audit", lambda e: e["event"]["action"] == "join" and e["event"]["actor"] == "observer3"
        )
        await instructor.next(
            "audit", lambda e: e["event"]["action"] == "join" and e["event"]["actor"] == "observer3"
        )
        assert not [m for m in mentor.got + observer.got if m["type"] == "audit"]
    finally:
        await _close(trainee, instructor, mentor, observer)


# ---------------------------------------------------------------------------- error codes
@pytest.mark.parametrize(
    "raw",
    ["{", "[1, 2]", '"x"', '{"no_type": 1}', '{"type": 3}'],
)
async def test_code_bad_json(hub, raw: str) -> None:
    room = await _room(hub.url)
    (w,) = await _people(hub.url, room, "mentor")
    try:
        err = await w.refused(raw)
        assert (err["code"], err["ref"]) == ("bad_json", None)
    finally:
        await w.close()


async def test_code_unknown_type(hub) -> None:
    room = await _room(hub.url)
    (w,) = await _people(hub.url, room, "mentor")
    try:
        err = await w.refused({"type": "launch"})
        assert (err["code"], err["ref"]) == ("unknown_type", None)
    finally:
        await w.close()


@pytest.mark.parametrize(
    "msg",
    [
        {"type": "chat"},
        {"type": "chat", "text": 3},
        {"type": "chat", "text": "hi", "admin": True},
        {"type": "command", "id": 1, "command": {"type": "rm"}},
        {"type": "command", "id": 1, "command": {"type": "set_slice", "index": 10000}},
        {"type": "ping", "id": 1, "t": "now"},
    ],
)
async def test_code_bad_field_carries_the_known_type_as_ref(hub, msg: dict) -> None:
    room = await _room(hub.url)
    (w,) = await _people(hub.url, room, "mentor")
    try:
        err = await w.refused(msg)
        assert (err["code"], err["ref"]) == ("bad_field", msg["type"])
    finally:
        await w.close()


async def test_code_token_closes_with_4001(hub) -> None:
    room = await _room(hub.url)
    short = token(SECRET, room["room"], "mentor", exp=int(time.time()) + 2)
    w = await Wire.open(hub.url, short, name="brief")
    try:
        await asyncio.sleep(max(0.0, int(time.time()) + 2 - time.time()) + 1.1)
        await w.send({"type": "chat", "text": "late"})
        err = await w.next("error")
        assert err["code"] == "token"
        assert await w.wait_closed() == 4001
    finally:
        await w.close()


@pytest.mark.parametrize("role", ["observer", "trainee"])
async def test_code_forbidden_for_a_command_from_a_role_that_never_commands(hub, role: str) -> None:
    room = await _room(hub.url)
    kernel, w = await _people(hub.url, room, "kernel", role)
    try:
        err = await w.refused({"type": "command", "id": 1, "command": {"type": "scan"}})
        assert (err["code"], err["ref"]) == ("forbidden", "command")
        err = await w.refused({"type": "request_control"})
        assert (err["code"], err["ref"]) == ("forbidden", "request_control")
        _, audit, _ = await http("GET", f"{hub.url}/api/rooms/{room['room']}/audit", bearer=S)
        refused = [e for e in audit["events"] if e["action"] == "command_refused"]
        assert refused[0]["detail"]["reason"] == "forbidden"
    finally:
        await _close(kernel, w)


@pytest.mark.parametrize("msg", [{"type": "grant", "peer": "p1"}, {"type": "take_back"}])
async def test_code_forbidden_for_trainee_only_actions(hub, msg: dict) -> None:
    room = await _room(hub.url)
    (w,) = await _people(hub.url, room, "mentor")
    try:
        err = await w.refused(msg)
        assert (err["code"], err["ref"]) == ("forbidden", msg["type"])
    finally:
        await w.close()


async def test_code_no_control(hub) -> None:
    room = await _room(hub.url)
    kernel, mentor = await _people(hub.url, room, "kernel", "mentor")
    try:
        err = await mentor.refused({"type": "command", "id": 1, "command": {"type": "scan"}})
        assert (err["code"], err["ref"]) == ("no_control", "command")
        assert not [m for m in kernel.got if m["type"] == "apply"]
    finally:
        await _close(kernel, mentor)


async def test_code_no_console(hub) -> None:
    room = await _room(hub.url)
    trainee, mentor = await _people(hub.url, room, "trainee", "mentor")
    try:
        await _grant(trainee, mentor)
        err = await mentor.refused({"type": "command", "id": 1, "command": {"type": "scan"}})
        assert (err["code"], err["ref"]) == ("no_console", "command")
    finally:
        await _close(trainee, mentor)


async def test_code_busy(hub) -> None:
    room = await _room(hub.url)
    trainee, mentor, other = await _people(hub.url, room, "trainee", "mentor", "instructor")
    try:
        await _grant(trainee, mentor)
        err = await other.refused({"type": "request_control"})
        assert (err["code"], err["ref"]) == ("busy", "request_control")
    finally:
        await _close(trainee, mentor, other)


async def test_code_already(hub) -> None:
    room = await _room(hub.url)
    trainee, mentor = await _people(hub.url, room, "trainee", "mentor")
    try:
        await mentor.send({"type": "request_control"})
        await trainee.next("control", lambda c: c["pending"])
        err = await mentor.refused({"type": "request_control"})
        assert (err["code"], err["ref"]) == ("already", "request_control")
        await trainee.send({"type": "grant", "peer": mentor.peer})
        await mentor.next("control", lambda c: c["holder"] == mentor.peer)
        err = await mentor.refused({"type": "request_control"})
        assert (err["code"], err["ref"]) == ("already", "request_control")
    finally:
        await _close(trainee, mentor)


async def test_code_not_holder(hub) -> None:
    room = await _room(hub.url)
    (w,) = await _people(hub.url, room, "mentor")
    try:
        err = await w.refused({"type": "release_control"})
        assert (err["code"], err["ref"]) == ("not_holder", "release_control")
    finally:
        await w.close()


@pytest.mark.parametrize("kind", ["grant", "refuse"])
async def test_code_no_request(hub, kind: str) -> None:
    room = await _room(hub.url)
    trainee, mentor = await _people(hub.url, room, "trainee", "mentor")
    try:
        for peer in (mentor.peer, "p99"):
            err = await trainee.refused({"type": kind, "peer": peer})
            assert (err["code"], err["ref"]) == ("no_request", kind)
    finally:
        await _close(trainee, mentor)


async def test_code_busy_elsewhere_is_the_same_hello_name(hub) -> None:
    one, two = await _room(hub.url), await _room(hub.url)
    t1 = await Wire.open(hub.url, one["tokens"]["trainee"], name="T1")
    t2 = await Wire.open(hub.url, two["tokens"]["trainee"], name="T2")
    m1 = await Wire.open(hub.url, one["tokens"]["mentor"], name="Dr Same")
    m2 = await Wire.open(hub.url, two["tokens"]["mentor"], name="Dr Same")
    m3 = await Wire.open(hub.url, two["tokens"]["instructor"], name="Dr Other")
    try:
        await _grant(t1, m1)
        err = await m2.refused({"type": "request_control"})
        assert (err["code"], err["ref"]) == ("busy_elsewhere", "request_control")
        await _grant(t2, m3)  # another name: not the same mentor
    finally:
        await _close(t1, t2, m1, m2, m3)


# ---------------------------------------------------------------------------- audit log
async def test_the_audit_file_is_a_chain_that_verifies(hub) -> None:
    room = await _room(hub.url)
    a, b = await _people(hub.url, room, "trainee", "mentor")
    await b.send({"type": "chat", "text": "é — ünïcode"})
    await a.next("chat")
    await _close(a, b)
    await asyncio.sleep(0.2)
    out = subprocess.run(
        [sys.executable, "-m", "simulator", "hub", "--verify-audit", str(hub.config.audit_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    _, body, _ = await http("GET", f"{hub.url}/api/rooms/{room['room']}/audit", bearer=S)
    assert body["head"]["hash"] in out.stdout
    lines = hub.config.audit_path.read_text(encoding="utf-8").splitlines()
    assert any("é — ünïcode" in x for x in lines), "UTF-8, unescaped"


async def test_in_a_user_key_room_the_trainee_is_the_account_whatever_hello_says(hub) -> None:
    status, room, _ = await http("POST", hub.url + "/api/rooms", bearer=user_key(SECRET, "alice"))
    assert status == 200
    w = await Wire.open(hub.url, room["tokens"]["trainee"], name=None)
    try:
        await w.send({"type": "hello", "name": "bob", "client": "browser"})
        peers = await w.next("peers")
        assert [p["name"] for p in peers["peers"]] == ["alice"]
        await w.send({"type": "chat", "text": "hi"})
        assert (await w.next("chat"))["name"] == "alice"
    finally:
        await w.close()
    _, audit, _ = await http("GET", f"{hub.url}/api/rooms/{room['room']}/audit", bearer=S)
    assert {e["actor"] for e in audit["events"]} == {"alice"}
