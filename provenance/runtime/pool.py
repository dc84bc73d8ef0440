"""The worker pool: ``ordered_map`` runs a stage's function over batches, in order, in processes.

Each stage owns its parallel form (``ingest``'s batches of files and records,
``sign.sign_parallel``, ``verify``'s shares of pairs) and hands this module
its batches; results come back strictly in batch order, so every output is the
same for any number of jobs.

Processes are started with ``forkserver`` (``spawn`` where there is none),
never plain ``fork``; the workers hold at most two batches each and at most
``4 * jobs`` answers wait their turn, so a huge input never piles up in memory.

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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from itertools import chain
from typing import Any

from .lifeline import worker_start
from .memory import paused

#: Modules the fork server imports once, so that no worker imports them anew: those of the
#: functions the workers run (named, not imported, here: the pool sits below the stages).
PRELOAD = ("provenance.read_clean", "provenance.sign", "provenance.verify", "provenance.match",
           "provenance.derive")

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
        context.set_forkserver_preload([*lifeline, *PRELOAD])
    return context


def pool(jobs: int) -> Executor:
    """A process pool of ``jobs`` workers, started once and reused for the rest of the run
    (started anew when a worker of it died: CPython's pool is then broken for good).

    Its workers die with this process (``lifeline.worker_start``).
    """
    broken = _pools.get(jobs)
    if broken is not None and getattr(broken, "_broken", False):  # a worker died: its run failed
        broken.shutdown(wait=False, cancel_futures=True)
        del _pools[jobs]
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
    """``fn(*batch)`` for each batch, in order; with ``jobs > 1``, in ``jobs`` processes: this one
    and ``jobs - 1`` workers.

    This process takes the next batch itself whenever the workers have two each
    in hand, rather than wait for them: it would otherwise sit idle on one of the
    cores (it only unpickles the answers), and a batch it runs is never pickled
    (measured in benchmarks/README.md, issue 17). A batch that is not a tuple is
    passed through as it is (a record already made by the driver), keeping its
    place in the order. When the pool is not started yet, this process runs the
    first batch itself while the fork server imports the stages (a third of a
    second or more). At most ``4 * jobs`` answers wait to be taken.
    """
    if jobs <= 1:
        for batch in batches:
            yield fn(*batch) if isinstance(batch, tuple) else batch
        return
    pending: deque[Future[Any] | Any] = deque()
    items = iter(batches)
    workers = jobs - 1  # this process is the last of the ``jobs``: it runs a batch when they are all busy
    try:
        if workers not in _pools:  # the first batch runs here while the fork server starts
            _start_server()
            for batch in items:
                pending.append(_here(fn, batch) if isinstance(batch, tuple) else batch)
                if isinstance(batch, tuple):
                    break
        executor = pool(workers)
        for batch in items:
            if not isinstance(batch, tuple):
                pending.append(batch)
            elif sum(isinstance(p, Future) and not p.done() for p in pending) < 2 * workers:
                pending.append(executor.submit(fn, *batch))
            else:
                pending.append(_here(fn, batch))
            while pending and (not isinstance(pending[0], Future) or pending[0].done()):
                head = pending.popleft()
                yield head.result() if isinstance(head, Future) else head
            while len(pending) > 4 * jobs:
                head = pending.popleft()
                yield head.result() if isinstance(head, Future) else head
        while pending:
            head = pending.popleft()
            yield head.result() if isinstance(head, Future) else head
    except BaseException:  # an error, SIGTERM, Ctrl-C, or the caller stopped reading: the run ends here
        if any(isinstance(p, Future) and not p.done() for p in pending):
            stop()
        raise


def _here(fn: Callable[..., Any], batch: tuple[Any, ...]) -> Future[Any]:
    """``fn(*batch)`` run by this process, as a finished future: its answer, or its error, waits
    for its turn in the order like a worker's (an error raised at once would overtake the
    answers, and errors, of the batches before it that the workers still hold)."""
    done: Future[Any] = Future()
    try:
        done.set_result(fn(*batch))
    except Exception as error:  # raised in its place, by ``result()``
        done.set_exception(error)
    return done


def call(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``: what a worker runs for a batch that names its own function.

    The cycle collector is paused meanwhile (``memory.paused``: a batch's records make no
    cycles, and collections triggered by building them would walk them for nothing)."""
    with paused():
        return fn(*args)


