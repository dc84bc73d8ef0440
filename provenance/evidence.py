"""The evidence about documents that share text, and how it is weighed.

Direction is decided by weighing evidence, never by file order or id:

====================  ======  =============================================
evidence              weight  meaning
====================  ======  =============================================
agency copy           4       the document is a news agency's own copy (its
                              outlet is the agency, or it carries the
                              agency's signature or wire header): wire copy
                              is the source of what papers print from it
credit / dateline     3       a copy names the outlet of another document
                              ("Source: Iran Focus", "Iran Focus / London,
                              19 Dec -"); 2 when that outlet has no document
                              here but the credit sits beside the shared text
byline                2       a copy carries the byline of an author who
                              writes for another document's outlet
date                  2       one document was published strictly first
                              (publication dates only; crawl dates are not)
boilerplate           0.5     a plain-text copy holds the same text plus
                              furniture of its own (a repost's blog chrome);
                              it supports, but can never decide alone
crawl date            1       fetched strictly first; used only when
                              nothing else speaks
====================  ======  =============================================

When a copy credits a news agency that has no copy here (``WASHINGTON (AP)
—``, ``By Reuters``), dates, containment and furniture are not weighed: the
papers took the story from the wire, so a paper dated a day earlier is not
the origin of another's copy. Only a credit or byline naming a document here
can then decide; otherwise the origin is ``None`` and ``common_source`` names
the agency.

The origin is the document with the highest total when it leads every other
by at least 1; otherwise the origin is ``None`` ("unknown"), with the
evidence that was found. ``confidence`` is the winner's share of all
weight, damped for thin evidence: ``top / (total + 1)``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .names import outlet_key
from .records import CleanDoc, Credit, DocPair, Document, Evidence, Group
from .runtime.spill import text_length

#: How close (in characters) a credit line must be to a shared passage to speak for it.
CREDIT_REACH = 400


@dataclass
class Tally:
    evidence: list[Evidence]
    scores: dict[int, float]

    def add(self, ev: Evidence, who: int | None) -> None:
        self.evidence.append(ev)
        if who is not None and ev.weight > 0:
            self.scores[who] = self.scores.get(who, 0.0) + ev.weight


def decide(tally: Tally) -> tuple[int | None, float]:
    if not tally.scores:
        return None, 0.0
    if len(tally.scores) == 1:  # (most decisions: one date, one credit) no sort for one
        ((top_who, top),), second = tally.scores.items(), 0.0
    else:
        ranked = sorted(tally.scores.items(), key=lambda kv: -kv[1])
        (top_who, top), second = ranked[0], ranked[1][1]
    if top - second < 1.0:
        return None, 0.0
    total = sum(tally.scores.values())
    return top_who, round(top / (total + 1.0), 2)


def date_evidence(tally: Tally, cleaned: Sequence[CleanDoc], members: Sequence[int]) -> None:
    if len(members) < 2:
        return
    docs = {m: cleaned[m].doc for m in members}  # (a rewrite's pair is weighed for each candidate)
    dated = sorted([(doc.date, m) for m, doc in docs.items() if doc.date])
    if len(dated) < 2:
        return
    first_date = dated[0][0]
    if dated[1][0] != first_date:  # one member is the earliest
        m = dated[0][1]
        first = docs[m]
        others = ", ".join([f"{docs[o].id} {d}" for d, o in dated[1:]])
        detail = f"{first.id} was published {first_date} ({first.date_source}), before {others}"
        if len(dated) < len(docs):
            detail += f"; undated: {', '.join(docs[u].id for u in members if not docs[u].date)}"
        tally.add(Evidence("date", first.id, detail, 2.0), m)
    else:
        ids = ", ".join(docs[m].id for d, m in dated if d == first_date)
        tally.add(Evidence("date", None, f"{ids} share the earliest date {first_date}", 0.0), None)


def crawl_evidence(tally: Tally, cleaned: Sequence[CleanDoc], members: Sequence[int]) -> None:
    crawled = sorted((cleaned[m].doc.crawl_date or "", m) for m in members if cleaned[m].doc.crawl_date)
    if len(crawled) >= 2 and crawled[0][0] < crawled[1][0]:
        d, m = crawled[0]
        tally.add(Evidence("crawl date", cleaned[m].doc.id,
                           f"{cleaned[m].doc.id} was fetched first ({d}); a crawl date says when"
                           " a page was fetched, not written", 1.0), m)


def outlet_by_metadata(doc: Document) -> bool:
    """The outlet was named by metadata, not read from the text's own masthead (which a copy keeps)."""
    return not (doc.outlet_source or "").startswith("text")


