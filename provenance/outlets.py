"""Who published a document: outlet resolution and name normalisation.

Sources, first match wins:

1. explicit fields: a JSONL record's ``outlet``; then an outlets file's
   ``paths`` and ``urls`` patterns (glob patterns on the document id and URL);
2. the page's metadata: ``og:site_name``, JSON-LD publisher, the canonical
   URL's host;
3. the WARC record's target URI host;
4. the text itself: a masthead line followed by a dateline
   (``Iran Focus`` / ``London, 19 Dec -``).

Names are compared by ``outlet_key`` (case, ``www.``, a domain's suffix and
punctuation folded: ``www.IranFocus.com`` ~ ``Iran Focus``), and an outlets
file's ``aliases`` merge names that differ in more than that, reporting the
canonical name. The outlets file is JSON::

    {"aliases": {"Iran Focus": ["iranfocus.com", "IF News"]},
     "paths":   {"blogs/free-iran-now/*": "Free Iran Now"},
     "urls":    {"https://*.blogspot.com/*": "Blogger"},
     "agencies": {"Agência Brasil": ["ABr", "agenciabrasil.ebc.com.br"]}}

``agencies`` adds news agencies to the built-in ones (``provenance.agencies``):
their names are then read in bylines, datelines, credit and copyright lines,
and a document whose outlet is one of them is that agency's own copy.

A folder being scanned may hold one as ``outlets.json``; ``--outlets FILE``
names one explicitly. ``paths`` patterns match a document's id, or its file's
path from the folder that holds the outlets file: ``crawl/outlets.json``'s
``blogs/free-iran-now/*`` names the pages of ``crawl/blogs/free-iran-now/``
whether ``crawl/``, ``crawl/blogs/`` or one of the pages is scanned.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from .agencies import Agencies, default_agencies
from .config import OUTLETS_FILE
from .errors import ConfigError
from .ingest import file_of
from .names import outlet_key
from .records import CleanDoc


def host_of(url: str | None) -> str | None:
    """The host of a URL without ``www.``, or None."""
    if not url:
        return None
    m = re.match(r"^[a-z][a-z0-9+.-]*://([^/?#:]+)", url.strip(), re.I)
    if not m:
        return None
    host = m.group(1).lower()
    return host[4:] if host.startswith("www.") else host


@dataclass
class Outlets:
    """Aliases and path/URL patterns from an outlets file (all optional)."""

    aliases: dict[str, str] = field(default_factory=dict)  # key -> canonical name
    paths: list[tuple[str, str, str]] = field(default_factory=list)  # pattern, outlet, the file's folder
    urls: list[tuple[str, str]] = field(default_factory=list)
    agencies: dict[str, list[str]] = field(default_factory=dict)  # name -> aliases, added to the built-in

    @classmethod
    def load(cls, path: str | Path) -> Outlets:
        """Read an outlets file; malformed ones raise ``ConfigError`` naming the file."""
        try:
            data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: not a readable outlets file: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: an outlets file is a JSON object with aliases, paths, urls")
        out = cls()
        for canonical, names in sorted((data.get("aliases") or {}).items()):
            if not isinstance(names, list):
                raise ConfigError(f"{path}: aliases of {canonical!r} must be a list of names")
            for name in [canonical, *names]:
                out.aliases[outlet_key(str(name))] = canonical
        base = os.path.abspath(Path(path).parent)
        for key in ("paths", "urls"):
            patterns = data.get(key) or {}
            if not isinstance(patterns, dict):
                raise ConfigError(f"{path}: {key} must map glob patterns to outlet names")
            if key == "paths":
                out.paths = [(str(p), str(o), base) for p, o in patterns.items()]
            else:
                out.urls = [(str(p), str(o)) for p, o in patterns.items()]
        agencies = data.get("agencies", {})
        if not isinstance(agencies, dict) or not all(
                isinstance(k, str) and k.strip() and isinstance(v, list)
                and all(isinstance(x, str) and x.strip() for x in v) for k, v in agencies.items()):
            raise ConfigError(f"{path}: agencies must map an agency's name to a list of its aliases"
                              ' (names not empty), e.g. {"Agência Brasil": ["ABr"]}')
        out.agencies = {str(k): list(v) for k, v in agencies.items()}
        return out

    def merge(self, other: Outlets) -> Outlets:
        agencies = {k: list(dict.fromkeys([*self.agencies.get(k, []), *v]))
                    for k, v in other.agencies.items()}
        return Outlets({**self.aliases, **other.aliases}, self.paths + other.paths,
                       self.urls + other.urls, {**self.agencies, **agencies})

    def agency_set(self) -> Agencies:
        """The built-in agencies plus this file's."""
        return _agency_set(tuple((k, tuple(v)) for k, v in sorted(self.agencies.items())))

    def canonical(self, name: str) -> str:
        """The name to report for ``name`` (its alias group's canonical name, else itself)."""
        return self.aliases.get(outlet_key(name), name)

    def explicit(self, doc_id: str, url: str | None, path: str | None = None) -> str | None:
        """The outlet the file's patterns give: ``paths`` on the id or on the file's path from
        the outlets file's folder (``path`` is the document's, ``file#record`` for a record)."""
        file = os.path.abspath(file_of(path)) if path else None
        for pattern, outlet, base in self.paths:
            if fnmatch.fnmatchcase(doc_id, pattern):
                return outlet
            if file is not None and file.startswith(base + os.sep) \
                    and fnmatch.fnmatchcase(file[len(base) + 1:].replace(os.sep, "/"), pattern):
                return outlet
        for pattern, outlet in self.urls:
            if url and fnmatch.fnmatchcase(url, pattern):
                return outlet
        return None


