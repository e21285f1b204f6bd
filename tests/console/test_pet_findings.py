"""The AI findings on the PET console: the panel is beside the image, the real detector
reads a reconstructed IEC phantom, and a click adds a missed finding only when armed."""

from __future__ import annotations

import dataclasses

import pytest


@pytest.fixture(scope="module")
def scanned():  # noqa: ANN201
    from simulator.console.pet_console import PETConsole

    c = PETConsole(lang="fr")
    s = c.session
    s.set_anatomy("nema-iec", "4")
    s.load_protocol(dataclasses.replace(s.protocol, iterations=2, subsets=7), standard=False)
    s.clock = "max"
    s.apply_command({"type": "scan"})
    s.wait(300)  # hang guard
    assert s.scan_state == "done", s.message
    return c


def test_the_pet_console_lists_the_detectors_hot_lesions(scanned) -> None:  # noqa: ANN001
    c = scanned
    s = c.session
    assert c.findings.widget in c.viewer.controls.children
    assert s.apply_command({"type": "show_findings", "on": True})["ok"]
    state = s.snapshot()["findings"]
    assert state["shown"] is True
    items = state["items"]
    assert items, s.findings_error()
    assert {f["label"] for f in items} == {"pet_hot_lesion"}
    assert all(f["text"]["fr"] and f["text"]["de"] for f in items)


def test_a_click_places_the_roi_unless_add_a_finding_is_armed(scanned) -> None:  # noqa: ANN001
    from simulator.console.viewer import FRAME_H, FRAME_W

    c = scanned
    before = len(c.session.snapshot()["findings"]["added"])
    c.viewer.click_frame(FRAME_W // 2, FRAME_H // 2)
    assert len(c.session.snapshot()["findings"]["added"]) == before  # the ROI took it
    c.findings.armed = True
    c.viewer.click_frame(FRAME_W // 2, FRAME_H // 2)
    assert len(c.session.snapshot()["findings"]["added"]) == before + 1
