"""Landing page latency on a warm lab server (not collected by pytest).

    python tests/benchmarks/bench_landing.py [--repeat N]

Starts ``merm-lab serve`` on the repository's course, signs in, then measures in headless
Debian Chromium (median of N, default 5, after one warm-up):
  * ``/`` requested → ``.merm-landing`` with its exercise links shown      target ≤ 2 s
  * an exercise link clicked → its console usable (Submit shown)           (console target ≤ 4 s)
and ``landing_page()`` itself (the pure render, warm cache).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import CHROMIUM_ARGS, chromium_path, free_port  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    n = ap.parse_args().repeat
    from playwright.sync_api import sync_playwright

    from simulator.lab.landing import landing_page

    landing_page("en")
    pure = []
    for _ in range(n):
        t0 = time.perf_counter()
        landing_page("en", "bench", False)
        pure.append((time.perf_counter() - t0) * 1000)
    home = tempfile.mkdtemp(prefix="merm-bench-")
    port, hub = free_port(), free_port()
    env = dict(os.environ, MERM_HOME=home)
    env.pop("MERM_DB_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "serve", "--port", str(port),
                             "--hub-port", str(hub), "--course", str(ROOT / "course")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/merm/signin", timeout=2).close()  # noqa: S310
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=chromium_path(), headless=True,
                                   args=CHROMIUM_ARGS)
            page = b.new_page(viewport={"width": 1366, "height": 768}, locale="en-US")
            page.set_default_timeout(240_000)
            page.goto(base + "/")
            page.locator(".merm-signin-name").fill("Bench")
            page.locator(".merm-signin-submit").click()
            page.wait_for_selector(".merm-exercise-link")
            landing, console = [], []
            for i in range(n + 1):
                t0 = time.perf_counter()
                page.goto(base + "/")
                page.wait_for_selector(".merm-exercise-link")
                t1 = time.perf_counter()
                page.locator(".merm-exercise-link[data-exercise='mr-t1-contrast']").click()
                page.wait_for_selector(".merm-exercise-submit", state="visible")
                t2 = time.perf_counter()
                if i:  # the first round warms the server
                    landing.append((t1 - t0) * 1000)
                    console.append((t2 - t1) * 1000)
            b.close()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(30)
    rows = [("landing_page() render", pure, None), ("landing usable", landing, 2000.0),
            ("exercise console usable", console, 4000.0)]
    print(f"{'measure':28} {'median ms':>10} {'target ms':>10} {'ratio':>6}")
    for name, xs, target in rows:
        med = statistics.median(xs)
        ratio = f"{med / target:.2f}" if target else "—"
        print(f"{name:28} {med:10.1f} {target or float('nan'):10.0f} {ratio:>6}")


if __name__ == "__main__":
    main()
