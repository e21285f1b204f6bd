"""``simulator.deploy.jupyterhub.configure`` on a real traitlets Config, and the TLJH plugin
loaded the way TLJH loads it (pluggy, entry point group ``tljh``)."""

from __future__ import annotations

import stat
from pathlib import Path
from types import SimpleNamespace

import pluggy
import pytest
from traitlets.config import Config

from simulator.deploy import tljh
from simulator.deploy.jupyterhub import COURSE_LINK, SECRET_ENV, configure, link_course
from simulator.errors import UserError
from simulator.mentoring.tokens import verify_user_key
from simulator.paths import course_dir


def _spawner(name: str) -> SimpleNamespace:
    return SimpleNamespace(user=SimpleNamespace(name=name))


def test_services_secrets_and_user_keys(tmp_path: Path) -> None:
    c = Config()
    c.JupyterHub.bind_url = "http://127.0.0.1:8123"
    c.Spawner.environment = {"MERM_DB_URL": "postgresql://merm:pw@db/merm", "KEEP": "1"}
    c.Spawner.env_keep = ["PATH", "MERM_HUB_SECRET"]
    d = configure(c, state_dir=tmp_path, db_url="sqlite:///x.sqlite", hub_port=8899)
    hub = next(s for s in c.JupyterHub.services if s["name"] == "merm-hub")
    assert hub["url"] == "http://127.0.0.1:8899"
    assert hub["command"][1:4] == ["-m", "simulator", "hub"]
    assert "--secret-file" in hub["command"] and "--secret" not in hub["command"]
    assert stat.S_IMODE(d.secret_path.stat().st_mode) == 0o600
    assert d.hub_prefix == "/services/merm-hub/"
    assert d.hub_url == "http://127.0.0.1:8899/services/merm-hub"
    env = c.Spawner.environment
    assert not set(SECRET_ENV) & set(env) and env["KEEP"] == "1"
    assert "MERM_HUB_SECRET" not in c.Spawner.env_keep
    secret = d.secret_path.read_text().strip().encode()
    for name in ("ana", "ben"):
        key = env["MERM_HUB_USER_KEY"](_spawner(name))
        assert verify_user_key(secret, key) == name and secret.decode() not in key
    # nothing the users' servers get holds the secret or the database URL
    plain = [v for v in env.values() if isinstance(v, str)] + list(c.Spawner.args)
    assert not any(secret.decode() in v or "sqlite:///x.sqlite" in v for v in plain)
    assert d.default_url.startswith(f"/voila/render/{COURSE_LINK}/dashboards/")
    assert any(a == "--MappingKernelManager.cull_connected=False" for a in c.Spawner.args)
    assert "--MappingKernelManager.cull_idle_timeout=900" in c.Spawner.args
    assert "access:services!service=merm-hub" in c.JupyterHub.extra_user_scopes
    assert env["MERM_KSPACE_CACHE_MIB"] == "256"  # each kernel's k-space cache is capped


def test_instructors_group_keeps_its_members(tmp_path: Path) -> None:
    c = Config()
    c.JupyterHub.load_groups = {"merm-instructors": ["prof"], "other": {"users": ["x"]}}
    configure(c, state_dir=tmp_path)
    assert "prof" in c.JupyterHub.load_groups["merm-instructors"]["users"]
    assert c.JupyterHub.load_groups["other"] == {"users": ["x"]}


def test_progress_service_holds_the_database(tmp_path: Path) -> None:
    spec = pytest.importorskip("simulator.progress.spec")  # lands with the progress service
    c = Config()
    configure(c, state_dir=tmp_path, db_url="postgresql+psycopg://merm:pw@localhost/merm")
    progress = next(s for s in c.JupyterHub.services if s["name"] == spec.SERVICE_NAME)
    assert progress["environment"]["MERM_DB_URL"] == "postgresql+psycopg://merm:pw@localhost/merm"
    assert "MERM_PROGRESS_URL" in c.Spawner.environment
    assert f"access:services!service={spec.SERVICE_NAME}" in c.Spawner.server_token_scopes


def test_configure_twice_keeps_one_of_each(tmp_path: Path) -> None:
    c = Config()
    configure(c, state_dir=tmp_path)
    n_services, n_args = len(c.JupyterHub.services), len(c.Spawner.args)
    configure(c, state_dir=tmp_path)
    assert len(c.JupyterHub.services) == n_services and len(c.Spawner.args) == n_args


def test_state_files_choose_database_and_address(tmp_path: Path) -> None:
    (tmp_path / "db-url").write_text("postgresql+psycopg://merm@localhost/merm\n")
    (tmp_path / "public-url").write_text("https://lab.school.example/\n")
    d = configure(Config(), state_dir=tmp_path)
    assert d.db_url == "postgresql+psycopg://merm@localhost/merm"
    assert d.public_url == "https://lab.school.example"


