"""``Report`` -> JSON and CSV (the terminal tables are ``terminal``'s).

The JSON form is the contract (documented in the README): keys may be
added, never renamed. It is canonical (sorted keys, stable ordering, no
timestamps), so the same input and parameters give byte-identical output.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import orjson

from ..derive import MAX_SENTENCES, by_source_rank, copies
from ..families import Family
from ..names import outlet_key
from ..pipeline import Report
from ..records import CleanDoc, Derivation, Evidence, SyndicationRow
from ..runtime.memory import paused
from ..runtime.spill import text_length

UNKNOWN_OUTLET = "(unknown)"


def _evidence(items: list[Evidence], origin: str | None) -> list[dict[str, Any]]:
    """Evidence with its stance towards the decided origin: for, against or neutral."""
    def stance(e: Evidence) -> str:
        if origin is None or e.favours is None or e.weight <= 0:
            return "neutral"
        return "for" if e.favours == origin else "against"
    return [{"kind": e.kind, "favours": e.favours, "detail": e.detail, "weight": e.weight,
             "stance": stance(e)} for e in items]


def _attribution(report: Report) -> dict[str, dict[str, Any]]:
    """Per document id: where its text came from, as far as the evidence says.

    In order: the best source of its rewrite (``derive.source_rank``: an agency's copy first),
    or of its group's origin when that is itself a rewrite (a group of papers that all ran
    one rewrite of the wire came from the wire); else its group's origin; else the common
    source its group or rewrite names; else, alone, the outlet its own credit names.
    """
    docs = report.cleaned
    best: dict[int, Derivation] = {}  # copy -> its best source, decided or a named common source
    for d in (report.derivations[k] for k in by_source_rank(report.derivations, docs)):
        if d.origin is None and d.common_source in (None, "unnamed"):
            continue
        for copy in copies(d):
            best.setdefault(copy, d)
    out: dict[str, dict[str, Any]] = {}

    def from_derivation(member: int, d: Derivation, group: str | None) -> None:
        origin = None if d.origin is None else docs[d.a if d.origin == "a" else d.b]
        out[docs[member].doc.id] = {
            "group": group, "origin": origin.doc.id if origin else None, "outlet": d.origin_outlet,
            "date": origin.doc.date if origin else None, "confidence": d.confidence,
            "evidence": sorted({e.kind for e in d.evidence if e.weight > 0}),
            "derivation": d.verdict, "score": d.score,
        }

    for n, g in enumerate(report.groups, start=1):
        lead = g.origin if g.origin is not None else g.members[0]
        rewrite = best.get(lead)
        if rewrite is not None and (rewrite.origin is not None or g.origin is None):
            for m in g.members:
                from_derivation(m, rewrite, f"g{n}")
        elif g.origin is not None or g.origin_outlet:
            origin = docs[g.origin] if g.origin is not None else None
            for m in g.members:
                out[docs[m].doc.id] = {
                    "group": f"g{n}", "origin": origin.doc.id if origin else None,
                    "outlet": g.origin_outlet, "date": origin.doc.date if origin else None,
                    "confidence": g.confidence,
                    "evidence": sorted({e.kind for e in g.evidence if e.weight > 0}),
                }
    for copy, d in best.items():
        if docs[copy].doc.id not in out:
            from_derivation(copy, d, None)
    for clean in docs:
        if clean.doc.id in out or not clean.credits:
            continue
        credit = clean.credits[0]
        out[clean.doc.id] = {
            "group": None, "origin": None, "outlet": credit.outlet, "date": clean.doc.date,
            "confidence": None, "evidence": [credit.kind],
            "detail": f"the text names {credit.outlet}: {credit.line!r}",
        }
    return out


def document_dict(clean: CleanDoc) -> dict[str, Any]:
    """One document's entry in the report."""
    d = clean.doc
    return {
        "id": d.id, "path": d.path, "kind": d.kind, "title": d.title,
        "outlet": d.outlet, "outlet_source": d.outlet_source, "url": d.url,
        "date": d.date, "date_source": d.date_source, "crawl_date": d.crawl_date, "author": d.author,
        "agency": d.agency,
        "chars": text_length(d), "chars_clean": text_length(clean),
        "removed": [{"start": r.start, "end": r.end, "reason": r.reason} for r in clean.removed],
        "credits": [{"outlet": c.outlet, "kind": c.kind, "line": c.line, "agency": c.agency, "start": c.start,
                     "end": c.end} for c in clean.credits],
    }