def _publishers(cleaned: Sequence[CleanDoc], members: Sequence[int]) -> dict[str, list[int]]:
    """Outlet key -> the members it published (by metadata, not by their own text) or that are
    its own copy (an agency's), earliest first (date, then id): built once per decision, so a
    family of thousands of documents is not scanned again for each credit."""
    out: dict[str, list[int]] = defaultdict(list)
    for m in members:
        doc = cleaned[m].doc
        keys = {outlet_key(doc.outlet) if outlet_by_metadata(doc) else "", outlet_key(doc.agency)}
        for key in keys - {""}:
            out[key].append(m)
    for found in out.values():
        found.sort(key=lambda m: (cleaned[m].doc.date or "9999", cleaned[m].doc.id))
    return out


def _publisher_of(outlet: str, publishers: dict[str, list[int]], exclude: int) -> int | None:
    """The earliest member published by ``outlet``, or that is its own copy, other than ``exclude``."""
    return next((m for m in publishers.get(outlet_key(outlet), ()) if m != exclude), None)


def credit_evidence(tally: Tally, cleaned: Sequence[CleanDoc], members: Sequence[int],
                     spans: dict[int, tuple[int, int]] | None = None) -> dict[str, set[int]]:
    """Credits and datelines; returns, per outlet not found here, who names it.

    With ``spans`` (passages), only a credit within ``CREDIT_REACH`` of the
    shared text speaks, and a credit naming an outlet that the other side is
    not known to be still points to the other side (weight 2).
    """
    external: dict[str, set[int]] = defaultdict(set)
    names: dict[str, str] = {}
    if not any(cleaned[m].credits for m in members):
        return {}  # (most pairs of a large corpus: a rewrite's pair is measured for each candidate)
    publishers = _publishers(cleaned, members)
    for m in members:
        clean = cleaned[m]
        for credit in clean.credits:
            if spans is not None and not near_credit(credit, spans[m]):
                continue
            own = _own_credit(credit, clean.doc)
            target = None if own else _publisher_of(credit.outlet, publishers, exclude=m)
            if target is not None:
                tally.add(Evidence(credit.kind, cleaned[target].doc.id,
                                   f"{clean.doc.id} names {credit.outlet} ({credit.line!r}), the outlet"
                                   f" of {cleaned[target].doc.id}", 3.0), target)
            elif own and outlet_by_metadata(clean.doc):
                tally.add(Evidence(credit.kind, clean.doc.id,
                                   f"{clean.doc.id} names its own outlet ({credit.line!r})", 1.0), m)
            elif spans is not None and len(members) == 2 and not own and not credit.agency:
                # (a wire credit beside the text says both sides took it from the agency: below)
                other = members[1] if members[0] == m else members[0]
                tally.add(Evidence(credit.kind, cleaned[other].doc.id,
                                   f"{clean.doc.id} names {credit.outlet} ({credit.line!r}) beside the"
                                   f" text it shares with {cleaned[other].doc.id}", 2.0), other)
                external[outlet_key(credit.outlet)].add(m)
                names[outlet_key(credit.outlet)] = credit.outlet
            else:
                tally.add(Evidence(credit.kind, None,
                                   f"{clean.doc.id} names {credit.outlet} ({credit.line!r}), which has"
                                   " no document among these", 0.0), None)
                external[outlet_key(credit.outlet)].add(m)
                names[outlet_key(credit.outlet)] = credit.outlet
    return {names[k]: v for k, v in external.items()}


