"""Index a corpus, and check new files against the index (``provenance index``, ``provenance check``).

``build`` and ``add`` clean and sign documents as ``scan`` does (document by
document: the corpus-level template stage is left out, on both sides) and
store them (``store``). ``check`` cleans and signs only the new files, reads
the index's buckets for their band keys (never the whole corpus), loads the
candidate documents, and runs the pipeline's own verification and lineage
over the new files plus those candidates: near-duplicates and republished
passages against the corpus and among the new files themselves. Exact
re-adds (the same sha256 of the cleaned text) are found by hash, at once.

The library never prints: it returns records, and reports progress through
an optional callback.

Example::

    store = open_store("corpus.db", create=True)
    build(["corpus/"], store, Config())
    result = check(["new/"], open_store("corpus.db"), Config())
    result.verdict.passed
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config
from ..errors import ConfigError, NothingReadable
from ..evidence import author_homes
from ..families import build_families
from ..lineage import attributed_groups, attributed_matches
from ..passages import PassageView
from ..pipeline import Progress, Report, no_progress, read_and_clean
from ..pipeline import params as run_params
from ..records import CleanDoc, Credit, Document, Removal, Skipped
from ..render.report import document_dict
from ..runtime.pool import ordered_map
from ..runtime.spill import Texts
from ..sign import sign_texts
from ..templates import LineKeys, apply_templates, learn_from, learn_with_index, scope_of
from ..verify import equal_pair, verify_documents, verify_passages
from ..version import __version__
from .params import config_from_params, ensure_params, index_params, param_differences
from .store import AddResult, Entry, IndexStore, StoredDoc, keys_of

#: Ids of indexed documents carry this prefix in a check's report, so that a
#: new file and an indexed one never share an id.
INDEX_PREFIX = "index:"
FAIL_ON = ("documents", "passages", "none")
_CHUNK = 400



# -- entries --------------------------------------------------------------------

def text_hash(text: str) -> str:
    """The content hash of a cleaned text: sha256, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_entry(clean: CleanDoc, values: np.ndarray, psig: np.ndarray, pspans: np.ndarray,
               params: dict[str, Any], extra: Extra) -> Entry:
    """What the index stores for one cleaned, signed document.

    ``extra`` holds what was known before the template stage: the content
    hash (so that an exact re-add is recognised whatever the templates have
    become since), the document's scope and its ``LineKeys`` (so that later
    adds and checks learn templates from the corpus).
    """
    dkeys, pkeys, valid = keys_of(values, psig, params)
    meta = document_dict(clean)
    meta["kept"] = [list(k) for k in clean.kept]
    d = clean.doc
    return Entry(d.id, extra.hash, d.outlet, d.url, d.date, meta, clean.text, values, psig,
                 pspans.astype(np.uint32).reshape(-1, 2), dkeys, pkeys, valid,
                 scope=extra.scope, page=extra.lines.page, tkeys=extra.lines.keys)


@dataclass(frozen=True)
class Extra:
    """A document's content hash, template scope and line keys, from before the template stage."""

    hash: str
    scope: str
    lines: LineKeys


@dataclass
class Prepared:
    """New documents, cleaned as ``scan`` cleans them, ready to be signed and stored."""

    cleaned: list[CleanDoc]  # per-document cleaning, then the templates
    skipped: list[Skipped]
    extras: list[Extra]


def prepare(paths: Iterable[str | os.PathLike[str]], config: Config, store: IndexStore | None = None,
            *, workers: int = 1, progress: Progress = no_progress) -> Prepared:
    """Read and clean documents for the index, templates included.

    Each document is cleaned on its own, then each outlet's templates (short
    lines on many of its pages) are learnt, as ``scan`` learns them, from
    these documents together with the ones the index already holds in the
    same scopes (the index's counts for these documents' own lines and
    pages: neither the index's texts nor its other lines are read), and
    stripped. Documents indexed before a line became a template keep it
    until the index is rebuilt.
    """
    # a file named directly is known by its path, not its bare name (``IngestConfig.file_ids``)
    config = replace(config, ingest=replace(config.ingest, file_ids="path"))
    read = read_and_clean(paths, config, progress, workers)
    cleaned, skipped, lines = read.cleaned, read.skipped, read.lines
    extras = [Extra(text_hash(c.text), scope_of(c), lk) for c, lk in zip(cleaned, lines, strict=True)]
    scopes = [e.scope for e in extras]
    templates = (learn_from(scopes, lines, config.clean) if store is None
                 else learn_with_index(scopes, lines, config.clean, store.template_counts))
    cleaned = [apply_templates(c, templates, config.clean, lk) for c, lk in zip(cleaned, lines, strict=True)]
    return Prepared(cleaned, skipped, extras)


