"""A trainee's day in a real browser: the MR console (real Voilà) lists the worklist of a
real Orthanc, the trainee picks the procedure, scans and clicks Send to PACS."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from simulator.hospital.worklist import procedure_for_scenario, write_worklist_files
from tests.browser.voila_server import voila
from tests.conftest import PAGE_HANG_GUARD_MS, free_port

pytestmark = [pytest.mark.browser, pytest.mark.orthanc, pytest.mark.slow, pytest.mark.timeout(600)]


def test_worklist_pick_scan_and_send_to_pacs(browser, orthanc, artifacts_dir: Path) -> None:  # noqa: ANN001
    sp = procedure_for_scenario("headache", dt.datetime(2026, 3, 2, 8, 0))
    write_worklist_files([sp], orthanc.worklists)
    env = {
        "MERM_WORKLIST": orthanc.address,
        "MERM_PACS": orthanc.address,
        "MERM_PACS_WEB": orthanc.http,
    }
    with voila("mr_console.ipynb", free_port(), env_extra=env) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1050}, locale="en-US")
        page.set_default_timeout(PAGE_HANG_GUARD_MS)
        page.goto(url)
        page.wait_for_selector(".merm-scan", state="visible")
        # The patient step lists the scheduled procedure (C-FIND); choosing it fills the exam.
        page.wait_for_function(
            "() => document.querySelectorAll('.merm-worklist select option').length === 2"
        )
        page.locator(".merm-worklist select").select_option(index=1)
        page.wait_for_function(
            "a => document.querySelector('.merm-worklist-status').innerText.includes(a)",
            arg=sp.accession_number,
        )
        assert "MARTIN" in page.locator(".merm-patient-card").inner_text()
        page.locator(".merm-worklist-box").screenshot(
            path=str(artifacts_dir / "hospital_worklist.png")
        )
        for q in ("pacemaker", "neurostim", "cochlear", "metal_eye", "clips", "pregnant"):
            page.locator(f".merm-safety-{q} button").nth(2).click()
        page.locator(".merm-safety-validate").click()
        page.wait_for_function("() => !document.querySelector('.merm-scan').disabled")
        page.locator(".merm-clock select").select_option("max")
        page.locator(".merm-scan").click()
        page.wait_for_function(
            "() => document.querySelector('.merm-message').innerText.match(/acquired|acquise/)"
        )
        # Send to PACS: the series says sent, with its Orthanc viewer link.
        page.locator(".merm-send-pacs").click()
        page.wait_for_selector(".merm-pacs-series[data-state='sent']")
        href = page.locator("a.merm-pacs-view").get_attribute("href")
        assert href is not None and href.startswith(
            orthanc.http + "/app/explorer.html#series?uuid="
        )
        page.locator(".merm-pacs").screenshot(path=str(artifacts_dir / "hospital_send_to_pacs.png"))
        page.close()
    (study,) = orthanc.get("/studies")
    tags = orthanc.get(f"/studies/{study}")["MainDicomTags"]
    assert (
        tags["AccessionNumber"] == sp.accession_number and tags["StudyInstanceUID"] == sp.study_uid
    )
    sid = href.rsplit("uuid=", 1)[1]
    assert orthanc.get(f"/series/{sid}")["MainDicomTags"]["SeriesNumber"] == "1"
