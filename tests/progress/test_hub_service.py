"""The ``merm-progress`` JupyterHub service against a real JupyterHub (issue 12, items 4, 10).

The service is started by JupyterHub from :func:`simulator.progress.spec.service_spec`; the
tokens are real hub tokens, verified by the hub; the database is a SQLite file on disk.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.exercises.store import ProgressStore
from simulator.mentoring.tokens import user_key
from simulator.progress.client import ProgressError, progress_client
from tests.progress.hub_fixture import Hub, call, running_hub

pytestmark = pytest.mark.slow

REFERENCE_COACHING = {  # mr_remote_coaching's reference solution is its start protocol
    "exercise_id": "mr-remote-coaching", "protocol": {}, "lang": "en"}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with running_hub(tmp_path_factory.mktemp("hub")) as h:
        yield h


@pytest.fixture(scope="module")
def tokens(hub: Hub) -> dict[str, str]:
    return {name: hub.user_token(name) for name in ("alice", "bob", "teacher")}


def _json(status_body: tuple[int, str]) -> tuple[int, dict]:
    status, body = status_body
    return status, json.loads(body)


def test_missing_and_forged_tokens_are_refused(hub: Hub, tokens: dict[str, str]) -> None:
    for token in (None, "forged-" + tokens["alice"][::-1], ""):
        status, body = _json(call("POST", hub.service + "api/attempts", REFERENCE_COACHING, token=token))
        assert status == 401, body
        assert "not signed in" in body["error"] and "non identifié" in body["error_fr"]
    status, body = _json(call("GET", hub.service + "api/whoami", token=tokens["alice"]))
    assert (status, body["name"], body["staff"]) == (200, "alice", False)


def test_a_server_scoped_token_identifies_its_user(hub: Hub) -> None:
    """A kernel holds the single-user server's token (scopes of the ``server`` role only)."""
    token = hub.api("POST", "/users/bob/tokens",
                    {"scopes": ["users:activity!user", "access:servers!server"]})["token"]
    status, body = _json(call("GET", hub.service + "api/whoami", token=token))
    assert (status, body["name"]) == (200, "bob")


def test_the_service_grades_and_records_under_the_verified_name(hub: Hub, tokens: dict[str, str]) -> None:
    alice = tokens["alice"]
    status, _ = _json(call("POST", hub.service + "api/events",
                           {"kind": "mentor_called", "exercise_id": "mr-remote-coaching"}, token=alice))
    assert status == 200
    # the body's user name and score are not believed: the service grades the protocol itself
    forged = dict(REFERENCE_COACHING, user="bob", username="bob", score=100, passed=True)
    status, body = _json(call("POST", hub.service + "api/attempts", forged, token=alice))
    assert status == 200, body
    assert body["user"] == "alice"
    objectives = {o["id"]: o["passed"] for o in body["result"]["objectives"]}
    assert objectives["mentor"] is True  # alice's own mentor_called event counted
    wrong = dict(REFERENCE_COACHING, protocol={"tr_ms": 1.0e9})
    status, bad = _json(call("POST", hub.service + "api/attempts", wrong, token=alice))
    assert status == 200 and bad["result"]["passed"] is False and bad["result"]["score"] < 100
    store = ProgressStore(hub.db_url)  # the database on disk, as the instructor sees it
    rows = store.attempts(exercise_id="mr-remote-coaching")
    assert {r["username"] for r in rows} == {"alice"}
    assert [round(r["score"], 1) for r in rows] == [round(body["result"]["score"], 1),
                                                    round(bad["result"]["score"], 1)]
    store.close()


def test_a_trainee_reads_only_their_own_progress(hub: Hub, tokens: dict[str, str]) -> None:
    call("POST", hub.service + "api/attempts", REFERENCE_COACHING, token=tokens["alice"])
    status, own = _json(call("GET", hub.service + "api/attempts", token=tokens["bob"]))
    assert status == 200 and own["attempts"] == []
    status, body = _json(call("GET", hub.service + "api/attempts?user=alice", token=tokens["bob"]))
    assert status == 403 and "own progress" in body["error"]
    status, body = _json(call("GET", hub.service + "api/events?user=alice", token=tokens["bob"]))
    assert status == 403
    status, body = _json(call("GET", hub.service + "api/class", token=tokens["bob"]))
    assert status == 403 and "staff only" in body["error"]
    status, body = _json(call("GET", hub.service + "api/attempts?user=alice", token=tokens["teacher"]))
    assert status == 200 and {a["username"] for a in body["attempts"]} == {"alice"}


