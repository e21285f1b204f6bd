"""Fixtures of the DICOM tests."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import missing


@pytest.fixture
def require_dciodvfy() -> None:
    """Skip where dicom3tools' validator is absent (scripts/test.sh installs it)."""
    if shutil.which("dciodvfy") is None:
        missing("dciodvfy (Debian package dicom3tools) is not installed")
