"""The container images and the Zero to JupyterHub values (deploy/): they cannot be built or
deployed here (no container engine, no cluster), so what can be checked is checked: the YAML
parses, its extraConfig runs against the real ``configure()`` with names and ports that agree,
the Dockerfiles install this package with the course, and the start hook links the course."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from traitlets.config import Config

from simulator.deploy.jupyterhub import COURSE_LINK, HUB_SERVICE
from simulator.paths import course_dir

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load((DEPLOY / "z2jh" / "values.yaml").read_text())


def test_extra_config_runs_against_configure(values: dict, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    code = values["hub"]["extraConfig"]["merm-lab"]
    monkeypatch.setenv("POD_IP", "10.20.30.40")
    monkeypatch.setenv("MERM_LAB_DB_URL", "postgresql+psycopg://merm:pw@db/merm")
    monkeypatch.setenv("MERM_LAB_STATE_DIR", str(tmp_path))
    c = Config()
    exec(compile(code, "hub.extraConfig.merm-lab", "exec"), {"c": c})  # noqa: S102
    services = {s["name"]: s for s in c.JupyterHub.services}
    assert HUB_SERVICE in services
    ports = {p["port"] for p in values["hub"]["service"]["extraPorts"]}
    assert ports == {p["targetPort"] for p in values["hub"]["service"]["extraPorts"]}
    for service in services.values():
        host, port = re.match(r"http://([^:/]+):(\d+)", service["url"]).groups()
        assert host == "10.20.30.40" and int(port) in ports  # the proxy's route, a Service port
    env = c.Spawner.environment
    assert env["MERM_HUB_URL"].startswith("http://hub:")  # the users' pods use the Service
    assert "MERM_LAB_DB_URL" not in env and "MERM_DB_URL" not in env
    for rules in (values["hub"]["networkPolicy"]["ingress"],
                  values["proxy"]["chp"]["networkPolicy"]["egress"],
                  values["singleuser"]["networkPolicy"]["egress"]):
        assert {p["port"] for r in rules for p in r["ports"]} == ports
    db = values["hub"]["extraEnv"]["MERM_LAB_DB_URL"]["valueFrom"]["secretKeyRef"]
    assert db == {"name": "merm-lab", "key": "db-url"}


def _instructions(dockerfile: Path) -> list[str]:
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.hub"])
def test_dockerfiles_install_this_package_with_its_course(name: str) -> None:
    lines = _instructions(DEPLOY / name)
    assert lines[0].startswith("FROM ")
    copied = {part for line in lines if line.startswith("COPY ") for part in line.split()[1:-1]
              if not part.startswith("--")}
    assert {"pyproject.toml", "simulator", "course"} <= copied
    for part in copied:
        assert (ROOT / part).exists(), f"{name} copies {part}, which the repository lacks"
    pip = [line for line in lines if "pip install" in line]
    assert pip and "[school" in pip[0] and " -e " not in pip[0]  # non-editable: course inside


def test_start_hook_links_the_installed_course(tmp_path: Path) -> None:
    hook = DEPLOY / "merm-course-link.sh"
    assert f"COPY deploy/{hook.name} /usr/local/bin/before-notebook.d/" in (
        DEPLOY / "Dockerfile").read_text()
    env = {"HOME": str(tmp_path), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
           "PYTHONPATH": str(ROOT)}
    env.update({k: v for k, v in os.environ.items() if k == "MERM_COURSE_DIR"})
    for _ in range(2):  # and again at the next start
        subprocess.run(["bash", str(hook)], env=env, check=True, timeout=60)
    link = tmp_path / COURSE_LINK
    assert link.is_symlink() and link.resolve() == course_dir().resolve()
    assert (link / "dashboards" / "mr_console.ipynb").is_file()
