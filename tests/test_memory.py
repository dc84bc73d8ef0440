"""Structure that keeps memory per document small (issue 12): no timing or RSS is measured here."""

from __future__ import annotations

import pickle

import numpy as np

from provenance.config import SignConfig
from provenance.records import CleanDoc, Document
from provenance.runtime.spill import SpillDir, SpillRef, raw_text, spill_both
from provenance.sign import sign_texts
from provenance.signatures import BatchJoiner, SignedBatch


def test_documents_and_cleaned_documents_have_no_instance_dict() -> None:
    doc = Document("a", "p", "some text", "text")
    clean = CleanDoc(doc, [(0, 9)], [], "some text")
    assert not hasattr(doc, "__dict__")
    assert not hasattr(clean, "__dict__")


def test_a_text_cleaning_left_whole_is_spilled_once_and_pickles_unread() -> None:
    spill_dir = SpillDir()
    clean = CleanDoc(Document("a", "p", "eight words of a tiny record right here", "text"),
                     [(0, 39)], [], "eight words of a tiny record right here")
    spill_both(clean, spill_dir)
    assert isinstance(raw_text(clean), SpillRef)
    assert raw_text(clean) is raw_text(clean.doc)
    back = pickle.loads(pickle.dumps(clean))
    assert raw_text(back) is raw_text(back.doc)  # still one reference, and never read to pickle
    assert back.text == back.doc.text == clean.text


def test_a_passage_that_is_its_whole_document_stores_no_values_of_its_own() -> None:
    cfg = SignConfig()
    texts = ["one two three four five six seven eight", "a short one",
             "\n".join(" ".join(f"w{p}x{i}" for i in range(40)) for p in range(3))]
    batch = sign_texts(texts, cfg)
    whole = batch.whole
    assert whole[:2].tolist() == [True, True] and not whole[2:].any()
    assert len(batch.p_own) == int((~whole).sum())
    values = batch.p_values
    assert np.array_equal(values[whole], batch.doc_values[batch.p_doc[whole]])


def test_joined_signatures_grow_in_place_without_a_second_copy() -> None:
    cfg = SignConfig()
    parts = [sign_texts([f"text {k} number {i} of the batch with some words" for i in range(5)], cfg)
             for k in range(4)]
    joiner = BatchJoiner(cfg.num_perm, docs=20)
    joiner.add(parts[0])
    first = joiner.arrays["doc_values"]
    for part in parts[1:]:
        joiner.add(part)
        assert joiner.arrays["doc_values"] is first  # written into the array reserved for every document
    joined = joiner.result()
    for k, part in enumerate(parts):
        part.shift(5 * k)
    expected = SignedBatch(*(np.concatenate([getattr(p, f) for p in parts]) for f in SignedBatch._FIELDS))
    for name in SignedBatch._FIELDS:
        assert np.array_equal(getattr(joined, name), getattr(expected, name)), name