def find_outlets_files(paths: list[Path]) -> list[Path]:
    """``outlets.json`` at the top of each scanned folder."""
    return [p / OUTLETS_FILE for p in paths if p.is_dir() and (p / OUTLETS_FILE).is_file()]


@lru_cache(maxsize=16)
def _agency_set(extra: tuple[tuple[str, tuple[str, ...]], ...]) -> Agencies:
    return default_agencies().with_extra(dict(extra))


def resolve(clean: CleanDoc, outlets: Outlets) -> CleanDoc:
    """Set the document's outlet by the order above, and its canonical name.

    An agency's aliases name the agency (``PA`` -> ``Press Association``) unless
    the outlets file says otherwise; credits are named the same way. A document
    whose outlet (from metadata, not from its own masthead) is an agency, or
    that carries an agency's own signature or wire header, is that agency's
    copy: ``Document.agency``.
    """
    doc = clean.doc
    agencies = outlets.agency_set()
    if doc.outlet_source != "jsonl":
        explicit = outlets.explicit(doc.id, doc.url, doc.path)
        if explicit:
            doc.outlet, doc.outlet_source = explicit, "outlets file"
    if doc.outlet is None and doc.url and (host := host_of(doc.url)):
        doc.outlet, doc.outlet_source = host, "url host"
    if doc.outlet is None:
        for credit in clean.credits[:1]:
            if credit.kind == "dateline" and credit.start < 400:
                doc.outlet, doc.outlet_source = credit.outlet, "text: masthead and dateline"
    def named(name: str) -> str:
        canonical = outlets.canonical(name)
        return agencies.canonical(canonical) or canonical if canonical == name else canonical

    if doc.outlet:
        doc.outlet = named(doc.outlet)
    clean.credits = [replace(c, outlet=named(c.outlet),
                             agency=agencies.canonical(named(c.outlet)) is not None)
                     for c in clean.credits]
    if doc.outlet and not (doc.outlet_source or "").startswith("text") and agencies.canonical(doc.outlet):
        doc.agency = agencies.canonical(doc.outlet)
    else:
        own = [c.outlet for c in clean.credits if c.kind in ("signature", "wire header")]
        doc.agency = own[0] if own else None
    return clean
