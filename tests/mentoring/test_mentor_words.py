"""The mentor page's words (static/words.json) cover what the real consoles publish.

The key lists come from the real MR and PET console snapshots and from the physics and
findings packages' own tuples of allowed values, never from a copy: a new parameter, a new
named value, finding label or role that has no French, English and German word fails here.
"""

from __future__ import annotations

import ast
import json
import re
import socket
import threading

import pytest

from simulator.console.session import ConsoleSession
from simulator.findings import DECISIONS, FINDING_LABELS
from simulator.mentoring._hub_http import STATIC
from simulator.mentoring.tokens import ROLES

LANGS = ("fr", "en", "de")
WORDS = json.loads((STATIC / "words.json").read_text(encoding="utf-8"))


def _said(entry: dict, where: str) -> None:
    for lang in LANGS:
        text = entry.get(lang)
        assert isinstance(text, str) and text.strip(), f"{where}: no {lang} word"
        assert "_" not in text, f"{where}: {lang} word {text!r} looks like a key"


def test_the_console_sections_are_the_consoles_own_words() -> None:
    """params, values, switch and decimal are what the console's tables say today
    (simulator.console.mentor_words builds them): a changed console label, a new parameter
    or named value that was not carried to the page fails here."""
    from simulator.console.mentor_words import console_sections

    built = console_sections()
    for section, table in built.items():
        assert WORDS[section] == table, (
            f"words.json's {section!r} differs from the console's tables: run "
            "python -m simulator.console.mentor_words"
        )


@pytest.mark.parametrize("modality", ["mr", "pet"])
def test_every_parameter_the_console_publishes_has_a_word_in_each_language(modality) -> None:  # noqa: ANN001
    from simulator.console.mentor_words import named_values

    protocol = ConsoleSession(modality, lang="en", seed=1).snapshot()["protocol"]
    assert len(protocol) > 10, protocol  # the real card, not an empty stand-in
    missing = sorted(set(protocol) - set(WORDS["params"]))
    assert not missing, f"{modality} parameters without a word on the mentor page: {missing}"
    for key in protocol:
        _said(WORDS["params"][key], f"params.{key}")
        assert WORDS["params"][key]["fr"] != key, key
    named = named_values()
    # every text-valued parameter is one whose allowed values the physics names
    texts = {k for k, v in protocol.items() if isinstance(v, str)}
    assert texts <= set(named), f"text parameters with no list of values here: {texts - set(named)}"
    for key in texts:
        for value in named[key]:
            entry = WORDS["values"].get(key, {}).get(str(value))
            assert entry, f"{key} = {value!r} has no word on the mentor page"
            _said(entry, f"values.{key}.{value}")
    # a coil, a plane and a motion read in the page's language, not as the physics' key
    assert WORDS["values"]["body_part"]["head"]["fr"] == "tête"
    assert WORDS["values"]["motion"]["low"]["de"] == "gering"
    assert WORDS["decimal"] == {"fr": ",", "en": ".", "de": ","}


def test_every_worklist_procedure_reads_in_each_language() -> None:
    """The procedure of each scenario's worklist entry (the RIS's English DICOM text) has
    its French and German on the page."""
    import datetime

    from simulator.hospital.worklist import procedure_for_scenario, scenario_names

    start = datetime.datetime(2026, 12, 2, 9, 0)
    seen = set()
    for modality in ("MR", "PT"):
        for name in scenario_names(modality):
            seen.add(procedure_for_scenario(name, start, modality=modality).procedure_description)
    assert len(seen) >= 4, seen
    for text in seen:
        entry = WORDS["procedures"].get(text)
        assert entry, f"the worklist procedure {text!r} has no words on the mentor page"
        _said(entry, f"procedures.{text}")
        assert entry["en"] == text and entry["fr"] != text and entry["de"] != text, entry


def test_on_off_roles_finding_labels_and_decisions_have_words() -> None:
    for state in ("on", "off"):
        _said(WORDS["switch"][state], f"switch.{state}")
    for role in ROLES:
        _said(WORDS["roles"][role], f"roles.{role}")
    for label in FINDING_LABELS:
        _said(WORDS["finding_labels"][label], f"finding_labels.{label}")
    for decision in (*DECISIONS, "undecided"):
        _said(WORDS["decisions"][decision], f"decisions.{decision}")
    for key, entry in WORDS["measures"].items():
        _said(entry, f"measures.{key}")
    # French and German are not English in disguise (acronyms and shared words aside)
    for table in ("switch", "decisions", "finding_labels"):
        for key, entry in WORDS[table].items():
            assert entry["fr"] != entry["en"] and entry["de"] != entry["en"], (table, key, entry)


