"""The school's staff pages and progress records (issue 12, item 9): the instructor watches
a room from the class board, a trainee gets 403 on the staff pages, and an attempt is
recorded under its trainee only, which another trainee can neither read nor write."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.test_mr_console import screen_patient
from tests.deploy.school import Account, School, environ_of, log_in, poll, processes_of

pytestmark = [pytest.mark.school, pytest.mark.slow, pytest.mark.browser,
              pytest.mark.timeout(900)]  # hang guard for the school's set-up and each test


BOARD = "/services/merm-progress/board"
DASHBOARD = "/services/merm-progress/instructor"


@pytest.fixture(scope="module")
def instructor(browser, live_school: School) -> Iterator[object]:  # noqa: ANN001
    """The instructor, logged in straight to the class board (no server of their own)."""
    page = log_in(browser, live_school, live_school.instructor, next_path=BOARD)
    page.wait_for_url(f"**{BOARD}*")
    try:
        yield page
    finally:
        page.context.close()


def test_instructor_watches_the_room_from_the_class_board(instructor, call: dict,  # noqa: ANN001
                                                          live_school: School,
                                                          artifacts_dir: Path) -> None:
    page = instructor
    page.goto(f"{live_school.url}{BOARD}")
    row = page.locator("tr", has=page.locator(".merm-board-trainee", has_text=call["trainee"]))
    row.wait_for()
    watch = row.locator("a.merm-board-watch").get_attribute("href")
    assert watch.startswith(f"{live_school.url}/services/merm-hub/"), watch
    page.screenshot(path=str(artifacts_dir / "school_board.png"), full_page=True)
    mentor = page.context.new_page()
    try:
        mentor.goto(watch.replace("/mentor#", "/mentor?lang=en&av=0#"))
        assert poll(mentor, "window.merm.stats().then(s => s.console)") > 0, \
            "the instructor's page decoded no console frame"
    finally:
        mentor.close()


def test_a_trainee_gets_403_on_the_staff_pages(consoles: dict, live_school: School) -> None:
    other = consoles[live_school.trainees[1].name]  # logged in to the hub as trainee 2
    for path in (BOARD, DASHBOARD, DASHBOARD + ".csv"):
        page = other.context.new_page()
        try:
            response = page.goto(f"{live_school.url}{path}")
            assert response is not None and response.status == 403, (path, response and response.status)
            assert "403" in page.content()
        finally:
            page.close()


def _kernel_env(who: Account) -> dict[str, str]:
    """The environment a trainee's own kernel has (what their code can use)."""
    for pid in processes_of(who.uid):
        text = environ_of(pid)
        if "MERM_PROGRESS_URL=" in text and "JUPYTERHUB_API_TOKEN=" in text:
            return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    raise AssertionError(f"no process of {who.name} has MERM_PROGRESS_URL and a hub token")


def _api(method: str, url: str, token: str | None, body: dict | None = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"token {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:  # noqa: S310 (loopback)
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_an_attempt_is_recorded_under_its_trainee_only(consoles: dict, instructor,  # noqa: ANN001
                                                      live_school: School,
                                                      artifacts_dir: Path) -> None:
    one, two = live_school.trainees
    page = consoles[one.name]
    page.locator(".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab", has_text="Exercise").click()
    page.locator(".merm-exercise-select select").select_option(index=1)
    page.wait_for_selector(".merm-exercise-submit")
    page.wait_for_timeout(1000)  # the exercise's patient and protocol load
    if page.locator(".merm-scan").is_disabled():  # a new patient: screening again
        page.locator(".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab",
                     has_text="Patient").click()
        screen_patient(page)
    src = page.locator("img.merm-image").get_attribute("src")
    page.locator(".merm-scan").click()
    page.wait_for_function("s => document.querySelector('img.merm-image').src !== s", arg=src)
    page.locator(".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab", has_text="Exercise").click()
    page.wait_for_function("() => !document.querySelector('.merm-exercise-submit').disabled")
    page.locator(".merm-exercise-submit").click()
    page.wait_for_function(
        "() => document.querySelector('.merm-exercise-message').innerText.includes('Attempt saved')")
    page.screenshot(path=str(artifacts_dir / "school_attempt.png"), full_page=True)

    # the instructor sees it under trainee 1's account
    instructor.goto(f"{live_school.url}{DASHBOARD}")
    assert one.name in instructor.content()
    assert two.name not in instructor.content()  # trainee 2 submitted nothing yet

    # trainee 2's own kernel credentials: cannot read trainee 1's attempts…
    env = _kernel_env(two)
    api = env["MERM_PROGRESS_URL"].rstrip("/") + "/api/attempts"
    token = env["JUPYTERHUB_API_TOKEN"]
    status, _ = _api("GET", f"{api}?user={one.name}", token)
    assert status == 403
    status, mine = _api("GET", api, token)
    assert status == 200 and not [a for a in mine["attempts"] if a.get("user") == one.name]
    # …nor write one for them: the name in a body is not believed, a forged token is refused
    own = _kernel_env(one)
    status, theirs = _api("GET", api, own["JUPYTERHUB_API_TOKEN"])
    assert status == 200 and theirs["attempts"], theirs
    first = theirs["attempts"][0]
    forged = {"exercise_id": first["exercise_id"], "protocol": first.get("protocol") or {},
              "user": one.name, "score": 100}
    status, answer = _api("POST", api, token, forged)
    assert status in (200, 201, 400), (status, answer)
    if status != 400:
        assert answer["user"] == two.name
    status, _ = _api("POST", api, token[:-4] + "beef", forged)
    assert status in (401, 403)
    status, after = _api("GET", api, own["JUPYTERHUB_API_TOKEN"])
    assert len(after["attempts"]) == len(theirs["attempts"])


