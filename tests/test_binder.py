"""binder/: the image installs the package from pyproject.toml and opens on the course."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"


def test_environment_names_only_the_interpreter() -> None:
    """Dependencies live in pyproject.toml alone, so binder cannot drift from the tests."""
    env = yaml.safe_load((BINDER / "environment.yml").read_text())
    python = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    wanted = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python == ["python=3.11"] and wanted == ">=3.11"
    assert not [d for d in env["dependencies"] if isinstance(d, dict)], "pip deps belong in pyproject"


def test_post_build_installs_the_package_and_writes_a_valid_config(tmp_path: Path) -> None:
    script = (BINDER / "postBuild").read_text()
    assert "pip install" in script and ' -e ".[all]"' in script and "--no-deps" not in script
    # run the config-writing part of postBuild with a fake pip and a temporary HOME
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python").write_text("#!/bin/sh\nexit 0\n")
    (fake / "python").chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    subprocess.run(["bash", str(BINDER / "postBuild")], cwd=ROOT, check=True,
                   env={"HOME": str(home), "PATH": f"{fake}:/usr/bin:/bin"})
    config = home / ".jupyter" / "jupyter_server_config.py"
    code = f"""
from traitlets.config import Config
c = Config()
exec(open({str(config)!r}).read())
assert c.ServerApp.default_url == "/lab/tree/course/lessons", c.ServerApp.default_url
assert c.MappingKernelManager.cull_idle_timeout > 0
assert "Accept-Language" in c.VoilaConfiguration.http_header_envs
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    assert (ROOT / "course" / "lessons").is_dir()
    assert (ROOT / "course" / "dashboards" / "mr_console.ipynb").is_file()
