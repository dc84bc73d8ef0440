"""The reuse fingerprints and the candidates they make: invariants and one rule a test."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.arrays import sorted_unique
from provenance.config import MatchConfig, SignConfig
from provenance.derive import reuse_candidates, sentences
from provenance.fingerprints import Fingerprints
from provenance.sign import quotes, sign_texts
from provenance.signatures import SignedBatch

WORDS = ["wire", "story", "court", "heard", "judge", "the", "a", "of", "bridge", "council", "said",
         "Leeds", "trial", "jury", "“quoted”", '"speech"', "paper", "ANSA", "città", "über"]
texts = st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=60).map(" ".join),
                 min_size=1, max_size=6)


@given(st.lists(st.integers(min_value=-(2**40), max_value=2**40), max_size=200))
def test_sorted_unique_is_numpys_unique(values: list[int]) -> None:
    array = np.asarray(values, dtype=np.int64)
    got, counts = sorted_unique(array)
    want, want_counts = np.unique(array, return_counts=True)
    assert got.tolist() == want.tolist() and counts.tolist() == want_counts.tolist()


def _fingerprints(batch: SignedBatch, doc: int) -> list[tuple[int, int, bool]]:
    rows = batch.f_doc == doc
    return list(zip(batch.f_hash[rows].tolist(), batch.f_start[rows].tolist(), batch.f_quoted[rows].tolist(),
                    strict=True))


@settings(max_examples=60, deadline=None)
@given(texts)
def test_fingerprints_of_a_text_do_not_depend_on_its_batch(batch_texts: list[str]) -> None:
    # Workers sign batches of any size (--jobs): a document's fingerprints must be its own.
    cfg = SignConfig()
    together = sign_texts(batch_texts, cfg)
    assert np.all(np.diff(together.f_doc) >= 0)
    for i, text in enumerate(batch_texts):
        alone = sign_texts([text], cfg)
        assert _fingerprints(together, i) == _fingerprints(alone, 0)
        hashes = together.f_hash[together.f_doc == i]
        assert len(set(hashes.tolist())) == len(hashes)  # unique within the document
        assert np.all(np.diff(hashes.astype(np.int64)) > 0)  # sorted by hash



@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=3, max_size=40).map(" ".join), st.integers(2, 4))
def test_a_repeated_shingle_is_kept_at_its_first_place(text: str, times: int) -> None:
    """A 3-word shingle that a text holds more than once is fingerprinted where it first
    stands, with that place's quotedness: a text repeated is fingerprinted in its first copy."""
    repeated = " ".join([text] * times)
    once, many = sign_texts([text], SignConfig()), sign_texts([repeated], SignConfig())
    assert set(many.f_hash.tolist()) >= set(once.f_hash.tolist())
    assert all(start < len(text) for start in many.f_start.tolist())
    first = dict(zip(once.f_hash.tolist(), zip(once.f_start.tolist(), once.f_quoted.tolist(), strict=True),
                     strict=True))
    assert all(first[h] == (start, q) for h, start, q in _fingerprints(many, 0) if h in first)


def test_a_quote_left_open_in_one_text_does_not_run_into_the_next() -> None:
    # Texts are signed joined in a batch: an unclosed quotation mark at the end of one must not
    # pair with the next text's, which would mark that text's words as quoted (and so weigh its
    # fingerprints, and rewrite scores, by which texts a worker's batch happened to hold).
    cfg = SignConfig()
    first = 'The council said "the bridge will open in spring'
    second = ("The jury heard the trial of the wire story about the court in Leeds over three days, "
              'and the judge said "it is over" before the paper went to print that night.')
    together = sign_texts([first, second], cfg)
    alone = sign_texts([second], cfg)
    assert _fingerprints(together, 1) == _fingerprints(alone, 0)


def _batch(docs: list[list[int]]) -> SignedBatch:
    """A batch whose document ``i`` holds the fingerprints ``docs[i]`` (no MinHash needed)."""
    f_doc = np.concatenate([np.full(len(h), i, dtype=np.int32) for i, h in enumerate(docs)])
    f_hash = np.concatenate([np.asarray(sorted(h), dtype=np.uint32) for h in docs])
    empty = np.empty(0, dtype=np.int64)
    return SignedBatch(np.zeros((len(docs), 16), dtype=np.uint32), np.ones(len(docs), dtype=np.int64),
                       empty, empty, empty, empty, empty, np.empty((0, 16), dtype=np.uint32), f_doc, f_hash,
                       np.arange(len(f_doc), dtype=np.int32), np.zeros(len(f_doc), dtype=bool))


