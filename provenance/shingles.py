"""Words to hashes: normalised words, seeded word hashes, shingles, and the MinHash permutations.

Text is normalised (NFKC, case-folded, words only) and cut into word
shingles; each word is hashed once with xxhash (seeded, so signatures are
the same on every run and machine, unlike Python's salted ``hash``), and a
shingle's hash is combined from its words' hashes with numpy. ``sign``
turns these into MinHash values over a whole batch of texts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import xxhash

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


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser: spreads the bits of a combined hash."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return np.asarray(h ^ (h >> np.uint32(16)))


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
            out = out * np.uint32(0x01000193) + fmix32(hashes[j:n - k + 1 + j] + np.uint32(j))
        return fmix32(out)


def shingle_hashes(words: Sequence[str], size: int, seed: int) -> np.ndarray:
    """32-bit hashes of the distinct word ``size``-grams (one gram when shorter)."""
    return np.unique(shingle_array(word_hashes(words, seed), size))



#: ``\\w`` for the first 256 code points, and ASCII lower-casing (a byte each).
_LATIN1_WORD = np.array([_WORD.match(chr(c)) is not None for c in range(256)], dtype=bool)
_ASCII_LOWER = np.array([c + 32 if 65 <= c <= 90 else c for c in range(256)], dtype=np.uint8)


@lru_cache(maxsize=16)
def permutations(num_perm: int, seed: int) -> np.ndarray:
    """datasketch's ``affine32`` permutation parameters ``(a, b)``, shape ``(2, num_perm)``.

    Drawn as ``MinHash._init_permutations`` draws them (datasketch 2.0; ``tests/test_sign_match_verify``
    compares the two), so that signing never imports datasketch, and with it scipy: half a
    second of every run's start, and of every worker's.
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return np.array([a, b])


_P1, _P2, _P3, _P4, _P5 = (np.uint32(x) for x in (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D,
                                                   0x27D4EB2F, 0x165667B1))


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def xxh32_rows(m: np.ndarray, seed: int) -> np.ndarray:
    """``xxhash.xxh32_intdigest`` of each row of ``m``: byte values, shape ``(n, length)``.

    The xxh32 algorithm written out in numpy, so that a batch's words are
    hashed together (one pass per distinct word length) rather than one
    Python call each; equal to xxhash's (``tests/test_speed_compat.py``). A
    row's 4-byte lanes are read as little-endian words at once (a view).
    """
    n, length = m.shape
    m = np.ascontiguousarray(m, dtype=np.uint8)
    whole = length - length % 4
    lanes = np.ascontiguousarray(m[:, :whole]).view("<u4").astype(np.uint32, copy=False)
    s = np.uint32(seed)
    with np.errstate(over="ignore"):
        p = 0
        if length >= 16:
            v = [np.full(n, s + _P1 + _P2, np.uint32), np.full(n, s + _P2, np.uint32),
                 np.full(n, s, np.uint32), np.full(n, s - _P1, np.uint32)]
            while p + 16 <= length:
                for lane in range(4):
                    v[lane] = _rotl(v[lane] + lanes[:, p // 4 + lane] * _P2, 13) * _P1
                p += 16
            h = _rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)
        else:
            h = np.full(n, s + _P5, np.uint32)
        h = h + np.uint32(length)
        while p + 4 <= length:
            h = _rotl(h + lanes[:, p // 4] * _P3, 17) * _P4
            p += 4
        while p < length:
            h = _rotl(h + m[:, p].astype(np.uint32) * _P5, 11) * _P1
            p += 1
        h ^= h >> np.uint32(15)
        h *= _P2
        h ^= h >> np.uint32(13)
        h *= _P3
        h ^= h >> np.uint32(16)
    return np.asarray(h)


def _word_mask(codes: np.ndarray, small: np.ndarray) -> np.ndarray:
    """Which code points are word characters (``\\w``): by table below 256 (``small``: the
    codes' low bytes), looked up once per distinct character above."""
    mask: np.ndarray = _LATIN1_WORD[small]
    if codes.dtype != np.uint8:  # code points above 255 may be there
        high = np.flatnonzero(codes > 255)
        if len(high):
            chars, inverse = np.unique(codes[high], return_inverse=True)
            wordy = np.array([_WORD.match(chr(c)) is not None for c in chars.tolist()], dtype=bool)
            mask[high] = wordy[inverse]
    return mask


def batch_words(joined: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Words of ``joined`` as ``words_with_spans`` finds them: starts, ends, xxh32 hashes; and newlines.

    Word boundaries come from numpy over the code points (a table for the first
    256). ASCII words are lower-cased (a table) and hashed together
    (``xxh32_rows``, grouped by length: a radix sort of the lengths); only words
    with other characters are normalised and hashed one by one.
    """
    ascii_only = joined.isascii()
    if ascii_only:
        codes = small = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    else:
        codes = np.frombuffer(joined.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
        # the low byte of each code point: right below 256; above, the mask is set again
        # (``_word_mask``) and the words are not ASCII (so never lower-cased here)
        small = codes.astype(np.uint8)
    edge = np.diff(_word_mask(codes, small).view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edge == 1)
    ends = np.flatnonzero(edge == -1)
    hashes = np.empty(len(starts), dtype=np.uint32)
    other = np.zeros(len(starts), dtype=bool)  # words with a non-ASCII character
    high = np.empty(0, dtype=np.int64) if ascii_only else np.flatnonzero(codes >= 128)
    if len(high) and len(starts):  # non-ASCII characters but no word at all: nothing to mark
        word = np.searchsorted(starts, high, "right") - 1
        inside = (word >= 0) & (high < ends[np.maximum(word, 0)])
        other[word[inside]] = True
    lowered = _ASCII_LOWER[small]
    plain = np.flatnonzero(~other)
    lengths = (ends - starts)[plain] if len(plain) < len(starts) else ends - starts
    if len(lengths) and int(lengths.max()) < 1 << 16:  # a radix sort, not a merge sort
        lengths = lengths.astype(np.uint16)
    by_length = plain[np.argsort(lengths, kind="stable")]
    sizes = np.bincount(lengths)
    at = 0
    for length, count in enumerate(sizes.tolist()):
        if count:
            rows = by_length[at:at + count]
            hashes[rows] = xxh32_rows(lowered[starts[rows, None] + np.arange(length)], seed)
            at += count
    keep = np.ones(len(starts), dtype=bool)
    for i in np.flatnonzero(other).tolist():
        normal = normalise(joined[starts[i]:ends[i]])
        if normal:
            hashes[i] = xxhash.xxh32_intdigest(normal.encode("utf-8"), seed)
        else:  # a word that normalises to nothing is not a word
            keep[i] = False
    if not keep.all():
        starts, ends, hashes = starts[keep], ends[keep], hashes[keep]
    return starts, ends, hashes, np.flatnonzero(codes == 10)
