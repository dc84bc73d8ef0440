"""LSH candidates: near-duplicate documents and shared passages.

Signatures are cut into bands as datasketch's ``MinHashLSH`` cuts them (the
same ``(b, r)`` for a threshold and ``num_perm``), and two items are
candidates when they agree on a whole band. Instead of inserting into and
querying datasketch's hash tables one item at a time, each band is keyed
with numpy (``bands.band_keys``) and the items are sorted by key, so that
equal keys sit side by side: the cost follows the number of items and of
candidates, not the square of the corpus. Candidates are only candidates;
``verify`` decides.

With ``MatchConfig.min_estimate_share`` at 0, the result is exactly what
the datasketch loop (query, then insert, in corpus order) gives, including
its cap; by default, pairs whose signatures agree on less than half the
threshold's share of hash values (chance collisions of texts that share a
sentence) are dropped first, before the cap. An item keeps only its
``max_candidates_per_item`` earliest candidates. That cap also bounds the
work on a band key that thousands of items share (furniture that cleaning
left in): only the earliest ``max_candidates_per_item`` members of such a
bucket can be among any later member's earliest candidates, so only those
are paired, and a bucket of ``s`` items costs at most ``cap * s`` pairs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from itertools import pairwise

import numpy as np

from .bands import band_keys, banding
from .config import MatchConfig, SignConfig
from .runtime.diskarray import GROUP, band_major, columns, gather, is_mapped, load, save, take
from .runtime.memory import release_free_memory
from .runtime.pool import call, ordered_map
from .runtime.spill import SpillDir
from .signatures import PassageRows, SignedBatch

#: Signatures as rows: an array, or passages' rows that read whole documents' from theirs.
Rows = np.ndarray | PassageRows

#: ``progress(bands done, bands)``.
BandProgress = Callable[[int, int], None]


#: Bytes of widened values ``equal_rows`` keys at a time (a million whole signatures would take 1 GB).
KEY_ROWS_BYTES = 16 << 20


def equal_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows grouped by equal values (one band of each signature).

    Returns the row order (equal rows together, in row order among
    themselves) and the ``[start, end)`` positions of each group of two or
    more. Rows are keyed by a 64-bit hash of their values; rows with equal
    keys are compared value by value, so a hash collision never makes a
    candidate.
    """
    keys = np.empty(len(rows), dtype=np.int64)
    step = max(1, KEY_ROWS_BYTES // max(1, 8 * rows.shape[1]))  # band_keys widens each value to 8 bytes
    for lo in range(0, len(rows), step):
        keys[lo:lo + step] = band_keys(rows[lo:lo + step], 1, rows.shape[1])[:, 0]
    order = np.argsort(keys)  # not stable (twice as fast): row order is restored in groups below
    sorted_keys = keys[order]
    same = sorted_keys[1:] == sorted_keys[:-1]
    at = np.flatnonzero(same)
    if len(at):
        n = len(keys)
        grouped = np.flatnonzero(np.concatenate([same, [False]]) | np.concatenate([[False], same]))
        group = np.cumsum(np.concatenate([[1], ~same]))[grouped]  # ascending along positions
        order[grouped] = np.sort(group * n + order[grouped]) % n  # each group's rows ascending
        # compare the rows where the keys say equal, to rule out a hash collision
        a, b = rows[order[at]], rows[order[at + 1]]
        equal = a[:, 0] == b[:, 0]
        for col in range(1, rows.shape[1]):  # column by column: faster than np.all(axis=1) on few columns
            equal &= a[:, col] == b[:, col]
        if not equal.all():  # a collision: sort by the values themselves
            order = np.lexsort(rows.T[::-1])
            ordered = rows[order]
            same = np.all(ordered[1:] == ordered[:-1], axis=1)
    edges = np.diff(np.concatenate([[0], same.astype(np.int8), [0]]))
    return order, np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) + 1


def _agreeing(values: Rows, pairs: np.ndarray, min_agree: int) -> np.ndarray:
    """The pairs whose signatures hold at least ``min_agree`` equal hash values."""
    if min_agree <= 0 or not len(pairs):
        return pairs
    if _in_files(values):
        return _agreeing_by_columns(values, pairs, min_agree)
    keep = np.empty(len(pairs), dtype=bool)
    for lo in range(0, len(pairs), AGREE_CHUNK):  # bounded memory on huge bands
        chunk = pairs[lo:lo + AGREE_CHUNK]
        keep[lo:lo + AGREE_CHUNK] = np.count_nonzero(
            _take(values, chunk[:, 0]) == _take(values, chunk[:, 1]), axis=1) >= min_agree
    return pairs[keep]


