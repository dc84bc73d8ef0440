"""Shingles and MinHash signatures, for whole documents and for passages.

Text is normalised (NFKC, case-folded, words only) and cut into word
shingles; each shingle is hashed once with xxhash (seeded, so signatures are
the same on every run and machine, unlike Python's salted ``hash``), and the
hashes go to datasketch in bulk: ``MinHash.bulk`` applies all permutations
to a document's hashes as one numpy operation instead of a per-token loop.
"""

from __future__ import annotations

import itertools
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import xxhash

if TYPE_CHECKING:  # datasketch imports scipy (half a second): loaded only where its objects are made
    from datasketch import MinHash

from .bands import GOLDEN, mix64
from .config import SignConfig
from .records import CleanDoc, Passage
from .runtime.diskarray import Appender, chunks, columns, is_mapped, load, rows, save, take, take_columns

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
            out = out * np.uint32(0x01000193) + _fmix32(hashes[j:n - k + 1 + j] + np.uint32(j))
        return _fmix32(out)


def shingle_hashes(words: Sequence[str], size: int, seed: int) -> np.ndarray:
    """32-bit hashes of the distinct word ``size``-grams (one gram when shorter)."""
    return np.unique(shingle_array(word_hashes(words, seed), size))


def _identity(value: int) -> int:
    return int(value)


def minhashes(hash_sets: Sequence[np.ndarray], cfg: SignConfig) -> list[MinHash]:
    """datasketch MinHashes of pre-hashed shingle sets, in bulk."""
    from datasketch import MinHash

    return list(MinHash.bulk(hash_sets, num_perm=cfg.num_perm, seed=cfg.seed, hashfunc=_identity))


@dataclass
class DocSignature:
    """A document's shingle hashes and MinHash, and its passages'."""

    shingles: np.ndarray
    minhash: MinHash
    passages: list[Passage]
    passage_minhashes: list[MinHash]


def _chunks(paragraphs: Sequence[tuple[int, int]], cfg: SignConfig) -> list[tuple[int, int]]:
    """Word ranges ``[first, end)`` of passages, from the word ranges of paragraphs."""
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
    return chunks


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
    out = []
    for number, (a, b) in enumerate(_chunks(paragraphs, cfg)):
        start, end = tokens[a][1], tokens[b - 1][2]
        out.append(Passage(doc_index, number, start, end, text[start:end], a, b))
    return out


def sign(cleaned: Sequence[CleanDoc], cfg: SignConfig) -> list[DocSignature]:
    """Signatures for every document and its passages, as datasketch ``MinHash`` objects.

    Each word is hashed once; shingle hashes are combined from word hashes
    with numpy, and a passage's shingles are a slice of its document's. The
    hash values are computed by ``sign_texts`` and are exactly those of
    ``MinHash.bulk`` over the same shingle sets.

    Args:
        cleaned: cleaned documents; their position is their index in matches.
        cfg: shingle size, permutations and seed.
    """
    from datasketch import MinHash

    batch = sign_texts([c.text for c in cleaned], cfg)
    perms = permutations(cfg.num_perm, cfg.seed)
    template = MinHash(num_perm=cfg.num_perm, seed=cfg.seed, hashfunc=_identity,
                       permutations=perms, scheme="affine32")

    def as_minhash(values: np.ndarray) -> MinHash:
        mh = template.copy()
        mh.hashvalues = values.copy()
        return mh

    bounds = np.searchsorted(batch.p_doc, np.arange(len(cleaned) + 1))
    p_values = batch.p_values
    out = []
    for index, clean in enumerate(cleaned):
        text = clean.text
        words = batch.doc_words[index]
        shingles = shingle_hashes([t[0] for t in words_with_spans(text)], cfg.shingle_size,
                                  cfg.seed) if words else np.empty(0, dtype=np.uint32)
        passages, mhs = [], []
        for number, p in enumerate(range(bounds[index], bounds[index + 1])):
            start, end = int(batch.p_start[p]), int(batch.p_end[p])
            passages.append(Passage(index, number, start, end, text[start:end],
                                    int(batch.p_first[p]), int(batch.p_last[p])))
            mhs.append(as_minhash(p_values[p]))
        out.append(DocSignature(shingles, as_minhash(batch.doc_values[index]), passages, mhs))
    return out


