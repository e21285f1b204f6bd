"""The PET console's worklist picker in real headless Chromium (1366×768) against a real
Voilà and a real Orthanc: the worklist written by ``merm-lab worklist add --modality PT``
shows the PT entries only; choosing one admits the patient and fills the card (French,
then English in a second kernel); the French trainee scans and sends to the PACS, and
Orthanc holds the study under the worklist's accession, Study UID and patient."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.hospital.worklist import procedure_for_scenario, write_worklist_files
from tests.browser.voila_server import voila
from tests.conftest import PAGE_HANG_GUARD_MS, free_port

pytestmark = [pytest.mark.browser, pytest.mark.orthanc, pytest.mark.slow, pytest.mark.timeout(900)]

VIEWPORT = {"width": 1366, "height": 768}
START = dt.datetime(2026, 3, 2, 8, 0)


def _pick(page, accession: str) -> None:  # noqa: ANN001
    """Choose the worklist entry of ``accession`` as a trainee does (its option's label)."""
    page.wait_for_function(
        "() => document.querySelectorAll('.merm-worklist select option').length === 4"
    )
    labels = page.locator(".merm-worklist select option").all_inner_texts()
    assert not any("MARTIN" in text for text in labels)  # the MR entry is not a PET's
    (label,) = [text for text in labels if accession in text]
    page.locator(".merm-worklist select").select_option(label=label)
    page.wait_for_function(
        "a => document.querySelector('.merm-worklist-status').innerText.includes(a)",
        arg=accession,
    )


def test_pet_worklist_pick_scan_and_send_to_pacs(browser, orthanc, artifacts_dir: Path) -> None:  # noqa: ANN001
    mr = procedure_for_scenario("headache", START)
    write_worklist_files([mr], orthanc.worklists)
    argv = ["worklist", "add", "--modality", "PT", "--scenario", "all", "--to", orthanc.address]
    assert main([*argv, "--folder", str(orthanc.worklists), "--start", "2026-03-02T08:00"]) == 0
    brain = procedure_for_scenario("dementia", START + dt.timedelta(minutes=60), 2, "MERMLAB", "PT")
    body = procedure_for_scenario("lymphoma", START, 0, "MERMLAB", "PT")
    env = {
        "MERM_WORKLIST": orthanc.address,
        "MERM_PACS": orthanc.address,
        "MERM_PACS_WEB": orthanc.http,
    }
    with voila("pet_console.ipynb", free_port(), env_extra=env) as url:
        # French: the brain FDG entry, scanned and sent to the PACS.
        page = browser.new_page(viewport=VIEWPORT, locale="fr-FR")
        page.set_default_timeout(PAGE_HANG_GUARD_MS)
        page.goto(url)
        page.wait_for_selector(".merm-scan", state="visible")
        assert page.locator(".merm-patient-card").inner_text().strip() == ""
        _pick(page, brain.accession_number)
        page.wait_for_function(
            "() => document.querySelector('.merm-patient-card').innerText.includes('ROUX')"
        )
        card = page.locator(".merm-patient-card").inner_text()
        assert "ROUX Gérard" in card and "76 kg" in card and "Alzheimer" in card
        assert "Poids" in card  # the card's labels speak the page's language
        phantom = page.locator(".merm-phantom select")
        assert "brain" in phantom.locator("option:checked").inner_text()
        status = page.locator(".merm-worklist-status").inner_text()
        assert "protocole brain/fdg" in status
        page.locator(".merm-worklist-box").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts_dir / "pet_worklist_fr.png"))
        page.locator(".merm-clock select").select_option("max")
        page.locator(".merm-scan").click()
        page.wait_for_function(
            "() => document.querySelector('.merm-message').innerText.includes('acquise')"
        )
        page.locator(".merm-send-pacs").click()
        page.wait_for_selector(".merm-pacs-series[data-state='sent']")
        href = page.locator("a.merm-pacs-view").get_attribute("href")
        assert href is not None and href.startswith(orthanc.http + "/app/explorer.html#series")
        page.locator(".merm-pacs").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts_dir / "pet_worklist_sent_fr.png"))
        page.close()
        # English, a second kernel: the whole-body entry fills the card in English.
        page = browser.new_page(viewport=VIEWPORT, locale="en-US")
        page.set_default_timeout(PAGE_HANG_GUARD_MS)
        page.goto(url)
        page.wait_for_selector(".merm-scan", state="visible")
        _pick(page, body.accession_number)
        page.wait_for_function(
            "() => document.querySelector('.merm-patient-card').innerText.includes('MOREAU')"
        )
        card = page.locator(".merm-patient-card").inner_text()
        assert "MOREAU Paul" in card and "82 kg" in card and "lymphoma" in card
        assert "Weight" in card
        assert "whole" in page.locator(".merm-phantom select option:checked").inner_text()
        page.screenshot(path=str(artifacts_dir / "pet_worklist_en.png"))
        page.close()
    (study,) = orthanc.get("/studies")
    info = orthanc.get(f"/studies/{study}")
    tags, who = info["MainDicomTags"], info["PatientMainDicomTags"]
    assert tags["AccessionNumber"] == brain.accession_number
    assert tags["StudyInstanceUID"] == brain.study_uid
    assert who["PatientID"] == brain.patient_id and who["PatientName"] == brain.patient_name
    (series,) = info["Series"]
    s = orthanc.get(f"/series/{series}")
    assert s["MainDicomTags"]["Modality"] == "PT" and s["MainDicomTags"]["SeriesNumber"] == "1"
    assert len(s["Instances"]) >= 1
