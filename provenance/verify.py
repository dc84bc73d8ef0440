"""Verify candidates with rapidfuzz and align them: true similarity, exact spans.

LSH only says two signatures share a bucket. Here each candidate is checked
on the text itself: a document pair by ``fuzz.ratio`` over the cleaned
texts, a passage pair by a local alignment built from rapidfuzz's LCS
matching blocks (the densest run of shared blocks around the longest one),
scored with ``fuzz.ratio`` on the aligned regions. Candidates below the
cut-off are dropped: they are LSH's false positives.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

from .config import VerifyConfig
from .passages import PassageView
from .records import CleanDoc, DocPair, PassageMatch, Span
from .runtime.pool import call, ordered_map
from .runtime.spill import text_length

#: Above this many characters a side, LCS alignment would need too much
#: memory (it keeps a bit matrix); such pairs are aligned passage by passage.
MAX_ALIGN_CHARS = 20_000
#: Pairs between two calls of a ``progress`` callback.
PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class Alignment:
    """Aligned regions of two texts and their similarity (0-100)."""

    a: Span
    b: Span
    score: float


def shared_blocks(a: str, b: str, min_block: int = 4) -> list[tuple[int, int, int]]:
    """The character runs ``a`` and ``b`` share, in order, as ``(start in a, start in b, length)``:
    rapidfuzz's LCS matching blocks of at least ``min_block`` characters. The one alignment of
    two texts, for verification and for the HTML report's highlights alike."""
    if not a or not b:
        return []
    return [(m.a, m.b, m.size) for m in LCSseq.opcodes(a, b).as_matching_blocks() if m.size >= min_block]


def align(a: str, b: str, max_gap: int = 40, min_block: int = 4) -> Alignment | None:
    """The densest aligned region of ``a`` and ``b``, or None when nothing is shared.

    Starting from the longest block the two texts share, neighbouring
    shared blocks are taken in while the gap before them is at most
    ``max_gap`` characters on both sides.
    """
    blocks = shared_blocks(a, b, min_block)
    if not blocks:
        return None
    anchor = max(range(len(blocks)), key=lambda k: (blocks[k][2], -k))
    lo = hi = anchor
    while lo > 0:
        (pa, pb, ps), (ca, cb, _) = blocks[lo - 1], blocks[lo]
        if ca - (pa + ps) > max_gap or cb - (pb + ps) > max_gap:
            break
        lo -= 1
    while hi < len(blocks) - 1:
        (ca, cb, cs), (na, nb, _) = blocks[hi], blocks[hi + 1]
        if na - (ca + cs) > max_gap or nb - (cb + cs) > max_gap:
            break
        hi += 1
    (fa, fb, _), (la, lb, ls) = blocks[lo], blocks[hi]
    a0, b0, a1, b1 = fa, fb, la + ls, lb + ls
    # LCS may pair a few edge characters with noise; grow the region while both sides agree.
    while a0 > 0 and b0 > 0 and a[a0 - 1] == b[b0 - 1]:
        a0, b0 = a0 - 1, b0 - 1
    while a1 < len(a) and b1 < len(b) and a[a1] == b[b1]:
        a1, b1 = a1 + 1, b1 + 1
    span_a, span_b = (a0, a1), (b0, b1)
    score = fuzz.ratio(a[span_a[0]:span_a[1]], b[span_b[0]:span_b[1]])
    return Alignment(span_a, span_b, round(score, 2))


def equal_pair(cleaned: Sequence[CleanDoc], i: int, j: int) -> DocPair:
    """The verified pair of two documents whose cleaned texts are equal: similarity 100 over
    the whole of each (what the alignment finds for equal texts, without running it)."""
    n = text_length(cleaned[i])
    return DocPair(i, j, 100.0, cleaned[i].span_to_original(0, n), cleaned[j].span_to_original(0, n))


def verify_documents(cleaned: Sequence[CleanDoc], pairs: Sequence[tuple[int, int]],
                     cfg: VerifyConfig, progress: Callable[[int], None] | None = None) -> list[DocPair]:
    """Keep the candidate document pairs that really are near-duplicates.

    Returns:
        Verified pairs with their similarity (``fuzz.ratio`` of the cleaned
        texts, 0-100) and the aligned span in each original text.
    """
    out: list[DocPair] = []
    for n, (i, j) in enumerate(pairs):
        if progress and n % PROGRESS_EVERY == 0:
            progress(n)
        a, b = cleaned[i], cleaned[j]
        a_text, b_text = a.text, b.text  # read once (a spilled text is read from disk)
        if a_text == b_text:
            out.append(equal_pair(cleaned, i, j))
            continue
        score = fuzz.ratio(a_text, b_text, score_cutoff=cfg.doc_score_cutoff)
        if not score:
            continue
        a_span: Span = (0, len(a_text))
        b_span: Span = (0, len(b_text))
        if len(a_text) <= MAX_ALIGN_CHARS and len(b_text) <= MAX_ALIGN_CHARS:
            aligned = align(a_text, b_text, max_gap=400)
            if aligned is not None:
                a_span, b_span = aligned.a, aligned.b
        out.append(DocPair(i, j, round(score, 2), a.span_to_original(*a_span),
                           b.span_to_original(*b_span)))
    return out


