"""Worker processes die with the run that started them, however it dies.

A run killed with SIGKILL runs no handler and no ``atexit``: without help
its worker processes would wait forever for work that never comes, holding
cores and memory. Linux can tie a process to its parent instead:
``prctl(PR_SET_PDEATHSIG, SIGKILL)`` has the kernel kill it the moment its
parent dies. A pool started by ``fork`` (``pool._forks``) has the run as its
workers' parent: the kernel kills each worker when the run dies
(``worker_start``, the pools' initializer). Otherwise its workers are forked
by multiprocessing's fork server, which the run started, so the chain is: the
run dies, the kernel kills the fork server
(``provenance.runtime._forkserver_lifeline``, imported there first), and then
each worker.

A parent that died before ``prctl`` was called cannot be watched any more
(the process has been handed to a reaper), so ``worker_start`` checks that
the run is still its parent, or its fork server's parent, and exits if not.
Elsewhere than Linux these are no-ops: pools are still shut down on every
exception, SIGTERM and Ctrl-C included (``pool.ordered_map``).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

#: ``<linux/prctl.h>``
PR_SET_PDEATHSIG = 1

#: The fork server's process id, set in the fork server and inherited by the workers it forks.
server_pid = 0


def die_with_parent() -> bool:
    """Have the kernel SIGKILL this process when its parent dies; False where that is not possible.

    The parent is the *thread* that forked this process: a pool must be started
    from a thread that lives as long as the run (``pool.pool`` uses the main thread).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def parent_of(pid: int) -> int | None:
    """The parent process id of ``pid`` (from ``/proc``), or None when it cannot be known."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2:].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def guard_fork_server() -> None:
    """In the fork server: die with the run. A run already dead is harmless here: its fork
    server is then told by its own pipe to exit, and workers it forks exit (``worker_start``)."""
    global server_pid
    server_pid = os.getpid()
    die_with_parent()


def worker_start(run_pid: int) -> None:
    """Pool initializer: die with the run, and leave Ctrl-C to the run, which stops the pool.

    Exits at once if the run is already gone (it died before the guard was set).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A pool forked from the run (``pool._forks``) has the run's SIGTERM handler, which raises:
    # a worker would take ``pool.stop``'s SIGTERM for its batch's failure and wait for more.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not die_with_parent():
        return
    parent = os.getppid()
    if parent == run_pid:  # started by the run itself (spawn)
        return
    if not server_pid and parent_of(parent) == run_pid:
        return  # a fork server started off the main thread (no guard there), whose run is alive
    if parent != server_pid or parent_of(parent) not in (run_pid, None):
        # handed to a reaper (our parent died before the guard was set), or the fork server's
        # run is dead: the kernel will not tell us any more
        os._exit(1)
