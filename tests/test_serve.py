"""``merm-lab serve`` brings up the lab on loopback and stops cleanly (issue 2); trainees
sign in with a name and cohort that their attempts carry, and the instructor pages open only
with the token that ``serve`` prints (issue 12, item 5)."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from simulator.exercises.store import ProgressStore
from tests.conftest import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
#: generous guard against a hang (not a budget)
ANSWER_TIMEOUT_S = 120


def _notebook(path: Path, source: str) -> None:
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Smoke dashboard"]},
            {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": [source]},
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))


def _browser() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def _get(url: str, timeout_s: float = ANSWER_TIMEOUT_S,
         opener: urllib.request.OpenerDirector | None = None) -> tuple[int, str, str]:
    """(status, body, final URL) once the server answers (errors are answers too)."""
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    op = opener or _browser()
    while time.monotonic() < deadline:
        try:
            with op.open(url, timeout=60) as r:
                return r.status, r.read().decode("utf-8", "replace"), r.url
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace"), url
        except OSError as exc:  # server not up yet
            last = exc
            time.sleep(0.3)
    raise AssertionError(f"{url} never answered: {last}")


def _sign_in(base: str, opener: urllib.request.OpenerDirector, name: str, cohort: str,
             next_url: str = "/") -> tuple[int, str, str]:
    status, form, _ = _get(f"{base}/merm/signin?" + urllib.parse.urlencode({"next": next_url}), opener=opener)
    assert status == 200 and "merm-signin" in form
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form)
    assert xsrf, form
    data = urllib.parse.urlencode({"_xsrf": xsrf.group(1), "name": name, "cohort": cohort,
                                   "next": next_url}).encode()
    try:
        with opener.open(f"{base}/merm/signin", data=data, timeout=120) as r:
            return r.status, r.read().decode(), r.url
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), ""


@dataclass
class Lab:
    base: str
    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "".join(self.lines)

    def instructor_link(self) -> str:
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while time.monotonic() < deadline:
            m = re.search(r"(http://\S+/merm/instructor\?token=\w+)", self.output())
            if m:
                return m.group(1)
            time.sleep(0.1)
        raise AssertionError(self.output())


def _start(tmp_path: Path, course: Path) -> Lab:
    port, hub_port = free_port(), free_port()
    env = dict(os.environ, MERM_HOME=str(tmp_path / "home"))
    env.pop("MERM_DB_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--port", str(port), "--hub-port", str(hub_port),
         "--course", str(course)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    lab = Lab(f"http://127.0.0.1:{port}", proc)
    assert proc.stdout is not None
    out = proc.stdout

    def pump() -> None:
        for line in out:
            lab.lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    return lab


def _stop(lab: Lab) -> None:
    lab.proc.send_signal(signal.SIGINT)
    try:
        lab.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(lab.proc.pid, signal.SIGKILL)
        raise
    time.sleep(0.2)  # let the pump read the last lines


def test_serve_answers_and_stops_cleanly(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "dashboards").mkdir(parents=True)
    _notebook(course / "dashboards" / "smoke.ipynb", "import simulator; print('merm', simulator.__version__)")
    lab = _start(tmp_path, course)
    try:
        browser = _browser()
        status, body, url = _get(f"{lab.base}/voila/render/smoke.ipynb", opener=browser)
        assert status == 200 and "/merm/signin" in url  # a new visitor gives a name first
        status, body, _ = _sign_in(lab.base, browser, "Smoke", "", "/voila/render/smoke.ipynb")
        assert status == 200
        assert "merm 0." in body  # the notebook really ran in a kernel
    finally:
        _stop(lab)
    out = lab.output()
    assert "MERM Lab is starting" in out
    assert f"127.0.0.1:{lab.base.rsplit(':', 1)[1]}" in out
    assert lab.proc.returncode == 0, out
    # nothing left listening
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{lab.base}/", timeout=2)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    tmp = tmp_path_factory.mktemp("lab")
    course = tmp / "course"
    (course / "dashboards").mkdir(parents=True)
    shutil.copytree(ROOT / "course" / "exercises", course / "exercises")
    shutil.copy(ROOT / "course" / "dashboards" / "instructor.ipynb", course / "dashboards")
    # what a console kernel does on Submit: the progress client picks the lab server from the
    # environment and sends the signed-in identity that Voilà handed to the kernel
    _notebook(course / "dashboards" / "submit.ipynb", "\n".join([
        "from simulator.progress.client import progress_client",
        "from simulator.progress.identity import kernel_display_name",
        "client = progress_client()",
        "print('kernel-name', kernel_display_name())",
        "import os; print('db-url-in-kernel', 'MERM_DB_URL' in os.environ, 'MERM_LAB_TOKEN' in os.environ)",
        "client.record_event('x', 'mentor_called', {}, exercise_id='mr-remote-coaching')",
        "attempt, result = client.submit('mr-remote-coaching', {}, lang='en')",
        "mentor = [o.passed for o in result.objectives if o.id == 'mentor']",
        "print('attempt', attempt, 'score', result.score, 'mentor', mentor)",
    ]))
    lab = _start(tmp, course)
    lab_home = tmp / "home"
    try:
        _get(lab.base + "/merm/signin")
        lab.lines.append(f"HOME {lab_home}\n")
        yield lab
    finally:
        _stop(lab)


def test_the_signed_in_name_reaches_the_kernel_and_the_attempt(lab: Lab) -> None:
    browser = _browser()
    status, page, url = _get(lab.base + "/", opener=browser)
    assert status == 200 and "/merm/signin" in url and "merm-signin-name" in page
    status, body, url = _sign_in(lab.base, browser, "Claire Martin", "MERM-2026",
                                 "/voila/render/submit.ipynb")
    assert status == 200 and url.endswith("/voila/render/submit.ipynb"), body
    assert "kernel-name Claire Martin" in body
    assert "db-url-in-kernel False False" in body  # the kernel holds no database URL or token
    m = re.search(r"attempt (\d+) score ([\d.]+) mentor \[(\w+)\]", body)
    assert m, body[-3000:]
    assert m.group(3) == "True"  # graded by the lab server, with the trainee's own mentor call
    home = Path(lab.output().split("HOME ", 1)[1].split("\n", 1)[0])
    store = ProgressStore(f"sqlite:///{home / 'progress.sqlite'}")  # the database on disk
    rows = store.attempts(exercise_id="mr-remote-coaching")
    assert [(r["username"], r["cohort"]) for r in rows] == [("Claire Martin", "MERM-2026")]
    store.close()


def test_a_bad_sign_in_is_refused_in_both_languages(lab: Lab) -> None:
    browser = _browser()
    status, page, _ = _sign_in(lab.base, browser, "   ", "x" * 31)
    assert status == 400 and "merm-signin-error" in page
    assert "A name is required" in page or "Le nom est obligatoire" in page
    status, page, url = _get(lab.base + "/voila/render/submit.ipynb", opener=browser)
    assert "/merm/signin" in url  # still not signed in
    # a forged cookie is no identity
    status, body, _ = _get(lab.base + "/merm/api/whoami", opener=browser)
    assert status == 401
    req = urllib.request.Request(lab.base + "/merm/api/whoami",
                                 headers={"Authorization": "Bearer eyJuIjoiQm9iIn0.deadbeef"})
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=30)
    assert exc.value.code == 401


def test_instructor_pages_need_the_printed_token(lab: Lab) -> None:
    link = lab.instructor_link()
    trainee = _browser()
    _sign_in(lab.base, trainee, "Bob", "MERM-2026")
    for page in ("instructor", "instructor.csv", "board"):
        status, text, _ = _get(f"{lab.base}/merm/{page}", opener=trainee)
        assert status == 403 and "merm-lab serve" in text, (page, text)
    status, text, _ = _get(link.replace("token=", "token=wrong"), opener=_browser())
    assert status == 403 and "merm-lab serve" in text
    staff = _browser()
    status, text, url = _get(link, opener=staff)
    assert status == 200 and "token=" not in url  # the token leaves the address bar
    assert "merm-instructor" in text
    status, csv_text, _ = _get(f"{lab.base}/merm/instructor.csv", opener=staff)
    assert status == 200 and csv_text.startswith("attempt_id,username")
    status, board, _ = _get(f"{lab.base}/merm/board", opener=staff)
    assert status == 200 and "merm-board" in board
    # a trainee's console opens a room on the lab's hub: the board lists it, with a Watch link
    hub = re.search(r"hub\s+(http://\S+)", lab.output())
    assert hub, lab.output()
    home = Path(lab.output().split("HOME ", 1)[1].split("\n", 1)[0])
    secret = (home / "hub-secret").read_text().strip()
    req = urllib.request.Request(hub.group(1) + "/api/rooms", method="POST",
                                 data=json.dumps({"label": "MR — Bob", "name": "Bob"}).encode(),
                                 headers={"Authorization": f"Bearer {secret}",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        assert r.status == 200
    status, board, _ = _get(f"{lab.base}/merm/board", opener=staff)
    assert status == 200 and "MR — Bob" in board and "merm-board-watch" in board


def test_exercise_grade_records_with_the_printed_token(lab: Lab) -> None:
    token = lab.instructor_link().split("token=", 1)[1]
    cmd = [sys.executable, "-m", "simulator", "exercise", "grade",
           str(ROOT / "course" / "exercises" / "mr_remote_coaching.yaml"), "--user", "Eve Petit",
           "--progress-url", lab.base + "/merm/", "--lang", "en"]
    env = {k: v for k, v in os.environ.items() if k not in ("MERM_PROGRESS_URL", "JUPYTERHUB_API_TOKEN")}
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                         env=dict(env, MERM_STAFF_TOKEN="wrong"))
    assert out.returncode == 2 and "refused your credential" in out.stderr
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                         env=dict(env, MERM_STAFF_TOKEN=token))
    assert out.returncode in (0, 1), out.stderr
    assert "recorded: attempt" in out.stdout and "Eve Petit" in out.stdout


@pytest.mark.browser
def test_the_voila_instructor_dashboard_is_for_the_token_holder(lab: Lab, browser) -> None:  # noqa: ANN001
    """In Chromium: the Voilà dashboard's kernel reads through the lab server with the
    page's cookies, so a trainee sees the refusal and the staff see the class."""
    trainee = browser.new_context(locale="fr-FR")
    try:
        page = trainee.new_page()
        page.goto(f"{lab.base}/merm/signin")
        page.fill(".merm-signin-name", "Dana Roux")
        page.click(".merm-signin-submit")
        page.wait_for_load_state()
        cookie = next(c["value"] for c in trainee.cookies() if c["name"] == "merm-identity")
        req = urllib.request.Request(
            lab.base + "/merm/api/attempts", method="POST",
            data=json.dumps({"exercise_id": "mr-remote-coaching", "protocol": {}}).encode(),
            headers={"Authorization": f"Bearer {cookie}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            assert json.loads(r.read())["user"] == "Dana Roux"
        page.goto(f"{lab.base}/voila/render/instructor.ipynb")
        refused = page.wait_for_selector(".merm-instructor-refused", timeout=120_000)
        assert "merm-lab serve" in refused.inner_text()
    finally:
        trainee.close()
    staff = browser.new_context(locale="en-GB")
    try:
        page = staff.new_page()
        page.goto(lab.instructor_link())
        page.wait_for_selector(".merm-instructor")
        page.goto(f"{lab.base}/voila/render/instructor.ipynb")
        page.wait_for_selector(".merm-progress-table table", timeout=120_000)
        assert page.locator(".merm-instructor-refused").count() == 0
        assert "Dana Roux" in page.locator(".merm-progress-table").inner_text()
    finally:
        staff.close()


@pytest.mark.browser
def test_a_trainee_signs_in_and_the_console_records_under_the_name(tmp_path: Path, browser) -> None:  # noqa: ANN001
    """In Chromium, the shipped course: a new trainee opening an exercise link gives a name
    and cohort, lands on the MR console with the exercise, and the exercise's opening is
    recorded under that name (through the lab server, not a database of the kernel)."""
    lab = _start(tmp_path, ROOT / "course")
    try:
        _get(lab.base + "/merm/signin")
        context = browser.new_context(locale="en-GB", viewport={"width": 1366, "height": 768})
        page = context.new_page()
        page.goto(f"{lab.base}/voila/render/mr_console.ipynb?exercise=mr-t1-contrast")
        page.fill(".merm-signin-name", "Claire Martin")
        page.fill(".merm-signin-cohort", "MERM-2026")
        page.click(".merm-signin-submit")
        page.wait_for_selector(".merm-exercise-panel", state="attached", timeout=180_000)
        assert "exercise=mr-t1-contrast" in page.url
        assert page.locator(".merm-panel-missing").count() == 0
        context.close()
        store = ProgressStore(f"sqlite:///{tmp_path / 'home' / 'progress.sqlite'}")
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while not store.events(kind="exercise_opened") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert [(e["username"], e["exercise_id"]) for e in store.events(kind="exercise_opened")] == [
            ("Claire Martin", "mr-t1-contrast")]
        assert {t["username"]: t["cohort"] for t in store.trainees()} == {"Claire Martin": "MERM-2026"}
        store.close()
    finally:
        _stop(lab)


def test_serve_refuses_a_missing_course(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "simulator", "serve", "--course", str(tmp_path / "nope")],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "dashboards" in out.stderr
