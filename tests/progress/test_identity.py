"""Signed identities of ``merm-lab serve`` and the kernel's view of them (no server)."""

from __future__ import annotations

import time
from pathlib import Path

from simulator.progress.identity import (
    STAFF_COOKIE,
    TRAINEE_COOKIE,
    kernel_credentials,
    kernel_display_name,
    lab_secret,
    sign_identity,
    verify_identity,
)

SECRET = b"k" * 64


def test_a_signed_name_verifies_and_a_changed_one_does_not() -> None:
    value = sign_identity(SECRET, "Claire Martin", "MERM-2026")
    who = verify_identity(SECRET, value)
    assert who is not None and (who.name, who.cohort, who.staff) == ("Claire Martin", "MERM-2026", False)
    body, mac = value.split(".")
    forged_body = sign_identity(b"other secret", "Bob").split(".")[0]
    assert verify_identity(SECRET, f"{forged_body}.{mac}") is None  # another name, same MAC
    assert verify_identity(b"other secret", value) is None  # another lab's secret
    assert verify_identity(SECRET, value[:-2] + "00") is None
    for junk in (None, "", "x", "a.b.c", "!!.??"):
        assert verify_identity(SECRET, junk) is None


def test_roles_do_not_mix_and_old_cookies_expire() -> None:
    trainee = sign_identity(SECRET, "Bob")
    staff = sign_identity(SECRET, "instructor", role="staff")
    assert verify_identity(SECRET, trainee, "staff") is None
    assert verify_identity(SECRET, staff, "trainee") is None
    assert verify_identity(SECRET, staff, "staff").staff
    old = sign_identity(SECRET, "Bob", issued_at=int(time.time()) - 100 * 86400)
    assert verify_identity(SECRET, old) is None


def test_the_kernel_reads_its_cookies() -> None:
    value = sign_identity(SECRET, "Élise Dupont")
    env = {"HTTP_COOKIE": f"_xsrf=abc; {TRAINEE_COOKIE}={value}; {STAFF_COOKIE}=s.t"}
    assert kernel_credentials(env) == {"trainee": value, "staff": "s.t"}
    assert kernel_display_name(env) == "Élise Dupont"
    assert kernel_display_name({"JUPYTERHUB_USER": "alice", **env}) == "alice"
    assert kernel_display_name({"HTTP_COOKIE": "garbage;;=="}) is None


def test_the_lab_secret_is_kept_private(tmp_path: Path) -> None:
    first = lab_secret(tmp_path)
    assert lab_secret(tmp_path) == first and len(first) >= 32
    assert (tmp_path / "lab-secret").stat().st_mode & 0o077 == 0
