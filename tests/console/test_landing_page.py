"""The landing page's HTML (pure function): languages, staff links, the course's exercises."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from simulator.lab.landing import LANGS, T, landing_page

ROOT = Path(__file__).resolve().parents[2]


def _course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    (course / "exercises").mkdir(parents=True)
    shutil.copytree(ROOT / "course" / "lessons", course / "lessons")
    for name in ("mr_t1_contrast.yaml", "pet_suv_weight.yaml"):
        shutil.copy(ROOT / "course" / "exercises" / name, course / "exercises")
    return course


def test_every_text_in_three_languages() -> None:
    assert LANGS == ("fr", "en", "de")
    assert all(len(v) == 3 and all(x.strip() for x in v) for v in T.values())


def test_page_by_language_with_exercise_links_and_staff(tmp_path: Path) -> None:
    course = _course(tmp_path)
    de = landing_page("de", "Ana", staff=False, course=course)
    assert "class='merm-landing'" in de and "<html lang='de'" in de
    assert "T1-Wichtung des Gehirns" in de and "Übungen" in de
    assert "/voila/render/mr_console.ipynb?lang=de&amp;exercise=mr-t1-contrast" in de
    assert "/voila/render/pet_console.ipynb?lang=de&amp;exercise=pet-suv-weight" in de
    assert "merm-staff" not in de and "Angemeldet: Ana" in de
    staff = landing_page("fr", None, staff=True, course=course)
    assert "/merm/instructor" in staff and "/merm/board" in staff and "Formateurs" in staff
    assert "<html lang='en'" in landing_page("xx", course=course)  # unknown: English
    text = re.sub(r"<[^>]+>", " ", de.split("<body>")[1])
    assert not re.search(r"\b[a-z]+_[a-z0-9_]+\b", text)


def test_a_new_or_broken_file_on_the_next_request(tmp_path: Path) -> None:
    course = _course(tmp_path)
    before = landing_page("en", course=course)
    src = (course / "exercises" / "mr_t1_contrast.yaml").read_text(encoding="utf-8")
    (course / "exercises" / "copy.yaml").write_text(
        src.replace("id: mr-t1-contrast", "id: my-copy"), encoding="utf-8")
    (course / "exercises" / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    after = landing_page("en", course=course)
    assert "data-exercise='my-copy'" not in before and "data-exercise='my-copy'" in after
    assert after.count("merm-exercise-link") == 3  # the broken file is left out
