"""The I/O-free rules: tokens, TURN credentials, control lock, messages, audit, rate limit."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json

import pytest

from simulator.mentoring import messages as m
from simulator.mentoring.audit import AuditLog, to_csv
from simulator.mentoring.control import ControlError, ControlLock
from simulator.mentoring.room import RateLimiter, Room, RoomFull
from simulator.mentoring.tokens import TokenError, load_or_create_secret, sign_token, verify_token
from simulator.mentoring.turn import TurnSettings, ice_servers, turn_credentials

KEY = b"k" * 32
NOW = 1_800_000_000

_SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"


def test_token_round_trip_and_binding() -> None:
    token = sign_token(KEY, "room1", "mentor", exp=NOW + 60)
    claims = verify_token(KEY, token, now=NOW, room="room1", roles=("mentor",))
    assert (claims.room, claims.role, claims.exp) == ("room1", "mentor", NOW + 60)
    assert sign_token(KEY, "room1", "mentor", exp=NOW + 60) != token, "nonce makes each unique"
    with pytest.raises(TokenError, match="expired"):
        verify_token(KEY, token, now=NOW + 60)
    with pytest.raises(TokenError, match="another room"):
        verify_token(KEY, token, now=NOW, room="room2")
    with pytest.raises(TokenError, match="not allowed"):
        verify_token(KEY, token, now=NOW, roles=("trainee",))
    with pytest.raises(TokenError, match="signature"):
        verify_token(b"x" * 32, token, now=NOW)


@pytest.mark.parametrize(
    "field,value", [("role", "trainee"), ("room", "other"), ("exp", NOW + 10**6)]
)
def test_tampered_claims_are_refused(field: str, value: object) -> None:
    token = sign_token(KEY, "room1", "observer", exp=NOW + 60)
    payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims[field] = value
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError):
        verify_token(KEY, f"{forged}.{sig}", now=NOW)


@pytest.mark.parametrize("junk", ["", "abc", "a.b.c", "###.###", "x" * 5000])
def test_malformed_tokens_are_refused(junk: str) -> None:
    with pytest.raises(TokenError):
        verify_token(KEY, junk, now=NOW)


def test_secret_file_is_private_and_stable(tmp_path) -> None:
    path = tmp_path / "home" / "hub-secret"
    first = load_or_create_secret(path)
    assert load_or_create_secret(path) == first and len(first) >= 32
    assert path.stat().st_mode & 0o077 == 0


def test_turn_credentials_follow_coturn_rest_scheme() -> None:
    username, credential = turn_credentials("shared", "p1", ttl_s=600, now=NOW)
    expiry, user = username.split(":")
    assert (int(expiry), user) == (NOW + 600, "p1")
    # what coturn computes on its side with static-auth-secret=shared
    expected = hmac.new(b"shared", username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(credential) == expected
    assert ice_servers(None, "p1", NOW) == [], "no public STUN default"
    servers = ice_servers(TurnSettings("turn:turn.example:3478", "shared", 600), "p1", NOW)
    assert servers[0]["urls"] == ["turn:turn.example:3478"] and servers[0]["username"] == username
    with pytest.raises(Exception, match="turn"):
        TurnSettings("stun:x", "s")


def test_control_lock_handover() -> None:
    lock = ControlLock()
    assert not lock.may_command("m1", "mentor")
    with pytest.raises(ControlError):
        lock.request("o1", "observer")
    lock.request("m1", "mentor")
    lock.request("m2", "mentor")
    lock.refuse("m2")
    with pytest.raises(ControlError):
        lock.grant("m2")
    lock.grant("m1")
    assert lock.may_command("m1", "mentor") and not lock.may_command("m2", "mentor")
    with pytest.raises(ControlError, match="another mentor"):
        lock.request("m2", "mentor")
    with pytest.raises(ControlError):
        lock.release("m2")
    assert lock.take_back() == "m1" and lock.holder is None
    lock.request("m2", "mentor")
    lock.grant("m2")
    assert lock.drop("m2") and lock.holder is None


def test_room_caps_peers_and_keeps_state_across_leaves() -> None:
    room = Room("r", "MR 1", "mr", expires=NOW, max_peers=2)
    a, b = room.add_peer("trainee"), room.add_peer("mentor")
    with pytest.raises(RoomFull):
        room.add_peer("observer")
    room.lock.request(b.id, "mentor")
    room.lock.grant(b.id)
    room.set_snapshot({"x": 1})
    assert room.remove_peer(b.id), "control returns to the trainee when the holder leaves"
    assert room.snapshot == {"x": 1} and room.add_peer("mentor").id not in (a.id, b.id)


def test_rate_limiter_refills() -> None:
    r = RateLimiter(rate_per_s=10, burst=5)
    assert sum(r.allow(now=0.0) for _ in range(20)) == 5
    assert sum(r.allow(now=0.5) for _ in range(20)) == 5


SAMPLES = [
    {"type": "hello", "name": "Dr Martin", "client": "browser"},
    {"type": "offer", "sdp": _SDP},
    {"type": "av_offer", "to": "p2", "sdp": _SDP},
    {"type": "chat", "text": "hello"},
    {"type": "annotate", "shape": "text", "x0": 0.1, "y0": 0.2, "text": "here"},
    {"type": "command", "id": 4, "command": {"type": "set_window", "center": 40, "width": 400}},
    {"type": "command", "id": 5, "command": {"type": "set_geometry", "center_mm": [0, 1, 2]}},
    {"type": "grant", "peer": "p3"},
    {"type": "ping", "id": 1, "t": 0.5},
    {"type": "result", "id": 1, "ok": True, "before": [1], "after": {"a": 2}},
    {"type": "consent", "recording": True},
]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s["type"])
def test_messages_round_trip(sample: dict) -> None:
    msg = m.parse_client(json.dumps(sample))
    again = m.parse_client(m.serialise(msg))
    assert again == msg and again.TYPE == sample["type"]


@pytest.mark.parametrize(
    "raw,code",
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"type": "launch_missiles"}', "unknown_type"),
        ('{"type": "chat"}', "bad_field"),
        ('{"type": "chat", "text": 3}', "bad_field"),
        ('{"type": "chat", "text": "hi", "admin": true}', "bad_field"),
        ('{"type": "annotate", "shape": "arrow", "x0": 2, "y0": 0}', "bad_field"),
        ('{"type": "ping", "id": true, "t": 0}', "bad_field"),
        ('{"type": "ping", "id": 1, "t": NaN}', "bad_field"),
        ('{"type": "command", "id": 1, "command": {"type": "rm -rf"}}', "bad_field"),
        (
            '{"type": "command", "id": 1, "command": {"type": "set_param", "name": "X Y"}}',
            "bad_field",
        ),
        ('{"type": "grant", "peer": "../../etc"}', "bad_field"),
        (json.dumps({"type": "chat", "text": "x" * 20000}), "too_large"),
    ],
)
def test_bad_messages_are_refused_with_a_code(raw: str, code: str) -> None:
    with pytest.raises(m.MessageError) as err:
        m.parse_client(raw)
    assert err.value.code == code


def test_audit_is_append_only_and_exports(tmp_path) -> None:
    log = AuditLog(tmp_path / "a" / "audit.jsonl")
    log.append("r1", "Alice", "trainee", "join")
    log.append("r2", "Bob", "trainee", "join")
    log.append("r1", "Dr M", "mentor", "command", {"before": 500, "after": 800})
    lines = (tmp_path / "a" / "audit.jsonl").read_text().splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [1, 2, 3]
    events = log.events("r1")
    assert [e.action for e in events] == ["join", "command"] and events[0].time.endswith("Z")
    rows = list(csv.DictReader(io.StringIO(to_csv(events))))
    assert json.loads(rows[1]["detail"]) == {"before": 500, "after": 800}
    with pytest.raises(ValueError):
        log.append("r1", "x", "mentor", "rewrite_history")


def test_user_key_names_its_account_and_nothing_else() -> None:
    from simulator.mentoring.tokens import user_key, verify_user_key

    for name in ("alice", "jean.dupont@ifmem.fr", "Zoé-Ünal"):
        assert verify_user_key(KEY, user_key(KEY, name)) == name
    alice, bob = user_key(KEY, "alice"), user_key(KEY, "bob")
    assert alice != bob and alice != user_key(b"y" * 32, "alice")
    prefix, b64name, mac = alice.split(".")
    _, b64bob, _ = bob.split(".")
    refused = [
        user_key(b"y" * 32, "alice"),  # another hub's secret
        f"{prefix}.{b64bob}.{mac}",  # alice's MAC under bob's name
        f"{prefix}.{b64name}.{mac[:-1]}0" if mac[-1] != "0" else f"{prefix}.{b64name}.{mac[:-1]}1",
        KEY.decode(),  # the hub secret is not a user key
        "merm-user..", "merm-user.!!.00", "merm-user.YWxpY2U", "", "x" * 300,
    ]
    for key in refused:
        with pytest.raises(TokenError):
            verify_user_key(KEY, key)
    for bad_name in ("", "x" * 65):
        with pytest.raises(TokenError):
            user_key(KEY, bad_name)


def test_the_deploy_guide_derives_the_same_user_keys() -> None:
    """Where ``docs/deploy.md`` gives JupyterHub a standard-library function for the per-user
    keys, it must match :func:`user_key`; a guide that leaves them to
    ``simulator.deploy.jupyterhub`` spells out no formula of its own."""
    import textwrap
    from pathlib import Path
    from types import SimpleNamespace

    from simulator.mentoring.tokens import user_key

    guide = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text()
    lines = guide.splitlines()
    starts = [i for i, line in enumerate(lines) if "def merm_user_key(spawner)" in line]
    if not starts:  # the guide leaves the keys to simulator.deploy.jupyterhub (user_key itself)
        assert "merm-room-creator" not in guide, "a formula spelled out without its function"
        assert "MERM_HUB_USER_KEY" in guide
    for start in starts:
        end = next(i for i in range(start, len(lines)) if not lines[i].strip())
        namespace: dict = {"MASTER": KEY}
        code = textwrap.dedent("\n".join(lines[start:end]))
        exec("import base64, hashlib, hmac\n" + code, namespace)
        for name in ("alice", "jean.dupont@ifmem.fr", "zoé"):
            spawner = SimpleNamespace(user=SimpleNamespace(name=name))
            assert namespace["merm_user_key"](spawner) == user_key(KEY, name)


@pytest.mark.parametrize(
    "public,prefix,base",
    [
        ("http://127.0.0.1:8890", "/", "http://127.0.0.1:8890"),
        ("http://127.0.0.1:8890/", None, "http://127.0.0.1:8890"),
        ("https://lab.example.org", "/services/merm-hub/", "https://lab.example.org/services/merm-hub"),
        ("https://lab.example.org/services/merm-hub/", "services/merm-hub", "https://lab.example.org/services/merm-hub"),
        ("https://lab.example.org/jh", "/jh/services/merm-hub", "https://lab.example.org/jh/jh/services/merm-hub"),
    ],
)  # fmt: skip
def test_links_are_built_under_the_prefix_once(public: str, prefix: str | None, base: str) -> None:
    from simulator.mentoring.url_prefix import normalise_prefix, origin_of, page_base

    assert page_base(public, normalise_prefix(prefix)) == base
    assert origin_of(base + "/mentor") == public.split("/")[0] + "//" + public.split("/")[2]


def test_asking_twice_for_control_is_already() -> None:
    lock = ControlLock()
    lock.request("m1", "mentor")
    with pytest.raises(ControlError) as err:
        lock.request("m1", "mentor")
    assert err.value.code == "already" and lock.pending == ["m1"]
    lock.grant("m1")
    with pytest.raises(ControlError) as err:
        lock.request("m1", "mentor")
    assert err.value.code == "already"


@pytest.mark.parametrize("exp", ["2000000000", 2e9, True, None])
def test_a_token_whose_exp_is_not_a_json_integer_is_malformed(exp: object) -> None:
    payload = base64.urlsafe_b64encode(
        json.dumps({"room": "r1", "role": "mentor", "exp": exp, "nonce": "n"}).encode()
    ).rstrip(b"=")
    sig = base64.urlsafe_b64encode(hmac.new(KEY, payload, hashlib.sha256).digest()).rstrip(b"=")
    with pytest.raises(TokenError, match="malformed"):
        verify_token(KEY, f"{payload.decode()}.{sig.decode()}", now=NOW)


@pytest.mark.parametrize("kind", ["command", "confirm", "ping", "pong", "result"])
def test_ids_run_from_0_to_2_31_minus_1(kind: str) -> None:
    extra = {
        "command": {"command": {"type": "scan"}},
        "confirm": {"accept": True},
        "ping": {"t": 0.0},
        "pong": {"t": 0.0, "to": "p1"},
        "result": {"ok": True},
    }[kind]
    for good in (0, 2**31 - 1):
        assert m.parse_client(json.dumps({"type": kind, "id": good, **extra})).id == good
    for bad in (-1, 2**31):
        with pytest.raises(m.MessageError) as err:
            m.parse_client(json.dumps({"type": kind, "id": bad, **extra}))
        assert (err.value.code, err.value.ref) == ("bad_field", kind)


def test_the_hub_refuses_a_secret_under_16_bytes() -> None:
    from simulator.errors import UserError
    from simulator.mentoring.server import MIN_SECRET_BYTES, HubConfig

    assert MIN_SECRET_BYTES == 16
    HubConfig(secret=b"s" * 16)
    with pytest.raises(UserError, match="at least 16"):
        HubConfig(secret=b"s" * 15)


def test_audit_lines_are_in_the_file_when_append_returns(tmp_path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    event = log.append("r1", "Alice", "trainee", "join")
    # written (flushed) before append returns: another reader sees it now
    assert json.loads(path.read_text().splitlines()[-1])["hash"] == event.hash
    log.sync()
    log.close()  # fsyncs and stops the group-commit thread
    assert AuditLog(path).head["hash"] == event.hash
