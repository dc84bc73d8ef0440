"""Read and clean, in batches: the one path, whether a batch runs in the driver or in a worker.

The inputs are walked once (``ingest.sources``) and cut into batches in
corpus order: a run of files, or a run of JSON Lines records (the driver
only splits the file into lines, as ``ingest`` does, and passes the raw
lines on), or documents the driver read (standard input, records in
memory). Each batch is a tuple ``(function, *arguments)`` whose function
parses, cleans, annotates and resolves its documents, signs them when asked
and spills their texts (``runtime.spill``): with one job the driver runs it
itself, with more a worker does (``runtime.pool.ordered_map``), and
``gather`` takes the answers back in batch order. So the documents, their
ids, what is skipped and why, and every output are the same for any number
of jobs (``tests/test_speed_compat.py``, ``tests/test_ingest.py``).

Document ids must be unique across the whole run, and ``ingest`` makes them
so in reading order (``a``, ``a~2``, ...). A batch cannot know what other
batches hold, so it keeps each record's own id, and ``gather`` makes ids
unique in order; in the rare case that changes an id, the document's outlet
is resolved again under its new id (outlets files match ids by pattern).

Between the batches, ``batches`` yields how many bytes of input the walk has
just found (an ``int``): ``pool.worth_workers`` reads ahead on those to
decide whether workers pay off before any is started, so a small input is
never handed to a pool, and a large one starts its pool while the walk goes on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .clean import clean_document
from .config import Config, IngestConfig
from .credits import annotate
from .ingest import jsonl_lines, kind_of, read_bytes, read_file, read_stdin, sources, unique_id
from .jsonl import jsonl_documents
from .outlets import Outlets, resolve
from .records import CleanDoc, Document, Skipped
from .runtime.memory import paused, release_free_memory
from .runtime.spill import SpillDir, spill_both
from .sign import sign_texts
from .signatures import BatchJoiner, DiskJoiner, SignedBatch
from .templates import LineKeys

#: JSON Lines records (and documents read in the driver), and files, per batch.
RECORDS_PER_BATCH = 500
FILES_PER_BATCH = 64

#: A batch to run (``(function, *arguments)``), a document skipped as it was found, or the
#: bytes of input the walk has just found (``pool.worth_workers`` weighs them).
Work = tuple[Any, ...] | Skipped | int


class _NoIds(set):  # type: ignore[type-arg]
    """A ``seen`` set that holds nothing, so ``ingest`` keeps each record's own id."""

    def __contains__(self, item: object) -> bool:
        return False

    def add(self, item: object) -> None:
        return None


@dataclass
class Cleaned:
    """A cleaned document, with its outlet as read (before ``resolve``)."""

    clean: CleanDoc
    outlet: str | None
    outlet_source: str | None
    lines: LineKeys  # for the corpus-level template stage, hashed in the batch rather than in the driver


def _finish(doc: Document, config: Config, outlets: Outlets) -> Cleaned:
    clean = annotate(clean_document(doc, config.clean), outlets.agency_set())
    doc.blocks = None  # only cleaning reads an HTML page's blocks: not sent back, not kept
    outlet, source = doc.outlet, doc.outlet_source
    return Cleaned(resolve(clean, outlets), outlet, source, LineKeys.of(clean, config.clean))


@dataclass
class Done:
    """The answer for one batch: its items in order, and their signatures."""

    items: list[Cleaned | Skipped]
    signed: SignedBatch | None  # of the batch's documents (skips left out), when asked for


