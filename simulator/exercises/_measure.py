"""Measurements behind the metrics of :mod:`simulator.exercises.objectives`.

A :class:`Context` holds one trainee protocol and scans lazily: cheap metrics read the
protocol and ``derive``; image metrics trigger one scan (cached), and the motion metric a
second, motion-free scan of the same protocol and seed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from scipy import ndimage

from simulator.errors import UserError
from simulator.exercises import _protocol
from simulator.exercises.objectives import (
    CHEMICAL_SHIFT_PX,
    FDG_MSV_PER_MBQ,
    GIBBS_RIPPLE,
    MOTION_NRMSE,
)

__all__ = ["Context", "measure"]

#: Pixels eroded from a tissue mask before measuring inside it (keeps partial-volume
#: edges and the first Gibbs lobe out of "homogeneous tissue").
_ERODE_PX = 2
#: Fewest pixels of a tissue for a measurement to mean something.
_MIN_PIXELS = 20


class Context:
    """One protocol to measure, with lazily computed scans."""

    def __init__(self, exercise: Any, protocol: Any, geometry: Any = None, *, store: Any = None,
                 user: str | None = None, since: Any = None) -> None:
        self.exercise = exercise
        self.protocol = protocol
        self.geometry = geometry
        self.store = store
        self.user = user
        self.since = since
        self._cache: dict[str, Any] = {}

    # ---------------------------------------------------------------- cached steps
    def derived(self) -> Any:
        if "derived" not in self._cache:
            self._cache["derived"] = _protocol.scanner(self.exercise.modality).derive(self.protocol)
        return self._cache["derived"]

    def _mr_scan(self, protocol: Any) -> Any:
        import simulator.mr as mr

        ex = self.exercise
        anat = mr.load_anatomy(ex.anatomy, pathology=ex.pathology)
        geo = self.geometry if self.geometry is not None else _protocol.make_geometry(ex, None)
        kwargs: dict[str, Any] = {"rng": np.random.default_rng(ex.seed)}
        if ex.grade_slices:
            kwargs["slices"] = [s for s in ex.grade_slices if s < protocol.slices] or [0]
        return mr.scan(anat, protocol, geo, **kwargs)

    def series(self) -> Any:
        if "series" not in self._cache:
            if self.exercise.modality == "mr":
                self._cache["series"] = self._mr_scan(self.protocol)
            else:
                import simulator.pet as pet

                ex = self.exercise
                ph = pet.make_phantom(ex.phantom, **ex.phantom_options)
                self._cache["series"] = pet.scan(ph, self.protocol, rng=np.random.default_rng(ex.seed))
        return self._cache["series"]

    def still_series(self) -> Any:
        """The same MR acquisition without patient motion (reference for ghosting)."""
        if "still" not in self._cache:
            if getattr(self.protocol, "motion", "none") == "none":
                self._cache["still"] = self.series()
            else:
                still = dataclasses.replace(self.protocol, motion="none")
                self._cache["still"] = self._mr_scan(still)
        return self._cache["still"]

    def nema(self) -> Any:
        if "nema" not in self._cache:
            import simulator.pet as pet

            self._cache["nema"] = pet.nema_analysis(self.series())
        return self._cache["nema"]

    def summary(self) -> dict[str, Any]:
        """Headline numbers of what was scanned (for the panel and the JSON output)."""
        out: dict[str, Any] = {}
        s = self._cache.get("series")
        if s is not None:
            for k, v in dict(getattr(s, "metrics", {})).items():
                if isinstance(v, int | float | str | bool):
                    out[k] = v
        return out

    # ---------------------------------------------------------------- MR helpers
    def mask(self, name: str, erode: int = 0) -> np.ndarray:
        s = self.series()
        if name not in s.names:
            raise UserError(f"tissue '{name}' is not in this anatomy", f"tissu « {name} » absent de cette anatomie")
        m = np.asarray(s.labels) == s.names.index(name)
        if erode:
            st = np.zeros((1, 3, 3), bool)
            st[0] = True
            m = ndimage.binary_erosion(m, structure=st, iterations=erode)
        return m

    def noise_sd(self, region: np.ndarray) -> float:
        s = self.series()
        diff = np.asarray(s.images, np.float64) - np.asarray(s.noiseless, np.float64)
        vals = diff[region]
        if vals.size < _MIN_PIXELS:
            raise UserError("the measured region is too small in these slices",
                            "la région mesurée est trop petite dans ces coupes")
        return float(np.std(vals, ddof=1))


def _mean(img: Any, m: np.ndarray) -> float:
    vals = np.asarray(img, np.float64)[m]
    if vals.size < _MIN_PIXELS:
        raise UserError("a tissue of the objective is (almost) absent from the imaged slices",
                        "un tissu de l'objectif est (presque) absent des coupes acquises")
    return float(vals.mean())


def _mr_pixel_mm(d: Any) -> float:
    return float(max(d.voxel_mm[0], d.voxel_mm[1]))


def _fat_suppressed(p: Any) -> bool:
    if getattr(p, "fat_sat", False):
        return True
    # STIR: inversion time near fat's null point (~150 ms at 1.5 T, ~200 ms at 3 T)
    return p.sequence == "ir" and getattr(p, "ti_ms", 0.0) is not None and p.ti_ms < 300.0


def _body(ctx: Context) -> np.ndarray:
    return np.asarray(ctx.series().labels) > 0


def _wrap(ctx: Context) -> bool:
    """Wrap present when body signal folds in: in the truth labels of the *unfolded*
    field, body pixels reach the phase-direction edges of the FOV."""
    s = ctx.series()
    metric = getattr(s, "metrics", {}) or {}
    if "wrap" in metric:  # the scanner reports the folded fraction it simulated
        return bool(metric["wrap"])
    labels = np.asarray(s.labels) > 0
    d = ctx.derived()
    phase_axis = 1 if getattr(d, "phase_axis", "rows") == "rows" else 2
    edge = np.take(labels, [0, -1], axis=phase_axis)
    return bool(edge.any())


def _gibbs(ctx: Context, tissue: str | None) -> float:
    s = ctx.series()
    ref = np.asarray(s.noiseless, np.float64)
    names = [tissue] if tissue else [n for n in s.names[1:]]
    ripples = []
    for n in names:
        m = ctx.mask(n, erode=_ERODE_PX)
        if m.sum() < _MIN_PIXELS:
            continue
        vals = ref[m]
        if vals.mean() <= 0:
            continue
        ripples.append(float(vals.std() / vals.mean()))
    return max(ripples) if ripples else 0.0


def _mr(metric: str, obj: Any, ctx: Context) -> Any:
    p = ctx.protocol
    if metric == "scan_time_s":
        return float(ctx.derived().scan_time_s)
    if metric == "snr_rel":
        return float(ctx.derived().snr_rel)
    if metric == "sar_w_kg":
        return float(ctx.derived().sar_w_kg)
    if metric == "sar_fraction":
        d = ctx.derived()
        return float(d.sar_w_kg / d.sar_limit_w_kg)
    if metric == "fat_shift_px":
        return float(ctx.derived().fat_shift_px)
    if metric == "pixel_mm":
        return _mr_pixel_mm(ctx.derived())
    if metric == "voxel_mm3":
        v = ctx.derived().voxel_mm
        return float(v[0] * v[1] * v[2])
    if metric == "chemical_shift":
        return float(ctx.derived().fat_shift_px) >= CHEMICAL_SHIFT_PX and not _fat_suppressed(p)
    s = ctx.series()
    if metric == "snr":
        tissue = obj.args.get("tissue")
        m = ctx.mask(tissue, erode=1) if tissue else _body(ctx)
        return _mean(s.noiseless, m) / ctx.noise_sd(m)
    if metric == "cnr":
        a, b = obj.args["tissues"]
        ma, mb = ctx.mask(a, erode=1), ctx.mask(b, erode=1)
        return abs(_mean(s.images, ma) - _mean(s.images, mb)) / ctx.noise_sd(_body(ctx))
    if metric == "signal_ratio":
        a, b = obj.args["tissues"]
        mb = _mean(s.noiseless, ctx.mask(b, erode=1))
        return _mean(s.noiseless, ctx.mask(a, erode=1)) / mb if mb > 0 else float("inf")
    if metric == "wrap":
        return _wrap(ctx)
    if metric == "motion":
        from simulator.quality import nrmse

        return nrmse(s.noiseless, ctx.still_series().noiseless) > MOTION_NRMSE
    if metric == "gibbs":
        return _gibbs(ctx, obj.args.get("tissue")) > GIBBS_RIPPLE
    if metric == "coverage":
        import simulator.mr as mr

        name = obj.args["structure"]
        anat = mr.load_anatomy(ctx.exercise.anatomy, pathology=ctx.exercise.pathology)
        total_ml = float(anat.volume_ml(name))
        if total_ml <= 0:
            return 0.0
        row_mm, col_mm = s.pixel_spacing_mm
        px = float(np.count_nonzero(ctx.mask(name)))
        return min(1.0, px * row_mm * col_mm * float(p.slice_mm) / 1000.0 / total_ml)
    if metric == "ssim":
        from simulator.quality import ssim

        return ssim(s.images, s.noiseless)
    raise UserError(f"metric '{metric}' is not available for MR", f"mesure « {metric} » indisponible en IRM")


def _pet(metric: str, obj: Any, ctx: Context) -> Any:
    p = ctx.protocol
    if metric == "scan_time_min":
        return float(p.minutes_per_bed) * float(getattr(p, "beds", 1))
    if metric == "activity_mbq":
        return float(p.activity_mbq)
    if metric == "dose_msv":
        return float(p.activity_mbq) * FDG_MSV_PER_MBQ
    s = ctx.series()
    if metric in ("crc", "bv"):
        nema = ctx.nema()
        key = f"sphere_{int(obj.args.get('sphere_mm', 10))}"
        table = nema["crc" if metric == "crc" else "bv"]
        return float(table[key]) if key in table else None
    if metric in ("suv_max", "suv_mean"):
        from simulator.quality import suv

        region = obj.args["region"]
        labels = np.asarray(s.labels)
        m = labels == list(s.names).index(region)
        vals = suv(np.asarray(s.images_bqml)[m], s.dose_at_scan_bq, p.weight_kg)
        if vals.size == 0:
            return None
        return float(vals.max() if metric == "suv_max" else vals.mean())
    if metric == "counts_m":
        c = s.counts
        trues = c["trues"] if isinstance(c, dict) else c.trues
        return float(trues) / 1e6
    if metric == "ssim":
        from simulator.quality import ssim

        truth = getattr(s, "truth_bqml", None)
        return None if truth is None else ssim(s.images_bqml, truth)
    raise UserError(f"metric '{metric}' is not available for PET", f"mesure « {metric} » indisponible en TEP")


def measure(obj: Any, ctx: Context) -> Any:
    """The measured value of objective ``obj`` (float, bool, or None if not measurable)."""
    metric = obj.metric
    if metric == "ai_denoise":
        return bool(getattr(ctx.protocol, "ai_denoise", False))
    if metric == "param":
        v = getattr(ctx.protocol, obj.args["name"])
        return v if isinstance(v, bool) else float(v) if isinstance(v, int | float) else v
    if metric == "mentor_called":
        if ctx.store is None or ctx.user is None:
            return False
        from simulator.exercises.store import EVENT_MENTOR_CALLED

        return ctx.store.has_event(ctx.user, EVENT_MENTOR_CALLED, exercise_id=ctx.exercise.id,
                                   since=ctx.since)
    if ctx.exercise.modality == "mr":
        return _mr(metric, obj, ctx)
    return _pet(metric, obj, ctx)
