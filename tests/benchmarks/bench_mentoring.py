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

``--load``: the hub's signalling under a class, alone (about 2.5 min)::

    python tests/benchmarks/bench_mentoring.py --load [--load-rooms 100] [--load-seconds 60]

100 rooms × 3 peers (the trainee's kernel, a mentor, an observer) on raw WebSockets, at the
rates PROTOCOL.md documents for the project's clients ("Client rates"): the kernel sends
its state twice a second and pings every 2 s, the mentor pings every second and drives a
command every 5 s (applied and answered by the kernel), the observer pings every second and
chats every 10 s. Reported: p50/p99 of the full round trip mentor → hub → kernel → hub →
mentor, errors, hub CPU (cores) and RSS, and the largest room count within 1 core,
from the CPU at 25, 50 (20 s each) and 100 rooms (linear fit). Video is not in this part: 300 aiortc
peers do not fit on this machine; the hub's video cost per room is the CPU part above.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp
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


# ------------------------------------------------------------------ the class load (--load)
class LoadPeer:
    """One raw WebSocket peer of the load: sends at its documented rates, answers as the
    kernel would, keeps round trips and errors."""

    def __init__(self, url: str, token: str, role: str, name: str) -> None:
        self.url, self.token, self.role, self.name = url, token, role, name
        self.rtt_ms: list[float] = []
        self.errors: list[str] = []
        self.sent = 0
        self.results = 0  # commands answered by the kernel (mentor)
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.peer = ""
        self.until = float("inf")  # when the send loop stops (set before the start)

    async def run(self, http: aiohttp.ClientSession, ready: asyncio.Event) -> None:
        ws_url = self.url.replace("http://", "ws://") + "/ws?token=" + self.token
        self.ws = ws = await http.ws_connect(ws_url)
        self.peer = json.loads((await ws.receive()).data)["peer"]
        client = "kernel" if self.role == "kernel" else "bot"
        await ws.send_str(json.dumps({"type": "hello", "name": self.name, "client": client}))
        reader = asyncio.ensure_future(self._read())
        await ready.wait()
        try:
            await self._send_loop()
        finally:
            await ws.close()
            reader.cancel()

    async def _send(self, msg: dict) -> None:
        assert self.ws is not None
        self.sent += 1
        await self.ws.send_str(json.dumps(msg))

    async def _send_loop(self) -> None:
        tick, n = 0, 0
        await asyncio.sleep(random.random())  # peers out of step, as in a real class
        while time.time() < self.until:
            tick += 1  # 2 ticks a second
            if self.role == "kernel":
                await self._send({"type": "state", "snapshot": {"tick": tick, "protocol": {"tr_ms": 500}}})
                if tick % 4 == 0:
                    n += 1
                    await self._send({"type": "ping", "id": n, "t": time.perf_counter()})
            else:
                if tick % 2 == 0:
                    n += 1
                    await self._send({"type": "ping", "id": n, "t": time.perf_counter()})
                if self.role == "mentor" and tick % 10 == 0:
                    command = {"type": "set_param", "name": "tr_ms", "value": 500 + tick % 7}
                    await self._send({"type": "command", "id": tick, "command": command})
                if self.role == "observer" and tick % 20 == 0:
                    await self._send({"type": "chat", "text": f"note {tick}"})
            await asyncio.sleep(0.5)

    async def _read(self) -> None:
        assert self.ws is not None
        async for frame in self.ws:
            msg = json.loads(frame.data)
            kind = msg["type"]
            if kind == "pong" and msg.get("via") == "console":
                self.rtt_ms.append((time.perf_counter() - msg["t"]) * 1000)
            elif kind == "error":
                self.errors.append(msg["code"])
            elif kind == "result" and msg.get("ok"):
                self.results += 1
            elif self.role == "kernel" and kind == "ping":
                await self._send({"type": "pong", "id": msg["id"], "t": msg["t"], "to": msg["from"]})
            elif self.role == "kernel" and kind == "apply":
                await self._send({"type": "result", "id": msg["id"], "ok": True, "message": "",
                                  "before": 500, "after": msg["command"]["value"]})
            elif self.role == "kernel" and kind == "control" and msg["pending"]:
                await self._send({"type": "grant", "peer": msg["pending"][0]["peer"]})


async def _peers_main(url: str, rooms: list[dict], start_at: float, seconds: float) -> dict:
    """One worker process's share of the class: its rooms' peers, from ``start_at`` (Unix
    time) for ``seconds`` s; round trips, errors, commands answered and its own CPU."""
    peers: list[LoadPeer] = []
    for t in rooms:
        i = t["i"]  # names unique across the hub: a mentor holds one console at a time
        peers += [LoadPeer(url, t["trainee"], "kernel", f"trainee{i}"),
                  LoadPeer(url, t["mentor"], "mentor", f"mentor{i}"),
                  LoadPeer(url, t["observer"], "observer", f"observer{i}")]  # fmt: skip
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        ready = asyncio.Event()
        tasks = [asyncio.ensure_future(p.run(http, ready)) for p in peers]
        while not all(p.peer for p in peers):  # every peer connected and said hello
            failed = [t for t in tasks if t.done()]
            if failed:
                failed[0].result()  # raises what went wrong
            if time.time() > start_at:
                raise RuntimeError(f"{sum(not p.peer for p in peers)} peers not connected in time")
            await asyncio.sleep(0.1)
        for p in peers[1::3]:  # each mentor asks for control; its room's kernel grants it
            assert p.ws is not None
            await p.ws.send_str(json.dumps({"type": "request_control"}))
        await asyncio.sleep(max(0.0, start_at - time.time()))
        for p in peers:
            p.rtt_ms.clear()
            p.until = start_at + seconds
        cpu0 = time.process_time()
        ready.set()
        await asyncio.sleep(max(0.0, start_at + seconds - time.time()))
        cpu = time.process_time() - cpu0
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "rtt_ms": [r for p in peers for r in p.rtt_ms],
        "errors": [e for p in peers for e in p.errors],
        "commands": sum(p.results for p in peers),
        "sent": sum(p.sent for p in peers),
        "client_cpu_s": cpu,
    }


