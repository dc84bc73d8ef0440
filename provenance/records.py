"""The records that flow between stages.

Every stage is a function over these records (``Iterable[X] -> Iterator[Y]``
or a list in, a list out), so that a distributed engine can run the stages
later without this package's driver. All offsets are character offsets into
``Document.text``: the text extracted from the source *before* cleaning, so
that removed spans, matched spans and credits share one coordinate system.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from .runtime.spill import TextField, set_slot_state, slot_state, text_length

Span = tuple[int, int]


@dataclass(frozen=True)
class Block:
    """One block of an HTML page's visible text, with the structure around it.

    Args:
        start, end: the block's offsets in ``Document.text``.
        tag: the block element's tag name (``p``, ``li``, ``h2``, ``div``...).
        context: ancestor tags, ids and classes, innermost last, lower-case,
            e.g. ``("body", "aside", "aside.related-posts", "li")``.
        link_chars: how many of the block's characters are link text.
    """

    start: int
    end: int
    tag: str
    context: tuple[str, ...]
    link_chars: int = 0


@dataclass(slots=True)
class Document:
    """A source document as read, before cleaning.

    ``text`` is the file's decoded text (plain text) or the page's visible
    text, one block a line (HTML). ``blocks`` is set for HTML only.

    Slotted (no ``__dict__``), as is ``CleanDoc``: a run holds one of each per
    document, a million for a file of a million records.
    """

    id: str
    path: str
    text: str  # in memory, or spilled to disk: see ``TextField`` below the class
    kind: str  # "text" or "html"
    blocks: tuple[Block, ...] | None = None
    title: str | None = None
    outlet: str | None = None
    outlet_source: str | None = None  # "jsonl", "og:site_name", "json-ld", "warc", ...
    url: str | None = None
    date: str | None = None  # ISO publication date, YYYY-MM-DD
    date_source: str | None = None
    crawl_date: str | None = None  # when it was fetched (WARC-Date): never a publication date
    author: str | None = None  # the byline's name, from metadata or the text
    agency: str | None = None  # the news agency whose own copy this is (``outlets.resolve``)

    def __getstate__(self) -> tuple[object, ...]:
        return slot_state(self)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        set_slot_state(self, state)


@dataclass(frozen=True)
class Removal:
    """A span cut from ``Document.text`` and why."""

    start: int
    end: int
    reason: str


@dataclass(frozen=True)
class Credit:
    """An outlet that the text names as its source (dateline or credit line)."""

    outlet: str
    start: int
    end: int
    kind: str  # "dateline", "credit"; for agencies also "byline", "copyright", "signature", "wire header"
    line: str
    agency: bool = False  # the outlet named is a news agency (``provenance.agencies``)


@dataclass(slots=True)
class CleanDoc:
    """A document after boilerplate removal.

    ``kept`` lists the spans of ``doc.text`` that survive, in order; the
    cleaned text is their concatenation, so ``removed`` plus ``kept``
    rebuild ``doc.text`` exactly.
    """

    doc: Document
    kept: list[Span]
    removed: list[Removal]
    text: str  # see ``TextField`` below the class
    credits: list[Credit] = field(default_factory=list)

    def __getstate__(self) -> tuple[object, ...]:
        return slot_state(self)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        set_slot_state(self, state)

    def to_original(self, pos: int) -> int:
        """Map an offset in the cleaned text to an offset in ``doc.text``."""
        consumed = 0
        for start, end in self.kept:
            length = end - start
            if pos < consumed + length or (pos == consumed + length and end == self.kept[-1][1]):
                return start + (pos - consumed)
            consumed += length
        return text_length(self.doc) if not self.kept else self.kept[-1][1]

    def span_to_original(self, start: int, end: int) -> Span:
        """Map a half-open span of the cleaned text to ``doc.text`` offsets."""
        kept = self.kept
        if len(kept) == 1 and start < end <= kept[0][1] - kept[0][0]:  # (most documents: one piece)
            return (kept[0][0] + start, kept[0][0] + end)
        if end <= start:
            p = self.to_original(start)
            return (p, p)
        return (self.to_original(start), self.to_original(end - 1) + 1)


# ``text`` reads through a ``TextField``, so that it may live on disk (``spill``). Set after
# ``@dataclass`` has made the classes, where the field is still an ordinary required one; the
# field wraps the slot's own descriptor, so the value stays in the slot.
TextField.install(Document, "text")
TextField.install(CleanDoc, "text")


@dataclass(frozen=True)
class Skipped:
    """A source that was not read, and the one-line reason."""

    path: str
    reason: str


@dataclass(frozen=True)
class Passage:
    """A unit of text matched across documents: a paragraph or a window of one."""

    doc_index: int
    number: int
    start: int  # offsets in the cleaned text
    end: int
    text: str
    first: int = 0  # word positions [first, last) in the document's words
    last: int = 0


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence about the direction of copying."""

    kind: str  # "credit", "dateline", "date", "containment", "boilerplate", "none"
    favours: str | None  # document id it points to as the origin, or None
    detail: str
    weight: float


