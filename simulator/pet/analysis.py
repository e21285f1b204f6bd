"""Image-quality analysis of PET series: NEMA NU 2 image quality, lesion SUVs, liver noise.

NEMA NU 2-2018 section 7 (image quality), as implemented in :mod:`simulator.quality`:

- hot sphere j: CRC = (C_H/C_B − 1)/(a_H/a_B − 1); cold: CRC = 1 − C_C/C_B, with C the mean
  of a circular ROI of the sphere's inner diameter on the central slice (the spheres' plane);
- background: 12 ROIs of each sphere size, concentric, placed ≥ 15 mm from the phantom
  edge and from any sphere, on the central slice and at ±10 and ±20 mm (K = 60 ROIs);
  C_B = mean of the 60 ROI means and BV = SD/mean of the 60 ROI means;
- lung residual error: mean of a 30-mm ROI centred on the lung insert, divided by the 37-mm
  background mean, averaged over the same five slices.

Patient phantoms: SUVmean of each lesion in a sphere of its diameter, SUVmax within one
voxel more (the PSF moves the peak), and the liver's coefficient of variation in a 30-mm
sphere (EARL liver reference region).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from simulator import quality
from simulator.errors import ParameterError
from simulator.pet.phantoms import Feature, Phantom

__all__ = ["nema_analysis", "lesion_analysis", "brain_analysis", "analyse"]

#: NEMA NU 2: minimum distance of background ROIs to the phantom edge and to the spheres.
NEMA_MARGIN_MM = 15.0
NEMA_SLICE_OFFSETS_MM = (-20.0, -10.0, 0.0, 10.0, 20.0)
NEMA_LUNG_ROI_MM = 30.0
NEMA_N_BACKGROUND = 12
LIVER_VOI_MM = 30.0


class SeriesLike(Protocol):
    """What the analysis reads from a :class:`simulator.pet.PETSeries`."""

    @property
    def images_bqml(self) -> NDArray[np.float32]: ...
    @property
    def voxel_mm(self) -> tuple[float, float, float]: ...
    @property
    def slice_indices(self) -> tuple[int, ...]: ...
    @property
    def dose_at_scan_bq(self) -> float: ...
    @property
    def protocol(self) -> Any: ...


class _Grid:
    """Maps phantom millimetres (z, y, x) to indices of the series' image grid."""

    def __init__(self, series: SeriesLike, phantom: Phantom) -> None:
        self.m = series.images_bqml.shape[1]
        self.p = series.voxel_mm[1]
        self.dz = phantom.voxel_mm[0]
        self.centre_ph = (phantom.shape[1] - 1) / 2.0 * phantom.voxel_mm[1]
        self.slices = {k: i for i, k in enumerate(series.slice_indices)}

    def yx(self, y_mm: float, x_mm: float) -> tuple[float, float]:
        c = (self.m - 1) / 2.0
        return ((y_mm - self.centre_ph) / self.p + c, (x_mm - self.centre_ph) / self.p + c)

    def slice_at(self, z_mm: float) -> int | None:
        return self.slices.get(int(round(z_mm / self.dz)))

    def disc(self, y_mm: float, x_mm: float, diameter_mm: float) -> NDArray[np.bool_]:
        cy, cx = self.yx(y_mm, x_mm)
        r = diameter_mm / 2.0 / self.p
        yy, xx = np.ogrid[: self.m, : self.m]
        return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def _background_centres(phantom: Phantom, z_mm: float) -> list[tuple[float, float]]:
    """Twelve background ROI centres (y, x mm) spread over the allowed area."""
    k = int(round(z_mm / phantom.voxel_mm[0]))
    px = phantom.voxel_mm[1]
    inner = [i for i, n in enumerate(phantom.names) if n not in ("air", "wall")]
    body = np.isin(phantom.labels[k], inner)  # inside the shell; the lung is excluded below
    r_big = max(f.diameter_mm for f in phantom.features.values() if f.kind == "sphere") / 2
    edge = ndimage.distance_transform_edt(body) * px
    yy, xx = np.mgrid[: body.shape[0], : body.shape[1]] * px
    ok = edge >= NEMA_MARGIN_MM + r_big
    for f in phantom.features.values():
        if f.kind in ("sphere", "cylinder"):
            dist = np.hypot(yy - f.centre_mm[1], xx - f.centre_mm[2])
            ok &= dist >= f.diameter_mm / 2 + NEMA_MARGIN_MM + r_big
    cand = np.argwhere(ok[::2, ::2]) * 2 * px
    if len(cand) < NEMA_N_BACKGROUND:
        raise ValueError("no room for the NEMA background ROIs")
    chosen = [int(np.argmin(cand[:, 0]))]  # most anterior first, then farthest-point
    d = np.hypot(*(cand - cand[chosen[0]]).T)
    while len(chosen) < NEMA_N_BACKGROUND:
        nxt = int(np.argmax(d))
        chosen.append(nxt)
        d = np.minimum(d, np.hypot(*(cand - cand[nxt]).T))
    return [(float(cand[i, 0]), float(cand[i, 1])) for i in chosen]


