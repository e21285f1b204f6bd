"""A real hub on a loopback port for each test, and ICE restricted to 127.0.0.1."""

from __future__ import annotations

from types import SimpleNamespace

import aioice.ice
import pytest
from aiohttp import web
from mentoring_fakes import SECRET

from simulator.mentoring.server import HUB_KEY, HubConfig, make_app
from tests.conftest import free_port


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