#: Pairs compared at once by ``_agreeing``.
AGREE_CHUNK = 1 << 14


def _in_files(values: Rows) -> bool:
    """The values are files with a band-major copy (an LSH worker's: ``diskarray.save``)."""
    if isinstance(values, PassageRows):
        return band_major(values.base) and (band_major(values.own) or not len(values.own))
    return band_major(values)


def _agreeing_by_columns(values: Rows, pairs: np.ndarray, min_agree: int) -> np.ndarray:
    """``_agreeing`` over values in files: the equal values of every pair counted a group of
    columns at a time, each group read once from the band-major copy (a pair's two rows,
    gathered through a memory map, would map far more than the rows: the kernel maps the
    pages around each); a pair is settled as soon as it reaches ``min_agree``, or can no
    longer."""
    k = values.shape[1]
    alive = np.arange(len(pairs))
    equal = np.zeros(len(pairs), dtype=np.int64)
    keep = np.zeros(len(pairs), dtype=bool)
    for lo in range(0, k, GROUP):
        hi = min(k, lo + GROUP)
        cols = _columns(values, lo, hi)
        for a in range(0, len(alive), 1 << 20):
            at = alive[a:a + (1 << 20)]
            equal[at] += np.count_nonzero(cols[pairs[at, 0]] == cols[pairs[at, 1]], axis=1)
        del cols
        reached = equal[alive] >= min_agree
        keep[alive[reached]] = True
        alive = alive[~reached & (equal[alive] + (k - hi) >= min_agree)]
        if not len(alive):
            break
    return pairs[keep]


def band_pairs(values: Rows, b: int, r: int, cap: int,
               owner: np.ndarray | None = None, min_agree: int = 0,
               progress: Callable[[int, int], None] | None = None, jobs: int = 1,
               crowd: int = 0) -> np.ndarray:
    """Candidate pairs ``(j, i)``, ``j < i``, of rows of ``values`` that agree on a whole band.

    Args:
        values: MinHash values, shape ``(n, num_perm)``; row order is corpus order.
        b, r: bands and rows per band (``bands.banding``).
        cap: each ``i`` keeps only its ``cap`` smallest ``j`` (datasketch's
            query-then-insert loop, truncated as ``match`` always did).
        owner: optional group of each row (a passage's document): rows of the
            same group are never paired.
        min_agree: pairs whose signatures agree on fewer hash values are
            dropped before the cap (0: none), so that chance collisions
            neither reach verification nor crowd real candidates out.
        progress: called with ``(bands done, b)`` as bands are done.
        jobs: with more than one and at least ``PARALLEL_ROWS`` rows, the
            bands are shared out among worker processes (``runtime.pool``); the
            pairs are the same, since keeping each ``i``'s ``cap`` smallest
            ``j`` of every share, then of their union, keeps that of the whole.
        crowd: a bucket of more rows than this (0: no limit) is crowded (a
            passage that thousands of documents hold): its rows are not paired
            among themselves but joined into a family (``families``), and each
            is paired with its family's representative only, so a bucket of
            ``s`` rows costs ``s`` pairs, not ``cap * s``, and a family spread
            over every band is paired once.

    Returns:
        An ``(m, 2)`` int64 array of ``(j, i)``, sorted.
    """
    n = len(values)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    if jobs > 1 and b > 1 and n >= PARALLEL_ROWS:
        found, crowds = band_pairs_parallel(values, b, r, cap, owner, min_agree, jobs, progress, crowd)
    else:
        found, crowds = band_range(values, 0, b, r, cap, owner, min_agree, progress, crowd)
    if len(crowds):
        found = np.concatenate([found, families(crowds, owner)])
    found = cap_pairs(found, n, cap)
    if progress is not None:
        progress(b, b)
    return found[np.lexsort((found[:, 1], found[:, 0]))]


#: Pairs ``band_range`` lets pile up before it filters and caps them (at least: twice those found).
PENDING_PAIRS = 1 << 20


#: Rows from which ``band_pairs`` shares its bands out among processes.
PARALLEL_ROWS = 200_000