def _entries(cleaned: list[CleanDoc], extras: list[Extra], config: Config,
             params: dict[str, Any]) -> list[Entry]:
    """Worker: sign a chunk of cleaned documents and make their entries, encoded for storage."""
    signed = sign_texts([c.text for c in cleaned], config.sign)
    bounds = signed.passage_bounds()
    p_values = signed.p_values  # built from the documents' and the passages' own values: once
    entries = []
    for i, (clean, extra) in enumerate(zip(cleaned, extras, strict=True)):
        rows = slice(int(bounds[i]), int(bounds[i + 1]))
        entry = make_entry(clean, signed.doc_values[i], p_values[rows],
                           np.column_stack([signed.p_start[rows], signed.p_end[rows]]), params, extra)
        entry.pack()  # encode here: in a worker process, not in the one that writes
        entries.append(entry)
    return entries


def iter_entries(prepared: Prepared, config: Config, params: dict[str, Any], *, workers: int = 1,
                 progress: Progress = no_progress) -> Iterator[Entry]:
    """Sign prepared documents in chunks (in ``workers`` processes) and yield their entries in order."""
    docs, extras = prepared.cleaned, prepared.extras
    jobs = workers if len(docs) > _CHUNK else 1
    chunks = ((docs[k:k + _CHUNK], extras[k:k + _CHUNK], config, params) for k in range(0, len(docs), _CHUNK))
    done = 0
    progress("sign", 0, len(docs))
    for batch in ordered_map(_entries, chunks, jobs):
        done += len(batch)
        progress("sign", done, len(docs))
        yield from batch


def build(paths: Iterable[str | os.PathLike[str]], store: IndexStore, config: Config, *,
          force: bool = False, workers: int = 1,
          progress: Progress = no_progress) -> tuple[AddResult, list[Skipped]]:
    """Create an index of ``paths`` (one transaction; a file is renamed into place when complete).

    Raises:
        IndexStoreError: the index exists (without ``force``) or cannot be written.
        NothingReadable: no input was readable; nothing is written.
    """
    paths = list(paths)
    params = index_params(config)
    prepared = prepare(paths, config, workers=workers, progress=progress)
    if not prepared.cleaned:
        raise NothingReadable(_nothing(paths, prepared.skipped))
    store.create(params, force=force)
    try:
        result = store.add(iter_entries(prepared, config, params, workers=workers, progress=progress))
        store.commit()
    except BaseException:
        store.abort()
        raise
    return result, prepared.skipped


def add(paths: Iterable[str | os.PathLike[str]], store: IndexStore, config: Config, *,
        workers: int = 1, progress: Progress = no_progress) -> tuple[AddResult, list[Skipped]]:
    """Add documents to an existing index in one transaction (replacing those with the same id)."""
    paths = list(paths)
    params = ensure_params(store, config)
    prepared = prepare(paths, config, store, workers=workers, progress=progress)
    if not prepared.cleaned:
        raise NothingReadable(_nothing(paths, prepared.skipped))  # the add was empty: nothing changed
    # Streamed: SQLite stages rows as they come, without holding the index's lock.
    result = store.add(iter_entries(prepared, config, params, workers=workers, progress=progress))
    return result, prepared.skipped


def _nothing(paths: Iterable[str | os.PathLike[str]], skipped: list[Skipped]) -> str:
    return ("nothing readable in " + ", ".join(str(p) for p in paths)
            + (f" ({len(skipped)} skipped)" if skipped else ""))


