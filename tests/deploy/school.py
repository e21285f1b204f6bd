"""A real school server for the end-to-end test and the memory benchmark.

JupyterHub (the ``jupyterhub`` package of the venv) with configurable-http-proxy (npm),
PAM login and LocalProcessSpawner, system accounts made with ``useradd`` (removed after),
and the configuration written by :func:`simulator.deploy.jupyterhub.configure`. Needs root.

The users' servers run as those accounts from this checkout's venv: the venv and the
checkout must be readable and their folders traversable by everyone (``chmod o+rX``);
:func:`check_readable_by` says so plainly when they are not.
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
INSTRUCTORS = "merm-instructors"
START_TIMEOUT_S = 120  # hang guard: the hub, proxy and both services answer well before
CULL_IDLE_S = 20  # short, so that the culling of a closed page is seen within the test


@dataclass(frozen=True)
class Account:
    name: str
    password: str
    staff: bool = False

    @property
    def uid(self) -> int:
        return pwd.getpwnam(self.name).pw_uid


def missing_tools() -> str | None:
    """Why the school cannot be started here, or None."""
    if os.geteuid() != 0:
        return "the school test creates system users: run it as root"
    for tool in ("useradd", "userdel", "chpasswd", "groupadd"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (package passwd)"
    if shutil.which("configurable-http-proxy") is None:
        return "configurable-http-proxy is missing (npm install -g configurable-http-proxy)"
    if shutil.which("jupyterhub", path=str(VENV_BIN)) is None:
        return "jupyterhub is not installed in the venv (pip install '.[school]')"
    return None


#: Runs of the school at the same time on one machine (a test and a benchmark, two
#: checkouts) share the folder modes: the last one to finish puts them back.
_USERS_FILE = Path("/run/merm-school-traversable")


@contextmanager
def traversable(*paths: Path) -> Iterator[list[Path]]:
    """Every folder above ``paths`` searchable by all (``o+x``) while the block runs, then
    as it was: the users' servers start this venv's Python, whose interpreter may live under
    root's home (pyenv), which is 0700. Nothing becomes listable or readable by this."""
    import fcntl
    import json

    folders = []
    for path in paths:
        for folder in [*reversed(path.resolve().parents), path.resolve()]:
            if folder.is_dir() and folder not in folders:
                folders.append(folder)
    lock = open(f"{_USERS_FILE}.lock", "a+")  # noqa: SIM115 (held for the whole block)

    def update(change: int) -> dict:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            state = json.loads(_USERS_FILE.read_text()) if _USERS_FILE.exists() else {}
            state.setdefault("runs", 0)
            state.setdefault("modes", {})
            if change > 0:
                for folder in folders:
                    mode = folder.stat().st_mode
                    if not mode & 0o001:
                        state["modes"].setdefault(str(folder), mode)
                        folder.chmod(mode | 0o001)
            state["runs"] += change
            if state["runs"] <= 0:
                for name, mode in sorted(state["modes"].items(), reverse=True):
                    Path(name).chmod(mode)
                _USERS_FILE.unlink(missing_ok=True)
            else:
                _USERS_FILE.write_text(json.dumps(state))
            return state
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

    try:
        state = update(+1)
        yield [Path(name) for name in state["modes"]]
    finally:
        update(-1)
        lock.close()


def check_readable_by(user: str) -> None:
    """The account ``user`` can run this venv's Python and import the checkout."""
    out = subprocess.run(
        [str(VENV_BIN / "python"), "-c",
         "import simulator.console, voila, jupyterhub; print('ok')"],
        capture_output=True, text=True, cwd="/", timeout=120, user=user,
        group=pwd.getpwnam(user).pw_gid, extra_groups=[],
        env={"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": f"/home/{user}",
             "PYTHONDONTWRITEBYTECODE": "1"},
    )
    if out.stdout.strip() != "ok":
        raise RuntimeError(
            f"user {user} cannot run {VENV_BIN}/python with MERM Lab ({out.stderr.strip()[-300:]}):"
            f" make the checkout and the venv readable by all (chmod -R o+rX {ROOT}, and o+x on"
            " its parent folders)"
        )


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)


@contextmanager
def accounts(prefix: str, trainees: int = 2) -> Iterator[list[Account]]:
    """``trainees`` trainee accounts and one instructor (system group ``merm-instructors``),
    with passwords; all removed afterwards, with their homes."""
    tag = secrets.token_hex(2)
    made_group = False
    try:
        grp.getgrnam(INSTRUCTORS)
    except KeyError:
        _run("groupadd", INSTRUCTORS)
        made_group = True
    people = [Account(f"{prefix}{tag}t{i + 1}", secrets.token_urlsafe(12)) for i in range(trainees)]
    people.append(Account(f"{prefix}{tag}i", secrets.token_urlsafe(12), staff=True))
    made: list[str] = []
    try:
        for a in people:
            extra = ["-G", INSTRUCTORS] if a.staff else []
            _run("useradd", "-m", "-s", "/bin/bash", *extra, a.name)
            made.append(a.name)
            subprocess.run(["chpasswd"], input=f"{a.name}:{a.password}\n", text=True, check=True,
                           capture_output=True, timeout=60)
        yield people
    finally:
        for name in made:  # what is left of the accounts' own processes (their servers)
            for pid in processes_of(pwd.getpwnam(name).pw_uid):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
        time.sleep(0.5)
        for name in made:
            subprocess.run(["userdel", "-r", "-f", name], capture_output=True, timeout=60)
        if made_group:
            subprocess.run(["groupdel", INSTRUCTORS], capture_output=True, timeout=60)


