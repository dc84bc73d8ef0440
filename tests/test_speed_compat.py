"""The fast paths give exactly what the plain ones gave.

Vectorised signing equals datasketch's ``MinHash.bulk`` over the same shingle
sets; the numpy xxh32 equals xxhash; numpy banding equals datasketch's
``MinHashLSH`` query-then-insert loop with its cap; and a run is the same
with one process and with several.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xxhash
from datasketch import MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance import Config, derive, match, read_clean, run, sign, verify
from provenance.bands import banding
from provenance.config import MatchConfig, SignConfig
from provenance.match import band_pairs, document_candidates, passage_candidates
from provenance.records import CleanDoc, Document
from provenance.render.report import to_json
from provenance.runtime import forked
from provenance.runtime import pool as parallel
from provenance.shingles import batch_words, shingle_array, word_hashes, words_with_spans, xxh32_rows
from provenance.sign import passages_of, sign_texts

from .conftest import SAMPLES, python_output
from .signed import Signed, sign_docs

SIGN = SignConfig()
ODD_TEXTS = [
    "", "... !!!", "one", "one two", "a b c d e", "a b c d e f",
    "Ünïcødé ﬁne Straße ½ words here and there\nnew line ﬁ İstanbul ÀÉÎ",
    "a\n\nb c d e f g\nh", "x " * 500, "word_with_underscore 123 4.5\r\nnext\tline",
    "日本語のテキスト と English mixed\nĲ ǅ ﬀ", "\ud800 lone surrogate words here",
]


def _bare(text: str, doc_id: str = "x") -> CleanDoc:
    return CleanDoc(Document(id=doc_id, path=doc_id, text=text, kind="text"), [(0, len(text))], [], text)


@pytest.fixture(scope="module")
def texts() -> list[str]:
    report = run([SAMPLES], Config())
    return [c.text for c in report.cleaned] + ODD_TEXTS


def _identity(value: int) -> int:
    return int(value)


def _distinct_passages(text: str, cfg: SignConfig) -> list:
    """``passages_of``, each repeated passage (the same words again in the document) only once."""
    tokens = words_with_spans(text)
    hashes = word_hashes([t[0] for t in tokens], cfg.seed)
    seen: set[bytes] = set()
    out = []
    for p in passages_of(_bare(text), 0, cfg, tokens):
        words = hashes[p.first:p.last].tobytes()
        if words not in seen:
            seen.add(words)
            out.append(p)
    return out


def _reference(text: str, cfg: SignConfig) -> tuple[np.ndarray, list[np.ndarray]]:
    """The shingle sets of a document and its distinct passages, built word by word (the old ``sign``)."""
    tokens = words_with_spans(text)
    hashes = word_hashes([t[0] for t in tokens], cfg.seed)
    shingles = shingle_array(hashes, cfg.shingle_size)
    sets = []
    for p in _distinct_passages(text, cfg):
        if p.last - p.first >= cfg.shingle_size:
            sets.append(np.unique(shingles[p.first:p.last - cfg.shingle_size + 1]))
        else:
            sets.append(np.unique(shingle_array(hashes[p.first:p.last], cfg.shingle_size)))
    return np.unique(shingles), sets


@pytest.mark.parametrize("cfg", [SIGN, SignConfig(shingle_size=3, num_perm=64, seed=7),
                                 SignConfig(shingle_size=1, passage_min_words=4, passage_max_words=10,
                                            passage_stride=3)])
def test_sign_texts_equals_minhash_bulk(texts: list[str], cfg: SignConfig) -> None:
    batch = sign_texts(texts, cfg)
    bounds = batch.passage_bounds()
    for i, text in enumerate(texts):
        doc_set, passage_sets = _reference(text, cfg)
        expected = MinHash.bulk([doc_set, *passage_sets], num_perm=cfg.num_perm, seed=cfg.seed,
                                hashfunc=_identity)
        assert np.array_equal(batch.doc_values[i], expected[0].hashvalues), text[:40]
        rows = range(bounds[i], bounds[i + 1])
        assert len(rows) == len(passage_sets)
        for row, mh in zip(rows, expected[1:], strict=True):
            assert np.array_equal(batch.p_values[row], mh.hashvalues), (text[:40], row)
        for p, row in zip(_distinct_passages(text, cfg), rows, strict=True):
            assert (p.start, p.end, p.first, p.last) == (batch.p_start[row], batch.p_end[row],
                                                         batch.p_first[row], batch.p_last[row])


def test_batches_do_not_change_signatures(texts: list[str]) -> None:
    whole = sign_texts(texts, SIGN)
    for i in range(0, len(texts), 4):
        part = sign_texts(texts[i:i + 4], SIGN)
        assert np.array_equal(part.doc_values, whole.doc_values[i:i + 4])


def test_signatures_are_datasketch_minhashes_usable_in_its_lsh(texts: list[str]) -> None:
    sigs = sign_docs([_bare(t, str(n)) for n, t in enumerate(texts)], SIGN)
    for sig, text in zip(sigs, texts, strict=True):
        doc_set, _ = _reference(text, SIGN)
        expected = MinHash.bulk([doc_set], num_perm=SIGN.num_perm, seed=SIGN.seed, hashfunc=_identity)[0]
        assert sig.minhash == expected and sig.minhash.scheme == expected.scheme == "affine32"
        assert np.array_equal(sig.shingles, doc_set)
    lsh = MinHashLSH(threshold=0.5, num_perm=SIGN.num_perm)
    lsh.insert("a", sigs[0].minhash)
    assert "a" in lsh.query(sigs[0].minhash)


@pytest.mark.parametrize("length", [*range(1, 40), 64, 65, 100])
def test_xxh32_rows_equals_xxhash(length: int) -> None:
    rng = random.Random(length)
    words = [bytes(rng.randrange(256) for _ in range(length)) for _ in range(20)]
    m = np.array([list(w) for w in words], dtype=np.uint32)
    for seed in (0, 1, 7, 2**32 - 1):
        assert xxh32_rows(m, seed).tolist() == [xxhash.xxh32_intdigest(w, seed) for w in words]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.one_of(st.sampled_from("AbZz09_ \n\t.,'-\"ÿÉéßŁłİıǅﬁ²½\u0301\u200b"),
                                  st.characters()), max_size=60))
def test_batch_words_are_the_words_and_hashes_of_words_with_spans(text: str) -> None:
    starts, ends, hashes, newlines = batch_words(text, 7)
    words = words_with_spans(text)
    assert [(s, e) for _, s, e in words] == list(zip(starts.tolist(), ends.tolist(), strict=True))
    assert hashes.tolist() == word_hashes([w for w, _, _ in words], 7).tolist()
    assert newlines.tolist() == [i for i, c in enumerate(text) if c == "\n"]


def _lsh_documents(sigs: Signed, match: MatchConfig) -> list[tuple[int, int]]:
    """The datasketch loop ``match.document_candidates`` used to run."""
    lsh = MinHashLSH(threshold=match.doc_threshold, num_perm=SIGN.num_perm)
    pairs: set[tuple[int, int]] = set()
    for i, sig in enumerate(sigs):
        if len(sig.shingles) == 0:
            continue
        for j in sorted(lsh.query(sig.minhash))[: match.max_candidates_per_item]:
            pairs.add((j, i))
        lsh.insert(i, sig.minhash, check_duplication=False)
    return sorted(pairs)


def _lsh_passages(sigs: Signed, match: MatchConfig) -> list:
    lsh = MinHashLSH(threshold=match.passage_threshold, num_perm=SIGN.num_perm)
    pairs: set = set()
    for i, sig in enumerate(sigs):
        keys = []
        for passage, mh in zip(sig.passages, sig.passage_minhashes, strict=False):
            key = (i, passage.number)
            found = sorted(k for k in lsh.query(mh) if k[0] != i)
            for other in found[: match.max_candidates_per_item]:
                pairs.add((other, key))
            keys.append((key, mh))
        for key, mh in keys:
            lsh.insert(key, mh, check_duplication=False)
    return sorted(pairs)


@pytest.mark.parametrize("cap", [200, 3, 1])
def test_banding_equals_datasketch_lsh(texts: list[str], cap: int) -> None:
    # copies and near-copies, many in one bucket, so that the cap matters
    extra = [texts[0]] * 6 + [texts[1] + " extra words at the end"] * 4
    docs = [_bare(t, str(n)) for n, t in enumerate(texts + extra)]
    sigs = sign_docs(docs, SIGN)
    match = MatchConfig(max_candidates_per_item=cap, min_estimate_share=0)
    assert document_candidates(sigs.batch, match, SIGN) == _lsh_documents(sigs, match)
    assert passage_candidates(sigs.batch, match, SIGN) == _lsh_passages(sigs, match)


def test_band_pairs_on_a_huge_bucket_keeps_the_earliest() -> None:
    values = np.zeros((1000, 16), dtype=np.uint32)
    pairs = band_pairs(values, 4, 4, cap=5)
    assert len(pairs) == 5 * 999 - (1 + 2 + 3 + 4 + 5) + 5  # each i pairs with min(i, 5) earlier rows
    assert pairs[:, 0].max() == 4


@pytest.mark.parametrize("cap", [200, 2])
def test_band_pairs_shared_among_processes_equal_one_process(cap: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bands shared out among workers give the same capped pairs as one loop over them all."""
    from provenance import match

    rng = np.random.default_rng(7)
    values = rng.integers(0, 50, size=(3000, 32), dtype=np.uint32)  # small alphabet: many buckets
    values[100:140] = values[5]  # a crowd of copies, so the cap matters
    owner = np.arange(3000) // 3
    serial = band_pairs(values, 8, 4, cap, owner=owner, min_agree=4)
    monkeypatch.setattr(match, "PARALLEL_ROWS", 0)
    seen: list[tuple[int, int]] = []
    shared = band_pairs(values, 8, 4, cap, owner=owner, min_agree=4, jobs=2,
                        progress=lambda done, total: seen.append((done, total)))
    assert len(serial) >= 80  # the crowd, at least
    assert np.array_equal(shared, serial)
    assert seen[-1] == (8, 8) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def _corpus(tmp: Path) -> list[Path]:
    folder = tmp / "in"
    folder.mkdir()
    lines = []
    for n in range(12):
        text = " ".join(f"word{(n * 7 + k) % 50}" for k in range(60))
        lines.append({"id": "same" if n % 3 == 0 else f"r{n}", "text": text, "outlet": None})
    lines.append({"id": "bad"})
    (folder / "a.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n{broken\n",
                                    encoding="utf-8")
    (folder / "b.jsonl").write_text("", encoding="utf-8")
    (folder / "c.txt").write_text(" ".join(f"word{k % 50}" for k in range(60)), encoding="utf-8")
    (folder / "outlets.json").write_text(json.dumps({"paths": {"a.jsonl#same~2": "Second"}}),
                                         encoding="utf-8")
    # an outlet's masthead on each of its pages: the template stage changes these texts after
    # the workers have signed them, so they are signed again
    seed = (SAMPLES / "seeds" / "001_64fc29aab0a0f312.txt").read_text(encoding="utf-8")
    bodies = [p for p in seed.split("\n") if len(p.split()) > 40]
    (folder / "ledger").mkdir()
    for n, body in enumerate(bodies[:4]):
        (folder / "ledger" / f"page-{n}.txt").write_text(
            "The Valley Ledger is owned by its readers and answers to nobody.\n"
            "Letters to the editor reach the desk on Fridays and run in the weekend edition.\n"
            f"\nPage {n}\n\n{body}\n",
            encoding="utf-8")
    return [folder, SAMPLES, tmp / "missing.txt"]


