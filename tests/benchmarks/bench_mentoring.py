"""Benchmark: remote coaching on loopback (a real hub process, real aiortc peers).

Run as a script (prints a table; about 30 s on two cores)::

    python tests/benchmarks/bench_mentoring.py [--rooms 10] [--seconds 10]

1. trainee scan → image in the mentor's view: time from the trainee's Scan to the
   state event at the mentor, and to the first decoded frame showing the new series
   (target ≤ 250 ms) — once with a fake console (instant scan: transport alone) and once
   with the real MR console (brain, 20 slices, 8 coils, clock "max": physics included);
2. data-channel round trip, mentor → hub → trainee kernel → hub → mentor, and kernel ↔ hub
   (p50 / p99);
3. hub CPU with ``--rooms`` rooms, each a trainee at 10 fps (640×480) watched by one
   mentor, over ``--seconds`` s (target ≤ 1 core), with the frame rate the mentors got.

Everything binds and connects on 127.0.0.1 (ICE restricted to loopback).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aioice.ice
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "mentoring"))
from mentoring_fakes import FakeConsole, marker_level, marker_of  # noqa: E402

from simulator.mentoring.client import HubClient, create_room  # noqa: E402
from simulator.mentoring.trainee import TraineeLink  # noqa: E402

SECRET = "bench-secret-0123456789abcdef"
SIZE = (640, 480)
LOOPBACK = (
    "import aioice.ice as i; i.get_host_addresses = lambda use_ipv4, use_ipv6: ['127.0.0.1']; "
)


def start_hub(port: int, home: str) -> subprocess.Popen[bytes]:
    code = (
        LOOPBACK
        + f"from simulator.cli import main; main(['hub', '--port', '{port}', '--no-record'])"
    )
    env = dict(os.environ, MERM_HOME=home, MERM_HUB_SECRET=SECRET)
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
            return proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("hub did not start") from None
            time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


async def pair(url: str, label: str, size=SIZE, fps: float = 10.0):  # noqa: ANN001, ANN201
    room = await create_room(url, SECRET.encode(), label, "mr")
    console = FakeConsole()
    link = TraineeLink(console, url, room["tokens"]["trainee"], name="trainee", fps=fps, size=size)
    await link.start()
    mentor = HubClient(url, room["tokens"]["mentor"], "mentor")
    await mentor.connect()
    await mentor.start_media(receive_video=True)
    return console, link, mentor


async def scan_latency(url: str, runs: int) -> tuple[list[float], list[float]]:
    console, link, mentor = await pair(url, "latency")
    state_ms, frame_ms = [], []
    try:
        await mentor.next_frame(10)
        for n in range(1, runs + 1):
            await asyncio.sleep(0.3)
            start = len(mentor.received)
            t0 = time.perf_counter()
            console.apply_command({"type": "scan"}, actor="trainee", role="trainee")
            await mentor.wait_for(
                "state", lambda m, n=n: len(m["snapshot"]["series"]) == n, start=start
            )
            state_ms.append((time.perf_counter() - t0) * 1000)
            # the first frame closer to the new series' marker than to the old one
            old, new = marker_level(n - 1), marker_level(n)
            while True:
                level = marker_of(await mentor.next_frame(5))
                if abs(level - new) < abs(level - old):
                    break
            frame_ms.append((time.perf_counter() - t0) * 1000)
    finally:
        await mentor.close()
        await link.close()
    return state_ms, frame_ms


async def real_scan_latency(url: str, runs: int) -> tuple[list[float], list[float]]:
    """The same with the real MR console (brain T1 SE, 20 slices, 8 coils, clock "max"):
    physics + rendering + encode + transport, what a mentor actually waits for."""
    from simulator.console.session import ConsoleSession

    session = ConsoleSession("mr", lang="en", anatomy="brain", clock="max")
    session.set_screening("ok")
    room = await create_room(url, SECRET.encode(), "real", "mr")
    link = TraineeLink(session, url, room["tokens"]["trainee"], name="trainee", size=SIZE)
    await link.start()
    mentor = HubClient(url, room["tokens"]["mentor"], "mentor")
    await mentor.connect()
    await mentor.start_media(receive_video=True)
    frame_ms, series_ms = [], []
    try:
        await mentor.next_frame(10)
        for n in range(1, runs + 1):
            await asyncio.sleep(0.5)
            session.wait(30)
            # T1-like and T2-like series in turn, so that each new image clearly differs
            te_ms = 15.0 if n % 2 else 90.0
            session.apply_command({"type": "set_param", "name": "tr_ms", "value": 600 if n % 2 else 3000},
                                  actor="local", role="trainee")
            session.apply_command({"type": "set_param", "name": "te_ms", "value": te_ms},
                                  actor="local", role="trainee")
            await asyncio.sleep(0.3)
            ref = (await mentor.next_frame(5)).to_ndarray(format="gray").astype(np.float32)
            start = len(mentor.received)
            t0 = time.perf_counter()
            session.apply_command({"type": "scan"}, actor="local", role="trainee")
            while time.perf_counter() - t0 < 10.0:
                grey = (await mentor.next_frame(10)).to_ndarray(format="gray").astype(np.float32)
                if np.abs(grey - ref).mean() > 2.0:
                    break
            else:
                raise RuntimeError("the mentor's video never showed the new series")
            frame_ms.append((time.perf_counter() - t0) * 1000)
            await mentor.wait_for(
                "state", lambda m, n=n: len(m["snapshot"]["series"]) == n, start=start, timeout=30
            )
            series_ms.append((time.perf_counter() - t0) * 1000)
    finally:
        await mentor.close()
        await link.close()
        session.stop_scan()
    return frame_ms, series_ms


async def round_trips(url: str, n: int) -> tuple[list[float], list[float]]:
    console, link, mentor = await pair(url, "rtt", size=(160, 120))
    full, hub_only = [], []
    try:
        for i in range(n):
            start = len(mentor.received)
            t = time.perf_counter()
            await mentor.send_console({"type": "ping", "id": i, "t": t})
            await mentor.wait_for("pong", lambda m, i=i: m["id"] == i, start=start)
            full.append((time.perf_counter() - t) * 1000)
            start = len(link.client.received)
            t = time.perf_counter()
            await link.client.send_console({"type": "ping", "id": 10_000 + i, "t": t})
            await link.client.wait_for("pong", lambda m, i=i: m["id"] == 10_000 + i, start=start)
            hub_only.append((time.perf_counter() - t) * 1000)
            await asyncio.sleep(0.03)  # stay under the hub's rate limit (40 messages/s)
    finally:
        await mentor.close()
        await link.close()
    return full, hub_only


async def hub_load(url: str, pid: int, rooms: int, seconds: float) -> tuple[float, float]:
    pairs = [await pair(url, f"load {i}") for i in range(rooms)]
    try:
        await asyncio.sleep(2.0)  # connections settled, encoders warm
        frames0 = [m.frames for _, _, m in pairs]
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(seconds)
        cores = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
        fps = statistics.mean(
            (m.frames - f0) / (time.monotonic() - t0)
            for (_, _, m), f0 in zip(pairs, frames0, strict=True)
        )
    finally:
        for _, link, mentor in pairs:
            await mentor.close()
            await link.close()
    return cores, fps


async def main(args: argparse.Namespace) -> None:
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    with tempfile.TemporaryDirectory() as home:
        sock_port = 18000 + os.getpid() % 2000
        hub = start_hub(sock_port, home)
        url = f"http://127.0.0.1:{sock_port}"
        try:
            state_ms, frame_ms = await scan_latency(url, args.runs)
            real_frame_ms, real_series_ms = await real_scan_latency(url, args.runs)
            full, hub_only = await round_trips(url, args.pings)
            cores, fps = await hub_load(url, hub.pid, args.rooms, args.seconds)
        finally:
            hub.terminate()
            hub.wait(10)
    rows = [
        ("fake console: scan → state event at mentor, p50 / max", f"{pct(state_ms, 50):.1f} / {max(state_ms):.1f} ms", ""),
        ("fake console: scan → first new frame, p50 / max", f"{pct(frame_ms, 50):.1f} / {max(frame_ms):.1f} ms",
         f"≤ 250 ms ({250 / max(frame_ms):.1f}× margin at max)"),
        ("real MR console: scan → first new frame, p50 / max",
         f"{pct(real_frame_ms, 50):.0f} / {max(real_frame_ms):.0f} ms",
         f"≤ 250 ms ({pct(real_frame_ms, 50) / 250:.2f}× target at p50)"),
        ("real MR console: scan → 20-slice series at mentor, p50",
         f"{pct(real_series_ms, 50):.0f} ms", ""),
        ("data channel RTT mentor↔kernel, p50 / p99", f"{pct(full, 50):.2f} / {pct(full, 99):.2f} ms", ""),
        ("data channel RTT kernel↔hub, p50 / p99", f"{pct(hub_only, 50):.2f} / {pct(hub_only, 99):.2f} ms", ""),
        (f"hub CPU, {args.rooms} rooms × 1 mentor, 640×480", f"{cores:.2f} cores", f"≤ 1 core ({cores:.2f}× target)"),
        ("frame rate received per mentor", f"{fps:.1f} fps", "10 fps sent"),
        ("hub CPU scaled to 10 fps per room (linear)", f"{cores * 10 / fps:.2f} cores", "≤ 1 core"),
    ]  # fmt: skip
    print(f"{'measure':56s} {'value':26s} target")
    for name, value, target in rows:
        print(f"{name:56s} {value:26s} {target}")
    print(
        f"({args.runs} scans, {args.pings} pings, {args.seconds:g} s load; {os.cpu_count()} CPUs shared)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--pings", type=int, default=200)
    asyncio.run(main(parser.parse_args()))