# -- check --------------------------------------------------------------------------

@dataclass
class Finding:
    """One copy that involves a new file, from that file's side."""

    file: str  # the new file's document id
    path: str  # the new file's path (for a JSONL or WARC record, with #record)
    kind: str  # "exact", "document" or "passage"
    other: str  # the other document's id (``index:...`` when it is in the index)
    in_index: bool
    similarity: float
    span: tuple[int, int]  # in the new file's text
    other_span: tuple[int, int]
    outlet: str | None
    other_outlet: str | None
    date: str | None
    other_date: str | None
    direction: str  # "copy" (this file copies), "original" (it was first) or "unknown"
    origin: str | None  # the id of the origin, when one is decided
    confidence: float
    evidence: list[str]
    fails: bool = False


@dataclass
class Verdict:
    """Whether the new files may be added, by the rule the caller chose."""

    fail_on: str
    threshold: float | None
    files: int
    failing: list[str]
    counts: dict[str, int]

    @property
    def passed(self) -> bool:
        return not self.failing


@dataclass
class CheckReport:
    """Everything a check found: a scan ``Report`` over the new files and the indexed ones they copy."""

    report: Report
    new: list[str]
    findings: list[Finding]
    verdict: Verdict
    index: dict[str, Any]
    exact: set[tuple[int, int]] = field(default_factory=set)
    entries: list[Entry] = field(default_factory=list, repr=False)


def _restore(stored: StoredDoc) -> CleanDoc:
    """A ``CleanDoc`` for an indexed document; removed text (not stored) reads as spaces."""
    m = stored.meta
    kept = [(int(a), int(b)) for a, b in m["kept"]]
    pieces, pos, used = [], 0, 0
    for a, b in kept:
        pieces.append(" " * (a - pos))
        pieces.append(stored.text[used:used + b - a])
        used, pos = used + b - a, b
    pieces.append(" " * max(0, int(m["chars"]) - pos))
    doc = Document(id=INDEX_PREFIX + stored.id, path=m["path"], text="".join(pieces), kind=m["kind"],
                   title=m["title"], outlet=m["outlet"], outlet_source=m["outlet_source"], url=m["url"],
                   date=m["date"], date_source=m["date_source"], crawl_date=m["crawl_date"],
                   author=m.get("author"), agency=m.get("agency"))
    return CleanDoc(doc=doc, kept=kept, text=stored.text,
                    removed=[Removal(r["start"], r["end"], r["reason"]) for r in m["removed"]],
                    credits=[Credit(c["outlet"], c["start"], c["end"], c["kind"], c["line"],
                                    bool(c.get("agency")))
                             for c in m["credits"]])


def _capped(hits: Iterable[Any], cap: int) -> list[Any]:
    return sorted(set(hits))[:cap]


