"""Give freed heap memory back to the system (glibc's ``malloc_trim``).

A scan allocates a few hundred MB of numpy temporaries in worker threads and frees them at
the end. glibc keeps much of that memory in its arenas for reuse (a thread's arena is only
trimmed from its top), so a kernel's resident size stays up to ~30 MB above what it holds.
``malloc_trim(0)`` returns the free pages of every arena to the system. On a school server
every trainee's kernel does this after each scan (issue 12, item 6: memory per trainee).

Elsewhere (musl, macOS, Windows) there is no ``malloc_trim``: :func:`release_free_memory`
does nothing and says so by returning False.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Callable

__all__ = ["release_free_memory"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # musl (Alpine) has no malloc_trim
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return the C heap's free pages to the system (``malloc_trim(0)``).

    Returns
    -------
    bool
        True where glibc's ``malloc_trim`` ran (whether or not it found pages to release),
        False where the C library has none.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