def nema_analysis(series: SeriesLike, phantom: Phantom) -> dict[str, Any]:
    """NEMA NU 2 image-quality figures of a scan of the IEC phantom.

    Returns
    -------
    dict
        ``crc`` and ``bv`` (sphere name → value), ``kind`` (sphere → "hot"/"cold"),
        ``sphere_mean_bqml``, ``background_bqml`` (per sphere size), ``lung_residual``,
        ``central_slice`` (index into the series), ``n_background_rois``.

    Raises
    ------
    ParameterError
        If the phantom is not the IEC phantom or the series lacks the needed slices.
    """
    if phantom.name != "nema-iec":
        raise ParameterError(
            "phantom", phantom.name, "nema-iec", "NEMA analysis needs the IEC phantom"
        )
    g = _Grid(series, phantom)
    img = np.asarray(series.images_bqml, np.float64)
    spheres = {k: f for k, f in phantom.features.items() if f.kind == "sphere"}
    z0 = next(iter(spheres.values())).centre_mm[0]
    planes = [g.slice_at(z0 + dz) for dz in NEMA_SLICE_OFFSETS_MM]
    if any(k is None for k in planes):
        raise ParameterError(
            "slices", "partial", "the sphere plane ±20 mm", "NEMA analysis needs 5 slices"
        )
    centre = planes[2]
    assert centre is not None
    centres = _background_centres(phantom, z0)
    lung = phantom.features["lung"]
    out: dict[str, Any] = {
        "crc": {},
        "bv": {},
        "kind": {},
        "sphere_mean_bqml": {},
        "background_bqml": {},
        "central_slice": centre,
        "n_background_rois": NEMA_N_BACKGROUND * len(planes),
        "background_centres_mm": centres,
    }
    bg_ref = float(phantom.features["background"].suv)
    for name, f in sorted(spheres.items(), key=lambda kv: kv[1].diameter_mm):
        means = [
            float(img[k][g.disc(cy, cx, f.diameter_mm)].mean())
            for k in planes
            for cy, cx in centres
        ]
        c_b = float(np.mean(means))
        c_s = float(img[centre][g.disc(f.centre_mm[1], f.centre_mm[2], f.diameter_mm)].mean())
        if f.suv > 0:
            crc = quality.crc_hot(c_s, c_b, f.suv / bg_ref)
            out["kind"][name] = "hot"
        else:
            crc = quality.crc_cold(c_s, c_b)
            out["kind"][name] = "cold"
        out["crc"][name] = float(crc)
        out["bv"][name] = quality.background_variability(means)
        out["sphere_mean_bqml"][name] = c_s
        out["background_bqml"][name] = c_b
    c_b37 = out["background_bqml"]["sphere_37"]
    lung_means = [
        float(img[k][g.disc(lung.centre_mm[1], lung.centre_mm[2], NEMA_LUNG_ROI_MM)].mean())
        for k in planes
    ]
    out["lung_residual"] = float(np.mean(lung_means) / c_b37)
    return out


def _sphere_voi(g: _Grid, f: Feature, diameter_mm: float, nz: int) -> NDArray[np.bool_]:
    voi = np.zeros((nz, g.m, g.m), bool)
    r = diameter_mm / 2.0
    for k_ph, i in g.slices.items():
        dz = k_ph * g.dz - f.centre_mm[0]
        if abs(dz) <= r:
            voi[i] = g.disc(f.centre_mm[1], f.centre_mm[2], 2.0 * np.sqrt(r * r - dz * dz))
    return voi


def lesion_analysis(series: SeriesLike, phantom: Phantom) -> dict[str, Any]:
    """SUVmean/SUVmax of each lesion (true SUV beside) and the liver's CoV."""
    g = _Grid(series, phantom)
    img = np.asarray(series.images_bqml, np.float64)
    suv = quality.suv(img, series.dose_at_scan_bq, series.protocol.weight_kg)
    nz = img.shape[0]
    out: dict[str, Any] = {"lesions": {}}
    for name, f in phantom.features.items():
        if f.kind != "lesion":
            continue
        voi = _sphere_voi(g, f, f.diameter_mm, nz)
        big = _sphere_voi(g, f, f.diameter_mm + 2 * g.p, nz)
        if not voi.any():
            continue
        out["lesions"][name] = {
            "diameter_mm": f.diameter_mm,
            "suv_true": f.suv,
            "suv_mean": float(suv[voi].mean()),
            "suv_max": float(suv[big].max()),
        }
    if "liver" in phantom.features:
        voi = _sphere_voi(g, phantom.features["liver"], LIVER_VOI_MM, nz)
        if voi.any():
            vals = suv[voi]
            out["liver_suv_mean"] = float(vals.mean())
            out["liver_cov"] = float(vals.std(ddof=1) / vals.mean()) if vals.size > 1 else 0.0
    return out


def brain_analysis(
    series: SeriesLike, phantom: Phantom, labels: NDArray[np.uint8]
) -> dict[str, Any]:
    """Grey and white matter SUVmean (eroded masks) and their ratio against the truth."""
    img = np.asarray(series.images_bqml, np.float64)
    suv = quality.suv(img, series.dose_at_scan_bq, series.protocol.weight_kg)
    out: dict[str, Any] = {}
    for tissue in ("gray_matter", "white_matter"):
        if tissue not in phantom.names:
            return out
        m = labels == phantom.names.index(tissue)
        core = ndimage.binary_erosion(m, iterations=1)
        out[f"{tissue}_suv_mean"] = float(suv[core if core.any() else m].mean()) if m.any() else 0.0
    if out.get("white_matter_suv_mean"):
        out["gray_white_ratio"] = out["gray_matter_suv_mean"] / out["white_matter_suv_mean"]
        gm, wm = phantom.features["gray_matter"].suv, phantom.features["white_matter"].suv
        out["gray_white_ratio_true"] = gm / wm
    return out


def analyse(series: SeriesLike, phantom: Phantom, labels: NDArray[np.uint8]) -> dict[str, Any]:
    """The analysis that fits the phantom; {} where the slices do not allow it."""
    try:
        if phantom.name == "nema-iec":
            return {"nema": nema_analysis(series, phantom)}
        if phantom.name in ("torso", "patient"):
            return lesion_analysis(series, phantom)
        if phantom.name == "brain":
            return brain_analysis(series, phantom, labels)
    except ParameterError:
        return {}
    return {}
