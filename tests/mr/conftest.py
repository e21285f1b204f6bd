"""Small synthetic anatomies built in the tests (independent of the shipped volumes)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.mr.anatomy import Anatomy

NAMES = ("air", "white_matter", "gray_matter", "csf", "fat", "bone_cortex", "muscle")


def head_phantom() -> Anatomy:
    """Nested ellipsoids: scalp fat, skull, CSF, grey matter, white matter; 1 mm voxels.

    The head is 180 mm (x, left–right) by 200 mm (y, anterior–posterior), 60 mm tall.
    """
    nz, ny, nx = 60, 240, 240
    z, y, x = np.meshgrid(np.arange(nz) - (nz - 1) / 2, np.arange(ny) - (ny - 1) / 2,
                          np.arange(nx) - (nx - 1) / 2, indexing="ij")
    lab = np.zeros((nz, ny, nx), dtype=np.uint8)

    def ell(ax: float, ay: float) -> np.ndarray:
        return (x / ax) ** 2 + (y / ay) ** 2 <= 1.0

    lab[ell(90, 100)] = 4   # scalp fat
    lab[ell(84, 94)] = 5    # skull
    lab[ell(79, 89)] = 3    # CSF
    lab[ell(74, 84)] = 2    # grey matter
    lab[ell(60, 70)] = 1    # white matter
    lab[(x ** 2 + (y - 20) ** 2) <= 12 ** 2] = 3  # a ventricle
    return Anatomy(name="brain", labels=lab, voxel_mm=(1.0, 1.0, 1.0), names=NAMES,
                   origin_mm=(-(nx - 1) / 2, -(ny - 1) / 2, -(nz - 1) / 2))


def block_phantom(tissue: str = "white_matter", size_mm: int = 120) -> Anatomy:
    """A uniform square block of one tissue (uniform ROI for SNR laws), 40 mm tall."""
    nz, ny, nx = 40, 200, 200
    lab = np.zeros((nz, ny, nx), dtype=np.uint8)
    lo = (200 - size_mm) // 2
    lab[:, lo:lo + size_mm, lo:lo + size_mm] = NAMES.index(tissue)
    return Anatomy(name="brain", labels=lab, voxel_mm=(1.0, 1.0, 1.0), names=NAMES,
                   origin_mm=(-99.5, -99.5, -19.5))


@pytest.fixture(scope="session")
def head() -> Anatomy:
    return head_phantom()


@pytest.fixture(scope="session")
def block() -> Anatomy:
    return block_phantom()


@pytest.fixture(scope="session")
def fat_block() -> Anatomy:
    return block_phantom("fat", size_mm=60)
