"""The worker pool: ``ordered_map`` runs a stage's function over batches, in order, in processes.

Each stage owns its parallel form (``ingest``'s batches of files and records,
``sign.sign_parallel``, ``verify``'s shares of pairs) and hands this module
its batches; results come back strictly in batch order, so every output is the
same for any number of jobs.

A pool started while this process is small and has one thread (a run's start:
``_forks``) is started by ``fork`` on Linux, so its workers are ready at once; otherwise by
``forkserver`` (``spawn`` where there is none), so that no worker holds on to a big
process's pages. The workers hold at most two batches each and at most
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
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from itertools import chain
from typing import Any

from .lifeline import worker_start
from .memory import paused

try:
    import fcntl
except ImportError:  # Windows has none
    fcntl = None  # type: ignore[assignment]

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


#: A process at most this big (resident) starts its pool by ``fork``: its workers are ready at
#: once, with every module imported, where the fork server would first import the stages (a
#: fifth of a second at a run's start, with the workers' core idle: benchmarks/README.md, issue
#: 17). A bigger one uses the fork server: a forked worker would keep the pages this process
#: goes on to change or free.
FORK_MAX_RESIDENT = 256 << 20


#: The first Python whose ``ProcessPoolExecutor`` forks all its workers at its start, before its
#: own threads run (gh-90622, in 3.10.5): before, a ``fork`` pool forked each worker as work
#: came, from a process whose pool threads were running (the deadlock ``_forks`` avoids).
FORK_SAFE_POOL = (3, 10, 5)


def _resident_bytes() -> int | None:
    """This process's resident memory (Linux's ``/proc``), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _forks() -> bool:
    """Whether a pool started now is started by ``fork`` (``FORK_MAX_RESIDENT``; Linux only, and
    from the main thread, whose life the workers' lifeline follows, while it is the only
    thread: a copy made while another thread held a lock, a progress bar's on the standard
    error say, would hang on that lock)."""
    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        return False
    if sys.version_info < FORK_SAFE_POOL:  # its pool forks each worker as work comes, threads running
        return False
    if threading.current_thread() is not threading.main_thread() or threading.active_count() > 1:
        return False
    resident = _resident_bytes()
    return resident is not None and resident <= FORK_MAX_RESIDENT


def _context() -> Any:
    """The start method's context: ``fork`` for a small process (``_forks``), else ``forkserver``
    (its preloads set), else ``spawn``."""
    if _forks():  # (its Popen flushes the standard streams before each fork: nothing is written twice)
        return multiprocessing.get_context("fork")
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


#: The answers' pipe is widened to this (Linux's default limit for a pipe, 1 MiB): a batch's
#: answer of a few MB then goes in a few writes, each of which waits for this process's result
#: thread to get the interpreter lock, instead of one write per 64 KiB.
RESULT_PIPE_BYTES = 1 << 20


def _widen_result_pipe(executor: Executor) -> None:
    """Widen ``executor``'s result pipe (``RESULT_PIPE_BYTES``), where the system allows it."""
    reader = getattr(getattr(executor, "_result_queue", None), "_reader", None)
    setter = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if reader is None or setter is None:
        return
    with contextlib.suppress(OSError, ValueError):  # over the user's pipe quota: left as it is
        fcntl.fcntl(reader.fileno(), setter, RESULT_PIPE_BYTES)


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
        _widen_result_pipe(_pools[jobs])
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


#: The interpreter's switch interval while workers answer (Python's default is 5 ms): this
#: process's result thread, which reads their answers, then gets the lock from a busy main
#: thread soon enough that a worker is not left waiting to send.
SWITCH_SECONDS = 0.0005


def ordered_map(fn: Callable[..., Any], batches: Iterable[Any], jobs: int) -> Iterator[Any]:
    """``fn(*batch)`` for each batch, in order; with ``jobs > 1``, in ``jobs`` processes: this one
    and ``jobs - 1`` workers.

    This process takes the next batch itself whenever the workers have two each
    in hand, rather than wait for them: it would otherwise sit idle on one of the
    cores (it only unpickles the answers), and a batch it runs is never pickled
    (measured in benchmarks/README.md, issue 17). It takes the last batch too
    (the batches are read one ahead): handed to a worker that holds another, it would
    keep this process waiting for two batches at the end. A batch that is not a tuple is
    passed through as it is (a record already made by the driver), keeping its
    place in the order. When the pool is not started yet and is not forked from this
    process (``_forks``), this process runs the first batch itself while the fork
    server imports the stages (a fifth of a second or more). At most ``4 * jobs``
    answers wait to be taken. Meanwhile the switch interval is ``SWITCH_SECONDS``.
    """
    if jobs <= 1:
        for batch in batches:
            yield fn(*batch) if isinstance(batch, tuple) else batch
        return
    pending: deque[Future[Any] | Any] = deque()
    items = iter(batches)
    workers = jobs - 1  # this process is the last of the ``jobs``: it runs a batch when they are all busy
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, SWITCH_SECONDS))
    try:
        if workers not in _pools and not _forks():  # the first batch runs here while the fork server starts
            _start_server()
            for batch in items:
                pending.append(_here(fn, batch) if isinstance(batch, tuple) else batch)
                if isinstance(batch, tuple):
                    break
        executor = pool(workers)
        for batch, last in _marking_the_last(items):
            if not isinstance(batch, tuple):
                pending.append(batch)
            elif not last and sum(isinstance(p, Future) and not p.done() for p in pending) < 2 * workers:
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
    finally:
        sys.setswitchinterval(interval)


def _marking_the_last(items: Iterator[Any]) -> Iterator[tuple[Any, bool]]:
    """Each item with whether it is the last (one item read ahead)."""
    held = _NOTHING
    for item in items:
        if held is not _NOTHING:
            yield held, False
        held = item
    if held is not _NOTHING:
        yield held, True


_NOTHING = object()


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


