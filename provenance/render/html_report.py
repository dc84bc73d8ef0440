"""One self-contained HTML file: syndication table, outlet network, passages side by side.

No external resources and no scripts: the page is static HTML with inline CSS
and an inline SVG drawing of the network. Every scraped string (ids, outlets,
text, evidence) goes through ``html.escape``, so a ``<script>`` in a scraped
page is shown as text and never runs.
"""

from __future__ import annotations

import html
import math
from itertools import pairwise
from typing import Any

from ..pipeline import Report
from ..records import CleanDoc
from ..verify import shared_blocks
from .graph import Edge, nodes_of
from .report import syndication, to_dict
from .safe_text import no_bidi


def escape(text: str, quote: bool = True) -> str:
    """``html.escape``, with bidirectional controls shown as ``\\u202e`` (a right-to-left
    override in a scraped name must not turn the page's text around)."""
    return html.escape(no_bidi(text), quote)


#: Characters of context shown on each side of a matched passage.
CONTEXT = 300
#: Longest stretch of a near-duplicate pair shown side by side.
MAX_PAIR_CHARS = 2500
#: Longest stretch of each side of a rewritten copy shown (from its first aligned sentence).
MAX_REWRITE_CHARS = 6000

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:1200px;padding:0 1rem;color:#1d1d1f;line-height:1.45}
h1{margin-bottom:.2rem} h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0} th,td{border:1px solid #ddd;padding:.35rem .5rem;
text-align:left;vertical-align:top;font-size:.92rem} th{background:#f4f4f6}
.summary{color:#555} .origin{font-weight:600} .unknown{color:#a15c00}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1rem;margin:.6rem 0 1.6rem}
.side{border:1px solid #ccc;border-radius:6px;padding:.6rem;background:#fcfcfd;min-width:0}
.side h4{margin:.1rem 0 .4rem;font-size:.9rem;word-break:break-all}
.text{white-space:pre-wrap;font-family:Georgia,serif;font-size:.92rem;word-wrap:break-word}
mark{background:#ffe58a;padding:0} .removed{color:#9a9a9a;background:#f1f1f1;text-decoration:line-through;
text-decoration-color:#ccc} .gap{color:#999}
ul.evidence{margin:.3rem 0;padding-left:1.2rem;font-size:.9rem} .for{color:#0a6b2d} .against{color:#a12a2a}
.neutral{color:#666} .legend span{margin-right:1rem;font-size:.85rem} svg text{font-family:inherit}
"""


def _segments(text: str, start: int, end: int, marks: list[tuple[int, int]],
              removed: list[tuple[int, int, str]]) -> str:
    """HTML for ``text[start:end]`` with marked and removed stretches wrapped."""
    bounds = {start, end}
    for s, e in marks:
        bounds.update((max(start, min(end, s)), max(start, min(end, e))))
    for s, e, _ in removed:
        bounds.update((max(start, min(end, s)), max(start, min(end, e))))
    points = sorted(bounds)
    out = []
    for a, b in pairwise(points):
        if a >= b:
            continue
        piece = escape(text[a:b])
        reason = next((r for s, e, r in removed if s <= a and b <= e), None)
        if reason is not None:
            out.append(f'<span class="removed" title="removed: {escape(reason)}">{piece}</span>')
        elif any(s <= a and b <= e for s, e in marks):
            out.append(f"<mark>{piece}</mark>")
        else:
            out.append(piece)
    return "".join(out)


def _side(clean: CleanDoc, span: tuple[int, int], marks: list[tuple[int, int]], title: str,
          context: int) -> str:
    text = clean.doc.text
    start, end = max(0, span[0] - context), min(len(text), span[1] + context)
    removed = [(r.start, r.end, r.reason) for r in clean.removed if r.end > start and r.start < end]
    body = _segments(text, start, end, marks, removed)
    before = '<span class="gap">… </span>' if start > 0 else ""
    after = '<span class="gap"> …</span>' if end < len(text) else ""
    return (f'<div class="side"><h4>{title}</h4>'
            f'<div class="text">{before}{body}{after}</div></div>')


def _aligned_marks(a: str, a_span: tuple[int, int], b: str, b_span: tuple[int, int],
                   limit: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]], tuple[int, int],
                                        tuple[int, int]]:
    """Character-level shared blocks of two spans (spans shortened to ``limit``)."""
    a_span = (a_span[0], min(a_span[1], a_span[0] + limit))
    b_span = (b_span[0], min(b_span[1], b_span[0] + limit))
    blocks = shared_blocks(a[a_span[0]:a_span[1]], b[b_span[0]:b_span[1]], min_block=3)
    marks_a = [(a_span[0] + x, a_span[0] + x + size) for x, _, size in blocks]
    marks_b = [(b_span[0] + y, b_span[0] + y + size) for _, y, size in blocks]
    return marks_a, marks_b, a_span, b_span


def _doc_title(clean: CleanDoc, role: str) -> str:
    d = clean.doc
    bits = [escape(d.outlet or "unknown outlet"), escape(d.date or "undated")]
    return f"{escape(role)}: {escape(d.id)} <small>({', '.join(bits)})</small>"


def _evidence_list(items: list[dict[str, Any]]) -> str:
    rows = "".join(f'<li class="{escape(e["stance"])}"><b>{escape(e["kind"])}</b>'
                   f' ({escape(e["stance"])}, weight {e["weight"]:g}): {escape(e["detail"])}</li>'
                   for e in items)
    return f'<ul class="evidence">{rows}</ul>'


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def network_svg(edges: list[Edge], width: int = 820) -> str:
    """The outlet network as an inline SVG, in two columns.

    Outlets that are a source of anything stand on the left, outlets that only
    republish on the right; an arrow runs from source to republisher, thicker
    for more documents and passages (a curve when both ends are sources).
    """
    nodes = nodes_of(edges)
    if not nodes:
        return "<p>No syndication found: no copy could be tied to a source outlet.</p>"
    sources = sorted({e.source for e in edges})
    sinks = [n for n in nodes if n not in sources]
    rows = max(len(sources), len(sinks))
    height = 60 + 70 * rows
    left_x, right_x = 230, width - 230
    pos = {}
    for column, x in ((sources, left_x), (sinks, right_x)):
        gap = (height - 60) / max(len(column), 1)
        for i, name in enumerate(column):
            pos[name] = (x, 30 + gap * (i + 0.5))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Outlet network" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/>'
             '</marker></defs>']
    for i, e in enumerate(edges):
        (x1, y1), (x2, y2) = pos[e.source], pos[e.republisher]
        label = ", ".join(x for x in (_plural(e.documents, "doc") if e.documents else "",
                                      _plural(e.passages, "passage") if e.passages else "") if x)
        stroke = f'stroke="#555" stroke-width="{1 + min(e.weight, 8) * 0.6:.1f}" fill="none"'
        if abs(x1 - x2) < 1:  # both in the left column: bow out to the left
            direction = 1 if y2 > y1 else -1
            sy, ty = y1 + 18 * direction, y2 - 20 * direction
            bow = x1 - 90 - abs(y2 - y1) * 0.15
            path = f'<path d="M{x1:.1f},{sy:.1f} Q{bow:.1f},{(y1 + y2) / 2:.1f} {x2:.1f},{ty:.1f}" {stroke} '
            lx, ly = (x1 + bow) / 2 - 6, (y1 + y2) / 2 + 4
            anchor = "end"
        else:
            dx, dy = x2 - x1, y2 - y1
            dist = math.hypot(dx, dy) or 1.0
            sx, sy = x1 + dx / dist * 18, y1 + dy / dist * 18
            tx, ty = x2 - dx / dist * 20, y2 - dy / dist * 20
            path = f'<path d="M{sx:.1f},{sy:.1f} L{tx:.1f},{ty:.1f}" {stroke} '
            at = 0.45 + 0.2 * (i % 3) / 2  # stagger labels of edges that cross near the middle
            lx, ly = sx + (tx - sx) * at, sy + (ty - sy) * at - 5
            anchor = "middle"
        parts.append(f'<g><title>{escape(e.source)} → {escape(e.republisher)}: {escape(label)}</title>'
                     f'{path}marker-end="url(#arrow)"/>'
                     f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="11" fill="#333" text-anchor="{anchor}" '
                     f'stroke="#fff" stroke-width="3" paint-order="stroke">{escape(label)}</text></g>')
    for name, (x, y) in pos.items():
        left = x == left_x
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="16" fill="{"#4c78a8" if left else "#f58518"}" '
                     f'stroke="#fff" stroke-width="2"/><text x="{x + (-24 if left else 24):.1f}" '
                     f'y="{y + 4:.1f}" font-size="13" text-anchor="{"end" if left else "start"}" '
                     f'font-weight="600">{escape(name)}</text>')
    parts.append("</svg>")
    parts.append('<p class="legend"><span style="color:#4c78a8">●</span> source of republished text'
                 ' <span style="color:#f58518">●</span> republisher only</p>')
    return "".join(parts)


def _rewrites(data: dict[str, Any], docs: dict[str, CleanDoc]) -> list[str]:
    """Rewritten copies: both texts side by side, the aligned sentences highlighted."""
    out = ['<h2 id="rewrites">Rewritten copies</h2>']
    if not data["derivations"]:
        out.append("<p>None.</p>")
    for n, d in enumerate(data["derivations"], start=1):
        src, dst = ("b", "a") if d["origin"] == "b" else ("a", "b")
        verdict = (f'origin: <span class="origin">{escape(d[src])}</span>' if d["origin"]
                   else '<span class="unknown">origin unknown</span>'
                   + (f" (common source: {escape(d['common_source'])})" if d["common_source"] else ""))
        out.append(f'<h3 id="d{n}">Rewrite {n}: {escape(d["verdict"])}, {d["score"]:.0%} of the copy found in'
                   f' the other; {d["sentences_aligned"]} aligned sentences; {verdict};'
                   f' confidence {d["confidence"]:.2f}</h3>')
        out.append(_evidence_list(d["evidence"]))
        sides = []
        for key, role in ((src, "origin" if d["origin"] else "a"), (dst, "copy" if d["origin"] else "b")):
            marks = [tuple(x[f"{key}_span"]) for x in d["sentences"]]
            clean = docs[d[key]]
            first = min((m[0] for m in marks), default=0)
            span = (first, min(len(clean.doc.text), first + MAX_REWRITE_CHARS))
            sides.append(_side(clean, span, marks, _doc_title(clean, role), 200))
        out.append('<div class="pair">' + "".join(sides) + "</div>")
    return out


#: Side-by-side pairs shown per passage family; the table lists every occurrence.
MAX_FAMILY_PAIRS = 20


def _families(data: dict[str, Any], docs: dict[str, CleanDoc]) -> list[str]:
    """Republished passages, one section per family: every occurrence in a table, the evidence,
    then the origin and each copy side by side."""
    out = ['<h2 id="passages">Republished passages</h2>']
    if not data["families"]:
        out.append("<p>None.</p>")
    pairs: dict[str, list[dict[str, Any]]] = {}
    for m in data["matches"]:
        pairs.setdefault(m["family"], []).append(m)
    n = 0
    for f in data["families"]:
        origin, spread = f["origin"], f["spread"]
        verdict = (f'origin: <span class="origin">{escape(origin)}</span>' if origin
                   else '<span class="unknown">origin unknown</span>'
                   + (f" (common source: {escape(f['common_source'])})" if f["common_source"] else ""))
        dates = (f", {escape(spread['first_date'])} to {escape(spread['last_date'])}"
                 if spread["first_date"] else "")
        out.append(f'<h3 id="{escape(f["id"])}">Family {escape(f["id"])}: {spread["documents"]} documents,'
                   f' {len(spread["outlets"])} outlets{dates}; {verdict};'
                   f' confidence {f["confidence"]:.2f}</h3>')
        out.append("<table><tr><th>document</th><th>outlet</th><th>date</th><th>span</th></tr>")
        for o in f["occurrences"]:
            cls = ' class="origin"' if o["origin"] else ""
            repeats = f" (x{o['repeats']} in this document)" if o["repeats"] > 1 else ""
            out.append(f"<tr><td{cls}>{escape(o['document'])}</td><td>{escape(o['outlet'] or '-')}</td>"
                       f"<td>{escape(o['date'] or '-')}</td>"
                       f"<td>{o['span'][0]}-{o['span'][1]}{repeats}</td></tr>")
        out.append("</table>")
        out.append(_evidence_list(f["evidence"]))
        shown = pairs.get(f["id"], [])
        if len(shown) > MAX_FAMILY_PAIRS:
            out.append(f"<p>The first {MAX_FAMILY_PAIRS} of {len(shown)} copies, side by side:</p>")
        for m in shown[:MAX_FAMILY_PAIRS]:
            n += 1
            out.extend(_passage_pair(m, docs, n))
    return out


def _passage_pair(m: dict[str, Any], docs: dict[str, CleanDoc], n: int) -> list[str]:
    """One match, origin on the left where it is known."""
    src, dst = ("b", "a") if m["origin"] == "b" else ("a", "b")
    s_id, d_id = m[src], m[dst]
    s_span, d_span = tuple(m[f"{src}_span"]), tuple(m[f"{dst}_span"])
    marks_s, marks_d, _, _ = _aligned_marks(docs[s_id].doc.text, s_span, docs[d_id].doc.text, d_span,
                                            limit=20_000)
    verdict = (f'origin: <span class="origin">{escape(s_id)}</span>' if m["origin"]
               else '<span class="unknown">origin unknown</span>'
               + (f" (common source: {escape(m['common_source'])})" if m["common_source"] else ""))
    s_role, d_role = ("origin", "copy") if m["origin"] else ("a", "b")
    return [f'<h4 id="m{n}">Passage {n}: similarity {m["similarity"]:.1f}; {verdict};'
            f' confidence {m["confidence"]:.2f}</h4>',
            _evidence_list(m["evidence"]),
            '<div class="pair">'
            + _side(docs[s_id], s_span, marks_s, _doc_title(docs[s_id], s_role), CONTEXT)
            + _side(docs[d_id], d_span, marks_d, _doc_title(docs[d_id], d_role), CONTEXT)
            + "</div>"]


def to_html(report: Report) -> str:
    """The whole report as one self-contained HTML page."""
    data = to_dict(report)
    docs = {c.doc.id: c for c in report.cleaned}
    out = ['<!doctype html><html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width,initial-scale=1">',
           f"<title>provenance report</title><style>{CSS}</style></head><body>",
           "<h1>provenance report</h1>",
           f'<p class="summary">{len(data["documents"])} documents read, {len(data["skipped"])} skipped,'
           f' {len(data["groups"])} near-duplicate groups, {len(data["families"])} republished passages,'
           f' {len(data["derivations"])} rewritten copies (provenance {escape(data["version"])}).</p>',
           '<p class="legend"><span><mark>highlighted</mark>: text both sides share</span>'
           '<span><span class="removed">faded</span>: boilerplate removed before matching</span></p>']
    out.append('<h2 id="syndication">Syndication</h2>')
    rows = syndication(report)
    if rows:
        out.append("<table><tr><th>source</th><th>republisher</th><th>documents</th><th>passages</th>"
                   "<th>rewrites</th><th>first date</th><th>last date</th></tr>")
        for row in rows:
            out.append(f"<tr><td>{escape(row.source)}</td><td>{escape(row.republisher)}</td>"
                       f"<td>{row.documents}</td><td>{row.passages}</td><td>{row.rewrites}</td>"
                       f"<td>{escape(row.first_date or '-')}</td>"
                       f"<td>{escape(row.last_date or '-')}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>No copy could be tied to a source outlet.</p>")
    out.append('<h2 id="network">Outlet network</h2>')
    out.append(network_svg(rows))

    out.extend(_families(data, docs))
    out.extend(_rewrites(data, docs))
    out.append('<h2 id="groups">Near-duplicate groups</h2>')
    if not data["groups"]:
        out.append("<p>None.</p>")
    for g in data["groups"]:
        origin = g["origin"]
        verdict = (f'origin: <span class="origin">{escape(origin)}</span>' if origin
                   else '<span class="unknown">origin unknown</span>'
                   + (f" (common source: {escape(g['common_source'])})" if g["common_source"] else ""))
        out.append(f'<h3 id="{escape(g["id"])}">Group {escape(g["id"])}: {len(g["documents"])} documents;'
                   f' {verdict}; confidence {g["confidence"]:.2f}</h3>')
        out.append("<table><tr><th>document</th><th>outlet</th><th>date</th><th>kept / chars</th></tr>")
        for doc_id in g["documents"]:
            d = docs[doc_id]
            cls = ' class="origin"' if doc_id == origin else ""
            out.append(f"<tr><td{cls}>{escape(doc_id)}</td><td>{escape(d.doc.outlet or '-')}</td>"
                       f"<td>{escape(d.doc.date or '-')}</td>"
                       f"<td>{len(d.text):,} / {len(d.doc.text):,}</td></tr>")
        out.append("</table>")
        out.append(_evidence_list(g["evidence"]))
        lead = origin or g["documents"][0]
        for p in g["pairs"]:
            if lead not in (p["a"], p["b"]):
                continue
            other = p["b"] if p["a"] == lead else p["a"]
            lead_span = tuple(p["a_span"] if p["a"] == lead else p["b_span"])
            other_span = tuple(p["b_span"] if p["a"] == lead else p["a_span"])
            ma, mb, ls, os_ = _aligned_marks(docs[lead].doc.text, lead_span, docs[other].doc.text, other_span,
                                             MAX_PAIR_CHARS)
            out.append(f"<p>{escape(lead)} and {escape(other)}: similarity {p['similarity']:.1f}"
                       f" (first {MAX_PAIR_CHARS:,} characters of the aligned text shown)</p>")
            lead_role, other_role = ("origin", "copy") if origin else ("document", "document")
            out.append('<div class="pair">'
                       + _side(docs[lead], ls, ma, _doc_title(docs[lead], lead_role), 200)
                       + _side(docs[other], os_, mb, _doc_title(docs[other], other_role), 200)
                       + "</div>")
    if data["skipped"]:
        out.append('<h2 id="skipped">Skipped</h2><table><tr><th>path</th><th>reason</th></tr>')
        out.extend(f"<tr><td>{escape(s['path'])}</td><td>{escape(s['reason'])}</td></tr>"
                   for s in data["skipped"])
        out.append("</table>")
    out.append("</body></html>\n")
    return "\n".join(out)
