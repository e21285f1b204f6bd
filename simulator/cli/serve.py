"""``merm-lab serve``: the whole lab on one machine.

Starts Voilà on the dashboards in ``course/dashboards/`` and, when the mentoring hub
is installed, the hub beside it; both bind 127.0.0.1 unless ``--ip`` says otherwise.
Prints the URLs, culls idle dashboard kernels (~110 MB each), and shuts everything
down cleanly on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from simulator.errors import UserError
from simulator.hospital.config import add_serve_arguments, serve_env
from simulator.paths import course_dir, default_db_url

HELP = "start the lab: Voilà dashboards and the mentoring hub on localhost"

DASHBOARDS = ("mr_console", "pet_console", "mentor", "instructor")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8866, help="Voilà port (default 8866)")
    parser.add_argument("--hub-port", type=int, default=8890, help="mentoring hub port (default 8890)")
    parser.add_argument("--ip", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--course", type=Path, default=None, help="course folder (default: the one shipped)")
    parser.add_argument("--db", default=None, help="progress database URL (default: SQLite in ~/.merm-lab)")
    parser.add_argument("--no-hub", action="store_true", help="do not start the mentoring hub")
    parser.add_argument(
        "--cull-idle-s", type=int, default=900, help="shut down dashboard kernels idle this long (default 900)"
    )
    add_serve_arguments(parser)  # --worklist, --pacs, --pacs-web (simulator.hospital.config)


def voila_command(
    target: Path, port: int, ip: str, cull_idle_s: int, *, show_tracebacks: bool = False,
    module: str = "voila",
) -> list[str]:
    """The Voilà command line that serves ``target`` (the dashboards folder, or one notebook).

    Idle kernels are culled; the browser's ``Accept-Language`` reaches the kernel as
    ``HTTP_ACCEPT_LANGUAGE`` so a French browser opens the console in French. ``module``
    ``"simulator.lab"`` runs the lab server (Voilà plus sign-in, progress API and staff
    pages, :mod:`simulator.lab.app`) with the same options.
    """
    return [
        sys.executable,
        "-m",
        module,
        str(target),
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={ip}",
        f"--show_tracebacks={show_tracebacks}",
        "--theme=light",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_s}",
        "--MappingKernelManager.cull_interval=60",
        "--MappingKernelManager.cull_connected=False",
        "--VoilaConfiguration.file_allowlist=.*\\.(png|jpg|gif|svg|dcm|zip|csv)",
        "--VoilaConfiguration.http_header_envs=Accept-Language",
    ]


def hub_available() -> bool:
    return importlib.util.find_spec("simulator.cli.hub") is not None


#: What ``serve`` starts needs these packages (the ``console`` and ``store`` extras).
SERVE_NEEDS = ("voila", "ipywidgets", "ipykernel", "PIL", "sqlalchemy")


def missing_for_serve() -> list[str]:
    """The packages ``serve`` needs that this environment lacks (a core-only install)."""
    def absent(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is None
        except (ImportError, ValueError):  # an import hook that refuses it, a broken package
            return True

    return [name for name in SERVE_NEEDS if absent(name)]


def run(args: argparse.Namespace) -> int:
    missing = missing_for_serve()
    if missing:
        raise UserError(
            f"merm-lab serve needs the consoles ({', '.join(missing)} missing): "
            "pip install 'merm-lab[all]'",
            f"merm-lab serve a besoin des consoles ({', '.join(missing)} absent) : "
            "pip install 'merm-lab[all]'",
        )
    course = (args.course or course_dir()).resolve()
    dashboards = course / "dashboards"
    if not dashboards.is_dir():
        raise UserError(f"no dashboards folder at {dashboards}", f"pas de dossier dashboards à {dashboards}")
    env = dict(os.environ)
    env["MERM_COURSE_DIR"] = str(course)  # the kernels read the same course (paths.course_dir)
    serve_env(args, env)  # MERM_WORKLIST / MERM_PACS / MERM_PACS_WEB for the consoles
    env.setdefault("MERM_DB_URL", args.db or default_db_url())
    db_url = env["MERM_DB_URL"]
    token = secrets.token_hex(24)  # the instructor's start token, printed below
    procs: list[subprocess.Popen[bytes]] = []
    hub_url = None
    if not args.no_hub and hub_available():
        hub_url = f"http://{args.ip}:{args.hub_port}"
        env["MERM_HUB_URL"] = hub_url
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "simulator", "hub", "--ip", args.ip, "--port", str(args.hub_port)],
                env=env,
            )
        )
    # the lab server alone holds the database URL and the instructor token (it takes both
    # out of its environment before any kernel starts); the hub needs neither
    lab_env = dict(env, MERM_LAB_TOKEN=token)
    procs.append(subprocess.Popen(
        voila_command(dashboards, args.port, args.ip, args.cull_idle_s, module="simulator.lab"),
        env=lab_env))
    base = f"http://{args.ip}:{args.port}"
    print("MERM Lab is starting:")
    print(f"  {'home':12s} {base}/  (trainees give their name and cohort on first use)")
    for name in DASHBOARDS:
        if (dashboards / f"{name}.ipynb").exists():
            print(f"  {name:12s} {base}/voila/render/{name}.ipynb")
    if hub_url:
        print(f"  {'hub':12s} {hub_url}")
    print(f"  progress database: {db_url}")
    print("Instructor dashboard and class board (keep this link for the staff):")
    print(f"  {base}/merm/instructor?token={token}")
    print("Press Ctrl-C to stop.", flush=True)

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    # Ctrl-C, a service manager's SIGTERM or a closed terminal all stop the lab, even when
    # the shell started us with SIGINT ignored (a background job of a script).
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    while not stopping and all(p.poll() is None for p in procs):
        time.sleep(0.3)
    code = 0
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)  # both Voilà and the hub shut down cleanly on it
    deadline = time.monotonic() + 10
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        if not stopping and p.returncode not in (0, -2, -15, 130, 143, None):
            code = 1
    print("MERM Lab stopped.")
    return code
