"""Console latency in a real browser against a real Voilà server (not collected by pytest).

    python tests/benchmarks/bench_console.py [--repeat N]

Measures, in headless Debian Chromium:
  * page open → console usable (Scan button and first image shown)            target ≤ 4 s
  * TR typed + Enter → scan-time text updated in the page                      target ≤ 100 ms
  * Scan click (fast clock "max") → a new image in the page (preview slice)    target ≤ 300 ms
  * Scan click (fast clock) → the whole series acquired and shown              (no target)
and prints a table (median, p90, target, ratio median/target).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.browser.voila_server import voila  # noqa: E402
from tests.conftest import CHROMIUM_ARGS, chromium_path, free_port  # noqa: E402


def p90(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(0.9 * (len(s) - 1)))]


BARE = """{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],
 "source": ["import ipywidgets as W\\n", "b = W.Button(description='x')\\n", "b.add_class('merm-scan')\\n", "b"]}],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
 "nbformat": 4, "nbformat_minor": 5}"""


def bare_page_times(n: int, extra: tuple[str, ...]) -> list[float]:
    """Open → widget shown for a one-button notebook: the floor set by Voilà itself."""
    import tempfile

    from playwright.sync_api import sync_playwright

    nb = Path(tempfile.mkdtemp()) / "bare.ipynb"
    nb.write_text(BARE)
    out = []
    with voila(str(nb), free_port(), extra_args=extra) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        for i in range(n + 1):
            if extra:
                time.sleep(5)
            page = browser.new_page()
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_selector(".merm-scan", state="visible", timeout=60_000)
            if i:  # the first is a warm-up
                out.append(time.perf_counter() - t0)
            page.close()
        browser.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--preheat",
        action="store_true",
        help="Voilà preheated kernels (--preheat_kernel=True --pool_size=1)",
    )
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    rows: dict[str, list[float]] = {
        "bare Voilà widget page (s)": [],
        "open → usable (s)": [],
        "TR → scan time (ms)": [],
        "Scan → new image (ms)": [],
        "Scan → series done (ms)": [],
    }
    extra = ("--preheat_kernel=True", "--pool_size=1") if args.preheat else ()
    rows["bare Voilà widget page (s)"] = bare_page_times(max(2, args.repeat // 2), extra)
    with voila("mr_console.ipynb", free_port(), extra_args=extra) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        # warm-up page (first kernel start pays Python imports into the page cache)
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector(".merm-scan", timeout=60_000)
        page.close()
        for _ in range(max(2, args.repeat // 2)):
            if args.preheat:
                time.sleep(8)  # let the pool refill (the next kernel runs the imports)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_selector(".merm-scan", state="visible", timeout=60_000)
            page.wait_for_function(
                "() => { const i = document.querySelector('img.merm-image');"
                " return i && i.complete && i.naturalWidth > 0; }",
                timeout=60_000,
            )
            rows["open → usable (s)"].append(time.perf_counter() - t0)
            page.close()

        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        page.wait_for_selector(".merm-scan", state="visible")
        page.locator(".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab").nth(2).click()
        box = page.locator(".merm-param-tr_ms input")
        for i in range(args.repeat * 2):
            before = page.locator(".merm-scan-time").inner_text()
            box.fill(str(600 + 50 * (i % 7) + i))
            t0 = time.perf_counter()
            box.press("Enter")
            page.wait_for_function(
                "b => document.querySelector('.merm-scan-time').innerText !== b",
                arg=before,
                polling="raf",
            )
            rows["TR → scan time (ms)"].append(1000 * (time.perf_counter() - t0))
        box.fill("500")
        box.press("Enter")
        page.locator(".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab").nth(0).click()
        for q in ("pacemaker", "neurostim", "cochlear", "metal_eye", "clips", "pregnant"):
            page.locator(f".merm-safety-{q} button").nth(2).click()
        page.locator(".merm-safety-validate").click()
        page.wait_for_function("() => !document.querySelector('.merm-scan').disabled")
        page.locator(".merm-clock select").select_option("max")
        for _ in range(args.repeat):
            page.wait_for_function("() => !document.querySelector('.merm-scan').disabled")
            src = page.locator("img.merm-image").get_attribute("src")
            n_before = page.locator(".merm-series-a option").count()
            t0 = time.perf_counter()
            page.locator(".merm-scan").click()
            page.wait_for_function(
                "s => document.querySelector('img.merm-image').src !== s", arg=src, polling="raf"
            )
            rows["Scan → new image (ms)"].append(1000 * (time.perf_counter() - t0))
            page.wait_for_function(
                "n => document.querySelectorAll('.merm-series-a option').length > n", arg=n_before
            )
            rows["Scan → series done (ms)"].append(1000 * (time.perf_counter() - t0))
        page.close()
        browser.close()

    targets = {
        "bare Voilà widget page (s)": None,
        "open → usable (s)": 4.0,
        "TR → scan time (ms)": 100.0,
        "Scan → new image (ms)": 300.0,
        "Scan → series done (ms)": None,
    }
    print(f"\nVoilà {'preheated kernels' if args.preheat else 'default (kernel started per page)'}")
    print(f"{'measure':28s} {'n':>3s} {'median':>9s} {'p90':>9s} {'target':>8s} {'ratio':>6s}")
    for name, xs in rows.items():
        med = statistics.median(xs)
        t = targets[name]
        ratio = f"{med / t:.2f}" if t else "—"
        print(f"{name:28s} {len(xs):3d} {med:9.3g} {p90(xs):9.3g} {t if t else '—':>8} {ratio:>6s}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
