"""Ingest's parallel form: files and JSON Lines records read, cleaned and signed in batches.

The driver (``pipeline``) stays in charge of order. Work is cut into
batches in corpus order: a run of files, or a run of JSON Lines records
(the main process only splits the file into lines, as ``ingest`` does, and
passes the raw lines on). Workers (``pool``) parse, clean, annotate and
resolve each batch, and sign it, and send back records and compact numpy
arrays; results are taken back strictly in batch order, so the documents,
their ids and every output are the same with ``jobs=1`` and ``jobs=N``
(``tests/test_speed_compat.py``).

Document ids must be unique across the whole run, and ``ingest`` makes them
so in reading order (``a``, ``a~2``, ...). A worker cannot know what other
batches hold, so it keeps each record's own id, and the driver makes ids
unique in order; in the rare case that changes an id, the document's outlet
is resolved again under its new id (outlets files match ids by pattern).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..clean import clean_document
from ..config import Config, IngestConfig
from ..credits import annotate
from ..errors import InputError
from ..ingest import (
    STDIN,
    check_stdin_once,
    direct_id,
    folder_files,
    input_folders,
    jsonl_lines,
    jsonl_record,
    kind_of,
    read_file,
    read_stdin,
    unique_id,
    walk,
)
from ..outlets import Outlets, resolve
from ..records import CleanDoc, Document, Skipped
from ..sign import sign_texts
from ..signatures import BatchJoiner, DiskJoiner, SignedBatch
from ..templates import LineKeys
from .memory import paused, release_free_memory
from .pool import call, default_jobs, ordered_map
from .spill import SpillDir, spill_both

#: JSON Lines records, and files, per batch.
RECORDS_PER_BATCH = 500
FILES_PER_BATCH = 64

#: Below this much input, worker processes cost more than they save.
MIN_PARALLEL_BYTES = 4 << 20


def jobs_for(paths: Iterable[Path], jobs: int) -> int:
    """``jobs`` (0: every core), or 1 when the inputs are too small to be worth splitting."""
    jobs = jobs or default_jobs()
    if jobs <= 1:
        return 1
    total = 0
    for root in paths:
        if os.fspath(root) == STDIN:  # its size is unknown until it is read
            continue
        try:
            files = (f for f in walk(root) if not isinstance(f, Skipped)) if root.is_dir() else [root]
            for file in files:
                total += file.stat().st_size
                if total >= MIN_PARALLEL_BYTES:
                    return jobs
        except OSError:
            continue
    return 1


# --- ingest, clean, annotate -------------------------------------------------


class _NoIds(set):  # type: ignore[type-arg]
    """A ``seen`` set that holds nothing, so ``ingest`` keeps each record's own id."""

    def __contains__(self, item: object) -> bool:
        return False

    def add(self, item: object) -> None:
        return None


@dataclass
class _Cleaned:
    """A cleaned document from a worker, with its outlet as read (before ``resolve``)."""

    clean: CleanDoc
    outlet: str | None
    outlet_source: str | None
    lines: LineKeys  # for the corpus-level template stage, hashed here rather than in the driver


def _finish(doc: Document, config: Config, outlets: Outlets) -> _Cleaned:
    clean = annotate(clean_document(doc, config.clean), outlets.agency_set())
    doc.blocks = None  # only cleaning reads an HTML page's blocks: not sent back, not kept
    outlet, source = doc.outlet, doc.outlet_source
    return _Cleaned(resolve(clean, outlets), outlet, source, LineKeys.of(clean, config.clean))


@dataclass
class _Done:
    """What a worker sends back for one batch: its items in order, and their signatures."""

    items: list[_Cleaned | Skipped]
    signed: SignedBatch | None  # of the batch's documents (skips left out), when asked for


