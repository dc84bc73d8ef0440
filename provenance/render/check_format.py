"""``CheckReport`` -> table, JSON, GitHub annotations, JUnit XML, Markdown, SARIF.

JSON keeps ``scan``'s contract (``version``, ``params``, ``documents``,
``groups``, ``matches``, ``syndication``, ``skipped``) over the new files and
the indexed documents they copy, and adds ``verdict``, ``findings``, ``new``
and ``index``. Indexed documents' ids start with ``index:``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..index.check import CheckReport, Finding
from ..ingest import file_of
from ..records import Document
from ..version import __version__
from .report import canonical_json, to_dict
from .safe_text import xml_document


def finding_dict(f: Finding) -> dict[str, Any]:
    """One finding as JSON."""
    return {"file": f.file, "path": f.path, "kind": f.kind, "other": f.other, "in_index": f.in_index,
            "similarity": f.similarity, "span": list(f.span), "other_span": list(f.other_span),
            "outlet": f.outlet, "other_outlet": f.other_outlet, "date": f.date,
            "other_date": f.other_date, "direction": f.direction, "origin": f.origin,
            "confidence": f.confidence, "evidence": f.evidence, "fails": f.fails}


def verdict_dict(result: CheckReport) -> dict[str, Any]:
    v = result.verdict
    return {"status": "pass" if v.passed else "fail", "fail_on": v.fail_on, "threshold": v.threshold,
            "files": v.files, "failing": v.failing, "counts": v.counts}


def check_dict(result: CheckReport) -> dict[str, Any]:
    """The documented JSON structure: scan's keys plus ``verdict``, ``findings``, ``new``, ``index``."""
    data = to_dict(result.report)
    new = set(result.new)
    referenced = (new | {f.other for f in result.findings} | {f.origin for f in result.findings if f.origin}
                  | {m for g in data["groups"] for m in g["documents"]}
                  | {x for m in data["matches"] for x in (m["a"], m["b"])})
    data["documents"] = [d for d in data["documents"] if d["id"] in referenced]
    exact_ids = {(result.report.cleaned[a].doc.id, result.report.cleaned[b].doc.id)
                 for a, b in result.exact}
    for g in data["groups"]:
        for p in g["pairs"]:
            p["exact"] = (p["a"], p["b"]) in exact_ids
    data["verdict"] = verdict_dict(result)
    data["findings"] = [finding_dict(f) for f in result.findings]
    data["new"] = sorted(new)
    data["index"] = result.index
    return data


def to_json(result: CheckReport) -> str:
    """Canonical JSON: sorted keys, two-space indent, a final newline."""
    return canonical_json(check_dict(result))


def _what(f: Finding) -> str:
    kind = {"exact": "exact copy of", "document": "near-duplicate of",
            "passage": "shares a passage with"}[f.kind]
    where = "the indexed document" if f.in_index else "the new file"
    return f"{kind} {where} {f.other.removeprefix('index:') if f.in_index else f.other}"


def _direction(f: Finding) -> str:
    if f.direction == "copy":
        return f"this file copies {f.origin}" if f.origin != f.other else "this file is the copy"
    if f.direction == "original":
        return "this file was first"
    return "who was first is unknown"


def message(f: Finding) -> str:
    """One line about a finding, for logs and annotations."""
    own = " ".join(x for x in (f.outlet, f.date) if x) or "no outlet or date"
    other = " ".join(x for x in (f.other_outlet, f.other_date) if x) or "no outlet or date"
    return (f"{_what(f)} (similarity {f.similarity:.1f}, chars {f.span[0]}-{f.span[1]} here,"
            f" {f.other_span[0]}-{f.other_span[1]} there; this: {own}; other: {other});"
            f" {_direction(f)}")


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(result: CheckReport) -> str:
    """GitHub Actions workflow commands: an ``::error`` per failing finding, ``::warning`` for the rest."""
    lines = []
    docs = {c.doc.id: c.doc for c in result.report.cleaned}
    for f in result.findings:
        level = "error" if f.fails else "warning"
        props = [f"file={_gh_property(file_of(f.path))}"]
        region = _lines(f, docs)
        if region is not None:
            props += [f"line={region[0]}", f"endLine={region[1]}"]
        title = {"exact": "Exact copy", "document": "Near-duplicate",
                 "passage": "Republished passage"}[f.kind]
        props.append(f"title={_gh_property(f'provenance: {title}')}")
        lines.append(f"::{level} {','.join(props)}::{_gh_data(f.file + ': ' + message(f))}")
    for s in result.report.skipped:
        lines.append(f"::warning file={_gh_property(file_of(s.path))},title=provenance%3A skipped::"
                     f"{_gh_data(s.reason)}")
    v = result.verdict
    summary = (f"provenance check: {len(v.failing)} of {v.files} new files fail (--fail-on {v.fail_on});"
               f" {v.counts['exact']} exact, {v.counts['document']} near-duplicate,"
               f" {v.counts['passage']} passage findings")
    lines.append(f"::{'notice' if v.passed else 'error'} title=provenance check::{_gh_data(summary)}")
    return "\n".join(lines) + "\n"


