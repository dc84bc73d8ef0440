"""LSH band keys computed from MinHash values, so an index can store and query them.

datasketch's ``MinHashLSH`` keeps its buckets in memory (or in its own Redis
layout) and keys each band by the raw bytes of ``r`` hash values. A stored
index needs the keys themselves: rows ``(key, item)`` that a query looks up
for a new document's keys only. The banding is datasketch's: the same
``(b, r)`` that ``MinHashLSH`` picks for a threshold and ``num_perm``, band
``i`` covering hash values ``[i*r, (i+1)*r)``. Each band's values are folded
into one signed 64-bit integer (splitmix64 steps, seeded by the band number),
so a key fits an SQLite ``INTEGER`` and two bands never share a key. Two
signatures share a key exactly when they agree on a whole band (barring a
64-bit collision, which only adds a candidate that verification drops).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# datasketch's own parameter search (private, but it is the definition of what
# MinHashLSH does; reusing it keeps a stored index and a scan banding alike).

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)


#: ``banding`` of the default thresholds (documents 0.5, passages 0.3) at common permutation
#: counts, as datasketch's parameter search gives them (``tests/test_index.py`` checks each):
#: its search integrates with scipy, whose import is half a second of a small ``check``.
KNOWN_BANDING = {(0.5, 64): (14, 4), (0.5, 128): (25, 5), (0.5, 256): (42, 6),
                 (0.3, 64): (21, 3), (0.3, 128): (37, 3), (0.3, 256): (64, 4)}


@lru_cache(maxsize=32)
def banding(threshold: float, num_perm: int) -> tuple[int, int]:
    """``(b, r)``: bands and rows per band, as ``MinHashLSH(threshold, num_perm)`` picks them."""
    if (threshold, num_perm) in KNOWN_BANDING:
        return KNOWN_BANDING[(threshold, num_perm)]
    from datasketch.lsh import _optimal_param  # scipy: loaded only for other parameters

    b, r = _optimal_param(threshold, num_perm, 0.5, 0.5)
    return int(b), int(r)


def mix64(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over an array of uint64 (wrapping arithmetic: call it under
    ``np.errstate(over="ignore")``)."""
    h = (h ^ (h >> np.uint64(30))) * _MUL1
    h = (h ^ (h >> np.uint64(27))) * _MUL2
    return np.asarray(h ^ (h >> np.uint64(31)))


def band_keys(signatures: np.ndarray, b: int, r: int) -> np.ndarray:
    """Band keys of each signature: an ``int64`` array of shape ``(n, b)``.

    Args:
        signatures: MinHash hash values, shape ``(n, num_perm)``, any unsigned dtype.
        b, r: bands and rows per band (see ``banding``); ``b * r <= num_perm``.

    Example:
        >>> sig = np.arange(128, dtype=np.uint32).reshape(1, 128)
        >>> band_keys(sig, *banding(0.5, 128)).shape
        (1, 25)
    """
    sigs = np.asarray(signatures)
    if sigs.ndim != 2 or sigs.shape[1] < b * r:
        raise ValueError(f"signatures must have shape (n, >= {b * r}), got {sigs.shape}")
    n = sigs.shape[0]
    values = sigs[:, :b * r].astype(np.uint64).reshape(n, b, r)
    with np.errstate(over="ignore"):
        h = np.broadcast_to(np.arange(1, b + 1, dtype=np.uint64) * GOLDEN, (n, b)).copy()
        for col in range(r):
            h = mix64(h ^ values[:, :, col])
    return h.view(np.int64)
