"""The school of the end-to-end tests, started once for the package's test modules:
a real JupyterHub configured by ``configure()``, two trainees on their MR consoles, and
trainee 1 in a call (see :mod:`tests.deploy.school`)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, free_port, missing
from tests.deploy.school import (
    CULL_IDLE_S,
    ROOT,
    School,
    accounts,
    check_readable_by,
    log_in,
    missing_tools,
    school,
    traversable,
)


@pytest.fixture(scope="package")
def live_school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[School]:
    why = missing_tools()
    if why:
        missing(why)
    interpreter = Path(os.path.realpath(sys.executable)).parent
    with accounts("merm") as people, traversable(interpreter, ROOT):
        check_readable_by(people[0].name)
        ports = [free_port() for _ in range(5)]
        with school(tmp_path_factory.mktemp("school"), people, ports,
                    cull_idle_s=CULL_IDLE_S) as s:
            try:
                yield s
            finally:
                shutil.copy(s.log, ARTIFACTS / "school_jupyterhub.log")  # for a failure's reader


@pytest.fixture(scope="package")
def consoles(browser, live_school: School, artifacts_dir: Path) -> Iterator[dict[str, object]]:  # noqa: ANN001
    """Each trainee logged in, on the MR console their server opens on."""
    pages = {}
    try:
        started = [(who, log_in(browser, live_school, who)) for who in live_school.trainees]
        for who, page in started:  # both servers spawn at once
            page.wait_for_url(f"**/user/{who.name}/voila/render/**")
            page.wait_for_selector(".merm-scan", state="visible")
            page.wait_for_selector("img.merm-image")
            page.set_default_timeout(60_000)  # the server is up: each step is quick
            pages[who.name] = page
        yield pages
    finally:
        for name, page in pages.items():
            page.screenshot(path=str(artifacts_dir / f"school_{name[-2:]}.png"), full_page=True)
            page.context.close()


def _call_a_mentor(page) -> str:  # noqa: ANN001
    """Click "Call a mentor" in the console's Mentor tab; the mentor link it shows."""
    page.locator(".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab", has_text="Mentor").click()
    page.locator(".merm-call-mentor").click()
    page.wait_for_selector("a.merm-link-mentor")
    return page.locator("a.merm-link-mentor").get_attribute("href")


@pytest.fixture(scope="package")
def call(consoles: dict, live_school: School) -> dict[str, str]:
    """Trainee 1 has called a mentor: the room's mentor link."""
    who = live_school.trainees[0]
    return {"trainee": who.name, "mentor_link": _call_a_mentor(consoles[who.name])}


