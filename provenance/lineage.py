"""Provenance: group copies, decide who copied whom, and say why.

Groups are the connected components of *verified* near-duplicate pairs, so
an LSH false positive can never chain unrelated documents together.

Direction is decided by weighing evidence (``evidence``: agency copies, credits,
datelines, bylines, dates, furniture, crawl dates), never by file order or id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .evidence import (
    AuthorHomes,
    Tally,
    agency_evidence,
    boilerplate_evidence,
    byline_evidence,
    common_source,
    containment_evidence,
    crawl_evidence,
    credit_evidence,
    date_evidence,
    decide,
    near_credit,
    weak_evidence,
    wire_credits,
)
from .names import outlet_key
from .records import CleanDoc, Derivation, DocPair, Evidence, Group, PassageMatch
from .runtime.spill import text_length


class UnionFind:
    """Union-find over integers (documents, occurrences): path halving, the smaller root wins."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def build_groups(pairs: Sequence[DocPair]) -> list[Group]:
    """Connected components of verified pairs, members sorted, groups in a stable order."""
    uf = UnionFind()
    for p in pairs:
        uf.union(p.a, p.b)
    members: dict[int, list[int]] = defaultdict(list)
    for x in sorted(uf.parent):
        members[uf.find(x)].append(x)
    by_root: dict[int, list[DocPair]] = defaultdict(list)
    for p in pairs:
        by_root[uf.find(p.a)].append(p)
    return [Group(members=m, pairs=sorted(by_root[root], key=lambda p: (p.a, p.b)))
            for root, m in sorted(members.items(), key=lambda kv: kv[1][0])]


def attribute_group(group: Group, cleaned: Sequence[CleanDoc], homes: AuthorHomes | None = None) -> Group:
    """Decide a group's origin and keep every piece of evidence."""
    tally = Tally([], {})
    agency_evidence(tally, cleaned, group.members)
    external = credit_evidence(tally, cleaned, group.members)
    byline_evidence(tally, cleaned, group.members, homes)
    wire = wire_credits(cleaned, group.members)

    def weak(t: Tally) -> None:
        date_evidence(t, cleaned, group.members)
        containment_evidence(t, cleaned, group.pairs)
        boilerplate_evidence(t, cleaned, group)
        if not t.scores and not tally.scores:
            crawl_evidence(t, cleaned, group.members)

    weak_evidence(tally, cleaned, group.members, wire, weak)
    origin, confidence = decide(tally)
    group.origin, group.confidence = origin, confidence
    if origin is not None:
        group.origin_outlet = cleaned[origin].doc.outlet or cleaned[origin].doc.agency
    else:
        group.common_source = common_source(tally, cleaned, group.members, external, wire)
        if group.common_source and group.common_source != "unnamed":
            group.origin_outlet = group.common_source
    group.evidence = tally.evidence or [
        Evidence("none", None, "no credit, date or containment decides", 0.0)]
    return group


@dataclass
class Verdict:
    """Which of the documents that share text is the origin, and why."""

    origin: int | None
    confidence: float
    evidence: list[Evidence]
    origin_outlet: str | None
    common_source: str | None


def attribute_members(members: Sequence[int], cleaned: Sequence[CleanDoc], homes: AuthorHomes | None,
                      spans: dict[int, tuple[int, int]] | None) -> Verdict:
    """The evidence about documents that share text, weighed (``spans``: each one's copy of a
    shared passage, so that only credits near it count): two sides of a match, or a passage family."""
    tally = Tally([], {})
    members = list(members)
    external: dict[str, set[int]] = {}
    wire: dict[str, set[int]] = {}
    if any([_may_speak(cleaned[m]) for m in members]):
        agency_evidence(tally, cleaned, members)
        external = credit_evidence(tally, cleaned, members, spans)
        byline_evidence(tally, cleaned, members, homes)
        wire = wire_credits(cleaned, members, spans)
    # else (most pairs of a large corpus) no agency copy, credit or byline among them: each of
    # those four finds nothing; dates alone speak

    def weak(t: Tally) -> None:
        date_evidence(t, cleaned, members)
        if not t.scores and not tally.scores:
            crawl_evidence(t, cleaned, members)

    weak_evidence(tally, cleaned, members, wire, weak)
    origin, confidence = decide(tally)
    outlet, common = None, None
    if origin is not None:
        named = [o for o, namers in external.items() if origin not in namers]
        outlet = cleaned[origin].doc.outlet or cleaned[origin].doc.agency or (named[0] if named else None)
    else:
        common = common_source(tally, cleaned, members, external, wire)
    evidence = tally.evidence or [Evidence("none", None, "no credit or date decides", 0.0)]
    return Verdict(origin, confidence, evidence, outlet, common)


