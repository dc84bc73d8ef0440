"""Where each document's passages lie: the one passage type that verification reads.

A scan's passages are rows of a ``SignedBatch`` (``of_batch``); a check's come
from the index's stored spans (``of_spans``); a worker verifying a share of the
pairs gets the rows of its share's documents only (``share``). All three are a
``PassageView``: offsets per passage, and each document's text read on demand,
so no ``Passage`` object (nor a copy of its text) is kept per passage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from .records import Passage
from .signatures import SignedBatch

#: A document's text by its index in the run: a sequence of texts, or a share's mapping.
TextsByDoc = Sequence[str] | Mapping[int, str]


class PassageView:
    """Passage ``number`` of document ``doc`` is row ``bounds[doc] + number`` of the columns.

    ``start``/``end`` are offsets in the cleaned text, ``first``/``last`` word
    positions (zero where unknown: a stored index keeps no word positions).
    """

    def __init__(self, bounds: Sequence[int] | Mapping[int, int], start: np.ndarray, end: np.ndarray,
                 first: np.ndarray, last: np.ndarray, texts: TextsByDoc) -> None:
        self.bounds, self.texts = bounds, texts
        self.start, self.end, self.first, self.last = start, end, first, last

    @classmethod
    def of_batch(cls, batch: SignedBatch, texts: TextsByDoc) -> PassageView:
        """The passages of a scan's signatures."""
        return cls(batch.passage_bounds().tolist(), batch.p_start, batch.p_end, batch.p_first,
                   batch.p_last, texts)

    @classmethod
    def of_spans(cls, spans: Sequence[np.ndarray], texts: TextsByDoc) -> PassageView:
        """Passages given as each document's ``(start, end)`` rows (an index's stored spans)."""
        flat = np.concatenate([np.asarray(s, dtype=np.int64).reshape(-1, 2) for s in spans]) if spans \
            else np.empty((0, 2), dtype=np.int64)
        bounds = np.concatenate([[0], np.cumsum([len(s) for s in spans])]).astype(np.int64).tolist()
        zeros = np.zeros(len(flat), dtype=np.int64)
        return cls(bounds, flat[:, 0], flat[:, 1], zeros, zeros, texts)

    def share(self, docs: Iterable[int], texts: TextsByDoc) -> PassageView:
        """The passages of ``docs`` alone (all of each), with their texts from ``texts``: small
        to send to a worker, which reads the texts there."""
        order = sorted(set(docs))
        rows = [np.arange(self.bounds[d], self._end(d)) for d in order]
        at = np.concatenate(rows) if rows else np.empty(0, dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).tolist()
        return PassageView(dict(zip(order, offsets, strict=False)), self.start[at], self.end[at],
                           self.first[at], self.last[at], texts)

    def _end(self, doc: int) -> int:
        if isinstance(self.bounds, Mapping):
            raise ValueError("a share's view cannot be shared again")
        return int(self.bounds[doc + 1])

    def passage(self, doc: int, number: int) -> Passage:
        """Passage ``number`` of document ``doc``."""
        row = self.bounds[doc] + number
        start, end = int(self.start[row]), int(self.end[row])
        return Passage(doc, number, start, end, self.texts[doc][start:end],
                       int(self.first[row]), int(self.last[row]))

    def passages(self, doc: int) -> list[Passage]:
        """Every passage of document ``doc``, in order."""
        return [self.passage(doc, n) for n in range(self._end(doc) - int(self.bounds[doc]))]