def _lines(f: Finding, docs: dict[str, Document]) -> tuple[int, int] | None:
    """The finding's first and last line in its file, for a plain-text file (whose text is the
    file's); None for HTML, JSON Lines and WARC records, whose offsets are in extracted text."""
    doc = docs[f.file]
    if doc.kind != "text" or file_of(f.path) != f.path:
        return None
    return (doc.text.count("\n", 0, f.span[0]) + 1,
            doc.text.count("\n", 0, max(f.span[0], f.span[1] - 1)) + 1)


#: SARIF rules, one per kind of finding.
_SARIF_RULES = (
    ("exact", "ExactCopy", "An exact copy of an indexed document or of another new file",
     "The cleaned text's sha256 equals another document's."),
    ("document", "NearDuplicate", "A near-duplicate of an indexed document or of another new file",
     "The cleaned texts are at least 80 similar (rapidfuzz ratio), found through MinHash LSH."),
    ("passage", "RepublishedPassage", "A passage republished from (or in) another document",
     "An aligned passage of at least 120 characters, at least 85 similar."),
)


def _artifact_uri(path: str) -> str:
    """A SARIF artifact URI: a relative path percent-encoded, an absolute one as ``file://``."""
    file = file_of(path)
    return Path(file).as_uri() if Path(file).is_absolute() else quote(file)


def to_sarif(result: CheckReport) -> str:
    """SARIF 2.1.0 (code-scanning dashboards: GitHub, GitLab, Azure DevOps): a result per
    finding, ``error`` when it fails the check and ``warning`` otherwise, located in the new
    file (with lines for a plain-text file), the matched document as a related location;
    unreadable inputs are tool notifications."""
    rule_index = {kind: i for i, (kind, *_rest) in enumerate(_SARIF_RULES)}
    results = []
    docs = {c.doc.id: c.doc for c in result.report.cleaned}
    for f in result.findings:
        region = _lines(f, docs)
        location: dict[str, Any] = {"artifactLocation": {"uri": _artifact_uri(f.path)}}
        if region is not None:
            location["region"] = {"startLine": region[0], "endLine": region[1]}
        results.append({
            "ruleId": f"provenance/{f.kind}", "ruleIndex": rule_index[f.kind],
            "level": "error" if f.fails else "warning",
            "message": {"text": f"{f.file}: {message(f)}"},
            "locations": [{"physicalLocation": location}],
            "partialFingerprints": {"provenanceFinding/v1": f"{f.file}|{f.kind}|{f.other}"},
            "properties": {"other": f.other, "inIndex": f.in_index, "similarity": f.similarity,
                           "span": list(f.span), "otherSpan": list(f.other_span),
                           "direction": f.direction, "origin": f.origin, "evidence": f.evidence},
        })
    notes = [{"level": "warning", "message": {"text": f"skipped: {s.reason}"},
              "locations": [{"physicalLocation": {"artifactLocation": {"uri": _artifact_uri(s.path)}}}]}
             for s in result.report.skipped]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "provenance", "version": __version__, "semanticVersion": __version__,
                "rules": [{"id": f"provenance/{kind}", "name": name, "shortDescription": {"text": short},
                           "fullDescription": {"text": full},
                           "defaultConfiguration": {"level": "error"}}
                          for kind, name, short, full in _SARIF_RULES]}},
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notes}],
            "results": results,
            "properties": {"verdict": verdict_dict(result)},
        }],
    }
    return json.dumps(log, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def to_junit(result: CheckReport) -> str:
    """JUnit XML: one ``<testcase>`` per new file, with a ``<failure>`` when it fails the check."""
    by_file: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_file.setdefault(f.file, []).append(f)
    docs = {c.doc.id: c.doc for c in result.report.cleaned}
    suite = ET.Element("testsuite", name="provenance check",
                       tests=str(len(result.new) + len(result.report.skipped)),
                       failures=str(len(result.verdict.failing)), errors="0",
                       skipped=str(len(result.report.skipped)))
    for doc_id in result.new:
        case = ET.SubElement(suite, "testcase", classname="provenance.check", name=doc_id,
                             file=file_of(docs[doc_id].path))
        found = by_file.get(doc_id, [])
        failing = [f for f in found if f.fails]
        if failing:
            failure = ET.SubElement(case, "failure", type=failing[0].kind,
                                    message=f"{doc_id}: {_what(failing[0])}")
            failure.text = "\n".join(message(f) for f in failing)
        others = [f for f in found if not f.fails]
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(message(f) for f in others)
    for s in result.report.skipped:
        case = ET.SubElement(suite, "testcase", classname="provenance.check", name=s.path)
        ET.SubElement(case, "skipped", message=s.reason)
    root = ET.Element("testsuites", name="provenance", tests=suite.get("tests", "0"),
                      failures=suite.get("failures", "0"), errors="0")
    root.append(suite)
    return xml_document(root)


def _md(text: str | None) -> str:
    return (text or "-").replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "\\`")