def syndication(report: Report) -> list[SyndicationRow]:
    """Rows of (source outlet, republisher outlet) with counts and the copies' dates."""
    docs = report.cleaned
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def add(source: str, copy: int, what: str) -> None:
        doc = docs[copy].doc
        republisher = doc.outlet or UNKNOWN_OUTLET
        if outlet_key(republisher) == outlet_key(source):
            return
        row = rows.get((source, republisher))
        if row is None:
            row = rows[source, republisher] = {
                "source": source, "republisher": republisher, "documents": 0, "passages": 0,
                "rewrites": 0, "first_date": None, "last_date": None}
        row[what] += 1
        date = doc.date
        if date:  # (the earliest and latest dates of the copies)
            if row["first_date"] is None or date < row["first_date"]:
                row["first_date"] = date
            if row["last_date"] is None or date > row["last_date"]:
                row["last_date"] = date

    for g in report.groups:
        if g.origin_outlet:
            for m in g.members:
                if m != g.origin:
                    add(g.origin_outlet, m, "documents")
    for family in report.families:  # a passage counts once per republisher, however many pairs
        if family.origin is not None and family.origin_outlet:
            for o in family.occurrences:
                if o.doc != family.origin:
                    add(family.origin_outlet, o.doc, "passages")
        elif family.common_source and family.common_source != "unnamed":
            for o in family.occurrences:  # all took it from a source not here (a wire agency)
                add(family.common_source, o.doc, "passages")
    families_of: dict[int, set[int]] = defaultdict(set)  # document -> the families it is in
    for n, family in enumerate(report.families):
        for o in family.occurrences:
            families_of[o.doc].add(n)
    for d in report.derivations:
        in_a, in_b = families_of.get(d.a), families_of.get(d.b)
        if in_a and in_b and not in_a.isdisjoint(in_b):
            continue  # counted as passages already: one reuse, one count
        if d.origin and d.origin_outlet:
            add(d.origin_outlet, d.b if d.origin == "a" else d.a, "rewrites")
        elif d.common_source and d.common_source != "unnamed":
            for side in (d.a, d.b):
                add(d.common_source, side, "rewrites")
    return [SyndicationRow(**rows[k]) for k in sorted(rows)]


#: The JSON report's layout. 2: ``families`` added; ``matches`` lists each family's spanning
#: tree from its origin (k-1 pairs for k documents), not every pair; each match names its family.
SCHEMA = 2


def family_dict(f: Family, family_id: str, report: Report) -> dict[str, Any]:
    """A passage family: its occurrences, origin, evidence and spread."""
    docs = report.cleaned
    origin = docs[f.origin].doc.id if f.origin is not None else None
    occurrences = [{"document": docs[o.doc].doc.id, "span": list(o.span), "outlet": docs[o.doc].doc.outlet,
                    "date": docs[o.doc].doc.date, "origin": o.doc == f.origin, "repeats": o.repeats}
                   for o in f.occurrences]
    dates = sorted(d for d in (docs[o.doc].doc.date for o in f.occurrences) if d)
    return {
        "id": family_id, "origin": origin, "origin_outlet": f.origin_outlet,
        "common_source": f.common_source, "confidence": f.confidence,
        "evidence": _evidence(f.evidence, origin), "occurrences": occurrences,
        "spread": {"documents": len(occurrences),
                   "outlets": sorted({o["outlet"] for o in occurrences if o["outlet"]}),
                   "first_date": dates[0] if dates else None, "last_date": dates[-1] if dates else None},
    }


def to_dict(report: Report) -> dict[str, Any]:
    """The report as the documented JSON structure."""
    attribution = _attribution(report)
    return {**_sections(report, attribution), "documents": list(_documents(report, attribution))}


