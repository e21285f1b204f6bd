"""Which findings hit which truth: one rule for the evaluation and the console's grader.

A finding matches a truth finding when

* both have the same label;
* its centre lies inside the truth's box grown by ``tol_px`` on each side:
  ``|Δrow| ≤ extent_rows + tol_px`` and ``|Δcol| ≤ extent_cols + tol_px``;
* its slice is within ``slice_tol`` of the truth's central slice, where the tolerance grows
  with the truth's own span: ``|Δslice| ≤ n_slices + (truth.n_slices − 1) // 2``.

Pairs are made one to one, the most confident finding first, each taking the nearest
unmatched truth (distance relative to the box). A second finding on an already-matched
lesion is a false positive (a duplicate mark costs the reader a look, as in FROC studies).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simulator.findings.finding import Finding

__all__ = ["Match", "matches", "match"]

#: Default in-plane tolerance around the truth box, in pixels.
TOL_PX = 3.0
#: Default slice tolerance, in slices.
N_SLICES = 1


@dataclass(frozen=True)
class Match:
    """The outcome of :func:`match`.

    Attributes
    ----------
    pairs : tuple of (Finding, Finding)
        (finding, truth) true positives.
    false_positives : tuple of Finding
        Findings that hit no truth (or a truth already taken).
    missed : tuple of Finding
        Truth findings no finding hit (false negatives).
    """

    pairs: tuple[tuple[Finding, Finding], ...]
    false_positives: tuple[Finding, ...]
    missed: tuple[Finding, ...]

    @property
    def n_true_positive(self) -> int:
        """Number of truth findings hit."""
        return len(self.pairs)


def _distance(f: Finding, t: Finding, tol_px: float, n_slices: int) -> float | None:
    if f.label != t.label:
        return None
    dz = abs(f.slice_index - t.slice_index)
    if dz > n_slices + (t.n_slices - 1) // 2:
        return None
    dr = abs(f.centre_rc[0] - t.centre_rc[0])
    dc = abs(f.centre_rc[1] - t.centre_rc[1])
    hr, hc = t.extent_px[0] + tol_px, t.extent_px[1] + tol_px
    if dr > hr or dc > hc:
        return None
    return max(dr / hr, dc / hc) + 0.01 * dz


def matches(f: Finding, t: Finding, *, tol_px: float = TOL_PX, n_slices: int = N_SLICES) -> bool:
    """Whether finding ``f`` hits truth ``t`` (the rule of the module docstring)."""
    return _distance(f, t, tol_px, n_slices) is not None


def match(
    findings: Sequence[Finding],
    truth: Sequence[Finding],
    *,
    tol_px: float = TOL_PX,
    n_slices: int = N_SLICES,
) -> Match:
    """Pair findings with truth one to one (see the module docstring).

    Parameters
    ----------
    findings : sequence of Finding
        What a detector (or a trainee) marked.
    truth : sequence of Finding
        From :func:`simulator.findings.truth`.
    tol_px : float
        In-plane tolerance beyond the truth box, pixels.
    n_slices : int
        Slice tolerance beyond the truth's half-span.
    """
    order = sorted(range(len(findings)), key=lambda i: (-findings[i].confidence, i))
    taken: set[int] = set()
    pairs: list[tuple[Finding, Finding]] = []
    fps: list[Finding] = []
    for i in order:
        f = findings[i]
        best, best_d = -1, float("inf")
        for j, t in enumerate(truth):
            if j in taken:
                continue
            d = _distance(f, t, tol_px, n_slices)
            if d is not None and d < best_d:
                best, best_d = j, d
        if best < 0:
            fps.append(f)
        else:
            taken.add(best)
            pairs.append((f, truth[best]))
    missed = tuple(t for j, t in enumerate(truth) if j not in taken)
    return Match(tuple(pairs), tuple(fps), missed)
