"""Per-outlet templates: lines that one outlet repeats on many of its pages.

A site's header, footer, "About us" line or disclaimer repeats on every page
it publishes; left in, it makes that site's unrelated pages look alike.
Repetition across *different* outlets is the opposite case: that is
syndication, what this tool exists to find, so it is never, by itself, a
reason to strip. The two are told apart by scope: lines are counted per
outlet (or, for documents whose outlet is unknown, per folder), and a line
is template text for that scope only when

* it stands in at least ``template_min_docs`` of the scope's documents, and
  in at least ``template_min_share`` of them, and
* it is short (at most ``template_max_words`` words): furniture is a line or
  two, while an article body that one outlet happens to post twice is made
  of long paragraphs and must stay, so that the copies are still found; and
* the pages holding it are different pages: they are counted by their first
  long paragraph, so an article the outlet posted three times counts once
  and its short lines (a headline, a one-line paragraph) are not furniture.

Runs after the per-document rules, on the kept text, and adds removals with
the reason ``template``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

import xxhash

from .config import CleanConfig
from .outlets import outlet_key
from .records import CleanDoc, Removal, Span

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)


def scope_of(clean: CleanDoc) -> str:
    """The set of pages a template is learnt over: the outlet, else the folder."""
    doc = clean.doc
    key = outlet_key(doc.outlet)
    if key:
        return "outlet:" + key
    path = doc.id.split("#", 1)[0]
    return "folder:" + (path.rsplit("/", 1)[0] if "/" in path else "")


def _kept_lines(clean: CleanDoc, max_words: int) -> list[tuple[int, int, int]]:
    """(key, start, end) of each short kept line, offsets in ``doc.text``."""
    out = []
    text = clean.doc.text
    for start, end in clean.kept:
        pos = start
        for line in text[start:end].splitlines(keepends=True):
            stripped = line.strip()
            words = len(_WORD.findall(stripped))
            if stripped and words <= max_words:
                key = xxhash.xxh64_intdigest(_SPACE.sub(" ", stripped.casefold()).encode("utf-8"))
                out.append((key, pos, pos + len(line)))
            pos += len(line)
    return out


def _page_key(clean: CleanDoc, max_words: int) -> int:
    """Which page this is, by its first long paragraph (reposts of one article share it)."""
    for line in clean.text.splitlines():
        if len(_WORD.findall(line)) > max_words:
            return xxhash.xxh64_intdigest(_SPACE.sub(" ", line.strip().casefold()).encode("utf-8"))
    return xxhash.xxh64_intdigest(_SPACE.sub(" ", clean.text.strip().casefold()).encode("utf-8"))


def learn_templates(cleaned: Sequence[CleanDoc], cfg: CleanConfig,
                    lines: Sequence[list[tuple[int, int, int]]] | None = None) -> dict[str, set[int]]:
    """Per scope, the keys of lines that are template text there.

    ``lines`` are the documents' ``_kept_lines``, when the caller has them already.
    """
    docs_in: dict[str, set[int]] = defaultdict(set)
    seen: dict[str, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    for i, clean in enumerate(cleaned):
        scope = scope_of(clean)
        page = _page_key(clean, cfg.template_max_words)
        docs_in[scope].add(page)
        for key, _, _ in (lines[i] if lines is not None else _kept_lines(clean, cfg.template_max_words)):
            seen[scope][key].add(page)
    out: dict[str, set[int]] = {}
    for scope, pages in seen.items():
        need = max(cfg.template_min_docs, cfg.template_min_share * len(docs_in[scope]))
        keys = {k for k, holders in pages.items() if len(holders) >= need}
        if keys:
            out[scope] = keys
    return out


def apply_templates(clean: CleanDoc, templates: dict[str, set[int]], cfg: CleanConfig,
                    lines: list[tuple[int, int, int]] | None = None) -> CleanDoc:
    """Remove the document's template lines (reason ``template``) unless the user keeps them."""
    keys = templates.get(scope_of(clean))
    if not keys or "template" in cfg.keep:
        return clean
    if lines is None:
        lines = _kept_lines(clean, cfg.template_max_words)
    cut = [(s, e) for key, s, e in lines if key in keys]
    if not cut:
        return clean
    removed = sorted([*clean.removed, *(Removal(s, e, "template") for s, e in cut)],
                     key=lambda r: (r.start, r.end))
    kept: list[Span] = []
    pos = 0
    for r in removed:
        if r.start > pos:
            kept.append((pos, r.start))
        pos = max(pos, r.end)
    if pos < len(clean.doc.text):
        kept.append((pos, len(clean.doc.text)))
    clean.removed, clean.kept = removed, kept
    clean.text = "".join(clean.doc.text[s:e] for s, e in kept)
    return clean


def strip_templates(cleaned: list[CleanDoc], cfg: CleanConfig) -> list[CleanDoc]:
    """Learn each scope's templates over the corpus, then strip them (a corpus-level stage)."""
    lines = [_kept_lines(c, cfg.template_max_words) for c in cleaned]  # each line hashed once
    templates = learn_templates(cleaned, cfg, lines)
    return [apply_templates(c, templates, cfg, kept) for c, kept in zip(cleaned, lines, strict=True)]
