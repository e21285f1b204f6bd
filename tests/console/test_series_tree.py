"""The viewer's series list: each series under its exam, each exam under its patient (name and
ID), named as on the scanner ("1 — T2 TSE …"); a new anatomy's patient gets a new node and the
earlier patient keeps its series; a click opens a series; the texts in fr/en/de."""

from __future__ import annotations

import pytest

from simulator.console.series_tree import series_tree, tree_text


def _scan(s) -> None:  # noqa: ANN001
    s.clock = "max"
    s.set_screening("ok")
    assert s.start_scan()["ok"]
    s.wait(300.0)  # hang guard only
    assert s.scan_state == "done", s.message


@pytest.fixture(scope="module")
def two_patients():  # noqa: ANN201
    from simulator.console.mr_console import MRConsole

    c = MRConsole(lang="fr")
    s = c.session
    first = s.patient
    _scan(s)
    _scan(s)
    c.anatomy.value = "knee"  # patient-first: a new patient of that anatomy
    second = s.patient
    assert second.key != first.key
    _scan(s)
    return c, first, second


def test_series_listed_under_their_patient_and_exam(two_patients) -> None:  # noqa: ANN001
    c, first, second = two_patients
    s = c.session
    tree = series_tree(s, "fr")
    assert [p.name for p in tree] == [first.name, second.name]
    assert tree[0].patient_id == f"MERM-{first.key.upper()}"
    (exam1,) = tree[0].exams
    (exam2,) = tree[1].exams
    assert [n.index for n in exam1.series] == [0, 1]
    assert [n.index for n in exam2.series] == [2]
    # numbered within the exam (the DICOM Series Number), named as on the scanner
    assert [n.number for n in exam1.series] == [1, 2] and exam2.series[0].number == 1
    for node in (*exam1.series, *exam2.series):
        name = s.series[node.index].name
        assert node.label.startswith(f"{node.number} — ")
        assert node.label.endswith(name.split(": ", 1)[1])
    assert exam2.started_at >= exam1.started_at


def test_the_widget_shows_the_tree_and_opens_a_series(two_patients) -> None:  # noqa: ANN001
    c, first, second = two_patients
    s, tree = c.session, c.series_tree
    text = " ".join(getattr(w, "value", "") for w in tree.widget.children)
    assert first.name in text and second.name in text and "Examen du" in text
    assert f"ID MERM-{second.key.upper()}" in text
    assert text.index(first.name) < text.index(second.name)
    assert set(tree.buttons) == {0, 1, 2}
    assert "merm-series-current" in tree.buttons[2]._dom_classes  # the newest is on view
    tree.buttons[0].click()
    assert s.current == 0 and "merm-series-current" in tree.buttons[0]._dom_classes
    assert "merm-series-current" not in tree.buttons[2]._dom_classes
    c.L.switch("de")
    text = " ".join(getattr(w, "value", "") for w in tree.widget.children)
    assert "Untersuchung vom" in text and "Patienten, Untersuchungen und Serien" in text
    assert tree.buttons[1].description.startswith("2 — ")
    c.L.switch("en")
    assert "Exam of" in " ".join(getattr(w, "value", "") for w in tree.widget.children)
    c.L.switch("fr")


def test_texts_in_three_languages() -> None:
    from simulator.console import series_tree as mod

    for key, triple in mod._TEXT.items():
        assert len(triple) == 3 and all(t.strip() for t in triple), key
    assert tree_text("exam", "de", date="02.12.2026", time="08:30").startswith("Untersuchung")


def test_pet_console_has_the_tree() -> None:
    from simulator.console.pet_console import PETConsole

    c = PETConsole(lang="en")
    assert c.series_tree.widget in c.viewer.widget.children
    assert "No series acquired." in " ".join(
        getattr(w, "value", "") for w in c.series_tree.widget.children
    )
