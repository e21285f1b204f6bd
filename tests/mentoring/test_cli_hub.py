"""``merm-lab hub``: bad input is one line and exit 2; it serves on loopback and stops cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import free_port


@pytest.mark.parametrize(
    "args",
    [
        ["--port", "0"],
        ["--turn-url", "turn:x:3478"],
        ["--secret", "short"],
        ["--max-peers", "1"],
        ["--secret-file", "/nonexistent/hub-secret"],
        ["--turn-url", "turn:x:3478", "--turn-secret-file", "/nonexistent/turn-secret"],
        ["--print-user-key", ""],
        ["--print-user-key", "x" * 65],
    ],
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


def test_hub_takes_its_secret_from_a_file(tmp_path) -> None:
    """``--secret-file`` keeps the secret out of ``ps``; only that secret opens rooms."""
    port = free_port()
    secret_file = tmp_path / "given-secret"
    secret_file.write_text("a-class-secret-0123456789\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "hub", "--port", str(port), "--secret-file",
         str(secret_file)],
        env={"MERM_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def create_room(secret: str) -> int:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/rooms", data=b"{}", method="POST",
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=2) as resp:
                return resp.status
        except urllib.error.HTTPError as err:
            return err.code

    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
                time.sleep(0.2)
        assert create_room("a-class-secret-0123456789") == 200
        assert create_room("another-secret-0123456789") == 401
        assert not (tmp_path / "hub-secret").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)


def test_print_user_key_gives_the_key_the_hub_accepts_for_that_account(tmp_path) -> None:
    from simulator.mentoring.tokens import user_key, verify_user_key

    secret_file = tmp_path / "given-secret"
    secret_file.write_text("a-class-secret-0123456789\n")
    out = subprocess.run(
        [sys.executable, "-m", "simulator", "hub", "--secret-file", str(secret_file),
         "--print-user-key", "jean.dupont"],
        capture_output=True, text=True, env={"MERM_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip()
    assert verify_user_key(b"a-class-secret-0123456789", key) == "jean.dupont"
    assert key == user_key(b"a-class-secret-0123456789", "jean.dupont")
