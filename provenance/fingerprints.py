"""A corpus's reuse fingerprints as the rewrite stage reads them: by document, in hash order.

Signing keeps a sample of each document's 3-word shingles (``sign.reuse_fingerprints``);
``Fingerprints`` holds them by document, each document's rows in hash order, with the
quote weight applied, and finds the fingerprints that many pairs of documents share at
once (``shared``), which is what ``derive`` measures and aligns rewritten copies by.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .arrays import chunk_runs, expand_ranges
from .runtime.diskarray import chunks, is_mapped, rows
from .signatures import SignedBatch


@dataclass(frozen=True)
class Fingerprints:
    """The reuse fingerprints of a corpus (``SignedBatch.f_*``), indexed by document."""

    hash: np.ndarray
    start: np.ndarray
    weight: np.ndarray  # 1, or ``derive_quote_weight`` inside quoted speech
    bounds: np.ndarray  # document i's fingerprints are rows bounds[i]:bounds[i + 1]
    total: np.ndarray  # each document's total weight
    plain: np.ndarray  # each document's narration: its fingerprints of weight 1 or more

    @classmethod
    def of(cls, signed: SignedBatch, quote_weight: float, docs: np.ndarray | None = None) -> Fingerprints:
        """The batch's fingerprints, quotes weighed by ``quote_weight``.

        For fingerprints kept in files (``signatures.DiskJoiner``): the arrays for the
        documents ``docs`` only (the others hold none), read in one pass over the files,
        so that neither the whole nor a memory map of it is held (measuring reads a few
        rows of each candidate, and a map's pages, read around each, would stay).
        """
        n = len(signed.doc_values)
        if signed.folder is not None and is_mapped(signed.f_doc):
            return cls._of_files(signed, quote_weight, docs)
        weight = np.where(signed.f_quoted, quote_weight, 1.0)
        plain = weight >= 1.0  # narration as ``verify_derivations`` counts it (a quote weighed 1 is too)
        return cls(signed.f_hash, signed.f_start, weight, np.searchsorted(signed.f_doc, np.arange(n + 1)),
                   np.bincount(signed.f_doc, weights=weight, minlength=n),
                   np.bincount(signed.f_doc, weights=plain, minlength=n))

    @classmethod
    def _of_files(cls, signed: SignedBatch, quote_weight: float, docs: np.ndarray | None) -> Fingerprints:
        n = len(signed.doc_values)
        wanted = np.ones(n, dtype=bool)
        if docs is not None:
            wanted[:] = False
            wanted[docs] = True
        counts = np.zeros(n, dtype=np.int64)
        total = np.zeros(n, dtype=np.float64)
        plain = np.zeros(n, dtype=np.float64)  # each document's narration (``Fingerprints.plain``)
        parts: dict[str, list[np.ndarray]] = {"hash": [], "start": [], "weight": []}
        step = max(hi - lo for lo, hi in chunks(signed.f_doc))
        lo = 0
        while lo < len(signed.f_doc):
            hi = min(lo + step, len(signed.f_doc))
            doc = rows(signed.f_doc, lo, hi)
            if hi < len(signed.f_doc):  # a document's rows in one piece, so its sum is added as at once
                cut = int(np.searchsorted(doc, doc[-1]))
                while not cut and hi < len(signed.f_doc):  # one document fills the piece: to its end
                    more = rows(signed.f_doc, hi, min(hi + step, len(signed.f_doc)))
                    ends = int(np.searchsorted(more, doc[-1], "right"))
                    doc, hi = np.concatenate([doc, more[:ends]]), hi + ends
                    if ends < len(more):
                        cut = hi - lo
                if cut:
                    hi, doc = lo + cut, doc[:cut]
            weight = np.where(rows(signed.f_quoted, lo, hi), quote_weight, 1.0)
            total += np.bincount(doc, weights=weight, minlength=n)
            plain += np.bincount(doc, weights=weight >= 1.0, minlength=n)
            keep = wanted[doc]
            if keep.any():  # a piece with no candidate's rows is not read further
                counts += np.bincount(doc[keep], minlength=n)
                parts["hash"].append(rows(signed.f_hash, lo, hi)[keep])
                parts["start"].append(rows(signed.f_start, lo, hi)[keep])
                parts["weight"].append(weight[keep])
            lo = hi
        empty = {"hash": signed.f_hash.dtype, "start": signed.f_start.dtype, "weight": np.float64}
        joined = {name: np.concatenate(values) if values else np.empty(0, dtype=empty[name])
                  for name, values in parts.items()}
        return cls(joined["hash"], joined["start"], joined["weight"],
                   np.concatenate([[0], np.cumsum(counts)]), total, plain)

    def __post_init__(self) -> None:
        """Each document's rows ordered by hash (``shared`` then finds a pair's common
        fingerprints by a binary search in keys that are sorted already, not by a sort per
        chunk of pairs). What a row says is unchanged; only rows within a document move."""
        if not len(self.hash):
            return
        sizes = np.diff(self.bounds)
        doc = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
        key = (doc << 32) | self.hash.astype(np.int64)
        if len(key) > 1 and bool((key[1:] > key[:-1]).all()):
            return
        order = np.argsort(key)  # a document's fingerprints are unique: no ties to break
        for name in ("hash", "start", "weight"):
            object.__setattr__(self, name, getattr(self, name)[order])

    def share(self, docs: np.ndarray) -> Fingerprints:
        """The fingerprints of ``docs`` (ascending, distinct) alone, the documents numbered
        0, 1, ... in that order: what a worker measuring or aligning pairs of these documents
        needs (``spark_rewrites``). Each document's rows, and so what it measures, are unchanged."""
        lo, hi = self.bounds[docs], self.bounds[docs + 1]
        at, _ = expand_ranges(lo, hi)
        return Fingerprints(self.hash[at], self.start[at], self.weight[at],
                            np.concatenate([[0], np.cumsum(hi - lo)]).astype(np.int64),
                            self.total[docs], self.plain[docs])

    def rows(self, i: int) -> slice:
        return slice(int(self.bounds[i]), int(self.bounds[i + 1]))

    def shared(self, left: np.ndarray, right: np.ndarray, rows_per_chunk: int = 1 << 21
               ) -> Iterator[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]:
        """The fingerprints each pair ``(left[k], right[k])`` shares, many pairs at a time.

        Yields ``(first, last, pair, row_left, row_right)`` per chunk of pairs
        ``first:last``: ``pair`` is the pair's index minus ``first`` (ascending), the
        rows are global row indices of the one fingerprint on each side. A document's
        fingerprints are unique, so a value found on both sides of one pair is one shared
        fingerprint; ``(pair, hash)`` keys for a whole chunk replace one set
        intersection per pair; and as each document's rows are in hash order
        (``__post_init__``), both sides' keys are sorted already: a binary search finds
        the left side's keys on the right, with no sort per chunk.
        """
        sizes = (self.bounds[left + 1] - self.bounds[left]) + (self.bounds[right + 1] - self.bounds[right])
        for first, last in chunk_runs(sizes, rows_per_chunk):
            a, b = left[first:last], right[first:last]
            l_rows, l_pair = expand_ranges(self.bounds[a], self.bounds[a + 1])
            r_rows, r_pair = expand_ranges(self.bounds[b], self.bounds[b + 1])
            # (pair, hash) keys, ascending on each side: a document's rows are in hash order
            l_key = (l_pair << 32) | self.hash[l_rows].astype(np.int64)
            r_key = (r_pair << 32) | self.hash[r_rows].astype(np.int64)
            at = np.minimum(np.searchsorted(r_key, l_key), max(len(r_key) - 1, 0))
            hit = (r_key[at] == l_key) if len(r_key) else np.zeros(len(l_key), dtype=bool)
            yield first, last, l_pair[hit], l_rows[hit], r_rows[at[hit]]
