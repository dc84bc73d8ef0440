"""What the text itself says about where it came from: credits, datelines, dates.

Runs on cleaned text only, so that a teaser or a footer that was stripped
can never be read as a credit ("05 March 2018 Iran Focus London, 05 Mar -"
inside a "Popular posts" list names another article, not this one's source).
Offsets are mapped back to ``Document.text``.
"""

from __future__ import annotations

import re

from .agencies import Agencies, default_agencies
from .dates import date_from_url, find_dates
from .records import CleanDoc, Credit

_CREDIT = re.compile(
    r"^\s*(?:"
    r"source\s*:|sources?\s*-|originally\s+(?:published|appeared|posted)\s+(?:by|at|in|on)|"
    r"(?:this\s+(?:article|story|post|piece)\s+)?(?:was\s+)?first\s+(?:appeared|published|posted)\s+"
    r"(?:in|on|at|by)|"
    r"reprinted\s+(?:from|with\s+permission\s+(?:from|of))|courtesy\s+(?:of\s+)?|"
    r"via\s*:?|read\s+(?:more|the\s+original|the\s+full\s+article)\s+(?:at|on)|"
    r"republished\s+(?:from|with\s+permission\s+(?:from|of))|credit\s*:|"
    r"\(c\)|©"
    r")\s*(?P<outlet>.+?)\s*$",
    re.I,
)
# "London, 19 Dec -" / "TEHRAN, Jan. 3 (Reuters) -": a dateline's place and date.
_DATELINE = re.compile(
    r"^\s*[A-Z][A-Za-z .'-]{1,40},\s+(?:\d{1,2}\s+[A-Z][a-z]{2,9}\.?|[A-Z][a-z]{2,9}\.?\s+\d{1,2})"
    r"(?:,?\s+\d{4})?\s*(?:\((?P<agency>[^)]{2,40})\))?\s*[-–—]"
)
_OUTLET_STOP = re.compile(r"\s+(?:on|at)\s+(?:https?://|\d)|\s+[-–—|]\s+|[,;]|\.\s|\s+https?://")
_NAME = re.compile(r"^[A-Z0-9][\w&.'’-]*(?:\s+(?:[A-Z0-9][\w&.'’-]*|of|the|and|for|de|du))*$")

#: How far into the cleaned text a publication date is looked for.
DATE_WINDOW = 400


def _outlet_name(raw: str) -> str | None:
    raw = _OUTLET_STOP.split(raw, maxsplit=1)[0].strip(" .:\"'“”")
    if raw.lower().startswith("the "):
        raw = raw[4:]
    words = raw.split()
    if not 1 <= len(words) <= 8 or len(raw) > 80:
        return None
    return raw


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        out.append((pos, line.rstrip("\n")))
        pos += len(line)
    return out


#: How far into a document's raw text an agency's wire header is looked for (cleaning
#: often cuts it as a template, yet it still says whose copy the text is).
HEADER_WINDOW = 600


#: Reasons of removed spans whose agency lines (copyright, byline, signature) are still read.
CUT_BUT_READ = ("legal", "byline", "copyright")


def agency_credits(clean: CleanDoc, agencies: Agencies | None = None) -> list[Credit]:
    """Lines of the kept text that name a news agency (``provenance.agencies``), plus
    an agency's wire header at the top of the raw text even where cleaning cut it."""
    agencies = agencies or default_agencies()
    out = []
    for hit in agencies.find(clean.text):
        start, end = clean.span_to_original(hit.start, hit.end)
        out.append(Credit(hit.agency, start, end, hit.kind, clean.text[hit.start:hit.end].strip(), True))
    for removed in clean.removed:  # cleaning cuts copyright lines and byline blocks; they still speak
        if removed.reason in CUT_BUT_READ:
            cut = clean.doc.text[removed.start:removed.end]
            for hit in agencies.find(cut):
                if hit.kind in ("copyright", "byline", "signature"):
                    at = removed.start
                    out.append(Credit(hit.agency, at + hit.start, at + hit.end, hit.kind,
                                      cut[hit.start:hit.end].strip(), True))
    if not any(c.kind == "wire header" for c in out):
        head = clean.doc.text[:HEADER_WINDOW]
        at = _unread(clean, head)
        mark = next((h for h in agencies.find(head[at:]) if h.kind == "wire header"), None)
        if mark is not None:  # (its offsets are in ``head[at:]``)
            start, end = at + mark.start, at + mark.end
            out.append(Credit(mark.agency, start, end, mark.kind, head[start:end].strip(), True))
    return out