def band_range(values: Rows, lo: int, hi: int, r: int, cap: int,
               owner: np.ndarray | None = None, min_agree: int = 0,
               progress: Callable[[int, int], None] | None = None,
               crowd: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``band_pairs`` over bands ``lo`` to ``hi`` only, capped but not sorted.

    Returns the pairs, and the rows of the crowded buckets as an ``(m, 2)``
    array of ``(bucket, row)`` (a bucket numbered ``band << 32 | k``), which
    ``band_pairs`` joins into families.
    """
    n = len(values)
    found = np.empty((0, 2), dtype=np.int64)
    pending: list[np.ndarray] = []  # capping is idempotent, so it waits until enough has piled up
    crowds: list[np.ndarray] = []
    waiting = 0
    for band in range(lo, hi):
        if progress is not None:
            progress(band, hi)
        order, starts, ends = equal_rows(_columns(values, band * r, (band + 1) * r))
        if not len(starts):
            continue
        sizes = ends - starts
        if crowd > 0 and (sizes > crowd).any():
            crowded = sizes > crowd
            for k, (a, z) in enumerate(zip(starts[crowded].tolist(), ends[crowded].tolist(), strict=True)):
                crowds.append(np.stack([np.full(z - a, (band << 32) | k, dtype=np.int64),
                                        order[a:z].astype(np.int64)], axis=1))
            starts, ends, sizes = starts[~crowded], ends[~crowded], sizes[~crowded]
        # a slice of the buckets at a time: a band of a million documents' passages makes tens of millions
        made = np.cumsum(np.where(sizes - 1 <= cap, sizes * (sizes - 1) // 2,
                                  cap * (cap + 1) // 2 + (sizes - 1 - cap) * cap))
        a = 0
        while a < len(starts):
            b = max(a + 1, int(np.searchsorted(made, (made[a - 1] if a else 0) + SLICE_PAIRS, "right")))
            pairs = bucket_pairs(order, starts[a:b], sizes[a:b], cap)
            if owner is not None:
                pairs = pairs[owner[pairs[:, 0]] != owner[pairs[:, 1]]]
            pending.append(pairs)
            waiting += len(pairs)
            if waiting > max(PENDING_PAIRS, 2 * len(found)):
                found = _merge(found, pending, values, min_agree, n, cap)
                pending, waiting = [], 0
            a = b
        release_free_memory()  # a band's arrays, freed, would otherwise stay with the process
    return (_merge(found, pending, values, min_agree, n, cap),
            np.concatenate(crowds) if crowds else np.empty((0, 2), dtype=np.int64))


#: Pairs ``band_range`` makes at a time from one band's buckets.
SLICE_PAIRS = 1 << 21


def bucket_pairs(order: np.ndarray, starts: np.ndarray, sizes: np.ndarray, cap: int) -> np.ndarray:
    """Pairs ``(earlier, later)`` of the buckets ``order[start:start + size]``: each member
    with up to ``cap`` members before it."""
    first = np.repeat(starts, sizes)
    pos = first + (np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes))
    take = np.minimum(pos - first, cap)
    total = int(take.sum())
    later = np.repeat(order[pos], take)
    step = np.arange(total) - np.repeat(np.cumsum(take) - take, take)
    earlier = order[np.repeat(first, take) + step]
    return np.stack([earlier, later], axis=1).astype(np.int64)


def families(crowds: np.ndarray, owner: np.ndarray | None = None) -> np.ndarray:
    """Pairs ``(j, i)`` joining the rows of crowded buckets through representatives.

    ``crowds`` holds ``(bucket, row)`` rows. Rows that share a crowded bucket,
    in any band, are one family (connected components over the band keys, by
    label propagation); each row is paired with the family's representative,
    its first row, and a row of the representative's own owner (rows of one
    owner are never paired) with the family's first row of another owner.
    Verification then compares each member with the representative, never
    every member with every other: a family of ``s`` rows costs ``s - 1``
    pairs, whatever the number of bands and buckets it spans.
    """
    rows, row_at = np.unique(crowds[:, 1], return_inverse=True)  # ascending: corpus order
    _, bucket_at = np.unique(crowds[:, 0], return_inverse=True)
    label = np.arange(len(rows))  # each row's family, as the position of a row (its first, at the end)
    while True:
        least = np.full(int(bucket_at.max()) + 1, len(rows))
        np.minimum.at(least, bucket_at, label[row_at])
        new = label.copy()
        np.minimum.at(new, row_at, least[bucket_at])
        new = new[new]  # label[x] <= x: jumping halves the chains
        if np.array_equal(new, label):
            break
        label = new
    rep = rows[label]
    partner = rep.copy()
    if owner is not None:
        other = np.flatnonzero(owner[rows] != owner[rep])  # ascending
        fams, first = np.unique(label[other], return_index=True)
        alt = np.full(len(rows), -1, dtype=np.int64)
        alt[fams] = rows[other[first]]  # indexed by the family's label
        mine = owner[rows] == owner[rep]
        partner[mine] = alt[label[mine]]
    keep = (partner >= 0) & (partner != rows)
    a, b = partner[keep].astype(np.int64), rows[keep].astype(np.int64)
    return np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)


def _merge(found: np.ndarray, pending: list[np.ndarray], values: Rows, min_agree: int,
           n: int, cap: int) -> np.ndarray:
    """``found`` (already filtered and capped) and the new pairs, filtered, then capped.

    A pair of true copies lands in nearly every band: the new pairs are made
    unique, and those already found are dropped, before ``_agreeing``
    compares signatures, so each pair is compared once.
    """
    if not pending:
        return found
    new = np.concatenate(pending)
    codes = np.unique(new[:, 1] * n + new[:, 0])
    if len(found):
        known = np.sort(found[:, 1] * n + found[:, 0])
        at = np.minimum(np.searchsorted(known, codes), len(known) - 1)
        codes = codes[known[at] != codes]
    new = np.stack([codes % n, codes // n], axis=1)
    return cap_pairs(np.concatenate([found, _agreeing(values, new, min_agree)]), n, cap)


def cap_pairs(pairs: np.ndarray, n: int, cap: int) -> np.ndarray:
    """Unique pairs ``(j, i)``, each ``i`` keeping its ``cap`` smallest ``j``."""
    if not len(pairs):
        return pairs
    code = np.unique(pairs[:, 1] * n + pairs[:, 0])  # sorted by i, then j
    i, j = code // n, code % n
    group_start = np.flatnonzero(np.concatenate([[True], i[1:] != i[:-1]]))
    rank = np.arange(len(i)) - np.repeat(group_start, np.diff(np.append(group_start, len(i))))
    keep = rank < cap
    return np.stack([j[keep], i[keep]], axis=1)


def nonempty_rows(values: Rows) -> np.ndarray:
    if isinstance(values, PassageRows):
        return values.nonempty()
    return np.asarray(~np.all(values == np.uint32(0xFFFFFFFF), axis=1))


def _columns(values: Rows, lo: int, hi: int) -> np.ndarray:
    """Columns ``lo:hi`` of every row, C-contiguous."""
    if isinstance(values, PassageRows):
        return values.columns(lo, hi)
    return columns(values, lo, hi)  # a worker's mapped file is read a piece at a time


def _take(values: Rows, rows: np.ndarray) -> np.ndarray:
    return values.take(rows) if isinstance(values, PassageRows) else take(values, rows)


def document_pairs(values: np.ndarray, words: np.ndarray, match: MatchConfig,
                   sign: SignConfig, progress: BandProgress | None = None, jobs: int = 1) -> np.ndarray:
    """Candidate document pairs ``(i, j)``, ``i < j``, from an ``(n, num_perm)`` array of signatures.

    Documents without words are left out (an empty text would collide with
    every other empty text).
    """
    return _kept(values, words > 0, banding(match.doc_threshold, sign.num_perm), match, None,
                 min_agree(match.doc_threshold, match, sign.num_perm), progress, jobs,
                 match.max_bucket_crowd)


def passage_pairs(values: Rows, doc: np.ndarray, match: MatchConfig,
                  sign: SignConfig, progress: BandProgress | None = None, jobs: int = 1) -> np.ndarray:
    """Candidate passage pairs ``(p, q)``: rows of ``values`` (passages, corpus order) of two owners.

    ``doc`` is each row's owner: its document, or the group its document is in.
    """
    return _kept(values, nonempty_rows(values), banding(match.passage_threshold, sign.num_perm), match, doc,
                 min_agree(match.passage_threshold, match, sign.num_perm), progress, jobs,
                 match.passage_bucket_crowd)


def min_agree(threshold: float, match: MatchConfig, num_perm: int) -> int:
    """Equal hash values a candidate needs (``MatchConfig.min_estimate_share``)."""
    return int(np.ceil(threshold * match.min_estimate_share * num_perm - 1e-9))


def _kept(values: Rows, mask: np.ndarray, bands: tuple[int, int], match: MatchConfig,
          owner: np.ndarray | None, agree: int, progress: BandProgress | None = None,
          jobs: int = 1, crowd: int = 0) -> np.ndarray:
    """``band_pairs`` over the rows in ``mask``, in row numbers of ``values`` (no copy when all are kept)."""
    if mask.all():
        return band_pairs(values, *bands, match.max_candidates_per_item, owner=owner, min_agree=agree,
                          progress=progress, jobs=jobs, crowd=crowd)
    keep = np.flatnonzero(mask)
    scratch = None
    if isinstance(values, PassageRows):
        if is_mapped(values.own):  # the copy of the kept rows goes with the banding, not the run
            scratch = SpillDir()
        rows: Rows = values.subset(keep, None if scratch is None else scratch.path)
    elif jobs > 1 and len(keep) >= PARALLEL_ROWS:
        # the workers read the rows from a file: written here a piece at a time, never copied whole
        scratch = SpillDir()
        rows = gather(os.path.join(scratch.path, "rows.bin"), values, keep)
    else:
        rows = values[keep]
    try:
        pairs = band_pairs(rows, *bands, match.max_candidates_per_item,
                           owner=None if owner is None else owner[keep], min_agree=agree, progress=progress,
                           jobs=jobs, crowd=crowd)
    finally:
        del rows
        if scratch is not None:
            scratch.close()
    return keep[pairs] if len(pairs) else pairs


def document_candidates(signed: SignedBatch, match: MatchConfig, sign: SignConfig,
                        progress: BandProgress | None = None, jobs: int = 1,
                        leave_out: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, of documents whose signatures share an LSH bucket.

    Documents in ``leave_out`` are not banded (exact copies of an earlier
    document, which stands for them).
    """
    values, words = signed.doc_values, signed.doc_words
    if leave_out is not None and len(leave_out):
        words = words.copy()
        words[leave_out] = 0  # left out of banding, as empty texts are
    return [(int(i), int(j)) for i, j in document_pairs(values, words, match, sign, progress, jobs)]


