"""A test's view of signed documents, one item per document, as datasketch objects.

The library keeps signatures as arrays (``signatures.SignedBatch``) and
passages as rows (``passages.PassageView``); these tests compare them with
datasketch's ``MinHash`` and ``MinHashLSH``, which want one object per set.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash

from provenance.config import SignConfig
from provenance.passages import PassageView
from provenance.records import CleanDoc, Passage
from provenance.shingles import shingle_hashes, words_with_spans
from provenance.sign import sign_texts
from provenance.signatures import SignedBatch


@dataclass
class SignedDoc:
    shingles: np.ndarray
    minhash: MinHash
    passages: list[Passage]
    passage_minhashes: list[MinHash]


@dataclass
class Signed:
    """``sign_texts`` over cleaned documents; ``signed[i]`` is document ``i`` as datasketch objects."""

    batch: SignedBatch
    view: PassageView
    texts: list[str]
    cfg: SignConfig

    def __len__(self) -> int:
        return len(self.texts)

    def _minhash(self, values: np.ndarray) -> MinHash:
        return MinHash(num_perm=self.cfg.num_perm, seed=self.cfg.seed, hashvalues=values.copy(),
                       scheme="affine32")

    def __getitem__(self, doc: int) -> SignedDoc:
        words = [w for w, _, _ in words_with_spans(self.texts[doc])]
        shingles = (shingle_hashes(words, self.cfg.shingle_size, self.cfg.seed) if words
                    else np.empty(0, dtype=np.uint32))
        bounds = self.batch.passage_bounds()
        rows = self.batch.p_values[bounds[doc]:bounds[doc + 1]]
        return SignedDoc(shingles, self._minhash(self.batch.doc_values[doc]), self.view.passages(doc),
                         [self._minhash(r) for r in rows])

    def __iter__(self) -> Iterator[SignedDoc]:
        return (self[i] for i in range(len(self)))


def sign_docs(cleaned: Sequence[CleanDoc], cfg: SignConfig) -> Signed:
    texts = [c.text for c in cleaned]
    batch = sign_texts(texts, cfg)
    return Signed(batch, PassageView.of_batch(batch, texts), texts, cfg)
