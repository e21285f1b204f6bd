"""Every exercise of the course speaks German too (issue 14, item 10): its title, brief,
patient indication, hints and every objective's pass/fail feedback have a German text, not a
copy of the English one, and the loaded exercise hands it out in German."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.exercises import load_exercise

COURSE = Path(__file__).resolve().parents[2] / "course" / "exercises"
FILES = sorted(COURSE.glob("*.yaml"))


def _texts(raw: dict) -> list[tuple[str, dict]]:
    """(where, {fr, en, de…}) of every text a trainee reads."""
    out = [("title", raw["title"]), ("brief", raw["brief"])]
    indication = (raw.get("patient") or {}).get("indication")
    if isinstance(indication, dict):
        out.append(("patient.indication", indication))
    out += [(f"hints[{i}]", h) for i, h in enumerate(raw.get("hints") or [])]
    for i, ob in enumerate(raw.get("objectives") or []):
        for key, text in (ob.get("feedback") or {}).items():
            out.append((f"objectives[{i}].feedback.{key}", text))
    return out


def _walk(node: Any, where: str = "") -> list[str]:
    """Paths of any (fr, en) text anywhere in the file that lacks its German."""
    missing = []
    if isinstance(node, dict):
        if "fr" in node and "en" in node and not str(node.get("de") or "").strip():
            missing.append(where)
        for k, v in node.items():
            missing += _walk(v, f"{where}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            missing += _walk(v, f"{where}[{i}]")
    return missing


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_text_has_its_german(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert _walk(raw) == [], f"{path.name}: no German at {_walk(raw)}"
    for where, text in _texts(raw):
        de = str(text.get("de") or "").strip()
        assert de, (path.name, where)
        if text["en"].strip() != text["fr"].strip():  # a proper noun may read the same
            assert de != text["en"].strip() or len(de) < 12, (path.name, where, de)
    ex = load_exercise(path)
    assert ex.title.get("de") == raw["title"]["de"]
    assert all(h.get("de") for h in ex.hints), path.name
