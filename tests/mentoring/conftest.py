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


async def start_hub(config: HubConfig, port: int) -> tuple[web.AppRunner, web.Application]:
    """A hub serving ``config`` on 127.0.0.1:``port`` (stop it with ``runner.cleanup()``)."""
    app = make_app(config)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, app


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
    runner, app = await start_hub(config, port)
    state = SimpleNamespace(url=url, hub=app[HUB_KEY], config=config, port=port)

    async def restart() -> None:
        """Stop this hub and start a new process-like one on the same port and files."""
        nonlocal runner
        await runner.cleanup()
        runner, new_app = await start_hub(config, port)
        state.hub = new_app[HUB_KEY]

    state.restart = restart
    try:
        yield state
    finally:
        await runner.cleanup()
