"""Fixtures for the course tests: a real PostgreSQL server started for the session."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

from tests.conftest import free_port, missing


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def _as_postgres(cmd: list[str]) -> list[str]:
    """As root PostgreSQL refuses to run: drop to the ``postgres`` user."""
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-c", " ".join(cmd)]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a throw-away PostgreSQL cluster (initdb + pg_ctl in a temp dir, free port)."""
    bindir = _pg_bin()
    if bindir is None:
        missing("PostgreSQL binaries not found (/usr/lib/postgresql/*/bin; scripts/test.sh installs them)")
    if os.geteuid() == 0:
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            missing("running as root and there is no 'postgres' user to run the server")
    root = tempfile.mkdtemp(prefix="merm-pg-")
    data, sock = os.path.join(root, "data"), os.path.join(root, "sock")
    os.makedirs(sock)
    if os.geteuid() == 0:
        for p in (root, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    port = free_port()
    log = os.path.join(root, "server.log")
    run = lambda cmd: subprocess.run(_as_postgres(cmd), capture_output=True, text=True, timeout=120)  # noqa: E731
    out = run([f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
    if out.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        missing(f"initdb failed: {out.stderr.strip()[-300:]}")
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=on"
    out = run([f"{bindir}/pg_ctl", "-D", data, "-l", log, "-o", opts, "-w", "-t", "60", "start"])
    if out.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        missing(f"pg_ctl start failed: {out.stderr.strip()[-300:]}")
    try:
        deadline = time.monotonic() + 30
        while True:
            out = run([f"{bindir}/createdb", "-h", sock, "-p", str(port), "-U", "postgres", "merm"])
            if out.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert out.returncode == 0, out.stderr
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/merm"
    finally:
        run([f"{bindir}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)