def _may_speak(clean: CleanDoc) -> bool:
    """The document is an agency's copy, or names an outlet, or carries a byline: what the
    evidence before dates reads (``agency_evidence``, ``credit_evidence``, ``byline_evidence``,
    ``wire_credits``; each finds nothing among documents of which none does)."""
    return bool(clean.doc.agency or clean.credits or clean.doc.author)


def attribute_match(match: PassageMatch, cleaned: Sequence[CleanDoc],
                    homes: AuthorHomes | None = None) -> PassageMatch:
    """Decide which side of a shared passage is the origin, with evidence."""
    v = attribute_members([match.a, match.b], cleaned, homes, {match.a: match.a_span, match.b: match.b_span})
    match.confidence, match.evidence = v.confidence, v.evidence
    match.origin = None if v.origin is None else "a" if v.origin == match.a else "b"
    match.origin_outlet, match.common_source = v.origin_outlet, v.common_source
    return match


def attribute_derivation(d: Derivation, cleaned: Sequence[CleanDoc],
                         homes: AuthorHomes | None = None) -> Derivation:
    """Decide which of two documents the other was written from, with evidence.

    The same evidence as for copies (an agency's own copy first, then credits,
    bylines, dates unless a wire credit mutes them), over the whole texts.
    """
    v = attribute_members([d.a, d.b], cleaned, homes, None)
    d.confidence, d.evidence = v.confidence, v.evidence
    d.origin = None if v.origin is None else "a" if v.origin == d.a else "b"
    d.origin_outlet, d.common_source = v.origin_outlet, v.common_source
    if d.common_source and d.common_source != "unnamed":
        d.origin_outlet = d.common_source
    return d


def wire_siblings(derivations: Sequence[Derivation], groups: Sequence[Group],
                  cleaned: Sequence[CleanDoc]) -> None:
    """Two papers that were both written from one agency copy here are not each other's origin.

    Their shared text is the wire's: the pair's origin becomes ``None`` and its common
    source the agency (with the agency copy named in the evidence), whatever the dates say;
    the evidence that had decided it is kept, with no weight.
    """
    wired = wire_sources(derivations, groups, cleaned)
    for d in derivations:
        unhook_wire_sibling(d, wired, cleaned)


def wire_sources(derivations: Sequence[Derivation], groups: Sequence[Group],
                 cleaned: Sequence[CleanDoc]) -> dict[int, set[int]]:
    """Each document written from agency copies here (a derivation's copy, or a group's member
    beside its origin), with those copies (``wire_siblings``)."""
    wired: dict[int, set[int]] = defaultdict(set)  # document -> agency copies it was written from
    for d in derivations:
        if d.origin is not None:
            origin, copy = (d.a, d.b) if d.origin == "a" else (d.b, d.a)
            if cleaned[origin].doc.agency:
                wired[copy].add(origin)
    for g in groups:
        if g.origin is not None and cleaned[g.origin].doc.agency:
            for m in g.members:
                if m != g.origin:
                    wired[m].add(g.origin)
    return wired


def unhook_wire_sibling(d: Derivation, wired: Mapping[int, set[int]], cleaned: Sequence[CleanDoc]) -> None:
    """``wire_siblings`` for one derivation, given ``wire_sources`` (at its two documents at least)."""
    if d.origin is None or cleaned[d.a].doc.agency or cleaned[d.b].doc.agency:
        return
    shared = wired.get(d.a, set()) & wired.get(d.b, set())
    if not shared:
        return
    wire = min(shared, key=lambda m: (cleaned[m].doc.date or "9999", cleaned[m].doc.id))
    agency = cleaned[wire].doc.agency
    note = f" (not weighed: both were written from {cleaned[wire].doc.id}, {agency}'s copy)"
    d.evidence = [Evidence(e.kind, e.favours, e.detail + note, 0.0) if e.weight > 0 else e
                  for e in d.evidence]
    d.evidence.append(Evidence("common source", cleaned[wire].doc.id,
                               f"{cleaned[d.a].doc.id} and {cleaned[d.b].doc.id} were both written"
                               f" from {cleaned[wire].doc.id}, {agency}'s copy: neither is the"
                               " other's origin", 0.0))
    d.origin, d.origin_outlet, d.common_source, d.confidence = None, agency, agency, 0.0