def _documents(report: Report, attribution: dict[str, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The report's ``documents``, by id, each made as it is asked for."""
    docs = report.cleaned
    for i in sorted(range(len(docs)), key=lambda i: docs[i].doc.id):
        yield {**document_dict(docs[i]), "attribution": attribution.get(docs[i].doc.id)}


def _sections(report: Report, attribution: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every key of the report but ``documents`` (``to_dict``)."""
    ids = [c.doc.id for c in report.cleaned]
    groups = []
    for n, g in enumerate(report.groups, start=1):
        groups.append({
            "id": f"g{n}", "documents": [ids[m] for m in g.members],
            "origin": ids[g.origin] if g.origin is not None else None,
            "origin_outlet": g.origin_outlet, "confidence": g.confidence,
            "common_source": g.common_source,
            "evidence": _evidence(g.evidence, ids[g.origin] if g.origin is not None else None),
            "pairs": [{"a": ids[p.a], "b": ids[p.b], "similarity": p.similarity,
                       "a_span": list(p.a_span), "b_span": list(p.b_span)} for p in g.pairs],
        })
    families = [family_dict(f, f"f{n}", report) for n, f in enumerate(report.families, start=1)]
    matches = []
    for m in sorted(report.matches, key=lambda m: (ids[m.a], ids[m.b], m.a_span)):
        matches.append({
            "family": None if m.family is None else f"f{m.family + 1}",
            "a": ids[m.a], "b": ids[m.b], "a_span": list(m.a_span), "b_span": list(m.b_span),
            "similarity": m.similarity, "origin": m.origin, "origin_outlet": m.origin_outlet,
            "confidence": m.confidence, "common_source": m.common_source,
            "evidence": _evidence(m.evidence, ids[m.a] if m.origin == "a" else
                                  ids[m.b] if m.origin == "b" else None),
        })
    derivations = []
    for d in sorted(report.derivations, key=lambda d: (ids[d.a], ids[d.b])):
        derivations.append({
            "a": ids[d.a], "b": ids[d.b], "verdict": d.verdict, "score": d.score,
            "a_in_b": d.a_in_b, "b_in_a": d.b_in_a, "origin": d.origin, "origin_outlet": d.origin_outlet,
            "confidence": d.confidence, "common_source": d.common_source,
            "evidence": _evidence(d.evidence, ids[d.a] if d.origin == "a" else
                                  ids[d.b] if d.origin == "b" else None),
            "sentences": [{"a_span": list(p.a_span), "b_span": list(p.b_span), "share": p.share,
                           "quoted": p.quoted} for p in d.sentences[:MAX_SENTENCES]],
            "sentences_aligned": len(d.sentences),
        })
    return {
        "schema": SCHEMA,
        "version": report.version,
        "params": report.params,
        "groups": groups,
        "matches": matches,
        "families": families,
        "derivations": derivations,
        "syndication": [row.as_dict() for row in syndication(report)],
        "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
    }


def canonical_json(data: Any) -> str:
    """Sorted keys, two-space indent, UTF-8 text, a final newline: the same bytes for the same data.

    orjson writes this about ten times faster than ``json.dumps(indent=2)``
    (a crawl's report runs to hundreds of megabytes); text that orjson
    refuses (a lone surrogate) goes through the json module instead.
    """
    try:
        return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode("utf-8") + "\n"
    except TypeError:
        return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


@paused()
def to_json(report: Report) -> str:
    """Canonical JSON of a report (``canonical_json``)."""
    return canonical_json(to_dict(report))


_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
#: Bytes gathered before a piece of the streamed report is handed on (``to_json_chunks``).
PIECE_BYTES = 1 << 20


def _piece(value: Any, depth: int) -> bytes:
    """``value`` as ``canonical_json`` writes it (no final newline), nested ``depth`` levels deep."""
    if not depth:
        return _dumps(value)
    # nested in lists ``depth`` deep, then cut out: the encoder indents it (a pass of
    # ``bytes.replace`` over each piece cost a fifth of the report's encoding)
    for _ in range(depth):
        value = [value]
    body = _dumps(value)
    return body[4 * depth + depth * (depth - 1):-(depth * (depth + 1))]


def _member(key: str, value: Any) -> bytes:
    """``"key": value``, as a member of the report's top object (``value`` one level deep)."""
    return _dumps({key: value})[2:-2]  # b'{\n' ... b'\n}' cut off


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError:  # text orjson refuses (a lone surrogate): the json module, as canonical_json
        return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False).encode("utf-8")


def to_json_chunks(report: Report) -> Iterator[bytes]:
    """``to_json``'s bytes as UTF-8 pieces to write one after the other, made as they are written.

    A report of a million documents runs to hundreds of megabytes, and its
    ``documents`` as dicts to more: each document's entry is made, written out
    and dropped in turn, so neither the dicts nor the text of the whole are
    ever held. The bytes are ``to_json``'s (``tests``: the same for any report).
    """
    with paused():  # while the pieces are made (a generator: ``@paused()`` would end at its start)
        attribution = _attribution(report)
        sections = _sections(report, attribution)
        keys = sorted([*sections, "documents"])
        yield b"{\n"
        for k, key in enumerate(keys):
            if key != "documents":
                yield _member(key, sections.pop(key))
            else:
                yield b"  " + _piece(key, 0) + b": "
                yield from _document_pieces(report, attribution)
            yield b",\n" if k < len(keys) - 1 else b"\n"
        yield b"}\n"


def _document_pieces(report: Report, attribution: dict[str, dict[str, Any]]) -> Iterator[bytes]:
    if not report.cleaned:
        yield b"[]"
        return
    out = bytearray(b"[\n")
    for n, entry in enumerate(_documents(report, attribution)):
        out += b",\n    " if n else b"    "
        out += _piece(entry, 2)
        if len(out) >= PIECE_BYTES:
            yield bytes(out)
            out.clear()
    out += b"\n  ]"
    yield bytes(out)


CSV_COLUMNS = ["finding", "id", "document", "outlet", "date", "other", "other_outlet",
               "similarity", "span", "other_span", "origin", "confidence", "evidence"]


@paused()
def to_csv(report: Report) -> str:
    """One row per group member, passage match, family occurrence, rewrite, syndication row
    and skipped file."""
    data = to_dict(report)
    docs = {d["id"]: d for d in data["documents"]}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()

    def ev(items: list[dict[str, Any]]) -> str:
        return " | ".join(f"{e['kind']}: {e['detail']}" for e in items)

    for g in data["groups"]:
        for member in g["documents"]:
            pair = next((p for p in g["pairs"] if member in (p["a"], p["b"]) and
                         g["origin"] in (p["a"], p["b"]) and member != g["origin"]), None)
            writer.writerow({
                "finding": "group", "id": g["id"], "document": member,
                "outlet": docs[member]["outlet"], "date": docs[member]["date"],
                "other": g["origin"], "other_outlet": g["origin_outlet"],
                "similarity": pair["similarity"] if pair else "",
                "origin": "yes" if member == g["origin"] else ("unknown" if g["origin"] is None else "no"),
                "confidence": g["confidence"], "evidence": ev(g["evidence"]),
            })
    for n, m in enumerate(data["matches"], start=1):
        writer.writerow({
            "finding": "passage", "id": f"m{n}", "document": m["a"], "outlet": docs[m["a"]]["outlet"],
            "date": docs[m["a"]]["date"], "other": m["b"], "other_outlet": docs[m["b"]]["outlet"],
            "similarity": m["similarity"], "span": f"{m['a_span'][0]}-{m['a_span'][1]}",
            "other_span": f"{m['b_span'][0]}-{m['b_span'][1]}", "origin": m["origin"] or "unknown",
            "confidence": m["confidence"], "evidence": ev(m["evidence"]),
        })
    for f in data["families"]:
        for o in f["occurrences"]:
            writer.writerow({
                "finding": "family", "id": f["id"], "document": o["document"], "outlet": o["outlet"],
                "date": o["date"], "other": f["origin"], "other_outlet": f["origin_outlet"],
                "span": f"{o['span'][0]}-{o['span'][1]}",
                "origin": "yes" if o["origin"] else ("unknown" if f["origin"] is None else "no"),
                "confidence": f["confidence"], "evidence": ev(f["evidence"]),
            })
    for n, d in enumerate(data["derivations"], start=1):
        copy, source = (d["b"], d["a"]) if d["origin"] == "a" else (d["a"], d["b"])
        writer.writerow({
            "finding": f"rewrite ({d['verdict']})", "id": f"d{n}", "document": copy,
            "outlet": docs[copy]["outlet"], "date": docs[copy]["date"], "other": source,
            "other_outlet": docs[source]["outlet"], "similarity": round(100 * d["score"], 2),
            "origin": "other" if d["origin"] else "unknown", "confidence": d["confidence"],
            "evidence": ev(d["evidence"]),
        })
    for row in data["syndication"]:
        writer.writerow({
            "finding": "syndication", "outlet": row["source"], "other_outlet": row["republisher"],
            "date": row["first_date"], "evidence": f"{row['documents']} documents,"
            f" {row['passages']} passages, {row['rewrites']} rewrites, last {row['last_date']}",
        })
    for s in data["skipped"]:
        writer.writerow({"finding": "skipped", "document": s["path"], "evidence": s["reason"]})
    return out.getvalue()