def to_markdown(result: CheckReport) -> str:
    """A pull-request comment: the verdict, then a table of findings."""
    v = result.verdict
    head = (f"### provenance check: {'passed' if v.passed else 'failed'}\n\n"
            f"{len(v.failing)} of {v.files} new files fail (`--fail-on {v.fail_on}`"
            + (f", similarity >= {v.threshold:g}" if v.threshold is not None else "") + "); "
            f"{v.counts['exact']} exact, {v.counts['document']} near-duplicate and {v.counts['passage']}"
            f" passage findings against {result.index.get('documents', 0):,} indexed documents.\n")
    if not result.findings:
        return head + "\nNo copies found.\n"
    rows = ["", "| | file | finding | matched document | similarity | outlets | dates | direction |",
            "|---|---|---|---|---|---|---|---|"]
    for f in result.findings:
        rows.append("| " + " | ".join([
            "❌" if f.fails else "⚠️", _md(f.file), f.kind, _md(f.other), f"{f.similarity:.1f}",
            f"{_md(f.outlet)} / {_md(f.other_outlet)}", f"{_md(f.date)} / {_md(f.other_date)}",
            _md(_direction(f))]) + " |")
    return head + "\n".join(rows) + "\n"


def render_table(result: CheckReport, console: Console) -> None:
    """A terminal summary: verdict line, then a table of findings."""
    v = result.verdict
    console.print(Text.assemble(
        ("provenance check: ", "bold"), ("PASSED" if v.passed else "FAILED", "bold green" if v.passed
                                        else "bold red"),
        f" - {len(v.failing)} of {v.files} new files fail (--fail-on {v.fail_on}); ",
        f"{v.counts['exact']} exact, {v.counts['document']} near-duplicate, {v.counts['passage']} passage"
        f" findings; {result.index.get('documents', 0):,} documents in the index"))
    if result.findings:
        table = Table(title="Findings", show_lines=True)
        for col in ("file", "finding", "matched", "similarity", "spans", "outlets", "dates", "direction"):
            table.add_column(col, overflow="fold")
        for f in result.findings:
            mark = "[bold red]fail[/] " if f.fails else ""
            table.add_row(escape(f.file), mark + f.kind, escape(f.other), f"{f.similarity:.1f}",
                          f"{f.span[0]}-{f.span[1]}\n{f.other_span[0]}-{f.other_span[1]}",
                          escape(f"{f.outlet or '-'}\n{f.other_outlet or '-'}"),
                          f"{f.date or '-'}\n{f.other_date or '-'}", escape(_direction(f)))
        console.print(table)
    for s in result.report.skipped:
        console.print(f"skipped: {escape(s.path)}: {escape(s.reason)}")
