"""MinHash signatures of documents and their passages, over a whole batch of texts at once.

A batch's words are found and hashed together (``shingles``); a document's
shingles are a range of the batch's, a passage's a range of its document's,
and every MinHash value is a minimum over such a range (``range_minima``),
so nothing is rebuilt per document or per passage. The values are
datasketch's ``MinHash`` values, bit for bit. Besides the signatures, each
document gets a sample of short shingles (``reuse_fingerprints``) by which
rewritten copies are found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np

from .arrays import run_starts
from .bands import GOLDEN, mix64
from .config import SignConfig
from .records import CleanDoc, Passage
from .runtime.memory import release_free_memory
from .runtime.pool import ordered_map
from .shingles import batch_words, fmix32, permutations, shingle_array, words_with_spans
from .signatures import EMPTY, BatchJoiner, SignedBatch


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



# The signatures are datasketch's, bit for bit: datasketch's "affine32" scheme
# pre-mixes each input hash with fmix32 and maps it through ``a_k * h + b_k``
# (mod 2**32, ``a_k`` odd) for each permutation ``k``, keeping the minimum.
# Here that is done with numpy over every shingle of a whole batch at once,
# one permutation at a time: ``np.minimum.reduceat`` takes the minimum over
# each document's range of shingles, and over each passage's range (a
# passage's shingles are a slice of its document's, so they are never
# rebuilt). The minimum over a multiset equals the minimum over its set, so
# shingles need not be made unique first.

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
    of ``shingles.shingle_hashes`` (``tests/test_speed_compat.py`` checks it).
    With ``passages=False`` only documents are signed (for benchmarks).
    """
    k = cfg.shingle_size
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    text_at = np.concatenate([[0], np.cumsum(lengths + 1)])[:-1]
    joined = " ".join(texts)
    starts, ends, hashes, newlines = batch_words(joined, cfg.seed)
    first_word = np.searchsorted(starts, text_at)
    doc_words = np.diff(np.append(first_word, len(starts)))
    # a paragraph starts at each text's first word and after each newline between words (the
    # word after a newline: no newline is inside a word; a few thousand searches, not one a word)
    after = np.searchsorted(starts, newlines)
    breaks = np.union1d(after[(after > 0) & (after < len(starts))], first_word)
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
    allh = fmix32(np.concatenate([shingles, *extra, np.zeros(1, dtype=np.uint32)]))
    n = len(texts)
    docs = np.asarray(doc_ranges, dtype=np.int64).reshape(-1, 2)
    filled = docs[:, 1] > docs[:, 0]
    pr = np.asarray(p_ranges, dtype=np.int64).reshape(-1, 2)
    values = range_minima(allh, np.concatenate([docs[filled], pr]), cfg.num_perm, cfg.seed)
    doc_values = np.full((n, cfg.num_perm), EMPTY, dtype=np.uint32)
    doc_values[filled] = values[:int(filled.sum())]
    p_values = values[int(filled.sum()):]
    fingerprints = reuse_fingerprints(joined, starts, hashes, first_word, doc_words, text_at, cfg)
    return SignedBatch(doc_values, doc_words.astype(np.int64), p_doc, p_start, p_end, p_first,
                       p_last, p_values, *fingerprints, p_whole=p_whole)




#: onto the next line, but never across a blank line (``quotes`` drops those).
QUOTE = re.compile(r'"[^"]{1,600}"|“[^”]{1,600}[”“]|„[^“”]{1,600}[“”]|«[^»]{1,600}»|``[^`]{1,600}?\'\'')
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def quotes(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of quoted speech in ``text[start:end]``, offsets in ``text`` (a paragraph break ends
    any quote, and so do ``start`` and ``end``)."""
    return [m.span() for m in QUOTE.finditer(text, start, len(text) if end is None else end)
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
    grams = fmix32(shingle_array(hashes, k) ^ np.uint32(0x9E3779B9))  # apart from the MinHash shingles
    pos = np.flatnonzero((grams & np.uint32((1 << cfg.reuse_sample_bits) - 1)) == 0)
    doc = np.searchsorted(first_word, pos, "right") - 1
    inside = pos + k <= first_word[doc] + doc_words[doc]  # the shingle does not run into the next text
    pos, doc = pos[inside], doc[inside]
    text_end = np.append(text_at[1:] - 1, len(joined))  # a quote never runs into the next text
    spans = [q for t0, t1 in zip(text_at.tolist(), text_end.tolist(), strict=True)
             for q in quotes(joined, t0, t1)]
    bounds = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    # +1 / -1 at each quote's first / after-last word (found for every quote of the batch at once)
    in_quote = np.bincount(np.searchsorted(starts, bounds[:, 0]), minlength=len(starts) + 1) \
        - np.bincount(np.searchsorted(starts, bounds[:, 1]), minlength=len(starts) + 1)
    quoted_word = np.cumsum(in_quote)[:-1] > 0
    quoted = quoted_word[pos] | quoted_word[pos + k - 1]
    code = (doc.astype(np.int64) << 32) | grams[pos].astype(np.int64)
    if not len(code):
        keep = np.empty(0, dtype=np.int64)
    else:  # each shingle's first occurrence, by the least place among its equals (a sort that
        # need not be stable, in a third of the time)
        order = np.argsort(code)
        code = code[order]
        first = np.flatnonzero(np.concatenate([[True], code[1:] != code[:-1]]))
        keep = np.minimum.reduceat(order, first)
        code = code[first]
    return ((code >> 32).astype(np.int32), (code & 0xFFFFFFFF).astype(np.uint32),
            (starts[pos[keep]] - text_at[doc[keep]]).astype(np.int32), quoted[keep])


#: Cleaned texts per signing batch.
TEXTS_PER_BATCH = 1000


def sign_parallel(texts: Sequence[str], cfg: SignConfig, jobs: int,
                  progress: Callable[[str, int, int | None], None]) -> SignedBatch:
    """``sign.sign_texts`` over all texts, in batches, in ``jobs`` processes."""
    if len(texts) <= TEXTS_PER_BATCH:
        jobs = 1
    batches = ((texts[i:i + TEXTS_PER_BATCH], cfg) for i in range(0, len(texts), TEXTS_PER_BATCH))
    joined = BatchJoiner(cfg.num_perm, docs=len(texts))  # each part copied in as it comes, then freed
    done = 0
    progress("sign", 0, len(texts))
    for part in ordered_map(sign_texts, batches, jobs):
        joined.add(part)
        done += len(part.doc_values)
        del part
        progress("sign", done, len(texts))
    signed = joined.result()
    release_free_memory()
    return signed
