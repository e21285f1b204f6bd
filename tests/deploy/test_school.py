"""A school end to end (issue 12, item 9): a real JupyterHub with configurable-http-proxy,
PAM login, LocalProcessSpawner and system accounts, configured by
``simulator.deploy.jupyterhub.configure``, driven by headless Chromium."""

from __future__ import annotations

import os
import sys
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
