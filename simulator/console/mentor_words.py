"""The mentor page's words for the consoles' parameters, taken from the consoles' own tables.

The hub's mentor page (``simulator/mentoring/static/words.json``, read by ``merm.js``) shows
each protocol parameter as the console's card does: its name and unit from
:mod:`simulator.console.i18n` (``"TR (ms)"`` → name ``TR``, unit ``ms``), its named values
and on/off from :func:`simulator.console.words.param_value`, numbers with the decimal
separator of :func:`simulator.console.i18n.decimal`. This module builds those sections of
``words.json`` (``params``, ``values``, ``switch``, ``decimal``, ``warnings``), so that each
word has one
home, the console; the other sections (roles, findings, PACS reasons, the hub's refusals)
are the page's own. ``python -m simulator.console.mentor_words`` rewrites the file, and
``tests/mentoring/test_mentor_words.py`` fails when file and console disagree.

The mentoring package imports nothing of the console (``tests/test_layering.py``): the page
gets the words as a file, built here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from simulator.console.i18n import _WARNINGS_DE, _WARNINGS_FR, LANGS, STRINGS, decimal, tr
from simulator.console.words import param_value

__all__ = ["named_values", "console_sections", "words_file", "build", "main"]

#: Snapshot keys the card does not label itself, and the console string that names them.
_LABEL_KEYS = {"body_part": "coil"}
_LABEL = re.compile(r"^(?P<name>.*?) \((?P<inner>[^()]*)\)$")
_ZERO = re.compile(r"^0 = (?P<word>.+)$")


def named_values() -> dict[str, tuple[Any, ...]]:
    """The allowed values of each text-valued parameter, from the physics packages."""
    from simulator.mr.protocol import BODY_PARTS, MOTION_LEVELS, ORIENTATIONS, PHASE_DIRS, SEQUENCES
    from simulator.pet.protocol import FBP_WINDOWS, RECONS
    from simulator.pet.tracers import TRACERS

    return {
        "sequence": SEQUENCES,
        "orientation": ORIENTATIONS,
        "phase_dir": PHASE_DIRS,
        "motion": MOTION_LEVELS,
        "body_part": BODY_PARTS,
        "recon": RECONS,
        "fbp_window": FBP_WINDOWS,
        "tracer": tuple(TRACERS),
    }


def _protocol_keys() -> list[str]:
    """Every key of the MR and PET consoles' ``snapshot()["protocol"]``, in card order."""
    from simulator.console.session import ConsoleSession

    keys: list[str] = []
    for modality in ("mr", "pet"):
        for key in ConsoleSession(modality, lang="en", seed=1).snapshot()["protocol"]:
            if key not in keys:
                keys.append(key)
    return keys


def _label(key: str, lang: str) -> str:
    if key == "motion":  # the patient card's "Expected motion: {level}"
        return tr("motion_level", lang, level="").rstrip(" :")
    return tr(_LABEL_KEYS.get(key, key), lang)


def _param_entry(key: str) -> dict[str, Any]:
    """``{fr, en, de, unit?, zero?}``: the card's label split into name, unit and the word
    for 0 (``"TOF (ps, 0 = off)"`` → ``TOF``, ``ps``, ``off``). A parenthesis that is no
    unit (the same in the three languages) stays in the name: "Count losses (dead time)"."""
    full = {lang: _label(key, lang) for lang in LANGS}
    names: dict[str, str] = {}
    units: dict[str, str] = {}
    zero: dict[str, str] = {}
    for lang, text in full.items():
        m = _LABEL.match(text)
        if not m:
            return dict(full)
        names[lang] = m["name"]
        for part in m["inner"].split(", "):
            z = _ZERO.match(part)
            if z:
                zero[lang] = z["word"]
            else:
                units[lang] = part
    if len(set(units.values())) > 1 or (units and len(units) != len(LANGS)):
        return dict(full)
    entry: dict[str, Any] = dict(names)
    if units:
        entry["unit"] = next(iter(units.values()))
    if zero:
        entry["zero"] = zero
    return entry


def console_sections() -> dict[str, Any]:
    """The sections of ``words.json`` that come from the console: ``params`` (every key the
    consoles publish), ``values`` (every named value), ``switch`` (on/off), ``decimal``,
    ``warnings`` (the physics' English warning patterns, with French and German)."""
    keys = _protocol_keys()
    missing = [k for k in keys if k != "motion" and _LABEL_KEYS.get(k, k) not in STRINGS]
    if missing:
        raise ValueError(f"parameters without a console label: {missing}")
    values = {
        key: {str(v): {lang: param_value(key, v, lang) for lang in LANGS} for v in allowed}
        for key, allowed in named_values().items()
    }
    return {
        "params": {key: _param_entry(key) for key in keys},
        "values": values,
        "switch": {
            state: {lang: param_value("", state == "on", lang) for lang in LANGS}
            for state in ("on", "off")
        },
        "decimal": {lang: decimal(0.5, lang)[1] for lang in LANGS},
        # the physics' warnings (English in the snapshot) as the console says them
        "warnings": [
            [pattern, {"fr": fr, "de": de}]
            for (pattern, fr), de in zip(_WARNINGS_FR, _WARNINGS_DE, strict=True)
        ],
    }


def words_file() -> Path:
    """The mentor page's table (served by the hub as ``static/words.json``)."""
    import simulator.mentoring

    return Path(simulator.mentoring.__file__).resolve().parent / "static" / "words.json"


def build(current: dict[str, Any]) -> dict[str, Any]:
    """``current`` (the file's content) with its console sections rebuilt."""
    out = dict(current)
    out.update(console_sections())
    return out


def main() -> None:
    """Rewrite ``words.json``'s console sections from the console's tables."""
    path = words_file()
    data = build(json.loads(path.read_text(encoding="utf-8")))
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{path}: {len(data['params'])} parameters, {len(data['values'])} named values")


if __name__ == "__main__":
    main()