class _Answer:
    """An answer for one batch, built as documents are cleaned.

    Every ``RECORDS_PER_BATCH`` documents are signed (if asked) and then
    spilled (if asked) at once, so that one huge file (a WARC of a whole
    crawl) never has all its texts in memory together.
    """

    def __init__(self, config: Config, sign: bool, spill_dir: SpillDir | None) -> None:
        self.config, self.sign, self.spill_dir = config, sign, spill_dir
        self.items: list[Cleaned | Skipped] = []
        self.fresh: list[Cleaned] = []
        self.parts: list[SignedBatch] = []
        self.signed = 0

    def add(self, item: Cleaned | Skipped) -> None:
        self.items.append(item)
        if isinstance(item, Cleaned):
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

    def done(self) -> Done:
        self._settle()
        if self.spill_dir is not None:
            self.spill_dir.flush()
        signed = None
        if self.sign:
            signed = SignedBatch.concat(self.parts, self.config.sign.num_perm)
        return Done(self.items, signed)


def _cleaned(items: Iterable[Document | Skipped], config: Config, outlets: Outlets, sign: bool = False,
             spill_dir: SpillDir | None = None) -> Done:
    """A batch's documents, as they are read, cleaned (or why each was skipped), signed if asked."""
    out = _Answer(config, sign, spill_dir)
    for item in items:
        out.add(item if isinstance(item, Skipped) else _finish(item, config, outlets))
    return out.done()


def clean_records(rel: str, path: str, lines: list[tuple[int, bytes]], config: Config,
                  outlets: Outlets, sign: bool = False, spill_dir: SpillDir | None = None) -> Done:
    """A batch: JSON Lines records -> cleaned documents (or why each was skipped), signed if asked."""
    return _cleaned(jsonl_documents(lines, rel, path, config.ingest, _NoIds()), config, outlets, sign,
                    spill_dir)


def clean_files(files: list[tuple[str, str]], config: Config, outlets: Outlets,
                sign: bool = False, spill_dir: SpillDir | None = None) -> Done:
    """A batch: whole files (text, HTML, WARC) -> cleaned documents (or why each was skipped).

    Signed too, when asked.
    """
    items = (item for file, rel in files for item in read_file(Path(file), rel, config.ingest, _NoIds()))
    return _cleaned(items, config, outlets, sign, spill_dir)


def clean_bytes(data: bytes, name: str, rel: str, path: str, config: Config,
                outlets: Outlets) -> Done:
    """A file's bytes, read elsewhere (``ingest.read_bytes``) -> cleaned documents (or why each
    was skipped), as ``clean_files`` cleans a file it opens."""
    return _cleaned(read_bytes(data, name, rel, path, config.ingest, _NoIds()), config, outlets)


def clean_documents(docs: list[Document], config: Config, outlets: Outlets, sign: bool = False,
                    spill_dir: SpillDir | None = None) -> Done:
    """A batch: documents the driver read (standard input, which only it can read; records in
    memory) -> cleaned."""
    return _cleaned(docs, config, outlets, sign, spill_dir)


def document_batches(items: Iterable[Document | Skipped], config: Config, outlets: Outlets,
                     sign: bool = False, spill_dir: SpillDir | None = None) -> Iterator[Work]:
    """Documents already read (standard input, ``ingest.read_records``), in batches, with their
    text's size as the input found."""
    batch: list[Document] = []
    for item in items:
        if isinstance(item, Skipped):
            if batch:  # keep reading order: the documents before a skip go first
                yield (clean_documents, batch, config, outlets, sign, spill_dir)
                batch = []
            yield item
            continue
        yield len(item.text)
        batch.append(item)
        if len(batch) >= RECORDS_PER_BATCH:
            yield (clean_documents, batch, config, outlets, sign, spill_dir)
            batch = []
    if batch:
        yield (clean_documents, batch, config, outlets, sign, spill_dir)


