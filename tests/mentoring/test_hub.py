"""The hub over real HTTP/WebSocket: who may connect, bad messages, limits, audit export."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time

import aiohttp
import pytest
from mentoring_fakes import SECRET, FakeConsole

from simulator.mentoring.client import HubClient, create_room
from simulator.mentoring.tokens import sign_token
from simulator.mentoring.trainee import TraineeLink


async def test_the_hub_holds_its_parts_and_none_inherits_another(hub) -> None:
    # Composition, as aiortc's RTCPeerConnection holds its transports: every part shares the
    # hub's one state, and neither the hub nor a part is built from another by inheritance.
    from simulator.mentoring.server import Hub

    h = hub.hub
    assert isinstance(h, Hub) and Hub.__mro__ == (Hub, object)
    parts = (h.http, h.recording, h.commands, h.media, h.dispatch)
    assert all(part.state is h.state for part in parts)
    assert all(type(part).__mro__ == (type(part), object) for part in (h.state, *parts))
    assert h.rooms is h.state.rooms and h.audit is h.state.audit


async def test_room_creation_needs_the_secret(hub) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(hub.url + "/api/rooms", json={"label": "x"}) as resp:
            assert resp.status == 401
        bad = {"Authorization": "Bearer wrong"}
        async with http.post(hub.url + "/api/rooms", json={}, headers=bad) as resp:
            assert resp.status == 401
    room = await create_room(hub.url, SECRET, "MR 1", "mr")
    assert set(room["links"]) >= {"mentor", "observer"}
    assert room["links"]["mentor"].startswith(hub.url + "/mentor#t=")
    assert room["expires"] > time.time()


async def test_unauthorised_expired_and_unknown_room_tokens_are_refused(hub) -> None:
    room = await create_room(hub.url, SECRET, "MR 1", "mr")
    forged = sign_token(b"not-the-hub-secret" * 2, room["room"], "mentor", exp=time.time() + 60)
    expired = sign_token(SECRET, room["room"], "mentor", exp=time.time() - 1)
    unknown = sign_token(SECRET, "nosuchroom", "mentor", exp=time.time() + 60)
    for token in ("", "garbage", forged, expired, unknown):
        with pytest.raises(ConnectionError):
            await HubClient(hub.url, token, "intruder").connect()


async def test_token_expiring_during_the_session_ends_it(hub) -> None:
    room = await create_room(hub.url, SECRET, "MR 1", "mr")
    token = sign_token(SECRET, room["room"], "mentor", exp=int(time.time()) + 2)
    async with HubClient(hub.url, token, "late") as client:
        await asyncio.sleep(max(0.0, int(time.time()) + 2 - time.time()) + 1.05)
        await client.send({"type": "chat", "text": "still there?"})
        err = await client.wait_for("error")
        assert err["code"] == "token"
        await client.wait_for("_closed")


async def test_roles_are_enforced_by_the_hub(hub) -> None:
    room = await create_room(hub.url, SECRET, "MR 1", "mr")
    link = TraineeLink(FakeConsole(), hub.url, room["tokens"]["trainee"], size=(160, 120))
    await link.start()
    observer = HubClient(hub.url, room["tokens"]["observer"], "Obs")
    mentor = HubClient(hub.url, room["tokens"]["mentor"], "Dr M")
    try:
        for c in (observer, mentor):
            await c.connect()
        await observer.send({"type": "request_control"})
        await observer.send({"type": "annotate", "shape": "circle", "x0": 0.5, "y0": 0.5})
        await mentor.send({"type": "take_back"})
        await mentor.send({"type": "grant", "peer": mentor.peer_id})
        await mentor.send({"type": "state", "snapshot": {"protocol": {"tr_ms": 1}}})
        await mentor.send({"type": "confirm", "id": 1, "accept": True})
        for client, refs in (
            (observer, {"request_control", "annotate"}),
            (mentor, {"take_back", "grant", "state", "confirm"}),
        ):
            await client.send({"type": "chat", "text": "after refusals"})
            await client.wait_for("chat", lambda c: c["text"] == "after refusals")
            errors = {e["ref"]: e["code"] for e in client.received if e["type"] == "error"}
            assert errors == dict.fromkeys(refs, "forbidden")
        assert mentor.welcome["snapshot"]["protocol"]["tr_ms"] == 500.0
        # the session goes on after refusals
        await observer.send({"type": "chat", "text": "ok"})
        await mentor.wait_for("chat", lambda c: c["text"] == "ok")
    finally:
        for c in (observer, mentor):
            await c.close()
        await link.close()


async def test_malformed_and_oversized_messages_do_not_drop_the_session(hub) -> None:
    room = await create_room(hub.url, SECRET, "MR 1", "mr")
    async with HubClient(hub.url, room["tokens"]["mentor"], "Dr M") as client:
        bad = [
            "{",
            '{"type": "nope"}',
            '{"type": "chat", "text": ""}',
            json.dumps({"type": "chat", "text": "x" * 900, "pad": "y" * 17000}),
        ]
        for raw in bad:
            await client.send(raw)
        await client.send({"type": "chat", "text": "still here"})
        assert (await client.wait_for("chat"))["text"] == "still here"
        codes = [msg["code"] for msg in client.received if msg["type"] == "error"]
        assert codes == ["bad_json", "unknown_type", "bad_field", "too_large"]


async def test_peer_cap(hub) -> None:
    room = await create_room(hub.url, SECRET, "MR 1", "mr")
    clients = [
        HubClient(hub.url, room["tokens"]["observer"], f"o{i}") for i in range(hub.config.max_peers)
    ]
    try:
        for c in clients:
            await c.connect()
        with pytest.raises(ConnectionError):
            await HubClient(hub.url, room["tokens"]["observer"], "one too many").connect()
        await clients[0].close()
        await asyncio.sleep(0.1)
        async with HubClient(hub.url, room["tokens"]["observer"], "now fits"):
            pass
    finally:
        for c in clients:
            await c.close()


async def test_origin_allow_list(hub) -> None:
    room = await create_room(hub.url, SECRET, "MR 1", "mr")
    with pytest.raises(ConnectionError):
        await HubClient(
            hub.url, room["tokens"]["mentor"], "x", headers={"Origin": "http://evil.example"}
        ).connect()
    async with HubClient(hub.url, room["tokens"]["mentor"], "x", headers={"Origin": hub.url}) as ok:
        assert ok.welcome["role"] == "mentor"


async def test_flooding_is_rate_limited_without_disconnecting(hub) -> None:
    room = await create_room(hub.url, SECRET, "MR 1", "mr")
    async with HubClient(hub.url, room["tokens"]["mentor"], "Dr M") as client:
        for i in range(150):
            await client.send({"type": "ping", "id": i, "t": 0.0})
        await client.wait_for("error", lambda e: e["code"] == "rate_limited")
        await asyncio.sleep(0.5)
        await client.send({"type": "chat", "text": "calm again"})
        await client.wait_for("chat")


async def test_audit_log_records_the_session_in_order(hub) -> None:
    room = await create_room(hub.url, SECRET, "MR 1", "mr")
    console = FakeConsole()
    link = TraineeLink(console, hub.url, room["tokens"]["trainee"], name="Alice", size=(160, 120))
    await link.start()
    mentor = HubClient(hub.url, room["tokens"]["mentor"], "Dr M")
    await mentor.connect()
    await mentor.start_media()
    try:
        for answer in (link.refuse, link.grant):
            start = len(link.client.received)
            await mentor.send({"type": "request_control"})
            await link.client.wait_for("control", lambda c: c["pending"], start=start)
            await answer(mentor.peer_id)
        await mentor.wait_for("control", lambda c: c["holder"] == mentor.peer_id)
        await mentor.send_console(
            {
                "type": "command",
                "id": 1,
                "command": {"type": "set_param", "name": "te_ms", "value": 90},
            }
        )
        await mentor.wait_for("result")
        await mentor.send(
            {"type": "annotate", "shape": "arrow", "x0": 0.1, "y0": 0.1, "x1": 0.5, "y1": 0.5}
        )
        await mentor.send({"type": "chat", "text": "longer TE for T2"})
        await mentor.send({"type": "consent", "recording": True})
        await mentor.wait_for("chat")
        await mentor.send({"type": "release_control"})
        await mentor.wait_for("control", lambda c: c["holder"] is None)
        await link.take_back()
        await mentor.close()
        await asyncio.sleep(0.2)
        async with aiohttp.ClientSession() as http:
            url = f"{hub.url}/api/rooms/{room['room']}/audit"
            async with http.get(url, params={"token": room["tokens"]["observer"]}) as resp:
                assert resp.status == 401, "observers do not read the audit"
            other = await create_room(hub.url, SECRET, "MR 2", "mr")
            async with http.get(url, params={"token": other["tokens"]["trainee"]}) as resp:
                assert resp.status == 401, "a token of another room"
            async with http.get(url, params={"token": room["tokens"]["mentor"]}) as resp:
                events = (await resp.json())["events"]
            async with http.get(
                url, params={"token": room["tokens"]["trainee"], "format": "csv"}
            ) as resp:
                rows = list(csv.DictReader(io.StringIO(await resp.text())))
        actions = [(e["action"], e["actor"]) for e in events]
        assert actions == [
            ("create", "trainee"),
            ("join", "Alice"),
            ("join", "Dr M"),
            ("request", "Dr M"),
            ("refuse", "Alice"),
            ("request", "Dr M"),
            ("grant", "Alice"),
            ("command", "Dr M"),
            ("annotate", "Dr M"),
            ("chat", "Dr M"),
            ("consent", "Dr M"),
            ("release", "Dr M"),
            ("take_back", "Alice"),
            ("leave", "Dr M"),
        ]
        command = events[7]
        assert command["role"] == "mentor" and (
            command["detail"]["before"],
            command["detail"]["after"],
        ) == (15.0, 90.0)
        assert [int(r["seq"]) for r in rows] == [e["seq"] for e in events]
        seqs = [e["seq"] for e in events]
        assert seqs == sorted(seqs) and [e["time"] for e in events] == sorted(
            e["time"] for e in events
        )
        on_disk = [json.loads(x) for x in hub.config.audit_path.read_text().splitlines()]
        assert [e["seq"] for e in on_disk if e["room"] == room["room"]] == seqs
    finally:
        await link.close()


async def _post_room(url: str, credential: str, name: str = "someone else") -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            url + "/api/rooms",
            json={"label": "MR", "modality": "mr", "name": name},
            headers={"Authorization": "Bearer " + credential},
        ) as resp:
            return resp.status, await resp.json()


async def _audit(url: str, room: dict) -> list[dict]:
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{url}/api/rooms/{room['room']}/audit", params={"token": room["tokens"]["trainee"]}
        ) as resp:
            return (await resp.json())["events"]


async def test_a_user_key_opens_rooms_for_its_account_only(hub) -> None:
    from simulator.mentoring.tokens import user_key

    alice = user_key(SECRET, "alice")
    status, room = await _post_room(hub.url, alice, name="the professor")
    assert status == 200 and set(room["tokens"]) >= {"trainee", "mentor"}
    create = (await _audit(hub.url, room))[0]
    # the audit names the account the key was made for, whatever name the body claims
    assert (create["action"], create["actor"]) == ("create", "alice")
    assert create["detail"]["by"] == "user key"
    async with HubClient(hub.url, room["tokens"]["mentor"], "Dr M") as mentor:
        await mentor.send({"type": "chat", "text": "bonjour"})
    _, b64, mac = alice.split(".")
    for forged in (user_key(b"another-hub-secret!!", "alice"), f"merm-user.Ym9i.{mac}"):
        assert (await _post_room(hub.url, forged))[0] == 401
    # a user key is not the hub secret: it reads no audit log
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{hub.url}/api/rooms/{room['room']}/audit",
            headers={"Authorization": "Bearer " + alice},
        ) as resp:
            assert resp.status == 401


async def test_a_user_key_holds_a_few_rooms_and_recalling_closes_the_idle_ones(hub) -> None:
    from simulator.mentoring.tokens import user_key

    cap = hub.config.max_rooms_per_user
    bob = user_key(SECRET, "bob")
    rooms = [(await _post_room(hub.url, bob))[1] for _ in range(cap)]
    # one more while they are all idle (calls hung up): the oldest closes, audited
    status, newest = await _post_room(hub.url, bob)
    assert status == 200
    with pytest.raises(ConnectionError):
        await HubClient(hub.url, rooms[0]["tokens"]["mentor"], "late").connect()
    kept = rooms[1:] + [newest]
    closes = [e for e in hub.hub.audit.events(rooms[0]["room"]) if e.action == "close"]
    assert [(e.actor, e.detail["why"]) for e in closes] == [("bob", "a newer room")]
    # while someone is in every one of them, the account gets a clear refusal
    clients = [HubClient(hub.url, r["tokens"]["mentor"], f"m{i}") for i, r in enumerate(kept)]
    try:
        for c in clients:
            await c.connect()
        status, body = await _post_room(hub.url, bob)
        assert status == 429 and f"{cap} rooms in use" in body["error"]
        # other accounts and the staff are not held back by bob's rooms
        assert (await _post_room(hub.url, user_key(SECRET, "carol")))[0] == 200
        assert (await _post_room(hub.url, SECRET.decode()))[0] == 200
    finally:
        for c in clients:
            await c.close()


async def test_the_staff_list_open_rooms_with_one_link_to_watch_them_all(hub) -> None:
    from simulator.mentoring.tokens import user_key

    async def listing(credential: str) -> tuple[int, dict]:
        async with aiohttp.ClientSession() as http:
            async with http.get(
                hub.url + "/api/rooms", headers={"Authorization": "Bearer " + credential}
            ) as resp:
                return resp.status, await resp.json()

    status, empty = await listing(SECRET.decode())
    assert status == 200 and empty == {"rooms": [], "class_link": None}
    alice = user_key(SECRET, "alice")
    _, mr = await _post_room(hub.url, alice)
    pet = await create_room(hub.url, SECRET, "PET 2", "pet")
    assert (await listing(alice))[0] == 401, "a trainee's key does not list the class"
    status, body = await listing(SECRET.decode())
    assert status == 200
    assert [(r["room"], r["owner"], r["modality"]) for r in body["rooms"]] == [
        (mr["room"], "alice", "mr"),
        (pet["room"], None, "pet"),
    ]
    # the class link carries one instructor token per room, and each one joins its room
    fragment = body["class_link"].split("#", 1)[1]
    tokens = [part[2:] for part in fragment.split("&")]
    assert body["class_link"].startswith(hub.url + "/mentor#") and len(tokens) == 2
    for token, room in zip(tokens, (mr, pet), strict=True):
        async with HubClient(hub.url, token, "Prof") as staff:
            assert staff.welcome["room"] == room["room"]
            assert staff.welcome["role"] == "instructor"


async def _post_body(url: str, body: object) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            url + "/api/rooms",
            data=json.dumps(body),
            headers={"Authorization": "Bearer " + SECRET.decode()},
        ) as resp:
            return resp.status, await resp.json()


@pytest.mark.parametrize(
    "body,field",
    [
        ([1, 2], None),
        ("x", None),
        ({"label": "L" * 61}, "label"),
        ({"name": "N" * 41}, "name"),
        ({"label": 5}, "label"),
        ({"name": ["x"]}, "name"),
        ({"ttl_s": "3600"}, "ttl_s"),
        ({"modality": "ct"}, "modality"),
        ({"label": "ok", "owner": "root"}, "owner"),
    ],
)
async def test_a_bad_room_request_is_a_400_naming_the_field(hub, body, field) -> None:
    status, answer = await _post_body(hub.url, body)
    assert status == 400
    assert answer["field"] == field
    assert answer["code"] == ("bad_json" if field is None else "bad_field")
    assert not hub.hub.rooms, "nothing was opened"


async def test_the_longest_allowed_label_and_name_are_kept_whole(hub) -> None:
    status, room = await _post_body(hub.url, {"label": "L" * 60, "name": "N" * 40})
    assert status == 200 and room["label"] == "L" * 60
    assert (await _audit(hub.url, room))[0]["actor"] == "N" * 40


async def test_a_non_sdp_offer_is_bad_sdp(hub) -> None:
    room = await create_room(hub.url, SECRET, "MR 1", "mr")
    async with HubClient(hub.url, room["tokens"]["mentor"], "Dr M") as client:
        await client.send({"type": "offer", "sdp": "this is not a session description"})
        err = await client.wait_for("error")
        assert (err["code"], err["ref"]) == ("bad_sdp", "offer")
        assert not [m for m in client.received if m["type"] == "answer"]


async def test_binary_frames_are_size_checked_rate_limited_and_refused_with_a_ref(hub) -> None:
    room = await create_room(hub.url, SECRET, "MR 1", "mr")
    async with HubClient(hub.url, room["tokens"]["mentor"], "Dr M") as client:
        assert client._ws is not None
        await client._ws.send_bytes(b'{"type": "chat", "text": "hi"}')
        await client._ws.send_bytes(b"x" * 20000)
        first = await client.wait_for("error")
        big = await client.wait_for("error", lambda e: e is not first)
        assert ("ref" in first and first["ref"] is None) and first["code"] == "bad_json"
        assert big["code"] == "too_large" and big["ref"] is None
        for _ in range(120):
            await client._ws.send_bytes(b"{}")
        await client.send({"type": "chat", "text": "after the flood"})
        await asyncio.sleep(0.3)
        codes = [e["code"] for e in client.received if e["type"] == "error"]
        assert len(codes) < 2 + 120, "a flood of binary junk is not answered frame by frame"
        await asyncio.sleep(1.0)
        await client.send({"type": "chat", "text": "calm again"})
        await client.wait_for("chat", lambda c: c["text"] == "calm again")


async def test_after_a_restart_the_audit_exports_and_numbering_goes_on(hub) -> None:
    room = await create_room(hub.url, SECRET, "MR 1", "mr")
    async with HubClient(hub.url, room["tokens"]["mentor"], "Dr M") as client:
        await client.send({"type": "chat", "text": "before the restart"})
        await client.wait_for("chat")
    await asyncio.sleep(0.1)
    before = await _audit(hub.url, room)
    await hub.restart()
    assert await _audit(hub.url, room) == before, "the export reads what is on disk"
    other = await create_room(hub.url, SECRET, "MR 2", "mr")
    seqs = [json.loads(x)["seq"] for x in hub.config.audit_path.read_text().splitlines()]
    assert seqs == list(range(1, len(seqs) + 1)), "no sequence number twice"
    assert (await _audit(hub.url, other))[0]["seq"] == before[-1]["seq"] + 1


async def test_every_route_lives_under_the_service_prefix(tmp_path) -> None:
    """Under $JUPYTERHUB_SERVICE_PREFIX every route, page, script, WebSocket and API URL is
    below the prefix; the pages refer to them relatively; nothing is served at the root."""
    from simulator.mentoring.server import HubConfig
    from tests.conftest import free_port
    from tests.mentoring.conftest import start_hub

    port = free_port()
    site = f"http://127.0.0.1:{port}"
    config = HubConfig(secret=SECRET, public_url=site, prefix="services/merm-hub")
    assert config.prefix == "/services/merm-hub/"
    base = site + "/services/merm-hub"
    runner, _ = await start_hub(config, port)
    try:
        room = await create_room(base, SECRET, "MR 1", "mr")
        assert room["links"]["mentor"].startswith(base + "/mentor#t=")
        async with aiohttp.ClientSession() as http:
            for path in ("/", "/mentor", "/call", "/static/merm.js", "/api/rooms", "/ws"):
                async with http.get(site + path) as resp:
                    assert resp.status == 404, path
            async with http.get(base, allow_redirects=False) as resp:
                assert resp.status == 308 and resp.headers["Location"] == "/services/merm-hub/"
            async with http.get(base + "/") as resp:
                assert (await resp.json())["rooms"] == 1
            for page in ("mentor", "call"):
                async with http.get(f"{base}/{page}") as resp:
                    text = await resp.text()
                assert 'src="static/merm.js"' in text
                for absolute in ('"/static', "`/api", '"/api', '"/ws', "`/ws"):
                    assert absolute not in text, (page, absolute)
            async with http.get(base + "/static/merm.js") as resp:
                js = await resp.text()
            assert "location.host" not in js and "hubUrl(`ws?token=" in js
            async with http.get(
                f"{base}/api/rooms/{room['room']}/audit", params={"token": room["tokens"]["mentor"]}
            ) as resp:
                assert resp.status == 200
        async with HubClient(base + "/", room["tokens"]["mentor"], "Dr M") as client:
            assert client.welcome["room"] == room["room"]
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("bad", ["/a/../b", "/a b/", "/x?y"])
def test_a_prefix_a_url_cannot_carry_is_refused_in_one_line(bad: str) -> None:
    from simulator.errors import UserError
    from simulator.mentoring.server import HubConfig

    with pytest.raises(UserError, match="prefix"):
        HubConfig(secret=SECRET, prefix=bad)


async def test_a_restarted_hub_serves_its_rooms_with_control_back_to_the_trainee(
    tmp_path,
) -> None:
    """Rooms, expiry and control state live in the store (SQLite through SQLAlchemy): the
    same tokens join after a restart, the last console state is there, control is the
    trainee's again, and the audit says so."""
    from simulator.mentoring.server import HubConfig
    from tests.conftest import free_port
    from tests.mentoring.conftest import start_hub

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = HubConfig(
        secret=SECRET,
        public_url=url,
        audit_path=tmp_path / "audit.jsonl",
        store_url=f"sqlite:///{tmp_path / 'rooms.sqlite'}",
    )
    runner, _ = await start_hub(config, port)
    room = await create_room(url, SECRET, "MR 1", "mr", name="Alice")
    trainee = HubClient(url, room["tokens"]["trainee"], "Alice", client="kernel")
    mentor = HubClient(url, room["tokens"]["mentor"], "Dr M")
    await trainee.connect()
    await mentor.connect()
    await trainee.send({"type": "state", "snapshot": {"protocol": {"tr_ms": 750}}})
    await mentor.wait_for("state")
    await mentor.send({"type": "request_control"})
    await trainee.wait_for("control", lambda c: c["pending"])
    await trainee.send({"type": "grant", "peer": mentor.peer_id})
    await mentor.wait_for("control", lambda c: c["holder"] == mentor.peer_id)
    await mentor.send({"type": "chat", "text": "before"})
    await mentor.wait_for("chat")
    await asyncio.sleep(0.7)  # the store's half-second write of state and chat
    old_ids = {trainee.peer_id, mentor.peer_id}
    await runner.cleanup()  # the hub stops (its clients see the socket close)
    await trainee.close()
    await mentor.close()
    runner, app = await start_hub(config, port)
    try:
        async with HubClient(url, room["tokens"]["mentor"], "Dr M") as again:
            w = again.welcome
            assert (w["room"], w["label"]) == (room["room"], "MR 1")
            assert w["snapshot"] == {"protocol": {"tr_ms": 750}}
            assert w["control"]["holder"] is None, "control is back with the trainee"
            assert [c["text"] for c in w["chat"]] == ["before"]
            assert again.peer_id not in old_ids, "peer ids are not reused"
        events = await _audit(url, room)
        restore = [e for e in events if e["action"] == "restore"]
        # a hub that stops cleanly hands control back first; one killed says so on restart
        release = [e for e in events if e["action"] == "release"]
        assert [(e["actor"], e["detail"]["reason"]) for e in release] == [("Dr M", "hub stopped")]
        assert len(restore) == 1 and restore[0]["detail"]["previous_holder"] is None
        assert restore[0]["detail"]["control"] == "trainee"
        listing = await (await _staff_list(url)).json()
        assert [r["room"] for r in listing["rooms"]] == [room["room"]]
    finally:
        await runner.cleanup()


async def _staff_list(url: str):  # noqa: ANN202
    http = aiohttp.ClientSession()
    resp = await http.get(
        url + "/api/rooms", headers={"Authorization": "Bearer " + SECRET.decode()}
    )
    await resp.read()
    await http.close()
    return resp


def test_a_room_store_that_cannot_open_is_one_line(tmp_path) -> None:
    from simulator.errors import UserError
    from simulator.mentoring.room_store import RoomStore

    for url in ("nosuchdb://x", f"sqlite:///{tmp_path}/missing/dir/rooms.sqlite", "::"):
        with pytest.raises(UserError, match="room store"):
            RoomStore(url)
