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
  long kept paragraph, so an article the outlet posted three times counts once
  and its short lines (a headline, a one-line paragraph) are not furniture.

Runs after the per-document rules, on the kept text, and adds removals with
the reason ``template``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import xxhash

from .config import CleanConfig
from .names import outlet_key
from .records import CleanDoc, Removal, Span

_WORD = re.compile(r"\w+", re.UNICODE)


def scope_of(clean: CleanDoc) -> str:
    """The set of pages a template is learnt over: the outlet, else the folder."""
    doc = clean.doc
    key = outlet_key(doc.outlet)
    if key:
        return "outlet:" + key
    path = doc.id.split("#", 1)[0]
    return "folder:" + (path.rsplit("/", 1)[0] if "/" in path else "")


def _line_key(line: str) -> int:
    return xxhash.xxh64_intdigest(" ".join(line.casefold().split()).encode("utf-8"))


@lru_cache(maxsize=8)
def _more_than(max_words: int) -> re.Pattern[str]:
    # each word must be followed by a non-word or the end, so a word is never split in two
    return re.compile(r"\W*(?:\w+(?:\W+|\Z)){" + str(max_words + 1) + "}")


def _short(line: str, max_words: int) -> bool:
    """At most ``max_words`` words (``\\w+`` runs), decided in C, without a list of them.

    An ASCII line (most news; ``str.isascii`` is a flag) has its word characters mapped to
    ``a`` and the rest to a space, byte for byte, and its words counted as the places where
    a word starts: three passes in C, where the pattern walked every character of a
    paragraph's first forty words (its part of the whole cleaning stage: a tenth)."""
    if len(line) <= 2 * max_words:  # each word but the last takes two characters or more
        return True
    if line.isascii():
        mapped = line.encode("ascii").translate(_ASCII_WORDS)
        return mapped.count(b" a") + (mapped[0] == 97) <= max_words
    return _more_than(max_words).match(line) is None


#: ASCII bytes to ``a`` (a word character, as ``\\w`` has it) or a space (any other).
_ASCII_WORDS = bytes(97 if _WORD.match(chr(c)) else 32 for c in range(128)) + bytes(32 for _ in range(128))


def _kept_lines(clean: CleanDoc, max_words: int) -> list[tuple[int, int, int]]:
    """(key, start, end) of each short kept line, offsets in ``doc.text``."""
    out = []
    text = clean.doc.text
    for start, end in clean.kept:
        pos = start
        for line in text[start:end].splitlines(keepends=True):
            stripped = line.strip()
            if stripped and _short(stripped, max_words):
                out.append((_line_key(stripped), pos, pos + len(line)))
            pos += len(line)
    return out


@dataclass
class LineKeys:
    """What template learning needs of one document: its page and its short lines' keys.

    Small and picklable, so that worker processes compute it next to the
    cleaning and the driver learns from arrays, without the texts.
    """

    page: int
    keys: np.ndarray  # uint64, one per short kept line

    @classmethod
    def of(cls, clean: CleanDoc, cfg: CleanConfig) -> LineKeys:
        """Hash a cleaned document's kept lines, in one pass.

        The short ones are the candidates for templates (the keys
        ``_kept_lines`` gives); the first long one names the page (reposts of
        one article share it), or the whole text when there is none.
        """
        keys: list[int] = []
        page: int | None = None
        text = clean.doc.text
        for start, end in clean.kept:
            for line in text[start:end].splitlines():
                stripped = line.strip()
                if not stripped:
                    continue
                if _short(stripped, cfg.template_max_words):
                    keys.append(_line_key(stripped))
                elif page is None:
                    page = _line_key(stripped)
        return cls(page if page is not None else _line_key(clean.text), np.array(keys, dtype=np.uint64))

    def __reduce__(self) -> tuple[Any, tuple[int, bytes]]:
        # the keys as bytes: a worker sends one of these a document, and pickling a small
        # array costs ten times its bytes
        return (_line_keys, (self.page, self.keys.astype(np.uint64, copy=False).tobytes()))


def _line_keys(page: int, keys: bytes) -> LineKeys:
    """``LineKeys.__reduce__`` undone (the keys read-only: nothing writes them)."""
    return LineKeys(page, np.frombuffer(keys, dtype=np.uint64))


def learn_templates(cleaned: Sequence[CleanDoc], cfg: CleanConfig,
                    lines: Sequence[LineKeys] | None = None) -> dict[str, set[int]]:
    """Per scope, the keys of lines that are template text there.

    ``lines`` are the documents' ``LineKeys``, when the caller has them already.
    """
    if lines is None:
        lines = [LineKeys.of(c, cfg) for c in cleaned]
    return learn_from([scope_of(c) for c in cleaned], lines, cfg)


def _records(columns: list[np.ndarray], names: str) -> np.ndarray:
    """Columns as one structured array, so that ``np.unique`` treats each row as a whole."""
    return np.rec.fromarrays(columns, names=names)  # type: ignore[call-overload,no-any-return]


