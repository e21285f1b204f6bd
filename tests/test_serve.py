"""``merm-lab serve`` brings up the lab on loopback and stops cleanly (issue 2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.slow


def _notebook(path: Path, source: str) -> None:
    nb = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Smoke dashboard"]},
            {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": [source]},
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb))


def _get(url: str, timeout_s: float = 60.0) -> tuple[int, str]:
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=30) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except Exception as exc:  # server not up yet
            last = exc
            time.sleep(0.3)
    raise AssertionError(f"{url} never answered: {last}")


def test_serve_answers_and_stops_cleanly(tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "dashboards").mkdir(parents=True)
    _notebook(course / "dashboards" / "smoke.ipynb", "import simulator; print('merm', simulator.__version__)")
    port, hub_port = free_port(), free_port()
    env = dict(os.environ, MERM_HOME=str(tmp_path / "home"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--port", str(port), "--hub-port", str(hub_port),
         "--course", str(course)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        status, body = _get(f"http://127.0.0.1:{port}/voila/render/smoke.ipynb")
        assert status == 200
        assert "merm 0." in body  # the notebook really ran in a kernel
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert "MERM Lab is starting" in out
    assert f"127.0.0.1:{port}" in out
    assert proc.returncode == 0, out
    # nothing left listening
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)


def test_serve_refuses_a_missing_course(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "simulator", "serve", "--course", str(tmp_path / "nope")],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "dashboards" in out.stderr
