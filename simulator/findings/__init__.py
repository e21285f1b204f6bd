"""Detection AI at the console: findings on MR and PET series, and the trainee's decisions.

:mod:`simulator.findings.finding` holds the data seam (:class:`Finding`, :class:`Decision`).
"""

from __future__ import annotations

from simulator.findings.finding import DECISIONS, FINDING_LABELS, Decision, Finding

__all__ = ["DECISIONS", "FINDING_LABELS", "Decision", "Finding"]