def pages_needed(pages: Any, cfg: CleanConfig) -> Any:
    """How many of a scope's ``pages`` (a count, or an array of counts) must hold a line for it
    to be template text: ``template_min_docs``, and ``template_min_share`` of them."""
    return np.maximum(cfg.template_min_docs, cfg.template_min_share * pages)


def learn_from(scopes: Sequence[str], lines: Sequence[LineKeys], cfg: CleanConfig) -> dict[str, set[int]]:
    """``learn_templates`` over each document's scope and ``LineKeys`` alone (no texts).

    Counted with numpy over all documents at once: for each scope and line
    key, the number of distinct pages that hold it. The index keeps these
    two per document, so that ``check`` learns from the corpus and the new
    files together without reading the corpus's texts.
    """
    scope_ids: dict[str, int] = {}
    doc_scope = np.array([scope_ids.setdefault(s, len(scope_ids)) for s in scopes], dtype=np.int64)
    if not len(doc_scope):
        return {}
    pages = np.array([lk.page for lk in lines], dtype=np.uint64)
    pairs = np.unique(_records([doc_scope, pages], "s,p"))  # distinct pages per scope
    pages_in = np.bincount(pairs["s"], minlength=len(scope_ids))
    counts = np.array([len(lk.keys) for lk in lines], dtype=np.int64)
    keys = np.concatenate([lk.keys.astype(np.uint64, copy=False) for lk in lines])
    rows = np.unique(_records([np.repeat(doc_scope, counts), keys, np.repeat(pages, counts)],
                              "s,k,p"))  # one row per (scope, key, page)
    held, holders = np.unique(_records([rows["s"], rows["k"]], "s,k"), return_counts=True)
    need = pages_needed(pages_in, cfg)
    hit = holders >= need[held["s"]]
    names = {v: k for k, v in scope_ids.items()}
    out: dict[str, set[int]] = defaultdict(set)
    for scope, key in zip(held["s"][hit].tolist(), held["k"][hit].tolist(), strict=True):
        out[names[scope]].add(int(key))
    return dict(out)


@dataclass(frozen=True)
class TemplateCounts:
    """What an index knows of one template scope, for the lines and pages a check asks about."""

    pages: int  # distinct pages the index holds in the scope
    holders: dict[int, int]  # line key -> distinct indexed pages that hold it
    known: set[int]  # the asked-about pages the index holds already


def learn_with_index(scopes: Sequence[str], lines: Sequence[LineKeys], cfg: CleanConfig,
                     counts: Callable[[dict[str, tuple[set[int], set[int]]]], dict[str, TemplateCounts]]
                     ) -> dict[str, set[int]]:
    """``learn_from`` over new documents plus what an index counts of the same scopes.

    ``counts`` is the index's ``template_counts``: asked for the new documents'
    own line keys and pages only, it says how many distinct indexed pages each
    scope has and hold each line, and which of the new pages it holds already
    (those are not counted twice). Only lines of the new documents can be
    stripped from them, so only those are asked about.
    """
    by_scope: dict[str, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    pages_of: dict[str, set[int]] = defaultdict(set)
    for scope, lk in zip(scopes, lines, strict=True):
        pages_of[scope].add(lk.page)
        for key in lk.keys.tolist():
            by_scope[scope][key].add(lk.page)
    known = counts({scope: (set(by_scope[scope]), pages_of[scope]) for scope in pages_of})
    out: dict[str, set[int]] = {}
    for scope, pages in pages_of.items():
        index = known.get(scope, TemplateCounts(0, {}, set()))
        need = pages_needed(index.pages + len(pages - index.known), cfg)
        keys = {key for key, holders in by_scope[scope].items()
                if index.holders.get(key, 0) + len(holders - index.known) >= need}
        if keys:
            out[scope] = keys
    return out


def apply_templates(clean: CleanDoc, templates: dict[str, set[int]], cfg: CleanConfig,
                    lines: LineKeys | None = None) -> CleanDoc:
    """Remove the document's template lines (reason ``template``) unless the user keeps them.

    With the document's ``LineKeys``, a document that holds no template line
    is passed over without reading its text again.
    """
    keys = templates.get(scope_of(clean))
    if not keys or "template" in cfg.keep:
        return clean
    if lines is not None and not any(int(k) in keys for k in lines.keys):
        return clean
    cut = [(s, e) for key, s, e in _kept_lines(clean, cfg.template_max_words) if key in keys]
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


def strip_templates(cleaned: list[CleanDoc], cfg: CleanConfig,
                    lines: Sequence[LineKeys] | None = None) -> list[CleanDoc]:
    """Learn each scope's templates over the corpus, then strip them (a corpus-level stage).

    ``lines``: the documents' ``LineKeys``, when worker processes made them.
    """
    if lines is None:
        lines = [LineKeys.of(c, cfg) for c in cleaned]  # each line hashed once
    templates = learn_templates(cleaned, cfg, lines)
    return [apply_templates(c, templates, cfg, lk) for c, lk in zip(cleaned, lines, strict=True)]
