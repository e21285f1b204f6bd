"""Requests that cannot be missed: the mentor panel's control and remote-start rows shown in
the banner at the top of the console, whatever tab is open; a mentor's control locks the
trainee's Scan and parameter card visibly."""

from __future__ import annotations


def test_banner_shows_the_mentor_rows_while_they_are_shown(monkeypatch) -> None:
    monkeypatch.delenv("MERM_HUB_URL", raising=False)
    from simulator.console import _shell
    from simulator.console.pet_console import PETConsole

    c = PETConsole(lang="en")
    banner = c.shell.banner
    assert "merm-banner" in banner.widget._dom_classes
    assert banner.widget in c.shell.scanbar.children  # in the sticky exam bar, above the tabs
    assert banner.widget.layout.display == "none"
    panel = _shell.mentor_panel(c.session, c.L)  # what opening the Mentor tab builds
    assert panel.confirm_box in banner.widget.children
    assert panel.request_row in banner.widget.children
    assert banner.widget.layout.display == "none"  # nothing pending
    c.tabs.selected_index = 0  # another tab: the banner does not depend on it
    panel.confirm_box.layout.display = None  # what the panel does on a confirm_request
    assert banner.widget.layout.display is None
    assert panel.confirm_button.description  # the action button is there, labelled
    panel.confirm_box.layout.display = "none"
    assert banner.widget.layout.display == "none"


def test_mentor_control_locks_scan_and_inputs_visibly() -> None:
    from simulator.console.mr_console import MRConsole

    c = MRConsole(lang="en")
    s = c.session
    s.set_screening("ok")
    assert not c.shell.scan.disabled
    s.set_controller("Dr Weber")
    assert c.shell.scan.disabled and "Control: Dr Weber" in c.shell.scan.tooltip
    assert "Control: Dr Weber" in c.shell.controller.value
    assert all(w.disabled for w in c.params.fields.values())
    assert "Control: Dr Weber" in c.params.lock_note.value
    # the mentor's own commands still reach the console
    assert s.apply_command({"type": "set_param", "name": "tr_ms", "value": 600}, "Dr Weber",
                           "mentor")["ok"]
    s.set_controller(None)  # taken back
    assert not c.shell.scan.disabled and c.shell.controller.value == ""
    assert not c.params.fields["tr_ms"].disabled
