"""Fixtures shared by the whole suite: headless Chromium, free ports, artefact folder."""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

#: Flags for Debian's Chromium as root in a closed network (no sandbox, no background
#: traffic), with fake camera/microphone for WebRTC tests and loopback ICE allowed.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
]


#: How long a browser test waits for one page event before calling it a hang. A guard, not a
#: budget: on a machine loaded by other jobs a kernel start or a scan can take minutes, and
#: the suite must stay green there (run times live in tests/benchmarks/).
PAGE_HANG_GUARD_MS = 240_000


def chromium_path() -> str | None:
    """Debian's Chromium (never a Playwright-downloaded browser)."""
    return os.environ.get("MERM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def missing(what: str) -> NoReturn:
    """Skip a test whose system tool is absent, except in CI (``CI=true``), where the test
    command installs every tool and a missing one must turn the run red, not silently green."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{what} (CI=true: scripts/test.sh should have installed it)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Folder for screenshots and logs kept after the run (``test-artifacts/``)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless Debian Chromium driven by Playwright; skips where Chromium is absent."""
    path = chromium_path()
    if path is None:
        missing("chromium is not installed (scripts/test.sh installs it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(autouse=True)
def _no_foreign_running_loop(request: pytest.FixtureRequest) -> Iterator[None]:
    """Playwright's sync API leaves its loop marked as running in the main thread between
    calls (session-scoped ``browser``); pytest-asyncio then refuses to start. Hide it for
    the duration of each asyncio test and put it back after."""
    if not inspect.iscoroutinefunction(request.function):
        yield
        return
    saved = asyncio._get_running_loop()
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(saved)
