"""Passage families: every occurrence of one reused passage, its origin, and its spread.

When k documents share a paragraph, the verified passage matches are up to
k^2/2 pairs that all say one thing. An archivist asks "where did this
paragraph go, and who ran it first?": a family answers that once. It holds
each occurrence (document and span), its origin occurrence and the evidence
for it (``lineage``, weighed over every member at once, as a near-duplicate
group's origin is), and its spread (outlets, first and last date). This is
what passim calls a cluster.

Families are the connected components of the matches, over occurrences:
within one document, spans of different matches that overlap by at least
half the shorter one are one occurrence, and a document holds at most one
occurrence of a family (a paragraph repeated inside a page is one
occurrence, with a count of repeats). ``matches`` then keeps only the pairs
that add information: a spanning tree of each family, grown from its origin
(its members' matches with the origin first, then each remaining member's
match with a member already reached), so a family of k documents keeps k-1
pairs, not k^2/2.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .evidence import AuthorHomes
from .lineage import UnionFind, attribute_match, attribute_members
from .records import Attribution, CleanDoc, PassageMatch, Span

#: Two spans of one document are one occurrence when they overlap by at least this share of the shorter.
SAME_OCCURRENCE = 0.5

#: ``realign(origin, origin span, copy, copy span)``: the origin's occurrence aligned with a copy's,
#: as a match (None when they do not align well enough).
Realign = Callable[[int, Span, int, Span], PassageMatch | None]


@dataclass
class Occurrence:
    """One document's copy of a family's passage (span in ``Document.text``)."""

    doc: int
    span: Span
    repeats: int = 1  # spans of this document joined into this occurrence (a passage repeated in a page)


@dataclass
class Family(Attribution):
    """Every occurrence of one reused passage, its origin and the evidence."""

    occurrences: list[Occurrence]  # the origin first, then by date and document id
    matches: list[PassageMatch] = field(default_factory=list)  # the kept pairs (a spanning tree)
    origin: int | None = None  # the origin's document


def _overlap(a: Span, b: Span) -> bool:
    shared = min(a[1], b[1]) - max(a[0], b[0])
    return shared > 0 and shared >= SAME_OCCURRENCE * min(a[1] - a[0], b[1] - b[0])


#: One side of a match in a document: (its span, the match's number, the side: 0 for a, 1 for b).
Side = tuple[Span, int, int]


def doc_occurrences(sides: Sequence[Side]) -> list[tuple[Span, list[tuple[int, int]]]]:
    """One document's occurrences, in span order: its sides sorted, overlapping spans joined
    (``SAME_OCCURRENCE``), each occurrence with the (match, side)s it holds. Per document, so
    ``spark_families`` runs it after a shuffle keyed by document."""
    out: list[tuple[Span, list[tuple[int, int]]]] = []
    for span, k, side in sorted(sides):
        if out and _overlap(out[-1][0], span):
            last, held = out[-1]
            out[-1] = ((last[0], max(last[1], span[1])), held)
        else:
            out.append((span, []))
        out[-1][1].append((k, side))
    return out


def match_sides(matches: Sequence[PassageMatch]) -> dict[int, list[Side]]:
    """Each document's sides of the matches (``doc_occurrences``)."""
    sides: dict[int, list[Side]] = defaultdict(list)
    for k, m in enumerate(matches):
        sides[m.a].append((m.a_span, k, 0))
        sides[m.b].append((m.b_span, k, 1))
    return sides


def _occurrences(matches: Sequence[PassageMatch]) -> tuple[list[tuple[int, Span]], list[tuple[int, int]]]:
    """The occurrence nodes (document, span) and, per match, its two nodes."""
    sides = match_sides(matches)
    nodes: list[tuple[int, Span]] = []
    ends: list[list[int]] = [[-1, -1] for _ in matches]
    for doc in sorted(sides):
        for span, held in doc_occurrences(sides[doc]):
            nodes.append((doc, span))
            for k, side in held:
                ends[k][side] = len(nodes) - 1
    return nodes, [(a, b) for a, b in ends]


def first_occurrence(nodes: Sequence[tuple[int, Span]], cleaned: Sequence[CleanDoc]) -> tuple[str, Span]:
    """What orders families: the least (document id, span) of their occurrences."""
    return min((cleaned[doc].doc.id, span) for doc, span in nodes)


