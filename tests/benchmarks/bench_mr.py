"""Benchmark: every MR update path against the FFT floor and against SpinSight, side by side.

Cases (brain, SE, 256 × 256, 8 coils): a rescan after a TR change and after a TE change (one
slice), a matrix change (new slice geometry, nothing cached), the 20-slice series, and the
first image in a fresh process; then the console's cold start (``import simulator.console``,
a session, its first image and first series in a fresh process, with its peak RSS) and the
memory of the k-space cache and of one new slice geometry. The peer is SpinSight 1.3.9 (PyPI ``spinsight``, the
``bench`` extra; 256 × 256, one coil, its own brain phantom), driven through its computation
graph without the GUI. Each case alternates ours and the peer's in one process, A/B/B/A,
with one ``numpy.fft.fft2`` of 8 × 256 × 256 complex64 (the floor of any simulator that
transforms every coil once) timed between them, so that every ratio comes from the same
minutes of the same machine: load moves both sides of a ratio alike.

Run as a script (prints the machine and a table)::

    python tests/benchmarks/bench_mr.py            # or: bash scripts/bench.sh mr
    SPINSIGHT_PYTHON=/tmp/spinsight-venv/bin/python python tests/benchmarks/bench_mr.py

SpinSight pulls in panel, holoviews, finufft and mri-nufft: install it with
``pip install -e .[bench]``, or in a separate virtual environment named by
``$SPINSIGHT_PYTHON`` (the script then reruns itself there, with this checkout on the path).
Without it the peer columns are skipped with a line that says so.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from simulator.mr import MRProtocol, load_anatomy, scan  # noqa: E402
from simulator.mr.acquisition import complex_normal  # noqa: E402
from simulator.mr.geometry import CACHE_BUDGET_BYTES, clear_cache  # noqa: E402

#: Brain SE, square 256 × 256 matrix, 8 coils.
SE_256 = dataclasses.replace(MRProtocol(), matrix_phase=256, coils=8)
PAIRS = int(os.environ.get("MERM_BENCH_PAIRS", "15"))

OUR_COLD = """
import time
t0 = time.perf_counter()
import numpy as np
from simulator.mr import load_anatomy, preset, scan
s = scan(load_anatomy("brain"), preset("brain", "t1_se"), rng=np.random.default_rng(1),
         slices=[10])
assert s.images.shape[0] == 1
print(time.perf_counter() - t0)
"""

#: The console's cold start: ``import simulator.console``, a console session, its first
#: image (the preview slice of a fast-clock scan) and the whole first series, in a fresh
#: process; also its peak memory (``ru_maxrss``).
CONSOLE_COLD = """
import json, resource, time
t0 = time.perf_counter()
from simulator.console import ConsoleSession
t1 = time.perf_counter()
s = ConsoleSession("mr", lang="en")
s.set_screening("ok")
s.clock = "max"
t2 = time.perf_counter()
assert s.apply_command({"type": "scan"})["ok"]
first = None
while s.scan_state == "running":
    if first is None and s.live_image is not None:
        first = time.perf_counter()
    time.sleep(0.001)
