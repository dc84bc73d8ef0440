"""Shingles and MinHash signatures, for whole documents and for passages.

Text is normalised (NFKC, case-folded, words only) and cut into word
shingles; each shingle is hashed once with xxhash (seeded, so signatures are
the same on every run and machine, unlike Python's salted ``hash``), and the
hashes go to datasketch in bulk: ``MinHash.bulk`` applies all permutations
to a document's hashes as one numpy operation instead of a per-token loop.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xxhash
from datasketch import MinHash

from .config import SignConfig
from .records import CleanDoc, Passage

_WORD = re.compile(r"\w+", re.UNICODE)


def normalise(text: str) -> str:
    """NFKC, case-folded, one space between words; punctuation dropped.

    Idempotent: ``normalise(normalise(t)) == normalise(t)``.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", folded)))


def words_with_spans(text: str) -> list[tuple[str, int, int]]:
    """Normalised words of ``text`` with their character spans in ``text``."""
    out = []
    for m in _WORD.finditer(text):
        word = normalise(m.group(0))
        if word:
            out.append((word, m.start(), m.end()))
    return out


def shingle_hashes(words: Sequence[str], size: int, seed: int) -> np.ndarray:
    """32-bit hashes of the distinct word ``size``-grams (one gram when shorter)."""
    if not words:
        return np.empty(0, dtype=np.uint32)
    if len(words) <= size:
        grams = [" ".join(words)]
    else:
        grams = [" ".join(words[i:i + size]) for i in range(len(words) - size + 1)]
    hashes = np.fromiter((xxhash.xxh32_intdigest(g.encode("utf-8"), seed) for g in grams),
                         dtype=np.uint32, count=len(grams))
    return np.unique(hashes)


def _identity(value: int) -> int:
    return int(value)


def minhashes(hash_sets: Sequence[np.ndarray], cfg: SignConfig) -> list[MinHash]:
    """datasketch MinHashes of pre-hashed shingle sets, in bulk."""
    return MinHash.bulk(hash_sets, num_perm=cfg.num_perm, seed=cfg.seed, hashfunc=_identity)


@dataclass
class DocSignature:
    """A document's shingle hashes and MinHash, and its passages'."""

    shingles: np.ndarray
    minhash: MinHash
    passages: list[Passage]
    passage_minhashes: list[MinHash]


def passages_of(clean: CleanDoc, doc_index: int, cfg: SignConfig) -> list[Passage]:
    """Cut the cleaned text into passages: paragraphs, short ones joined, long ones windowed."""
    text = clean.text
    paragraphs: list[list[tuple[str, int, int]]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        words = [(w, s + pos, e + pos) for w, s, e in words_with_spans(line)]
        if words:
            paragraphs.append(words)
        pos += len(line)
    chunks: list[list[tuple[str, int, int]]] = []
    buffer: list[tuple[str, int, int]] = []
    for para in paragraphs:
        if len(para) > cfg.passage_max_words:
            if buffer:
                chunks.append(buffer)
                buffer = []
            starts = list(range(0, len(para) - cfg.passage_max_words + 1, cfg.passage_stride))
            if starts[-1] + cfg.passage_max_words < len(para):
                starts.append(len(para) - cfg.passage_max_words)
            chunks.extend(para[s:s + cfg.passage_max_words] for s in starts)
            continue
        if buffer and len(buffer) + len(para) > cfg.passage_max_words:
            chunks.append(buffer)
            buffer = []
        buffer = buffer + para
        if len(buffer) >= cfg.passage_min_words:
            chunks.append(buffer)
            buffer = []
    if buffer:
        if chunks and len(buffer) < cfg.passage_min_words and \
                len(chunks[-1]) + len(buffer) <= cfg.passage_max_words:
            chunks[-1] = chunks[-1] + buffer
        else:
            chunks.append(buffer)
    out = []
    for number, chunk in enumerate(chunks):
        start, end = chunk[0][1], chunk[-1][2]
        out.append(Passage(doc_index, number, start, end, text[start:end]))
    return out


def sign(cleaned: Sequence[CleanDoc], cfg: SignConfig) -> list[DocSignature]:
    """Signatures for every document and its passages.

    Args:
        cleaned: cleaned documents; their position is their index in matches.
        cfg: shingle size, permutations and seed.
    """
    doc_sets: list[np.ndarray] = []
    all_passages: list[list[Passage]] = []
    passage_sets: list[np.ndarray] = []
    for index, clean in enumerate(cleaned):
        words = [w for w, _, _ in words_with_spans(clean.text)]
        doc_sets.append(shingle_hashes(words, cfg.shingle_size, cfg.seed))
        passages = passages_of(clean, index, cfg)
        all_passages.append(passages)
        for p in passages:
            passage_sets.append(shingle_hashes([w for w, _, _ in words_with_spans(p.text)],
                                               cfg.shingle_size, cfg.seed))
    doc_mh = minhashes(doc_sets, cfg)
    passage_mh = minhashes(passage_sets, cfg)
    out, k = [], 0
    for index, passages in enumerate(all_passages):
        n = len(passages)
        out.append(DocSignature(doc_sets[index], doc_mh[index], passages, passage_mh[k:k + n]))
        k += n
    return out
