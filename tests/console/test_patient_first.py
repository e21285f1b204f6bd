"""Patient-first: a new region is a new patient, from that region's scenarios."""

from __future__ import annotations


def test_changing_anatomy_admits_a_patient_of_that_anatomy() -> None:
    from simulator.console.mr_console import MRConsole
    from simulator.console.patient import SCENARIOS

    c = MRConsole(lang="en")
    s = c.session
    assert s.patient.anatomy == "brain"
    first = s.patient.name
    s.clock = "max"
    s.set_screening("ok")
    assert s.start_scan()["ok"]
    s.wait(300.0)  # hang guard only
    c.anatomy.value = "knee"
    assert s.anatomy_name == "knee"
    assert s.patient.anatomy == "knee" and s.patient.name != first
    assert s.patient.key in SCENARIOS and c.patient.scenario.value == s.patient.key
    assert s.screening == "pending"  # a new patient is screened again
    # the earlier series stays listed under its own patient
    labels = [label for label, _ in c.viewer.series_a.options]
    assert labels and labels[0].startswith(first)
