"""The ``merm-lab`` entry point: help, bad input, and the serve command's Voilà line."""

import subprocess
import sys

from simulator.cli import SUBCOMMANDS, build_parser
from simulator.cli.serve import voila_command


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulator", *args], capture_output=True, text=True)


def test_help_lists_every_subcommand() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for name in SUBCOMMANDS:
        assert name in out.stdout


def test_unknown_subcommand_is_one_line_and_exit_2() -> None:
    out = run_cli("frobnicate")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_voila_binds_loopback_and_culls_idle_kernels(tmp_path) -> None:
    cmd = voila_command(tmp_path, 9999, "127.0.0.1", 600)
    assert "--Voila.ip=127.0.0.1" in cmd
    assert "--port=9999" in cmd
    assert "--MappingKernelManager.cull_idle_timeout=600" in cmd


def test_parser_builds() -> None:
    assert build_parser().prog == "merm-lab"
