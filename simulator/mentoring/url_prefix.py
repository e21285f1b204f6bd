"""The URL prefix the hub serves under, and the links it writes with it.

Behind JupyterHub's proxy the hub is a service at ``$JUPYTERHUB_SERVICE_PREFIX``
(``/services/merm-hub/``): the proxy forwards the whole path, so every route lives under
that prefix, and the pages reach their script, WebSocket and API *relative* to it. Under
``merm-lab serve`` the prefix is ``/``. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from simulator.errors import UserError

__all__ = ["normalise_prefix", "origin_of", "page_base"]

_SEGMENT = re.compile(r"^[A-Za-z0-9._~%@+-]+$")


def normalise_prefix(prefix: str | None) -> str:
    """``"/"`` or ``"/a/b/"``: one leading and one trailing slash, no empty segment.

    Examples
    --------
    >>> normalise_prefix("services/merm-hub")
    '/services/merm-hub/'
    >>> normalise_prefix(None)
    '/'

    Raises
    ------
    UserError
        When a segment holds characters a URL path cannot carry as is, or is ``..``.
    """
    parts = [p for p in (prefix or "").strip().split("/") if p]
    for part in parts:
        if part in (".", "..") or not _SEGMENT.match(part):
            raise UserError(
                f"URL prefix {prefix!r}: letters, digits and . _ ~ - + @ % between slashes",
                f"préfixe d'URL {prefix!r} : lettres, chiffres et . _ ~ - + @ % entre les /",
            )
    return "/" + "".join(p + "/" for p in parts)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url`` (what a browser sends as ``Origin``)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def page_base(public_url: str, prefix: str) -> str:
    """Where the hub's pages are, seen from outside: ``public_url`` plus ``prefix`` (unless
    ``public_url`` already ends with it), no trailing slash.

    Examples
    --------
    >>> page_base("https://lab.example.org", "/services/merm-hub/")
    'https://lab.example.org/services/merm-hub'
    >>> page_base("https://lab.example.org/services/merm-hub/", "/services/merm-hub/")
    'https://lab.example.org/services/merm-hub'
    >>> page_base("http://127.0.0.1:8890", "/")
    'http://127.0.0.1:8890'
    """
    base = public_url.rstrip("/")
    tail = prefix.rstrip("/")
    if tail and not urlsplit(base).path.rstrip("/").endswith(tail):
        base += tail
    return base