def check(paths: Iterable[str | os.PathLike[str]], store: IndexStore, config: Config, *,
          fail_on: str = "documents", threshold: float | None = None,
          progress: Progress = no_progress) -> CheckReport:
    """Check new files against an index and among themselves.

    Args:
        paths: the new files or folders.
        store: an open index (``open_store``); its parameters must match ``config``.
        config: parameters; the verify cut-offs decide what is reported.
        fail_on: ``documents`` (near-duplicates and exact copies fail), ``passages``
            (republished passages fail too) or ``none``.
        threshold: the similarity (0-100) a finding needs to fail; None: any finding.

    Returns:
        A ``CheckReport``; ``report.verdict.passed`` says whether the files may go in.
    """
    if fail_on not in FAIL_ON:
        raise ConfigError(f"fail_on must be one of {', '.join(FAIL_ON)}, got {fail_on!r}")
    paths = [Path(p) for p in paths]
    params = ensure_params(store, config)
    prepared = prepare(paths, config, store, progress=progress)
    cleaned, skipped = prepared.cleaned, prepared.skipped
    entries = list(iter_entries(prepared, config, params))
    n, cap = len(cleaned), config.match.max_candidates_per_item
    progress("query index", 0, n)
    with store.snapshot():
        by_hash = store.find_hashes({e.hash for e in entries})
        exact_rows = {i: by_hash[e.hash][:cap] for i, e in enumerate(entries) if e.hash in by_hash}
        fuzzy = [i for i in range(n) if i not in exact_rows]
        dhits = store.doc_buckets({int(k) for i in fuzzy for k in entries[i].dkeys}, cap + 1)
        phits = store.passage_buckets({int(k) for i in fuzzy for k in entries[i].pkeys[entries[i].pvalid]
                                       .ravel()}, cap + 1)
        doc_rows = {i: _capped((r for k in entries[i].dkeys for r in dhits.get(int(k), ())), cap)
                    for i in fuzzy}
        passage_rows = {(i, p): _capped((h for k in entries[i].pkeys[p] for h in phits.get(int(k), ())), cap)
                        for i in fuzzy for p in np.nonzero(entries[i].pvalid)[0].tolist()}
        wanted = ({r for rows in exact_rows.values() for r in rows} | {r for rows in doc_rows.values()
                  for r in rows} | {r for rows in passage_rows.values() for r, _ in rows})
        stored = sorted(store.load(wanted), key=lambda s: s.id)
        index_info = {"backend": store.backend, "documents": store.count(), "candidates": len(stored)}
    progress("query index", n, n)
    combined = list(cleaned) + [_restore(s) for s in stored]
    at = {s.rowid: n + k for k, s in enumerate(stored)}
    view = PassageView.of_spans([e.pspans for e in entries] + [s.pspans for s in stored], Texts(combined))

    # A new file that the index already holds under its own id (a retried check after
    # ``--update``, or an edit that ``--update`` will store in its place) is compared with the
    # rest of the index, never with its own stored copy: it is not a duplicate of itself.
    new_at = {c.doc.id: i for i, c in enumerate(cleaned)}
    itself = {(new_at[s.id], n + k) for k, s in enumerate(stored) if s.id in new_at}
    # document pairs: exact by hash, the rest from shared band keys
    exact: set[tuple[int, int]] = {(i, at[r]) for i, rows in exact_rows.items() for r in rows if r in at}
    exact -= itself
    first_of: dict[str, int] = {}
    for i, e in enumerate(entries):
        if e.hash in first_of:
            exact.add((first_of[e.hash], i))
        else:
            first_of[e.hash] = i
    pairs = {(i, at[r]) for i, rows in doc_rows.items() for r in rows if r in at}
    # Among the new files, and among the indexed candidates too: copies the index already
    # holds of one another join one group, so that a passage is reported once, against
    # their origin, as scan reports it.
    buckets: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        for k in entries[i].dkeys:
            buckets[int(k)].append(i)
    dtype = params["sign"]["dtype"]
    for k, s in enumerate(stored):
        sig = np.frombuffer(s.sig, dtype=np.dtype(dtype))
        for key in keys_of(sig, np.empty((0, len(sig)), sig.dtype), params)[0]:
            buckets[int(key)].append(n + k)
    pairs |= {(a, b) for members in buckets.values() for a in members[:cap] for b in members[:cap]
              if a < b}
    pairs -= exact | itself
    verified = verify_documents(combined, sorted(pairs), config.verify)
    verified += [equal_pair(combined, i, j) for i, j in sorted(exact)]
    homes = author_homes(combined)
    groups, group_of = attributed_groups(verified, combined, homes)

    # passage pairs: new passages against indexed ones and against other new files
    ppairs: set[tuple[tuple[int, int], tuple[int, int]]] = {
        ((i, p), (at[r], q)) for (i, p), rows in passage_rows.items() for r, q in rows if r in at}
    pbuckets: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i in fuzzy:
        for p in np.nonzero(entries[i].pvalid)[0].tolist():
            for k in entries[i].pkeys[p]:
                pbuckets[int(k)].append((i, p))
    for members in pbuckets.values():
        for x in members[:cap]:
            ppairs.update((x, y) for y in members[:cap] if x[0] < y[0])
    ppairs = {(x, y) for x, y in ppairs if (x[0], y[0]) not in itself}
    progress("verify", 0, len(pairs) + len(ppairs))
    matches = verify_passages(combined, view, sorted(ppairs), config.verify, group_of=group_of)
    matches = attributed_matches(matches, groups, combined, homes)
    progress("verify", len(pairs) + len(ppairs), len(pairs) + len(ppairs))
    # Report what touches a new file: groups of indexed documents alone are the corpus's business.
    groups = [g for g in groups if g.members[0] < n]
    matches = [m for m in matches if min(m.a, m.b) < n]
    # Families as scan builds them (without aligning a copy afresh with the origin: a check
    # keeps every pair that touches a new file, since each is a finding about that file).
    families, _ = build_families(matches, combined, homes)
    report = Report(__version__, run_params(paths, config), combined, skipped, groups, matches,
                    families=families)
    findings = _findings(report, n, exact)
    verdict = _verdict(findings, [c.doc.id for c in cleaned], fail_on, threshold)
    return CheckReport(report, [c.doc.id for c in cleaned], findings, verdict, index_info, exact, entries)


