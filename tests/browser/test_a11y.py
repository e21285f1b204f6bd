"""Accessibility (WCAG 2.2 AA) of the lab in real headless Chromium at 1366×768, fr/en/de.

axe-core (npm registry, installed by ``scripts/test.sh``) is injected into each page: the
landing page ``/`` (and its sign-in), the MR and PET consoles (Voilà, under ``merm-lab
serve``) and the hub's mentor page. No serious or critical violation is allowed. The MR
console is also driven by the keyboard alone: the image takes the focus (visible ring),
PageDown changes the slice, Shift+↑ the level, Shift+→ the window, through the same session
commands as the sliders.

One ``serve`` (landing + both consoles) and one hub for the module; one page load per page
and language.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import PAGE_HANG_GUARD_MS, free_port, missing
from tests.lab_signin import serving_lab

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1200)]  # hang guard, not a budget

ROOT = Path(__file__).resolve().parents[2]
VIEWPORT = {"width": 1366, "height": 768}
LANGS = ("fr", "en", "de")
LOCALES = {"fr": "fr-FR", "en": "en-GB", "de": "de-DE"}
START_GUARD_S = 240.0  # a hang guard: the lab starts slowly on a loaded machine
#: axe's rules for WCAG 2.0, 2.1 and 2.2, levels A and AA, and its best practices
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = ("serious", "critical")
SECRET = b"a11y-test-secret-0123456789abcdef0123"


def axe_script() -> Path:
    """``axe.min.js`` of the npm package ``axe-core`` (``npm install -g axe-core``)."""
    roots = [os.environ.get("MERM_AXE_DIR", "")]
    npm = shutil.which("npm")
    if npm:
        try:
            roots.append(subprocess.run([npm, "root", "-g"], capture_output=True, text=True,
                                        timeout=60, check=False).stdout.strip() + "/axe-core")
        except (OSError, subprocess.TimeoutExpired):
            pass
    roots += ["/usr/lib/node_modules/axe-core", "/usr/local/lib/node_modules/axe-core",
              str(ROOT / "node_modules" / "axe-core")]
    for root in roots:
        path = Path(root) / "axe.min.js"
        if root and path.is_file():
            return path
    missing("axe-core is not installed (scripts/test.sh runs `npm install -g axe-core` as root)")


def axe_violations(page, script: Path) -> list[dict]:  # noqa: ANN001
    """axe-core's violations on the page as it is now: id, impact, help and targets."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=script.read_text(encoding="utf-8"))
    return page.evaluate(
        """tags => { const where = (sel) => { try { const e = document.querySelector(sel);
                  const m = e && e.closest("[class*='merm-']");
                  return m ? [...m.classList].filter(c => c.startsWith('merm-')).join('.') : '?';
                } catch (err) { return '?'; } };
            return axe.run(document, {runOnly: {type: 'tag', values: tags},
                                     resultTypes: ['violations']})
              .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                  targets: v.nodes.map(n => n.target.join(' ') + ' in '
                      + where(n.target[n.target.length - 1]) + ' :: '
                      + (n.failureSummary || '').replace(/\\s+/g, ' '))}))); }""",
        AXE_TAGS,
    )


def blocking(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in BLOCKING]


