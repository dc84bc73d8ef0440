"""Signatures of a batch of texts as arrays, and the joiners that gather batches into a corpus's.

``sign.sign_texts`` signs a batch in a worker and sends back a ``SignedBatch``
(compact numpy arrays, not one object per document); the driver joins the
batches as they come (``BatchJoiner``, or ``DiskJoiner`` whose largest arrays
go straight to files), and ``match`` bands the passages' values through
``PassageRows`` without building the whole passage matrix.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .arrays import expand_ranges
from .runtime.diskarray import (
    GATHER_ROWS,
    Appender,
    chunks,
    columns,
    gather,
    is_mapped,
    load,
    rows,
    save,
    take,
    take_columns,
)

#: The value of an empty set's MinHash (datasketch's), in every permutation.
EMPTY = np.uint32(0xFFFFFFFF)


@dataclass
class SignedBatch:
    """Signatures of a batch of texts as arrays (what a worker process sends back).

    ``doc_values[i]`` is document ``i``'s MinHash hash values (all ``2**32-1``
    when it has no words, as datasketch's empty MinHash); passages are rows of
    the ``p_*`` arrays, in document order, numbered within their document.

    A passage that is the whole of its document (``p_whole``: a short text is
    one passage) has its document's signature, so its values are not stored
    twice: ``p_own`` holds the values of the other passages only, in row
    order, and ``p_values`` (or ``passage_rows``) puts them together.
    """

    doc_values: np.ndarray  # (n, num_perm) uint32
    doc_words: np.ndarray  # (n,) int64: words in each text
    p_doc: np.ndarray  # (m,) int64: the passage's document, in this batch
    p_start: np.ndarray  # (m,) int64: offsets in the cleaned text
    p_end: np.ndarray
    p_first: np.ndarray  # (m,) int64: word positions [first, last)
    p_last: np.ndarray
    p_own: np.ndarray  # (m - p_whole.sum(), num_perm) uint32: the values of the passages not whole
    f_doc: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    """(k,) int32: the document of each reuse fingerprint (``reuse_fingerprints``), ascending."""
    f_hash: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint32))
    """(k,) uint32: the fingerprints, unique within their document."""
    f_start: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    """(k,) int32: where the fingerprint's shingle starts in its cleaned text (its first occurrence)."""
    f_quoted: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    """(k,) bool: that shingle touches quoted speech."""
    p_whole: np.ndarray | None = None
    """(m,) bool: the passage is its whole document (its values are ``doc_values[p_doc]``); None: none is."""
    folder: str | None = None
    """Where ``DiskJoiner`` keeps ``p_own`` and the ``f_*`` arrays, then read-only maps of files
    there (``diskarray``); None: every array is in memory."""

    _FIELDS: ClassVar[tuple[str, ...]] = ("doc_values", "doc_words", "p_doc", "p_start", "p_end", "p_first",
                                          "p_last", "p_own", "f_doc", "f_hash", "f_start", "f_quoted",
                                          "p_whole")

    @classmethod
    def empty(cls, num_perm: int) -> SignedBatch:
        """A batch of no document."""
        none = np.empty(0, dtype=np.int64)
        return cls(np.empty((0, num_perm), dtype=np.uint32), none, none, none, none, none, none,
                   np.empty((0, num_perm), dtype=np.uint32))

    def __post_init__(self) -> None:
        if self.p_whole is None:
            self.p_whole = np.zeros(len(self.p_doc), dtype=bool)

    @property
    def whole(self) -> np.ndarray:
        """``p_whole``, never None."""
        assert self.p_whole is not None  # set by __post_init__
        return self.p_whole

    @property
    def p_values(self) -> np.ndarray:
        """(m, num_perm) uint32: every passage's values, put together (a copy; see ``passage_rows``)."""
        return self.passage_rows().take(np.arange(len(self.p_doc)))

    def passage_rows(self) -> PassageRows:
        """The passages' values without a copy of the whole ones (what banding reads)."""
        return PassageRows(self.doc_values, self.p_doc, self.whole, self.p_own)

    def drop_passage_values(self) -> None:
        """Free the passages' own values (once the passage candidates are found)."""
        self.p_own = np.empty((0, *self.p_own.shape[1:]), dtype=self.p_own.dtype)

    def shift(self, docs: int) -> None:
        """Count this batch's documents from ``docs`` on (it follows that many in a whole)."""
        self.p_doc += docs
        self.f_doc += docs

    @classmethod
    def concat(cls, parts: Sequence[SignedBatch], num_perm: int) -> SignedBatch:
        """One batch from several (their ``p_doc`` already counted over the whole)."""
        joined = BatchJoiner(num_perm)
        for part in parts:
            joined.add(part, shifted=True)
        return joined.result()

    def replace(self, docs: Sequence[int], new: SignedBatch) -> SignedBatch:
        """This batch with documents ``docs`` signed anew (``new`` holds them, in that order).

        For the documents whose text a corpus-level stage (templates) changed
        after a worker signed them. The arrays are built a piece at a time by a
        joiner: in memory, or, for a batch whose large arrays are files
        (``DiskJoiner``), appended to new files in its folder.
        """
        if not len(docs):
            return self
        at = np.asarray(docs, dtype=np.int64)
        doc_values, doc_words = self.doc_values.copy(), self.doc_words.copy()
        doc_values[at], doc_words[at] = new.doc_values, new.doc_words
        changed = np.zeros(len(self.doc_values), dtype=bool)
        changed[at] = True  # a gather, not np.isin: the fingerprint arrays hold millions of rows
        keep = ~changed[self.p_doc]
        fields = ("p_doc", "p_start", "p_end", "p_first", "p_last", "p_whole")
        merged = {f: np.concatenate([getattr(self, f)[keep], getattr(new, f)]) for f in fields}
        merged["p_doc"][int(keep.sum()):] = at[new.p_doc]
        order = np.argsort(merged["p_doc"], kind="stable")  # each document's passages stay in order
        joined = BatchJoiner(self.p_own.shape[1]) if self.folder is None else \
            DiskJoiner(self.p_own.shape[1], self.folder)
        for name in SignedBatch._FIELDS:  # each array exists, even if no piece comes
            joined.put(name, getattr(self, name)[:0] if name != "p_whole" else self.whole[:0])
        joined.put("doc_values", doc_values)
        joined.put("doc_words", doc_words)
        for f in fields:
            joined.put(f, merged[f][order])
        # the passages' own values, in the same order: each row goes with its passage
        own_of = np.full(len(order), -1, dtype=np.int64)
        own_of[np.flatnonzero(~merged["p_whole"])] = np.arange(int((~merged["p_whole"]).sum()))
        source = own_of[order]
        source = source[source >= 0]  # rows of [the kept own rows, then new.p_own]
        old = np.flatnonzero(keep[~self.whole])
        for lo in range(0, len(source), GATHER_ROWS):
            part = source[lo:lo + GATHER_ROWS]
            from_old = part < len(old)
            out = np.empty((len(part), *self.p_own.shape[1:]), dtype=self.p_own.dtype)
            out[from_old] = take(self.p_own, old[part[from_old]])
            out[~from_old] = new.p_own[part[~from_old] - len(old)]
            joined.put("p_own", out)
        for piece in self._fingerprints_replaced(at, changed, new):
            for name, values in piece.items():
                joined.put(name, values)
        return joined.result()

    _F_FIELDS: ClassVar[tuple[str, ...]] = ("f_doc", "f_hash", "f_start", "f_quoted")

    def _fingerprints_replaced(self, at: np.ndarray, changed: np.ndarray, new: SignedBatch
                               ) -> Iterator[dict[str, np.ndarray]]:
        """The fingerprint arrays of ``replace``: each document's rows, old or new, in document
        order, a block of documents at a time (read a piece at a time when they are files)."""
        n = len(self.doc_values)
        counts = np.zeros(n, dtype=np.int64)
        for lo, hi in chunks(self.f_doc):
            counts += np.bincount(rows(self.f_doc, lo, hi), minlength=n)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        new_bounds = np.searchsorted(new.f_doc, np.arange(len(at) + 1))
        by_doc = np.argsort(at, kind="stable")
        block = 1 << 22  # fingerprint rows read at a time
        d0 = 0
        while d0 < n:
            d1 = min(n, max(d0 + 1, int(np.searchsorted(bounds, bounds[d0] + block, "right")) - 1))
            lo, hi = int(bounds[d0]), int(bounds[d1])
            olds = {f: rows(getattr(self, f), lo, hi) for f in self._F_FIELDS}
            kept = ~changed[olds["f_doc"]]
            ks = by_doc[np.searchsorted(at[by_doc], d0):np.searchsorted(at[by_doc], d1)]
            picked, _ = expand_ranges(new_bounds[ks], new_bounds[ks + 1])
            f_doc = np.concatenate([olds["f_doc"][kept], at[new.f_doc[picked]].astype(self.f_doc.dtype)])
            forder = np.argsort(f_doc, kind="stable")
            piece = {f: np.concatenate([olds[f][kept], getattr(new, f)[picked]])[forder]
                     for f in self._F_FIELDS[1:]}
            yield {"f_doc": f_doc[forder], **piece}
            d0 = d1

    def passage_bounds(self) -> np.ndarray:
        """``bounds[i]:bounds[i + 1]`` are the rows of document ``i``'s passages."""
        return np.searchsorted(self.p_doc, np.arange(len(self.doc_values) + 1))