def _jsonl_batches(file: Path, rel: str, cfg: IngestConfig, config: Config,
                   outlets: Outlets, sign: bool = False,
                   spill_dir: SpillDir | None = None) -> Iterator[Work]:
    """A JSON Lines file as batches of raw lines, split by ``jsonl.jsonl_lines`` as ``ingest`` reads it."""
    path = str(file)
    batch: list[tuple[int, bytes]] = []
    for item in jsonl_lines(file, cfg):
        if isinstance(item, Skipped):
            if batch:  # keep reading order: the lines before a skip go first
                yield (clean_records, rel, path, batch, config, outlets, sign, spill_dir)
                batch = []
            yield item
            continue
        batch.append(item)
        if len(batch) >= RECORDS_PER_BATCH:
            yield (clean_records, rel, path, batch, config, outlets, sign, spill_dir)
            batch = []
    if batch:
        yield (clean_records, rel, path, batch, config, outlets, sign, spill_dir)


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except OSError:  # reading it will say why
        return 0


def batches(paths: Iterable[Path], config: Config, outlets: Outlets,
            sign: bool = False, spill_dir: SpillDir | None = None) -> Iterator[Work]:
    """The work of reading and cleaning ``paths``, in reading order (``ingest.read_paths``'s):
    batches, skips as they are found, and the size of each file as the walk finds it."""
    files: list[tuple[str, str]] = []

    def flush() -> Iterator[Work]:
        nonlocal files
        if files:
            yield (clean_files, files, config, outlets, sign, spill_dir)
            files = []

    for found in sources(paths, config.ingest):
        if found is None:  # standard input: only the driver can read it
            yield from flush()
            stdin = read_stdin(getattr(sys.stdin, "buffer", None), config.ingest, _NoIds())
            yield from document_batches(stdin, config, outlets, sign, spill_dir)
        elif isinstance(found, Skipped):
            yield from flush()
            yield found
        elif kind_of(found[0].name) == "jsonl":
            yield from flush()
            yield _size(found[0])
            yield from _jsonl_batches(*found, config.ingest, config, outlets, sign, spill_dir)
        else:
            yield _size(found[0])
            files.append((os.fspath(found[0]), found[1]))
            if len(files) >= FILES_PER_BATCH:
                yield from flush()
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


def rename(item: Cleaned, doc_id: str, outlets: Outlets) -> None:
    """A document whose id repeats an earlier one's, renamed (``pages.unique_id``): its outlet
    is resolved again under the new id, from the outlet it was read with (outlets files match
    ids by pattern)."""
    clean = item.clean
    clean.doc.id = doc_id
    clean.doc.outlet, clean.doc.outlet_source = item.outlet, item.outlet_source
    resolve(clean, outlets)


@paused()  # unpickling answers makes no cycles
def gather(answers: Iterable[Done | Skipped], config: Config, outlets: Outlets,
           progress: Callable[[str, int, int | None], None], sign: bool = False,
           spill_dir: SpillDir | None = None) -> Ingested:
    """The answers of ``batches`` (run by ``pool.ordered_map``), in order, as one corpus.

    Each answer's signatures are copied in as it comes (the largest arrays to files in the
    spill folder, when there is one); ids are made unique in reading order.
    """
    cleaned: list[CleanDoc] = []
    skipped: list[Skipped] = []
    lines: list[LineKeys] = []
    joined = (DiskJoiner(config.sign.num_perm, spill_dir.path) if spill_dir is not None
              else BatchJoiner(config.sign.num_perm))
    seen: set[str] = set()
    n = 0
    for answer in answers:
        if isinstance(answer, Done) and answer.signed is not None:
            answer.signed.shift(len(cleaned))
            joined.add(answer.signed, shifted=True)
            answer.signed = None
        for item in [answer] if isinstance(answer, Skipped) else answer.items:
            n += 1
            if isinstance(item, Skipped):
                skipped.append(item)
                continue
            clean = item.clean
            doc_id = unique_id(clean.doc.id, seen)
            if doc_id != clean.doc.id:
                rename(item, doc_id, outlets)
            _share_strings(clean.doc)
            cleaned.append(clean)
            lines.append(item.lines)
        progress("read and clean", n, None)
    signed = joined.result() if sign else None
    release_free_memory()  # what the unpickled answers left
    return Ingested(cleaned, skipped, lines, signed, spill_dir)