@pytest.mark.parametrize(("forking", "jobs"), [(False, 2), (True, 2), (True, 3)],
                         ids=["pool", "forked", "forked-3"])
def test_jobs_do_not_change_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forking: bool,
                                       jobs: int) -> None:
    """The worker pool's shares, and (``forking``) the find stages shared with forked copies of
    the run (``runtime.forked``, ``jobs - 1`` copies a stage), give the report of one process."""
    paths = _corpus(tmp_path)
    serial = to_json(run(paths, Config(), jobs=1))
    monkeypatch.setattr(forked, "MIN_DOCS", 0 if forking else 10**9)
    started: list[str] = []
    start = forked.start

    def counted(fn: Any, *args: Any, **how: Any) -> Any:
        started.append(fn.__name__)
        return start(fn, *args, **how)

    monkeypatch.setattr(forked, "start", counted)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(read_clean, "RECORDS_PER_BATCH", 2)
    monkeypatch.setattr(read_clean, "FILES_PER_BATCH", 2)
    monkeypatch.setattr(sign, "TEXTS_PER_BATCH", 3)
    monkeypatch.setattr(verify, "PARALLEL_PAIRS", 0)  # verification and banding in workers too
    monkeypatch.setattr(verify, "PAIRS_PER_SHARE", 1)
    monkeypatch.setattr(match, "PARALLEL_ROWS", 0)
    monkeypatch.setattr(derive, "PARALLEL_REWRITES", 0)  # rewrites measured in shares, in workers
    monkeypatch.setattr(derive, "REWRITES_PER_SHARE", 1)
    assert to_json(run(paths, Config(), jobs=jobs)) == serial
    # each stage shared out with jobs - 1 forked copies, the passage stage with one; or none
    assert sorted(started) == (sorted(["recorded_passage_stage"] + (jobs - 1) * [
        "verify_documents_parallel", "measured_and_attributed", "aligned_sentences"]) if forking else [])
    found = json.loads(serial)
    assert len(found["groups"]) >= 2 and len(found["matches"]) >= 2 and len(found["derivations"]) >= 2
    assert '"Second"' in serial  # the renamed id's outlet came from the outlets file
    assert serial.count('"reason": "template"') >= 8  # the ledger's masthead, cut after signing