# --- Vectorised signing over a batch of texts -------------------------------
#
# The signatures are datasketch's, bit for bit: datasketch's "affine32" scheme
# pre-mixes each input hash with fmix32 and maps it through ``a_k * h + b_k``
# (mod 2**32, ``a_k`` odd) for each permutation ``k``, keeping the minimum.
# Here that is done with numpy over every shingle of a whole batch at once,
# one permutation at a time: ``np.minimum.reduceat`` takes the minimum over
# each document's range of shingles, and over each passage's range (a
# passage's shingles are a slice of its document's, so they are never
# rebuilt). The minimum over a multiset equals the minimum over its set, so
# shingles need not be made unique first.

_MAX32 = np.uint32(0xFFFFFFFF)
_ASCII_WORD = np.zeros(256, dtype=bool)
for _c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_":
    _ASCII_WORD[_c] = True
_HASH_CACHE: dict[int, dict[str, int]] = {}
_CACHE_LIMIT = 1 << 21


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


def _read32(m: np.ndarray, at: int) -> np.ndarray:
    return (m[:, at] | (m[:, at + 1] << np.uint32(8)) | (m[:, at + 2] << np.uint32(16))  # type: ignore[no-any-return]
            | (m[:, at + 3] << np.uint32(24)))


def xxh32_rows(m: np.ndarray, seed: int) -> np.ndarray:
    """``xxhash.xxh32_intdigest`` of each row of ``m``: byte values, shape ``(n, length)``, uint32.

    The xxh32 algorithm written out in numpy, so that a batch's words are
    hashed together (one pass per distinct word length) rather than one
    Python call each; equal to xxhash's (``tests/test_speed_compat.py``).
    """
    n, length = m.shape
    s = np.uint32(seed)
    with np.errstate(over="ignore"):
        p = 0
        if length >= 16:
            v = [np.full(n, s + _P1 + _P2, np.uint32), np.full(n, s + _P2, np.uint32),
                 np.full(n, s, np.uint32), np.full(n, s - _P1, np.uint32)]
            while p + 16 <= length:
                for lane in range(4):
                    v[lane] = _rotl(v[lane] + _read32(m, p + 4 * lane) * _P2, 13) * _P1
                p += 16
            h = _rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)
        else:
            h = np.full(n, s + _P5, np.uint32)
        h = h + np.uint32(length)
        while p + 4 <= length:
            h = _rotl(h + _read32(m, p) * _P3, 17) * _P4
            p += 4
        while p < length:
            h = _rotl(h + m[:, p] * _P5, 11) * _P1
            p += 1
        h ^= h >> np.uint32(15)
        h *= _P2
        h ^= h >> np.uint32(13)
        h *= _P3
        h ^= h >> np.uint32(16)
    return np.asarray(h)


def _word_mask(codes: np.ndarray) -> np.ndarray:
    """Which code points are word characters (``\\w``), looked up once per distinct character."""
    mask = np.zeros(len(codes), dtype=bool)
    low = codes < 128
    mask[low] = _ASCII_WORD[codes[low]]
    high = np.flatnonzero(~low)
    if len(high):
        chars, inverse = np.unique(codes[high], return_inverse=True)
        wordy = np.array([_WORD.match(chr(c)) is not None for c in chars.tolist()], dtype=bool)
        mask[high] = wordy[inverse]
    return mask


