"""Publication dates: parsed from metadata values and found in text.

Dates are returned as ISO ``YYYY-MM-DD`` strings so that they sort and
compare as text and serialise identically everywhere.
"""

from __future__ import annotations

import re
from datetime import date

from .lang import load_languages

#: Month names of every language file (``data/lang/*.json``), lower-case -> 1..12.
MONTHS = load_languages().months
_MONTH = "|".join(re.escape(m) for m in sorted(MONTHS, key=len, reverse=True))

_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
# 19 December 2017, 19. Dezember 2017, 19 de diciembre de 2017, 19th Dec. 2017
_DMY = re.compile(rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s+(?:de\s+)?({_MONTH})\.?,?\s+"
                  rf"(?:de\s+)?(\d{{4}})(?!\d)", re.I)
# December 19, 2017
_MDY = re.compile(rf"(?<!\w)({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})(?!\d)", re.I)


def _iso(year: int, month: int, day: int) -> str | None:
    if not 1900 <= year <= 2100:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(value: str) -> str | None:
    """Parse a metadata date value (ISO 8601, ``19 December 2017``...) to ISO."""
    value = value.strip()[:100]
    if m := _ISO.search(value):
        return _iso(int(m[1]), int(m[2]), int(m[3]))
    found = find_dates(value)
    return found[0][0] if found else None


def find_dates(text: str) -> list[tuple[str, int, int]]:
    """Every date written out in ``text``: ``(iso, start, end)`` in text order.

    Example:
        >>> find_dates("People19 December 2017 and date 2017-07-28")
        [('2017-12-19', 6, 22), ('2017-07-28', 32, 42)]
    """
    found: list[tuple[str, int, int]] = []
    for m in _ISO.finditer(text):
        iso = _iso(int(m[1]), int(m[2]), int(m[3]))
        if iso:
            found.append((iso, m.start(), m.end()))
    for m in _DMY.finditer(text):
        iso = _iso(int(m[3]), MONTHS[m[2].lower()], int(m[1]))
        if iso:
            found.append((iso, m.start(), m.end()))
    for m in _MDY.finditer(text):
        iso = _iso(int(m[3]), MONTHS[m[1].lower()], int(m[2]))
        if iso:
            found.append((iso, m.start(), m.end()))
    found.sort(key=lambda item: (item[1], item[2]))
    return found


_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?:[/_.-]|$)")


def date_from_url(url: str | None) -> str | None:
    """A publication date written into a URL path (``/2017/12/19/``, ``/2017-12-19-slug``).

    Example:
        >>> date_from_url("https://www.iranweeklydigest.com/2017/12/23/weekly-digest/")
        '2017-12-23'
    """
    if not url:
        return None
    m = _URL_DATE.search(url)
    return _iso(int(m[1]), int(m[2]), int(m[3])) if m else None
