"""Training and honesty evaluation of the detection AI (:mod:`simulator.findings`).

``python -m simulator.findings_training`` scans training cases with the simulator and
trains the detectors with torch (optional extra ``train``); ``python -m
simulator.findings_training.evaluate`` measures them on held-out and out-of-distribution
cases (numpy only). Case generation (:mod:`.cases`) needs numpy only.
"""
