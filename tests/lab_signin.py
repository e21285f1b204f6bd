"""Sign in to a running ``merm-lab serve`` as a trainee would (name and cohort form)."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request


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
