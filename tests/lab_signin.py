"""Sign in to a running ``merm-lab serve`` as a trainee would (name and cohort form)."""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path


def signed_in_opener(base: str, name: str, cohort: str = "") -> urllib.request.OpenerDirector:
    """A cookie-keeping opener that went through ``/merm/signin`` on the lab at ``base``.

    Raises ``OSError`` while the server is not up (callers retry)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{base}/merm/signin", timeout=60) as r:
        form = r.read().decode()
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form)
    if xsrf is None:
        raise AssertionError(f"no sign-in form at {base}/merm/signin")
    data = urllib.parse.urlencode({"_xsrf": xsrf.group(1), "name": name, "cohort": cohort,
                                   "next": "/merm/signin"}).encode()
    opener.open(f"{base}/merm/signin", data=data, timeout=60).close()
    return opener


def wait_until_serving(base: str, proc: subprocess.Popen[str], log: Path, guard_s: float) -> None:
    """Wait until the lab at ``base`` answers ``/merm/signin`` with 200.

    ``guard_s`` only stops a hang: when the server exits or the guard runs out, raise with the
    end of its ``log``."""
    deadline = time.monotonic() + guard_s
    while True:
        try:
            with urllib.request.urlopen(base + "/merm/signin", timeout=5) as r:  # noqa: S310
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(log.read_text()[-3000:])
        time.sleep(0.3)
