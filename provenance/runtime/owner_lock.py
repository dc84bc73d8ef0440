"""A lock its owner holds for as long as it lives: how a cleaner tells a live run's files
from a dead one's, in any process namespace or container sharing the folder.

The owner creates the lock file and takes an exclusive ``flock`` on it before it makes
what the lock guards (a spill folder, an index's half-written build); the kernel releases
the lock when the owner dies, even by ``kill -9``. A cleaner removes what it guards only
while it holds that lock itself. A process id says nothing across namespaces.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator

#: What has no lock file (made by an older provenance, or by a process killed before it could
#: make the lock) is removed only when nothing in it has changed for this long.
UNLOCKED_STALE_SECONDS = 24 * 3600


def hold(path: str) -> int:
    """Create ``path`` and hold an exclusive ``flock`` on it; the open descriptor (close it
    to release). A new name: never contended."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def ownerless(path: str) -> Iterator[bool]:
    """True, holding the lock at ``path`` for the block, when its owner is gone; False while a
    live owner holds it, or when the lock cannot be opened (another user's: not ours to judge).
    Raises ``FileNotFoundError`` when there is no lock file (see ``unchanged_for``)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: its owner is alive
            yield False
            return
        yield True  # the caller removes under the lock, so no other cleaner judges it meanwhile
    finally:
        os.close(fd)


def unchanged_for(path: str, seconds: float = UNLOCKED_STALE_SECONDS) -> bool:
    """Nothing at ``path`` (a file, or a folder and its entries) changed in the last ``seconds``."""
    try:
        newest = os.stat(path).st_mtime
        if os.path.isdir(path):
            with os.scandir(path) as entries:
                newest = max([newest, *(e.stat(follow_symlinks=False).st_mtime for e in entries)])
    except OSError:
        return False
    return time.time() - newest > seconds
