"""Detection AI at the console: findings on MR and PET series, and the trainee's decisions.

:mod:`simulator.findings.finding` holds the data seam (:class:`Finding`, :class:`Decision`);
:func:`detect` is the detection AI (small networks trained on the simulator's own images,
numpy inference, weights in ``weights/``); :func:`truth` gives what a perfect detector would
report; :func:`match` pairs findings with truth (the evaluation and the grader share it).

>>> from simulator.findings import detect, truth, match          # doctest: +SKIP
>>> m = match(detect(series), truth(series))                      # doctest: +SKIP
>>> m.n_true_positive, len(m.false_positives), len(m.missed)      # doctest: +SKIP

How well the detectors do, and where they fail, is in ``weights/evaluation.md``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from simulator.findings._texts import LABEL_NAMES, FindingsError, finding_text
from simulator.findings.detect import WEIGHTS_DIR, detect, detector_name, load_detector
from simulator.findings.finding import DECISIONS, FINDING_LABELS, Decision, Finding
from simulator.findings.matching import Match, match, matches
from simulator.findings.truth import truth

__all__ = [
    "DECISIONS",
    "FINDING_LABELS",
    "LABEL_NAMES",
    "WEIGHTS_DIR",
    "Decision",
    "Finding",
    "FindingsError",
    "Match",
    "detect",
    "detector_name",
    "evaluation",
    "finding_text",
    "load_detector",
    "match",
    "matches",
    "truth",
]


@lru_cache(maxsize=1)
def _evaluation_text() -> str:
    return (WEIGHTS_DIR / "evaluation.json").read_text()


def evaluation() -> dict[str, Any]:
    """The shipped detectors' measured figures (``weights/evaluation.json``), for the console
    to show beside the findings: ``evaluation()["brain"]["heldout"]["ms_lesion"]`` holds
    ``sensitivity`` and ``fp_per_case``; the other keys of ``"brain"`` and ``"pet"`` are the
    out-of-distribution inputs (motion, T1, half time, AI-denoised, low count), each with a
    ``"what"`` line. A fresh copy each call."""
    return dict(json.loads(_evaluation_text()))
