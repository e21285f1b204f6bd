"""The course ships inside the package: a non-editable install finds it outside the checkout,
and ``$MERM_COURSE_DIR`` / ``merm-lab serve --course`` choose another one, kernels included."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.exercises import load_course
from simulator.paths import course_dir
from tests.conftest import free_port
from tests.lab_signin import signed_in_opener

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90  # hang guard only


def test_env_var_chooses_another_course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MERM_COURSE_DIR", raising=False)
    shipped = course_dir()
    assert (shipped / "exercises" / "mr_t1_contrast.yaml").is_file()
    assert (shipped / "dashboards" / "mr_console.ipynb").is_file()
    monkeypatch.setenv("MERM_COURSE_DIR", str(tmp_path))
    assert course_dir() == tmp_path


@pytest.mark.slow
@pytest.mark.timeout(900)  # hang guard
def test_wheel_ships_the_course(tmp_path: Path) -> None:
    """``pip wheel .`` then an install into a plain folder: the course is package data."""
    # a clean copy of the sources: no egg-info of an editable install, whose file list
    # would otherwise stand in for the package-data configuration under test
    src = tmp_path / "src"
    junk = shutil.ignore_patterns("*.egg-info", "build", "__pycache__", ".ipynb_checkpoints")
    for name in ("simulator", "course"):
        shutil.copytree(ROOT / name, src / name, symlinks=True, ignore=junk)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(src)], check=True,
                   cwd=tmp_path, timeout=240)
    (wheel,) = wheels.glob("merm_lab-*.whl")
    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True,
                   timeout=120)
    assert not (site / "simulator" / "course").is_symlink()  # real files, not a link to the checkout
    probe = (
        "import json, simulator, simulator.paths as p\n"
        "from simulator.exercises import load_course\n"
        "d = p.course_dir()\n"
        "print(json.dumps({'pkg': simulator.__file__, 'course': str(d),"
        " 'exercises': sorted(load_course()), 'dashboards': sorted(x.name for x in (d / 'dashboards').iterdir()),"
        " 'lessons': sorted(x.name for x in (d / 'lessons').iterdir())}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MERM_COURSE_DIR"}
    env["PYTHONPATH"] = str(site)  # ahead of the venv's editable link to the checkout
    run = subprocess.run([sys.executable, "-P", "-c", probe], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout)
    assert found["pkg"].startswith(str(site))
    assert found["course"].startswith(str(site)) and not found["course"].startswith(str(ROOT))
    assert found["exercises"] == sorted(load_course(ROOT / "course" / "exercises"))
    assert found["dashboards"] == sorted(p.name for p in (ROOT / "course" / "dashboards").iterdir()
                                         if p.suffix == ".ipynb")
    assert found["lessons"] == sorted(p.name for p in (ROOT / "course" / "lessons").iterdir()
                                      if p.suffix == ".ipynb")


def _probe_notebook() -> dict:
    code = "from simulator.paths import course_dir\nprint('COURSE=' + str(course_dir()))"
    return {
        "cells": [{"cell_type": "code", "metadata": {}, "source": code, "outputs": [],
                   "execution_count": None}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


@pytest.mark.slow
@pytest.mark.timeout(900)  # hang guard
def test_serve_course_reaches_the_kernels(tmp_path: Path) -> None:
    """``merm-lab serve --course DIR``: a dashboard of DIR, run by Voilà's kernel, reads DIR."""
    course = tmp_path / "my-course"
    (course / "dashboards").mkdir(parents=True)
    (course / "exercises").mkdir()
    (course / "dashboards" / "probe.ipynb").write_text(json.dumps(_probe_notebook()))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MERM_COURSE_DIR"}
    env.update(MERM_HOME=str(tmp_path / "home"), PYTHONDONTWRITEBYTECODE="1")
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--no-hub", "--port", str(port),
         "--course", str(course)],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}/voila/render/probe.ipynb"
        deadline = time.monotonic() + START_TIMEOUT_S
        page = ""
        while time.monotonic() < deadline and proc.poll() is None:
            try:  # serve asks a trainee's name first (tests/lab_signin.py)
                opener = signed_in_opener(f"http://127.0.0.1:{port}", "Probe")
                with opener.open(url, timeout=60) as r:
                    page = r.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert "COURSE=" in page, (tmp_path / "serve.log").read_text()[-2000:]
        assert f"COURSE={course.resolve()}" in page
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
