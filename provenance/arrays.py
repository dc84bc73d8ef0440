"""Sorting and range helpers over numpy arrays, shared by the stages that group rows.

Signing (repeated passages), banding (bucket pairs) and the rewrite stage
(fingerprints shared by pairs) each sort keys and walk runs of equal values,
or expand ``start:stop`` ranges into rows; the helpers live here once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def sorted_unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, ascending, and how often each occurs.

    ``np.unique`` of numpy 2.4 takes a hash-table path on integer arrays that
    is ten times slower than sorting on millions of values (20 s against 2 s
    on the 17 million fingerprints of 100,000 documents).
    """
    ordered = np.sort(values)
    starts = run_starts(ordered)
    return ordered[starts], np.diff(starts, append=len(ordered))


def run_starts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values of a sorted array starts (no copy of the array)."""
    if not len(ordered):
        return np.empty(0, dtype=np.int64)
    fresh = np.empty(len(ordered), dtype=bool)
    fresh[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=fresh[1:])
    return np.flatnonzero(fresh)


def chunk_runs(sizes: np.ndarray, per_chunk: int) -> Iterator[tuple[int, int]]:
    """Consecutive runs ``first:last`` of items whose ``sizes`` add up to about ``per_chunk``
    (one item at least a run): work cut into pieces of bounded memory."""
    ends = np.cumsum(sizes)
    first = 0
    while first < len(sizes):
        last = max(first + 1, int(np.searchsorted(ends, (ends[first - 1] if first else 0) + per_chunk)))
        yield first, last
        first = last


def expand_ranges(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows ``starts[k]:stops[k]`` for every ``k``, concatenated, and each row's ``k``."""
    sizes = stops - starts
    owner = np.repeat(np.arange(len(starts), dtype=np.int64), sizes)
    offset = np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return starts[owner] + offset, owner