def _batch_words(joined: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Words of ``joined`` as ``words_with_spans`` finds them: starts, ends, xxh32 hashes; and newlines.

    Word boundaries come from numpy over the code points. ASCII words are
    lower-cased and hashed together (``xxh32_rows``, grouped by length);
    only words with other characters are normalised and hashed one by one.
    """
    if joined.isascii():
        codes = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).astype(np.uint32)
    else:
        codes = np.frombuffer(joined.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
    edge = np.diff(_word_mask(codes).view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edge == 1)
    ends = np.flatnonzero(edge == -1)
    hashes = np.empty(len(starts), dtype=np.uint32)
    other = np.zeros(len(starts), dtype=bool)  # words with a non-ASCII character
    high = np.flatnonzero(codes >= 128)
    if len(high) and len(starts):  # non-ASCII characters but no word at all: nothing to mark
        word = np.searchsorted(starts, high, "right") - 1
        inside = (word >= 0) & (high < ends[np.maximum(word, 0)])
        other[word[inside]] = True
    lowered = codes + ((codes >= 65) & (codes <= 90)) * np.uint32(32)
    plain = np.flatnonzero(~other)
    lengths = (ends - starts)[plain]
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
        after a worker signed them.
        """
        if not len(docs):
            return self
        at = np.asarray(docs, dtype=np.int64)
        if self.folder is not None:
            return self._replace_on_disk(at, new, self.folder)
        doc_values, doc_words = self.doc_values.copy(), self.doc_words.copy()
        doc_values[at], doc_words[at] = new.doc_values, new.doc_words
        changed = np.zeros(len(self.doc_values), dtype=bool)
        changed[at] = True  # a gather, not np.isin: the fingerprint arrays hold millions of rows
        keep = ~changed[self.p_doc]
        fields = ("p_doc", "p_start", "p_end", "p_first", "p_last", "p_whole")
        merged = {f: np.concatenate([getattr(self, f)[keep], getattr(new, f)]) for f in fields}
        merged["p_doc"][int(keep.sum()):] = at[new.p_doc]
        order = np.argsort(merged["p_doc"], kind="stable")  # each document's passages stay in order
        # the passages' own values, in the same order: each row goes with its passage
        own_of = np.full(len(merged["p_doc"]), -1, dtype=np.int64)
        own_of[np.flatnonzero(~merged["p_whole"])] = np.arange(int((~merged["p_whole"]).sum()))
        own_all = np.concatenate([self.p_own[keep[~self.whole]], new.p_own])
        own_order = own_of[order]
        p_own = own_all[own_order[own_order >= 0]]
        fkeep = ~changed[self.f_doc]
        f_doc = np.concatenate([self.f_doc[fkeep], at[new.f_doc].astype(np.int32)])
        forder = np.argsort(f_doc, kind="stable")
        rest = {f: np.concatenate([getattr(self, f)[fkeep], getattr(new, f)])[forder]
                for f in ("f_hash", "f_start", "f_quoted")}
        p_doc, p_start, p_end, p_first, p_last, p_whole = (merged[f][order] for f in fields)
        return SignedBatch(doc_values, doc_words, p_doc, p_start, p_end, p_first, p_last, p_own,
                           f_doc[forder], rest["f_hash"], rest["f_start"], rest["f_quoted"], p_whole)

    def _replace_on_disk(self, at: np.ndarray, new: SignedBatch, folder: str) -> SignedBatch:
        """``replace`` for a batch whose ``p_own`` and ``f_*`` are files: the same arrays, written to
        new files a piece at a time (the passages' small columns are joined in memory, as there)."""
        doc_values, doc_words = self.doc_values.copy(), self.doc_words.copy()
        doc_values[at], doc_words[at] = new.doc_values, new.doc_words
        changed = np.zeros(len(self.doc_values), dtype=bool)
        changed[at] = True
        keep = ~changed[self.p_doc]
        fields = ("p_doc", "p_start", "p_end", "p_first", "p_last", "p_whole")
        merged = {f: np.concatenate([getattr(self, f)[keep], getattr(new, f)]) for f in fields}
        merged["p_doc"][int(keep.sum()):] = at[new.p_doc]
        order = np.argsort(merged["p_doc"], kind="stable")
        own_of = np.full(len(merged["p_doc"]), -1, dtype=np.int64)
        own_of[np.flatnonzero(~merged["p_whole"])] = np.arange(int((~merged["p_whole"]).sum()))
        source = own_of[order]
        source = source[source >= 0]  # rows of [the kept own rows, then new.p_own]
        old = np.flatnonzero(keep[~self.whole])
        own = Appender(disk_name(folder, "p_own"), self.p_own.dtype, self.p_own.shape[1:])
        step = 1 << 16
        for lo in range(0, len(source), step):
            part = source[lo:lo + step]
            from_old = part < len(old)
            out = np.empty((len(part), *self.p_own.shape[1:]), dtype=self.p_own.dtype)
            out[from_old] = take(self.p_own, old[part[from_old]])
            out[~from_old] = new.p_own[part[~from_old] - len(old)]
            own.add(out)
        # fingerprints: each document's rows, old or new, in document order, a block of documents at a time
        n = len(self.doc_values)
        counts = np.zeros(n, dtype=np.int64)
        for lo, hi in chunks(self.f_doc):
            counts += np.bincount(rows(self.f_doc, lo, hi), minlength=n)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        new_bounds = np.searchsorted(new.f_doc, np.arange(len(at) + 1))
        by_doc = np.argsort(at, kind="stable")
        names = ("f_doc", "f_hash", "f_start", "f_quoted")
        outs = {f: Appender(disk_name(folder, f), getattr(self, f).dtype) for f in names}
        block = 1 << 22  # fingerprint rows read at a time
        d0 = 0
        while d0 < n:
            d1 = min(n, max(d0 + 1, int(np.searchsorted(bounds, bounds[d0] + block, "right")) - 1))
            lo, hi = int(bounds[d0]), int(bounds[d1])
            olds = {f: rows(getattr(self, f), lo, hi) for f in names}
            kept = ~changed[olds["f_doc"]]
            ks = by_doc[np.searchsorted(at[by_doc], d0):np.searchsorted(at[by_doc], d1)]
            picked = (np.concatenate([np.arange(new_bounds[k], new_bounds[k + 1]) for k in ks.tolist()])
                      if len(ks) else np.empty(0, dtype=np.int64)).astype(np.int64)
            f_doc = np.concatenate([olds["f_doc"][kept], at[new.f_doc[picked]].astype(self.f_doc.dtype)])
            forder = np.argsort(f_doc, kind="stable")
            outs["f_doc"].add(f_doc[forder])
            for f in names[1:]:
                outs[f].add(np.concatenate([olds[f][kept], getattr(new, f)[picked]])[forder])
            d0 = d1
        p_doc, p_start, p_end, p_first, p_last, p_whole = (merged[f][order] for f in fields)
        f_doc, f_hash, f_start, f_quoted = (outs[f].open() for f in names)
        return SignedBatch(doc_values, doc_words, p_doc, p_start, p_end, p_first, p_last, own.open(),
                           f_doc, f_hash, f_start, f_quoted, p_whole, folder=folder)

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

    def subset(self, keep: np.ndarray) -> PassageRows:
        """Rows ``keep`` (ascending), renumbered from 0 (their own values copied to a new file
        when they are in one)."""
        keep = np.asarray(keep, dtype=np.int64)
        whole = self.whole[keep]
        at = np.searchsorted(self.own_rows, keep[~whole])
        if is_mapped(self.own):
            assert isinstance(self.own, np.memmap)
            out = Appender(disk_name(os.path.dirname(str(self.own.filename)), "own"), self.own.dtype,
                           self.own.shape[1:])
            for lo in range(0, len(at), 1 << 16):
                out.add(take(self.own, at[lo:lo + (1 << 16)]))
            own = out.open()
        else:
            own = self.own[at]
        return PassageRows(self.base, self.base_row[keep], whole, own)

    def nonempty(self) -> np.ndarray:
        """Rows that are not all ``2**32-1`` (an empty set's signature)."""
        out = np.ones(len(self.whole), dtype=bool)
        base_empty = np.zeros(len(self.base), dtype=bool)
        for lo, hi in chunks(self.base):
            base_empty[lo:hi] = np.all(rows(self.base, lo, hi) == _MAX32, axis=1)
        out[self.whole_rows] = ~base_empty[self.whole_base]
        own_empty = np.zeros(len(self.own), dtype=bool)
        for lo, hi in chunks(self.own):
            own_empty[lo:hi] = np.all(rows(self.own, lo, hi) == _MAX32, axis=1)
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

    def _put(self, name: str, values: np.ndarray, reserve: int = 0) -> None:
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
            self._put(name, values, self.reserve if name in ("doc_values", "doc_words") else 0)
        self.docs += len(part.doc_values)

    def result(self) -> SignedBatch:
        """The joined batch; the arrays are cut to their length (in place)."""
        if not self.arrays:
            return sign_texts([], SignConfig(num_perm=self.num_perm))
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

    def _put(self, name: str, values: np.ndarray, reserve: int = 0) -> None:
        if name not in self.ON_DISK:
            super()._put(name, values, reserve)
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


class PassageView:
    """``view[i].passages[n]`` over a ``SignedBatch`` and the cleaned texts, built on demand.

    What ``verify.verify_passages`` reads from a list of ``DocSignature``,
    without a ``Passage`` object (and a copy of its text) kept per passage.
    """

    def __init__(self, batch: SignedBatch, texts: Sequence[str]) -> None:
        self.batch, self.texts = batch, texts
        self.bounds: list[int] = batch.passage_bounds().tolist()

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, doc: int) -> _DocPassages:
        return _DocPassages(self, doc)

    def passage(self, doc: int, number: int) -> Passage:
        """Passage ``number`` of document ``doc``."""
        row = self.bounds[doc] + number
        b = self.batch
        start, end = int(b.p_start[row]), int(b.p_end[row])
        return Passage(doc, number, start, end, self.texts[doc][start:end],
                       int(b.p_first[row]), int(b.p_last[row]))