class PassageRows:
    """The passages' MinHash values as rows, a whole document's passage read from its document's row.

    What ``match`` bands: ``columns`` (a band, all rows), ``take`` (some rows)
    and ``subset``, each made from ``doc_values`` and ``p_own`` without
    building the whole ``(m, num_perm)`` matrix.
    """

    def __init__(self, base: np.ndarray, base_row: np.ndarray, whole: np.ndarray, own: np.ndarray) -> None:
        self.base, self.base_row, self.whole, self.own = base, base_row, whole, own
        self.whole_rows = np.flatnonzero(whole)
        self.own_rows = np.flatnonzero(~whole)
        self.whole_base = base_row[self.whole_rows]

    def __len__(self) -> int:
        return len(self.whole)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.whole), int(self.base.shape[1])

    def columns(self, lo: int, hi: int) -> np.ndarray:
        """Columns ``lo:hi`` of every row, C-contiguous (read a piece at a time from a mapped file)."""
        if not len(self.whole_rows):
            return columns(self.own, lo, hi)
        out = np.empty((len(self.whole), hi - lo), dtype=np.uint32)
        out[self.whole_rows] = take_columns(self.base, self.whole_base, lo, hi)
        if len(self.own_rows):
            out[self.own_rows] = columns(self.own, lo, hi)
        return out

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The full rows ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), self.shape[1]), dtype=np.uint32)
        whole = self.whole[rows]
        out[whole] = take(self.base, self.base_row[rows[whole]])
        own = ~whole
        out[own] = take(self.own, np.searchsorted(self.own_rows, rows[own]))
        return out

    def subset(self, keep: np.ndarray, folder: str | None = None) -> PassageRows:
        """Rows ``keep`` (ascending), renumbered from 0 (their own values copied to a new file
        when they are in one: in ``folder``, by default the one theirs is in)."""
        keep = np.asarray(keep, dtype=np.int64)
        whole = self.whole[keep]
        at = np.searchsorted(self.own_rows, keep[~whole])
        if is_mapped(self.own):
            assert isinstance(self.own, np.memmap)
            folder = folder or os.path.dirname(str(self.own.filename))
            own = gather(disk_name(folder, "own"), self.own, at)
        else:
            own = self.own[at]
        return PassageRows(self.base, self.base_row[keep], whole, own)

    def nonempty(self) -> np.ndarray:
        """Rows that are not all ``2**32-1`` (an empty set's signature)."""
        out = np.ones(len(self.whole), dtype=bool)
        base_empty = np.zeros(len(self.base), dtype=bool)
        for lo, hi in chunks(self.base):
            base_empty[lo:hi] = np.all(rows(self.base, lo, hi) == EMPTY, axis=1)
        out[self.whole_rows] = ~base_empty[self.whole_base]
        own_empty = np.zeros(len(self.own), dtype=bool)
        for lo, hi in chunks(self.own):
            own_empty[lo:hi] = np.all(rows(self.own, lo, hi) == EMPTY, axis=1)
        out[self.own_rows] = ~own_empty
        return out

    def save(self, folder: str) -> None:
        """Write the arrays to files in ``folder`` (``load`` maps them); those already in a file
        (``DiskJoiner``) are linked there, not copied, and the values get a band-major copy too,
        from which a worker reads its bands' columns alone (``diskarray.save``)."""
        for name in ("base", "base_row", "whole", "own"):
            save(folder, f"rows_{name}", getattr(self, name), band_major=name in ("base", "own"))

    @classmethod
    def load(cls, folder: str) -> PassageRows:
        """What ``save`` wrote."""
        return cls(*(load(folder, f"rows_{name}") for name in ("base", "base_row", "whole", "own")))


