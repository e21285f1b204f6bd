"""The core install (numpy, scipy, pydicom, PyYAML) scans, writes DICOM and checks exercises
without the web stack: a fresh interpreter refuses every console, hub, store and network
package, as an install without those extras would, and runs the command line."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: What the console, hub, store, school and hospital extras bring.
EXTRAS_ONLY = ("ipywidgets", "ipyevents", "jupyterlab", "voila", "ipykernel", "IPython",
               "aiohttp", "aiortc", "av", "PIL", "sqlalchemy", "jupyterhub", "pynetdicom",
               "tornado", "jupyter_server", "psycopg", "zmq")

RUNNER = """
import importlib.abc, sys
BLOCKED = set({blocked!r})
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Refuse())
from simulator.cli import main
sys.exit(main({argv!r}))
"""


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    code = RUNNER.format(blocked=EXTRAS_ONLY, argv=argv)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)  # hang guard


def test_the_blocker_really_refuses_an_extra() -> None:
    out = subprocess.run(
        [sys.executable, "-c", RUNNER.format(blocked=EXTRAS_ONLY, argv=["--version"])
         .replace("from simulator.cli import main", "import sqlalchemy")],
        capture_output=True, text=True)
    assert out.returncode != 0 and "No module named 'sqlalchemy'" in out.stderr


@pytest.mark.parametrize("argv", [
    ["mr", "scan", "--anatomy", "brain", "--set", "slices=3", "--seed", "1"],
    ["pet", "scan", "--phantom", "nema-iec", "--seed", "1"],
])
def test_scans_need_no_web_stack(argv: list[str], tmp_path: Path) -> None:
    out = _run([*argv, "--out", str(tmp_path / "series")])
    assert out.returncode == 0, out.stderr[-2000:]
    assert list((tmp_path / "series").glob("*.dcm"))


def test_exercise_check_needs_no_web_stack_nor_database() -> None:
    out = _run(["exercise", "check", "course/exercises/mr_t1_contrast.yaml"])
    assert out.returncode == 0, out.stderr[-2000:]
    assert "OK" in out.stdout


def _requirement_name(req: str) -> str:
    return re.split(r"[\[<>=!~ ;]", req, maxsplit=1)[0].lower()


def test_pyproject_core_is_physics_and_dicom_only() -> None:
    """The core dependencies are what the blocked interpreter above may import, and every
    blocked package comes with an extra, so that the core install is exactly this test's."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {_requirement_name(r) for r in project["dependencies"]}
    assert core == {"numpy", "scipy", "pydicom", "pyyaml"}
    extras = project["optional-dependencies"]
    in_extras = {_requirement_name(r) for reqs in extras.values() for r in reqs}
    import_to_dist = {"PIL": "pillow", "IPython": None, "tornado": None, "jupyter_server": None,
                      "zmq": None}  # None: comes with jupyterlab/voila, not named by us
    for module in EXTRAS_ONLY:
        dist = import_to_dist.get(module, module.lower())
        assert dist is None or dist in in_extras, f"{module} is refused but in no extra"
    # [all] is what serve needs; [test] holds all of it
    assert "merm-lab[console,hub,store,hospital]" in extras["all"]
    assert any(r.startswith("merm-lab[all") for r in extras["test"])


def test_serve_on_a_core_install_says_what_to_install() -> None:
    out = _run(["serve", "--no-hub"])
    assert out.returncode != 0
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
    assert "pip install 'merm-lab[all]'" in (out.stdout + out.stderr)


@pytest.mark.slow
def test_a_real_core_install_scans_and_refuses_serve_in_words(tmp_path: Path) -> None:
    """``pip install .`` in a fresh venv: only the core's four packages come, a scan writes
    DICOM, and ``serve`` names the extra to install instead of a traceback."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    pip = subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          str(ROOT)], capture_output=True, text=True, timeout=1200)  # hang guard
    assert pip.returncode == 0, pip.stderr[-2000:]
    frozen = subprocess.run([str(py), "-m", "pip", "list", "--format=freeze"],
                            capture_output=True, text=True, check=True).stdout.lower()
    for extra_only in ("voila", "ipywidgets", "aiortc", "sqlalchemy", "pillow"):
        assert f"{extra_only}==" not in frozen, f"the core install pulled {extra_only}"
    merm = venv / "bin" / "merm-lab"
    scan = subprocess.run([str(merm), "mr", "scan", "--anatomy", "brain", "--set", "slices=2",
                           "--seed", "1", "--out", str(tmp_path / "series")],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert scan.returncode == 0, scan.stderr[-2000:]
    assert list((tmp_path / "series").glob("*.dcm"))
    serve = subprocess.run([str(merm), "serve", "--no-hub"], capture_output=True, text=True,
                           cwd=tmp_path, timeout=120)
    assert serve.returncode != 0 and "Traceback" not in serve.stderr
    assert "merm-lab[all]" in serve.stdout + serve.stderr