def test_a_stock_phrase_held_by_many_pairs_nobody_unless_an_agency_copy_holds_it() -> None:
    shared = list(range(1000, 1010))
    docs = [shared + list(range(100 * i, 100 * i + 50)) for i in range(20)]  # 20 > reuse_max_df
    match = MatchConfig()
    owner = np.arange(20, dtype=np.int64)
    assert len(reuse_candidates(_batch(docs), owner, match)) == 0
    hub = np.zeros(20, dtype=bool)
    hub[7] = True  # document 7 is a news agency's copy
    pairs = reuse_candidates(_batch(docs), owner, match, hub=hub)
    assert sorted(map(tuple, pairs.tolist())) == sorted((min(i, 7), max(i, 7)) for i in range(20) if i != 7)


def test_copies_in_one_group_count_once_and_are_never_paired() -> None:
    docs = [list(range(0, 40)), list(range(0, 40)), list(range(20, 60))]
    owner = np.array([0, 0, 2], dtype=np.int64)  # 0 and 1 are one group of copies
    pairs = reuse_candidates(_batch(docs), owner, MatchConfig())
    assert pairs.tolist() == [[0, 2]]  # the group's first member stands for it; 0-1 never paired


def test_too_few_shared_fingerprints_make_no_candidate() -> None:
    docs = [list(range(0, 40)), [0, 1, *range(500, 540)]]
    assert len(reuse_candidates(_batch(docs), np.arange(2), MatchConfig(reuse_min_shared=3))) == 0
    assert len(reuse_candidates(_batch(docs), np.arange(2), MatchConfig(reuse_min_shared=2))) == 1


def test_quotes_wrap_lines_but_not_paragraphs() -> None:
    text = 'He said "I never saw\nthose notes" and left.\n\n"An open quote\n\nnever closed'
    assert [text[a:b] for a, b in quotes(text)] == ['"I never saw\nthose notes"']


def test_sentences_split_at_end_marks_and_lines() -> None:
    text = 'He said "no." Then he left!\nA new line. Last one'
    assert [text[a:b] for a, b in sentences(text)] == ['He said "no."', "Then he left!", "A new line.",
                                                      "Last one"]


def _sentences_by_finditer(text: str) -> list[tuple[int, int]]:
    """``derive.sentences`` as it was written first: every match of the pattern, in turn."""
    from provenance.derive import _SENTENCE_END

    bounds, pos = [], 0
    for m in _SENTENCE_END.finditer(text):
        end = m.start(1) if m.group(1) is not None else m.start(2)
        if end > pos:
            bounds.append((pos, end))
        pos = m.end()
    if pos < len(text):
        bounds.append((pos, len(text)))
    return bounds


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab .!?\n\t\"'”’\u2003\r")), max_size=60))
def test_sentences_are_the_patterns_matches(text: str) -> None:
    """The fast scan (first characters, then the pattern) finds what ``finditer`` finds."""
    assert sentences(text) == _sentences_by_finditer(text)


@settings(max_examples=60, deadline=None)
@given(texts, st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=12),
       st.integers(min_value=1, max_value=64))
def test_shared_fingerprints_of_many_pairs_are_each_pairs_intersection(
        batch_texts: list[str], pairs: list[tuple[int, int]], chunk: int) -> None:
    # Pairs are measured together, in chunks of rows: each must get its own set intersection.
    fp = Fingerprints.of(sign_texts(batch_texts, SignConfig()), 0.25)
    n = len(batch_texts)
    pairs = [(a % n, b % n) for a, b in pairs if a % n != b % n]
    left = np.array([a for a, _ in pairs], dtype=np.int64)
    right = np.array([b for _, b in pairs], dtype=np.int64)
    got: dict[int, set[tuple[int, int]]] = {k: set() for k in range(len(pairs))}
    covered = 0
    for first, last, pair, row_l, row_r in fp.shared(left, right, rows_per_chunk=chunk):
        assert first == covered and last > first
        covered = last
        for k, a, b in zip(pair.tolist(), row_l.tolist(), row_r.tolist(), strict=True):
            got[first + k].add((a, b))
    assert covered == len(pairs)
    for k, (a, b) in enumerate(pairs):
        ra, rb = fp.rows(a), fp.rows(b)
        _, at_a, at_b = np.intersect1d(fp.hash[ra], fp.hash[rb], assume_unique=True, return_indices=True)
        assert got[k] == {(ra.start + x, rb.start + y) for x, y in zip(at_a.tolist(), at_b.tolist(), strict=True)}


