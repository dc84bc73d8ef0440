"""Repetition inside one file or across thousands of documents (issues 12 and 13).

Each case is small (5,000 repeats) but would enumerate millions of pairs if a
bucket were paired member by member; the assertions are on the structure of
the result, never on time.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from provenance import Config, run, sign
from provenance.config import MatchConfig, SignConfig
from provenance.match import band_pairs, families
from provenance.render.report import to_json
from provenance.sign import sign_texts

PARAGRAPH = ("It is worth noting that the Iranian Regime did not halt its missile programme following"
             " the 2015 deal, and evidence from the NCRI and People's Mojahedin Organization of Iran"
             " (PMOI/MEK) reveals that Iran is actually working with North Korea on nuclear technology"
             " and has secret nuclear sites.")
REPEATS = 5_000
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo",
         "lima", "mike"]


def _unique_sentence(i: int) -> str:
    rng = np.random.default_rng(i)
    return f"The unique note number {i} says " + " ".join(rng.choice(WORDS, 12)) + "."


def test_a_paragraph_repeated_in_one_file_is_one_passage(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [(PARAGRAPH + "\n") * REPEATS, (PARAGRAPH + "\n\n") * 3 + "Tail words here."]
    batch = sign_texts(texts, SignConfig())
    assert batch.p_doc.tolist() == [0, 1, 1]  # one occurrence each; the second text's tail stays
    single = sign_texts([PARAGRAPH], SignConfig())
    assert np.array_equal(batch.p_values[0], single.p_values[0])
    # the long text is signed over its distinct shingles: the same values as over all of them
    monkeypatch.setattr(sign, "LONG_TEXT_WORDS", 1 << 40)
    assert np.array_equal(sign_texts(texts, SignConfig()).doc_values, batch.doc_values)


def test_repeated_lines_scan_to_one_document_without_findings(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text((PARAGRAPH + "\n") * REPEATS, encoding="utf-8")
    report = run([tmp_path], Config(), jobs=1)
    assert len(report.cleaned) == 1 and not report.groups and not report.matches


def test_identical_records_are_one_group_paired_with_its_first(tmp_path: Path) -> None:
    lines = [json.dumps({"id": f"r{i}", "text": PARAGRAPH}) for i in range(REPEATS)]
    (tmp_path / "c.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run([tmp_path], Config(), jobs=1)
    assert len(report.groups) == 1
    group = report.groups[0]
    assert group.members == list(range(REPEATS))
    assert [(p.a, p.b) for p in group.pairs] == [(0, m) for m in range(1, REPEATS)]  # not every pair
    assert all(p.similarity == 100.0 for p in group.pairs)
    assert not report.matches
    data = json.loads(to_json(report))
    assert len(data["groups"][0]["pairs"]) == REPEATS - 1


def test_records_sharing_a_paragraph_give_a_bounded_report(tmp_path: Path) -> None:
    lines = [json.dumps({"id": f"r{i}", "text": PARAGRAPH + "\n\n" + _unique_sentence(i)})
             for i in range(REPEATS)]
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = to_json(run([tmp_path], Config(), jobs=1))
    data = json.loads(first)
    grouped = sum(len(g["documents"]) for g in data["groups"])
    pairs = sum(len(g["pairs"]) for g in data["groups"])
    assert grouped >= REPEATS - 10  # nearly all in a family
    assert pairs <= 2 * REPEATS  # about one pair per member, not one per pair of members
    assert len(data["matches"]) <= 2 * REPEATS
    assert to_json(run([tmp_path], Config(), jobs=1)) == first  # deterministic


def test_a_crowded_bucket_is_paired_through_its_representative() -> None:
    values = np.zeros((1000, 16), dtype=np.uint32)  # one bucket in every band
    pairs = band_pairs(values, 4, 4, cap=5, crowd=100)
    assert pairs.tolist() == [[0, i] for i in range(1, 1000)]
    owner = np.arange(1000) // 2  # two rows per owner: row 1 is paired with the first row of another
    pairs = band_pairs(values, 4, 4, cap=5, owner=owner, crowd=100)
    assert pairs.tolist() == [*[[0, i] for i in range(2, 1000)], [1, 2]]
    # below the crowd, the cap's pairing is unchanged
    assert len(band_pairs(values[:50], 4, 4, cap=5, crowd=100)) == 5 * 49 - (1 + 2 + 3 + 4 + 5) + 5


def test_families_join_buckets_of_different_bands() -> None:
    crowds = np.array([[0, 5], [0, 7], [1 << 32, 7], [1 << 32, 9], [2 << 32, 20], [2 << 32, 21]])
    assert families(crowds).tolist() == [[5, 7], [5, 9], [20, 21]]


def test_crowd_is_a_parameter_and_recorded() -> None:
    assert MatchConfig().max_bucket_crowd == 200
    assert Config().as_dict()["match"]["max_bucket_crowd"] == 200
