"""Fixtures shared by the console tests."""

from __future__ import annotations

import dataclasses

import pytest

from simulator.console.pet_console import PETConsole


@pytest.fixture(scope="module")
def scanned_pet() -> PETConsole:
    """A French PET console after one small scan (64², OSEM 2×7), for each module that asks."""
    c = PETConsole(lang="fr")
    s = c.session
    s.load_protocol(dataclasses.replace(s.protocol, iterations=2, subsets=7, matrix=64))
    s.clock = "max"
    s.apply_command({"type": "scan"})
    s.wait(300)
    assert s.scan_state == "done", s.message
    return c
