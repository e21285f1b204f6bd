"""Start a real Voilà server on a dashboard notebook for browser tests and benchmarks."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from simulator.cli.serve import voila_command

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "course" / "dashboards"


@contextmanager
def voila(
    notebook: str,
    port: int,
    env_extra: dict[str, str] | None = None,
    timeout_s: float = 240.0,  # a hang guard: Voilà starts slowly on a loaded machine
    extra_args: tuple[str, ...] = (),
) -> Iterator[str]:
    """Run ``python -m voila course/dashboards/<notebook>``; yield the page URL once it answers 200."""
    home = tempfile.mkdtemp(prefix="merm-home-")
    env = dict(os.environ, MERM_HOME=home, PYTHONDONTWRITEBYTECODE="1")
    env.pop("MERM_LANG", None)
    env.update(env_extra or {})
    cmd = [
        *voila_command(DASHBOARDS / notebook, port, "127.0.0.1", 900, show_tracebacks=True),
        *extra_args,
    ]
    log = open(Path(home) / "voila.log", "wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"voila exited: {(Path(home) / 'voila.log').read_text()[-2000:]}"
                )
            try:
                with urllib.request.urlopen(base + "voila/static/favicon.ico", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("voila did not answer")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