def collapse_matches(matches: Sequence[PassageMatch], groups: Sequence[Group],
                     cleaned: Sequence[CleanDoc]) -> list[PassageMatch]:
    """One match per passage and group: a passage that several copies hold
    is reported once, against the group's origin where there is one."""
    group_of: dict[int, int] = {}
    origin_of: dict[int, int | None] = {}
    for g, group in enumerate(groups):
        for m in group.members:
            group_of[m] = g
        origin_of[g] = group.origin
    buckets: dict[tuple[int, int], list[tuple[PassageMatch, int, tuple[int, int], int]]] = defaultdict(list)
    for match in matches:
        for me, span, other in ((match.a, match.a_span, match.b), (match.b, match.b_span, match.a)):
            if other in group_of and me not in group_of:
                buckets[(me, group_of[other])].append((match, me, span, other))
    dropped: set[int] = set()
    for (me, g), items in buckets.items():
        items.sort(key=lambda t: t[2])
        clusters: list[list[tuple[PassageMatch, int, tuple[int, int], int]]] = []
        reach = 0  # the furthest end in the last cluster (kept as it grows: a cluster may hold 100,000)
        for item in items:
            if clusters and item[2][0] < reach:
                clusters[-1].append(item)
                reach = max(reach, item[2][1])
            else:
                clusters.append([item])
                reach = item[2][1]
        for cluster in clusters:
            if len(cluster) < 2:
                continue
            credited = {outlet_key(c.outlet) for c in cleaned[me].credits
                        if any(near_credit(c, x[2]) for x in cluster)}

            def rank(x: tuple[PassageMatch, int, tuple[int, int], int],
                     origin: int | None = origin_of[g], named: set[str] = credited) -> tuple[object, ...]:
                doc = cleaned[x[3]].doc
                return (x[3] != origin, outlet_key(doc.outlet) not in named,
                        doc.date or "9999", -x[0].similarity, doc.id)
            keep = min(cluster, key=rank)
            dropped.update(id(x[0]) for x in cluster if x[0] is not keep[0])
    return [m for m in matches if id(m) not in dropped]


def keeper(group: Group, cleaned: Sequence[CleanDoc]) -> tuple[int, str]:
    """The member ``clean --dedup`` keeps, and the rule that chose it.

    The rule, in order: the origin where one is known; else the earliest
    publication date; else the longest cleaned text; ties by id.
    """
    if group.origin is not None:
        return group.origin, "origin"
    dated = [m for m in group.members if cleaned[m].doc.date]
    if dated:
        first = min(cleaned[m].doc.date or "" for m in dated)
        firsts = [m for m in dated if cleaned[m].doc.date == first]
        if len(firsts) == 1:
            return firsts[0], "earliest date"
    chosen = min(group.members, key=lambda m: (-text_length(cleaned[m]), cleaned[m].doc.id))
    return chosen, "longest"


def attributed_groups(verified: Sequence[DocPair], cleaned: Sequence[CleanDoc],
                      homes: AuthorHomes) -> tuple[list[Group], dict[int, int]]:
    """Groups of the verified copies, each with its origin and evidence, and each member's
    group: what ``scan`` and ``check`` both report of near-duplicates."""
    groups = [attribute_group(g, cleaned, homes) for g in build_groups(verified)]
    return groups, {m: g for g, group in enumerate(groups) for m in group.members}


def attributed_matches(matches: Sequence[PassageMatch], groups: Sequence[Group], cleaned: Sequence[CleanDoc],
                       homes: AuthorHomes) -> list[PassageMatch]:
    """Verified passage matches, one per passage and group (``collapse_matches``), each with
    its origin and evidence: what ``scan`` and ``check`` both report of shared passages."""
    return [attribute_match(m, cleaned, homes) for m in collapse_matches(matches, groups, cleaned)]


def dropped_copies(groups: Sequence[Group], cleaned: Sequence[CleanDoc]) -> dict[str, dict[str, object]]:
    """What ``clean --dedup`` drops: each copy that is not its group's ``keeper``, mapped to the
    copy kept, the rule that chose it, and their similarity (0-100)."""
    from rapidfuzz import fuzz

    dropped: dict[str, dict[str, object]] = {}
    for group in groups:
        kept, rule = keeper(group, cleaned)
        for m in group.members:
            if m == kept:
                continue
            pair = next((p for p in group.pairs if {p.a, p.b} == {m, kept}), None)
            similarity = (pair.similarity if pair
                          else round(fuzz.ratio(cleaned[m].text, cleaned[kept].text), 2))
            dropped[cleaned[m].doc.id] = {"kept": cleaned[kept].doc.id, "rule": rule,
                                          "similarity": similarity}
    return dropped
