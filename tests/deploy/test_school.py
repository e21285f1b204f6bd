"""A school end to end (issue 12, item 9): a real JupyterHub with configurable-http-proxy,
PAM login, LocalProcessSpawner and system accounts, configured by
``simulator.deploy.jupyterhub.configure``, driven by headless Chromium."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.test_mr_console import screen_patient
from tests.conftest import free_port, missing
from tests.deploy.school import (
    ROOT,
    Account,
    School,
    accounts,
    check_readable_by,
    environ_of,
    log_in,
    missing_tools,
    processes_of,
    school,
    traversable,
)

pytestmark = [pytest.mark.school, pytest.mark.slow, pytest.mark.browser,
              pytest.mark.timeout(420)]  # hang guard for the whole module's set-up and tests


@pytest.fixture(scope="module")
def live_school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[School]:
    why = missing_tools()
    if why:
        missing(why)
    interpreter = Path(os.path.realpath(sys.executable)).parent
    with accounts("merm") as people, traversable(interpreter, ROOT):
        check_readable_by(people[0].name)
        ports = [free_port() for _ in range(5)]
        with school(tmp_path_factory.mktemp("school"), people, ports) as s:
            yield s


@pytest.fixture(scope="module")
def consoles(browser, live_school: School, artifacts_dir: Path) -> Iterator[dict[str, object]]:  # noqa: ANN001
    """Each trainee logged in, on the MR console their server opens on."""
    pages = {}
    try:
        for who in live_school.trainees:
            page = log_in(browser, live_school, who)
            page.wait_for_url(f"**/user/{who.name}/voila/render/**")
            page.wait_for_selector(".merm-scan", state="visible")
            page.wait_for_selector("img.merm-image")
            pages[who.name] = page
        yield pages
    finally:
        for name, page in pages.items():
            page.screenshot(path=str(artifacts_dir / f"school_{name[-2:]}.png"), full_page=True)
            page.context.close()


def _trainee(school: School, i: int) -> Account:
    return school.trainees[i]


def test_each_trainee_logs_in_and_scans(consoles: dict, live_school: School) -> None:
    for who in live_school.trainees:
        page = consoles[who.name]
        assert f"/user/{who.name}/" in page.url  # their own server, through the proxy
        screen_patient(page)
        src = page.locator("img.merm-image").get_attribute("src")
        page.locator(".merm-scan").click()
        page.wait_for_function(
            "() => document.querySelector('.merm-message').innerText.match(/acquired|acquise/)")
        page.wait_for_function("s => document.querySelector('img.merm-image').src !== s", arg=src)


def test_no_trainee_process_holds_a_secret(consoles: dict, live_school: School) -> None:
    forbidden = {"hub secret": live_school.secret, "database URL": live_school.db_url,
                 "MERM_DB_URL": "MERM_DB_URL=", "MERM_HUB_SECRET": "MERM_HUB_SECRET="}
    for who in live_school.trainees:
        pids = processes_of(who.uid)
        envs = {pid: environ_of(pid) for pid in pids}
        envs = {pid: e for pid, e in envs.items() if e}
        # the single-user server and at least the console's kernel
        assert len(envs) >= 2, f"{who.name}: processes {pids}"
        assert all(f"JUPYTERHUB_USER={who.name}" in e for e in envs.values())
        assert any("MERM_HUB_USER_KEY=merm-user." in e for e in envs.values())
        for pid, text in envs.items():
            for what, value in forbidden.items():
                assert value not in text, f"{who.name} pid {pid} holds the {what}"


def _poll(page, expression: str, timeout_s: float = 30.0):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(expression)
        if value or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(250)


def _call_a_mentor(page) -> str:  # noqa: ANN001
    """Click "Call a mentor" in the console's Mentor tab; the mentor link it shows."""
    page.locator(".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab", has_text="Mentor").click()
    page.locator(".merm-call-mentor").click()
    page.wait_for_selector("a.merm-link-mentor")
    return page.locator("a.merm-link-mentor").get_attribute("href")


@pytest.fixture(scope="module")
def call(consoles: dict, live_school: School) -> dict[str, str]:
    """Trainee 1 has called a mentor: the room's mentor link."""
    who = live_school.trainees[0]
    return {"trainee": who.name, "mentor_link": _call_a_mentor(consoles[who.name])}


def test_call_a_mentor_opens_a_room_through_the_proxy(browser, call: dict,  # noqa: ANN001
                                                      live_school: School) -> None:
    link = call["mentor_link"]
    assert link.startswith(f"{live_school.url}/services/merm-hub/"), link
    context = browser.new_context()
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(link.replace("/mentor#", "/mentor?name=Coach&lang=en&av=0#"))
        decoded = _poll(page, "window.merm.stats().then(s => s.console)")
        assert decoded > 0, "the mentor page decoded no console frame through the proxy"
        assert not failed, failed
    finally:
        context.close()
