"""One source -> one ``Document``: a text file's text, or an HTML page parsed once into text
blocks with its metadata and publication date; ids kept unique within a run."""

from __future__ import annotations

import re

from .config import IngestConfig
from .decode import decode_bytes, sniff_charset
from .errors import InputError
from .htmltext import parse_html
from .records import Document


def unique_id(doc_id: str, seen: set[str]) -> str:
    """``doc_id``, or ``doc_id~2``, ``~3``... when it is taken; the result is added to ``seen``."""
    candidate, n = doc_id, 1
    while candidate in seen:
        n += 1
        candidate = f"{doc_id}~{n}"
    seen.add(candidate)
    return candidate


def whole_document(data: bytes, kind: str, rel: str, path: str, cfg: IngestConfig,
                    seen: set[str]) -> Document:
    """A text or HTML file's one document."""
    declared = sniff_charset(data) if kind == "html" else None
    text = decode_bytes(data, path, declared)
    if kind == "html":
        return html_document(unique_id(rel, seen), path, text, cfg)
    return Document(id=unique_id(rel, seen), path=path, text=text, kind="text")


def html_document(doc_id: str, path: str, html: str, cfg: IngestConfig) -> Document:
    try:
        page = parse_html(html, cfg.max_html_depth)
    except (RecursionError, ValueError, AssertionError) as exc:
        raise InputError(path, f"malformed HTML: {type(exc).__name__}") from exc
    if not re.search(r"\w", page.text):
        raise InputError(path, "malformed or empty HTML: no visible text")
    meta = page.meta
    if "date" not in meta:
        found = _htmldate(html, meta.get("url"))
        if found:
            meta["date"], meta["date_source"] = found, "htmldate"
    return Document(id=doc_id, path=path, text=page.text, kind="html", blocks=page.blocks,
                   title=meta.get("title"), outlet=meta.get("outlet"),
                   outlet_source=meta.get("outlet_source"), url=meta.get("url"),
                   date=meta.get("date"), date_source=meta.get("date_source"),
                   author=meta.get("author"))


def _htmldate(html: str, url: str | None) -> str | None:
    """htmldate's publication date, when the page's own metadata gave none.

    Only its quick, structural search runs (no guessing from free text), and
    only the original publication date is asked for, never an update date.
    """
    from htmldate import find_date

    try:
        found = find_date(html, url=url, original_date=True, extensive_search=False,
                          outputformat="%Y-%m-%d")
    except Exception:
        return None
    return found if isinstance(found, str) else None
