"""What the strictest everyday readers make of the files: DCMTK renders them visibly,
dcm2niix reads each series as one volume with no vendor guessed."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess

import numpy as np
import pytest
from dicom_fakes import fake_mr_series, fake_pet_series

from simulator.dicom import write_mr_series, write_pet_series
from tests.conftest import missing

#: dcm2niix says this for every file whose Manufacturer names no vendor it knows: the right
#: outcome for a simulator (a vendor guess would tune the conversion for the wrong scanner).
_NO_VENDOR = "Unable to determine manufacturer"


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(f"{name} (Debian package {package}) is not installed")
    return path


def _mean_grey(tmp_path, dcm, where=None) -> float:
    """Mean grey of DCMTK's rendering (first window in the file) as a fraction of 0–255,
    over the whole image or over the pixels ``where`` is true."""
    from PIL import Image

    out = tmp_path / "render.pgm"
    subprocess.run(
        [_tool("dcm2pnm", "dcmtk"), "+Wi", "1", str(dcm), str(out)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    grey = np.asarray(Image.open(out), dtype=float) / 255.0
    return float(grey.mean() if where is None else grey[where].mean())


@pytest.mark.slow
@pytest.mark.parametrize("anatomy", ["brain", "knee", "spine"])
def test_dcmtk_renders_mr_middle_slice_visibly(tmp_path, anatomy) -> None:
    import simulator.mr as mr
    from simulator.mr.geometry import default_geometry
    from simulator.mr.scan import scan

    anat = mr.load_anatomy(anatomy)
    p = dataclasses.replace(mr.preset(anatomy, next(iter(mr.PRESETS[anatomy]))), slices=3)
    paths = write_mr_series(scan(anat, p, default_geometry(anat, p), rng=1), tmp_path / "s")
    assert 0.2 <= _mean_grey(tmp_path, paths[len(paths) // 2]) <= 0.8


@pytest.mark.slow
@pytest.mark.parametrize("phantom", ["nema-iec", "brain"])
def test_dcmtk_renders_pet_middle_slice_visibly(tmp_path, phantom) -> None:
    import simulator.pet as pet

    proto = pet.PETProtocol()
    ph = pet.make_phantom(phantom, activity_mbq=proto.activity_mbq, weight_kg=proto.weight_kg)
    series = pet.scan(ph, proto, seed=1)
    paths = write_pet_series(series, tmp_path / "s")
    # A PET slice is mostly empty field of view (the brain fills a quarter of it): the grey
    # is measured over the object, the voxels above 10 % of the activity's top.
    vol = np.asarray(series.images_bqml, dtype=float)
    k = len(paths) // 2
    obj = vol[k] > 0.1 * np.percentile(vol, 99.9)
    assert obj.mean() > 0.05
    assert 0.2 <= _mean_grey(tmp_path, paths[k], where=obj) <= 0.8


def _dcm2niix(tmp_path, folder) -> tuple[list[str], list[dict]]:
    out = tmp_path / "nii"
    out.mkdir()
    run = subprocess.run(
        [
            _tool("dcm2niix", "dcm2niix"),
            "-b",
            "y",
            "-z",
            "n",
            "-f",
            "%s",
            "-o",
            str(out),
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = (run.stdout + run.stderr).splitlines()
    sidecars = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    return lines, sidecars


@pytest.mark.parametrize("modality", ["mr", "pet"])
def test_dcm2niix_one_volume_no_vendor_no_other_warning(tmp_path, modality) -> None:
    folder = tmp_path / "s"
    if modality == "mr":
        write_mr_series(fake_mr_series(), folder)
    else:
        write_pet_series(fake_pet_series(), folder)
    lines, sidecars = _dcm2niix(tmp_path, folder)
    assert len(sidecars) == 1  # one series, one volume
    warnings = [w for w in lines if w.lower().startswith(("warning", "error"))]
    others = [w for w in warnings if _NO_VENDOR not in w and "FrameReferenceTime" not in w]
    assert others == [], warnings
    # No vendor guessed: no Manufacturer claimed in the sidecar, or ours verbatim.
    assert sidecars[0].get("Manufacturer", "Virtual").startswith("Virtual")
    text = json.dumps(sidecars[0]).lower()
    assert not any(v in text for v in ("siemens", "mediso", "philips", "canon", "toshiba"))