class _DocPassages:
    __slots__ = ("doc", "view")

    def __init__(self, view: PassageView, doc: int) -> None:
        self.view, self.doc = view, doc

    @property
    def passages(self) -> _DocPassages:
        return self

    def __len__(self) -> int:
        return self.view.bounds[self.doc + 1] - self.view.bounds[self.doc]

    def __getitem__(self, number: int) -> Passage:
        return self.view.passage(self.doc, number)


#: Shingle hashes taken at a time: small enough that the permutation loop runs in cache.
_BLOCK = 1 << 15


def range_minima(hashes: np.ndarray, ranges: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """MinHash values of ``hashes[start:end]`` for each row ``(start, end)`` of ``ranges``.

    ``hashes`` are already pre-mixed (fmix32) and end with one spare element;
    every range is non-empty. Ranges may overlap (a passage lies inside its
    document). Rows are taken in blocks of nearby ranges, and for each block
    every permutation is one multiply-add and one ``np.minimum.reduceat``
    over the block's hashes, with the ranges' bounds interleaved as indices.
    """
    a_perm, b_perm = permutations(num_perm, seed)
    out = np.empty((len(ranges), num_perm), dtype=np.uint32)
    if not len(ranges):
        return out
    order = np.argsort(ranges[:, 0], kind="stable")
    starts = ranges[order, 0]
    ends_sorted = ranges[order, 1]
    reach = np.maximum.accumulate(ends_sorted)
    i, n = 0, len(order)
    with np.errstate(over="ignore"):
        while i < n:
            j = max(int(np.searchsorted(starts, starts[i] + _BLOCK, "left")), i + 1)
            lo, hi = int(starts[i]), int(reach[j - 1])
            seg = hashes[lo:hi + 1]  # the element after the block makes every index valid
            idx = np.stack([starts[i:j] - lo, ends_sorted[i:j] - lo], axis=1).reshape(-1)
            rows = order[i:j]
            work = np.empty_like(seg)
            block = np.empty((j - i, num_perm), dtype=np.uint32)
            for k in range(num_perm):
                np.multiply(seg, a_perm[k], out=work)
                work += b_perm[k]
                block[:, k] = np.minimum.reduceat(work, idx)[::2]
            out[rows] = block
            i = j
    return out


#: A text of at least this many words is signed over its distinct shingles (``sign_texts``).
LONG_TEXT_WORDS = 1 << 16

def first_occurrences(hashes: np.ndarray, doc: np.ndarray, first: np.ndarray,
                      count: np.ndarray) -> np.ndarray:
    """Which passages are the first of their text in their document (a mask).

    Passage ``i`` is words ``first[i]`` to ``first[i] + count[i]`` of the word
    hashes ``hashes``, in document ``doc[i]``. A passage whose words are those of
    an earlier passage of the same document is a repeat (a line repeated down a
    file): it adds nothing to the document's matches, and a file of one
    paragraph repeated 120,000 times would otherwise put 120,000 passages in
    every bucket. Passages are keyed by a 64-bit hash of their document, length
    and words; equal keys are then compared word by word, so a collision never
    drops a passage.
    """
    keep = np.ones(len(doc), dtype=bool)
    if len(doc) < 2:
        return keep
    sums = np.concatenate([[np.uint64(0)], np.cumsum(hashes, dtype=np.uint64)])
    last = first + count
    with np.errstate(over="ignore"):
        key = mix64(doc.astype(np.uint64) * GOLDEN + count.astype(np.uint64))
        key = mix64(key ^ (sums[last] - sums[first]))
        ends = hashes[last - 1].astype(np.uint64) << np.uint64(32)
        key = mix64(key ^ hashes[first].astype(np.uint64) ^ ends)
    order = np.argsort(key, kind="stable")  # equal keys: earliest passage first
    ordered = key[order]
    same = np.flatnonzero(ordered[1:] == ordered[:-1]) + 1
    if not len(same):
        return keep
    run = run_starts(ordered)
    head = order[run[np.searchsorted(run, same, "right") - 1]]  # the earliest passage of each run of keys
    for i, h in zip(order[same].tolist(), head.tolist(), strict=True):
        a, b = int(first[i]), int(first[h])
        if doc[i] == doc[h] and np.array_equal(hashes[a:a + int(count[i])], hashes[b:b + int(count[h])]):
            keep[i] = False
    return keep


def sign_texts(texts: Sequence[str], cfg: SignConfig, passages: bool = True) -> SignedBatch:
    """Document and passage signatures of ``texts``, vectorised over the whole batch.

    The texts are joined (a space between two) and their words found and
    hashed together; shingles are combined over the batch's word hashes at
    once, and a document's shingles are the range that starts and ends
    inside it. The hash values equal ``MinHash.bulk`` over the shingle sets
    that ``sign`` used to build (``tests/test_speed_compat.py`` checks it).
    With ``passages=False`` only documents are signed (for benchmarks).
    """
    k = cfg.shingle_size
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    text_at = np.concatenate([[0], np.cumsum(lengths + 1)])[:-1]
    joined = " ".join(texts)
    starts, ends, hashes, newlines = _batch_words(joined, cfg.seed)
    first_word = np.searchsorted(starts, text_at)
    doc_words = np.diff(np.append(first_word, len(starts)))
    # a paragraph starts at each text's first word and after each newline between words
    between = np.searchsorted(newlines, starts[1:]) - np.searchsorted(newlines, ends[:-1])
    breaks = np.union1d(np.flatnonzero(between > 0) + 1, first_word)
    p_cols: list[list[int]] = [[], [], [], []]  # doc, first, last (words in the doc), first global
    lo = np.searchsorted(breaks, first_word).tolist()
    hi = np.searchsorted(breaks, first_word + doc_words).tolist()
    break_list = breaks.tolist()
    for index, (w0, n) in enumerate(zip(first_word.tolist(), doc_words.tolist(), strict=True)):
        if not n or not passages:
            continue
        cuts = [c - w0 for c in break_list[lo[index]:hi[index]]] + [n]
        for a, b in _chunks(list(pairwise(cuts)), cfg):
            p_cols[0].append(index)
            p_cols[1].append(a)
            p_cols[2].append(b)
            p_cols[3].append(w0 + a)
    p_doc, p_first, p_last, p_global = (np.asarray(c, dtype=np.int64) for c in p_cols)
    once = first_occurrences(hashes, p_doc, p_global, p_last - p_first)
    if not once.all():  # a passage repeated inside its document is signed (and matched) once
        p_doc, p_first, p_last, p_global = p_doc[once], p_first[once], p_last[once], p_global[once]
    p_start = starts[p_global] - text_at[p_doc] if len(p_global) else p_global
    p_end = ends[p_global + p_last - p_first - 1] - text_at[p_doc] if len(p_global) else p_global
    total = len(hashes)
    shingles = shingle_array(hashes, k) if total >= k else np.empty(0, dtype=np.uint32)
    extra: list[np.ndarray] = []  # one gram each, for texts and passages shorter than a shingle
    base = len(shingles)

    def span(w0: int, w1: int) -> tuple[int, int]:
        nonlocal base
        if w1 - w0 >= k:
            return w0, w1 - k + 1
        if w1 <= w0:
            return 0, 0
        extra.append(shingle_array(hashes[w0:w1], k))
        base += 1
        return base - 1, base

    def doc_span(w0: int, w1: int) -> tuple[int, int]:
        nonlocal base
        if w1 - w0 < LONG_TEXT_WORDS:
            return span(w0, w1)
        # a long text (a file of one paragraph repeated) is signed over its distinct shingles:
        # the same minima, since MinHash is over the set, in a fraction of the time
        distinct = np.unique(shingles[w0:w1 - k + 1])
        extra.append(distinct)
        base += len(distinct)
        return base - len(distinct), base

    doc_ranges = [doc_span(w0, w0 + n) for w0, n in zip(first_word.tolist(), doc_words.tolist(), strict=True)]
    # a passage that is its whole document has the document's values: not computed, not stored again
    p_whole = (p_first == 0) & (p_last == doc_words[p_doc]) if len(p_doc) else np.zeros(0, dtype=bool)
    p_ranges = [span(g, g + b - a) for g, a, b, w in zip(p_global.tolist(), p_first.tolist(), p_last.tolist(),
                                                        p_whole.tolist(), strict=True) if not w]
    # a spare element at the end: reduceat needs every index below the length
    allh = _fmix32(np.concatenate([shingles, *extra, np.zeros(1, dtype=np.uint32)]))
    n = len(texts)
    docs = np.asarray(doc_ranges, dtype=np.int64).reshape(-1, 2)
    filled = docs[:, 1] > docs[:, 0]
    pr = np.asarray(p_ranges, dtype=np.int64).reshape(-1, 2)
    values = range_minima(allh, np.concatenate([docs[filled], pr]), cfg.num_perm, cfg.seed)
    doc_values = np.full((n, cfg.num_perm), _MAX32, dtype=np.uint32)
    doc_values[filled] = values[:int(filled.sum())]
    p_values = values[int(filled.sum()):]
    fingerprints = reuse_fingerprints(joined, starts, hashes, first_word, doc_words, text_at, cfg)
    return SignedBatch(doc_values, doc_words.astype(np.int64), p_doc, p_start, p_end, p_first,
                       p_last, p_values, *fingerprints, p_whole=p_whole)


def sorted_unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, ascending, and how often each occurs.

    ``np.unique`` of numpy 2.4 takes a hash-table path on integer arrays that
    is ten times slower than sorting on millions of values (20 s against 2 s
    on the 17 million fingerprints of 100,000 documents).
    """
    ordered = np.sort(values)
    starts = run_starts(ordered)
    return ordered[starts], np.diff(starts, append=len(ordered))


def run_starts(ordered: np.ndarray) -> np.ndarray:
    """Where each run of equal values of a sorted array starts (no copy of the array)."""
    if not len(ordered):
        return np.empty(0, dtype=np.int64)
    fresh = np.empty(len(ordered), dtype=bool)
    fresh[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=fresh[1:])
    return np.flatnonzero(fresh)


#: Quoted speech: straight, curly, German and French quotation marks, and the
#: ````...''`` of wire copy; a quote runs at most 600 characters and may wrap
#: onto the next line, but never across a blank line (``quotes`` drops those).
QUOTE = re.compile(r'"[^"]{1,600}"|“[^”]{1,600}[”“]|„[^“”]{1,600}[“”]|«[^»]{1,600}»|``[^`]{1,600}?\'\'')
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def quotes(text: str) -> list[tuple[int, int]]:
    """Spans of quoted speech in ``text`` (a paragraph break ends any quote)."""
    return [m.span() for m in QUOTE.finditer(text)
            if "\n" not in m.group() or not _BLANK_LINE.search(m.group())]


def reuse_fingerprints(joined: str, starts: np.ndarray, hashes: np.ndarray, first_word: np.ndarray,
                       doc_words: np.ndarray, text_at: np.ndarray, cfg: SignConfig
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A sample of each document's short shingles, for finding rewritten copies.

    A journalist who rewrites wire copy keeps few 5-word runs but many 3-word
    ones; MinHash estimates Jaccard, which is low between a short rewrite and
    its long source, so rewritten copies are found and measured instead by the
    *fingerprints* they share: the ``reuse_shingle_size``-word shingles whose
    mixed hash has its low ``reuse_sample_bits`` bits zero (one in
    ``2**bits``, the same ones in every document, so a shared shingle is
    sampled on both sides: Broder's mod-p sampling). Returns ``(doc, hash,
    start, quoted)`` arrays (see ``SignedBatch``), sorted by document then
    hash, unique within a document.
    """
    k = cfg.reuse_shingle_size
    if len(hashes) < k or not len(doc_words):
        return (np.empty(0, dtype=np.int32), np.empty(0, dtype=np.uint32), np.empty(0, dtype=np.int32),
                np.empty(0, dtype=bool))
    grams = _fmix32(shingle_array(hashes, k) ^ np.uint32(0x9E3779B9))  # apart from the MinHash shingles
    pos = np.flatnonzero((grams & np.uint32((1 << cfg.reuse_sample_bits) - 1)) == 0)
    doc = np.searchsorted(first_word, pos, "right") - 1
    inside = pos + k <= first_word[doc] + doc_words[doc]  # the shingle does not run into the next text
    pos, doc = pos[inside], doc[inside]
    in_quote = np.zeros(len(starts) + 1, dtype=np.int32)  # +1 / -1 at each quote's first / after-last word
    for q_start, q_end in quotes(joined):
        in_quote[np.searchsorted(starts, q_start)] += 1
        in_quote[np.searchsorted(starts, q_end)] -= 1
    quoted_word = np.cumsum(in_quote)[:-1] > 0
    quoted = quoted_word[pos] | quoted_word[pos + k - 1]
    code = (doc.astype(np.int64) << 32) | grams[pos].astype(np.int64)
    order = np.argsort(code, kind="stable")  # each shingle's first occurrence comes first
    code = code[order]
    first = np.concatenate([[True], code[1:] != code[:-1]]) if len(code) else np.empty(0, dtype=bool)
    keep = order[first]
    return ((code[first] >> 32).astype(np.int32), (code[first] & 0xFFFFFFFF).astype(np.uint32),
            (starts[pos[keep]] - text_at[doc[keep]]).astype(np.int32), quoted[keep])