def test_every_stage_reports_progress() -> None:
    """Files are signed as they are read and cleaned (``read_clean``), with any number of jobs;
    texts handed over in memory are signed as a stage of their own."""
    from provenance.pipeline import run_records

    seen: dict[str, list[tuple[int, int | None]]] = {}
    run([SAMPLES], Config(),
        progress=lambda stage, done, total: seen.setdefault(stage, []).append((done, total)))
    assert list(seen) == ["read and clean", "match documents", "verify documents",
                          "verify rewrites", "match passages", "verify passages"]
    records: dict[str, list[tuple[int, int | None]]] = {}
    run_records(["one text of a few words here", "and another text of a few words"], Config(),
                progress=lambda stage, done, total: records.setdefault(stage, []).append((done, total)))
    assert list(records)[:2] == ["read and clean", "sign"]
    assert records["sign"][-1] == (2, 2)
    bands = banding(Config().match.passage_threshold, Config().sign.num_perm)[0]
    assert seen["match passages"][-1] == (bands, bands)
    assert seen["read and clean"][-1][0] >= 15  # every document read, counted as it comes
    for stage in ("verify documents", "verify rewrites", "verify passages"):
        done, total = seen[stage][-1]
        assert done == total


def test_signed_batch_replace_equals_signing_the_changed_texts(texts: list[str]) -> None:
    before = texts[:12]
    after = list(before)
    changed = [1, 4, 5, 11]
    for i in changed:  # what the template stage does: a line or two cut
        after[i] = "\n".join(before[i].split("\n")[2:])
    after[5] = ""  # a document left empty
    patched = sign_texts(before, SIGN).replace(changed, sign_texts([after[i] for i in changed], SIGN))
    fresh = sign_texts(after, SIGN)
    for name in ("doc_values", "doc_words", "p_doc", "p_start", "p_end", "p_first", "p_last", "p_values"):
        assert np.array_equal(getattr(patched, name), getattr(fresh, name)), name