def passage_candidates(signed: SignedBatch, match: MatchConfig, sign: SignConfig,
                       progress: BandProgress | None = None, owner: np.ndarray | None = None,
                       jobs: int = 1) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Pairs of passages ``((doc, passage), (doc, passage))`` from different documents.

    ``owner[doc]``, when given, joins documents: passages of documents with
    the same owner (copies already grouped) are never paired. ``jobs``: see
    ``band_pairs``.
    """
    owners = signed.p_doc if owner is None else owner[signed.p_doc]
    rows = passage_pairs(signed.passage_rows(), owners, match, sign, progress, jobs).reshape(-1)
    doc = signed.p_doc[rows]
    number = rows - signed.passage_bounds()[doc]
    flat = list(zip(doc.tolist(), number.tolist(), strict=True))
    return list(zip(flat[0::2], flat[1::2], strict=True))


def band_pairs_parallel(values: np.ndarray | PassageRows, b: int, r: int, cap: int, owner: np.ndarray | None,
                        min_agree: int, jobs: int, progress: Callable[[int, int], None] | None,
                        crowd: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``band_range`` over shares of the ``b`` bands in ``jobs`` processes, capped per share.

    The arrays go to the workers through files in a folder of the run's own
    (``spill.SpillDir``: removed at the end, or by the next run if this one
    is killed), read there a piece at a time (``diskarray``), rather than
    pickled once per share.
    """
    shares = min(b, 4 * jobs)  # more shares than workers: progress, and no worker left idle
    cuts = [round(k * b / shares) for k in range(shares + 1)]
    ranges = [(lo, hi) for lo, hi in pairwise(cuts) if hi > lo]
    parts = []
    if progress is not None:
        progress(0, b)
    scratch = SpillDir()  # removed below, or by the next run if this one is killed
    try:
        tmp = scratch.path
        if isinstance(values, PassageRows):
            values.save(tmp)
        else:
            save(tmp, "values", values, band_major=True)  # each worker reads its bands' columns only
        if owner is not None:
            np.save(os.path.join(tmp, "owner.npy"), owner)
        work = ((_bands_share, tmp, lo, hi, r, cap, owner is not None, min_agree, crowd) for lo, hi in ranges)
        for part, (_, hi) in zip(ordered_map(call, work, jobs), ranges, strict=True):
            parts.append(part)
            if progress is not None:
                progress(hi, b)
    finally:
        scratch.close()
    empty = np.empty((0, 2), dtype=np.int64)
    return (np.concatenate([p[0] for p in parts]) if parts else empty,
            np.concatenate([p[1] for p in parts]) if parts else empty)


def _bands_share(folder: str, lo: int, hi: int, r: int, cap: int, has_owner: bool,
                 min_agree: int, crowd: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Worker: ``band_range`` over the arrays ``band_pairs_parallel`` saved."""
    values: np.ndarray | PassageRows
    if any(os.path.exists(os.path.join(folder, f"values.{kind}")) for kind in ("npy", "bin")):
        values = load(folder, "values")
    else:
        values = PassageRows.load(folder)
    owner = np.load(os.path.join(folder, "owner.npy"), mmap_mode="r") if has_owner else None
    return band_range(values, lo, hi, r, cap, owner, min_agree, crowd=crowd)
