"""Signing, LSH candidates, verification, alignment and grouping."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from provenance import Config, Report
from provenance import pipeline as pipeline_mod
from provenance.config import MatchConfig, SignConfig, VerifyConfig
from provenance.lineage import build_groups
from provenance.match import document_candidates, passage_candidates
from provenance.records import CleanDoc, DocPair, Document
from provenance.shingles import normalise, shingle_hashes, words_with_spans
from provenance.sign import passages_of
from provenance.verify import align, verify_documents, verify_passages

from .signed import sign_docs

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SEEDS = SAMPLES / "seeds"
SEED = {n: next(SEEDS.glob(f"{n:03d}_*.txt")).read_text(encoding="utf-8") for n in range(5)}
PERSIAN_VOICES = (SAMPLES / "blogs" / "persian-voices" / "opposition-must-be-supported.txt").read_text(
    encoding="utf-8")
SIGN = SignConfig()


def bare(text: str, doc_id: str = "d") -> CleanDoc:
    """A CleanDoc that keeps all of ``text`` (no cleaning rules involved)."""
    doc = Document(id=doc_id, path=doc_id, text=text, kind="text")
    return CleanDoc(doc=doc, kept=[(0, len(text))] if text else [], removed=[], text=text)


def paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def words(text: str) -> list[str]:
    return [w for w, _, _ in words_with_spans(text)]


def exact_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    sa, sb = set(a.tolist()), set(b.tolist())
    return len(sa & sb) / len(sa | sb)


# --------------------------------------------------------------------------
# normalise and shingles
# --------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(st.text())
@example("Straße ＦＵＬＬＷＩＤＴＨ ﬁ ǅ İstanbul ΣΑΣ x\u0301 ᾷ")
@example("“It’s 98 votes out of 100,” he said — PMOI/MEK.")
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


def test_normalise_examples() -> None:
    assert normalise("“It’s  the  IRGC’s”\u00a0deal — 98/100!") == "it s the irgc s deal 98 100"
    assert normalise("ＦＵＬＬ ﬁne Straße") == "full fine strasse"
    assert normalise("...,;") == ""


def test_shingle_hashes_deterministic_in_process() -> None:
    w = words(SEED[0])
    a = shingle_hashes(w, 5, 1)
    b = shingle_hashes(list(w), 5, 1)
    assert a.dtype == np.uint32
    assert np.array_equal(a, b)
    assert np.array_equal(a, np.unique(a))  # sorted, distinct
    assert 0 < len(a) <= len(w) - 4
    assert not np.array_equal(a, shingle_hashes(w, 5, 2))  # the seed matters
    assert len(shingle_hashes(["one", "two"], 5, 1)) == 1  # shorter than a shingle: one gram
    assert len(shingle_hashes([], 5, 1)) == 0


def test_shingle_hashes_deterministic_across_processes() -> None:
    code = ("import json,sys; from provenance.shingles import shingle_hashes, words_with_spans;"
            "t=open(sys.argv[1],encoding='utf-8').read();"
            "print(json.dumps(shingle_hashes([w for w,_,_ in words_with_spans(t)],5,1).tolist()))")
    path = str(next(SEEDS.glob("000_*.txt")))
    outputs = []
    for hashseed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True,
                             env=env, check=True, timeout=60)
        outputs.append(json.loads(out.stdout))
    assert outputs[0] == outputs[1]
    assert outputs[0] == shingle_hashes(words(SEED[0]), 5, 1).tolist()


def test_signatures_are_deterministic() -> None:
    docs = [bare(SEED[0], "a"), bare(SEED[1], "b")]
    s1, s2 = sign_docs(docs, SIGN), sign_docs(docs, SIGN)
    for x, y in zip(s1, s2, strict=True):
        assert np.array_equal(x.minhash.hashvalues, y.minhash.hashvalues)
        assert [p.text for p in x.passages] == [p.text for p in y.passages]


# --------------------------------------------------------------------------
# MinHash estimates
# --------------------------------------------------------------------------


def _trimmed(text: str, drop_last: int) -> str:
    return "\n\n".join(paragraphs(text)[:-drop_last]) + "\n"


@pytest.mark.parametrize(("a", "b"), [
    pytest.param(SEED[0], _trimmed(SEED[0], 1), id="seed000-vs-last-paragraph-dropped"),
    pytest.param(SEED[0], _trimmed(SEED[0], 4), id="seed000-vs-half"),
    pytest.param(SEED[1], _trimmed(SEED[1], 6), id="seed001-vs-trimmed"),
    pytest.param(SEED[3], PERSIAN_VOICES, id="seed003-vs-repost"),
    pytest.param(SEED[0], SEED[1], id="unrelated-seeds"),
    pytest.param(SEED[2], SEED[4], id="unrelated-seeds-2"),
])
def test_minhash_estimate_close_to_exact_jaccard(a: str, b: str) -> None:
    sa, sb = sign_docs([bare(a, "a"), bare(b, "b")], SIGN)
    exact = exact_jaccard(sa.shingles, sb.shingles)
    estimate = sa.minhash.jaccard(sb.minhash)
    assert abs(estimate - exact) <= 0.15, (estimate, exact)


def test_minhash_estimates_on_sample_copies(samples_report: Report, by_id: dict[str, int]) -> None:
    sigs = sign_docs(samples_report.cleaned, SIGN)
    pairs = [
        ("seeds/000_0d593d3c2b046724.txt", "dumps/network-2017.jsonl#iran-news-update-2017-08-03-sanctions"),
        ("seeds/004_c7de8c5f71fa409e.txt", "iranfocus/tackle-iran-by-supporting-the-iranian-people.html"),
        ("seeds/002_e83797cdff112179.txt", "crawl/network-2020.warc.gz#2"),
        ("seeds/000_0d593d3c2b046724.txt", "seeds/001_64fc29aab0a0f312.txt"),
    ]
    for a, b in pairs:
        x, y = sigs[by_id[a]], sigs[by_id[b]]
        assert abs(x.minhash.jaccard(y.minhash) - exact_jaccard(x.shingles, y.shingles)) <= 0.15, (a, b)


# --------------------------------------------------------------------------
# LSH candidates
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(5))
def test_identical_seed_texts_are_candidates(n: int) -> None:
    docs = [bare(SEED[0] if n else SEED[1], "other"), bare(SEED[n], "a"), bare(SEED[n], "b")]
    pairs = document_candidates(sign_docs(docs, SIGN).batch, MatchConfig(), SIGN)
    assert (1, 2) in pairs


@settings(max_examples=40, deadline=None)
@given(st.lists(st.from_regex(r"[a-zé]{1,8}", fullmatch=True), min_size=1, max_size=80),
       st.sampled_from([0.1, 0.5, 0.9]))
def test_identical_texts_are_always_candidates(word_list: list[str], threshold: float) -> None:
    text = " ".join(word_list)
    match = MatchConfig(doc_threshold=threshold, passage_threshold=threshold)
    sigs = sign_docs([bare(text, "a"), bare(text, "b")], SIGN)
    assert document_candidates(sigs.batch, match, SIGN) == [(0, 1)]
    passage_pairs = passage_candidates(sigs.batch, match, SIGN)
    for p in sigs[0].passages:
        assert ((0, p.number), (1, p.number)) in passage_pairs


def test_unrelated_texts_are_not_candidates() -> None:
    sigs = sign_docs([bare(SEED[n], str(n)) for n in range(5)], SIGN)
    assert document_candidates(sigs.batch, MatchConfig(), SIGN) == []


def test_empty_texts_are_never_candidates() -> None:
    sigs = sign_docs([bare("", "a"), bare("", "b"), bare("... !!!", "c")], SIGN)
    assert document_candidates(sigs.batch, MatchConfig(), SIGN) == []


# --------------------------------------------------------------------------
# passages
# --------------------------------------------------------------------------


def test_long_paragraph_is_cut_into_overlapping_windows_that_cover_it() -> None:
    one_line = " ".join(SEED[0].split())  # the whole seed as one ~540-word paragraph
    n_words = len(words(one_line))
    assert n_words > 3 * SIGN.passage_max_words
    clean = bare("Short heading line\n" + one_line + "\n", "long")
    passages = passages_of(clean, 0, SIGN)
    para_start = clean.text.index(one_line)
    windows = [p for p in passages if p.start >= para_start]
    assert len(windows) >= 4
    spans = words_with_spans(one_line)
    assert windows[0].start == para_start + spans[0][1]  # first word
    assert windows[-1].end == para_start + spans[-1][2]  # last word
    for p in windows:
        assert len(words(p.text)) == SIGN.passage_max_words
        assert p.text == clean.text[p.start:p.end]
    for prev, nxt in itertools.pairwise(windows):
        assert prev.start < nxt.start < prev.end  # overlapping, advancing
    # every word of the paragraph is in some window
    covered = set()
    for p in windows:
        covered.update(range(p.start, p.end))
    for _, s, e in words_with_spans(one_line):
        assert set(range(para_start + s, para_start + e)) <= covered
    assert [p.number for p in passages] == list(range(len(passages)))


@pytest.mark.parametrize(("max_words", "stride"), [(30, 15), (50, 50), (40, 7)])
def test_windows_cover_a_real_paragraph_with_small_windows(max_words: int, stride: int) -> None:
    para = max(paragraphs(SEED[1]), key=len)
    cfg = SignConfig(passage_max_words=max_words, passage_stride=stride, passage_min_words=5)
    passages = passages_of(bare(para, "p"), 0, cfg)
    spans = words_with_spans(para)
    assert passages[0].start == spans[0][1] == 0
    assert passages[-1].end == spans[-1][2]  # the paragraph's last word ("missiles")
    assert para[passages[-1].end:] == ".\n" or para[passages[-1].end:] == "."
    for prev, nxt in itertools.pairwise(passages):
        assert nxt.start <= prev.end
        assert nxt.start > prev.start
    assert all(len(words(p.text)) == max_words for p in passages)


def test_short_paragraphs_are_joined_into_passages() -> None:
    text = "One two three.\nFour five six.\nSeven eight nine ten eleven twelve thirteen fourteen fifteen sixteen.\n"
    passages = passages_of(bare(text), 0, SIGN)
    assert len(passages) == 1
    assert passages[0].start == 0 and passages[0].text.endswith("sixteen")


# --------------------------------------------------------------------------
# verification
# --------------------------------------------------------------------------


def test_verify_drops_a_false_candidate_and_keeps_a_real_copy() -> None:
    copy = "Shafiee: a new headline\n\n" + SEED[0]
    cleaned = [bare(SEED[0], "seed"), bare(SEED[1], "unrelated"), bare(copy, "copy")]
    verified = verify_documents(cleaned, [(0, 1), (0, 2), (1, 2)], VerifyConfig())
    assert [(p.a, p.b) for p in verified] == [(0, 2)]
    pair = verified[0]
    assert pair.similarity >= 80
    a_text = SEED[0][pair.a_span[0]:pair.a_span[1]]
    b_text = copy[pair.b_span[0]:pair.b_span[1]]
    assert fuzz.ratio(a_text, b_text) >= 95
    assert pair.b_span[0] >= len("Shafiee: a new headline")


def test_verify_passages_drops_a_false_candidate() -> None:
    cleaned = [bare(SEED[0], "a"), bare(SEED[1], "b")]
    sigs = sign_docs(cleaned, SIGN)
    forced = [((0, i), (1, j)) for i in range(len(sigs[0].passages)) for j in range(len(sigs[1].passages))]
    assert verify_passages(cleaned, sigs.view, forced, VerifyConfig()) == []


def test_verify_passages_keeps_a_quoted_paragraph() -> None:
    quoted = paragraphs(SEED[0])[4]  # "Shafiee wrote: “Some in the West were falsely led…"
    digest = ("Our own weekly prose about the week that was, which nobody else wrote.\n\n"
              + quoted + "\n\nSource: NCRI US\n\nAnd some more of our own closing remarks here.\n")
    cleaned = [bare(SEED[0], "a"), bare(digest, "b")]
    sigs = sign_docs(cleaned, SIGN)
    pairs = passage_candidates(sigs.batch, MatchConfig(), SIGN)
    matches = verify_passages(cleaned, sigs.view, pairs, VerifyConfig())
    assert len(matches) == 1
    m = matches[0]
    assert SEED[0][m.a_span[0]:m.a_span[1]] == digest[m.b_span[0]:m.b_span[1]]
    found = digest[m.b_span[0]:m.b_span[1]]
    assert found.startswith("Shafiee wrote: “Some in the West were falsely led")
    assert found.endswith("no such change is in Iranian political horizons")  # up to the last word


# --------------------------------------------------------------------------
# alignment
# --------------------------------------------------------------------------


@pytest.mark.parametrize("max_gap", [40, 400])
def test_align_real_copy_spans_are_near_equal(max_gap: int) -> None:
    from provenance.clean import clean_document
    raw_b = (SAMPLES / "blogs" / "free-iran-now" / "2017-12-21-tackle-iran.txt").read_text(encoding="utf-8")
    a = clean_document(Document("a", "a", SEED[4], "text")).text
    b = clean_document(Document("b", "b", raw_b, "text")).text
    al = align(a, b, max_gap=max_gap)
    assert al is not None
    sa, sb = a[al.a[0]:al.a[1]], b[al.b[0]:al.b[1]]
    assert fuzz.ratio(sa, sb) >= 90
    assert al.score == round(fuzz.ratio(sa, sb), 2)
    for phrase in ("London, 19 Dec - Ever since", "This idea is shared by Shahriar Kia"):
        assert phrase in sa and phrase in sb


def test_align_nothing_shared() -> None:
    assert align("", "abc") is None
    assert align("abcdefgh", "") is None
    assert align("aaaa bbbb", "xyz 123 ?") is None


NOISE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz .,", max_size=300)
SOURCE = " ".join(SEED[0].split())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SOURCE) - 300), NOISE, NOISE, NOISE, NOISE)
def test_align_spans_are_near_equal(offset: int, pa: str, sa: str, pb: str, sb: str) -> None:
    shared = SOURCE[offset:offset + 300]
    a, b = pa + shared + sa, pb + shared + sb
    al = align(a, b)
    assert al is not None
    ratio = fuzz.ratio(a[al.a[0]:al.a[1]], b[al.b[0]:al.b[1]])
    assert ratio >= 90
    assert al.score == round(ratio, 2)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SOURCE) - 300), NOISE, NOISE, NOISE, NOISE)
@example(offset=3, pa="", sa="", pb=" ", sb="")  # b is a with one leading space
def test_align_spans_cover_the_shared_passage(offset: int, pa: str, sa: str, pb: str, sb: str) -> None:
    shared = SOURCE[offset:offset + 300]
    a, b = pa + shared + sa, pb + shared + sb
    al = align(a, b)
    assert al is not None
    assert al.a[0] <= len(pa) and al.a[1] >= len(pa) + 300, (al, len(pa))
    assert al.b[0] <= len(pb) and al.b[1] >= len(pb) + 300, (al, len(pb))


# --------------------------------------------------------------------------
# groups come from verified pairs only
# --------------------------------------------------------------------------


def test_groups_from_verified_pairs_only() -> None:
    cleaned = [bare(SEED[0], "s0"), bare("Headline\n\n" + SEED[0], "s0-copy"),
               bare(SEED[3], "s3"), bare(PERSIAN_VOICES, "s3-copy"), bare(SEED[2], "s2")]
    candidates = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 4)]  # three of them are LSH false positives
    verified = verify_documents(cleaned, candidates, VerifyConfig())
    assert [(p.a, p.b) for p in verified] == [(0, 1), (2, 3)]
    groups = build_groups(verified)
    assert [g.members for g in groups] == [[0, 1], [2, 3]]
    assert all(len(g.pairs) == 1 for g in groups)


def test_build_groups_is_connected_components() -> None:
    pairs = [DocPair(5, 6, 90.0, (0, 1), (0, 1)), DocPair(0, 3, 90.0, (0, 1), (0, 1)),
             DocPair(3, 7, 90.0, (0, 1), (0, 1))]
    groups = build_groups(pairs)
    assert [g.members for g in groups] == [[0, 3, 7], [5, 6]]
    assert [[(p.a, p.b) for p in g.pairs] for g in groups] == [[(0, 3), (3, 7)], [(5, 6)]]
    assert build_groups([]) == []


def test_pipeline_groups_unchanged_when_every_pair_is_a_candidate(
        samples_report: Report, monkeypatch: pytest.MonkeyPatch) -> None:
    """Flood verification with false candidates: no group may grow."""
    cleaned = samples_report.cleaned
    n = len(cleaned)
    every_pair = [(i, j) for i in range(n) for j in range(i + 1, n)]
    calls = []

    def flood(*_args: object, **_kwargs: object) -> list[tuple[int, int]]:
        calls.append(1)
        return every_pair

    monkeypatch.setattr(pipeline_mod, "document_candidates", flood)
    groups, _, _, _ = pipeline_mod.find(cleaned, Config())
    assert calls == [1]  # the flood really went through verification
    ids = [c.doc.id for c in cleaned]
    got = sorted(sorted(ids[m] for m in g.members) for g in groups)
    expected = sorted(sorted(ids[m] for m in g.members) for g in samples_report.groups)
    assert got == expected
    assert len(expected) == 5
    for g in groups:
        for p in g.pairs:
            assert p.similarity >= VerifyConfig().doc_score_cutoff


def test_a_share_of_passages_reads_the_same_passages_as_the_whole() -> None:
    """What a worker verifying a share sees (``PassageView.share`` over ``ShareTexts``) is the
    whole view's passages of those documents, texts and offsets alike."""
    from provenance.verify import ShareTexts

    cleaned = [bare(SEED[n], str(n)) for n in range(5)]
    sigs = sign_docs(cleaned, SIGN)
    share = sigs.view.share([3, 1], ShareTexts({1: cleaned[1], 3: cleaned[3]}))
    for doc in (1, 3):
        whole = sigs.view.passages(doc)
        assert whole and [share.passage(doc, p.number) for p in whole] == whole
    assert sorted(share.texts) == [1, 3] and len(share.texts) == 2
    with pytest.raises(KeyError):
        share.passage(0, 0)