def report(where: str, violations: list[dict]) -> str:
    lines = [f"{where}: {len(violations)} axe violation(s)"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
        lines += [f"      {t[:300]}" for t in v["targets"][:8]]
    return "\n".join(lines)


def check(page, script: Path, where: str, artifacts: Path) -> None:  # noqa: ANN001
    found = axe_violations(page, script)
    (artifacts / "a11y").mkdir(exist_ok=True)
    (artifacts / "a11y" / f"{where}.txt").write_text(report(where, found), encoding="utf-8")
    bad = blocking(found)
    assert not bad, "serious/critical: " + report(where, bad)


@pytest.fixture(scope="module")
def axe() -> Path:
    return axe_script()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``merm-lab serve`` (landing page and both consoles), without the mentoring hub."""
    tmp = tmp_path_factory.mktemp("a11y")
    env = dict(os.environ, MERM_HOME=str(tmp / "home"), PYTHONDONTWRITEBYTECODE="1")
    for name in ("MERM_DB_URL", "MERM_COURSE_DIR", "MERM_LANG"):
        env.pop(name, None)
    with serving_lab(["--port", str(free_port()), "--no-hub"], env, tmp / "serve.log",
                     START_GUARD_S, cwd=ROOT) as base:
        yield base


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A mentoring hub with one room, a real MR console (French) joined as trainee "Alice"."""
    import aioice.ice
    from aiohttp import web

    from simulator.console.session import ConsoleSession
    from simulator.mentoring.client import create_room
    from simulator.mentoring.server import HubConfig, make_app
    from simulator.mentoring.trainee import TraineeLink

    saved = aioice.ice.get_host_addresses  # loopback only: other interfaces may not route
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro, timeout: float = 60.0):  # noqa: ANN001, ANN202
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    port = free_port()
    tmp = tmp_path_factory.mktemp("a11y-hub")
    config = HubConfig(secret=SECRET, public_url=f"http://127.0.0.1:{port}",
                       audit_path=tmp / "audit.jsonl")
    runner = web.AppRunner(make_app(config))
    session = ConsoleSession("mr", lang="fr", anatomy="brain", clock="max")

    async def start():  # noqa: ANN202
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        room = await create_room(config.base, SECRET, "IRM 1", "mr")
        link = TraineeLink(session, config.base, room["tokens"]["trainee"], name="Alice",
                           size=(320, 240))
        await link.start()
        return room, link

    room, link = run(start())
    try:
        yield SimpleNamespace(mentor=room["links"]["mentor"])
    finally:
        run(link.close())
        run(runner.cleanup())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        aioice.ice.get_host_addresses = saved


def _new_page(browser, lang: str):  # noqa: ANN001, ANN202
    context = browser.new_context(viewport=VIEWPORT, locale=LOCALES[lang])
    page = context.new_page()
    page.set_default_timeout(PAGE_HANG_GUARD_MS)
    return context, page


def _sign_in(page, base: str, lang: str, axe: Path, artifacts: Path) -> None:  # noqa: ANN001
    page.goto(f"{base}/?lang={lang}")
    page.wait_for_selector(".merm-signin-name")
    check(page, axe, f"signin_{lang}", artifacts)
    page.locator(".merm-signin-name").fill("Alex Martin")
    page.locator(".merm-signin-submit").click()
    page.wait_for_selector(".merm-landing")


def _open_console(page, base: str, modality: str, lang: str) -> None:  # noqa: ANN001
    page.goto(f"{base}/voila/render/{modality}_console.ipynb?lang={lang}")
    page.wait_for_selector(".merm-scan", state="visible")
    page.wait_for_selector("img.merm-image")
    page.wait_for_timeout(500)  # the last widgets' views settle


TABS = ".widget-tab .lm-TabBar-tab, .widget-tab .p-TabBar-tab"


def _check_every_tab(page, axe: Path, where: str, artifacts: Path) -> None:  # noqa: ANN001
    """axe on the console with each of its tabs open in turn (axe skips hidden content);
    every tab's violations are gathered before the assertion."""
    tabs = page.locator(TABS)
    found: dict[str, list[dict]] = {}
    for i in range(tabs.count()):
        tabs.nth(i).click()
        page.wait_for_timeout(300)
        found[f"{where}_tab{i}"] = axe_violations(page, axe)
    (artifacts / "a11y").mkdir(exist_ok=True)
    text = "\n".join(report(k, v) for k, v in found.items())
    (artifacts / "a11y" / f"{where}.txt").write_text(text, encoding="utf-8")
    bad = {k: blocking(v) for k, v in found.items() if blocking(v)}
    assert not bad, "serious/critical: " + "\n".join(report(k, v) for k, v in bad.items())
    tabs.nth(0).click()


@pytest.mark.parametrize("lang", LANGS)
def test_landing_and_consoles(browser, lab: str, axe: Path, artifacts_dir: Path,  # noqa: ANN001
                              lang: str) -> None:
    context, page = _new_page(browser, lang)
    try:
        _sign_in(page, lab, lang, axe, artifacts_dir)
        assert page.locator("html").get_attribute("lang") == lang
        check(page, axe, f"landing_{lang}", artifacts_dir)
        for modality in ("mr", "pet"):
            _open_console(page, lab, modality, lang)
            page.screenshot(path=str(artifacts_dir / f"a11y_{modality}_{lang}.png"))
            _check_every_tab(page, axe, f"{modality}_console_{lang}", artifacts_dir)
    finally:
        context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_mentor_page(browser, hub: SimpleNamespace, axe: Path, artifacts_dir: Path,  # noqa: ANN001
                     lang: str) -> None:
    context, page = _new_page(browser, lang)
    try:
        page.goto(hub.mentor.replace("/mentor#", f"/mentor?name=Dr&lang={lang}&av=0#"))
        page.wait_for_selector(".merm-param-tr_ms")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(artifacts_dir / f"a11y_mentor_{lang}.png"))
        check(page, axe, f"mentor_{lang}", artifacts_dir)
    finally:
        context.close()


