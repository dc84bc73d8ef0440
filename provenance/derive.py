"""Rewritten copies: which documents were written from which, and how much.

Journalists cut, reorder and rephrase wire copy: a derived article may share
well under half of its 5-word shingles with its source, so neither the
near-duplicate test nor the passage test sees it. This stage finds such
pairs and measures the reuse:

1. **Candidates** from the reuse fingerprints that signing samples
   (``sign.reuse_fingerprints``: one 3-word shingle in two): documents that
   share at least ``reuse_min_shared`` fingerprints, counting only
   fingerprints held by at most ``reuse_max_df`` documents (a stock phrase
   held by hundreds says nothing), each document keeping the
   ``reuse_max_candidates`` it shares most with. Copies already in one
   near-duplicate group are one owner and never paired.
2. **Measure** on the fingerprints (the same half of the 3-word shingles on
   both sides, so the shares are the texts' up to sampling): the share of each
   side's fingerprints found in the other (containment), those inside quotation
   marks weighed by ``derive_quote_weight``: two reporters who heard the same
   speaker share quotes without copying each other, while copied narration is
   what a rewrite keeps of its source (a pair whose shared narration is under
   ``derive_partially`` is dropped).
3. **Verdict** on the copy's side once ``lineage`` has named the origin (else
   on the more contained side): ``wholly`` from ``derive_wholly``,
   ``partially`` from ``derive_partially``; pairs below are not reported. Each
   copy keeps its ``derive_max_sources`` best sources (``source_rank``), and
   only those have the copy's sentences aligned with the source's, as evidence
   (``align``: a sentence with ``SENTENCE_SHARE`` of its fingerprints shared).

Scores are shares (0-1) of fingerprints; texts are read only to cut sentences
for the derivations that are reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from itertools import pairwise
from operator import attrgetter
from typing import Any

import numpy as np

from .arrays import chunk_runs, expand_ranges, run_starts, sorted_unique
from .config import Config, MatchConfig, VerifyConfig
from .fingerprints import Fingerprints
from .records import CleanDoc, Derivation, SentencePair, Span
from .runtime.diskarray import Buckets, chunks, rows
from .runtime.pool import call, ordered_map
from .signatures import SignedBatch

#: Sentence ends: . ! ? (and closing quotes) before white space (group 1), or a line break
#: (group 2). No look-behind: the pattern is tried at every character of every text.
_SENTENCE_END = re.compile(r"[.!?][\"'”’]?(\s+)|(\n+)")
#: ``_SENTENCE_END`` with the choice after its first character, which look-behinds then
#: name: ``re`` scans a text in C for a pattern's first characters only when the pattern starts
#: with a set of them (``_SENTENCE_END`` starts with a choice), so ``finditer`` with this one
#: stops where an end can start alone. Its matches are ``_SENTENCE_END``'s; a line break's run
#: starts the match (no group).
_SENTENCE_SCAN = re.compile(r"[.!?\n](?:(?<=[.!?])[\"'”’]?(\s+)|(?<=\n)\n*)")
#: A sentence is aligned when this share of its fingerprints is found in the other text
#: (rewritten sentences keep about a third of their 3-word runs)...
SENTENCE_SHARE = 0.3
#: ...and it holds at least this many fingerprints (a dateline or a name alone is no sentence).
SENTENCE_MIN_FINGERPRINTS = 3
#: Aligned sentences kept as evidence in a finding (``sentences_aligned`` counts all of them).
MAX_SENTENCES = 20


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences (and lines) of ``text``.

    The ends are ``_SENTENCE_END.finditer``'s (``tests/test_derive.py``), found by
    ``_SENTENCE_SCAN`` in a third of the time (8 against 28 us for a news article; the
    search-then-match loop it replaced took 12).
    """
    bounds, pos = [], 0
    for m in _SENTENCE_SCAN.finditer(text):
        end = m.start(1)
        if end < 0:  # a line break
            end = m.start()
        if end > pos:
            bounds.append((pos, end))
        pos = m.end()
    if pos < len(text):
        bounds.append((pos, len(text)))
    return bounds