@dataclass
class DocPair:
    """A verified near-duplicate pair of documents (indices into the corpus)."""

    a: int
    b: int
    similarity: float
    a_span: Span
    b_span: Span


@dataclass(kw_only=True)
class Attribution:
    """Who a finding comes from: what a passage match, a group of copies, a passage family and a
    rewrite each carry (``lineage`` and ``families`` fill it in).

    ``origin_outlet`` names the origin's outlet; ``common_source`` a source none of the
    documents is (a wire agency all took it from), or ``"unnamed"``; ``confidence`` is
    0-1, from ``evidence``.
    """

    origin_outlet: str | None = None
    evidence: list[Evidence] = field(default_factory=list)
    confidence: float = 0.0
    common_source: str | None = None


@dataclass
class PassageMatch(Attribution):
    """Text shared by two documents that are otherwise different."""

    a: int
    b: int
    a_span: Span  # offsets in each Document.text
    b_span: Span
    similarity: float
    origin: str | None = None  # "a", "b" or None
    family: int | None = None  # its passage family's number in ``Report.families`` (``families``)


@dataclass
class Group(Attribution):
    """Near-duplicate documents, joined by verified pairs only."""

    members: list[int]
    pairs: list[DocPair]
    origin: int | None = None


@dataclass(frozen=True)
class SentencePair:
    """A sentence of one document aligned with the sentence of the other it was written from."""

    a_span: Span  # offsets in each Document.text
    b_span: Span
    share: float  # share of the copy's sentence's shingles found in the other text
    quoted: bool  # the copy's sentence is mostly quoted speech (weak evidence)


@dataclass
class Derivation(Attribution):
    """A document written from another (a rewrite, a cut, an excerpt): reuse beyond verbatim copies.

    ``a_in_b`` is the share of ``a``'s reuse fingerprints (a fixed half of its
    3-word shingles) found in ``b`` (quoted speech weighed down), ``b_in_a`` the
    reverse; ``score`` is the copy's
    share (the side that is not the origin), and ``verdict`` is ``wholly``,
    ``partially`` or ``none`` (see ``provenance.derive``).
    """

    a: int
    b: int
    a_in_b: float
    b_in_a: float
    sentences: list[SentencePair]
    score: float = 0.0
    verdict: str = "none"
    origin: str | None = None  # "a", "b" or None


#: ``Derivation``'s fields in the order of ``derivation_rows``.
_DERIVATION_FIELDS = tuple(f.name for f in fields(Derivation))


def derivation_rows(derivations: Sequence[Derivation]) -> list[tuple[Any, ...]]:
    """Derivations as plain tuples, their evidence and sentences too (``derivations_of`` makes
    them again): what a forked copy of the run sends back (``runtime.forked``), pickled in a
    third of the time the dataclasses take."""
    rows = []
    evidence, sentences = _DERIVATION_FIELDS.index("evidence"), _DERIVATION_FIELDS.index("sentences")
    for d in derivations:
        row = [getattr(d, name) for name in _DERIVATION_FIELDS]
        row[evidence] = [(e.kind, e.favours, e.detail, e.weight) for e in d.evidence]
        row[sentences] = sentence_rows(d.sentences)
        rows.append(tuple(row))
    return rows


def derivations_of(rows: Sequence[tuple[Any, ...]]) -> list[Derivation]:
    """``derivation_rows`` undone: equal derivations."""
    out = []
    for row in rows:
        values = dict(zip(_DERIVATION_FIELDS, row, strict=True))
        values["evidence"] = [Evidence(*e) for e in values["evidence"]]
        values["sentences"] = sentences_of(values["sentences"])
        out.append(Derivation(**values))
    return out


def sentence_rows(sentences: Sequence[SentencePair]) -> list[tuple[int, int, int, int, float, bool]]:
    """Aligned sentences as plain tuples (``sentences_of`` makes them again)."""
    return [(*p.a_span, *p.b_span, p.share, p.quoted) for p in sentences]


def sentences_of(rows: Sequence[tuple[int, int, int, int, float, bool]]) -> list[SentencePair]:
    """``sentence_rows`` undone."""
    return [SentencePair((a0, a1), (b0, b1), share, quoted) for a0, a1, b0, b1, share, quoted in rows]


@dataclass(frozen=True)
class SyndicationRow:
    """Outlet ``source``'s content republished by ``republisher``: what was taken and when.

    A row of the report's syndication table and an edge of the outlet network
    (``render.graph``), so the table and the picture agree.
    """

    source: str
    republisher: str
    documents: int = 0
    passages: int = 0
    rewrites: int = 0
    first_date: str | None = None
    last_date: str | None = None

    @property
    def weight(self) -> int:
        return self.documents + self.passages + self.rewrites

    def as_dict(self) -> dict[str, object]:
        """The row as the JSON report writes it."""
        return {"source": self.source, "republisher": self.republisher, "documents": self.documents,
                "passages": self.passages, "rewrites": self.rewrites, "first_date": self.first_date,
                "last_date": self.last_date}
