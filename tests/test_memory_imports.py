"""A console kernel loads only what it uses (issue 12, item 6: memory per trainee).

Each check runs in a fresh interpreter and reads ``sys.modules``: pydicom (about 8–12 MB)
loads when a series is written or sent, never for building the MR console or scanning, and
scipy.fft (with scipy.special, numpy.f2py and numpy.testing, about 20 MB) never loads for
the MR pipeline, whose FFTs are numpy's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("pydicom", "scipy.fft", "scipy.special", "aiortc", "av")


def _modules_after(code: str) -> dict[str, bool]:
    script = textwrap.dedent(code) + textwrap.dedent(f"""
        import json, sys
        print("MODULES=" + json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    line = [x for x in out.stdout.splitlines() if x.startswith("MODULES=")][-1]
    return json.loads(line.removeprefix("MODULES="))


def test_building_the_mr_console_imports_neither_pydicom_nor_scipy_fft() -> None:
    mods = _modules_after("""
        from simulator.console import build_mr_console
        w = build_mr_console(lang="en")
        assert w._merm_console.session.modality == "mr"
        import threading  # the course (exercises, grader) loads in a thread: wait for it
        for t in threading.enumerate():
            if t.name == "merm-course":
                t.join(120)
    """)
    # scipy.special: the detection AI's scipy.ndimage loads when a detector first runs
    assert mods == {"pydicom": False, "scipy.fft": False, "scipy.special": False,
                    "aiortc": False, "av": False}


def test_the_mentor_tab_imports_aiortc_and_av_only_when_a_call_starts() -> None:
    """aiortc and av (about 20 MB per kernel, the VP8 encoder 19 MB more) load with the
    trainee's peer, when "Call a mentor" starts a call, not with the console nor its
    Mentor tab."""
    mods = _modules_after("""
        from simulator.console import build_mr_console
        w = build_mr_console(lang="en")
        console = w._merm_console
        console.tabs.selected_index = 5  # the Mentor tab: its panel is built now
        assert console._mentor_box.children, "the mentor panel was not built"
    """)
    assert {k: mods[k] for k in ("aiortc", "av")} == {"aiortc": False, "av": False}
    started = _modules_after("""
        import simulator.mentoring.trainee  # what a call starts (widget.py imports it then)
    """)
    assert {k: started[k] for k in ("aiortc", "av")} == {"aiortc": True, "av": True}


@pytest.mark.slow
def test_an_mr_scan_imports_neither_pydicom_nor_scipy_fft() -> None:
    mods = _modules_after("""
        import time
        from simulator.console import ConsoleSession
        s = ConsoleSession("mr", lang="en")
        s.set_screening("ok")
        s.clock = "max"
        assert s.apply_command({"type": "scan"})["ok"]
        time.sleep(0.2)
        while s.scan_state == "running" or s._thread.is_alive():
            time.sleep(0.02)
        assert s.scan_state == "done", s.message
        assert s.series, "no series"
    """)
    assert {k: mods[k] for k in ("pydicom", "scipy.fft")} == {"pydicom": False, "scipy.fft": False}


def test_the_dicom_package_gives_its_names_on_first_use() -> None:
    mods = _modules_after("""
        import sys
        import simulator.dicom as dicom
        assert "simulator.dicom.read" not in sys.modules
        from simulator.dicom import read_series, write_mr_series
        from simulator.dicom.read import read_series as direct
        assert read_series is direct and callable(write_mr_series)
        assert set(dicom.__all__) <= set(dir(dicom))
        try:
            dicom.no_such_name
        except AttributeError:
            pass
        else:
            raise SystemExit("no AttributeError")
    """)
    assert mods["pydicom"] is True  # the reader needs it at import


def test_uid_helpers_written_out_match_pydicom() -> None:
    from pydicom.uid import PYDICOM_ROOT_UID, RE_VALID_UID, generate_uid

    from simulator.dicom import _common, study

    assert _common.UID_ROOT == PYDICOM_ROOT_UID
    assert study.RE_VALID_UID.pattern == RE_VALID_UID.pattern
    for parts in [(), ("console-exam", "mr", 1, 0, "2026-01-05T09:00:00"), (3.5, [1, 2])]:
        want = generate_uid(prefix=PYDICOM_ROOT_UID,
                            entropy_srcs=["merm-lab", _common.digest(*parts)])
        assert _common.make_uid(*parts) == str(want)
    for bad in ["1.02.3", "", "1..2", "a.1"]:
        assert not study.RE_VALID_UID.match(bad) and not RE_VALID_UID.match(bad)