def _unread(clean: CleanDoc, head: str) -> int:
    """Where the lines of ``head`` (the raw text's start) that the kept text's scan has not read
    begin: at 0, unless cleaning kept the whole of ``head`` as it is; then at its last line,
    cut short by the window (the kept text's scan read that line whole, and a line too long to
    be read whole may be short enough cut), or at its end."""
    if not clean.kept or clean.kept[0][0] != 0 or clean.kept[0][1] < len(head):
        return 0
    if len(head) < HEADER_WINDOW or head.endswith(("\n", "\r")):
        return len(head)  # every line of it whole
    return max(head.rfind("\n"), head.rfind("\r")) + 1


def find_credits(clean: CleanDoc, agencies: Agencies | None = None) -> list[Credit]:
    """Credit lines, datelines and agency lines in the kept text, in text order.

    Example: seed 004's ``Iran Focus`` line followed by ``London, 19 Dec -``
    gives ``Credit(outlet="Iran Focus", kind="dateline", ...)``; ``WASHINGTON
    (AP) —`` gives ``Credit(outlet="Associated Press", kind="dateline", ...)``.
    """
    agencies = agencies or default_agencies()
    credits = _generic_credits(clean)
    for c in agency_credits(clean, agencies):
        same = [k for k, old in enumerate(credits)
                if old.start <= c.start < old.end or c.start <= old.start < c.end]
        if not same:
            credits.append(c)
        elif not agencies.canonical(credits[same[0]].outlet):
            credits[same[0]] = c  # "Source: AP" read as an agency credit
        # else: the generic rules read this line already, and named the agency
    return sorted(credits, key=lambda c: (c.start, c.end, c.kind))


def _generic_credits(clean: CleanDoc) -> list[Credit]:
    """Credit lines and datelines of any outlet."""
    text = clean.text
    lines = _lines(text)
    credits: list[Credit] = []
    previous: tuple[int, str] | None = None
    for pos, line in lines:
        if not line.strip():
            continue
        m = _CREDIT.match(line)
        if m and len(line) <= 200:
            outlet = _outlet_name(m["outlet"])
            if outlet:
                start, end = clean.span_to_original(pos, pos + len(line))
                credits.append(Credit(outlet, start, end, "credit", line.strip()))
        d = _DATELINE.match(line)
        if d:
            outlet = None
            if d["agency"]:
                outlet = _outlet_name(d["agency"])
            elif previous is not None:
                prev_line = previous[1].strip()
                if len(prev_line) <= 60 and _NAME.match(prev_line) and not find_dates(prev_line):
                    outlet = prev_line
            if outlet:
                span_start = previous[0] if previous and not d["agency"] else pos
                start, end = clean.span_to_original(span_start, pos + d.end())
                shown = (f"{outlet} / {d.group(0).strip()}" if not d["agency"] else d.group(0).strip())
                credits.append(Credit(outlet, start, end, "dateline", shown))
        previous = (pos, line)
    return credits


def find_text_date(clean: CleanDoc) -> tuple[str, str] | None:
    """The publication date the top of the text states, as ``(iso, the words)``."""
    for head in (clean.text[:DATE_WINDOW], _byline_text(clean)):
        for iso, start, end in find_dates(head):
            return iso, head[start:end]
    m = re.search(r"(?im)^\s*(?:posted|published)\s+(?:on\s+)?(.{6,40})$", clean.text)
    if m:
        found = find_dates(m[1])
        if found:
            return found[0][0], m[0].strip()
    return None


_BYLINE = re.compile(r"(?:^|\b|(?<=\d))By\s+(?P<name>[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+){1,3})")


def _byline_text(clean: CleanDoc) -> str:
    """Byline blocks that cleaning cut (``div.post-meta``): not body text, but they say who and when."""
    cut = (clean.doc.text[r.start:r.end] for r in clean.removed if r.reason == "byline")
    return "\n".join(cut)[:DATE_WINDOW]


def _byline(text: str) -> re.Match[str] | None:
    # The pattern starts with a choice, so ``re`` tries it at every character; a text without
    # its one literal, ``By``, cannot match (most texts: a sixth of cleaning's time, spared).
    return _BYLINE.search(text) if "By" in text else None


def find_byline(clean: CleanDoc) -> str | None:
    """The author a byline near the top names (``By Jubin Katiraie``)."""
    m = _byline(_byline_text(clean)) or _byline(clean.text[:DATE_WINDOW])
    return m["name"].strip() if m else None


def annotate(clean: CleanDoc, agencies: Agencies | None = None) -> CleanDoc:
    """Fill in what the text says: credits always; date and author when metadata gave none.

    A date comes from the top of the text, else from the URL's path.
    ``agencies``: the built-in agencies unless given (an outlets file adds its own).
    """
    doc = clean.doc
    clean.credits = find_credits(clean, agencies)
    if doc.date is None:
        found = find_text_date(clean)
        if found:
            doc.date, doc.date_source = found[0], f"text: {found[1]!r}"
        elif url_date := date_from_url(doc.url):
            doc.date, doc.date_source = url_date, "url path"
    if doc.author is None:
        doc.author = find_byline(clean)
    return clean
