"""Exercise files: structure errors come back as FILE:LINE: message, at the right line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simulator.exercises.loader import ExerciseError, exercise_from_text, load_exercise

GOOD = """\
id: sample-t1
version: 1
title: {fr: Contraste T1, en: T1 contrast}
brief:
  fr: Réglez TR et TE.
  en: Set TR and TE.
modality: mr
anatomy: brain
pathology: null
patient:
  name: Test Patient
  age: 40
  weight_kg: 70
  indication: {fr: céphalées, en: headache}
  state: calm
  implants: []
start:
  preset: t1_se
  overrides: {}
editable: [tr_ms, te_ms]
objectives:
  - id: time
    metric: scan_time_s
    op: "<="
    value: 300
    weight: 1
    feedback:
      pass: {fr: bien, en: good}
      fail: {fr: trop long, en: too long}
hints:
  - {fr: indice, en: hint}
seed: 3
reference_solution:
  overrides: {tr_ms: 500}
typical_wrong_answer:
  overrides: {tr_ms: 3000}
"""


def problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(ExerciseError) as info:
        exercise_from_text(text, "x.yaml", check_simulator=False)
    return [(line, msg) for _f, line, msg in info.value.problems]


def line_of(text: str, needle: str) -> int:
    for i, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(needle)


def test_good_structure_loads() -> None:
    ex = exercise_from_text(GOOD, "x.yaml", check_simulator=False)
    assert ex.id == "sample-t1"
    assert ex.objectives[0].metric == "scan_time_s"
    assert ex.title.get("en") == "T1 contrast" and ex.title.get("fr") == "Contraste T1"


def test_unknown_top_level_key_points_at_its_line() -> None:
    text = GOOD.replace("seed: 3\n", "seed: 3\nsede: 4\n")
    [(line, msg)] = problems(text)
    assert line == line_of(text, "sede:")
    assert "unknown key 'sede'" in msg


def test_wrong_type_points_at_the_value() -> None:
    text = GOOD.replace("  age: 40", "  age: forty")
    [(line, msg)] = problems(text)
    assert line == line_of(text, "age: forty")
    assert "'age' must be an integer" in msg


def test_unknown_metric_and_op_in_an_objective() -> None:
    text = GOOD.replace("metric: scan_time_s", "metric: scan_speed").replace('op: "<="', 'op: "<<"')
    got = problems(text)
    assert (line_of(text, "scan_speed"), got[0][1]) == got[0]
    assert "unknown metric 'scan_speed'" in got[0][1]
    assert any(line == line_of(text, 'op: "<<"') and "unknown op" in m for line, m in got)


def test_missing_language_and_missing_required_key() -> None:
    text = GOOD.replace("title: {fr: Contraste T1, en: T1 contrast}", "title: {fr: Contraste T1}")
    text = text.replace("seed: 3\n", "")
    got = problems(text)
    assert (line_of(text, "title:"), "missing 'en' text") in got
    assert any("missing required key 'seed'" in m for _l, m in got)


def test_yaml_syntax_error_has_its_line() -> None:
    text = GOOD.replace("  state: calm", "  state: [calm")
    [(line, msg)] = problems(text)
    assert "YAML syntax error" in msg
    assert line >= line_of(text, "state: [calm")


def test_duplicate_key_is_refused() -> None:
    text = GOOD.replace("seed: 3\n", "seed: 3\nseed: 4\n")
    [(line, msg)] = problems(text)
    assert line == line_of(text, "seed: 4") and "duplicate key 'seed'" in msg


def test_between_needs_an_ordered_range() -> None:
    text = GOOD.replace('op: "<="\n    value: 300', "op: between\n    range: [300, 100]")
    [(line, msg)] = problems(text)
    assert line == line_of(text, "range: [300, 100]") and "low <= high" in msg


def test_bool_metric_refuses_numeric_comparison() -> None:
    text = GOOD.replace("metric: scan_time_s", "metric: wrap")
    got = problems(text)
    assert any(line == line_of(text, 'op: "<="') and "yes/no" in m for line, m in got)


def test_missing_file_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(ExerciseError) as info:
        load_exercise(tmp_path / "nope.yaml")
    assert "cannot read" in str(info.value)


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("seed: 3\n", "seed: 3\ncolour: red\n"), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "simulator", "exercise", "check", str(bad)],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    want = f"{bad}:{line_of(bad.read_text(), 'colour:')}: unknown key 'colour'"
    assert out.stderr.startswith(want)


def _course_file(name: str) -> str:
    return (Path(__file__).resolve().parents[2] / "course" / "exercises" / name).read_text(
        encoding="utf-8")


@pytest.mark.parametrize(
    ("edits", "wanted"),
    [
        # a structure error does not hide a name error further down
        ((("version: 1", "version: one"), ("editable: [fat_sat,", "editable: [fat_satt,")),
         (("version: one", "must be an integer"), ("editable: [fat_satt,", "unknown parameter 'fat_satt'"))),
        # two name errors: an unknown preset and an unknown tissue
        ((("preset: pd_fs", "preset: pd_fss"), ("[fat, muscle]", "[fatt, muscle]")),
         (("preset: pd_fss", "unknown preset 'pd_fss'"), ("[fatt, muscle]", "unknown tissue 'fatt'"))),
        # a refused start value and a refused reference value, each on its own line
        ((("matrix_read: 192", "matrix_read: 99999"),
          ("overrides: {fat_sat: true}", "overrides: {fat_sat: true, te_ms: -5}")),
         (("matrix_read: 99999", "matrix_read = 99999"), ("te_ms: -5", "te_ms = -5"))),
    ],
)
def test_check_reports_every_error_with_its_line(tmp_path: Path, edits: tuple, wanted: tuple) -> None:
    text = _course_file("mr_fat_sat.yaml")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "two_errors.yaml"
    path.write_text(text, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "simulator", "exercise", "check", str(path)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    for anchor, words in wanted:
        want = f"{path}:{line_of(text, anchor)}:"
        assert any(line.startswith(want) and words in line for line in lines), (want, words, lines)
