"""Pausing Python's cycle collector while a stage builds many acyclic objects.

Each full collection walks every tracked object, and a run holds millions
(records, spans, report dicts); building them triggers collections over and
over, for nothing, since they form no reference cycles and reference
counting frees them. ``paused()`` turns the collector off for such a stage
and back on after (only if it was on), so a caller's own setting stands.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Run the block with the cycle collector off; its state is restored after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