def verify_passages(cleaned: Sequence[CleanDoc] | Mapping[int, CleanDoc], view: PassageView,
                    pairs: Sequence[tuple[tuple[int, int], tuple[int, int]]],
                    cfg: VerifyConfig, group_of: dict[int, int] | None = None,
                    progress: Callable[[int], None] | None = None) -> list[PassageMatch]:
    """Verify passage candidates, merge neighbouring hits, and align them.

    Args:
        group_of: document index -> near-duplicate group; documents of the
            same group are already reported as copies, so their shared
            passages are not reported again.
        progress: called with the number of pairs done, now and then.

    Returns:
        One ``PassageMatch`` per run of shared text between two documents,
        spans in each document's original text.
    """
    group_of = group_of or {}
    hits: dict[tuple[int, int], list[tuple[Span, Span]]] = defaultdict(list)
    for n, ((i, pi), (j, pj)) in enumerate(pairs):
        if progress and n % PROGRESS_EVERY == 0:
            progress(n)
        if i in group_of and group_of.get(j) == group_of[i]:
            continue
        pa, pb = view.passage(i, pi), view.passage(j, pj)
        aligned = (Alignment((0, len(pa.text)), (0, len(pb.text)), 100.0)
                   if pa.text == pb.text and len(pa.text) >= 4 else align(pa.text, pb.text))
        if aligned is None or aligned.score < cfg.passage_score_cutoff:
            continue
        span_a = (pa.start + aligned.a[0], pa.start + aligned.a[1])
        span_b = (pb.start + aligned.b[0], pb.start + aligned.b[1])
        hits[(i, j)].append((span_a, span_b))
    out: list[PassageMatch] = []
    for (i, j), found in sorted(hits.items()):
        a, b = cleaned[i], cleaned[j]
        for span_a, span_b in _merge_hits(found):
            if min(span_a[1] - span_a[0], span_b[1] - span_b[0]) < cfg.passage_min_chars:
                continue
            score = fuzz.ratio(a.text[span_a[0]:span_a[1]], b.text[span_b[0]:span_b[1]])
            if score < cfg.passage_score_cutoff:
                continue
            out.append(PassageMatch(i, j, a.span_to_original(*span_a),
                                    b.span_to_original(*span_b), round(score, 2)))
    return out


def _repeat(ma: Span, sa: Span, mb: Span, sb: Span) -> bool:
    """The new hit is the same text again on one side and other text on the other: a passage
    that one document holds twice (each copy is its own match, never one run over both)."""
    def share(m: Span, s: Span) -> float:
        return (min(m[1], s[1]) - max(m[0], s[0])) / max(1, min(m[1] - m[0], s[1] - s[0]))
    a, b = share(ma, sa), share(mb, sb)
    return (a >= 0.5 and b <= 0) or (b >= 0.5 and a <= 0)


def _merge_hits(found: list[tuple[Span, Span]], gap: int = 60) -> list[tuple[Span, Span]]:
    """Merge hits that overlap or nearly touch on both sides (not a passage's repeat).

    A hit joins the latest of the last ``OPEN_RUNS`` runs it continues, so that the hits of
    a passage that one side holds twice build two runs side by side, not fragments.
    """
    merged: list[tuple[Span, Span]] = []
    for sa, sb in sorted(found):
        for k in range(len(merged) - 1, max(-1, len(merged) - 1 - OPEN_RUNS), -1):
            ma, mb = merged[k]
            if sa[0] <= ma[1] + gap and sb[0] <= mb[1] + gap and sb[1] >= mb[0] - gap \
                    and not _repeat(ma, sa, mb, sb):
                merged[k] = ((ma[0], max(ma[1], sa[1])), (min(mb[0], sb[0]), max(mb[1], sb[1])))
                break
        else:
            merged.append((sa, sb))
    return sorted(merged)


#: Runs a hit may continue (``_merge_hits``): a passage repeated a few times side by side.
OPEN_RUNS = 8


# --- verification's parallel form: the pairs shared out among processes ---

class ShareTexts(Mapping[int, str]):
    """The texts of a share's documents by their index in the run, read where they are used
    (a worker reads a spilled text back itself: only the references travel)."""

    def __init__(self, docs: Mapping[int, CleanDoc]) -> None:
        self.docs = docs

    def __getitem__(self, doc: int) -> str:
        return self.docs[doc].text

    def __iter__(self) -> Iterator[int]:
        return iter(self.docs)

    def __len__(self) -> int:
        return len(self.docs)


#: Candidate pairs from which verification is shared out among processes.
PARALLEL_PAIRS = 200_000


