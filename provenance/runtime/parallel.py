"""Every core busy: the stages' work shared out among worker processes, in order.

A stage cuts its work into batches in corpus order, each a tuple
``(function, *arguments)`` (reading and cleaning: ``read_clean.batches``;
signing, banding and verification here and in ``match``), and ``ordered_map``
runs them: in the driver with one job, else in a pool of workers, taking
the results back strictly in batch order, so every output is the same with
``jobs=1`` and ``jobs=N`` (``tests/test_speed_compat.py``). Whether workers
pay off at all is decided on the input's size (``worth_workers``).

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
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from itertools import chain, pairwise
from typing import Any

from ..config import SignConfig, VerifyConfig
from ..records import CleanDoc, DocPair, Passage, PassageMatch
from ..sign import BatchJoiner, PassageView, SignedBatch, sign_texts
from ..verify import verify_documents, verify_passages
from .lifeline import worker_start
from .memory import release_free_memory

#: Cleaned texts per signing batch.
TEXTS_PER_BATCH = 1000

_pools: dict[int, Executor] = {}


def default_jobs() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


#: Below this much input, worker processes cost more than they save (measured: benchmarks/README.md,
#: issue 17, the crossover).
MIN_PARALLEL_BYTES = 8 << 20


def worth_workers(work: Iterable[Any], jobs: int) -> tuple[int, Iterator[Any]]:
    """``jobs`` (0: every core), or 1 when the work weighs under ``MIN_PARALLEL_BYTES``; and the work.

    The work holds, besides its batches, the bytes of input its walk has found
    (``int`` items, dropped here): it is read ahead only until those reach
    ``MIN_PARALLEL_BYTES``, so the pool starts as soon as the walk has found
    enough, and a small input never starts a worker.
    """
    jobs = jobs or default_jobs()
    items = iter(work)
    ahead: list[Any] = []
    if jobs > 1:
        weight = 0
        for item in items:
            if not isinstance(item, int):
                ahead.append(item)
            elif (weight := weight + item) >= MIN_PARALLEL_BYTES:
                break
        else:
            jobs = 1
    return jobs, chain(ahead, (item for item in items if not isinstance(item, int)))


def _context() -> Any:
    """The start method's context: ``forkserver`` (its preloads set), else ``spawn``."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":  # import once in the server, not per worker
        # The fork server dies with the thread that starts it: tie it to the run only when
        # that is the main thread, which lives as long as the run.
        lifeline = ["provenance.runtime._forkserver_lifeline"]
        if threading.current_thread() is not threading.main_thread():
            lifeline = []
        context.set_forkserver_preload([*lifeline, "provenance.runtime.parallel", "provenance.read_clean"])
    return context


def pool(jobs: int) -> Executor:
    """A process pool of ``jobs`` workers, started once and reused for the rest of the run.

    Its workers die with this process (``lifeline.worker_start``).
    """
    if jobs not in _pools:
        _pools[jobs] = ProcessPoolExecutor(max_workers=jobs, mp_context=_context(),
                                           initializer=worker_start, initargs=(os.getpid(),))
    return _pools[jobs]


def _start_server() -> None:
    """Start the fork server, which then imports the preloads on its own: the pool's workers
    are forked from it only once that is done, and this process need not wait meanwhile."""
    if _context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


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
    made by the driver), keeping its place in the order. When the pool is not
    started yet, this process runs the first batch itself while the fork server
    imports the stages (a third of a second or more), rather than wait for it.
    """
    if jobs <= 1:
        for batch in batches:
            yield fn(*batch) if isinstance(batch, tuple) else batch
        return
    pending: deque[Future[Any] | Any] = deque()
    items = iter(batches)
    try:
        if jobs not in _pools:  # the first batch runs here while the fork server starts
            _start_server()
            for batch in items:
                pending.append(fn(*batch) if isinstance(batch, tuple) else batch)
                if isinstance(batch, tuple):
                    break
        executor = pool(jobs)
        for batch in items:
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


def _run(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


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