t3 = time.perf_counter()
assert s.scan_state == "done", s.message
first = t3 if first is None else first
print(json.dumps({"import_s": t1 - t0, "session_s": t2 - t1, "first_image_s": first - t0,
                  "series_s": t3 - t0,
                  "maxrss_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

PEER_COLD = """
import time
t0 = time.perf_counter()
import contextlib, io
with contextlib.redirect_stderr(io.StringIO()):
    from spinsight import simulator
    g = simulator.make_graph()
    g.update_inputs({"matrix_F": 256, "matrix_P": 256, "recon_matrix_F": 256,
                     "recon_matrix_P": 256})
    img = g.nodes["image_array"].value()
assert img.size > 0
print(time.perf_counter() - t0)
"""


# ---------------------------------------------------------------------------- the machine

def machine() -> dict[str, Any]:
    """CPU model, SIMD, BLAS and its threads, versions, load."""
    info: dict[str, Any] = {"python": platform.python_version(), "numpy": np.__version__}
    import scipy

    info["scipy"] = scipy.__version__
    model, flags = platform.processor() or "?", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model in ("?", "", platform.machine()):
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    info["cpu"] = model
    info["cores"] = os.cpu_count()
    wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_fp16",
              "avx_vnni", "amx_tile", "neon", "asimd", "sve")
    info["simd_flags"] = [f for f in wanted if f in flags]
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats  # type: ignore

        info["numpy_simd"] = sorted(k for k, v in feats.items() if v and (
            k.startswith("AVX512") or k.startswith("X86_V") or k in ("AVX2", "FMA3", "ASIMD")))
    except ImportError:
        info["numpy_simd"] = []
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [f"{p.get('internal_api')} {p.get('version')} "
                        f"({p.get('architecture')}), {p.get('num_threads')} threads"
                        for p in threadpool_info() if p.get("user_api") == "blas"]
    except ImportError:
        info["blas"] = ["threadpoolctl not installed"]
    info["env"] = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                               "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
                   if k in os.environ}
    return info


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# ---------------------------------------------------------------------------- timing

def _t(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return 1000 * (time.perf_counter() - t0)


def _fft_floor(kind: str = "numpy") -> Callable[[], object]:
    """One FFT of 8 × 256² complex64: ``numpy.fft.fft2`` (the floor the targets use) or
    ``scipy.fft.fft2`` on one worker (the stricter floor on CPUs where it is faster)."""
    import scipy.fft

    k = (np.random.default_rng(0).standard_normal((8, 256, 256, 2), dtype=np.float32)
         .view(np.complex64)[..., 0].copy())
    if kind == "scipy":
        return lambda: scipy.fft.fft2(k, workers=1)
    return lambda: np.fft.fft2(k)


def interleaved(ours: Callable[[], object], peer: Callable[[], object] | None,
                pairs: int = PAIRS) -> dict[str, float]:
    """A/B/B/A with the FFT floors between: medians (ms) and the medians of the per-pair
    ratios (peer ÷ ours, ours ÷ numpy FFT, ours ÷ scipy FFT)."""
    fft, sfft = _fft_floor(), _fft_floor("scipy")
    a, b, f, r_peer, r_fft, r_sfft = [], [], [], [], [], []
    for i in range(pairs):
        if i % 2 == 0:
            ta = _t(ours)
            tf, ts = _t(fft), _t(sfft)
            tb = _t(peer) if peer else math.nan
        else:
            tb = _t(peer) if peer else math.nan
            ts, tf = _t(sfft), _t(fft)
            ta = _t(ours)
        a.append(ta)
        b.append(tb)
        f.append(tf)
        r_peer.append(tb / ta)
        r_fft.append(ta / tf)
        r_sfft.append(ta / ts)
    return {"ours_ms": statistics.median(a), "peer_ms": statistics.median(b),
            "fft_ms": statistics.median(f), "x_fft": statistics.median(r_fft),
            "x_scipy_fft": statistics.median(r_sfft),
            "peer_over_ours": statistics.median(r_peer) if peer else math.nan}


# ---------------------------------------------------------------------------- ours

class Ours:
    """MERM Lab's update paths, each a fresh scan with new noise."""

    def __init__(self) -> None:
        self.anat = load_anatomy("brain")
        self.i = 0
        scan(self.anat, SE_256, rng=0)              # warm the geometry caches

    def _next(self) -> int:
        self.i += 1
        return self.i

    def tr_change(self) -> object:
        i = self._next()
        q = dataclasses.replace(SE_256, tr_ms=SE_256.tr_ms + 10 * (i % 2))
        return scan(self.anat, q, rng=i, slices=[10])

    def te_change(self) -> object:
        i = self._next()
        q = dataclasses.replace(SE_256, te_ms=SE_256.te_ms + 5 * (i % 2))
        return scan(self.anat, q, rng=i, slices=[10])

    def matrix_change(self) -> object:
        i = self._next()
        clear_cache()
        q = dataclasses.replace(SE_256, matrix_phase=256 - 32 * (i % 2))
        return scan(self.anat, q, rng=i, slices=[10])

    def series(self) -> object:
        i = self._next()
        q = dataclasses.replace(SE_256, tr_ms=SE_256.tr_ms + 10 * (i % 2))
        return scan(self.anat, q, rng=i)


# ---------------------------------------------------------------------------- the peer

class Peer:
    """SpinSight 1.3.9 through its graph (no GUI): 256², one coil, its brain phantom."""

    def __init__(self) -> None:
        import contextlib
        import io

        from spinsight import simulator

        self.g = simulator.make_graph()
        self.i = 0
        with contextlib.redirect_stderr(io.StringIO()):
            self.g.update_inputs({"matrix_F": 256, "matrix_P": 256, "recon_matrix_F": 256,
                                  "recon_matrix_P": 256})
            self.image()
        self.tr0 = float(self.g.nodes["TR"].value())
        self.te0 = float(self.g.nodes["TE"].value())

    def image(self) -> object:
        return self.g.nodes["image_array"].value()

    def tr_change(self) -> object:
        self.i += 1
        self.g.update_inputs({"TR": self.tr0 + 10 * (self.i % 2)})
        return self.image()

    def te_change(self) -> object:
        self.i += 1
        self.g.update_inputs({"TE": self.te0 + 5 * (self.i % 2)})
        return self.image()

    def matrix_change(self) -> object:
        self.i += 1
        m = 256 - 32 * (self.i % 2)
        self.g.update_inputs({"matrix_P": m, "recon_matrix_P": m})
        return self.image()


def cold_s(script: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, env=env, cwd=ROOT)
    return float(out.stdout.strip().splitlines()[-1])


def console_cold() -> dict[str, float]:
    """Medians over 3 fresh processes of :data:`CONSOLE_COLD`'s phases (s, MiB)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", CONSOLE_COLD], capture_output=True,
                             text=True, check=True, env=env, cwd=ROOT)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def memory() -> dict[str, float]:
    """Peak Python-side allocation of one new slice geometry (tracemalloc, MiB) and the
    k-space cache after the 20-slice 256² series."""
    import tracemalloc

    from simulator.mr import geometry

    anat = load_anatomy("brain")
    clear_cache()
    scan(anat, SE_256, rng=0)
    cached = sum(o.kspace.nbytes for o in geometry._CACHE.values()) / 2**20
    n = len(geometry._CACHE)
    clear_cache()
    tracemalloc.start()
    scan(anat, SE_256, rng=1, slices=[10])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"cache_20_slices_MiB": cached, "cache_entries": n,
            "new_slice_peak_MiB": peak / 2**20}


def peer_available() -> bool:
    try:
        import spinsight.simulator  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------- scaling

def _slope(xs: list[float], ys: list[float]) -> float:
    lx, ly = np.log(xs), np.log(ys)
    return float(np.polyfit(lx, ly, 1)[0])


def _series_times(anat: object, protocols: list[MRProtocol], reps: int = 5) -> list[float]:
    """Fastest of ``reps`` 20-slice rescans (new TR, new noise) per protocol, the protocols
    interleaved so that load changes touch them alike; the geometry is cached first."""
    for p in protocols:
        scan(anat, p, rng=0)  # type: ignore[arg-type]
    times: list[list[float]] = [[] for _ in protocols]
    for r in range(reps):
        order = list(range(len(protocols)))
        for j in order if r % 2 == 0 else order[::-1]:
            p = dataclasses.replace(protocols[j], tr_ms=protocols[j].tr_ms + 10 * (r % 2))
            times[j].append(_t(lambda p=p, r=r: scan(anat, p, rng=r)))  # type: ignore[misc]
    return [min(t) for t in times]


def scaling(ours: Ours) -> dict[str, Any]:
    """20-slice series cost against matrix side and coils; the k-space cache at 512²."""
    anat = ours.anat
    out: dict[str, Any] = {}
    clear_cache()
    sides = [128, 256, 512]
    times = _series_times(anat, [dataclasses.replace(SE_256, matrix_read=n, matrix_phase=n)
                                 for n in sides])
    out["series_ms_by_side"] = dict(zip(sides, times, strict=True))
    out["side_exponent"] = _slope(sides, times)
    out["side_exponent_256_512"] = _slope(sides[1:], times[1:])
    from simulator.mr import geometry

    out["cache_512"] = {"entries": len(geometry._CACHE),
                        "MiB": sum(o.kspace.nbytes for o in geometry._CACHE.values()) / 2**20,
                        "budget_MiB": CACHE_BUDGET_BYTES / 2**20}
    coils = [8, 12, 16]
    ctimes = _series_times(anat, [dataclasses.replace(SE_256, coils=c) for c in coils])
    out["series_ms_by_coils"] = dict(zip(coils, ctimes, strict=True))
    slope, icpt = np.polyfit(coils, ctimes, 1)
    out["ms_per_coil"] = float(slope)
    out["coil_free_ms"] = float(icpt)
    # Linear in coils: the middle point on the line through the ends (1.00 = linear).
    out["coil_linearity"] = ctimes[1] / (0.5 * (ctimes[0] + ctimes[2]))
    return out


# ---------------------------------------------------------------------------- pieces

def pieces() -> dict[str, float]:
    """Noise generators and FFT threading on this CPU (medians, ms, 8 × 256² complex)."""
    import scipy.fft

    rng = np.random.default_rng(0)
    n = 8 * 256 * 256
    k = complex_normal(rng, (8, 256, 256), 1.0)
    one = k[0].copy()
    cases: dict[str, Callable[[], object]] = {
        "noise: complex_normal (Box–Muller, raw bits)": lambda: complex_normal(rng, (n,), 1.0),
        "noise: standard_normal(float32)": lambda: rng.standard_normal(2 * n, dtype=np.float32),
        "fft 8×256²: numpy": lambda: np.fft.fft2(k),
        "fft 8×256²: scipy, 1 worker": lambda: scipy.fft.fft2(k, workers=1),
        "fft 8×256²: scipy, 2 workers": lambda: scipy.fft.fft2(k, workers=2),
        "fft 256²: scipy, 1 worker": lambda: scipy.fft.fft2(one, workers=1),
        "fft 256²: scipy, 2 workers": lambda: scipy.fft.fft2(one, workers=2),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for r in range(15):
        for name in names if r % 2 == 0 else names[::-1]:
            times[name].append(_t(cases[name]))
    return {name: statistics.median(v) for name, v in times.items()}


# ---------------------------------------------------------------------------- main

def _fmt(x: float, unit: str = "") -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}{unit}"


def main() -> None:
    if not peer_available() and os.environ.get("SPINSIGHT_PYTHON") and \
            not os.environ.get("_MERM_BENCH_REEXEC"):
        env = dict(os.environ, PYTHONPATH=str(ROOT), _MERM_BENCH_REEXEC="1")
        sys.exit(subprocess.call([os.environ["SPINSIGHT_PYTHON"], __file__, *sys.argv[1:]],
                                 env=env))
    info = machine()
    print("machine:", info["cpu"], f"— {info['cores']} cores")
    print("  SIMD flags:", " ".join(info["simd_flags"]) or "?",
          "| numpy dispatch:", " ".join(info["numpy_simd"]) or "?")
    print("  BLAS:", "; ".join(info["blas"]) or "none found", "| env:", info["env"] or "—")
    print(f"  python {info['python']}, numpy {info['numpy']}, scipy {info['scipy']}")
    print("  load average at start:", loadavg())
    has_peer = peer_available()
    if not has_peer:
        print("SpinSight not installed: peer columns skipped "
              "(pip install -e '.[bench]', or SPINSIGHT_PYTHON=<its venv's python>)")
    ours = Ours()
    peer = Peer() if has_peer else None
    rows: list[tuple[str, dict[str, float]]] = []
    for name, attr in (("TR change, 1 slice", "tr_change"), ("TE change, 1 slice", "te_change"),
                       ("matrix change, 1 slice (nothing cached)", "matrix_change")):
        rows.append((name, interleaved(getattr(ours, attr),
                                       getattr(peer, attr) if peer else None)))
    rows.append(("20-slice series", interleaved(ours.series, None, max(5, PAIRS // 2))))
    # Cold start: fresh processes, ours and the peer's alternated.
    fft, sfft = _fft_floor(), _fft_floor("scipy")
    c_ours, c_peer, c_fft, c_sfft = [], [], [], []
    for i in range(3 if has_peer else 5):
        order = ("o", "p") if i % 2 == 0 else ("p", "o")
        for who in order:
            if who == "o":
                c_ours.append(1000 * cold_s(OUR_COLD))
            elif has_peer:
                c_peer.append(1000 * cold_s(PEER_COLD))
        c_fft.append(statistics.median(_t(fft) for _ in range(5)))
        c_sfft.append(statistics.median(_t(sfft) for _ in range(5)))
    cold = {"ours_ms": statistics.median(c_ours),
            "peer_ms": statistics.median(c_peer) if c_peer else math.nan,
            "fft_ms": statistics.median(c_fft)}
    cold["x_fft"] = cold["ours_ms"] / cold["fft_ms"]
    cold["x_scipy_fft"] = cold["ours_ms"] / statistics.median(c_sfft)
    cold["peer_over_ours"] = cold["peer_ms"] / cold["ours_ms"]
    rows.append(("first image, fresh process", cold))
    cc = console_cold()
    mem = memory()
    print("\nload average after the cases:", loadavg())
    print(f"\n{'update (256², ours 8 coils, peer 1)':42} {'ours ms':>9} {'peer ms':>9} "
          f"{'FFT ms':>8} {'× FFT':>7} {'× scipy':>8} {'peer÷ours':>10}")
    for name, r in rows:
        print(f"{name:42} {r['ours_ms']:9.1f} {_fmt(r['peer_ms']):>9} {r['fft_ms']:8.1f} "
              f"{r['x_fft']:7.2f} {r['x_scipy_fft']:8.2f} {_fmt(r['peer_over_ours']):>10}")
    print("(FFT: numpy.fft.fft2 of 8×256² complex64, the floor of the targets; × scipy: the "
          "same with scipy.fft on one worker)")
    print(f"\nconsole cold start, fresh process (median of 3, s): import simulator.console "
          f"{cc['import_s']:.2f}, + session {cc['session_s']:.2f}, first image at "
          f"{cc['first_image_s']:.2f}, first series done at {cc['series_s']:.2f}; "
          f"peak RSS {cc['maxrss_MiB']:.0f} MiB")
    print(f"memory: k-space cache after the 20-slice 256² series {mem['cache_20_slices_MiB']:.0f}"
          f" MiB ({mem['cache_entries']} slices); one new slice geometry peaks at "
          f"{mem['new_slice_peak_MiB']:.0f} MiB (tracemalloc)")
    print("\npieces on this CPU (median ms):")
    for name, ms in pieces().items():
        print(f"  {name:46} {ms:8.2f}")
    sc: dict[str, Any] = {}
    if os.environ.get("MERM_BENCH_SCALING", "1") == "0":
        print("scaling skipped (MERM_BENCH_SCALING=0)")
    else:
        sc = scaling(ours)
        _print_scaling(sc)
    print("load average at the end:", loadavg())
    if os.environ.get("MERM_BENCH_JSON"):
        Path(os.environ["MERM_BENCH_JSON"]).write_text(json.dumps(
            {"machine": info, "rows": rows, "console_cold": cc, "memory": mem, "scaling": sc},
            indent=1, default=str))


def _print_scaling(sc: dict[str, Any]) -> None:
    print("\nscaling of the 20-slice series (fastest of 5, ms):")
    print("  by matrix side:", {k: round(v, 1) for k, v in sc["series_ms_by_side"].items()},
          f"→ exponent {sc['side_exponent']:.2f} (FFT-like ≈ 2)")
    print(f"  (exponent 256→512: {sc['side_exponent_256_512']:.2f}; fastest of 5, interleaved)")
    print("  by coils:", {k: round(v, 1) for k, v in sc["series_ms_by_coils"].items()},
          f"→ {sc['ms_per_coil']:.1f} ms per coil over {sc['coil_free_ms']:.0f} ms, "
          f"linearity {sc['coil_linearity']:.2f} (1.00 = linear)")
    c = sc["cache_512"]
    print(f"  k-space cache after the 512² series: {c['entries']} slices, {c['MiB']:.0f} MiB "
          f"of {c['budget_MiB']:.0f} MiB")


if __name__ == "__main__":
    main()
