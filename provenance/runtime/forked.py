"""Work shared with forked copies of this process: for the find stages of a small or middling run.

After cleaning, everything ``find`` reads (the cleaned documents, their
signatures and fingerprints, the groups) is in this process's memory. The
worker pool (``pool``) would have to be sent it, pickled; a copy of this
process made by ``fork`` has it already, for the price of its page tables.
So on a run of ``MIN_DOCS`` to ``MAX_DOCS`` documents, ``find`` hands a share of a
stage to a forked child (``start``) and works on another share itself; the
child sends back its answer alone (pickled: findings, not documents).

The forked children are made with ``multiprocessing``'s ``fork`` start method
(standard output and error flushed first, no ``atexit`` handler run in the
child, so nothing of the run is written twice or removed by it) and die with
the run (``lifeline.die_with_parent``). A child that fails, dies, or cannot be forked, costs
time, never the answer: its share is computed again in this process, from the
same arguments, which the child could not have changed (it had its own copy).
Only where ``fork`` exists (Linux: ``available``); elsewhere every share runs here.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any, Generic, TypeVar

from .lifeline import die_with_parent
from .memory import paused

T = TypeVar("T")

#: Runs of fewer documents than this find in one process: at 1,000 news articles the stages take
#: a tenth of a second and the forked shares saved nothing (benchmarks/README.md, issue 17).
MIN_DOCS = 2_000
#: Runs of more documents than this leave the find stages to the worker pool's shares: a forked
#: copy of a large run's process would copy the pages of every record it reads (reference counts).
MAX_DOCS = 100_000


def available(jobs: int, docs: int) -> bool:
    """Whether ``find`` should share its stages with forked children: two jobs or more, a run
    of ``MIN_DOCS`` to ``MAX_DOCS`` documents, and a system whose processes can fork (Linux)."""
    return jobs > 1 and MIN_DOCS <= docs <= MAX_DOCS and sys.platform.startswith("linux") \
        and "fork" in multiprocessing.get_all_start_methods()


#: How an answer travels: ``(encode, decode)``, applied in the child and in the run (plain
#: tuples pickle several times faster than dataclasses), or None: as it is.
Wire = tuple[Callable[[Any], Any], Callable[[Any], Any]] | None


def _child(conn: Any, fn: Callable[..., Any], args: tuple[Any, ...], wire: Wire) -> None:
    """The forked child: ``fn(*args)``'s answer, or that it failed, sent back to the run."""
    die_with_parent()
    try:
        with paused():
            answer = fn(*args)
            if wire is not None:
                answer = wire[0](answer)
        conn.send((True, answer))
    except BaseException as error:  # the run computes this share again; it only needs to know
        with contextlib.suppress(Exception):
            conn.send((False, repr(error)))
    finally:
        conn.close()
        # Out at once: multiprocessing's own exit would flush the standard streams again and
        # run the threads' exit hooks (the worker pool's), in a copy whose other threads are gone.
        os._exit(0)


class Share(Generic[T]):
    """``fn(*args)`` computed by a forked child (or, failing that, by this process): ``result``."""

    def __init__(self, fn: Callable[..., T], *args: Any, wire: Wire = None) -> None:
        self.fn, self.args, self.wire = fn, args, wire
        context = multiprocessing.get_context("fork")
        self._conn, child_conn = context.Pipe(duplex=False)
        self._process: Any = context.Process(target=_child, args=(child_conn, fn, args, wire), daemon=True)
        try:
            self._process.start()
        except OSError:  # no fork to be had (EAGAIN: a process limit; ENOMEM): computed here
            self._process = None
            self._conn.close()
        finally:
            child_conn.close()  # the child's end: an EOF here when the child dies

    def result(self) -> T:
        """The child's answer; computed here instead if the child failed or died (or could not
        be forked). Interrupted (SIGTERM or Ctrl-C turned into an exception), it stops the child
        rather than wait for it."""
        if self._process is None:
            return self.fn(*self.args)
        try:
            ok, answer = self._conn.recv()
        except (EOFError, OSError):
            ok, answer = False, None
        except BaseException:
            with contextlib.suppress(OSError, ValueError):
                self._process.kill()
            raise
        finally:
            self._conn.close()
            self._process.join()
        if not ok:
            return self.fn(*self.args)
        return self.wire[1](answer) if self.wire is not None else answer  # type: ignore[no-any-return]

    def cancel(self) -> None:
        """Stop the child (the run is ending early)."""
        if self._process is None:
            return
        with contextlib.suppress(OSError, ValueError):  # gone already
            self._process.kill()
        self._process.join()
        self._conn.close()


def start(fn: Callable[..., T], *args: Any, wire: Wire = None) -> Share[T]:
    """``fn(*args)`` begun in a forked child; its answer is ``result()`` (sent as ``wire`` says)."""
    return Share(fn, *args, wire=wire)


def cuts(n: int, jobs: int) -> list[slice]:
    """``n`` items cut into ``jobs`` runs of nearly equal length, in order (the shares of
    ``fork_map``: this process and ``jobs - 1`` forked children); no empty run, so that no
    child is forked for nothing (no items: no run at all)."""
    bounds = [round(k * n / jobs) for k in range(jobs + 1)]
    return [slice(lo, hi) for lo, hi in pairwise(bounds) if hi > lo]


def fork_map(fn: Callable[..., T], shares: Sequence[tuple[Any, ...]], wire: Wire = None) -> list[T]:
    """``fn(*share)`` for each share, in order: the first in this process, the others in forked
    children meanwhile (one each; their answers sent as ``wire`` says)."""
    if not shares:
        return []
    children = [start(fn, *share, wire=wire) for share in shares[1:]]
    try:
        first = fn(*shares[0])
        return [first, *(child.result() for child in children)]
    except BaseException:
        for child in children:
            child.cancel()
        raise
