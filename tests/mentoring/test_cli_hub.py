"""``merm-lab hub``: bad input is one line and exit 2; it serves on loopback and stops cleanly."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.conftest import free_port

CLASS_SECRET = "a-class-secret-0123456789"


@contextlib.contextmanager
def running_hub(tmp_path, *args: str) -> Iterator[tuple[subprocess.Popen, int]]:  # noqa: ANN001
    """``merm-lab hub --port P *args`` as a process, once it answers; SIGINT at the end."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "hub", "--port", str(port), *args],
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
        yield proc, port
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)


def _secret_file(tmp_path) -> str:  # noqa: ANN001
    path = tmp_path / "given-secret"
    path.write_text(CLASS_SECRET + "\n")
    return str(path)


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
        ["--class-link", "--hub-url", "http://127.0.0.1:9"],  # nothing listens there
        ["--print-user-key", "x" * 65],
        ["--verify-audit", "/nonexistent/mentoring-audit.jsonl"],
        ["--db-url", "nosuchdb://x"],
        ["--prefix", "/a/../b"],
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
    with running_hub(tmp_path) as (proc, _):
        assert (tmp_path / "hub-secret").stat().st_mode & 0o077 == 0
    assert proc.returncode in (0, -signal.SIGINT, 130)


def test_hub_takes_its_secret_from_a_file(tmp_path) -> None:
    """``--secret-file`` keeps the secret out of ``ps``; only that secret opens rooms."""
    with running_hub(tmp_path, "--secret-file", _secret_file(tmp_path)) as (_, port):

        def create_room(secret: str) -> int:
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/rooms",
                data=b"{}",
                method="POST",
                headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(req, timeout=2) as resp:
                    return resp.status
            except urllib.error.HTTPError as err:
                return err.code

        assert create_room(CLASS_SECRET) == 200
        assert create_room("another-secret-0123456789") == 401
        assert not (tmp_path / "hub-secret").exists()


def test_print_user_key_gives_the_key_the_hub_accepts_for_that_account(tmp_path) -> None:
    from simulator.mentoring.tokens import user_key, verify_user_key

    out = subprocess.run(
        [sys.executable, "-m", "simulator", "hub", "--secret-file", _secret_file(tmp_path),
         "--print-user-key", "jean.dupont"],
        capture_output=True, text=True, env={"MERM_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip()
    assert verify_user_key(CLASS_SECRET.encode(), key) == "jean.dupont"
    assert key == user_key(CLASS_SECRET.encode(), "jean.dupont")


def test_class_link_lists_the_running_hubs_rooms(tmp_path) -> None:
    """An instructor asks the running hub for its open rooms: one line each (label,
    modality, account) and one link that opens every console; a wrong secret is refused
    in one line."""
    from simulator.mentoring.tokens import user_key

    secret_file = _secret_file(tmp_path)
    env = {"MERM_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    with running_hub(tmp_path, "--secret-file", secret_file) as (_, port):

        def class_link(*extra: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [sys.executable, "-m", "simulator", "hub", "--class-link", "--hub-url",
                 f"http://127.0.0.1:{port}", *extra],
                capture_output=True, text=True, env=env, timeout=60,
            )  # fmt: skip

        empty = class_link("--secret-file", secret_file)
        assert empty.returncode == 0 and empty.stdout.strip() == "no open room"
        key = user_key(CLASS_SECRET.encode(), "alice")
        for label in ("MR — Alice", "PET — Alice"):
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/rooms",
                data=json.dumps({"label": label, "modality": label[:3].strip().lower()}).encode(),
                method="POST",
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            )
            urllib.request.urlopen(req, timeout=2).close()
        out = class_link("--secret-file", secret_file)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.strip().splitlines()
        assert len(lines) == 3
        # the label names the key's account, whatever the body asked for
        assert lines[0].startswith("MR — alice (MR, alice, 0 connected")
        assert lines[1].startswith("PET — alice (PET, alice, 0 connected")
        assert lines[2].startswith(f"all 2 consoles: http://127.0.0.1:{port}/mentor#t=")
        assert lines[2].count("t=") == 2
        wrong = class_link("--secret", "not-the-class-secret-at-all")
        assert wrong.returncode == 2 and len(wrong.stderr.strip().splitlines()) == 1
        assert "refused" in wrong.stderr and "Traceback" not in wrong.stderr