def _findings(report: Report, n: int, exact: set[tuple[int, int]]) -> list[Finding]:
    docs = report.cleaned
    out: list[Finding] = []

    def add(me: int, other: int, kind: str, similarity: float, span: tuple[int, int],
            other_span: tuple[int, int], origin: int | None, confidence: float, evidence: list[str]) -> None:
        a, b = docs[me].doc, docs[other].doc
        direction = "unknown" if origin is None else ("original" if origin == me else "copy")
        out.append(Finding(a.id, a.path, kind, b.id, other >= n, similarity, span, other_span,
                           a.outlet, b.outlet, a.date, b.date, direction,
                           docs[origin].doc.id if origin is not None else None, confidence, evidence))

    for g in report.groups:
        ev = [e.detail for e in g.evidence if e.weight > 0]
        for p in g.pairs:
            kind = "exact" if (p.a, p.b) in exact else "document"
            for me, other, span, ospan in ((p.a, p.b, p.a_span, p.b_span), (p.b, p.a, p.b_span, p.a_span)):
                if me < n:
                    add(me, other, kind, p.similarity, span, ospan, g.origin, g.confidence, ev)
    for m in report.matches:
        origin = {"a": m.a, "b": m.b}.get(m.origin or "")
        ev = [e.detail for e in m.evidence if e.weight > 0]
        for me, other, span, ospan in ((m.a, m.b, m.a_span, m.b_span), (m.b, m.a, m.b_span, m.a_span)):
            if me < n:
                add(me, other, "passage", m.similarity, span, ospan, origin, m.confidence, ev)
    order = {"exact": 0, "document": 1, "passage": 2}
    out.sort(key=lambda f: (f.file, order[f.kind], -f.similarity, f.other, f.span))
    return out


def _verdict(findings: list[Finding], new: list[str], fail_on: str, threshold: float | None) -> Verdict:
    kinds = {"documents": {"exact", "document"}, "passages": {"exact", "document", "passage"},
             "none": set()}[fail_on]
    for f in findings:
        # A new file that another new file copies is not itself the duplicate.
        first = f.direction == "original" and not f.in_index
        f.fails = (f.kind in kinds and not first
                   and (threshold is None or f.similarity >= threshold))
    failing = sorted({f.file for f in findings if f.fails})
    counts = {k: len({(f.file, f.other) for f in findings if f.kind == k})
              for k in ("exact", "document", "passage")}
    return Verdict(fail_on, threshold, len(new), failing, counts)


def update(result: CheckReport, store: IndexStore) -> AddResult:
    """Add a checked batch's new files to the index (one transaction), without re-reading them."""
    return store.add(result.entries)


__all__ = ["FAIL_ON", "INDEX_PREFIX", "CheckReport", "Finding", "NothingReadable", "Verdict", "add",
           "build", "check", "config_from_params", "ensure_params", "index_params", "iter_entries",
           "make_entry", "param_differences", "prepare", "text_hash", "update"]
