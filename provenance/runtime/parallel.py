"""Every core busy: ingest, clean and sign in worker processes, over batches.

The driver (``pipeline``) stays in charge of order. Work is cut into
batches in corpus order: a run of files, or a run of JSON Lines records
(the main process only splits the file into lines, as ``ingest`` does, and
passes the raw lines on). Workers parse, clean, annotate and resolve each
batch, or sign a batch of cleaned texts, and send back records and compact
numpy arrays; results are taken back strictly in batch order, so the
documents, their ids and every output are the same with ``jobs=1`` and
``jobs=N`` (``tests/test_speed_compat.py``).

Document ids must be unique across the whole run, and ``ingest`` makes them
so in reading order (``a``, ``a~2``, ...). A worker cannot know what other
batches hold, so it keeps each record's own id, and the driver makes ids
unique in order; in the rare case that changes an id, the document's outlet
is resolved again under its new id (outlets files match ids by pattern).

Processes are started with ``forkserver`` (``spawn`` where there is none),
never plain ``fork``, and at most ``2 * jobs`` batches are in flight, so a
huge input never piles up in memory waiting for a worker.

No worker outlives the run: on Linux the kernel kills the fork server and
the workers when the run dies, even by SIGKILL (``lifeline``), and any
exception that ends the work, a SIGTERM or Ctrl-C turned into one by the
command line included, stops the workers at once (``stop``) rather than
waiting for their batches.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from ..clean import clean_document
from ..config import Config, IngestConfig, SignConfig, VerifyConfig
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
from ..records import CleanDoc, DocPair, Document, Passage, PassageMatch, Skipped
from ..sign import BatchJoiner, DiskJoiner, PassageView, SignedBatch, sign_texts
from ..templates import LineKeys
from ..verify import verify_documents, verify_passages
from .lifeline import worker_start
from .memory import paused, release_free_memory
from .spill import SpillDir, spill_both

#: JSON Lines records, and files, per batch.
RECORDS_PER_BATCH = 500
FILES_PER_BATCH = 64
#: Cleaned texts per signing batch.
TEXTS_PER_BATCH = 1000

_pools: dict[int, Executor] = {}


def default_jobs() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


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


def pool(jobs: int) -> Executor:
    """A process pool of ``jobs`` workers, started once and reused for the rest of the run.

    Its workers die with this process (``lifeline.worker_start``).
    """
    if jobs not in _pools:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if context.get_start_method() == "forkserver":  # import once in the server, not per worker
            # The fork server dies with the thread that starts it: tie it to the run only when
            # that is the main thread, which lives as long as the run.
            lifeline = ["provenance.runtime._forkserver_lifeline"]
            if threading.current_thread() is not threading.main_thread():
                lifeline = []
            context.set_forkserver_preload([*lifeline, "provenance.runtime.parallel"])
        _pools[jobs] = ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                           initializer=worker_start, initargs=(os.getpid(),))
    return _pools[jobs]


@atexit.register
def shutdown() -> None:
    """Stop the worker processes, once their work is done (at exit, there is none left)."""
    for executor in _pools.values():
        executor.shutdown(wait=True, cancel_futures=True)
    _pools.clear()


#: How long a stopped worker has to exit on SIGTERM before it gets SIGKILL.
STOP_SECONDS = 5.0


def stop() -> None:
    """Stop the worker processes now, in the middle of their batches.

    For a run that is ending early (an error, SIGTERM, Ctrl-C): ``shutdown``
    would wait for every running batch to finish. Each worker gets SIGTERM,
    then SIGKILL if it has not exited within ``STOP_SECONDS``.
    """
    for executor in _pools.values():
        # The executor's own list of its processes (CPython's; 3.14 has terminate_workers()).
        workers = list((getattr(executor, "_processes", None) or {}).values())
        for worker in workers:
            with contextlib.suppress(OSError, ValueError):
                worker.terminate()
        for worker in workers:
            with contextlib.suppress(OSError, ValueError):
                worker.join(STOP_SECONDS)
                if worker.exitcode is None:
                    worker.kill()
                    worker.join(STOP_SECONDS)
        # A worker stopped halfway through sending a result leaves the pool's thread reading
        # the rest of it for ever: the write end this process holds is the last one open, and
        # closing it ends that read (EOF; the pool counts as broken, as it is).
        writer = getattr(getattr(executor, "_result_queue", None), "_writer", None)
        if workers and writer is not None:
            with contextlib.suppress(OSError):
                writer.close()
    # Quick now that the workers are gone; and waiting for the pool's own thread to end is
    # what keeps 3.11's exit hook from writing to its closed wakeup pipe (EBADF at exit).
    shutdown()


def ordered_map(fn: Callable[..., Any], batches: Iterable[Any], jobs: int) -> Iterator[Any]:
    """``fn(*batch)`` for each batch, in order; with ``jobs > 1``, in worker processes.

    A batch that is not a tuple is passed through as it is (a record already
    made by the driver), keeping its place in the order.
    """
    if jobs <= 1:
        for batch in batches:
            yield fn(*batch) if isinstance(batch, tuple) else batch
        return
    executor = pool(jobs)
    pending: deque[Future[Any] | Any] = deque()
    try:
        for batch in batches:
            pending.append(executor.submit(fn, *batch) if isinstance(batch, tuple) else batch)
            while len(pending) > 2 * jobs:
                head = pending.popleft()
                yield head.result() if isinstance(head, Future) else head
        while pending:
            head = pending.popleft()
            yield head.result() if isinstance(head, Future) else head
    except BaseException:  # an error, SIGTERM, Ctrl-C, or the caller stopped reading: the run ends here
        if any(isinstance(p, Future) and not p.done() for p in pending):
            stop()
        raise


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


def _run(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


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
    for result in ordered_map(_run, _batches(paths, config, outlets, sign, spill_dir), jobs):
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


# --- match ---


# --- verify ---

#: Candidate pairs from which verification is shared out among processes.
PARALLEL_PAIRS = 200_000


class _Passages:
    """What ``verify.verify_passages`` reads of a ``PassageView``, for one share's documents only.

    Small to pickle: the documents (their texts stay spilled, read back in the
    worker) and the offsets of the passages the share's pairs name.
    """

    def __init__(self, cleaned: dict[int, CleanDoc],
                 rows: dict[tuple[int, int], tuple[int, int, int, int]]) -> None:
        self.cleaned, self.rows = cleaned, rows

    def __getitem__(self, doc: int) -> _DocPassages:
        return _DocPassages(self, doc)


class _DocPassages:
    def __init__(self, view: _Passages, doc: int) -> None:
        self.view, self.doc = view, doc

    @property
    def passages(self) -> _DocPassages:
        return self

    def __getitem__(self, number: int) -> Passage:
        start, end, first, last = self.view.rows[(self.doc, number)]
        text = self.view.cleaned[self.doc].text
        return Passage(self.doc, number, start, end, text[start:end], first, last)


#: Fewest pairs in one share of verification.
PAIRS_PER_SHARE = 10_000


def _shares(n: int, jobs: int) -> int:
    return max(1, min(n // PAIRS_PER_SHARE, 8 * jobs))


def verify_documents_parallel(cleaned: Sequence[CleanDoc], pairs: Sequence[tuple[int, int]],
                              cfg: VerifyConfig, jobs: int,
                              progress: Callable[[int], None] | None = None) -> list[DocPair]:
    """``verify.verify_documents`` with the pairs shared out among ``jobs`` processes, in order."""
    if jobs <= 1 or len(pairs) < PARALLEL_PAIRS:
        return verify_documents(cleaned, pairs, cfg, progress)
    shares = _shares(len(pairs), jobs)
    cuts = [round(k * len(pairs) / shares) for k in range(shares + 1)]

    def work() -> Iterator[tuple[Any, ...]]:
        for lo, hi in pairwise(cuts):
            share = list(pairs[lo:hi])
            docs = {i: cleaned[i] for pair in share for i in pair}
            yield (verify_documents, docs, share, cfg)

    out: list[DocPair] = []
    for part, hi in zip(ordered_map(_run, work(), jobs), cuts[1:], strict=True):
        out.extend(part)
        if progress is not None:
            progress(hi)
    return out


def verify_passages_parallel(cleaned: Sequence[CleanDoc], view: PassageView,
                             pairs: Sequence[tuple[tuple[int, int], tuple[int, int]]],
                             cfg: VerifyConfig, group_of: dict[int, int], jobs: int,
                             progress: Callable[[int], None] | None = None) -> list[PassageMatch]:
    """``verify.verify_passages`` with the pairs shared out among ``jobs`` processes.

    The pairs of one document pair always go to one share (their hits are
    merged there), and shares follow the order of document pairs, which is
    the order of the matches ``verify_passages`` returns: so the result is
    the same.
    """
    if jobs <= 1 or len(pairs) < PARALLEL_PAIRS:
        return verify_passages(cleaned, view, pairs, cfg,  # type: ignore[arg-type]
                               group_of=group_of, progress=progress)
    kept = sorted(pairs, key=lambda p: (p[0][0], p[1][0]))  # stable: a document pair's hits keep their order
    shares = _shares(len(kept), jobs)
    cuts = [0]
    def docs(at: int) -> tuple[int, int]:
        return kept[at][0][0], kept[at][1][0]

    for k in range(1, shares):
        at = max(round(k * len(kept) / shares), cuts[-1])
        while 0 < at < len(kept) and docs(at) == docs(at - 1):
            at += 1  # never split a document pair
        cuts.append(at)
    cuts.append(len(kept))
    ranges = [(lo, hi) for lo, hi in pairwise(cuts) if hi > lo]
    batch = view.batch

    def work() -> Iterator[tuple[Any, ...]]:
        for lo, hi in ranges:
            share = kept[lo:hi]
            docs = {d: cleaned[d] for pair in share for d, _ in pair}
            rows = {}
            for pair in share:
                for doc, number in pair:
                    row = view.bounds[doc] + number
                    rows[(doc, number)] = (int(batch.p_start[row]), int(batch.p_end[row]),
                                           int(batch.p_first[row]), int(batch.p_last[row]))
            groups = {d: group_of[d] for d in docs if d in group_of}  # it skips pairs inside a group
            yield (verify_passages, docs, _Passages(docs, rows), share, cfg, groups)

    out: list[PassageMatch] = []
    done = 0
    for part, (lo, hi) in zip(ordered_map(_run, work(), jobs), ranges, strict=True):
        out.extend(part)
        done += hi - lo
        if progress is not None:
            progress(done)
    return out


# --- sign --------------------------------------------------------------------


def sign_parallel(texts: Sequence[str], cfg: SignConfig, jobs: int,
                  progress: Callable[[str, int, int | None], None]) -> SignedBatch:
    """``sign.sign_texts`` over all texts, in batches, in ``jobs`` processes."""
    if len(texts) <= TEXTS_PER_BATCH:
        jobs = 1
    batches = ((texts[i:i + TEXTS_PER_BATCH], cfg) for i in range(0, len(texts), TEXTS_PER_BATCH))
    joined = BatchJoiner(cfg.num_perm, docs=len(texts))  # each part copied in as it comes, then freed
    done = 0
    progress("sign", 0, len(texts))
    for part in ordered_map(sign_texts, batches, jobs):
        joined.add(part)
        done += len(part.doc_values)
        del part
        progress("sign", done, len(texts))
    signed = joined.result()
    release_free_memory()
    return signed