class _Answer:
    """A worker's answer for one batch, built as documents are cleaned.

    Every ``RECORDS_PER_BATCH`` documents are signed (if asked) and then
    spilled (if asked) at once, so that one huge file (a WARC of a whole
    crawl) never has all its texts in memory together.
    """

    def __init__(self, config: Config, sign: bool, spill_dir: SpillDir | None) -> None:
        self.config, self.sign, self.spill_dir = config, sign, spill_dir
        self.items: list[_Cleaned | Skipped] = []
        self.fresh: list[_Cleaned] = []
        self.parts: list[SignedBatch] = []
        self.signed = 0

    def add(self, item: _Cleaned | Skipped) -> None:
        self.items.append(item)
        if isinstance(item, _Cleaned):
            self.fresh.append(item)
            if len(self.fresh) >= RECORDS_PER_BATCH:
                self._settle()

    def _settle(self) -> None:
        if not self.fresh:
            return
        if self.sign:
            part = sign_texts([item.clean.text for item in self.fresh], self.config.sign)
            part.shift(self.signed)
            self.parts.append(part)
            self.signed += len(self.fresh)
        if self.spill_dir is not None:
            for item in self.fresh:
                spill_both(item.clean, self.spill_dir)
        self.fresh = []

    def done(self) -> _Done:
        self._settle()
        if self.spill_dir is not None:
            self.spill_dir.flush()
        signed = None
        if self.sign:
            signed = SignedBatch.concat(self.parts, self.config.sign.num_perm)
        return _Done(self.items, signed)


def _clean_records(rel: str, path: str, lines: list[tuple[int, bytes]], config: Config,
                   outlets: Outlets, sign: bool = False,
                   spill_dir: SpillDir | None = None) -> _Done:
    """Worker: JSON Lines records -> cleaned documents (or why each was skipped), signed if asked."""
    out = _Answer(config, sign, spill_dir)
    for lineno, line in lines:
        try:
            doc = jsonl_record(line, lineno, rel, path, config.ingest, _NoIds())
        except InputError as exc:
            out.add(Skipped(exc.path, exc.reason))
            continue
        out.add(_finish(doc, config, outlets))
    return out.done()


def _clean_files(files: list[tuple[str, str]], config: Config, outlets: Outlets,
                 sign: bool = False, spill_dir: SpillDir | None = None) -> _Done:
    """Worker: whole files (text, HTML, WARC) -> cleaned documents (or why each was skipped).

    Signed too, when asked.
    """
    out = _Answer(config, sign, spill_dir)
    for file, rel in files:
        for item in read_file(Path(file), rel, config.ingest, _NoIds()):
            out.add(item if isinstance(item, Skipped) else _finish(item, config, outlets))
    return out.done()


def _clean_documents(docs: list[Document], config: Config, outlets: Outlets, sign: bool = False,
                     spill_dir: SpillDir | None = None) -> _Done:
    """Worker: documents the driver read (standard input, which only it can read) -> cleaned."""
    out = _Answer(config, sign, spill_dir)
    for doc in docs:
        out.add(_finish(doc, config, outlets))
    return out.done()


def _stdin_batches(config: Config, outlets: Outlets, sign: bool = False,
                   spill_dir: SpillDir | None = None) -> Iterator[tuple[Any, ...] | Skipped]:
    """Standard input read here (``ingest.read_stdin``), its documents cleaned in batches by workers."""
    batch: list[Document] = []
    for item in read_stdin(getattr(sys.stdin, "buffer", None), config.ingest, _NoIds()):
        if isinstance(item, Skipped):
            if batch:
                yield (_clean_documents, batch, config, outlets, sign, spill_dir)
                batch = []
            yield item
            continue
        batch.append(item)
        if len(batch) >= RECORDS_PER_BATCH:
            yield (_clean_documents, batch, config, outlets, sign, spill_dir)
            batch = []
    if batch:
        yield (_clean_documents, batch, config, outlets, sign, spill_dir)


def _jsonl_batches(file: Path, rel: str, cfg: IngestConfig, config: Config,
                   outlets: Outlets, sign: bool = False,
                   spill_dir: SpillDir | None = None) -> Iterator[tuple[Any, ...] | Skipped]:
    """A JSON Lines file as batches of raw lines, split by ``jsonl.jsonl_lines`` as ``ingest`` reads it."""
    path = str(file)
    batch: list[tuple[int, bytes]] = []
    for item in jsonl_lines(file, cfg):
        if isinstance(item, Skipped):
            if batch:  # keep reading order: the lines before a skip go first
                yield (_clean_records, rel, path, batch, config, outlets, sign, spill_dir)
                batch = []
            yield item
            continue
        batch.append(item)
        if len(batch) >= RECORDS_PER_BATCH:
            yield (_clean_records, rel, path, batch, config, outlets, sign, spill_dir)
            batch = []
    if batch:
        yield (_clean_records, rel, path, batch, config, outlets, sign, spill_dir)


