"""Benchmark: memory per trainee on a real school server (issue 12, item 6).

Run as root, as a script (about 2–3 min on two cores)::

    python tests/benchmarks/bench_school.py [--trainees 2]

The school of ``tests/deploy/school.py``: JupyterHub with configurable-http-proxy, PAM and
LocalProcessSpawner, configured by ``simulator.deploy.jupyterhub.configure``, system accounts
made and removed. Each trainee logs in with headless Chromium and lands on the MR console.
Reported per trainee: PSS (``/proc/<pid>/smaps_rollup``) of every process the trainee's
account owns — the single-user server and the console's kernel — (1) with the console open,
(2) after a scan, (3) in a mentoring call (Call a mentor, the mentor page watching the console
video). Targets: ≤ 200 MB with the console open, ≤ 300 MB in a call. PSS shares the pages
that the trainees' identical processes have in common, so it is what each more trainee costs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import CHROMIUM_ARGS, chromium_path, free_port  # noqa: E402
from tests.deploy.school import (  # noqa: E402
    accounts,
    check_readable_by,
    log_in,
    missing_tools,
    poll,
    processes_of,
    school,
    traversable,
)

SETTLE_S = 5.0  # after each step, before reading memory


def pss_kb(pid: int) -> int:
    """Proportional set size of ``pid`` (kB), 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:80]
    except OSError:
        return ""


def trainee_mb(uid: int) -> tuple[float, list[tuple[str, float]]]:
    parts = [(cmdline(p), pss_kb(p) / 1024) for p in processes_of(uid)]
    parts = [(c, m) for c, m in parts if m > 0]
    return sum(m for _, m in parts), parts


@contextlib.contextmanager
def _log_on_failure(s: object) -> Iterator[None]:
    """On a failure, the end of JupyterHub's log (the servers' and kernels' errors) first."""
    try:
        yield
    except BaseException:
        print(s.log_tail(8000), file=sys.stderr)  # type: ignore[attr-defined]
        raise


def main(n_trainees: int) -> None:
    why = missing_tools()
    if why or chromium_path() is None:
        sys.exit(why or "chromium is missing")
    from playwright.sync_api import sync_playwright

    from tests.browser.test_mr_console import screen_patient

    interpreter = Path(os.path.realpath(sys.executable)).parent
    figures: dict[str, list[float]] = {"console open": [], "after a scan": [], "in a call": []}
    parts_at: dict[str, list[tuple[str, list[tuple[str, float]]]]] = {k: [] for k in figures}
    load_start = os.getloadavg()

    def record(step: str, who: object) -> None:
        total, parts = trainee_mb(who.uid)  # type: ignore[attr-defined]
        figures[step].append(total)
        parts_at[step].append((who.name, parts))  # type: ignore[attr-defined]

    with accounts("mermb", trainees=n_trainees) as people, traversable(interpreter, ROOT), \
            tempfile.TemporaryDirectory(prefix="merm-school-") as work:
        check_readable_by(people[0].name)
        ports = [free_port() for _ in range(5)]
        with school(Path(work), people, ports, cull_idle_s=900) as s, \
                _log_on_failure(s), sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), headless=True,
                                         args=CHROMIUM_ARGS)
            pages = [(who, log_in(browser, s, who)) for who in s.trainees]
            for who, page in pages:
                page.wait_for_url(f"**/user/{who.name}/voila/render/**")
                page.wait_for_selector(".merm-scan", state="visible")
                page.wait_for_selector("img.merm-image")
                page.set_default_timeout(60_000)
            time.sleep(SETTLE_S)
            for who, _ in pages:
                record("console open", who)
            for _who, page in pages:
                screen_patient(page)
                src = page.locator("img.merm-image").get_attribute("src")
                page.locator(".merm-scan").click()
                page.wait_for_function(
                    "s => document.querySelector('img.merm-image').src !== s", arg=src)
            time.sleep(SETTLE_S)
            for who, _ in pages:
                record("after a scan", who)
            mentors = []
            for _who, page in pages:
                page.locator(".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab",
                             has_text="Mentor").click()
                page.locator(".merm-call-mentor").click()
                page.wait_for_selector("a.merm-link-mentor")
                link = page.locator("a.merm-link-mentor").get_attribute("href")
                mentor = browser.new_page()
                mentor.goto(link.replace("/mentor#", "/mentor?name=Coach&lang=en&av=0#"))
                if not poll(mentor, "window.merm.stats().then(s => s.console)", 60):
                    sys.exit("the mentor page decoded no console frame")
                mentors.append(mentor)
            time.sleep(SETTLE_S)
            for who, _ in pages:
                record("in a call", who)
            browser.close()
    print(f"PSS per trainee, {n_trainees} trainees (single-user server + console kernel), MB")
    for step, values in figures.items():
        target = {"console open": 200, "in a call": 300}.get(step)
        goal = f"   target ≤ {target}" if target else ""
        print(f"  {step:14s} mean {statistics.mean(values):6.0f}   max {max(values):6.0f}{goal}")
    for step, people_parts in parts_at.items():
        for name, parts in people_parts:
            print(f"  {step}, {name}:")
            for cmd, mb in sorted(parts, key=lambda p: -p[1]):
                print(f"    {mb:6.0f}  {cmd}")
    end = os.getloadavg()
    print(f"load average at start {load_start[0]:.1f}, at the end {end[0]:.1f} "
          f"({os.cpu_count()} cores)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=2)
    main(parser.parse_args().trainees)
