"""LSH candidates: near-duplicate documents and shared passages.

datasketch's ``MinHashLSH`` buckets signatures by bands, so only documents
that share a bucket are ever compared: the cost follows the number of
candidates, not the square of the corpus. Candidates are only candidates;
``verify`` decides.
"""

from __future__ import annotations

from collections.abc import Sequence

from datasketch import MinHashLSH

from .config import MatchConfig, SignConfig
from .sign import DocSignature


def document_candidates(sigs: Sequence[DocSignature], match: MatchConfig,
                        sign: SignConfig) -> list[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, of documents whose signatures share an LSH bucket."""
    lsh = MinHashLSH(threshold=match.doc_threshold, num_perm=sign.num_perm)
    pairs: set[tuple[int, int]] = set()
    for i, sig in enumerate(sigs):
        if len(sig.shingles) == 0:
            continue  # an empty text would collide with every other empty text
        found = sorted(lsh.query(sig.minhash))
        for j in found[: match.max_candidates_per_item]:
            pairs.add((j, i))
        lsh.insert(i, sig.minhash, check_duplication=False)
    return sorted(pairs)


def passage_candidates(sigs: Sequence[DocSignature], match: MatchConfig,
                       sign: SignConfig) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Pairs of passages ``((doc, passage), (doc, passage))`` from different documents."""
    lsh = MinHashLSH(threshold=match.passage_threshold, num_perm=sign.num_perm)
    pairs: set[tuple[tuple[int, int], tuple[int, int]]] = set()
    for i, sig in enumerate(sigs):
        keys = []
        for passage, mh in zip(sig.passages, sig.passage_minhashes, strict=False):
            if mh.is_empty():
                continue
            key = (i, passage.number)
            found = sorted(k for k in lsh.query(mh) if k[0] != i)
            for other in found[: match.max_candidates_per_item]:
                pairs.add((other, key))
            keys.append((key, mh))
        for key, mh in keys:  # after querying, so a document never matches itself
            lsh.insert(key, mh, check_duplication=False)
    return sorted(pairs)
