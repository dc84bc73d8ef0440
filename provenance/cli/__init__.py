"""The ``provenance`` command: a thin typer layer over the library (``app``: scan, clean,
report, graph; ``index``: index build/add/stats and check; ``common``: shared options).

``run`` is the command's entry point: the app, then out at once (``quick_exit``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys

from .app import app

__all__ = ["app", "run"]


def run() -> None:
    """The ``provenance`` command (and ``python -m provenance``, ``cli.py``): ``app``, then
    ``quick_exit`` with its exit code. An error that is not an exit is raised as usual."""
    try:
        app()
    except SystemExit as exc:
        quick_exit(exc.code)
    quick_exit(0)


def quick_exit(code: int | str | None) -> None:
    """Leave the process with ``code`` (as ``sys.exit`` reads it) once every exit handler has run,
    without tearing down the objects the run made.

    Everything a run writes is written (and closed) before it ends; what is left at exit is
    the exit handlers (the worker pool's shutdown, the spill folder's removal, multiprocessing's
    own) and then freeing each of the run's objects one by one, which a 10,000-document scan
    spends 0.07 s on and a larger one more, for nothing: the system takes the memory back at
    once. So the handlers run here, the standard streams are flushed, and the process ends.
    Where the handlers cannot be run from here (``atexit._run_exitfuncs`` is CPython's), the
    exit is the usual one.
    """
    handlers = getattr(atexit, "_run_exitfuncs", None)
    if handlers is None:
        sys.exit(code)
    if code is not None and not isinstance(code, int):
        if sys.stderr is not None:  # None: started with it closed, where ``sys.exit`` drops it too
            sys.stderr.write(f"{code}\n")  # what ``sys.exit`` does with a message
        code = 1
    handlers()
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with it closed
            continue
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing left to tell
            stream.flush()
    os._exit(code or 0)