#: A fingerprint held by more owners than this is paired with no one, agency copies included.
HUB_MAX_DF = 4096
#: Agency copies a widely held fingerprint pairs the others with, at most.
HUB_MAX = 8


def _hub_pairs(key: np.ndarray, starts: np.ndarray, sizes: np.ndarray, hub: np.ndarray,
               max_df: int) -> list[np.ndarray]:
    """Pair codes (``owner * 2**32 + owner``, smaller first) of widely held fingerprints'
    owners with the agency copies among them (``reuse_candidates``)."""
    wide = (sizes > max_df) & (sizes <= HUB_MAX_DF)
    if not wide.any():
        return []
    held = np.add.reduceat(hub[key & 0xFFFFFFFF].astype(np.int32), starts)  # agency copies a fingerprint
    out: list[np.ndarray] = []
    for g in np.flatnonzero(wide & (held > 0)).tolist():
        owners = key[starts[g]:starts[g] + sizes[g]] & 0xFFFFFFFF
        hubs = owners[hub[owners]][:HUB_MAX]
        for h in hubs.tolist():
            others = owners[owners != h]
            out.append(np.minimum(others, h) * (1 << 32) + np.maximum(others, h))
    return out


#: Reuse fingerprints grouped at a time (``_shared_counts``): more are split by hash into parts.
REUSE_PART_ROWS = 1 << 23