@pytest.mark.parametrize("kwargs", [
    {"public_url": "lab.school.example"},
    {"hub_port": 0},
    {"cull_idle_s": 1},
    {"kspace_cache_mib": -1},
    {"turn_url": "turn:t.example:3478"},
])
def test_bad_settings_say_what_is_allowed(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(UserError) as err:
        configure(Config(), state_dir=tmp_path, **kwargs)
    assert err.value.en and err.value.fr and err.value.en != err.value.fr


def test_course_dir_without_dashboards_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="dashboards"):
        configure(Config(), state_dir=tmp_path / "s", course_dir=tmp_path)


def test_course_link_in_home(tmp_path: Path) -> None:
    link = link_course(tmp_path, course_dir())
    assert (link / "dashboards" / "mr_console.ipynb").is_file()
    other = tmp_path / "other"
    (other / "dashboards").mkdir(parents=True)
    assert link_course(tmp_path, other).resolve() == other  # the course moved: follow it
    (tmp_path / "mine").mkdir()
    c = Config()
    configure(c, state_dir=tmp_path / "s")
    c.Spawner.pre_spawn_hook(SimpleNamespace(user=SimpleNamespace(name="no-such-user-x"),
                                             log=None, args=[]))  # not a system account: no error


def _user_spawner(name: str, groups: tuple[str, ...] = (), admin: bool = False,
                  args: tuple[str, ...] = ()) -> SimpleNamespace:
    user = SimpleNamespace(name=name, admin=admin,
                           groups=[SimpleNamespace(name=g) for g in groups])
    return SimpleNamespace(user=user, log=None, args=list(args))


def test_a_trainee_server_loads_voila_without_jupyterlab(tmp_path: Path) -> None:
    c = Config()
    c.Spawner.args = ["--ServerApp.jpserver_extensions=my_ext=False"]  # the admin's own
    configure(c, state_dir=tmp_path)
    base = list(c.Spawner.args)
    off = [a for a in base if "jpserver_extensions" in a and a.endswith("=False")]
    assert off == ["--ServerApp.jpserver_extensions=my_ext=False"]  # not for everyone
    trainee = _user_spawner("no-such-user-t", groups=("class-a",), args=base)
    c.Spawner.pre_spawn_hook(trainee)
    added = [a for a in trainee.args if a not in base]
    assert sorted(added) == sorted(f"--ServerApp.jpserver_extensions={e}=False" for e in
                                   ("jupyterlab", "jupyter_lsp", "jupyter_server_terminals",
                                    "notebook_shim"))
    assert not any("voila" in a for a in trainee.args)
    c.Spawner.pre_spawn_hook(trainee)  # a second spawn adds nothing more
    assert len(trainee.args) == len(base) + len(added)
    for staff in (_user_spawner("no-such-user-i", groups=("merm-instructors",), args=base),
                  _user_spawner("no-such-user-a", admin=True, args=base)):
        c.Spawner.pre_spawn_hook(staff)
        assert staff.args == base  # JupyterLab and its extensions for staff
    promoted = _user_spawner("no-such-user-t", groups=("merm-instructors",),
                             args=trainee.args)  # made an instructor since the last spawn
    c.Spawner.pre_spawn_hook(promoted)
    assert promoted.args == base


def test_every_extension_for_everyone_when_asked(tmp_path: Path) -> None:
    c = Config()
    configure(c, state_dir=tmp_path, trainee_disabled_extensions=())
    trainee = _user_spawner("no-such-user-t", args=c.Spawner.args)
    c.Spawner.pre_spawn_hook(trainee)
    assert trainee.args == list(c.Spawner.args)


class _Specs:
    """The two hooks of The Littlest JupyterHub this plugin implements (tljh/hooks.py)."""

    mark = pluggy.HookspecMarker("tljh")

    @mark
    def tljh_extra_user_pip_packages(self):  # noqa: ANN201
        """Extra pip packages for the user environment."""

    @mark
    def tljh_custom_jupyterhub_config(self, c):  # noqa: ANN001, ANN201
        """Custom JupyterHub config."""

    @mark
    def tljh_new_user_create(self, username):  # noqa: ANN001, ANN201
        """After a new system user is created."""


