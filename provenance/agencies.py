"""News agencies as knowledge: who they are, and how a text says it came from one.

Wire copy is the most common syndication there is: one agency story runs in
dozens of papers, verbatim or rewritten. Dates cannot tell the direction (a
paper's page may be dated before another paper's copy of the same wire
story), so the tool must *know* the agencies and read the lines that name
them. ``data/agencies.json`` lists them (AP, Reuters, AFP, PA, dpa, ANSA,
EFE, Kyodo, Xinhua, UPI, Bloomberg, CNA, ANP, TASS, IRNA, PAP, Iran Focus)
with their aliases and the forms that name them, in the supported languages:

- bylines: ``By Associated Press``, ``By Stephen Howard, PA News``, ``Par AFP``;
- datelines: ``WASHINGTON (AP) —``, ``BERLIN (dpa) -``;
- copyright lines: ``Copyright 2018 The Associated Press``, ``© 2019 Reuters``;
- credit lines: ``Source: Reuters``, ``(AFP)``, ``With material from dpa``;
- an agency's own signature (Reuters' ``(Reporting by ...; Editing by ...)``)
  and its own wire header (PA's ``11:29 01/03/00: Page 1 (HHH) COURTS``), which
  mark the agency's copy itself rather than a paper's.

Users add agencies in an outlets file (``{"agencies": {"Name": ["alias"]}}``).
Short upper-case aliases (``AP``, ``PA``, ``CNA``) match only as written, so
that ``pa`` or ``Ap`` in running text are never read as an agency.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from .names import outlet_key

#: Kinds of agency line, as ``Credit.kind``. ``signature`` and ``wire header``
#: are the agency's own marks: a document carrying them *is* its copy.
OWN_KINDS = ("signature", "wire header")


@dataclass(frozen=True)
class AgencyLine:
    """A line of text that names an agency: where, how, and which agency."""

    agency: str  # canonical name
    kind: str  # "byline", "dateline", "copyright", "credit", "signature", "wire header"
    start: int  # offsets in the text searched
    end: int


@dataclass(frozen=True)
class Agency:
    """One agency: its canonical name, its aliases, and its own marks."""

    name: str
    aliases: tuple[str, ...] = ()
    signatures: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()


def _alias_pattern(alias: str) -> str:
    """A regex for one alias: exact case for short acronyms, any case otherwise."""
    body = r"\s+".join(re.escape(part) for part in alias.split())
    if len(alias) <= 4 and alias.isupper():
        return rf"(?<!\w){body}(?!\w)"
    return rf"(?<!\w)(?i:{body})(?!\w)"


@dataclass
class Agencies:
    """A set of agencies, with compiled forms for finding them in lines of text."""

    agencies: tuple[Agency, ...]
    forms: Mapping[str, Sequence[str]]
    _by_key: dict[str, str] = field(init=False, repr=False)
    _forms: re.Pattern[str] = field(init=False, repr=False)  # every form, one alternative each
    _kinds: dict[str, str] = field(init=False, repr=False)  # alternative's group -> kind
    _own: list[tuple[str, str, re.Pattern[str]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key = {}
        for agency in self.agencies:
            for name in (agency.name, *agency.aliases):
                self._by_key.setdefault(outlet_key(name), agency.name)
        names = sorted({n for a in self.agencies for n in (a.name, *a.aliases)}, key=lambda n: (-len(n), n))
        aliases = "|".join(_alias_pattern(n) for n in names) if names else "(?!)"
        # One pattern for all forms (a line is matched once, not once a form); alternative i
        # is group f{i}, its agency group a{i}. Every form is anchored at the line's start.
        alternatives, self._kinds = [], {}
        for i, (kind, form) in enumerate((k, f) for k, fs in self.forms.items() for f in fs):
            alternatives.append(f"(?P<f{i}>{form.replace('{agency}', f'(?P<a{i}>{aliases})')})")
            self._kinds[f"f{i}"] = kind
        self._forms = re.compile("|".join(alternatives) or "(?!)")
        self._own = [(a.name, kind, re.compile(p)) for a in self.agencies
                     for kind, patterns in (("signature", a.signatures), ("wire header", a.headers))
                     for p in patterns]

    def canonical(self, name: str | None) -> str | None:
        """The agency a name stands for (``AP`` -> ``Associated Press``), or None."""
        return self._by_key.get(outlet_key(name)) if name else None

    def with_extra(self, extra: Mapping[str, Iterable[str]]) -> Agencies:
        """These agencies plus a user's (``{"Name": ["alias", ...]}``, an outlets file's ``agencies``)."""
        if not extra:
            return self
        known = {a.name: a for a in self.agencies}
        for name, aliases in sorted(extra.items()):
            old = known.get(name, Agency(name))
            known[name] = Agency(name, tuple(dict.fromkeys([*old.aliases, *aliases])), old.signatures,
                                 old.headers)
        return Agencies(tuple(known.values()), self.forms)

    def find(self, text: str, limit: int = 300) -> list[AgencyLine]:
        """Every line of ``text`` (up to ``limit`` characters long) that names an agency, in order.

        Example:
            >>> [(x.agency, x.kind) for x in default_agencies().find("WASHINGTON (AP) — The Senate voted")]
            [('Associated Press', 'dateline')]
        """
        found: list[AgencyLine] = []
        pos = 0
        for raw in text.splitlines(keepends=True):
            line = raw.rstrip("\r\n")
            if line.strip() and len(line) <= limit:
                hit = self._match_line(line)
                if hit is not None:
                    found.append(AgencyLine(hit[0], hit[1], pos, pos + len(line)))
            pos += len(raw)
        return found

    def _match_line(self, line: str) -> tuple[str, str] | None:
        # every form is anchored at the line's start: ``match``, never a scan of the whole line
        for name, kind, pattern in self._own:
            if pattern.match(line):
                return name, kind
        m = self._forms.match(line)
        if m and m.lastgroup:
            agency = self.canonical(m["a" + m.lastgroup[1:]])
            if agency:
                return agency, self._kinds[m.lastgroup]
        return None


def _load(data: Mapping[str, object]) -> Agencies:
    raw = data.get("agencies") or []
    assert isinstance(raw, list)
    agencies = tuple(Agency(str(a["name"]), tuple(a.get("aliases", ())), tuple(a.get("signatures", ())),
                            tuple(a.get("headers", ()))) for a in raw)
    forms = data.get("forms") or {}
    assert isinstance(forms, dict)
    return Agencies(agencies, {str(k): tuple(v) for k, v in forms.items()})


@lru_cache(maxsize=1)
def default_agencies() -> Agencies:
    """The built-in agencies (``provenance/data/agencies.json``)."""
    text = resources.files("provenance").joinpath("data/agencies.json").read_text(encoding="utf-8")
    return _load(json.loads(text))