def _shared_counts(signed: SignedBatch, owner: np.ndarray, match: MatchConfig, min_share: float,
                   hub: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Owner pairs (``owner * 2**32 + owner``, smaller first, ascending) that share fingerprints
    held by ``reuse_max_df`` owners or fewer, with how many they share, kept at
    ``reuse_min_shared`` and ``min_share`` (``reuse_candidates``); None when no fingerprint is shared.

    The fingerprints (a million documents hold 170 million) are never sorted
    all at once: they are split by the top bits of their hash into parts of
    about ``REUSE_PART_ROWS`` (all owners of one fingerprint land in one part),
    each part grouped on its own; the pairs each part makes are split again,
    by owner, so each pair's counts from every part meet in one bucket, summed
    there. Parts wait on disk (``diskarray.Buckets``). The result does not
    depend on the number of parts.
    """
    total = len(signed.f_hash)
    bits = max(0, int(np.ceil(np.log2(max(1, total / REUSE_PART_ROWS)))))
    parts = 1 << bits
    held_by = np.zeros(int(owner.max()) + 1, dtype=np.int64)  # fingerprints of each owner
    made = 0
    with Buckets(parts) as keys, Buckets(parts) as pairs:
        # one fingerprint per owner: copies in one group count once, as one document does
        for lo, hi in chunks(signed.f_hash):
            key = rows(signed.f_hash, lo, hi).astype(np.int64)
            key <<= 32
            key |= owner[rows(signed.f_doc, lo, hi)]
            keys.add(key, (key >> (64 - bits)) & (parts - 1) if bits else None)
            del key
        for part in range(parts):
            key = keys.take(part)
            key.sort()
            distinct = run_starts(key)
            if len(distinct) < len(key):
                key = key[distinct]
            del distinct
            held_by += np.bincount(key & 0xFFFFFFFF, minlength=len(held_by))
            made_codes = pair_codes(key, hub, match.reuse_max_df)
            del key
            for code in made_codes:
                made += len(code)
                pairs.add(code, (code >> 32) & (parts - 1) if bits else None)
            del made_codes
        if not made:
            return None
        kept_codes, kept_shared = [], []
        for part in range(parts):
            codes, shared = sorted_unique(pairs.take(part))
            keep = enough_shared(codes, shared, held_by, match, min_share)
            kept_codes.append(codes[keep])
            kept_shared.append(shared[keep])
    codes, shared = np.concatenate(kept_codes), np.concatenate(kept_shared)
    if parts > 1:  # each part's pairs are ascending; the parts interleave
        order = np.argsort(codes, kind="stable")
        codes, shared = codes[order], shared[order]
    return codes, shared


def pair_codes(key: np.ndarray, hub: np.ndarray | None, max_df: int) -> list[np.ndarray]:
    """The owner pairs (codes ``owner * 2**32 + owner``, smaller first) that the fingerprints of
    ``key`` (``fingerprint << 32 | owner``, ascending, distinct, every owner of a fingerprint
    among them) make: every two owners of a fingerprint held by ``max_df`` or fewer, and the
    agency copies' pairs of the wider ones (``_hub_pairs``). A pair comes once per fingerprint
    it shares (twice for two agency copies of one wide fingerprint): the codes are counted."""
    starts = run_starts(key >> 32)  # the owners of one fingerprint stand together
    sizes = np.diff(starts, append=len(key))
    codes = _hub_pairs(key, starts, sizes, hub, max_df) if hub is not None and hub.any() else []
    held = (sizes >= 2) & (sizes <= max_df)
    starts, sizes = starts[held], sizes[held]
    for size in range(2, max_df + 1):
        at = starts[sizes == size]
        if not len(at):
            continue
        members = key[at[:, None] + np.arange(size)] & 0xFFFFFFFF
        a, b = np.triu_indices(size, 1)
        codes.append(members[:, a].ravel() * (1 << 32) + members[:, b].ravel())
    return codes


def enough_shared(codes: np.ndarray, shared: np.ndarray, held_by: np.ndarray, match: MatchConfig,
                  min_share: float) -> np.ndarray:
    """Which pairs (``codes``, sharing ``shared`` fingerprints) share ``reuse_min_shared``
    fingerprints and ``min_share`` of the smaller side's (``held_by[owner]``)."""
    smaller = np.minimum(held_by[codes >> 32], held_by[codes & 0xFFFFFFFF])
    keep: np.ndarray = (shared >= match.reuse_min_shared) & (shared >= min_share * smaller)
    return keep


def top_of(side: np.ndarray, other: np.ndarray, shared: np.ndarray, k: int) -> np.ndarray:
    """Which pairs are among the ``k`` each ``side`` owner shares most with (ties: the
    earlier ``other``); only the pairs in which an owner is ``side`` count for it."""
    order = np.lexsort((other, -shared, side))
    side_sorted = side[order]
    group_start = np.flatnonzero(np.concatenate([[True], side_sorted[1:] != side_sorted[:-1]]))
    rank = np.arange(len(order)) - np.repeat(group_start, np.diff(np.append(group_start, len(order))))
    top = np.zeros(len(side), dtype=bool)
    top[order[rank < k]] = True
    return top


def speakers_pairs(first: np.ndarray, second: np.ndarray, owner: np.ndarray, speaker: np.ndarray | None,
                   n: int) -> np.ndarray:
    """Owner pairs back to document pairs (``reuse_candidates``), sorted."""
    if speaker is None:
        speaker = np.full(int(owner.max()) + 1, n, dtype=np.int64)
        np.minimum.at(speaker, owner, np.arange(n, dtype=np.int64))
    pairs = np.stack([speaker[first], speaker[second]], axis=1)
    pairs.sort(axis=1)
    out: np.ndarray = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    return out


def reuse_candidates(signed: SignedBatch, owner: np.ndarray, match: MatchConfig,
                     speaker: np.ndarray | None = None, min_share: float = 0.0,
                     hub: np.ndarray | None = None) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, of documents of different owners that share fingerprints.

    ``owner[doc]`` joins copies already grouped; ``speaker[owner]`` is the
    document that stands for an owner in a pair (a group's origin; by default
    its first document). ``min_share``: pairs whose shared fingerprints are
    fewer than this share of the smaller side's are dropped: a pre-filter, not
    a bound. It counts only fingerprints held by ``reuse_max_df`` owners or
    fewer, and a group's fingerprints are its members' together, while
    verification counts every shared fingerprint of the speaker alone; the
    caller sets it below the verdict's threshold (0.8 of ``derive_partially``).
    ``hub[owner]``: the owner is a news agency's copy; a fingerprint held by
    more than ``reuse_max_df`` owners (up to ``HUB_MAX_DF``) still pairs each
    of them with the agency copies among them, so that a wire story rewritten
    by dozens of papers is found, without pairing every paper with every other.
    Returns an ``(m, 2)`` int64 array, sorted. See the module's docstring for
    the rules.
    """
    n = len(signed.doc_values)
    if n < 2 or not len(signed.f_hash):
        return np.empty((0, 2), dtype=np.int64)
    found = _shared_counts(signed, owner, match, min_share, hub)
    if found is None:
        return np.empty((0, 2), dtype=np.int64)
    codes, shared = found
    first, second = codes >> 32, codes & 0xFFFFFFFF
    # each owner keeps the candidates it shares most with (ties: the earlier owner)
    k = match.reuse_max_candidates
    ranked = top_of(first, second, shared, k) | top_of(second, first, shared, k)
    # owners back to documents: an owner is a document, or a group (its first member speaks for it)
    return speakers_pairs(first[ranked], second[ranked], owner, speaker, n)


def verify_derivations(fp: Fingerprints, pairs: np.ndarray, config: Config,
                       progress: Callable[[int], None] | None = None) -> list[Derivation]:
    """Measure each candidate pair's reuse; keep those at ``derive_partially`` or more.

    The containments are computed on the fingerprints (half of each text's
    3-word shingles, the same half on both sides, so the shares are those of
    the texts up to sampling). The verdict is provisional (on the more
    contained side) until ``decide_verdict`` has the origin; the sentences are
    aligned afterwards, for the derivations that are kept (``align``).
    """
    return measure(fp, pairs, config, progress)[0]


class SharedRows:
    """The fingerprints that each of a list of derivations' two texts share: what ``align``
    reads, kept by ``measure`` from the measuring itself so that it is not found twice.

    Row ``k`` says derivation ``pair[k]`` (its index in the list; ascending) shares the
    fingerprint at global row ``left[k]`` of its ``a`` side with row ``right[k]`` of its ``b``.
    """

    def __init__(self, pair: np.ndarray, left: np.ndarray, right: np.ndarray) -> None:
        self.pair, self.left, self.right = pair, left, right

    @classmethod
    def joined(cls, parts: Sequence[tuple[int, np.ndarray, np.ndarray, np.ndarray]]) -> SharedRows:
        """Pieces ``(offset, pair, left, right)`` as one, each piece's pairs moved by its offset."""
        if not parts:
            return cls(*(np.empty(0, dtype=np.int64) for _ in range(3)))
        return cls(np.concatenate([pair + offset for offset, pair, _, _ in parts]),
                   np.concatenate([left for _, _, left, _ in parts]),
                   np.concatenate([right for _, _, _, right in parts]))

    def take(self, kept: Sequence[int]) -> SharedRows:
        """The rows of derivations ``kept`` (indices, ascending), numbered as their places there."""
        index = np.asarray(kept, dtype=np.int64)
        place = np.searchsorted(index, self.pair)
        hit = place < len(index)
        hit[hit] = index[place[hit]] == self.pair[hit]
        return SharedRows(place[hit], self.left[hit], self.right[hit])

    def chunks(self, a_is_copy: np.ndarray, rows_per_chunk: int = 1 << 21
               ) -> Iterator[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]:
        """``Fingerprints.shared``'s chunks for the derivations ``(copy, source)``: the copy's
        row first (``a_is_copy``: which side of each derivation is its copy)."""
        sizes = np.bincount(self.pair, minlength=len(a_is_copy))
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        for first, last in chunk_runs(sizes, rows_per_chunk):
            lo, hi = int(bounds[first]), int(bounds[last])
            pair, left, right = self.pair[lo:hi], self.left[lo:hi], self.right[lo:hi]
            on_left = a_is_copy[pair]  # the copy is the pair's a side
            yield first, last, pair - first, np.where(on_left, left, right), np.where(on_left, right, left)


def measure(fp: Fingerprints, pairs: np.ndarray, config: Config,
            progress: Callable[[int], None] | None = None, keep_rows: bool = False
            ) -> tuple[list[Derivation], SharedRows]:
    """``verify_derivations``, with (``keep_rows``; else none) the fingerprints each
    derivation's texts share (``SharedRows``), for ``align``."""
    cfg: VerifyConfig = config.verify
    out: list[Derivation] = []
    kept_rows: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
    if not len(pairs):
        return out, SharedRows.joined([])
    left, right = pairs[:, 0], pairs[:, 1]
    for first, last, pair, row_l, row_r in fp.shared(left, right):
        if progress is not None:
            progress(first)
        m = last - first
        a, b = left[first:last], right[first:last]
        count = np.bincount(pair, minlength=m)
        w_l, w_r = fp.weight[row_l], fp.weight[row_r]  # the chunk's rows only: no corpus-sized mask
        with np.errstate(divide="ignore", invalid="ignore"):
            a_in_b = np.bincount(pair, weights=w_l, minlength=m) / fp.total[a]
            b_in_a = np.bincount(pair, weights=w_r, minlength=m) / fp.total[b]
            a_is_copy = a_in_b >= b_in_a
            narration = np.where(a_is_copy,
                                 np.bincount(pair, weights=w_l >= 1.0, minlength=m) / fp.plain[a],
                                 np.bincount(pair, weights=w_r >= 1.0, minlength=m) / fp.plain[b])
        narration[np.where(a_is_copy, fp.plain[a], fp.plain[b]) == 0] = 0.0
        keep = ((count >= cfg.derive_min_shared) & (fp.total[a] > 0) & (fp.total[b] > 0)  # else a name
                & (np.maximum(a_in_b, b_in_a) >= cfg.derive_partially)
                & (narration >= cfg.derive_partially))  # else quotes and a name or two: two reports, no copy
        kept = np.flatnonzero(keep)
        if keep_rows and len(kept):
            place = np.cumsum(keep) - 1  # a kept pair's place among the chunk's kept ones
            on = keep[pair]
            kept_rows.append((len(out), place[pair[on]], row_l[on], row_r[on]))
        for k in kept.tolist():
            out.append(Derivation(int(a[k]), int(b[k]), round(float(a_in_b[k]), 4),
                                  round(float(b_in_a[k]), 4), []))
    return out, SharedRows.joined(kept_rows)


#: Candidate pairs from which measuring is shared out among processes (fewer: this one alone).
PARALLEL_REWRITES = 10_000
#: Fewest candidate pairs in one share.
REWRITES_PER_SHARE = 4_000


def measured_here(jobs: int, pairs: int) -> bool:
    """Whether ``pairs`` candidate pairs are measured in this process alone (no worker pays off)."""
    return jobs <= 1 or pairs < PARALLEL_REWRITES


def measure_share(fp: Fingerprints, docs: np.ndarray, pairs: np.ndarray, config: Config) -> list[Derivation]:
    """``verify_derivations`` of a share of the candidate pairs, on the fingerprints of its
    documents alone (``share_of``: the documents numbered 0, 1, ... in ``docs``' order, ``pairs``
    in those numbers), the derivations naming the documents as the corpus numbers them: what a
    worker or an executor measures."""
    out = verify_derivations(fp, pairs, config)
    for d in out:
        d.a, d.b = int(docs[d.a]), int(docs[d.b])
    return out


def share_of(fp: Fingerprints, pairs: np.ndarray) -> tuple[Fingerprints, np.ndarray, np.ndarray]:
    """What ``measure_share`` takes for ``pairs``: the fingerprints of their documents alone
    (``Fingerprints.share``), those documents, and the pairs in their numbers."""
    docs = np.unique(pairs)
    return fp.share(docs), docs, np.searchsorted(docs, pairs)


def verify_derivations_parallel(fp: Fingerprints, pairs: np.ndarray, config: Config, jobs: int,
                                progress: Callable[[int], None] | None = None
                                ) -> Iterator[list[Derivation]]:
    """``verify_derivations`` over shares of ``pairs``, in ``jobs`` processes: each share's
    derivations in turn, in the pairs' order, so that the caller attributes one share while
    the workers measure the next.

    A share travels with the fingerprints of its documents alone (``measure_share``):
    arrays, a few megabytes, where the documents themselves would cost more to pickle than
    to measure. The derivations are the same for any ``jobs``.
    """
    if measured_here(jobs, len(pairs)):
        yield verify_derivations(fp, pairs, config, progress)
        return
    shares = max(1, min(4 * jobs, len(pairs) // REWRITES_PER_SHARE))
    cuts = [round(k * len(pairs) / shares) for k in range(shares + 1)]

    def work() -> Iterator[tuple[Any, ...]]:
        for lo, hi in pairwise(cuts):
            yield (measure_share, *share_of(fp, pairs[lo:hi]), config)

    for part, hi in zip(ordered_map(call, work(), jobs), cuts[1:], strict=True):
        if progress is not None:
            progress(hi)
        yield part


def source_rank(d: Derivation, cleaned: Sequence[CleanDoc]) -> tuple[object, ...]:
    """How good a source ``d`` names for its copy (smaller first).

    A named origin first, then a named common source (an agency); among
    origins, an agency's copy (papers take far more from the wire than from
    each other, and an agency copy's date says nothing against it), then one
    not dated after the copy (a text is not written from a later one), then
    the higher share. The order's definition: ``by_source_rank`` computes it for many at once
    (``tests/test_derive.py`` holds the two equal).
    """
    source = d.a if d.origin == "a" else d.b
    copy = d.b if d.origin == "a" else d.a
    s_date, c_date = cleaned[source].doc.date, cleaned[copy].doc.date
    later = bool(s_date and c_date and s_date > c_date)
    return (d.origin is None, d.common_source in (None, "unnamed"), cleaned[source].doc.agency is None,
            later, -d.score, cleaned[d.a].doc.id, cleaned[d.b].doc.id)


_RANKED = attrgetter("a", "b", "origin", "common_source", "score")  # what ``by_source_rank`` reads
_ORIGIN_CODE = {None: 0, "a": 1, "b": 2}
_UNNAMED = frozenset({None, "unnamed"})  # a common source that names no one


def by_source_rank(derivations: Sequence[Derivation], cleaned: Sequence[CleanDoc]) -> list[int]:
    """The derivations' indices sorted by ``source_rank`` (ties in their order), with one
    ``np.lexsort`` over its fields (the ids as their ranks among the documents named) instead
    of a tuple a derivation: tens of thousands of rewrites are ranked twice a run. ``cleaned``
    need only hold the documents the derivations name (an executor's share: a mapping)."""
    if not derivations:
        return []
    n = len(derivations)
    a_doc, b_doc, origin, common, scores = zip(*map(_RANKED, derivations), strict=True)
    a_at, b_at = np.fromiter(a_doc, dtype=np.int64, count=n), np.fromiter(b_doc, dtype=np.int64, count=n)
    named = np.union1d(a_at, b_at)  # the documents named, each one's row among them its place here
    a, b = np.searchsorted(named, a_at), np.searchsorted(named, b_at)
    docs = [cleaned[i].doc for i in named.tolist()]
    ids = [doc.id for doc in docs]
    id_rank = np.empty(len(named), dtype=np.int64)
    id_rank[sorted(range(len(named)), key=ids.__getitem__)] = np.arange(len(named))
    side = np.fromiter(map(_ORIGIN_CODE.__getitem__, origin), dtype=np.int8, count=n)
    undecided, a_is_source = side == 0, side == 1
    unnamed = np.fromiter(map(_UNNAMED.__contains__, common), dtype=bool, count=n)
    score = np.fromiter(scores, dtype=np.float64, count=n)
    source, copy = np.where(a_is_source, a, b), np.where(a_is_source, b, a)
    no_agency = np.array([doc.agency is None for doc in docs], dtype=bool)
    dated = sorted({doc.date for doc in docs if doc.date})  # ISO dates: their order as strings
    rank = {date: k for k, date in enumerate(dated)}
    day = np.array([rank[doc.date] if doc.date else -1 for doc in docs], dtype=np.int64)
    later = (day[source] >= 0) & (day[copy] >= 0) & (day[source] > day[copy])
    order = np.lexsort((id_rank[b], id_rank[a], -score, later, no_agency[source], unnamed, undecided))
    ranked: list[int] = order.tolist()
    return ranked


def copies(d: Derivation) -> list[int]:
    """The copy of a derivation: the side that is not the origin (both when none is decided)."""
    return [d.b] if d.origin == "a" else [d.a] if d.origin == "b" else [d.a, d.b]


def keep_best(derivations: Sequence[Derivation], cleaned: Sequence[CleanDoc],
              per_copy: int) -> list[Derivation]:
    """The derivations among each copy's ``per_copy`` best sources (``source_rank``), in their order.

    A copy is the side that is not the origin (``copies``).
    """
    return [derivations[k] for k in best_indices(derivations, cleaned, per_copy)]


def best_indices(derivations: Sequence[Derivation], cleaned: Sequence[CleanDoc], per_copy: int) -> list[int]:
    """``keep_best``'s derivations, as their indices (ascending)."""
    taken: dict[int, int] = {}
    keep = []
    for k in by_source_rank(derivations, cleaned):
        d = derivations[k]
        if d.origin is not None:  # one copy (``copies``), written out: tens of thousands a run
            copy = d.b if d.origin == "a" else d.a
            if taken.get(copy, 0) < per_copy:
                keep.append(k)
                taken[copy] = taken.get(copy, 0) + 1
        elif taken.get(d.a, 0) < per_copy or taken.get(d.b, 0) < per_copy:
            keep.append(k)
            taken[d.a] = taken.get(d.a, 0) + 1
            taken[d.b] = taken.get(d.b, 0) + 1
    return sorted(keep)


def align(cleaned: Sequence[CleanDoc], fp: Fingerprints, derivations: Sequence[Derivation],
          shared: SharedRows | None = None) -> None:
    """Fill in each derivation's aligned sentences, from the fingerprints the two texts share.

    On the copy's side (the non-origin one, else the more contained): a sentence of
    the copy with ``SENTENCE_MIN_FINGERPRINTS`` or more fingerprints, ``SENTENCE_SHARE``
    of them shared, is aligned with the source's sentence that holds most of those
    (the first on a tie). All pairs are measured together (``Fingerprints.shared``):
    a corpus of news yields tens of thousands of rewrites, and one set intersection
    and one histogram per pair cost more than the rest of the stage. ``shared``: those
    fingerprints as measuring found them (``measure``), not to be found again.
    """
    if not derivations:
        return
    a_is_copy = [d.origin == "b" or (d.origin is None and d.a_in_b >= d.b_in_a) for d in derivations]
    sides = [(d.a, d.b) if c else (d.b, d.a) for d, c in zip(derivations, a_is_copy, strict=True)]
    copy, source = np.array(sides, dtype=np.int64).reshape(-1, 2).T
    sents = _Sentences(cleaned, fp, np.union1d(copy, source))
    totals, quoted = sents.histograms(np.unique(copy))
    found: list[list[SentencePair]] = [[] for _ in derivations]
    chunked = fp.shared(copy, source) if shared is None else shared.chunks(np.array(a_is_copy, dtype=bool))
    for first, _, pair, row_c, row_s in chunked:
        if not len(pair):  # no pair of this chunk shares a fingerprint (derive_min_shared 0)
            continue
        c_sent, s_sent = sents.of_rows(row_c), sents.of_rows(row_s)
        code = pair * len(sents.starts) + c_sent
        run, slot, hits = np.unique(code, return_inverse=True, return_counts=True)
        c_of_run = run % len(sents.starts)
        total = totals[c_of_run]
        aligned = (total >= SENTENCE_MIN_FINGERPRINTS) & (hits >= SENTENCE_SHARE * total)
        # the source sentence holding most of each copy sentence's shared fingerprints
        order = np.lexsort((s_sent, slot))
        slot_s, sent_s = slot[order], s_sent[order]
        new_run = (slot_s[1:] != slot_s[:-1]) | (sent_s[1:] != sent_s[:-1])
        cut = np.flatnonzero(np.concatenate([[True], new_run]))
        count = np.diff(np.append(cut, len(order)))
        best = np.lexsort((sent_s[cut], -count, slot_s[cut]))  # per copy sentence: most held first
        best_slot, best_sent = slot_s[cut][best], sent_s[cut][best]
        head = np.concatenate([[True], best_slot[1:] != best_slot[:-1]])
        target = np.empty(len(run), dtype=np.int64)
        target[best_slot[head]] = best_sent[head]
        for k in np.flatnonzero(aligned).tolist():
            at = first + int(run[k] // len(sents.starts))
            c, t = int(c_of_run[k]), int(target[k])
            cs, ss = sents.span(c, int(copy[at])), sents.span(t, int(source[at]))
            share, q = round(float(hits[k] / totals[c]), 3), bool(quoted[c] > totals[c] / 2)
            found[at].append(SentencePair(cs, ss, share, q) if a_is_copy[at]
                             else SentencePair(ss, cs, share, q))
    for d, pairs in zip(derivations, found, strict=True):
        d.sentences = pairs


class _Sentences:
    """The sentences of the documents ``docs``, numbered across them all, and which one
    each fingerprint of those documents falls in (16 bytes a sentence)."""

    def __init__(self, cleaned: Sequence[CleanDoc], fp: Fingerprints, docs: np.ndarray) -> None:
        self.cleaned, self.fp = cleaned, fp
        bounds: list[tuple[int, int]] = []
        counts = []
        for doc in docs.tolist():  # (into one list: a few arrays a document cost more than the cutting)
            found = sentences(cleaned[doc].text)
            bounds += found
            counts.append(len(found))
        spans = np.array(bounds, dtype=np.int64).reshape(-1, 2)
        self.starts, self.ends = spans[:, 0], spans[:, 1]
        owner = np.repeat(docs.astype(np.int64), counts)
        self.key = (owner << 32) | self.starts  # (document, start), ascending

    def of_rows(self, rows: np.ndarray) -> np.ndarray:
        """The sentence each fingerprint row starts in (a sentence holds every word of its text)."""
        doc = np.searchsorted(self.fp.bounds, rows, "right") - 1
        key = (doc << 32) | self.fp.start[rows].astype(np.int64)
        at: np.ndarray = np.searchsorted(self.key, key, "right")
        return at - 1

    def histograms(self, docs: np.ndarray, rows_per_chunk: int = 1 << 22) -> tuple[np.ndarray, np.ndarray]:
        """Each sentence's fingerprints, and how many of them are quoted, over ``docs``' sentences."""
        totals = np.zeros(len(self.starts), dtype=np.int64)
        quoted = np.zeros(len(self.starts), dtype=np.int64)
        for first, last in chunk_runs(self.fp.bounds[docs + 1] - self.fp.bounds[docs], rows_per_chunk):
            rows, _ = expand_ranges(self.fp.bounds[docs[first:last]], self.fp.bounds[docs[first:last] + 1])
            sent = self.of_rows(rows)
            totals += np.bincount(sent, minlength=len(totals))
            quoted += np.bincount(sent[self.fp.weight[rows] < 1.0], minlength=len(totals))
        return totals, quoted

    def span(self, sent: int, doc: int) -> Span:
        """Sentence ``sent``'s span in its document's original text."""
        return self.cleaned[doc].span_to_original(int(self.starts[sent]), int(self.ends[sent]))


def decide_verdict(d: Derivation, cfg: VerifyConfig) -> Derivation:
    """The verdict and score on the copy's side: the non-origin one, else the more contained."""
    if d.origin == "a":
        score = d.b_in_a
    elif d.origin == "b":
        score = d.a_in_b
    else:
        score = max(d.a_in_b, d.b_in_a)
    d.score = score
    d.verdict = ("wholly" if score >= cfg.derive_wholly
                 else "partially" if score >= cfg.derive_partially else "none")
    return d
