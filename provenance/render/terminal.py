"""``Report`` -> the terminal: a summary line and rich tables, and one document's cuts.

Built on the JSON contract (``report.to_dict``), with every scraped string shown on one
line and its control characters escaped, so a crawled name cannot write to the terminal.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..pipeline import Report
from ..records import CleanDoc
from .report import to_dict
from .safe_text import one_line


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_audit(clean: CleanDoc) -> Text:
    """One document with its removed parts marked ``[-reason: ...-]`` (dim, struck) for reading."""
    doc = clean.doc
    kept = len(clean.text)
    out = Text()
    out.append(f"== {doc.id}", style="bold")
    out.append(f"  ({doc.outlet or 'outlet unknown'}, {doc.date or 'undated'}; kept {kept:,} of"
               f" {len(doc.text):,} characters, {len(clean.removed)} cuts)\n", style="dim")
    pos = 0
    for r in clean.removed:
        out.append(doc.text[pos:r.start])
        out.append(f"[-{r.reason}: ", style="bold red")
        out.append(doc.text[r.start:r.end].rstrip("\n"), style="dim strike")
        out.append("-]", style="bold red")
        if doc.text[r.start:r.end].endswith("\n"):
            out.append("\n")
        pos = r.end
    out.append(doc.text[pos:])
    return out


def _evidence_summary(items: list[dict[str, Any]]) -> str:
    """Evidence kinds for a table cell: deciding ones first, the rest in brackets."""
    counts: dict[str, int] = defaultdict(int)
    for e in items:
        if e["weight"] > 0:
            counts[e["kind"]] += 1
    if not counts:
        return "none decides" + (f" ({items[0]['kind']}: {_short(items[0]['detail'], 50)})"
                                 if items and items[0]["kind"] != "none" else "")
    return ", ".join(k if n == 1 else f"{k} x{n}" for k, n in counts.items())


#: Rows of the per-document table in the terminal; the JSON report has them all.
MAX_DOCUMENT_ROWS = 25


def _documents_table(data: dict[str, Any], console: Console) -> None:
    """Per document: what was removed and what the text names as its source."""
    docs = data["documents"]
    shown = [d for d in docs if d["removed"] or d["credits"]]
    if not shown:
        return
    table = Table(title="Boilerplate removed and credited sources, per document")
    for col in ("document", "outlet", "date", "kept / chars", "removed", "names as source"):
        table.add_column(col, overflow="fold")
    for d in shown[:MAX_DOCUMENT_ROWS]:
        counts: dict[str, int] = defaultdict(int)
        for r in d["removed"]:
            counts[r["reason"]] += 1
        removed = ", ".join(k if n == 1 else f"{k} x{n}" for k, n in counts.items()) or "-"
        credits = "; ".join(f"{c['outlet']} ({c['kind']})" for c in d["credits"]) or "-"
        table.add_row(escape(d["id"]), escape(d["outlet"] or "-"), d["date"] or "-",
                      f"{d['chars_clean']:,} / {d['chars']:,}", removed, escape(credits))
    if len(shown) > MAX_DOCUMENT_ROWS:
        table.caption = f"{len(shown) - MAX_DOCUMENT_ROWS} more documents: see --format json"
    console.print(table)


#: Copies listed per family in the terminal; the JSON report has them all.
MAX_FAMILY_COPIES = 6


def _families_table(data: dict[str, Any], report: Report, console: Console) -> None:
    """One row per passage family: its origin, where it went, its spread and the evidence."""
    table = Table(title="Republished passages (one row per family: every copy of one passage)",
                  show_lines=True)
    for col in ("family", "origin", "copies", "spread", "passage", "evidence"):
        table.add_column(col, overflow="fold")
    texts = {one_line(c.doc.id): c.doc.text for c in report.cleaned}  # keyed as the printable data
    for f in data["families"][:MAX_DOCUMENT_ROWS]:
        occ = f["occurrences"]
        lead = next((o for o in occ if o["origin"]), None)
        if lead is not None:
            origin = f"{lead['document']}\n[{lead['span'][0]}:{lead['span'][1]}]"
        else:
            origin = "unknown" + (f": {f['common_source']}" if f["common_source"] not in (None, "unnamed")
                                  else "")
        copies = [o for o in occ if not o["origin"]]
        listed = "\n".join(f"{o['document']} [{o['span'][0]}:{o['span'][1]}]"
                           + (f" x{o['repeats']}" if o["repeats"] > 1 else "")
                           for o in copies[:MAX_FAMILY_COPIES])
        if len(copies) > MAX_FAMILY_COPIES:
            listed += f"\n... {len(copies) - MAX_FAMILY_COPIES} more"
        spread = f"{f['spread']['documents']} documents, {len(f['spread']['outlets'])} outlets"
        if f["spread"]["first_date"]:
            spread += f"\n{f['spread']['first_date']} to {f['spread']['last_date']}"
        shown = lead or occ[0]
        passage = one_line(_short(texts[shown["document"]][shown["span"][0]:shown["span"][1]], 80))
        table.add_row(f["id"], escape(origin), escape(listed), spread, escape(passage),
                      escape(_evidence_summary(f["evidence"])))
    if len(data["families"]) > MAX_DOCUMENT_ROWS:
        table.caption = f"{len(data['families']) - MAX_DOCUMENT_ROWS} more families: see --format json"
    console.print(table)


def _printable(value: Any) -> Any:
    """``value`` with every string shown on one line, controls and bidirectional characters
    escaped (``safe_text.one_line``): a scraped id or outlet never writes escape sequences to
    the terminal, nor a line break that would fake a table row."""
    if isinstance(value, str):
        return one_line(value)
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


def render_table(report: Report, console: Console) -> None:
    """A readable summary for the terminal (rich tables)."""
    data = _printable(to_dict(report))
    docs = data["documents"]
    removed = sum(len(d["removed"]) for d in docs)
    removed_chars = sum(d["chars"] - d["chars_clean"] for d in docs)
    by_reason: dict[str, int] = defaultdict(int)
    for d in docs:
        for r in d["removed"]:
            by_reason[r["reason"]] += 1
    console.print(Text.assemble(
        ("provenance ", "bold"), f"{report.version}: ",
        (f"{len(docs)}", "bold"), " documents read, ",
        (f"{len(data['skipped'])}", "bold yellow" if data["skipped"] else "bold"), " skipped, ",
        (f"{removed}", "bold"), f" boilerplate spans removed ({removed_chars:,} characters), ",
        (f"{len(data['groups'])}", "bold"), " near-duplicate groups, ",
        (f"{len(data['families'])}", "bold"), " republished passages"
        f" ({sum(len(f['occurrences']) for f in data['families'])} occurrences), ",
        (f"{len(data['derivations'])}", "bold"), " rewritten copies"))
    if by_reason:
        console.print("Removed: " + ", ".join(f"{k} {v}" for k, v in sorted(by_reason.items())))

    _documents_table(data, console)
    if data["groups"]:
        table = Table(title="Near-duplicate groups", show_lines=True)
        for col in ("group", "documents", "origin", "confidence", "deciding evidence"):
            table.add_column(col, overflow="fold")
        for g in data["groups"]:
            members = "\n".join(escape(m) + (" [bold](origin)[/bold]" if m == g["origin"] else "")
                                 for m in g["documents"])
            origin = g["origin"] or (f"unknown; credited: {g['origin_outlet']}" if g["origin_outlet"]
                                     else "unknown")
            if g["origin"] and g["origin_outlet"]:
                origin += f"\n({g['origin_outlet']})"
            table.add_row(g["id"], members, escape(origin), f"{g['confidence']:.2f}",
                          escape(_evidence_summary(g["evidence"])))
        console.print(table)
    if data["families"]:
        _families_table(data, report, console)
    if data["derivations"]:
        table = Table(title="Rewritten copies (derived documents)", show_lines=True)
        for col in ("source", "copy", "verdict", "reuse", "aligned sentences", "evidence"):
            table.add_column(col, overflow="fold")
        for d in data["derivations"][:MAX_DOCUMENT_ROWS]:
            copy, source = (d["b"], d["a"]) if d["origin"] == "a" else (d["a"], d["b"])
            named = source if d["origin"] else f"unknown ({d['common_source'] or 'no evidence'}): {source}"
            table.add_row(escape(named), escape(copy), d["verdict"], f"{d['score']:.0%}",
                          str(d["sentences_aligned"]), escape(_evidence_summary(d["evidence"])))
        if len(data["derivations"]) > MAX_DOCUMENT_ROWS:
            table.caption = f"{len(data['derivations']) - MAX_DOCUMENT_ROWS} more: see --format json"
        console.print(table)
    if data["syndication"]:
        table = Table(title="Syndication: who republished whom")
        for col in ("source", "republisher", "documents", "passages", "rewrites", "first date", "last date"):
            table.add_column(col)
        for row in data["syndication"]:
            table.add_row(escape(row["source"]), escape(row["republisher"]), str(row["documents"]),
                          str(row["passages"]), str(row["rewrites"]), row["first_date"] or "-",
                          row["last_date"] or "-")
        console.print(table)
    if data["skipped"]:
        table = Table(title="Skipped")
        table.add_column("path", overflow="fold")
        table.add_column("reason", overflow="fold")
        for s in data["skipped"]:
            table.add_row(escape(s["path"]), escape(s["reason"]))
        console.print(table)
