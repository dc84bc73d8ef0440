"""Outlet names made comparable: ``www.IranFocus.com`` ~ ``Iran Focus``.

A module of its own so that ``outlets`` (which resolves a document's outlet) and
``agencies`` (which reads agency names in the text) both use it without importing
each other.
"""

from __future__ import annotations

import re
from functools import lru_cache

_TLD = re.compile(r"\.(com|org|net|info|co\.uk|org\.uk|co|uk|de|fr|es|ir|io|news|eu|us)$")
_HOST = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")
_SCHEME = re.compile(r"^https?://")
_NOT_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=65536)
def outlet_key(name: str | None) -> str:
    """A comparable form of an outlet name: ``www.IranFocus.com`` ~ ``Iran Focus``.

    Example:
        >>> outlet_key("https://www.iranfocus.com/en/") == outlet_key("Iran Focus")
        True
    """
    if not name:
        return ""
    low = name.strip().lower()
    low = _SCHEME.sub("", low)
    host = low.split("/")[0]
    if _HOST.match(host):
        low = host[4:] if host.startswith("www.") else host
        low = _TLD.sub("", low)
    return _NOT_WORD.sub("", low)
