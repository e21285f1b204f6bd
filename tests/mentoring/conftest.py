"""A real hub on a loopback port for each test, and ICE restricted to 127.0.0.1."""

from __future__ import annotations

import asyncio
import inspect
import socket
from collections.abc import Iterator
from types import SimpleNamespace

import aioice.ice
import pytest
from aiohttp import web

from simulator.mentoring.server import HUB_KEY, HubConfig, make_app

SECRET = b"test-secret-0123456789abcdef0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine's other interfaces may not route; aioice skips 127.0.0.1 unless told."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


@pytest.fixture
async def hub(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = HubConfig(
        secret=SECRET,
        public_url=url,
        audit_path=tmp_path / "audit.jsonl",
        recordings_dir=tmp_path / "rec",
        max_peers=6,
    )
    app = make_app(config)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield SimpleNamespace(url=url, hub=app[HUB_KEY], config=config)
    finally:
        await runner.cleanup()
