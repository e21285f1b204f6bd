"""Series shared by the detector tests (scanned once per session)."""

from __future__ import annotations

import pytest

from simulator.findings_training.cases import BrainCase, scan_brain


@pytest.fixture(scope="session")
def healthy_flair():
    """A healthy brain FLAIR series (20 slices), noise seed never used in training."""
    return scan_brain(BrainCase("flair", None, None, seed=424_242))


@pytest.fixture(scope="session")
def ms_flair():
    """A held-out brain FLAIR series with MS-like lesions (placement seed ≥ 5000)."""
    return scan_brain(BrainCase("flair", "ms_lesions", 5003, seed=424_243))
