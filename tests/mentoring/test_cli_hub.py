"""``merm-lab hub``: bad input is one line and exit 2; it serves on loopback and stops cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import free_port


@pytest.mark.parametrize(
    "args",
    [["--port", "0"], ["--turn-url", "turn:x:3478"], ["--secret", "short"], ["--max-peers", "1"]],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str], tmp_path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "simulator", "hub", *args],
        capture_output=True,
        text=True,
        env={"MERM_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_hub_serves_on_loopback_and_stops_on_sigint(tmp_path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "hub", "--port", str(port)],
        env={"MERM_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as resp:
                    assert json.load(resp)["service"] == "merm-lab hub"
                    break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
                time.sleep(0.2)
        assert (tmp_path / "hub-secret").stat().st_mode & 0o077 == 0
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    assert proc.returncode in (0, -signal.SIGINT, 130)
