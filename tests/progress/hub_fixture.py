"""A real JupyterHub (with configurable-http-proxy) running the ``merm-progress`` service as
:func:`simulator.progress.spec.service_spec` declares it, and a real mentoring hub beside it."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import free_port, missing

ROOT = Path(__file__).resolve().parents[2]
#: generous guard against a hang while the hub starts (not a budget)
START_TIMEOUT_S = 120


@dataclass
class Hub:
    hub_api: str  # http://127.0.0.1:H/hub/api
    public: str  # http://127.0.0.1:P (the proxy)
    service: str  # http://127.0.0.1:S/services/merm-progress/ (direct, as kernels reach it)
    admin_token: str
    mentoring: str  # mentoring hub URL
    hub_secret: str
    db_url: str
    log: Path

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        req = urllib.request.Request(
            self.hub_api + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {token or self.admin_token}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read().decode()
        return json.loads(text) if text else None

    def user_token(self, name: str) -> str:
        return str(self.api("POST", f"/users/{name}/tokens", {"note": "test"})["token"])


def call(method: str, url: str, body: Any = None, token: str | None = None,
         scheme: str = "token", headers: dict[str, str] | None = None) -> tuple[int, str]:
    """(status, body text) of one request, errors included."""
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"{scheme} {token}"
    if body is not None:
        h["Content-Type"] = "application/json"
    req = urllib.request.Request(url, method=method, headers=h,
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path,
          not_yet: tuple[int, ...] = ()) -> None:
    """Wait until ``url`` answers: any HTTP status counts, except those of ``not_yet``."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited early: {log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=3)
            return
        except urllib.error.HTTPError as exc:
            if exc.code not in not_yet:
                return  # answering
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} never answered: {log.read_text()[-3000:]}")


@contextmanager
def running_hub(tmp: Path) -> Iterator[Hub]:
    """JupyterHub + proxy + merm-progress + mentoring hub; users alice, bob (trainees),
    teacher (group merm-instructors) and head (JupyterHub admin)."""
    if shutil.which("configurable-http-proxy") is None:
        missing("configurable-http-proxy is not installed (npm install -g configurable-http-proxy)")
    from simulator.progress.spec import service_role, service_spec, user_scopes

    port, hub_port, proxy_api, svc_port, mhub_port = (free_port() for _ in range(5))
    admin_token = secrets.token_hex(16)
    hub_secret = secrets.token_hex(16)
    db_url = f"sqlite:///{tmp / 'progress.sqlite'}"
    mentoring = f"http://127.0.0.1:{mhub_port}"
    spec = service_spec(db_url=db_url, hub_url=mentoring, hub_secret=hub_secret, port=svc_port,
                        extra_env={"MERM_HOME": str(tmp / "svc-home"), "PYTHONPATH": str(ROOT)})
    config = tmp / "jupyterhub_config.py"
    config.write_text(f"""
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api}"
c.JupyterHub.db_url = "sqlite:///{tmp / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = "{tmp / 'cookie_secret'}"
c.JupyterHub.pid_file = "{tmp / 'jupyterhub.pid'}"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = "school-pass"
c.Authenticator.allow_all = True
c.Authenticator.admin_users = {{"head"}}
c.JupyterHub.load_groups = {{"merm-instructors": {{"users": ["teacher"]}}}}
c.JupyterHub.services = [{spec!r}, {{"name": "test-admin", "api_token": "{admin_token}"}}]
c.JupyterHub.load_roles = [{service_role()!r},
    {{"name": "user", "scopes": ["self", *{user_scopes()!r}]}},
    {{"name": "test-admin", "scopes": ["admin:users", "tokens", "admin:groups"], "services": ["test-admin"]}}]
""")
    log = tmp / "jupyterhub.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("MERM_DB_URL", None)
    procs: list[subprocess.Popen[bytes]] = []
    with open(log, "wb") as out, open(tmp / "mentoring.log", "wb") as mout:
        try:
            menv = dict(env, MERM_HUB_SECRET=hub_secret, MERM_HOME=str(tmp / "mhub-home"))
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "simulator", "hub", "--port", str(mhub_port)],
                env=menv, stdout=mout, stderr=subprocess.STDOUT))
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=tmp, env=env,
                stdout=out, stderr=subprocess.STDOUT))
            _wait(f"http://127.0.0.1:{hub_port}/hub/api", procs[1], log)
            _wait(f"http://127.0.0.1:{svc_port}/services/merm-progress/api/whoami", procs[1], log)
            _wait(mentoring + "/", procs[0], tmp / "mentoring.log")
            # JupyterHub answers its API before it has added the services' routes to
            # configurable-http-proxy; until then the proxy says 404 (or 503)
            _wait(f"http://127.0.0.1:{port}/services/merm-progress/api/whoami", procs[1], log,
                  not_yet=(404, 503))
            hub = Hub(f"http://127.0.0.1:{hub_port}/hub/api", f"http://127.0.0.1:{port}",
                      f"http://127.0.0.1:{svc_port}/services/merm-progress/", admin_token,
                      mentoring, hub_secret, db_url, log)
            hub.api("POST", "/users", {"usernames": ["alice", "bob", "teacher"]})
            yield hub
        finally:
            for p in reversed(procs):
                p.terminate()
            for p in procs:
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            _reap(tmp)


def _ours(tmp: Path) -> list[int]:
    """Processes started for this hub (their environment names its folder): the services."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                env = Path(f"/proc/{entry}/environ").read_bytes()
            except OSError:
                continue
            if str(tmp).encode() in env:
                pids.append(int(entry))
    return pids


def _reap(tmp: Path) -> None:
    """Wait for the hub's services to stop (JupyterHub signals them); kill any left after a
    generous grace period, by pid."""
    deadline = time.monotonic() + 20
    while _ours(tmp) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in _ours(tmp):
        try:
            os.kill(pid, 9)
        except OSError:
            pass
