"""PET detector laws on the NEMA IEC phantom (slow: eight scans).

The six hot spheres (10–37 mm) give the size axis; the sphere-to-background ratio (the
phantom's own parameter) gives the contrast axis. Law: pooled over noise seeds, a bigger or
hotter sphere is found at least as often, and the sweep spans "missed" to "found".
"""

from __future__ import annotations

import functools

import pytest

from simulator.findings import detect, match, truth
from simulator.findings_training.cases import PETCase, scan_pet

RATIOS = (1.5, 2.5, 4.0, 8.0)
SEEDS = (71, 72)


@functools.cache
def _hits() -> dict[tuple[float, float], list[int]]:
    """(ratio, diameter) → hit flags over seeds."""
    out: dict[tuple[float, float], list[int]] = {}
    for ratio in RATIOS:
        for seed in SEEDS:
            s = scan_pet(PETCase("nema-iec", seed=seed, ratio=ratio))
            t = truth(s)
            hit = {id(x) for _, x in match(detect(s), t).pairs}
            for x in t:
                out.setdefault((ratio, x.measure["diameter_mm"]), []).append(int(id(x) in hit))
    return out


def _rate(keys) -> float:
    flags = [f for k in keys for f in _hits().get(k, [])]
    return sum(flags) / max(len(flags), 1)


@pytest.mark.slow
def test_pet_sensitivity_rises_with_sphere_size():
    diams = sorted({d for _, d in _hits()})
    sens = [_rate([(r, d) for r in RATIOS[1:]]) for d in diams]
    for a, b in zip(sens[:-1], sens[1:], strict=True):
        assert b >= a - 1 / 6, sens
    assert sens[-1] - sens[0] >= 0.3 and sens[-1] >= 0.8, sens


@pytest.mark.slow
def test_pet_sensitivity_rises_with_contrast():
    diams = sorted({d for _, d in _hits()})
    sens = [_rate([(r, d) for d in diams]) for r in RATIOS]
    for a, b in zip(sens[:-1], sens[1:], strict=True):
        assert b >= a - 1 / 12, sens
    assert sens[-1] - sens[0] >= 0.4, sens