CONFIG = """\
from simulator.deploy.jupyterhub import configure

c.JupyterHub.bind_url = {public!r}
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_api_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.JupyterHub.db_url = "sqlite:///{state}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{state}/jupyterhub_cookie_secret"
c.ConfigurableHTTPProxy.pid_file = "{state}/proxy.pid"
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.JupyterHub.authenticator_class = "jupyterhub.auth.PAMAuthenticator"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = {users!r}
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.Spawner.environment = {{"PYTHONDONTWRITEBYTECODE": "1"}}
c.JupyterHub.log_level = "INFO"

DEPLOYMENT = configure(c, state_dir={state!r}, public_url={public!r},
                       hub_port={merm_hub_port}, progress_port={progress_port},
                       cull_idle_s={cull_idle_s})
"""


@dataclass(frozen=True)
class School:
    url: str
    state: Path
    log: Path
    people: list[Account]
    secret: str
    db_url: str

    @property
    def trainees(self) -> list[Account]:
        return [p for p in self.people if not p.staff]

    @property
    def instructor(self) -> Account:
        return next(p for p in self.people if p.staff)

    def log_tail(self, n: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-n:]


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyterhub exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 (loopback)
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer: {log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.5)


def _stop_proxy(pid_file: Path) -> None:
    """The proxy this school's JupyterHub started, if it outlived the hub (a hub stopped
    the hard way leaves it: it runs in its own session)."""
    try:
        pid = int(pid_file.read_text().strip())
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"configurable-http-proxy" in cmd:
        os.kill(pid, 15)


@contextmanager
def school(workdir: Path, people: list[Account], ports: list[int], cull_idle_s: int = 900,
           ) -> Iterator[School]:
    """JupyterHub configured by ``configure()`` for ``people``, on the first of ``ports``."""
    public_port, hub_api_port, proxy_api_port, merm_hub_port, progress_port = ports
    state = workdir / "state"
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    public = f"http://127.0.0.1:{public_port}"
    (workdir / "jupyterhub_config.py").write_text(CONFIG.format(
        public=public, hub_api_port=hub_api_port, proxy_api_port=proxy_api_port,
        state=str(state), users=sorted(p.name for p in people),
        singleuser=str(VENV_BIN / "jupyterhub-singleuser"), merm_hub_port=merm_hub_port,
        progress_port=progress_port, cull_idle_s=cull_idle_s,
    ))
    log = workdir / "jupyterhub.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MERM_", "JUPYTERHUB_"))}
    env.update(PATH=f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}", PYTHONPATH=str(ROOT),
               PYTHONDONTWRITEBYTECODE="1")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(VENV_BIN / "jupyterhub"), "-f", str(workdir / "jupyterhub_config.py")],
            cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            _wait_http(f"{public}/hub/login", proc, log, START_TIMEOUT_S)
            _wait_http(f"http://127.0.0.1:{merm_hub_port}/services/merm-hub/", proc, log,
                       START_TIMEOUT_S)
            secret = (state / "hub-secret").read_text().strip()
            yield School(url=public, state=state, log=log, people=people, secret=secret,
                         db_url=f"sqlite:///{state / 'progress.sqlite'}")
        finally:
            proc.terminate()  # JupyterHub stops its proxy, services and the users' servers
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
            _stop_proxy(state / "proxy.pid")


def processes_of(uid: int) -> list[int]:
    """PIDs of the processes owned by ``uid``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def environ_of(pid: int) -> str:
    """The environment of process ``pid`` as text (empty if it is gone)."""
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().replace(b"\0", b"\n").decode(
            errors="replace")
    except OSError:
        return ""


def log_in(browser, school: School, who: Account, next_path: str | None = None,  # noqa: ANN001, ANN201
           timeout_ms: int = 180_000):
    """A new browser context logged in as ``who`` on the school's login page; the page lands
    on ``next_path`` (``/services/…``), else where the user's server opens (the course's
    landing page or the MR console)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1050}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.goto(f"{school.url}/hub/login" + (f"?next={next_path}" if next_path else ""))
    page.fill("#username_input", who.name)
    page.fill("#password_input", who.password)
    page.click("#login_submit")
    return page


def poll(page, expression: str, timeout_s: float = 30.0):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(expression)
        if value or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(250)
