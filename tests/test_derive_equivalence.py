"""The vectorised rewrite measures (``verify_derivations``, ``align``) against the
per-pair code they replaced (commit 8063f96: one ``np.intersect1d`` and a few
``bincount`` per pair), on random texts, pairs and quote weights."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance import derive
from provenance.config import Config, SignConfig, VerifyConfig
from provenance.derive import (
    SENTENCE_MIN_FINGERPRINTS,
    SENTENCE_SHARE,
    Fingerprints,
    align,
    sentences,
    verify_derivations,
)
from provenance.records import CleanDoc, Derivation, Document, SentencePair
from provenance.sign import sign_texts

WORDS = ["wire", "story", "court", "heard", "judge", "the", "a", "of", "bridge", "council", "said",
         "Leeds", "trial", "jury", "“quoted”", '"speech', 'here"', "paper", "città", "über",
         "end.", "stop!", "why?", "\n", "\n\n", " ", "said.\"", "—"]
texts = st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=50).map(" ".join),
                 min_size=2, max_size=7)
# a prefix of white space or newlines before some texts, which makes the first sentence start late
prefixes = st.lists(st.sampled_from(["", "", "\n", "\n\n", "  ", " \n "]), min_size=7, max_size=7)
pairs = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=14)
weights = st.sampled_from([0.25, 0.0, 0.1, 0.3, 0.5, 1.0, 1.5])


def _old_narration(fp: Fingerprints, i: int, shared: np.ndarray) -> float:
    plain = fp.weight[fp.rows(i)] >= 1.0
    return float(plain[shared].sum() / plain.sum()) if plain.any() else 0.0


def _old_verify(fp: Fingerprints, pairs: np.ndarray, config: Config) -> list[Derivation]:
    cfg = config.verify
    out: list[Derivation] = []
    for i, j in pairs.tolist():
        ri, rj = fp.rows(i), fp.rows(j)
        _, at_i, at_j = np.intersect1d(fp.hash[ri], fp.hash[rj], assume_unique=True, return_indices=True)
        if len(at_i) < cfg.derive_min_shared or not fp.total[i] or not fp.total[j]:
            continue
        a_in_b = float(fp.weight[ri][at_i].sum() / fp.total[i])
        b_in_a = float(fp.weight[rj][at_j].sum() / fp.total[j])
        if max(a_in_b, b_in_a) < cfg.derive_partially:
            continue
        a_is_copy = a_in_b >= b_in_a
        if _old_narration(fp, i if a_is_copy else j, at_i if a_is_copy else at_j) < cfg.derive_partially:
            continue
        out.append(Derivation(i, j, round(a_in_b, 4), round(b_in_a, 4), []))
    return out


def _old_align(cleaned: list[CleanDoc], fp: Fingerprints, derivations: list[Derivation]) -> None:
    for d in derivations:
        a_is_copy = d.origin == "b" or (d.origin is None and d.a_in_b >= d.b_in_a)
        copy, source = (d.a, d.b) if a_is_copy else (d.b, d.a)
        _, at_copy, at_source = np.intersect1d(fp.hash[fp.rows(copy)], fp.hash[fp.rows(source)],
                                               assume_unique=True, return_indices=True)
        c_b = np.asarray(sentences(cleaned[copy].text), dtype=np.int64).reshape(-1, 2)
        s_b = np.asarray(sentences(cleaned[source].text), dtype=np.int64).reshape(-1, 2)
        found: list[SentencePair] = []
        if len(c_b) and len(s_b):
            c_rows, s_rows = fp.rows(copy), fp.rows(source)
            c_of = np.searchsorted(c_b[:, 0], fp.start[c_rows], "right") - 1
            s_of = np.searchsorted(s_b[:, 0], fp.start[s_rows][at_source], "right") - 1
            totals = np.bincount(c_of, minlength=len(c_b))
            hits = np.bincount(c_of[at_copy], minlength=len(c_b))
            quoted = np.bincount(c_of, weights=(fp.weight[c_rows] < 1.0).astype(np.float64),
                                 minlength=len(c_b))
            aligned = (totals >= SENTENCE_MIN_FINGERPRINTS) & (hits >= SENTENCE_SHARE * totals)
            for sent in np.flatnonzero(aligned).tolist():
                target = int(np.bincount(s_of[c_of[at_copy] == sent]).argmax())
                cs = cleaned[copy].span_to_original(int(c_b[sent, 0]), int(c_b[sent, 1]))
                ss = cleaned[source].span_to_original(int(s_b[target, 0]), int(s_b[target, 1]))
                share, q = round(float(hits[sent] / totals[sent]), 3), bool(quoted[sent] > totals[sent] / 2)
                found.append(SentencePair(cs, ss, share, q) if a_is_copy else SentencePair(ss, cs, share, q))
        d.sentences = found


def _clean(texts: list[str]) -> list[CleanDoc]:
    return [CleanDoc(Document(f"d{k}", f"d{k}", t, "text"), [(0, len(t))] if t else [], [], t)
            for k, t in enumerate(texts)]


def _setup(batch: list[str], prefix: list[str], raw_pairs: list[tuple[int, int]]
           ) -> tuple[list[str], np.ndarray]:
    batch = [p + t for p, t in zip(prefix, batch, strict=False)]
    n = len(batch)
    pairs = np.array([(a % n, b % n) for a, b in raw_pairs], dtype=np.int64).reshape(-1, 2)
    return batch, pairs


@contextmanager
def _chunked(rows: int) -> Iterator[None]:
    """Pairs measured ``rows`` fingerprints at a time (``Fingerprints.shared``), sentences
    counted as many (``_Sentences.histograms``): chunk boundaries fall between any two pairs."""
    shared, histograms = derive.Fingerprints.shared, derive._Sentences.histograms
    derive.Fingerprints.shared = lambda self, left, right: shared(self, left, right, rows)  # type: ignore[method-assign,assignment,misc]
    derive._Sentences.histograms = lambda self, docs: histograms(self, docs, rows)  # type: ignore[method-assign]
    try:
        yield
    finally:
        derive.Fingerprints.shared, derive._Sentences.histograms = shared, histograms  # type: ignore[method-assign]


def _config(quote_weight: float) -> Config:
    # a low threshold, so that many pairs pass and the narration rule decides some
    return Config(verify=VerifyConfig(derive_partially=0.2, derive_min_shared=2,
                                      derive_quote_weight=quote_weight))


@settings(max_examples=150, deadline=None)
@given(texts, prefixes, pairs, weights, st.sampled_from([1, 7, 40, 1 << 21]))
def test_verify_derivations_is_the_per_pair_measure(batch: list[str], prefix: list[str],
                                                    raw_pairs: list[tuple[int, int]], weight: float,
                                                    chunk: int) -> None:
    batch, pairs_ = _setup(batch, prefix, raw_pairs)
    config = _config(weight)
    fp = Fingerprints.of(sign_texts(batch, SignConfig()), weight)
    with _chunked(chunk):
        assert verify_derivations(fp, pairs_, config) == _old_verify(fp, pairs_, config)


def test_narration_when_quotes_weigh_as_much_as_narration() -> None:
    # derive_quote_weight 1.0: a quote counts as narration (weight >= 1), as it did per pair; a
    # text that is all one quote copied whole is a copy.
    quote = '"' + " ".join(f"w{k}" for k in range(40)) + '"'
    batch = [quote, quote + " and some more words of narration here"]
    config = _config(1.0)
    fp = Fingerprints.of(sign_texts(batch, SignConfig()), 1.0)
    pairs_ = np.array([[0, 1]], dtype=np.int64)
    old = _old_verify(fp, pairs_, config)
    assert old and verify_derivations(fp, pairs_, config) == old


@settings(max_examples=150, deadline=None)
@given(texts, prefixes, pairs, weights, st.lists(st.sampled_from(["a", "b", None]), min_size=14, max_size=14),
       st.sampled_from([1, 7, 40, 1 << 21]))
def test_align_is_the_per_pair_alignment(batch: list[str], prefix: list[str], raw_pairs: list[tuple[int, int]],
                                         weight: float, origins: list[str | None], chunk: int) -> None:
    # pairs sharing nothing included (align crashed on a chunk of them: IndexError)
    batch, pairs_ = _setup(batch, prefix, raw_pairs)
    cleaned = _clean(batch)
    fp = Fingerprints.of(sign_texts(batch, SignConfig()), weight)
    derivations = [Derivation(int(a), int(b), 0.5, 0.4 if k % 2 else 0.6, [], origin=origins[k])
                   for k, (a, b) in enumerate(pairs_.tolist())]
    new = [dataclasses.replace(d) for d in derivations]
    old = [dataclasses.replace(d) for d in derivations]
    with _chunked(chunk):
        align(cleaned, fp, new)
    _old_align(cleaned, fp, old)
    assert [d.sentences for d in new] == [d.sentences for d in old]


@settings(max_examples=150, deadline=None)
@given(texts, prefixes, pairs, weights, st.lists(st.sampled_from(["a", "b", None]), min_size=14, max_size=14),
       st.lists(st.booleans(), min_size=14, max_size=14), st.sampled_from([1, 7, 40, 1 << 21]))
def test_align_from_the_rows_measuring_kept_is_align(batch: list[str], prefix: list[str],
                                                     raw_pairs: list[tuple[int, int]], weight: float,
                                                     origins: list[str | None], taken: list[bool],
                                                     chunk: int) -> None:
    """``measure(keep_rows=True)``'s shared fingerprints, taken for some of its derivations
    (``SharedRows.take``), align them as the fingerprints found anew do."""
    batch, pairs_ = _setup(batch, prefix, raw_pairs)
    cleaned = _clean(batch)
    config = _config(weight)
    fp = Fingerprints.of(sign_texts(batch, SignConfig()), weight)
    with _chunked(chunk):
        measured, shared = derive.measure(fp, pairs_, config, keep_rows=True)
    assert measured == verify_derivations(fp, pairs_, config)
    for k, d in enumerate(measured):
        d.origin = origins[k]
    kept = [k for k in range(len(measured)) if taken[k]]
    fresh = [dataclasses.replace(measured[k]) for k in kept]
    reused = [dataclasses.replace(measured[k]) for k in kept]
    align(cleaned, fp, fresh)
    align(cleaned, fp, reused, shared.take(kept))
    assert [d.sentences for d in reused] == [d.sentences for d in fresh]
    assert len(shared.pair) == sum(len(np.intersect1d(fp.hash[fp.rows(d.a)], fp.hash[fp.rows(d.b)]))
                                   for d in measured)
