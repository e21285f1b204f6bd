"""A school end to end (issue 12, item 9): a real JupyterHub with configurable-http-proxy,
PAM login, LocalProcessSpawner and system accounts, configured by
``simulator.deploy.jupyterhub.configure``, driven by headless Chromium (the school itself is
started once in ``tests/deploy/conftest.py``)."""

from __future__ import annotations

import time

import pytest

from tests.browser.test_mr_console import screen_patient
from tests.deploy.school import CULL_IDLE_S, School, environ_of, poll, processes_of

pytestmark = [pytest.mark.school, pytest.mark.slow, pytest.mark.browser,
              pytest.mark.timeout(900)]  # hang guard for the school's set-up and each test


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
        decoded = poll(page, "window.merm.stats().then(s => s.console)")
        assert decoded > 0, "the mentor page decoded no console frame through the proxy"
        assert not failed, failed
    finally:
        context.close()


def test_the_kernel_of_a_closed_page_is_culled(consoles: dict, live_school: School) -> None:
    who = live_school.trainees[1]
    context = consoles[who.name].context
    kernels_url = f"{live_school.url}/user/{who.name}/api/kernels"

    def kernel_ids() -> set[str]:
        response = context.request.get(kernels_url)
        assert response.status == 200, response.status
        return {k["id"] for k in response.json()}

    before = kernel_ids()
    page = context.new_page()
    page.goto(consoles[who.name].url)
    page.wait_for_selector(".merm-scan", state="visible")
    opened = kernel_ids() - before
    assert len(opened) == 1, opened
    page.close()
    deadline = time.monotonic() + CULL_IDLE_S + 120  # hang guard: culled after ~20–30 s
    while opened & kernel_ids() and time.monotonic() < deadline:
        time.sleep(2)
    assert not opened & kernel_ids(), "the closed page's kernel is still alive"
    assert before <= kernel_ids()  # the open console keeps its kernel