class BatchJoiner:
    """``SignedBatch``es joined one after another into arrays that grow in place.

    Joining a list of parts at the end would hold every part and the whole at
    once, twice the signatures; here each part is copied in as it comes
    and can be freed, and the arrays grow by ``ndarray.resize`` (a
    ``realloc``, which moves a large block's pages without copying them).
    """

    GROWTH = 1.25

    def __init__(self, num_perm: int, docs: int = 0) -> None:
        self.num_perm = num_perm
        self.arrays: dict[str, np.ndarray] = {}
        self.used: dict[str, int] = {}
        self.docs = 0
        self.reserve = docs

    def put(self, name: str, values: np.ndarray, reserve: int = 0) -> None:
        used = self.used.get(name, 0)
        array = self.arrays.get(name)
        need = used + len(values)
        if array is None:
            array = np.empty((max(need, reserve), *values.shape[1:]), dtype=values.dtype)
        elif need > len(array):
            array.resize((max(need, int(len(array) * self.GROWTH) + 1024), *array.shape[1:]), refcheck=False)
        array[used:need] = values
        self.arrays[name], self.used[name] = array, need

    def add(self, part: SignedBatch, shifted: bool = False) -> None:
        """Append ``part``'s documents (``shifted``: its ``p_doc`` and ``f_doc`` count over the whole)."""
        shift = 0 if shifted else self.docs
        for name in SignedBatch._FIELDS:
            values = getattr(part, name) if name != "p_whole" else part.whole
            if shift and name in ("p_doc", "f_doc"):
                values = values + values.dtype.type(shift)
            self.put(name, values, self.reserve if name in ("doc_values", "doc_words") else 0)
        self.docs += len(part.doc_values)

    def result(self) -> SignedBatch:
        """The joined batch; the arrays are cut to their length (in place)."""
        if not self.arrays:
            return SignedBatch.empty(self.num_perm)
        for name, array in self.arrays.items():
            if len(array) != self.used[name]:
                array.resize((self.used[name], *array.shape[1:]), refcheck=False)
        arrays: dict[str, Any] = {name: self.arrays[name] for name in SignedBatch._FIELDS}
        batch = SignedBatch(**arrays)
        self.arrays = {}
        return batch