def containment_evidence(tally: Tally, cleaned: Sequence[CleanDoc], pairs: Sequence[DocPair]) -> None:
    """A copy that holds only part of the other's text (trimmed, excerpted) points to the fuller one."""
    for p in pairs:
        la, lb = text_length(cleaned[p.a]), text_length(cleaned[p.b])
        short, long_ = (p.a, p.b) if la < lb else (p.b, p.a)
        ls, ll = min(la, lb), max(la, lb)
        matched = p.similarity / 100.0 * (la + lb) / 2.0  # Indel similarity -> matched characters
        if ll and ls < 0.9 * ll and matched >= 0.9 * ls:
            tally.add(Evidence("containment", cleaned[long_].doc.id,
                               f"{cleaned[short].doc.id} holds only part of the text of"
                               f" {cleaned[long_].doc.id} ({ls:,} of {ll:,} characters)", 1.0), long_)


def common_source(tally: Tally, cleaned: Sequence[CleanDoc], members: Sequence[int],
                   external: dict[str, set[int]], wire: dict[str, set[int]] | None = None) -> str | None:
    """When the copies most likely share a source that is not here, say so.

    An agency that one copy or more credit is that source (the one most copies
    credit, then by name); else an outlet two copies or more name; else, for
    copies of different outlets published the same day, ``unnamed``.
    """
    if wire:
        agency, namers = min(wire.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        tally.add(Evidence("common source", None,
                           f"{', '.join(sorted(cleaned[m].doc.id for m in namers))} credit {agency}, a news"
                           " agency with no copy among these documents: they took the story from it", 0.0),
                  None)
        return agency
    for outlet, namers in sorted(external.items()):
        if len(namers) >= 2:
            tally.add(Evidence("common source", None,
                               f"{', '.join(sorted(cleaned[m].doc.id for m in namers))} all name {outlet},"
                               " which has no document among these: they most likely copied it", 0.0), None)
            return outlet
    dated = {cleaned[m].doc.date for m in members}
    outlets = {outlet_key(cleaned[m].doc.outlet) for m in members if cleaned[m].doc.outlet}
    if len(dated) == 1 and None not in dated and len(outlets) >= 2 and not tally.scores:
        tally.add(Evidence("common source", None,
                           f"published the same day ({dated.pop()}) by {len(outlets)} outlets, none"
                           " crediting another: most likely the same story from a source not here",
                           0.0), None)
        return "unnamed"
    return None


#: author key -> outlet key -> documents of that outlet (by metadata) whose byline names the author
AuthorHomes = dict[str, dict[str, set[int]]]


def _author_key(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.casefold())


def author_homes(cleaned: Sequence[CleanDoc]) -> AuthorHomes:
    """Which outlets each byline's author writes for, from documents whose outlet metadata is known."""
    homes: AuthorHomes = defaultdict(lambda: defaultdict(set))
    for i, clean in enumerate(cleaned):
        doc = clean.doc
        if doc.author and doc.outlet and outlet_by_metadata(doc):
            homes[_author_key(doc.author)][outlet_key(doc.outlet)].add(i)
    return homes


def byline_evidence(tally: Tally, cleaned: Sequence[CleanDoc], members: Sequence[int],
                     homes: AuthorHomes | None) -> None:
    """A byline naming an author who writes for another outlet points to that outlet's copy."""
    if not homes or not any(cleaned[m].doc.author for m in members):
        return
    by_outlet: dict[str, list[int]] = defaultdict(list)  # outlet key -> members it published, in order
    for t in members:
        if outlet_by_metadata(cleaned[t].doc):
            by_outlet[outlet_key(cleaned[t].doc.outlet)].append(t)
    for m in members:
        doc = cleaned[m].doc
        if not doc.author:
            continue
        elsewhere = {o for o, docs in homes.get(_author_key(doc.author), {}).items() if docs - {m}}
        if len(elsewhere) != 1 or outlet_key(doc.outlet) in elsewhere:
            continue
        home = next(iter(elsewhere))
        target = next((t for t in by_outlet.get(home, ()) if t != m), None)
        if target is not None:
            tally.add(Evidence("byline", cleaned[target].doc.id,
                               f"{doc.id} carries the byline of {doc.author}, who writes for"
                               f" {cleaned[target].doc.outlet}", 2.0), target)


def agency_evidence(tally: Tally, cleaned: Sequence[CleanDoc], members: Sequence[int]) -> None:
    """An agency's own copy is the source of the copies printed from it, whatever the dates say."""
    copies = [m for m in members if cleaned[m].doc.agency]
    if not copies or len(copies) == len(members):
        return
    for m in copies:
        doc = cleaned[m].doc
        how = ("its outlet" if outlet_key(doc.outlet) == outlet_key(doc.agency)
               else "it carries the agency's " + next((c.kind for c in cleaned[m].credits
                                                       if c.kind in ("signature", "wire header")), "marks"))
        tally.add(Evidence("agency copy", doc.id, f"{doc.id} is {doc.agency}'s own copy ({how})", 4.0), m)


def wire_credits(cleaned: Sequence[CleanDoc], members: Sequence[int],
                  spans: dict[int, tuple[int, int]] | None = None) -> dict[str, set[int]]:
    """Agencies that members credit and that have no copy among them: agency -> who credits it."""
    if not any([cleaned[m].credits for m in members]):
        return {}  # (most pairs of a large corpus)
    present = {outlet_key(cleaned[m].doc.agency) for m in members if cleaned[m].doc.agency}
    out: dict[str, set[int]] = defaultdict(set)
    for m in members:
        for c in cleaned[m].credits:
            if c.agency and outlet_key(c.outlet) not in present and not _own_credit(c, cleaned[m].doc) \
                    and (spans is None or near_credit(c, spans[m])):
                out[c.outlet].add(m)
    return dict(out)


def _own_credit(credit: Credit, doc: Document) -> bool:
    """The credit names the document's own agency, or its own outlet as metadata gives it (an
    outlet read from the credit line itself says nothing of its own)."""
    key = outlet_key(credit.outlet)
    return key == outlet_key(doc.agency) or (key == outlet_key(doc.outlet) and outlet_by_metadata(doc))


def weak_evidence(tally: Tally, cleaned: Sequence[CleanDoc], members: Sequence[int],
                   wire: dict[str, set[int]], weigh: Callable[[Tally], None]) -> None:
    """Dates, containment, furniture: weighed unless copies credit an agency that is not here.

    Copies of one wire story are dated by the papers that print them; that
    one paper's page is older says nothing about who copied whom. The
    evidence is still listed, with no weight.
    """
    if not wire:
        weigh(tally)
        return
    muted = Tally([], {})
    weigh(muted)
    agencies = ", ".join(sorted(wire))
    for ev in muted.evidence:
        note = f"{ev.detail} (not weighed: the copies credit {agencies}, which has no copy among them)"
        tally.add(Evidence(ev.kind, ev.favours, note, 0.0), None)


def boilerplate_evidence(tally: Tally, cleaned: Sequence[CleanDoc], group: Group) -> None:
    """A plain-text member with stripped furniture vs one without: the bare one is nearer the source."""
    bare = [m for m in group.members if cleaned[m].doc.kind == "text" and not cleaned[m].removed]
    dressed = [m for m in group.members if cleaned[m].doc.kind == "text" and cleaned[m].removed]
    if len(bare) == 1 and dressed:
        m = bare[0]
        ids = ", ".join(cleaned[d].doc.id for d in dressed)
        tally.add(Evidence("boilerplate", cleaned[m].doc.id,
                           f"{ids} hold the same text plus page furniture of their own;"
                           f" {cleaned[m].doc.id} holds it bare", 0.5), m)


def near_credit(credit: Credit, span: tuple[int, int]) -> bool:
    return credit.end >= span[0] - CREDIT_REACH and credit.start <= span[1] + CREDIT_REACH