def test_a_batch_of_texts_with_no_word_but_non_ascii_characters_signs_to_nothing() -> None:
    # A corpus of one file holding only "— …" crashed the scan (IndexError in _batch_words).
    batch = sign_texts(["— …", "«»", ""], SignConfig())
    assert len(batch.f_hash) == 0 and batch.doc_words.tolist() == [0, 0, 0]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=0, max_value=2**32 - 1) | st.integers(min_value=0, max_value=40),
                         max_size=40, unique=True), min_size=2, max_size=30),
       st.lists(st.booleans(), min_size=30, max_size=30), st.floats(min_value=0, max_value=0.5))
def test_reuse_candidates_do_not_depend_on_how_the_fingerprints_are_split(
        docs: list[list[int]], agency: list[bool], min_share: float) -> None:
    # A million documents' fingerprints are grouped a part at a time, through files: the pairs
    # must be those of grouping them all at once.
    import provenance.derive as derive

    owner = np.arange(len(docs), dtype=np.int64)
    owner[1::3] = 0  # some documents in one group with the first
    hub = np.asarray(agency[:len(docs)], dtype=bool)
    match = MatchConfig(reuse_max_df=4, reuse_max_candidates=3)
    whole = reuse_candidates(_batch(docs), owner, match, min_share=min_share, hub=hub)
    saved = derive.REUSE_PART_ROWS
    try:
        derive.REUSE_PART_ROWS = 7  # many parts, each a file
        split = reuse_candidates(_batch(docs), owner, match, min_share=min_share, hub=hub)
    finally:
        derive.REUSE_PART_ROWS = saved
    assert split.tolist() == whole.tolist()


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_by_source_rank_is_the_order_of_source_rank(data: st.DataObject) -> None:
    from provenance.derive import by_source_rank, source_rank
    from provenance.records import CleanDoc, Derivation, Document

    n = data.draw(st.integers(2, 6))
    ids = data.draw(st.lists(st.text("abAB~#1", min_size=1, max_size=4), min_size=n, max_size=n, unique=True))
    cleaned = []
    for doc_id in ids:
        doc = Document(doc_id, "p", "text", "text", date=data.draw(st.sampled_from([None, "2024-01-02", "2024-01-03"])),
                       agency=data.draw(st.sampled_from([None, "Associated Press"])))
        cleaned.append(CleanDoc(doc, [(0, 4)], [], "text"))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    derivations = []
    for a, b in data.draw(st.lists(pairs, max_size=12)):
        d = Derivation(a, b, 0.5, 0.5, [])
        d.origin = data.draw(st.sampled_from([None, "a", "b"]))
        d.common_source = data.draw(st.sampled_from([None, "unnamed", "Reuters"]))
        d.score = data.draw(st.sampled_from([0.1, 0.5, 0.5, 1.0]))
        derivations.append(d)
    expected = sorted(range(len(derivations)), key=lambda k: source_rank(derivations[k], cleaned))
    assert by_source_rank(derivations, cleaned) == expected
    named = {x for d in derivations for x in (d.a, d.b)}  # as an executor holds them: those named
    assert by_source_rank(derivations, {x: cleaned[x] for x in named}) == expected  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_keep_best_keeps_each_copys_best_sources_in_rank_order(data: st.DataObject) -> None:
    """``best_indices`` walks the derivations in ``by_source_rank`` order and keeps one while a
    copy of it (``copies``: the side that is not the origin, both when none is) has fewer than
    ``per_copy`` kept."""
    from provenance.derive import best_indices, by_source_rank, copies
    from provenance.records import CleanDoc, Derivation, Document

    n = data.draw(st.integers(2, 6))
    cleaned = [CleanDoc(Document(f"d{i}", "p", "t", "text"), [(0, 1)], [], "t") for i in range(n)]
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    derivations = []
    for a, b in data.draw(st.lists(pairs, max_size=25)):
        d = Derivation(a, b, 0.5, 0.5, [], score=data.draw(st.sampled_from([0.1, 0.4, 0.9])))
        d.origin = data.draw(st.sampled_from([None, "a", "b"]))
        derivations.append(d)
    per_copy = data.draw(st.integers(1, 3))
    taken: dict[int, int] = {}
    expected = []
    for k in by_source_rank(derivations, cleaned):
        sides = copies(derivations[k])
        if any(taken.get(c, 0) < per_copy for c in sides):
            expected.append(k)
            for c in sides:
                taken[c] = taken.get(c, 0) + 1
    assert best_indices(derivations, cleaned, per_copy) == sorted(expected)
