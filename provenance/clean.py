"""Boilerplate removal with an audit: ``Document`` -> ``CleanDoc``.

Three kinds of rule run on every document:

* **Line rules** (plain text and HTML alike: an HTML page's text holds one
  block a line) match phrases from the language files in ``data/lang/``
  (``phrases``): a "Skip to main content" line, share bars, cookie and
  subscription prompts, tag lists, and the headings of comment threads and
  teaser lists. A heading takes its whole section with it: in the last 60 %
  of a page everything up to the next recognised heading (or the end),
  elsewhere only the short, list-like lines that follow it. Teasers quote
  other articles, so a teaser list left in would look like copying.
* **Structure rules** (HTML only, ``structure``) use each block's context:
  furniture tags, ids and classes, link density, and the element that holds
  the page's running text.
* **Context rules** (HTML, ``structure``, over what the others removed):
  orphaned section headings and short lines stranded between removed blocks.

Every removed span is kept with its reason, in offsets of ``Document.text``,
so that the kept spans plus the removed ones rebuild the text exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .config import CleanConfig
from .errors import ConfigError
from .lang import load_languages
from .phrases import SECTION_REASONS, WORD, Rules, classify_line, load_rules
from .records import CleanDoc, Document, Removal, Span
from .structure import TAG_REASONS, html_removals, orphan_headings, stranded_blocks


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line, the end including its newline."""
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        spans.append((pos, pos + len(line)))
        pos += len(line)
    return spans


def _list_like(line: str) -> bool:
    """A line that reads as a list item or teaser rather than prose."""
    stripped = line.strip()
    return (not stripped or len(WORD.findall(stripped)) < 20
            or stripped.endswith(("...", "…", "»", "›")))


def line_removals(text: str, rules: Rules | None = None, greedy: bool = True) -> list[Removal]:
    """Removals found by the line rules, sections included.

    With ``greedy`` (plain text), a section heading in the last 60 % of the
    text takes everything up to the next heading; without it (HTML, whose
    structure rules find comment and teaser blocks themselves) a heading
    takes only the short, list-like lines that follow it.
    """
    rules = rules or load_rules()
    lines = _lines(text)
    reasons = [classify_line(text[s:e], rules) for s, e in lines]
    out: list[Removal] = []
    n, total = len(lines), max(len(text), 1)
    i = 0
    while i < n:
        reason = reasons[i]
        if reason is None:
            i += 1
            continue
        start, end = lines[i]
        j = i + 1
        if reason in SECTION_REASONS:
            late = greedy and start >= 0.4 * total
            while j < n and (reasons[j] is None or reasons[j] not in (*SECTION_REASONS, "skip-link")):
                body = text[lines[j][0]:lines[j][1]]
                if not late and not _list_like(body):
                    break
                if not late and j - i > 40:
                    break
                j += 1
            # do not swallow trailing blank lines that belong to the next section
            while j > i + 1 and not text[lines[j - 1][0]:lines[j - 1][1]].strip():
                j -= 1
            end = lines[j - 1][1]
        out.append(Removal(start, end, reason))
        i = j
    return out


def _merge(removals: Iterable[Removal]) -> list[Removal]:
    """Sort and merge overlapping removals; the earlier span's reason wins."""
    merged: list[Removal] = []
    for r in sorted(removals, key=lambda r: (r.start, -r.end)):
        if merged and r.start < merged[-1].end:
            last = merged[-1]
            if r.end > last.end:
                if r.reason == last.reason:
                    merged[-1] = Removal(last.start, r.end, last.reason)
                else:
                    merged.append(Removal(last.end, r.end, r.reason))
            continue
        if merged and r.start == merged[-1].end and r.reason == merged[-1].reason:
            merged[-1] = Removal(merged[-1].start, r.end, r.reason)
            continue
        merged.append(r)
    return merged


def _overlay(primary: list[Removal], secondary: list[Removal]) -> list[Removal]:
    """``primary`` spans as they are, plus the parts of ``secondary`` they do not cover."""
    out = list(primary)
    for r in secondary:
        pos = r.start
        for p in primary:
            if p.end <= pos or p.start >= r.end:
                continue
            if p.start > pos:
                out.append(Removal(pos, p.start, r.reason))
            pos = max(pos, p.end)
        if pos < r.end:
            out.append(Removal(pos, r.end, r.reason))
    return _merge(out)


#: Reasons set by structure rather than by the language files.
_STRUCTURAL_REASONS = ("header", "footer", "link-dense", "outside-main", "template", "skip-link")


def known_reasons(rules_file: str | None = None) -> list[str]:
    """Every reason a removal can carry with these rules, sorted (what ``--keep`` accepts).

    A user's rules file may add reasons of its own, so the list depends on it.
    """
    langs = load_languages(rules_file)
    return sorted({*TAG_REASONS.values(), *SECTION_REASONS, *_STRUCTURAL_REASONS, *langs.phrases,
                   *langs.classes.values(), *langs.class_prefixes.values()})


def check_keep(cfg: CleanConfig) -> None:
    """Refuse ``keep`` reasons that no rule gives: a typo (``--keep comment``) would otherwise
    keep nothing, silently."""
    unknown = sorted(set(cfg.keep) - set(known_reasons(cfg.rules_file)))
    if unknown:
        raise ConfigError(f"unknown --keep reason{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(map(repr, unknown))}; valid reasons: "
                          + ", ".join(known_reasons(cfg.rules_file)))


def clean_document(doc: Document, cfg: CleanConfig | None = None) -> CleanDoc:
    """Strip boilerplate from one document and keep the audit.

    Args:
        doc: a document as ingested.
        cfg: which reasons to keep (``cfg.keep``) and the link-density cut.

    Returns:
        A ``CleanDoc`` whose ``removed`` spans plus ``kept`` spans rebuild
        ``doc.text`` exactly.
    """
    cfg = cfg or CleanConfig()
    rules = load_rules(cfg.rules_file)
    found = _merge(line_removals(doc.text, rules, greedy=doc.kind != "html"))
    if doc.kind == "html":
        # Where rules overlap, the most specific reason names the span: a line's
        # own phrase ("Skip to main content") first, then the block's structure
        # (footer, form, aside), then a text section running over it.
        lines = [r for r in found if r.reason not in SECTION_REASONS]
        sections = [r for r in found if r.reason in SECTION_REASONS]
        found = _overlay(_overlay(lines, _merge(html_removals(doc, cfg, rules))), sections)
        found = _merge([*found, *orphan_headings(doc, found)])
        found = _merge([*found, *stranded_blocks(doc, found)])
    removed = [r for r in found if r.reason not in cfg.keep and r.end > r.start]
    kept: list[Span] = []
    pos = 0
    for r in removed:
        if r.start > pos:
            kept.append((pos, r.start))
        pos = r.end
    if pos < len(doc.text):
        kept.append((pos, len(doc.text)))
    text = "".join(doc.text[s:e] for s, e in kept)
    return CleanDoc(doc=doc, kept=kept, removed=removed, text=text)


def clean(docs: Iterable[Document], cfg: CleanConfig | None = None) -> Iterator[CleanDoc]:
    """Clean a stream of documents (a pipeline stage)."""
    for doc in docs:
        yield clean_document(doc, cfg)