def test_tljh_plugin_through_its_entry_point(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    pm = pluggy.PluginManager("tljh")
    pm.add_hookspecs(_Specs)
    assert pm.load_setuptools_entrypoints("tljh") >= 1  # pyproject [project.entry-points.tljh]
    assert tljh in pm.get_plugins()
    (spec,) = [s for specs in pm.hook.tljh_extra_user_pip_packages() for s in specs]
    assert spec.startswith("merm-lab[all]")  # the users' kernels need the consoles
    monkeypatch.setattr(tljh, "DEFAULT_STATE_DIR", tmp_path)
    c = Config()
    pm.hook.tljh_custom_jupyterhub_config(c=c)
    assert {s["name"] for s in c.JupyterHub.services} >= {"merm-hub"}
    assert (tmp_path / "hub-secret").is_file()
    hook = next(i for i in pm.hook.tljh_new_user_create.get_hookimpls() if i.plugin is tljh)
    assert hook.function is tljh.tljh_new_user_create


def test_kubernetes_addresses(tmp_path: Path) -> None:
    """Zero to JupyterHub: the services listen on the hub pod's IP (the proxy's route), the
    users' pods reach them through the ``hub`` Service."""
    c = Config()
    d = configure(c, state_dir=tmp_path, bind_ip="10.1.2.3", internal_host="hub")
    hub = next(s for s in c.JupyterHub.services if s["name"] == "merm-hub")
    assert hub["url"] == "http://10.1.2.3:8890"
    assert hub["command"][hub["command"].index("--ip") + 1] == "10.1.2.3"
    assert d.hub_url == "http://hub:8890/services/merm-hub"
    assert c.Spawner.environment["MERM_HUB_URL"] == d.hub_url
    progress = [s for s in c.JupyterHub.services if s["name"] == "merm-progress"]
    if progress:  # the progress service is installed
        assert progress[0]["url"].startswith("http://10.1.2.3:")
        assert c.Spawner.environment["MERM_PROGRESS_URL"].startswith("http://hub:")


def test_servers_start_without_the_unused_import(tmp_path: Path) -> None:
    import sys

    script = str(Path(sys.executable).parent / "jupyterhub-singleuser")
    c = Config()
    c.Spawner.cmd = [script, "--debug"]
    configure(c, state_dir=tmp_path)
    assert c.Spawner.cmd == [str(Path(script).with_name("python")), "-m",
                             "simulator.deploy.singleuser", "--debug"]
    for cmd in (["jupyterhub-singleuser"], ["/opt/elsewhere/bin/start-notebook.sh"]):
        c = Config()
        c.Spawner.cmd = cmd  # not a path to jupyterhub-singleuser with a Python beside it
        configure(c, state_dir=tmp_path)
        assert c.Spawner.cmd == cmd
    c = Config()
    c.Spawner.cmd = [script]
    configure(c, state_dir=tmp_path, lean_singleuser=False)
    assert c.Spawner.cmd == [script]


def test_the_lean_server_validates_its_events_as_before() -> None:
    """In :mod:`simulator.deploy.singleuser`'s process rfc3987_syntax never loads, and the
    server's events (Jupyter Server's contents schema, with the format checks) still pass
    and fail validation as in a plain server."""
    import subprocess
    import sys

    from simulator.deploy.singleuser import UNUSED, block_unused

    modules: dict[str, object] = {"already": object()}
    block_unused(modules)
    assert all(modules[name] is None for name in UNUSED)
    script = """
import sys
from simulator.deploy.singleuser import block_unused
block_unused()
import jupyter_server.serverapp, jupyterhub.singleuser  # what the server imports
from jsonschema import FormatChecker
from jupyter_events import EventLogger
from jupyter_server import DEFAULT_EVENTS_SCHEMA_PATH
import io, logging
log = EventLogger()
log.register_handler(logging.StreamHandler(io.StringIO()))  # no handler: emit skips all
log.register_event_schema(DEFAULT_EVENTS_SCHEMA_PATH / "contents_service" / "v1.yaml")
uri = "https://events.jupyter.org/jupyter_server/contents_service/v1"
log.emit(schema_id=uri, data={"action": "get", "path": "a.ipynb"})
try:
    log.emit(schema_id=uri, data={"action": "no-such-action", "path": "a.ipynb"})
except Exception as exc:
    refused = type(exc).__name__
else:
    refused = None
print(sys.modules["rfc3987_syntax"] is None, "iri" in FormatChecker.checkers, refused)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-3:] == ["True", "False", "ValidationError"]


def test_every_server_releases_its_freed_heap(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import logging

    from simulator.deploy import server_memory

    c = Config()
    configure(c, state_dir=tmp_path)
    configure(c, state_dir=tmp_path)
    assert list(c.Spawner.args).count(
        f"--ServerApp.jpserver_extensions={server_memory.EXTENSION}=True") == 1
    assert server_memory._jupyter_server_extension_points() == [
        {"module": server_memory.EXTENSION}]

    calls: list[int] = []
    monkeypatch.setattr(server_memory, "release_free_memory", lambda: calls.append(1) or True)
    monkeypatch.setattr(server_memory, "PERIOD_S", 0.05)

    async def run() -> None:
        server_memory._load_jupyter_server_extension(
            SimpleNamespace(log=logging.getLogger("test")))
        for _ in range(200):  # hang guard: the periodic release comes within a few ticks
            if len(calls) >= 3:
                break
            await asyncio.sleep(0.05)
        server_memory._RUNNING.pop().stop()

    asyncio.run(run())
    assert len(calls) >= 3  # once at load, then every PERIOD_S