def _german_reason(en: str) -> str | None:
    for pattern, de in WORDS["pacs_reasons"]["de"]:
        m = re.search(pattern, en)
        if m:
            return re.sub(r"\{(\d)\}", lambda g, m=m: m.group(int(g.group(1))), de)
    return None


def test_german_pacs_reasons_from_the_real_failures() -> None:
    """The reasons the hospital gives for a series that did not reach the PACS (nothing
    listens; something listens that is not a DICOM server) read in German."""
    from simulator.errors import UserError
    from simulator.hospital.address import parse_address
    from simulator.hospital.pacs import VERIFICATION, associate

    reasons = []
    with pytest.raises(UserError) as exc:
        associate(parse_address("ORTHANC@127.0.0.1:1"), [VERIFICATION])
    reasons.append(exc.value.en)

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def hang_up() -> None:  # accepts, then closes: not a DICOM server
        for _ in range(8):
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    try:
        with pytest.raises(UserError) as exc:
            associate(parse_address(f"ORTHANC@127.0.0.1:{server.getsockname()[1]}"), [VERIFICATION])
        reasons.append(exc.value.en)
    finally:
        server.close()
    for en in reasons:
        de = _german_reason(en)
        assert de and de != en, f"no German for the PACS reason {en!r}"
        assert "ORTHANC@127.0.0.1" in de, de  # the address is kept
    assert "nicht erreichbar" in _german_reason(reasons[0])
    assert "Verbindung geschlossen" in _german_reason(reasons[1])
    # the C-STORE refusal keeps its status code
    assert _german_reason("the PACS refused a file (C-STORE status 0xA700)").endswith(
        "(C-STORE-Status 0xA700)"
    )


_REFUSALS = {"MessageError": 1, "ControlError": 1, "TokenError": 0}  # index of the English


def _hub_refusals() -> list[tuple[str, ast.expr, ast.expr | None]]:
    """(file, English, French) of every refusal the hub can send a page: the MessageError,
    ControlError and TokenError raised in simulator/mentoring, and the literal ``message=``
    of its results and errors."""
    found = []
    for path in sorted(STATIC.parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in _REFUSALS and len(node.args) > _REFUSALS[name]:
                i = _REFUSALS[name]
                fr = node.args[i + 1] if len(node.args) > i + 1 else None
                found.append((path.name, node.args[i], fr))
            for kw in node.keywords:
                if (
                    kw.arg == "message"
                    and isinstance(kw.value, ast.Constant)
                    and isinstance(kw.value.value, str)
                ):  # (bytes: a WebSocket's close reason, never shown)
                    found.append((path.name, kw.value, None))
    return found


def _sample(expr: ast.expr) -> str:
    """An f-string with each placeholder as ``x``."""
    if isinstance(expr, ast.Constant):
        return str(expr.value)
    assert isinstance(expr, ast.JoinedStr), ast.dump(expr)
    return "".join(str(v.value) if isinstance(v, ast.Constant) else "x" for v in expr.values)


def test_every_refusal_of_the_hub_reads_in_the_pages_language() -> None:
    """The hub sends its refusals in English; the page says each one in French, English
    and German (French as the hub's own French), fixed texts by their text, texts with a
    value by a pattern."""
    refusals = _hub_refusals()
    assert len(refusals) > 15, refusals  # the real sources, not an empty walk
    table = WORDS["hub_messages"]
    patterns = [(re.compile(p), t) for p, t in table["patterns"]]
    for where, en, fr in refusals:
        text = _sample(en)
        if isinstance(en, ast.Constant):
            entry = table["exact"].get(text)
            assert entry, f"{where}: the refusal {text!r} has no words on the mentor page"
            _said(entry, f"hub_messages.{text}")
            if isinstance(fr, ast.Constant):
                assert entry["fr"] == fr.value, (where, entry["fr"], fr.value)
        elif text != "x: x":  # a field's own check ("field: why"), shown as the hub says it
            assert any(p.search(text) for p, _ in patterns), f"{where}: no pattern for {text!r}"
    for _, t in table["patterns"]:
        _said(t, f"hub_messages.patterns.{t['en']}")
