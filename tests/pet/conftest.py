"""Shared helpers for the PET tests: a uniform water cylinder built independently."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.pet.phantoms import Phantom

#: 10 slices of 2 mm, 128 × 128 pixels of 2 mm: small enough to simulate in ~0.1 s.
N, PX, NZ = 128, 2.0, 10


def cylinder(
    diameter_mm: float = 200.0,
    activity_mbq: float = 250.0,
    weight_kg: float = 70.0,
    suv: float = 1.0,
    mu_per_cm: float = 0.096,
) -> Phantom:
    """A uniform water cylinder of ``suv`` (concentration = suv × dose / weight)."""
    c = (np.arange(N) - (N - 1) / 2) * PX
    inside = np.hypot(*np.meshgrid(c, c, indexing="ij")) <= diameter_mm / 2
    conc = suv * activity_mbq * 1e6 / (weight_kg * 1000.0)
    act = np.broadcast_to(inside * np.float32(conc), (NZ, N, N)).astype(np.float32)
    mu = np.broadcast_to(inside * np.float32(mu_per_cm), (NZ, N, N)).astype(np.float32)
    labels = np.broadcast_to(inside.astype(np.uint8), (NZ, N, N)).copy()
    return Phantom(
        name="cylinder",
        activity_bqml=act,
        mu_per_cm=mu,
        labels=labels,
        names=("air", "water"),
        voxel_mm=(PX, PX, PX),
        activity_mbq=activity_mbq,
        weight_kg=weight_kg,
    )


@pytest.fixture(scope="session")
def water_cylinder() -> Phantom:
    return cylinder()