def _slider_value(page, css: str) -> float:  # noqa: ANN001
    return float(page.locator(f"{css} [role=slider]").get_attribute("aria-valuenow"))


def test_keyboard_alone_on_the_image(browser, lab: str, axe: Path, artifacts_dir: Path) -> None:  # noqa: ANN001
    """Safety answers named with a pressed state; after a scan the image takes the focus by
    Tab (a visible ring) and PageDown, Shift+↑ and Shift+→ act on it as the mouse does."""
    import numpy as np
    from PIL import Image

    context, page = _new_page(browser, "fr")
    try:
        _sign_in(page, lab, "fr", axe, artifacts_dir)
        _open_console(page, lab, "mr", "fr")
        # the sliders are named after their labels (the technologist's words, in French)
        assert page.locator(".merm-slice [role=slider]").get_attribute("aria-label") == "Coupe"
        for q in ("pacemaker", "neurostim", "cochlear", "metal_eye", "clips", "pregnant"):
            no = page.locator(f".merm-safety-{q} button").nth(2)
            assert no.get_attribute("aria-pressed") == "false"
            no.click()
            page.wait_for_function("b => b.getAttribute('aria-pressed') === 'true'",
                                   arg=no.element_handle())
        first = page.locator(".merm-safety-pacemaker button")
        assert first.nth(2).get_attribute("aria-label").endswith("? — Non")
        assert first.nth(1).get_attribute("aria-pressed") == "false"
        page.locator(".merm-safety-validate").click()
        page.wait_for_function("() => !document.querySelector('.merm-scan').disabled")
        page.locator(".merm-clock select").select_option("max")
        src = page.locator("img.merm-image").get_attribute("src")
        page.locator(".merm-scan").click()
        page.wait_for_function("s => document.querySelector('img.merm-image').src !== s", arg=src)
        page.wait_for_function("() => Number(document.querySelector('.merm-slice [role=slider]')"
                               ".getAttribute('aria-valuemax')) > 2")
        check(page, axe, "mr_console_fr_after_scan", artifacts_dir)

        # Tab order: the slice slider comes right after the image; Shift+Tab reaches it
        image = page.locator("img.merm-image")
        assert image.get_attribute("tabindex") == "0"
        assert "Page" in image.get_attribute("aria-label")
        page.locator(".merm-slice [role=slider]").focus()
        page.keyboard.press("Shift+Tab")
        assert page.evaluate("() => document.activeElement.classList.contains('merm-image')")
        outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"
        page.locator(".merm-viewer").screenshot(path=str(artifacts_dir / "a11y_focus_ring.png"))

        before_px = np.asarray(Image.open(io.BytesIO(image.screenshot())), float)
        slice0 = _slider_value(page, ".merm-slice")
        src = image.get_attribute("src")
        page.keyboard.press("PageDown")
        page.wait_for_function("s => document.querySelector('img.merm-image').src !== s", arg=src)
        assert _slider_value(page, ".merm-slice") == slice0 + 1
        page.wait_for_timeout(300)
        after_px = np.asarray(Image.open(io.BytesIO(image.screenshot())), float)
        assert np.abs(after_px - before_px).mean() > 1.0  # another slice: other pixels

        level0, width0 = _slider_value(page, ".merm-level"), _slider_value(page, ".merm-window")
        page.keyboard.press("Shift+ArrowUp")
        page.wait_for_function(
            "l => Number(document.querySelector('.merm-level [role=slider]')"
            ".getAttribute('aria-valuenow')) > l", arg=level0)
        page.keyboard.press("Shift+ArrowRight")
        page.wait_for_function(
            "w => Number(document.querySelector('.merm-window [role=slider]')"
            ".getAttribute('aria-valuenow')) > w", arg=width0)
        page.keyboard.press("PageUp")
        page.wait_for_function(
            "s => Number(document.querySelector('.merm-slice [role=slider]')"
            ".getAttribute('aria-valuenow')) === s", arg=slice0)
        # the keys stayed on the image (the page did not scroll them away)
        assert page.evaluate("() => document.activeElement.classList.contains('merm-image')")
        page.locator(".merm-viewer").screenshot(path=str(artifacts_dir / "a11y_keyboard_wl.png"))
    finally:
        context.close()
