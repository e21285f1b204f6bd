"""The physics packages never pull in UI or network code (design.md, rules of the house)."""

import json
import subprocess
import sys

import pytest

FORBIDDEN = ("ipywidgets", "IPython", "aiohttp", "aiortc", "voila", "tornado", "zmq")


@pytest.mark.parametrize(
    "module", ["simulator.mr", "simulator.pet", "simulator.quality", "simulator.ai", "simulator.dicom"]
)
def test_physics_imports_no_ui_or_network(module: str) -> None:
    code = (
        f"import json, sys; import {module}; "
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not loaded & set(FORBIDDEN), f"{module} imports {sorted(loaded & set(FORBIDDEN))}"
