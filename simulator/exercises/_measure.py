"""Measurements behind the metrics of :mod:`simulator.exercises.objectives`.

A :class:`Context` holds one trainee protocol and scans lazily: cheap metrics read the
protocol and ``derive``; image metrics trigger one scan (cached), and the motion metric a
second, motion-free scan of the same protocol and seed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from simulator.errors import UserError
from simulator.exercises import _protocol
from simulator.exercises.objectives import (
    CHEMICAL_SHIFT_PX,
    FDG_MSV_PER_MBQ,
    GIBBS_PIXEL_MM,
    MOTION_NRMSE,
)

__all__ = ["Context", "measure", "Unmeasurable"]

#: Pixels eroded from a tissue mask before measuring inside it (keeps partial-volume
#: edges and the first Gibbs lobe out of "homogeneous tissue").
_ERODE_PX = 2
#: Fewest pixels of a tissue for a measurement to mean something.
_MIN_PIXELS = 20


class Unmeasurable(UserError):
    """An objective that cannot be measured on these images (a tissue absent from the
    imaged slices…): that objective fails, the others are still graded."""


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
        #: The attempt's records of the AI findings (``simulator.exercises._findings``).
        self.findings_records: list[dict[str, Any]] = []
        self._cache: dict[str, Any] = {}

    # ---------------------------------------------------------------- cached steps
    def derived(self) -> Any:
        if "derived" not in self._cache:
            self._cache["derived"] = _protocol.scanner(self.exercise.modality).derive(self.protocol)
        return self._cache["derived"]

    def geo(self) -> Any:
        """The planned geometry (the exercise's start geometry when none was given)."""
        if self.geometry is None:
            self.geometry = _protocol.make_geometry(self.exercise, None, self.protocol)
        return self.geometry

    def anatomy(self) -> Any:
        """The exercise's MR anatomy (loaded once per process: ``load_anatomy`` caches it)."""
        import simulator.mr as mr

        return mr.load_anatomy(self.exercise.anatomy, pathology=self.exercise.pathology)

    def _mr_scan(self, protocol: Any) -> Any:
        import simulator.mr as mr

        ex = self.exercise
        anat = self.anatomy()
        geo = self.geo()
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
                # the image depends on the real patient; the entered weight only enters the SUV
                real = dataclasses.replace(self.protocol, weight_kg=float(ex.patient.weight_kg))
                from simulator.pet.scanner import is_multibed

                # a bed-by-bed exam images its whole planned range (the scanner refuses slices)
                kwargs: dict[str, Any] = (
                    {"slices": list(ex.grade_slices)}
                    if ex.grade_slices and not is_multibed(ph, real) else {}
                )
                self._cache["series"] = pet.scan(ph, real, rng=np.random.default_rng(ex.seed),
                                                 seed=ex.seed, **kwargs)
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

    def pet_metrics(self) -> dict[str, Any]:
        """The PET series' own analysis (``nema`` for the IEC phantom, lesions and liver)."""
        return dict(getattr(self.series(), "metrics", {}) or {})

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
            raise Unmeasurable(f"tissue '{name}' is not in this anatomy", f"tissu « {name} » absent de cette anatomie")
        m = np.asarray(s.labels) == s.names.index(name)
        if erode:
            from scipy import ndimage  # at grading time: the console loads the course at start

            st = np.zeros((1, 3, 3), bool)
            st[0] = True
            eroded = ndimage.binary_erosion(m, structure=st, iterations=erode)
            if np.count_nonzero(eroded) >= _MIN_PIXELS:  # small structures (lesions): keep them whole
                return eroded
        return m

    def noise_sd(self, region: np.ndarray) -> float:
        s = self.series()
        diff = np.asarray(s.images, np.float64) - np.asarray(s.noiseless, np.float64)
        vals = diff[region]
        if vals.size < _MIN_PIXELS:
            raise Unmeasurable("the measured region is too small in these slices",
                            "la région mesurée est trop petite dans ces coupes")
        return float(np.std(vals, ddof=1))


def _mean(img: Any, m: np.ndarray) -> float:
    vals = np.asarray(img, np.float64)[m]
    if vals.size < _MIN_PIXELS:
        raise Unmeasurable("a tissue of the objective is (almost) absent from the imaged slices",
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
    from simulator.mr.planning import wrap_estimate

    return wrap_estimate(ctx.anatomy(), ctx.protocol, ctx.geo()).wraps


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
    if metric == "gibbs":
        return _mr_pixel_mm(ctx.derived()) > GIBBS_PIXEL_MM
    if metric == "chemical_shift":
        return float(ctx.derived().fat_shift_px) >= CHEMICAL_SHIFT_PX and not _fat_suppressed(p)
    if metric == "wrap":
        return _wrap(ctx)
    if metric == "coverage":
        from simulator.mr.planning import coverage_share

        return coverage_share(ctx.anatomy(), obj.args["structure"], p, ctx.geo())
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
        mean_b = _mean(s.noiseless, ctx.mask(b, erode=1))
        return _mean(s.noiseless, ctx.mask(a, erode=1)) / mean_b if mean_b > 0 else float("inf")
    if metric == "motion":
        from simulator.quality import nrmse

        return nrmse(s.noiseless, ctx.still_series().noiseless) > MOTION_NRMSE
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
    m = ctx.pet_metrics()
    if metric in ("crc", "bv"):
        nema = m.get("nema")
        if nema is None:
            raise Unmeasurable("CRC and BV are measured on the NEMA IEC phantom",
                            "CRC et VF se mesurent sur le fantôme NEMA IEC")
        key = f"sphere_{int(obj.args.get('sphere_mm', 10))}"
        table = nema[metric]
        return float(table[key]) if key in table else None
    if metric in ("suv_max", "suv_mean"):
        # SUV as the console computes it, with the weight the trainee entered
        entered = float(p.weight_kg) / float(ctx.exercise.patient.weight_kg)
        region = obj.args["region"]
        lesions = m.get("lesions") or {}
        if region in lesions:
            return float(lesions[region][metric]) * entered
        if region == "liver" and metric == "suv_mean" and "liver_suv_mean" in m:
            return float(m["liver_suv_mean"]) * entered
        from simulator.quality import suv

        mask = np.asarray(s.labels) == list(s.names).index(region)
        if not mask.any():
            return None
        vals = suv(np.asarray(s.images_bqml, np.float64)[mask], s.dose_at_scan_bq, p.weight_kg)
        return float(vals.max() if metric == "suv_max" else vals.mean())
    if metric == "liver_cov":
        return float(m["liver_cov"]) if "liver_cov" in m else None
    if metric == "counts_m":
        return float(s.counts["trues"]) / 1e6
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
    if metric == "pacs_sent":  # every series of a send reached the PACS (simulator.hospital)
        if ctx.store is None or ctx.user is None:
            return False
        from simulator.hospital.progress import EVENT_PACS_SENT, all_sent

        return any(  # a replayed reference-solution event stands for a complete send
            all_sent(ev.get("payload") or {}) or bool((ev.get("payload") or {}).get("replayed"))
            for ev in ctx.store.events(ctx.user, kind=EVENT_PACS_SENT, exercise_id=ctx.exercise.id,
                                       since=ctx.since)
        )
    if ctx.exercise.modality == "mr":
        return _mr(metric, obj, ctx)
    return _pet(metric, obj, ctx)
