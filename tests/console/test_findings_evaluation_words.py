"""The detector's evaluation figures at the console are in the console's language: every
condition and finding type of the shipped ``evaluation.json`` has its words, and the table
reads the file's own numbers."""

from __future__ import annotations

import json

import pytest

from simulator.console.findings_panel import EVALUATION_JSON, evaluation_table
from simulator.console.i18n import LANGS, STRINGS
from simulator.console.i18n_de import DE
from simulator.findings import FINDING_LABELS

DATA = json.loads(EVALUATION_JSON.read_text(encoding="utf-8"))
CONDITIONS = [c for sec in ("brain", "pet") for c, v in (DATA.get(sec) or {}).items()
              if isinstance(v, dict)]


def test_every_evaluated_condition_and_finding_type_has_its_words() -> None:
    assert CONDITIONS, "the shipped evaluation has no condition"
    for cond in CONDITIONS:
        assert f"eval_{cond}" in STRINGS and f"eval_{cond}" in DE, cond
    for label in FINDING_LABELS:
        assert f"label_{label}" in STRINGS and f"label_{label}" in DE, label


@pytest.mark.parametrize("lang", LANGS)
def test_the_table_says_the_files_figures_in_the_language(lang: str) -> None:
    table = evaluation_table(lang)
    assert table.count("<tr>") == 1 + len(CONDITIONS)
    held = DATA["brain"]["heldout"]["ms_lesion"]
    assert f"({held['hit']}/{held['truth']})" in table
    assert "_" not in table.replace("merm-ai-eval", "")  # no raw key such as ms_lesion
    word = {"fr": "sensibilité", "en": "sensitivity", "de": "Sensitivität"}[lang]
    assert word in table


def test_no_file_no_table(tmp_path) -> None:  # noqa: ANN001
    assert evaluation_table("fr", tmp_path / "absent.json") == ""
    (tmp_path / "bad.json").write_text("{not json")
    assert evaluation_table("fr", tmp_path / "bad.json") == ""


@pytest.mark.parametrize("modality, section, other", [("mr", "brain", "pet_hot_lesion"),
                                                      ("pet", "pet", "ms_lesion")])
def test_each_console_shows_its_own_detectors_figures(modality: str, section: str,
                                                      other: str) -> None:
    from simulator.console.findings_panel import FindingsPanel
    from simulator.console.i18n import Labels, tr
    from simulator.console.session import ConsoleSession

    panel = FindingsPanel(ConsoleSession(modality, lang="fr"), Labels("fr"))
    html_text = panel.honesty.value
    rows = [c for c, v in DATA[section].items() if isinstance(v, dict)]
    assert html_text.count("<tr>") == 1 + len(rows)
    assert tr(f"label_{other}", "fr") not in html_text