def _peers_process(url: str, rooms: list[dict], start_at: float, seconds: float, out) -> None:  # noqa: ANN001
    out.put(asyncio.run(_peers_main(url, rooms, start_at, seconds)))


async def class_load(url: str, pid: int, rooms: int, seconds: float, workers: int) -> dict:
    """``rooms`` rooms × 3 peers for ``seconds`` s, the peers spread over ``workers``
    processes (one Python process alone would be the bottleneck): round trips, errors, hub
    CPU and RSS."""
    import multiprocessing as mp

    tokens = []
    async with aiohttp.ClientSession() as http:
        for i in range(rooms):
            async with http.post(url + "/api/rooms", json={"label": f"load {i}"},
                                 headers={"Authorization": "Bearer " + SECRET}) as resp:
                tokens.append((await resp.json())["tokens"] | {"i": i})  # fmt: skip
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    start_at = time.time() + 5.0 + rooms * 0.1  # time for every peer to connect
    procs = [
        ctx.Process(target=_peers_process, args=(url, tokens[w::workers], start_at, seconds, out))
        for w in range(min(workers, rooms))
    ]
    for proc in procs:
        proc.start()
    await asyncio.sleep(max(0.0, start_at - time.time()))
    cpu0, t0, load0 = cpu_seconds(pid), time.monotonic(), os.getloadavg()[0]
    await asyncio.sleep(seconds)
    cores = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
    rss_mb = _status_kb(pid, "VmRSS") / 1024
    parts = [await asyncio.to_thread(out.get, True, 120) for _ in procs]
    for proc in procs:
        proc.join(10)
    rtts = [r for part in parts for r in part["rtt_ms"]]
    errors = [e for part in parts for e in part["errors"]]
    return {"rooms": rooms, "cores": cores, "rss_mb": rss_mb, "p50": pct(rtts, 50),
            "p99": pct(rtts, 99), "pings": len(rtts), "errors": len(errors),
            "msg_per_s": sum(p["sent"] for p in parts) / seconds,
            "commands": sum(p["commands"] for p in parts),
            "client_cores": sum(p["client_cpu_s"] for p in parts) / seconds,
            "load": (load0 + os.getloadavg()[0]) / 2, "error_codes": sorted(set(errors))}  # fmt: skip


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


async def load_main(args: argparse.Namespace) -> None:
    results = []
    n, short = args.load_rooms, min(20.0, args.load_seconds)
    for rooms, seconds in ((max(1, n // 4), short), (max(2, n // 2), short), (n, args.load_seconds)):
        with tempfile.TemporaryDirectory() as home:  # a fresh hub: no rooms from the last run
            port = 18000 + (os.getpid() + rooms) % 2000
            hub = start_hub(port, home)
            try:
                results.append(
                    await class_load(
                        f"http://127.0.0.1:{port}", hub.pid, rooms, seconds, args.load_workers
                    )
                )
                results[-1]["peak_rss_mb"] = _status_kb(hub.pid, "VmHWM") / 1024
            finally:
                hub.terminate()
                hub.wait(10)
    # cores = a + b·rooms, least squares over the three runs
    xs = np.array([r["rooms"] for r in results], float)
    ys = np.array([r["cores"] for r in results], float)
    b, a = np.polyfit(xs, ys, 1)
    within = int((1.0 - a) / b) if b > 0 else -1
    print(f"{'rooms × 3 peers':16s} {'msg/s in':>9s} {'RTT p50':>8s} {'RTT p99':>8s} {'pings':>6s} "
          f"{'errors':>6s} {'commands':>8s} {'hub CPU':>8s} {'RSS':>7s} {'peak RSS':>8s} {'clients':>7s} {'load':>5s}")  # fmt: skip
    for r in results:
        print(f"{int(r['rooms']):<16d} {r['msg_per_s']:9.0f} {r['p50']:6.1f}ms {r['p99']:6.1f}ms "
              f"{int(r['pings']):6d} {int(r['errors']):6d} {int(r['commands']):8d} {r['cores']:6.3f} c "
              f"{r['rss_mb']:5.0f}MB {r['peak_rss_mb']:6.0f}MB {r['client_cores']:5.2f} c {r['load']:5.1f} "
              f"{r['error_codes'] or ''}")  # fmt: skip
    print(f"hub CPU ≈ {a:.3f} + {b * 1000:.2f}e-3 × rooms cores; within 1 core: about {within} rooms "
          f"({within / args.load_rooms:.0f}× the {args.load_rooms} measured); {os.cpu_count()} CPUs shared")  # fmt: skip


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
    parser.add_argument("--load", action="store_true", help="only the class load (signalling)")
    parser.add_argument("--load-rooms", type=int, default=100)
    parser.add_argument("--load-seconds", type=float, default=60.0)
    parser.add_argument("--load-workers", type=int, default=4, help="client processes")
    ns = parser.parse_args()
    asyncio.run(load_main(ns) if ns.load else main(ns))
