"""One call that turns a JupyterHub into a MERM Lab school: ``configure(c, ...)``.

In ``jupyterhub_config.py`` (or ``/opt/tljh/config/jupyterhub_config.d/merm.py``)::

    from simulator.deploy.jupyterhub import configure
    configure(c, db_url="postgresql+psycopg://merm:…@localhost/merm",
              public_url="https://lab.school.example")

What it sets up:

* the **mentoring hub** as a managed JupyterHub service ``merm-hub`` (``python -m simulator
  hub`` on 127.0.0.1, every route under ``/services/merm-hub/``; it alone reads the hub
  secret, a 0600 file in ``state_dir``);
* the **progress service** ``merm-progress`` (:mod:`simulator.progress.spec`): the only
  process that holds the database URL; kernels submit attempts to it with their server's
  ``$JUPYTERHUB_API_TOKEN``, staff read the instructor dashboard and class board through
  JupyterHub OAuth;
* **staff**: the JupyterHub group ``instructors_group`` (members of the system group of
  the same name are added to it when the hub starts) and JupyterHub admins;
* **Voilà for users**: the single-user server opens on the course's landing page (or the
  MR console) under ``~/merm-course``, a link to the course made before each spawn;
* **lean trainee servers**: a trainee's server loads Voilà but not JupyterLab and its
  extensions (:mod:`simulator.deploy.server_extensions`); staff keep JupyterLab; every
  server skips an import it never uses (:mod:`simulator.deploy.singleuser`) and gives its
  freed heap back every minute (:mod:`simulator.deploy.server_memory`);
* **kernel culling** in the single-user servers: a kernel with no page connected (a closed
  Voilà page, a closed notebook) and idle for ``cull_idle_s`` is shut down;
* **per-user room keys**: each server's environment gets ``$MERM_HUB_USER_KEY`` for its
  own account only (:func:`simulator.mentoring.tokens.user_key`), never the hub secret
  nor the database URL (both are removed from ``c.Spawner.environment`` and
  ``c.Spawner.env_keep`` if an older recipe put them there).
"""

from __future__ import annotations

import grp
import logging
import os
import pwd
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from simulator.deploy.server_extensions import TRAINEE_DISABLED, apply_role
from simulator.errors import UserError
from simulator.mentoring.tokens import load_or_create_secret, user_key
from simulator.paths import course_dir as shipped_course_dir

__all__ = [
    "configure",
    "Deployment",
    "HUB_SERVICE",
    "DEFAULT_HUB_PORT",
    "DEFAULT_STATE_DIR",
    "COURSE_LINK",
    "SECRET_ENV",
    "link_course",
]

log = logging.getLogger("JupyterHub")

HUB_SERVICE = "merm-hub"
DEFAULT_HUB_PORT = 8890
#: Secrets, the database URL of SQLite, the hub's audit log and recordings (root only).
DEFAULT_STATE_DIR = Path("/srv/merm-lab")
#: The link to the course in each user's home, where Voilà finds the dashboards.
COURSE_LINK = "merm-course"
#: Environment variables that never reach a user's server.
SECRET_ENV = ("MERM_DB_URL", "MERM_HUB_SECRET", "MERM_TURN_SECRET")
#: Scopes of the single-user server's own token (JupyterHub's ``server`` role), plus what
#: its kernels need to submit attempts to the progress service.
_SERVER_SCOPES = ["users:activity!user", "access:servers!server"]
#: Loads :mod:`simulator.deploy.server_memory` in every user's server.
_MEMORY_RELEASE_ARG = "--ServerApp.jpserver_extensions=simulator.deploy.server_memory=True"


@dataclass(frozen=True)
class Deployment:
    """What :func:`configure` set up (for the admin's log and for tests).

    Attributes
    ----------
    public_url : str
        The address people's browsers use (``https://lab.school.example``).
    hub_url : str
        The mentoring hub as the users' kernels reach it (loopback, with its prefix).
    hub_prefix : str
        ``/services/merm-hub/`` under JupyterHub's ``base_url``.
    secret_path : Path
        The hub secret (mode 0600).
    db_url : str
        The progress database (in the progress service's environment only).
    services : tuple of str
        Names of the managed services added.
    default_url : str
        Where a user's server opens.
    """

    public_url: str
    hub_url: str
    hub_prefix: str
    secret_path: Path
    db_url: str
    services: tuple[str, ...]
    default_url: str