def test_bad_bodies_get_a_clear_400(hub: Hub, tokens: dict[str, str]) -> None:
    for body, words in ((None, "exercise_id"), ({"exercise_id": "no-such"}, "unknown exercise"),
                        ({"exercise_id": "mr-remote-coaching", "protocol": [1]}, "JSON objects"),
                        ({"exercise_id": "mr-remote-coaching", "started_at": "yesterday"}, "ISO 8601")):
        status, answer = _json(call("POST", hub.service + "api/attempts", body or {}, token=tokens["alice"]))
        assert status == 400 and words in answer["error"], answer
    status, answer = _json(call("POST", hub.service + "api/events", {"kind": "score_set"}, token=tokens["alice"]))
    assert status == 400 and "event kind" in answer["error"]


def test_staff_pages_refuse_a_trainee_and_serve_staff(hub: Hub, tokens: dict[str, str]) -> None:
    call("POST", hub.service + "api/attempts", REFERENCE_COACHING, token=tokens["alice"])
    for page in ("instructor", "instructor.csv", "board"):
        status, text = call("GET", hub.service + page, token=tokens["bob"],
                            headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        assert status == 403, (page, text)
        assert "équipe pédagogique" in text and "staff only" in text and "merm-instructors" in text
    status, text = call("GET", hub.service + "instructor", token=tokens["teacher"])
    assert status == 200 and "merm-progress" in text and ">alice<" in text
    status, text = call("GET", hub.service + "instructor.csv", token=tokens["teacher"])
    assert status == 200 and text.splitlines()[0].startswith("attempt_id,username")
    assert any(line.split(",")[1] == "alice" for line in text.splitlines()[1:])


def test_a_removed_instructor_and_a_revoked_token_are_refused_promptly(hub: Hub) -> None:
    """Taken out of the instructors' group, an instructor is refused the staff pages at
    their next request; a revoked token is refused once the service's one-second cache of
    the hub's answer has passed (it used to be 60 s, and the staff check 30 s)."""
    import time

    from simulator.progress.service import TOKEN_CACHE_S

    hub.api("POST", "/users/dana")
    hub.api("POST", "/groups/merm-instructors/users", {"users": ["dana"]})
    token = hub.user_token("dana")
    status, text = call("GET", hub.service + "board", token=token)
    assert status == 200, text
    hub.api("DELETE", "/groups/merm-instructors/users", {"users": ["dana"]})
    for page in ("board", "instructor", "instructor.csv"):
        status, text = call("GET", hub.service + page, token=token)
        assert status == 403 and "staff only" in text, (page, status)
    status, body = _json(call("GET", hub.service + "api/whoami", token=token))
    assert (status, body["staff"]) == (200, False)
    (entry,) = [t for t in hub.api("GET", "/users/dana/tokens")["api_tokens"]
                if t.get("note") == "test"]
    hub.api("DELETE", f"/users/dana/tokens/{entry['id']}")
    time.sleep(TOKEN_CACHE_S + 0.5)
    status, body = _json(call("GET", hub.service + "api/whoami", token=token))
    assert status == 401 and "not signed in" in body["error"], body


def test_admins_are_staff(hub: Hub) -> None:
    status, body = _json(call("GET", hub.service + "api/whoami", token=hub.user_token("head")))
    assert (status, body["staff"]) == (200, True)


def test_the_class_board_lists_rooms_with_their_trainee(hub: Hub, tokens: dict[str, str]) -> None:
    key = user_key(hub.hub_secret.encode(), "alice")  # alice's kernel opens a room
    status, room = _json(call("POST", hub.mentoring + "/api/rooms",
                              {"label": "MR console", "modality": "mr"}, token=key, scheme="Bearer"))
    assert status == 200, room
    status, text = call("GET", hub.service + "board", token=tokens["teacher"],
                        headers={"Accept-Language": "en"})
    assert status == 200, text
    assert "class='merm-board-trainee'>alice<" in text
    watch = re.findall(r"class='merm-board-watch'[^>]*href='([^']+)'", text)
    assert watch and all("/mentor#t=" in w for w in watch)
    # the watch link is a fresh instructor token the hub accepts for that room's audit log
    token = watch[0].split("#t=", 1)[1]
    status, audit = call("GET", f"{hub.mentoring}/api/rooms/{room['room']}/audit?format=json&token={token}")
    assert status == 200 and json.loads(audit)["events"][0]["action"] == "create"


def _browser() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def _login_and_open(hub: Hub, user: str, page: str) -> tuple[int, str]:
    """Open ``page`` through the proxy as a browser would: HubOAuth sends to the hub's login,
    then back through the OAuth callback."""
    opener = _browser()
    url = f"{hub.public}/services/merm-progress/{page}"
    with opener.open(url, timeout=60) as r:  # → /hub/login?next=…
        login_page, login_url = r.read().decode(), r.url
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', login_page)
    form = {"username": user, "password": "school-pass", **({"_xsrf": xsrf.group(1)} if xsrf else {})}
    try:
        with opener.open(login_url, data=urllib.parse.urlencode(form).encode(), timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_staff_log_in_with_hub_oauth_through_the_proxy(hub: Hub) -> None:
    status, text = _login_and_open(hub, "teacher", "board")
    assert status == 200 and "merm-board" in text
    status, text = _login_and_open(hub, "bob", "instructor")
    assert status == 403 and "staff only" in text


def test_the_kernel_client_submits_with_its_token_and_keeps_what_fails(
        hub: Hub, tokens: dict[str, str], tmp_path: Path) -> None:
    from simulator.exercises.grader import GradeResult

    home = str(tmp_path / "bob-home")
    client = progress_client({"MERM_PROGRESS_URL": hub.service, "JUPYTERHUB_API_TOKEN": tokens["bob"],
                              "JUPYTERHUB_USER": "bob", "MERM_HOME": home})
    attempt_id, result = client.submit("mr-remote-coaching", {}, lang="fr")
    assert isinstance(result, GradeResult) and attempt_id > 0
    assert result.objectives and result.lang == "fr"
    assert [a["id"] for a in client.my_attempts()] == [attempt_id]
    # a refused token: a clear line, in both languages
    bad = progress_client({"MERM_PROGRESS_URL": hub.service, "JUPYTERHUB_API_TOKEN": "expired",
                           "JUPYTERHUB_USER": "bob", "MERM_HOME": home})
    with pytest.raises(ProgressError) as exc:
        bad.submit("mr-remote-coaching", {})
    assert "refused your credential" in exc.value.en and "refuse votre identifiant" in exc.value.fr
    # an exercise the service does not have: said, and not kept (it would be refused again)
    with pytest.raises(ProgressError) as exc:
        client.submit("no-such-exercise", {})
    assert exc.value.status == 400 and "unknown exercise" in exc.value.en and client.pending == []
    # an unreachable service: the attempt is kept, on disk too, and goes through once it
    # answers again, from a new kernel of the same trainee
    down_env = {"MERM_PROGRESS_URL": "http://127.0.0.1:9/services/merm-progress/",
                "JUPYTERHUB_API_TOKEN": tokens["bob"], "JUPYTERHUB_USER": "bob", "MERM_HOME": home}
    down = progress_client(down_env)
    with pytest.raises(ProgressError) as exc:
        down.submit("mr-remote-coaching", {"tr_ms": 500.0})
    assert "does not answer" in exc.value.en and "ne répond pas" in exc.value.fr
    assert len(down.pending) == 1 and down.pending_path is not None and down.pending_path.exists()
    again = progress_client(down_env)  # the kernel was restarted
    assert len(again.pending) == 1
    again.base_url = hub.service
    assert again.retry_pending() == 1 and again.pending == []
    assert not down.pending_path.exists()
    assert len(client.my_attempts()) == 2


def test_no_service_configured_records_nothing_and_says_so() -> None:
    client = progress_client({"JUPYTERHUB_USER": "alice", "JUPYTERHUB_API_TOKEN": "x",
                              "MERM_HOME": "/nonexistent"})
    with pytest.raises(ProgressError) as exc:
        client.submit("mr-remote-coaching", {})
    assert "not recorded" in exc.value.en and "pas enregistrées" in exc.value.fr


def test_the_service_environment_is_the_only_holder_of_the_db_url(hub: Hub) -> None:
    from simulator.progress.spec import service_spec, user_environment

    spec = service_spec(db_url="postgresql+psycopg://merm:pw@localhost/merm", hub_secret="s")
    assert spec["environment"]["MERM_DB_URL"].startswith("postgresql")
    assert "MERM_DB_URL" not in user_environment() and "MERM_HUB_SECRET" not in user_environment()
    assert Path(hub.log).read_text().count("merm-progress") > 0


def test_the_exercise_panel_submits_through_the_service(hub: Hub, tokens: dict[str, str],
                                                       tmp_path: Path) -> None:
    """A real console session and exercise panel whose store is the kernel's client."""
    from simulator.console.session import ConsoleSession
    from simulator.exercises.loader import load_exercise
    from simulator.exercises.panel import ExercisePanel
    from simulator.paths import course_dir

    session = ConsoleSession("mr", "en", "brain")
    session.clock = "max"
    ex = load_exercise(course_dir() / "exercises" / "mr_t1_contrast.yaml")
    env = {"MERM_PROGRESS_URL": "http://127.0.0.1:9/services/merm-progress/",  # down at first
           "JUPYTERHUB_API_TOKEN": tokens["bob"], "JUPYTERHUB_USER": "bob",
           "MERM_HOME": str(tmp_path / "home")}
    client = progress_client(env)
    panel = ExercisePanel(session, ex, client, client.user, "en")
    assert "NOT saved" in panel.message.value and "does not answer" in panel.message.value
    session.set_screening("ok")
    assert session.start_scan()["ok"]
    session.wait(300.0)  # hang guard only
    result = panel.submit_attempt()
    assert result is not None and "/100" in panel.score.value  # the console's own grade shown
    assert "NOT saved" in panel.message.value and "kept" in panel.message.value
    assert len(client.pending) == 1
    client.base_url = hub.service  # the service is back: the next Submit sends both
    result = panel.submit_attempt()
    assert result is not None and "Attempt saved." in panel.message.value
    assert client.pending == []
    rows = [a for a in client.my_attempts() if a["exercise_id"] == ex.id]
    assert len(rows) == 2 and rows[-1]["score"] == result.score


def test_the_voila_instructor_dashboard_reads_through_the_service(hub: Hub, tokens: dict[str, str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from simulator.exercises.instructor import InstructorDashboard

    call("POST", hub.service + "api/attempts", REFERENCE_COACHING, token=tokens["alice"])
    monkeypatch.delenv("MERM_LAB_URL", raising=False)
    monkeypatch.setenv("MERM_PROGRESS_URL", hub.service)
    monkeypatch.setenv("JUPYTERHUB_USER", "teacher")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", tokens["teacher"])
    sent = {"pacs": "ORTHANC@127.0.0.1:4242", "all_sent": True, "series": [
        {"number": 1, "description": "T1 SE (SIMULATED)", "series_uid": "1.2.3", "state": "sent",
         "reason": "", "viewer_url": ""}]}
    status, _ = call("POST", hub.service + "api/events", {"kind": "pacs_sent", "payload": sent},
                     token=tokens["alice"])
    assert status == 200
    staff = InstructorDashboard(lang="en")
    assert "merm-progress" in staff.progress.value and ">alice<" in staff.progress.value
    # the series each trainee sent to the PACS, read with staff rights through the service
    assert "T1 SE (SIMULATED)" in staff.pacs.value and "alice" in staff.pacs.value
    assert "alice" in base64_csv(staff.download.value)
    monkeypatch.setenv("JUPYTERHUB_USER", "bob")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", tokens["bob"])
    trainee = InstructorDashboard(lang="fr")
    assert "merm-instructor-refused" in trainee.progress.value
    assert "équipe pédagogique" in trainee.progress.value and "alice" not in trainee.progress.value
    assert trainee.download.value == ""
    assert "T1 SE" not in trainee.pacs.value


def base64_csv(link_html: str) -> str:
    import base64

    m = re.search(r"base64,([A-Za-z0-9+/=]+)", link_html)
    assert m, link_html
    return base64.b64decode(m.group(1)).decode("utf-8")


def _grade_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    from simulator.paths import course_dir

    full = {k: v for k, v in os.environ.items() if k not in ("MERM_PROGRESS_URL", "MERM_LAB_URL",
                                                              "JUPYTERHUB_API_TOKEN", "MERM_STAFF_TOKEN")}
    full.update(env)
    return subprocess.run([sys.executable, "-m", "simulator", "exercise", "grade",
                           str(course_dir() / "exercises" / "mr_remote_coaching.yaml"), *args],
                          capture_output=True, text=True, timeout=300, env=full)


def test_exercise_grade_records_only_for_staff(hub: Hub, tokens: dict[str, str]) -> None:
    out = _grade_cli("--lang", "en", env={})
    assert "not recorded" in out.stdout and out.returncode in (0, 1)
    before = len(ProgressStore(hub.db_url).attempts(username="carol"))
    out = _grade_cli("--user", "carol", "--lang", "en", "--progress-url", hub.service,
                     env={"JUPYTERHUB_API_TOKEN": tokens["bob"]})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "only staff record" in out.stderr and "nothing was recorded" in out.stderr
    out = _grade_cli("--user", "carol", "--lang", "en", "--json", "--progress-url", hub.service,
                     env={"JUPYTERHUB_API_TOKEN": tokens["teacher"]})
    assert out.returncode in (0, 1), out.stderr
    answer = json.loads(out.stdout)
    assert answer["recorded"]["user"] == "carol"
    rows = ProgressStore(hub.db_url).attempts(username="carol")
    assert len(rows) == before + 1 and rows[-1]["id"] == answer["recorded"]["attempt_id"]
    out = _grade_cli("--user", "carol", env={})
    assert out.returncode == 2 and "--progress-url" in out.stderr
