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
        word = m.group(0)
        word = word.lower() if word.isascii() else normalise(word)
        if word:
            out.append((word, m.start(), m.end()))
    return out


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser: spreads the bits of a combined hash."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def word_hashes(words: Sequence[str], seed: int) -> np.ndarray:
    """One seeded 32-bit xxhash per word (each word is hashed once)."""
    return np.fromiter((xxhash.xxh32_intdigest(w.encode("utf-8"), seed) for w in words),
                       dtype=np.uint32, count=len(words))


def shingle_array(hashes: np.ndarray, size: int) -> np.ndarray:
    """Hashes of every run of ``size`` consecutive words, in order (vectorised).

    Position ``i`` holds the shingle that starts at word ``i``; a text shorter
    than ``size`` words gives one shingle of all its words.
    """
    n = len(hashes)
    if n == 0:
        return np.empty(0, dtype=np.uint32)
    k = min(size, n)
    out = np.zeros(n - k + 1, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for j in range(k):  # polynomial combination, wrapping at 2**32
            out = out * np.uint32(0x01000193) + _fmix32(hashes[j:n - k + 1 + j] + np.uint32(j))
        return _fmix32(out)


def shingle_hashes(words: Sequence[str], size: int, seed: int) -> np.ndarray:
    """32-bit hashes of the distinct word ``size``-grams (one gram when shorter)."""
    return np.unique(shingle_array(word_hashes(words, seed), size))


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


def passages_of(clean: CleanDoc, doc_index: int, cfg: SignConfig,
                tokens: list[tuple[str, int, int]] | None = None) -> list[Passage]:
    """Cut the cleaned text into passages: paragraphs, short ones joined, long ones windowed.

    Returns passages with ``first``/``last`` word positions in ``tokens`` so that
    their shingles are slices of the document's.
    """
    text = clean.text
    tokens = words_with_spans(text) if tokens is None else tokens
    paragraphs: list[tuple[int, int]] = []  # [first word, end word) per line
    first = 0
    for k in range(1, len(tokens) + 1):
        if k == len(tokens) or "\n" in text[tokens[k - 1][2]:tokens[k][1]]:
            paragraphs.append((first, k))
            first = k
    chunks: list[tuple[int, int]] = []
    buffer: tuple[int, int] | None = None
    lo, hi, stride = cfg.passage_min_words, cfg.passage_max_words, cfg.passage_stride
    for a, b in paragraphs:
        if b - a > hi:
            if buffer:
                chunks.append(buffer)
                buffer = None
            starts = list(range(a, b - hi + 1, stride))
            if starts[-1] + hi < b:
                starts.append(b - hi)
            chunks.extend((s, s + hi) for s in starts)
            continue
        if buffer and (b - buffer[0]) > hi:
            chunks.append(buffer)
            buffer = None
        buffer = (buffer[0], b) if buffer else (a, b)
        if buffer[1] - buffer[0] >= lo:
            chunks.append(buffer)
            buffer = None
    if buffer:
        if chunks and buffer[1] - buffer[0] < lo and buffer[1] - chunks[-1][0] <= hi \
                and chunks[-1][1] == buffer[0]:
            chunks[-1] = (chunks[-1][0], buffer[1])
        else:
            chunks.append(buffer)
    out = []
    for number, (a, b) in enumerate(chunks):
        start, end = tokens[a][1], tokens[b - 1][2]
        out.append(Passage(doc_index, number, start, end, text[start:end], a, b))
    return out


def sign(cleaned: Sequence[CleanDoc], cfg: SignConfig) -> list[DocSignature]:
    """Signatures for every document and its passages.

    Each word is hashed once; shingle hashes are combined from word hashes
    with numpy, and a passage's shingles are a slice of its document's.

    Args:
        cleaned: cleaned documents; their position is their index in matches.
        cfg: shingle size, permutations and seed.
    """
    doc_sets: list[np.ndarray] = []
    all_passages: list[list[Passage]] = []
    passage_sets: list[np.ndarray] = []
    k = cfg.shingle_size
    for index, clean in enumerate(cleaned):
        tokens = words_with_spans(clean.text)
        shingles = shingle_array(word_hashes([t[0] for t in tokens], cfg.seed), k)
        doc_sets.append(np.unique(shingles))
        passages = passages_of(clean, index, cfg, tokens)
        all_passages.append(passages)
        for p in passages:
            if p.last - p.first >= k:
                passage_sets.append(np.unique(shingles[p.first:p.last - k + 1]))
            else:  # shorter than one shingle: hash its words as one gram
                passage_sets.append(shingle_hashes([t[0] for t in tokens[p.first:p.last]],
                                                   k, cfg.seed))
    doc_mh = minhashes(doc_sets, cfg)
    passage_mh = minhashes(passage_sets, cfg)
    out, j = [], 0
    for index, passages in enumerate(all_passages):
        n = len(passages)
        out.append(DocSignature(doc_sets[index], doc_mh[index], passages, passage_mh[j:j + n]))
        j += n
    return out
