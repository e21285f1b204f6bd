"""Sign in to a running ``merm-lab serve`` as a trainee would (name and cohort form)."""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
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



@contextlib.contextmanager
def serving_lab(serve_args: list[str], env: dict[str, str], log: Path, guard_s: float,
                cwd: Path | None = None) -> Iterator[str]:
    """Run ``merm-lab serve SERVE_ARGS`` (``--port`` among them) and yield its base URL.

    Waits until ``/merm/signin`` answers 200. ``guard_s`` only stops a hang: when the server
    exits or the guard runs out, raise with the end of ``log``. Stopped with SIGINT, as a user
    stops it (Ctrl-C), then killed if it hangs."""
    port = serve_args[serve_args.index("--port") + 1]
    base = f"http://127.0.0.1:{port}"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "simulator", "serve", *serve_args],
                                cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + guard_s
            while True:
                try:
                    with urllib.request.urlopen(base + "/merm/signin", timeout=5) as r:  # noqa: S310
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text()[-3000:])
                time.sleep(0.3)
            yield base
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
