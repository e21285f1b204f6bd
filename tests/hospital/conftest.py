"""A real Orthanc (Debian package) with its worklist plugin, on free loopback ports, with its
own storage and worklist folder, started per test and stopped after."""

from __future__ import annotations

import glob
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, missing

#: Where Debian's orthanc package puts the worklist plugin (the versioned file is the real one).
_PLUGIN_GLOBS = (
    "/usr/share/orthanc/plugins/libModalityWorklists.so",
    "/usr/lib/orthanc/libModalityWorklists.so*",
)

#: Stops a hang while Orthanc starts; not a performance budget.
START_TIMEOUT_S = 60


@dataclass
class Orthanc:
    """A running Orthanc: its DICOM address, HTTP base, worklist folder and process."""

    aet: str
    dicom_port: int
    http: str
    worklists: Path
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def address(self) -> str:
        return f"{self.aet}@127.0.0.1:{self.dicom_port}"

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.http + path, timeout=30) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


def _plugin() -> str | None:
    for pattern in _PLUGIN_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


@pytest.fixture
def orthanc(tmp_path: Path) -> Iterator[Orthanc]:
    exe = shutil.which("Orthanc") or (
        "/usr/sbin/Orthanc" if Path("/usr/sbin/Orthanc").exists() else None
    )
    plugin = _plugin()
    if exe is None or plugin is None:
        missing("Orthanc with its worklist plugin (Debian package orthanc) is not installed")
    home = tmp_path / "orthanc"
    (home / "db").mkdir(parents=True)
    (home / "worklists").mkdir()
    dicom_port, http_port = free_port(), free_port()
    config = {
        "Name": "MERM-TEST",
        "StorageDirectory": str(home / "db"),
        "IndexDirectory": str(home / "db"),
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "DicomAet": "ORTHANC",
        "DicomCheckCalledAet": True,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "HttpServerEnabled": True,
        "DicomServerEnabled": True,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True,
        "DicomAlwaysAllowFindWorklist": True,
        "DicomCheckModalityHost": False,
        "Plugins": [plugin],
        "Worklists": {"Enable": True, "Database": str(home / "worklists")},
    }
    (home / "orthanc.json").write_text(json.dumps(config, indent=1))
    log = home / "orthanc.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([exe, str(home / "orthanc.json")], stdout=out, stderr=out, cwd=home)
    server = Orthanc(
        "ORTHANC", dicom_port, f"http://127.0.0.1:{http_port}", home / "worklists", proc, log
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            server.get("/system")
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                server.stop()
                pytest.fail(f"Orthanc did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
    try:
        yield server
    finally:
        server.stop()