@pytest.mark.parametrize("num_perm", [16, 100, 128, 256])
@pytest.mark.parametrize("seed", [0, 1, 42, 12345])
def test_permutations_are_datasketchs(num_perm: int, seed: int) -> None:
    """``sign.permutations`` draws datasketch's affine32 parameters without importing it."""
    from provenance.sign import permutations

    ours = permutations(num_perm, seed)
    theirs = np.asarray(MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations, dtype=np.uint32)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    assert np.array_equal(ours, theirs)


def test_signing_and_the_pipeline_do_not_import_datasketch() -> None:
    """Issue 17: scipy (through datasketch) was half a second of every run's start and every worker's."""
    probe = ("import sys\nfrom provenance.pipeline import run\nfrom provenance.config import Config\n"
             "from provenance.sign import sign_texts\nsign_texts(['one two three four five six'], Config().sign)\n"
             "print(sorted(m for m in ('datasketch', 'scipy') if m in sys.modules))")
    assert python_output(probe) == "[]"


def _hostile_folder(tmp: Path) -> list[Path]:
    """Good files and bad: a JSON Lines file with broken and repeated records, an unsupported
    file, a hidden one, a link out of the folder and a broken one, a file named twice, a path
    that is not there."""
    folder = tmp / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("A plain story of the town council and its budget for the year.\n")
    (folder / "sub" / "a.txt").write_text("The same name in another folder, with other words in it.\n")
    (folder / "page.html").write_text("<html><body><p>A page about the harbour and its boats.</p></body></html>")
    lines = [json.dumps({"id": "r", "text": "The first record of the file, about the river."}), "{not json",
             json.dumps({"id": "r", "text": "A record with the same id as the first one."}),
             json.dumps({"text": 5}), json.dumps({"id": "s", "text": "Last record, about the hills."})]
    (folder / "feed.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "notes.pdf").write_text("not read")
    (folder / ".hidden.txt").write_text("not read")
    (tmp / "outside.txt").write_text("outside the input folders")
    (folder / "link.txt").symlink_to(tmp / "outside.txt")
    (folder / "broken.txt").symlink_to(tmp / "nowhere.txt")
    return [folder, folder / "a.txt", tmp / "missing.txt"]


def test_one_read_path_gives_the_same_documents_and_skips_for_any_jobs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: the same batches, run in the driver or in workers, read the same documents
    with the same ids, and skip the same inputs for the same reasons, as ``read_paths`` does."""
    from provenance.ingest import read_paths
    from provenance.pipeline import read_and_clean
    from provenance.records import Skipped

    paths = _hostile_folder(tmp_path)

    def described(jobs: int) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
        read = read_and_clean(paths, Config(), jobs=jobs)
        return ([(c.doc.id, c.doc.path, c.text) for c in read.cleaned],
                [(s.path, s.reason) for s in read.skipped])

    one = described(1)
    monkeypatch.setattr(parallel, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(read_clean, "RECORDS_PER_BATCH", 1)
    monkeypatch.setattr(read_clean, "FILES_PER_BATCH", 1)
    assert described(2) == one
    items = list(read_paths(paths))
    assert [d.id for d in items if not isinstance(d, Skipped)] == [i for i, _, _ in one[0]]
    assert [(s.path, s.reason) for s in items if isinstance(s, Skipped)] == one[1]
    ids = [i for i, _, _ in one[0]]
    assert len(ids) == len(set(ids)) and "a.txt~2" in ids and "feed.jsonl#r~2" in ids
    reasons = " ".join(r for _, r in one[1])
    for why in ("unsupported file type", "hidden file", "outside the input folders", "broken",
                "no such file or folder", "malformed JSON"):
        assert why in reasons, why


def test_a_small_input_starts_no_worker_and_a_large_one_does() -> None:
    """Issue 17: below ``MIN_PARALLEL_BYTES`` the batches run in the driver, with no pool started;
    above it, ``jobs=2`` is the driver and one worker (the driver takes a batch when the worker is busy)."""
    probe = ("import sys, multiprocessing\nfrom provenance.pipeline import read_and_clean\n"
             "from provenance.config import Config\nfrom provenance.runtime import pool as parallel\n"
             "if sys.argv[1] == 'large':\n    parallel.MIN_PARALLEL_BYTES = 1\n"
             f"read = read_and_clean([{str(SAMPLES)!r}], Config(), jobs=2)\n"
             "print(len(read.cleaned), len(parallel._pools), len(multiprocessing.active_children()))")
    docs, pools, children = map(int, python_output(probe, "small").split())
    assert docs > 10 and pools == 0 and children == 0
    assert python_output(probe, "large").split() == [str(docs), "1", "1"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.tuples(st.integers(-50, 50), st.integers(0, 6)), st.text(max_size=3)),
                max_size=30),
       st.sampled_from([1, 2, 3]))
def test_ordered_map_keeps_the_order_whoever_runs_a_batch(batches: list[object], jobs: int) -> None:
    """Issue 17: batches run by the driver or by the workers, and records passed through as
    they are, come back in the order given, for any number of jobs."""
    expected = [pow(*b) if isinstance(b, tuple) else b for b in batches]
    assert list(parallel.ordered_map(pow, batches, jobs)) == expected