def _first_line(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text.splitlines()[0].strip() if text else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UserError(
            f"public_url {url!r}: an http(s) address such as https://lab.school.example",
            f"public_url {url!r} : une adresse http(s) comme https://lab.school.example",
        )
    return f"{parts.scheme}://{parts.netloc}"


def _port(name: str, value: int) -> int:
    if not isinstance(value, int) or not 1 <= value <= 65535:
        raise UserError(f"{name}: a port 1–65535, not {value!r}",
                        f"{name} : un port de 1 à 65535, pas {value!r}")
    return value


def _system_group_members(name: str, prefix: str = "") -> set[str]:
    """JupyterHub names of the accounts in system group ``name`` (secondary members and those
    whose primary group it is; ``prefix`` removed, TLJH's ``jupyter-``); empty when there is
    no such group."""
    try:
        group = grp.getgrnam(name)
    except KeyError:
        return set()
    members = set(group.gr_mem)
    members |= {p.pw_name for p in pwd.getpwall() if p.pw_gid == group.gr_gid}
    return {m[len(prefix):] for m in members if m.startswith(prefix)}


def link_course(home: Path, course: Path, uid: int | None = None, gid: int | None = None) -> Path:
    """Make ``home/merm-course`` a link to ``course`` (unless something else is there).

    Parameters
    ----------
    home : Path
        The user's home folder.
    course : Path
        The course folder (``dashboards/``, ``lessons/``, ``exercises/``).
    uid, gid : int, optional
        Owner given to the link (the hub runs as root and links for the user).
    """
    link = home / COURSE_LINK
    if link.is_symlink() and Path(os.readlink(link)) != course:
        link.unlink()  # the course moved (an upgrade): follow it
    if not link.exists() and not link.is_symlink():
        link.symlink_to(course, target_is_directory=True)
        if uid is not None:
            os.lchown(link, uid, -1 if gid is None else gid)
    return link


def _pre_spawn_hook(course: Path, then: Callable[[Any], Any] | None, prefix: str = "",
                    instructors_group: str | None = None,
                    trainee_disabled: tuple[str, ...] = ()) -> Callable[[Any], Any]:
    """A ``Spawner.pre_spawn_hook`` that links the course into a local user's home and, with
    ``instructors_group``, turns the extensions ``trainee_disabled`` off on a trainee's
    server (:func:`simulator.deploy.server_extensions.apply_role`); then runs ``then``."""

    def hook(spawner: Any) -> Any:
        if instructors_group is not None:
            apply_role(spawner, instructors_group, trainee_disabled)
        try:
            entry = pwd.getpwnam(prefix + spawner.user.name)
        except KeyError:
            entry = None  # not a system account (containers): the image holds the link
        if entry is not None and Path(entry.pw_dir).is_dir():
            try:
                link_course(Path(entry.pw_dir), course, entry.pw_uid, entry.pw_gid)
            except OSError as exc:
                spawner.log.warning("MERM Lab: cannot link the course into %s: %s",
                                    entry.pw_dir, exc)
        return then(spawner) if then is not None else None

    return hook


def _lean_singleuser(cmd: list[str]) -> list[str] | None:
    """``c.Spawner.cmd`` that starts :mod:`simulator.deploy.singleuser` instead of
    ``…/bin/jupyterhub-singleuser`` (same arguments), with the Python beside that script;
    None when ``cmd`` is something else or that Python cannot import MERM Lab."""
    if not cmd or Path(cmd[0]).name != "jupyterhub-singleuser" or not Path(cmd[0]).is_absolute():
        return None
    python = Path(cmd[0]).with_name("python")
    if not python.is_file():
        return None
    import subprocess

    try:
        found = subprocess.run([str(python), "-c", "import simulator.deploy.singleuser"],
                               capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if found.returncode != 0:
        return None
    return [str(python), "-m", "simulator.deploy.singleuser", *cmd[1:]]


def _get(section: Any, name: str, default: Any) -> Any:
    """A setting of a traitlets Config section, ``default`` when unset; a lazy value (what
    ``c.JupyterHub.services.append(...)`` on an unset list leaves) applied to ``default``."""
    from traitlets.config import LazyConfigValue

    if name not in section:
        return default
    value = section[name]
    return value.get_value(default) if isinstance(value, LazyConfigValue) else value


def _merge_service(c: Any, entry: dict[str, Any]) -> None:
    services = [s for s in list(_get(c.JupyterHub, "services", [])) if s.get("name") != entry["name"]]
    c.JupyterHub.services = [*services, entry]


def _merge_role(c: Any, role: dict[str, Any]) -> None:
    roles = [r for r in list(_get(c.JupyterHub, "load_roles", [])) if r.get("name") != role["name"]]
    c.JupyterHub.load_roles = [*roles, role]


def _add_user_scopes(c: Any, scopes: list[str]) -> None:
    """Give every user ``scopes`` (JupyterHub ≥ 6: ``extra_user_scopes``; older: the
    ``user`` role redefined with ``self`` kept)."""
    from jupyterhub.app import JupyterHub

    if "extra_user_scopes" in JupyterHub.class_trait_names():
        current = set(_get(c.JupyterHub, "extra_user_scopes", set()))
        c.JupyterHub.extra_user_scopes = current | set(scopes)
        return
    roles = list(_get(c.JupyterHub, "load_roles", []))
    user = next((r for r in roles if r.get("name") == "user"), None)
    if user is None:
        user = {"name": "user", "scopes": ["self"]}
        roles.append(user)
    user["scopes"] = sorted(set(user.get("scopes", ["self"])) | set(scopes))
    c.JupyterHub.load_roles = roles


def _with_host(url: str, host: str) -> str:
    """``url`` with its host replaced (the port and path kept)."""
    parts = urlsplit(url)
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return parts._replace(netloc=netloc).geturl()


def _progress_spec() -> Any | None:
    """:mod:`simulator.progress.spec` where the progress service is installed, else None."""
    try:
        from simulator.progress import spec
    except ImportError:
        return None
    return spec


def configure(
    c: Any,
    *,
    course_dir: str | Path | None = None,
    db_url: str | None = None,
    instructors_group: str = "merm-instructors",
    hub_port: int = DEFAULT_HUB_PORT,
    progress_port: int | None = None,
    public_url: str | None = None,
    state_dir: str | Path | None = None,
    turn_url: str | None = None,
    turn_secret_file: str | Path | None = None,
    cull_idle_s: int = 900,
    kspace_cache_mib: int = 256,
    python: str = sys.executable,
    bind_ip: str = "127.0.0.1",
    internal_host: str | None = None,
    system_user_prefix: str = "",
    trainee_disabled_extensions: tuple[str, ...] = TRAINEE_DISABLED,
    lean_singleuser: bool = True,
) -> Deployment:
    """Configure JupyterHub config object ``c`` for MERM Lab (see the module docstring).

    Parameters
    ----------
    c : traitlets.config.Config
        The ``c`` of ``jupyterhub_config.py``.
    course_dir : str or Path, optional
        The course (default: the one shipped in the package); users' kernels and the
        progress service's grader read it (``$MERM_COURSE_DIR``).
    db_url : str, optional
        The progress database. Default: the first line of ``state_dir/db-url`` (mode 0600)
        if present, else SQLite in ``state_dir``.
    instructors_group : str
        JupyterHub group of the staff (and system group whose members are added to it).
    hub_port, progress_port : int
        Loopback ports of the two services.
    public_url : str, optional
        The school's address as browsers see it (``https://lab.school.example``), written in
        invitation links. Default: ``state_dir/public-url``, else ``c.JupyterHub.bind_url``,
        else ``http://127.0.0.1:8000``.
    state_dir : str or Path, optional
        Folder of the hub secret, SQLite database, audit log and recordings (default
        ``/srv/merm-lab``; created 0700).
    turn_url, turn_secret_file : optional
        coturn server and the file with its ``static-auth-secret``.
    cull_idle_s : int
        Idle time after which a kernel with no page connected is shut down.
    kspace_cache_mib : int
        Cap of each kernel's MR k-space cache (``$MERM_KSPACE_CACHE_MIB``). A laptop's
        default is 1024 MiB; 256 MiB holds a trainee's 256² series and its rescans, and a
        20-slice 512² series (about 440 MiB) recomputes its slices on a rescan instead.
    python : str
        Interpreter that runs the services (one with MERM Lab installed).
    bind_ip : str
        Address the two services listen on, and JupyterHub's proxy routes to (loopback on
        one server; the hub pod's IP on Kubernetes, where the proxy and the users' servers
        are other pods).
    internal_host : str, optional
        Host name the users' kernels reach the services by (default ``bind_ip``; the hub's
        Kubernetes Service, ``hub``, under Zero to JupyterHub).
    system_user_prefix : str
        What the system account name adds to the JupyterHub name (TLJH: ``jupyter-``).
    trainee_disabled_extensions : tuple of str
        Jupyter server extensions a trainee's server does not load (it opens on Voilà):
        JupyterLab and its language-server, terminal and classic-notebook extensions by
        default, about 12 MB per trainee; staff keep them all
        (:mod:`simulator.deploy.server_extensions`). ``()`` loads all for everyone.
    lean_singleuser : bool
        Start users' servers with :mod:`simulator.deploy.singleuser` (JupyterHub's
        single-user server without an unused 16 MB import) when ``c.Spawner.cmd`` is a
        ``…/bin/jupyterhub-singleuser`` whose Python imports MERM Lab; else leave it.

    Returns
    -------
    Deployment
        What was set up.
    """
    _port("hub_port", hub_port)
    if not isinstance(cull_idle_s, int) or cull_idle_s < 10:
        raise UserError("cull_idle_s: at least 10 seconds", "cull_idle_s : au moins 10 secondes")
    if not isinstance(kspace_cache_mib, int) or kspace_cache_mib < 0:
        raise UserError("kspace_cache_mib: a whole number of MiB, 0 or more",
                        "kspace_cache_mib : un nombre entier de Mio, 0 ou plus")
    if bool(turn_url) != bool(turn_secret_file):
        raise UserError("turn_url and turn_secret_file go together",
                        "turn_url et turn_secret_file vont ensemble")
    state = Path(state_dir) if state_dir is not None else DEFAULT_STATE_DIR
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret_path = state / "hub-secret"
    secret = load_or_create_secret(secret_path)
    course = Path(course_dir).resolve() if course_dir is not None else None
    if course is not None and not (course / "dashboards").is_dir():
        raise UserError(f"course_dir {course}: no dashboards/ folder in it",
                        f"course_dir {course} : pas de dossier dashboards/ dedans")
    db = db_url or _first_line(state / "db-url") or f"sqlite:///{state / 'progress.sqlite'}"
    bind = _get(c.JupyterHub, "bind_url", None)
    public = (public_url or _first_line(state / "public-url") or bind or "http://127.0.0.1:8000")
    origin = _origin(public)
    base_url = "/" + str(_get(c.JupyterHub, "base_url", "/")).strip("/")
    base_url = base_url.rstrip("/") + "/"
    hub_prefix = f"{base_url}services/{HUB_SERVICE}/"
    hub_internal = f"http://{bind_ip}:{hub_port}"
    kernels_host = internal_host or bind_ip
    hub_url = f"http://{kernels_host}:{hub_port}" + hub_prefix.rstrip("/")

    # the mentoring hub, a managed service that alone reads the secret file
    command = [python, "-m", "simulator", "hub", "--ip", bind_ip, "--port", str(hub_port),
               "--secret-file", str(secret_path), "--public-url", public.rstrip("/"),
               "--allow-origin", origin]
    if turn_url:
        command += ["--turn-url", turn_url, "--turn-secret-file", str(turn_secret_file)]
    hub_env = {"MERM_HOME": str(state / "hub"), "MERM_INSTRUCTORS_GROUP": instructors_group}
    if course is not None:
        hub_env["MERM_COURSE_DIR"] = str(course)
    _merge_service(c, {
        "name": HUB_SERVICE,
        "url": hub_internal,
        "command": command,
        "environment": hub_env,
        "oauth_no_confirm": True,
        "display": True,
        "info": {"description": "MERM Lab mentoring hub: rooms, class board, mentor pages"},
    })
    _merge_role(c, {"name": f"{HUB_SERVICE}-service", "scopes": ["read:users"],
                    "services": [HUB_SERVICE]})
    services = [HUB_SERVICE]
    user_scopes = [f"access:services!service={HUB_SERVICE}"]
    server_scopes = list(_SERVER_SCOPES)

    # the progress service (only it holds the database URL)
    user_env: dict[str, Any] = {}
    spec = _progress_spec()
    if spec is not None:
        port = _port("progress_port", progress_port or spec.DEFAULT_PORT)
        entry = spec.service_spec(
            db_url=db, hub_url=hub_internal + hub_prefix.rstrip("/"), hub_secret=secret.decode(),
            instructors_group=instructors_group,
            course_dir=str(course) if course is not None else None, port=port, python=python,
            extra_env={"MERM_HOME": str(state / "progress")},
        )
        entry["url"] = _with_host(entry["url"], bind_ip)  # it listens where its URL says
        _merge_service(c, entry)
        _merge_role(c, spec.service_role())
        user_env.update({k: _with_host(v, kernels_host)
                         for k, v in spec.user_environment(port).items()})
        services.append(spec.SERVICE_NAME)
        user_scopes.append(f"access:services!service={spec.SERVICE_NAME}")
        server_scopes += list(getattr(spec, "SERVER_TOKEN_SCOPES", ())) or [
            f"access:services!service={spec.SERVICE_NAME}"]
    _add_user_scopes(c, user_scopes)
    c.Spawner.server_token_scopes = sorted(set(server_scopes))

    # staff: the JupyterHub group, fed from the system group of the same name
    groups = dict(_get(c.JupyterHub, "load_groups", {}))
    group = groups.get(instructors_group) or {}
    if isinstance(group, list):  # JupyterHub's older form: a list of user names
        group = {"users": group}
    users = set(group.get("users", [])) | _system_group_members(instructors_group, system_user_prefix)
    groups[instructors_group] = {**group, "users": sorted(users)}
    c.JupyterHub.load_groups = groups

    # the users' servers: room key per account, no secret, Voilà on the course, culling
    env = dict(_get(c.Spawner, "environment", {}))
    for name in SECRET_ENV:
        if env.pop(name, None) is not None:
            log.warning("MERM Lab: %s removed from c.Spawner.environment (trainees must "
                        "never hold it)", name)
    env.update(user_env)
    env["MERM_HUB_URL"] = hub_url
    env.setdefault("MERM_KSPACE_CACHE_MIB", str(kspace_cache_mib))
    env["MERM_HUB_USER_KEY"] = lambda spawner: user_key(secret, spawner.user.name)
    if course is not None:
        env["MERM_COURSE_DIR"] = str(course)
    c.Spawner.environment = env
    if "env_keep" in c.Spawner:
        keep = _get(c.Spawner, "env_keep", [])
        c.Spawner.env_keep = [k for k in keep if k not in SECRET_ENV]

    target = course or shipped_course_dir()
    landing = "landing" if (target / "dashboards" / "landing.ipynb").is_file() else "mr_console"
    default_url = f"/voila/render/{COURSE_LINK}/dashboards/{landing}.ipynb"
    c.Spawner.default_url = default_url
    lean = _lean_singleuser(list(_get(c.Spawner, "cmd", []))) if lean_singleuser else None
    if lean is not None:
        c.Spawner.cmd = lean
    before = _get(c.Spawner, "pre_spawn_hook", None)
    c.Spawner.pre_spawn_hook = _pre_spawn_hook(target, before, system_user_prefix,
                                               instructors_group,
                                               tuple(trainee_disabled_extensions))
    args = [a for a in _get(c.Spawner, "args", [])
            if not a.startswith(("--MappingKernelManager.cull_", "--VoilaConfiguration.show_tr",
                                 "--VoilaConfiguration.http_header_envs"))
            and a != _MEMORY_RELEASE_ARG]
    c.Spawner.args = [
        *args,
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_s}",
        f"--MappingKernelManager.cull_interval={max(5, min(60, cull_idle_s // 3))}",
        "--MappingKernelManager.cull_connected=False",  # an open page keeps its console
        "--MappingKernelManager.cull_busy=False",
        "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaConfiguration.http_header_envs=Accept-Language",  # French browser, French console
        _MEMORY_RELEASE_ARG,  # the server's freed heap back to the system every minute
    ]
    return Deployment(public_url=public.rstrip("/"), hub_url=hub_url, hub_prefix=hub_prefix,
                      secret_path=secret_path, db_url=db, services=tuple(services),
                      default_url=default_url)