_disk_files = itertools.count()


def disk_name(folder: str, name: str) -> str:
    """A new file in ``folder`` for the array ``name`` (``DiskJoiner``)."""
    return os.path.join(folder, f"signed-{os.getpid()}-{next(_disk_files)}-{name}.bin")


class DiskJoiner(BatchJoiner):
    """A ``BatchJoiner`` that appends the largest arrays (``ON_DISK``) to files in ``folder`` as
    parts arrive, never holding them in memory; ``result`` maps them read-only (``diskarray``).

    At a million documents those are about 2 GB of passage values and 2 GB of reuse
    fingerprints. The folder is the run's (``spill.SpillDir``), removed with it.
    """

    ON_DISK: ClassVar[tuple[str, ...]] = ("p_own", "f_doc", "f_hash", "f_start", "f_quoted")

    def __init__(self, num_perm: int, folder: str, docs: int = 0) -> None:
        super().__init__(num_perm, docs)
        self.folder = folder
        self.files: dict[str, Appender] = {}

    def put(self, name: str, values: np.ndarray, reserve: int = 0) -> None:
        if name not in self.ON_DISK:
            super().put(name, values, reserve)
            return
        out = self.files.get(name)
        if out is None:
            out = self.files[name] = Appender(disk_name(self.folder, name), values.dtype, values.shape[1:])
        out.add(values)

    def result(self) -> SignedBatch:
        files, self.files = self.files, {}
        if not self.arrays:
            for appender in files.values():
                appender.close()
            return super().result()
        for name, appender in files.items():
            self.arrays[name] = appender.open()
            self.used[name] = appender.count
        batch = super().result()
        batch.folder = self.folder
        return batch
