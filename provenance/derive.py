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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .config import Config, MatchConfig, VerifyConfig
from .diskarray import Buckets, chunks, rows
from .records import CleanDoc, Derivation, SentencePair, Span
from .sign import SignedBatch, run_starts, sorted_unique

#: Sentence ends: . ! ? (and closing quotes) before white space (group 1), or a line break
#: (group 2). No look-behind: the pattern is tried at every character of every text.
_SENTENCE_END = re.compile(r"[.!?][\"'”’]?(\s+)|(\n+)")
#: A sentence is aligned when this share of its fingerprints is found in the other text
#: (rewritten sentences keep about a third of their 3-word runs)...
SENTENCE_SHARE = 0.3
#: ...and it holds at least this many fingerprints (a dateline or a name alone is no sentence).
SENTENCE_MIN_FINGERPRINTS = 3
#: Aligned sentences kept as evidence in a finding (``sentences_aligned`` counts all of them).
MAX_SENTENCES = 20


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences (and lines) of ``text``."""
    bounds, pos = [], 0
    for m in _SENTENCE_END.finditer(text):
        end = m.start(1) if m.group(1) is not None else m.start(2)
        if end > pos:
            bounds.append((pos, end))
        pos = m.end()
    if pos < len(text):
        bounds.append((pos, len(text)))
    return bounds


@dataclass(frozen=True)
class Fingerprints:
    """The reuse fingerprints of a corpus (``SignedBatch.f_*``), indexed by document."""

    hash: np.ndarray
    start: np.ndarray
    weight: np.ndarray  # 1, or ``derive_quote_weight`` inside quoted speech
    bounds: np.ndarray  # document i's fingerprints are rows bounds[i]:bounds[i + 1]
    total: np.ndarray  # each document's total weight

    @classmethod
    def of(cls, signed: SignedBatch, quote_weight: float) -> Fingerprints:
        n = len(signed.doc_values)
        weight = np.where(signed.f_quoted, quote_weight, 1.0)
        return cls(signed.f_hash, signed.f_start, weight, np.searchsorted(signed.f_doc, np.arange(n + 1)),
                   np.bincount(signed.f_doc, weights=weight, minlength=n))

    def rows(self, i: int) -> slice:
        return slice(int(self.bounds[i]), int(self.bounds[i + 1]))

    def narration(self, i: int, shared: np.ndarray) -> float:
        """The share of document ``i``'s narration (its fingerprints outside quotes) among
        ``shared`` (indices into its rows)."""
        plain = self.weight[self.rows(i)] >= 1.0
        return float(plain[shared].sum() / plain.sum()) if plain.any() else 0.0


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
            starts = run_starts(key >> 32)  # the owners of one fingerprint stand together
            sizes = np.diff(starts, append=len(key))
            codes = (_hub_pairs(key, starts, sizes, hub, match.reuse_max_df)
                     if hub is not None and hub.any() else [])
            held = (sizes >= 2) & (sizes <= match.reuse_max_df)
            starts, sizes = starts[held], sizes[held]
            for size in range(2, match.reuse_max_df + 1):
                at = starts[sizes == size]
                if not len(at):
                    continue
                members = key[at[:, None] + np.arange(size)] & 0xFFFFFFFF
                a, b = np.triu_indices(size, 1)
                codes.append(members[:, a].ravel() * (1 << 32) + members[:, b].ravel())
            del key, starts, sizes
            for code in codes:
                made += len(code)
                pairs.add(code, (code >> 32) & (parts - 1) if bits else None)
            del codes
        if not made:
            return None
        kept_codes, kept_shared = [], []
        for part in range(parts):
            pair_codes, shared = sorted_unique(pairs.take(part))
            smaller = np.minimum(held_by[pair_codes >> 32], held_by[pair_codes & 0xFFFFFFFF])
            keep = (shared >= match.reuse_min_shared) & (shared >= min_share * smaller)
            kept_codes.append(pair_codes[keep])
            kept_shared.append(shared[keep])
    pair_codes, shared = np.concatenate(kept_codes), np.concatenate(kept_shared)
    if parts > 1:  # each part's pairs are ascending; the parts interleave
        order = np.argsort(pair_codes, kind="stable")
        pair_codes, shared = pair_codes[order], shared[order]
    return pair_codes, shared


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
    pair_codes, shared = found
    first, second = pair_codes >> 32, pair_codes & 0xFFFFFFFF
    # each owner keeps the candidates it shares most with (ties: the earlier owner)
    ranked = np.zeros(len(pair_codes), dtype=bool)
    for side in (first, second):
        order = np.lexsort((first + second - side, -shared, side))
        side_sorted = side[order]
        group_start = np.flatnonzero(np.concatenate([[True], side_sorted[1:] != side_sorted[:-1]]))
        rank = np.arange(len(order)) - np.repeat(group_start, np.diff(np.append(group_start, len(order))))
        ranked[order[rank < match.reuse_max_candidates]] = True
    first, second = first[ranked], second[ranked]
    # owners back to documents: an owner is a document, or a group (its first member speaks for it)
    if speaker is None:
        speaker = np.full(int(owner.max()) + 1, n, dtype=np.int64)
        np.minimum.at(speaker, owner, np.arange(n, dtype=np.int64))
    pairs = np.stack([speaker[first], speaker[second]], axis=1)
    pairs.sort(axis=1)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def verify_derivations(fp: Fingerprints, pairs: np.ndarray, config: Config,
                       progress: Callable[[int], None] | None = None) -> list[Derivation]:
    """Measure each candidate pair's reuse; keep those at ``derive_partially`` or more.

    The containments are computed on the fingerprints (half of each text's
    3-word shingles, the same half on both sides, so the shares are those of
    the texts up to sampling). The verdict is provisional (on the more
    contained side) until ``decide_verdict`` has the origin; the sentences are
    aligned afterwards, for the derivations that are kept (``align``).
    """
    cfg: VerifyConfig = config.verify
    out: list[Derivation] = []
    for n, (i, j) in enumerate(pairs.tolist()):
        if progress is not None and n % 1000 == 0:
            progress(n)
        ri, rj = fp.rows(i), fp.rows(j)
        _, at_i, at_j = np.intersect1d(fp.hash[ri], fp.hash[rj], assume_unique=True, return_indices=True)
        if len(at_i) < cfg.derive_min_shared or not fp.total[i] or not fp.total[j]:
            continue  # a name or a stock phrase, however short the text
        a_in_b = float(fp.weight[ri][at_i].sum() / fp.total[i])
        b_in_a = float(fp.weight[rj][at_j].sum() / fp.total[j])
        if max(a_in_b, b_in_a) < cfg.derive_partially:
            continue
        a_is_copy = a_in_b >= b_in_a
        if fp.narration(i if a_is_copy else j, at_i if a_is_copy else at_j) < cfg.derive_partially:
            continue  # quotes and a name or two: two reports of one event, not a copy
        out.append(Derivation(i, j, round(a_in_b, 4), round(b_in_a, 4), []))
    return out


def source_rank(d: Derivation, cleaned: Sequence[CleanDoc]) -> tuple[object, ...]:
    """How good a source ``d`` names for its copy (smaller first).

    A named origin first, then a named common source (an agency); among
    origins, an agency's copy (papers take far more from the wire than from
    each other, and an agency copy's date says nothing against it), then one
    not dated after the copy (a text is not written from a later one), then
    the higher share.
    """
    source = d.a if d.origin == "a" else d.b
    copy = d.b if d.origin == "a" else d.a
    s_date, c_date = cleaned[source].doc.date, cleaned[copy].doc.date
    later = bool(s_date and c_date and s_date > c_date)
    return (d.origin is None, d.common_source in (None, "unnamed"), cleaned[source].doc.agency is None,
            later, -d.score, cleaned[d.a].doc.id, cleaned[d.b].doc.id)


def copies(d: Derivation) -> list[int]:
    """The copy of a derivation: the side that is not the origin (both when none is decided)."""
    return [d.b] if d.origin == "a" else [d.a] if d.origin == "b" else [d.a, d.b]


def keep_best(derivations: Sequence[Derivation], cleaned: Sequence[CleanDoc],
              per_copy: int) -> list[Derivation]:
    """The derivations among each copy's ``per_copy`` best sources (``source_rank``), in their order.

    A copy is the side that is not the origin (``copies``).
    """
    ranked = sorted(range(len(derivations)), key=lambda k: source_rank(derivations[k], cleaned))
    taken: dict[int, int] = {}
    keep = set()
    for k in ranked:
        sides = copies(derivations[k])
        if any(taken.get(c, 0) < per_copy for c in sides):
            keep.add(k)
            for c in sides:
                taken[c] = taken.get(c, 0) + 1
    return [d for k, d in enumerate(derivations) if k in keep]


def align(cleaned: Sequence[CleanDoc], fp: Fingerprints, derivations: Sequence[Derivation]) -> None:
    """Fill in each derivation's aligned sentences (the copy's side: the non-origin one, else the
    more contained), from the fingerprints the two texts share."""
    spans = _Sentences(cleaned)
    for d in derivations:
        a_is_copy = d.origin == "b" or (d.origin is None and d.a_in_b >= d.b_in_a)
        copy, source = (d.a, d.b) if a_is_copy else (d.b, d.a)
        _, at_copy, at_source = np.intersect1d(fp.hash[fp.rows(copy)], fp.hash[fp.rows(source)],
                                               assume_unique=True, return_indices=True)
        d.sentences = [SentencePair(c, s, share, q) if a_is_copy else SentencePair(s, c, share, q)
                       for c, s, share, q in _aligned(cleaned, spans, fp, copy, source, at_copy, at_source)]


class _Sentences:
    """Each document's sentences as ``(starts, ends)`` arrays, found once per run: a
    document recurs in many candidate pairs (16 bytes a sentence)."""

    def __init__(self, cleaned: Sequence[CleanDoc]) -> None:
        self.cleaned = cleaned
        self.kept: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __getitem__(self, doc: int) -> tuple[np.ndarray, np.ndarray]:
        found = self.kept.get(doc)
        if found is None:
            bounds = np.asarray(sentences(self.cleaned[doc].text), dtype=np.int64).reshape(-1, 2)
            found = self.kept[doc] = (bounds[:, 0].copy(), bounds[:, 1].copy())
        return found


def _aligned(cleaned: Sequence[CleanDoc], spans: _Sentences, fp: Fingerprints, copy: int, source: int,
             at_copy: np.ndarray, at_source: np.ndarray) -> list[tuple[Span, Span, float, bool]]:
    """Sentences of ``copy`` mostly made of shared fingerprints, each with the ``source``
    sentence holding most of them: ``(copy span, source span, share, quoted)``, original offsets."""
    (c_starts, c_ends), (s_starts, s_ends) = spans[copy], spans[source]
    if not len(c_starts) or not len(s_starts):
        return []
    c_rows, s_rows = fp.rows(copy), fp.rows(source)
    c_of = np.searchsorted(c_starts, fp.start[c_rows], "right") - 1
    s_of = np.searchsorted(s_starts, fp.start[s_rows][at_source], "right") - 1
    totals = np.bincount(c_of, minlength=len(c_starts))
    hits = np.bincount(c_of[at_copy], minlength=len(c_starts))
    quoted = np.bincount(c_of, weights=(fp.weight[c_rows] < 1.0).astype(np.float64), minlength=len(c_starts))
    out = []
    aligned = (totals >= SENTENCE_MIN_FINGERPRINTS) & (hits >= SENTENCE_SHARE * totals)
    for sent in np.flatnonzero(aligned).tolist():
        target = int(np.bincount(s_of[c_of[at_copy] == sent]).argmax())
        out.append((cleaned[copy].span_to_original(int(c_starts[sent]), int(c_ends[sent])),
                    cleaned[source].span_to_original(int(s_starts[target]), int(s_ends[target])),
                    round(float(hits[sent] / totals[sent]), 3), bool(quoted[sent] > totals[sent] / 2)))
    return out


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