#: Fewest pairs in one share of verification.
PAIRS_PER_SHARE = 10_000


def _shares(n: int, jobs: int) -> int:
    return max(1, min(n // PAIRS_PER_SHARE, 8 * jobs))


def document_shares(cleaned: Sequence[CleanDoc], pairs: Sequence[tuple[int, int]], cfg: VerifyConfig,
                    cuts: Sequence[int]) -> Iterator[tuple[Any, ...]]:
    """``verify_documents``' arguments for each share ``cuts[k]:cuts[k + 1]`` of the pairs, each
    with the documents it names (for the worker pool and for Spark's executors alike)."""
    for lo, hi in pairwise(cuts):
        share = list(pairs[lo:hi])
        yield {i: cleaned[i] for pair in share for i in pair}, share, cfg


PassagePair = tuple[tuple[int, int], tuple[int, int]]  # (document, passage) on each side


def _doc_pair(pair: PassagePair) -> tuple[int, int]:
    return pair[0][0], pair[1][0]


def by_document_pair(pairs: Sequence[PassagePair]) -> list[PassagePair]:
    """Passage pairs sorted by document pair (stable: a document pair's hits keep their order)."""
    return sorted(pairs, key=_doc_pair)


def passage_cuts(kept: Sequence[PassagePair], targets: Iterable[int]) -> list[int]:
    """Share boundaries of ``kept`` (``by_document_pair``) near ``targets``, each moved on past
    the end of a document pair (its hits are merged in one share), empty shares left out."""
    cuts = [0]
    for target in targets:
        at = max(target, cuts[-1])
        while 0 < at < len(kept) and _doc_pair(kept[at]) == _doc_pair(kept[at - 1]):
            at += 1  # never split a document pair
        if cuts[-1] < at < len(kept):
            cuts.append(at)
    return [*cuts, len(kept)] if kept else cuts


def passage_shares(cleaned: Sequence[CleanDoc], view: PassageView,
                   kept: Sequence[PassagePair], cfg: VerifyConfig,
                   group_of: dict[int, int], cuts: Sequence[int]) -> Iterator[tuple[Any, ...]]:
    """``verify_passages``' arguments for each share ``cuts[k]:cuts[k + 1]`` of ``kept``: the
    documents it names (texts read where the share runs), their passages, and their groups
    (pairs inside a group are skipped)."""
    for lo, hi in pairwise(cuts):
        share = list(kept[lo:hi])
        docs = {d: cleaned[d] for pair in share for d, _ in pair}
        groups = {d: group_of[d] for d in docs if d in group_of}
        yield docs, view.share(docs, ShareTexts(docs)), share, cfg, groups


def verify_documents_parallel(cleaned: Sequence[CleanDoc], pairs: Sequence[tuple[int, int]],
                              cfg: VerifyConfig, jobs: int,
                              progress: Callable[[int], None] | None = None) -> list[DocPair]:
    """``verify.verify_documents`` with the pairs shared out among ``jobs`` processes, in order."""
    if jobs <= 1 or len(pairs) < PARALLEL_PAIRS:
        return verify_documents(cleaned, pairs, cfg, progress)
    shares = _shares(len(pairs), jobs)
    cuts = [round(k * len(pairs) / shares) for k in range(shares + 1)]
    work = ((verify_documents, *share) for share in document_shares(cleaned, pairs, cfg, cuts))
    out: list[DocPair] = []
    for part, hi in zip(ordered_map(call, work, jobs), cuts[1:], strict=True):
        out.extend(part)
        if progress is not None:
            progress(hi)
    return out


def verify_passages_parallel(cleaned: Sequence[CleanDoc], view: PassageView,
                             pairs: Sequence[tuple[tuple[int, int], tuple[int, int]]],
                             cfg: VerifyConfig, group_of: dict[int, int], jobs: int,
                             progress: Callable[[int], None] | None = None) -> list[PassageMatch]:
    """``verify.verify_passages`` with the pairs shared out among ``jobs`` processes.

    The pairs of one document pair always go to one share (their hits are
    merged there), and shares follow the order of document pairs, which is
    the order of the matches ``verify_passages`` returns: so the result is
    the same.
    """
    if jobs <= 1 or len(pairs) < PARALLEL_PAIRS:
        return verify_passages(cleaned, view, pairs, cfg, group_of=group_of, progress=progress)
    kept = by_document_pair(pairs)
    shares = _shares(len(kept), jobs)
    cuts = passage_cuts(kept, (round(k * len(kept) / shares) for k in range(1, shares)))
    work = ((verify_passages, *share) for share in passage_shares(cleaned, view, kept, cfg, group_of, cuts))
    out: list[PassageMatch] = []
    for part, hi in zip(ordered_map(call, work, jobs), cuts[1:], strict=True):
        out.extend(part)
        if progress is not None:
            progress(hi)
    return out
