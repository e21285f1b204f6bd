"""A technologist's words: the rendered consoles, in each language, show no internal key,
no Python literal and no string left in another language."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.console.i18n import LANGS, STRINGS, tr
from simulator.console.i18n_de import DE

COURSE = Path(__file__).resolve().parents[2] / "course" / "exercises"
_TAG = re.compile(r"<[^>]+>")
_SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
_LITERAL = re.compile(r"\b(True|False|None)\b|\{'|\['|=\{")


def visible_texts(widget: Any) -> Iterator[str]:
    """Every text a widget tree puts on screen: labels, values of HTML and labels, option
    labels, tab titles, tooltips (hover)."""
    import ipywidgets as W

    seen: set[int] = set()
    stack = [widget]
    while stack:
        w = stack.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        if isinstance(w, W.Box) and getattr(w.layout, "display", None) == "none":
            continue
        for attr in ("description", "tooltip", "placeholder"):
            v = getattr(w, attr, None)
            if isinstance(v, str) and v:
                yield v
        if isinstance(w, (W.HTML, W.Label, W.HTMLMath)):
            if "<style" not in w.value:
                yield html.unescape(_TAG.sub(" ", w.value))
        if isinstance(w, (W.Dropdown, W.ToggleButtons, W.Select, W.RadioButtons)):
            yield from (str(label) for label in w._options_labels)
        if isinstance(w, W.Tab):
            yield from (t for t in w.titles if t)
        if isinstance(w, W.Box):
            stack.extend(w.children)


def problems(texts: list[str], lang: str) -> list[str]:
    """Raw keys, literals, and strings that are another language's (not this one's)."""
    bad = []
    foreign: set[str] = set()
    for key, (fr, en) in STRINGS.items():
        foreign.update(t for t in (fr, en, DE.get(key, en)) if len(t) > 4 and "{" not in t)
    foreign -= {tr(key, lang) for key in STRINGS}  # a word both languages share is fine
    for text in texts:
        for m in _SNAKE.finditer(text):
            bad.append(f"raw key {m.group(0)!r} in {text[:80]!r}")
        if _LITERAL.search(text):
            bad.append(f"Python literal in {text[:80]!r}")
        if text.strip() in foreign:
            bad.append(f"not in {lang}: {text.strip()!r}")
    return bad


def test_every_string_has_its_german() -> None:
    assert sorted(set(STRINGS) - set(DE)) == []
    assert sorted(set(DE) - set(STRINGS)) == []
    assert LANGS == ("fr", "en", "de")


@pytest.fixture(scope="module")
def mr_console():
    from simulator.console.mr_console import MRConsole

    c = MRConsole(lang="fr", exercise="mr-t1-contrast")
    s = c.session
    s.clock = "max"
    s.set_screening("ok")
    assert s.start_scan()["ok"]
    s.wait(300.0)  # hang guard only
    assert s.scan_state == "done", s.message
    return c


@pytest.fixture(scope="module")
def pet_console():
    from simulator.console.pet_console import PETConsole

    c = PETConsole(lang="fr")
    s = c.session
    s.clock = "max"
    assert s.start_scan()["ok"]
    s.wait(300.0)  # hang guard only
    assert s.scan_state == "done", s.message
    return c


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
@pytest.mark.parametrize("which", ["mr_console", "pet_console"])
def test_rendered_console_has_no_raw_key_literal_or_foreign_string(request, which: str,
                                                                  lang: str) -> None:
    console = request.getfixturevalue(which)
    console.session.set_lang(lang)
    # a parameter change: its message line says the value in words
    name = "fat_sat" if which == "mr_console" else "ai_denoise"
    if which == "mr_console":
        console.session.set_exercise(None)
    console.session.apply_command({"type": "set_param", "name": name, "value": True})
    console.session.apply_command({"type": "set_param", "name": name, "value": False})
    texts = list(visible_texts(console.widget))
    assert len(texts) > 50
    assert problems(texts, lang) == []
    if which == "mr_console":
        console.start_exercise("mr-t1-contrast")
        texts = list(visible_texts(console.widget))
        assert problems(texts, lang) == []
    console.session.set_lang("fr")


def test_objective_targets_carry_unit_and_console_format() -> None:
    from simulator.exercises import load_exercise
    from simulator.exercises.objectives import format_value, objective_target

    ex = load_exercise(COURSE / "mr_fat_sat.yaml")
    time = next(o for o in ex.objectives if o.metric == "scan_time_s")
    assert objective_target(time, "fr") == "≤ 02:00"  # value 120 s
    ratio = next(o for o in ex.objectives if o.metric == "signal_ratio")
    assert objective_target(ratio, "en") == "≤ 0.5"
    pet = load_exercise(COURSE / "pet_activity_time.yaml")
    for o in pet.objectives:
        for lang in ("fr", "en", "de"):
            text = objective_target(o, lang)
            assert not _LITERAL.search(text) and "<=" not in text and ">=" not in text
    assert format_value(time, True, "de") == "ja"


def test_series_metrics_are_named_with_units(mr_console, pet_console) -> None:
    from simulator.console.viewer import metrics_html

    mr = metrics_html(mr_console.session.series[0].metrics, "en")
    assert "Scan time" in mr and "W/kg" in mr and "scan_time_s" not in mr
    assert "g_factor" not in mr and "snr_tissue" not in mr
    pet = metrics_html(pet_console.session.series[0].metrics, "de")
    assert "Wahre Koinzidenzen" in pet and "sphere_10" not in pet and "{" not in pet


_POINT_DECIMAL = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")


@pytest.mark.parametrize("lang", ["fr", "de"])
@pytest.mark.parametrize("which", ["mr_console", "pet_console"])
def test_numbers_use_the_languages_decimal_separator(request, which: str, lang: str) -> None:
    """French and German write "0,50", never "0.50": the W/L and zoom readouts (ipywidgets'
    own readout can only write a point) and every number the console shows (consequences,
    series measures, localized warnings, the NEMA table)."""
    console = request.getfixturevalue(which)
    console.session.set_lang(lang)
    try:
        viewer = console.viewer
        for slider in (viewer.width, viewer.level, viewer.zoom):
            assert slider.readout is False  # d3's point-only readout is not shown
        readouts = {r.label.value for r in (viewer.width_readout, viewer.level_readout,
                                            viewer.zoom_readout)}
        assert viewer.zoom_readout.label.value == "1,00", readouts
        if which == "pet_console":  # SUV with two decimals, comma
            assert re.fullmatch(r"-?\d+,\d\d", viewer.width_readout.label.value), readouts
        else:  # MR window/level in the DICOM's integer scale
            assert re.fullmatch(r"-?\d+", viewer.width_readout.label.value), readouts
        viewer.zoom.value = 2.5
        assert viewer.zoom_readout.label.value == "2,50"
        viewer.zoom.value = 1.0
        # every number on the console: readouts, consequences, measures, warnings, NEMA table
        pointed = [t for t in visible_texts(console.widget) if _POINT_DECIMAL.search(t)]
        assert pointed == [], pointed
    finally:
        console.session.set_lang("fr")
    assert viewer.zoom_readout.label.value == "1,00"
    console.session.set_lang("en")
    assert viewer.zoom_readout.label.value == "1.00"
    console.session.set_lang("fr")