def _batches(paths: Iterable[Path], config: Config, outlets: Outlets,
             sign: bool = False, spill_dir: SpillDir | None = None
             ) -> Iterator[tuple[Any, ...] | Skipped]:
    """Work in reading order (``ingest.read_paths``'s): batches for workers, or a record as it is."""
    files: list[tuple[str, str]] = []

    def flush() -> Iterator[tuple[Any, ...]]:
        nonlocal files
        if files:
            yield (_clean_files, files, config, outlets, sign, spill_dir)
            files = []

    def one(file: Path, rel: str) -> Iterator[tuple[Any, ...] | Skipped]:
        if kind_of(file.name) == "jsonl":
            yield from flush()
            yield from _jsonl_batches(file, rel, config.ingest, config, outlets, sign, spill_dir)
            return
        files.append((str(file), rel))
        if len(files) >= FILES_PER_BATCH:
            yield from flush()

    paths = list(paths)
    check_stdin_once(paths)
    folders = input_folders(paths)
    for root in paths:
        if os.fspath(root) == STDIN:
            yield from flush()
            yield from _stdin_batches(config, outlets, sign, spill_dir)
            continue
        if not root.exists() and not root.is_symlink():
            yield from flush()
            yield Skipped(str(root), "no such file or folder")
            continue
        if root.is_dir():
            for found in folder_files(root, folders, config.ingest.follow_links):
                if isinstance(found, Skipped):
                    yield from flush()
                    yield found
                else:
                    yield from one(*found)
        else:
            yield from one(root, direct_id(root, config.ingest))
    yield from flush()


@dataclass
class Ingested:
    """Documents cleaned one by one (before templates), what was skipped, and per document
    its ``LineKeys`` (for ``templates``) and, when asked for, its signatures."""

    cleaned: list[CleanDoc]
    skipped: list[Skipped]
    lines: list[LineKeys]
    signed: SignedBatch | None = None
    spill_dir: SpillDir | None = None  # where the texts are, when they were spilled


#: Fields of a document that many documents hold the same value of (an outlet, a date): each
#: answer unpickles its own copy, so the driver keeps one (``sys.intern``), about 120 bytes a
#: document less.
_SHARED = ("kind", "outlet", "outlet_source", "date", "date_source", "crawl_date", "agency")


def _share_strings(doc: Document) -> None:
    for name in _SHARED:
        value = getattr(doc, name)
        if type(value) is str:
            setattr(doc, name, sys.intern(value))


@paused()  # unpickling answers makes no cycles
def ingest_parallel(paths: list[Path], config: Config, outlets: Outlets, jobs: int,
                    progress: Callable[[str, int, int | None], None], sign: bool = False,
                    spill_dir: SpillDir | None = None) -> Ingested:
    """``pipeline.read_and_clean`` in ``jobs`` processes.

    With ``sign``, each worker also signs the batch it cleaned (``sign.sign_texts``),
    so the texts never travel to a worker a second time. With ``spill_dir``,
    the workers write the texts there and send back references (``spill``).
    """
    cleaned: list[CleanDoc] = []
    skipped: list[Skipped] = []
    lines: list[LineKeys] = []
    # each answer's signatures copied in as it comes; the largest arrays to files in the spill folder
    joined = (DiskJoiner(config.sign.num_perm, spill_dir.path) if spill_dir is not None
              else BatchJoiner(config.sign.num_perm))
    seen: set[str] = set()
    n = 0
    for result in ordered_map(call, _batches(paths, config, outlets, sign, spill_dir), jobs):
        if isinstance(result, _Done) and result.signed is not None:
            result.signed.shift(len(cleaned))
            joined.add(result.signed, shifted=True)
            result.signed = None
        for item in [result] if isinstance(result, Skipped) else result.items:
            n += 1
            if isinstance(item, Skipped):
                skipped.append(item)
                continue
            clean = item.clean
            doc_id = unique_id(clean.doc.id, seen)
            if doc_id != clean.doc.id:  # a repeated id: renamed, so its outlet is resolved again
                clean.doc.id = doc_id
                clean.doc.outlet, clean.doc.outlet_source = item.outlet, item.outlet_source
                resolve(clean, outlets)
            _share_strings(clean.doc)
            cleaned.append(clean)
            lines.append(item.lines)
        progress("read and clean", n, None)
    signed = joined.result() if sign else None
    release_free_memory()  # what the unpickled answers left
    return Ingested(cleaned, skipped, lines, signed, spill_dir)