def build_families(matches: Sequence[PassageMatch], cleaned: Sequence[CleanDoc],
                   homes: AuthorHomes | None = None, realign: Realign | None = None,
                   ) -> tuple[list[Family], list[PassageMatch]]:
    """Families of the verified, attributed matches, and the matches worth listing.

    Candidates may pair each copy with one representative of its bucket only (not
    every two copies), so a copy may have no match with the origin the evidence
    picks; with ``realign``, such a copy's occurrence is aligned with the origin's
    (one alignment per copy), and the pair joins the tree when it aligns.

    Returns:
        The families, ordered by their first occurrence's document id and span,
        and the kept matches (each family's spanning tree from its origin). Every
        match is told its family's number (``PassageMatch.family``).
    """
    nodes, ends = _occurrences(matches)
    union = UnionFind()
    for a, b in ends:
        union.union(a, b)
    members: dict[int, list[int]] = defaultdict(list)  # root -> its nodes
    for node in range(len(nodes)):
        members[union.find(node)].append(node)
    edges: dict[int, list[int]] = defaultdict(list)  # root -> its matches
    for k, (a, _b) in enumerate(ends):
        edges[union.find(a)].append(k)
    built = []
    for root in sorted(members, key=lambda r: first_occurrence([nodes[x] for x in members[r]], cleaned)):
        mine = [matches[k] for k in edges[root]]
        built.append((family_of([nodes[x] for x in members[root]], mine, cleaned, homes, realign), mine))
    return number_families(built)


def number_families(built: Sequence[tuple[Family, Sequence[PassageMatch]]]
                    ) -> tuple[list[Family], list[PassageMatch]]:
    """The families in the order given, each match of each (its own and its tree's) told its
    family's number; and the kept matches, every family's tree in turn."""
    families: list[Family] = []
    kept: list[PassageMatch] = []
    for family, mine in built:
        for m in [*mine, *family.matches]:
            m.family = len(families)
        kept.extend(family.matches)
        families.append(family)
    return families, kept


def family_of(nodes: Sequence[tuple[int, Span]], mine: list[PassageMatch], cleaned: Sequence[CleanDoc],
              homes: AuthorHomes | None = None, realign: Realign | None = None) -> Family:
    """One family from its occurrence nodes (document, span; in document then span order) and
    its matches: occurrences one per document, attributed, and a spanning tree of the matches
    (copies without a match with the origin realigned with it, given ``realign``). Unnumbered:
    ``number_families`` numbers the families once they are in order. Needs ``cleaned`` only
    at the family's documents."""
    by_doc: dict[int, Occurrence] = {}
    for doc, span in sorted(nodes, key=lambda x: x[1]):
        if doc in by_doc:
            by_doc[doc].repeats += 1  # one passage twice in one page: one occurrence
        else:
            by_doc[doc] = Occurrence(doc, span)
    occurrences = sorted(by_doc.values(), key=lambda o: cleaned[o.doc].doc.id)
    family = Family(occurrences)
    verdict = attribute_members([o.doc for o in occurrences], cleaned, homes,
                                {o.doc: o.span for o in occurrences})
    family.origin, family.confidence = verdict.origin, verdict.confidence
    family.evidence = verdict.evidence
    family.occurrences.sort(key=lambda o: (o.doc != family.origin, cleaned[o.doc].doc.date or "9999",
                                           cleaned[o.doc].doc.id))
    family.origin_outlet, family.common_source = verdict.origin_outlet, verdict.common_source
    if realign is not None and family.origin is not None:
        mine = mine + _to_origin(mine, family, realign, cleaned, homes)
    family.matches = _tree(mine, family, cleaned)
    return family


def _to_origin(matches: list[PassageMatch], family: Family, realign: Realign, cleaned: Sequence[CleanDoc],
               homes: AuthorHomes | None) -> list[PassageMatch]:
    """Matches of the origin with each copy that has none yet, aligned afresh and attributed."""
    origin = family.origin
    assert origin is not None
    direct = {m.b if m.a == origin else m.a for m in matches if origin in (m.a, m.b)}
    at = next(o for o in family.occurrences if o.doc == origin)
    out = []
    for o in family.occurrences:
        if o.doc == origin or o.doc in direct:
            continue
        found = realign(origin, at.span, o.doc, o.span)
        if found is not None:
            out.append(attribute_match(found, cleaned, homes))
    return out


def _tree(matches: list[PassageMatch], family: Family, cleaned: Sequence[CleanDoc]) -> list[PassageMatch]:
    """A spanning tree of the family's matches, breadth first from its origin (else from its
    earliest-dated, then first, document), neighbours in id order: deterministic."""
    start = family.origin
    if start is None:
        start = min((o.doc for o in family.occurrences),
                    key=lambda d: (cleaned[d].doc.date or "9999", cleaned[d].doc.id))
    around: dict[int, list[PassageMatch]] = defaultdict(list)
    for m in matches:
        around[m.a].append(m)
        around[m.b].append(m)
    for doc in around:
        around[doc].sort(key=lambda m: (cleaned[m.b if m.a == doc else m.a].doc.id, -m.similarity,
                                        m.a_span, m.b_span))
    reached, queue, tree = {start}, deque([start]), []
    while queue:
        doc = queue.popleft()
        for m in around[doc]:
            other = m.b if m.a == doc else m.a
            if other not in reached:
                reached.add(other)
                queue.append(other)
                tree.append(m)
    return tree
