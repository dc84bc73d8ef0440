"""Memory housekeeping between stages: the cycle collector paused, freed memory handed back.

``paused()``: each full collection walks every tracked object, and a run holds millions
(records, spans, report dicts); building them triggers collections over and
over, for nothing, since they form no reference cycles and reference
counting frees them. ``paused()`` turns the collector off for such a stage
and back on after (only if it was on), so a caller's own setting stands.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any


@contextmanager
def paused() -> Iterator[None]:
    """Run the block with the cycle collector off; its state is restored after.

    What the block made is then moved to the oldest generation (``gc.freeze`` and
    ``gc.unfreeze``, each a splice of lists), where a full collection still looks at it:
    left in the youngest, the first allocation after the block would have the collector
    walk it all (a stage's hundreds of thousands of records: 20 to 45 ms after ``find`` at
    10,000 documents), and again as it ages. Not where the program froze objects of its own
    (``gc.get_freeze_count``): those stay frozen.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


@lru_cache(maxsize=1)
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_free_memory() -> None:
    """Hand memory that was freed back to the system (glibc's ``malloc_trim``; elsewhere nothing).

    Unpickling a crawl's worth of answers leaves the heap full of freed but
    fragmented blocks that glibc keeps; at 100,000 documents this gives back
    about a third of the driver's resident memory. (Dask's workers do the same.)
    """
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
