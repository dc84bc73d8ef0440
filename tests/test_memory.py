"""Structure that keeps memory per document small (issue 12): no timing or RSS is measured here."""

from __future__ import annotations

import pickle
from pathlib import Path

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


_PAGE = """<!DOCTYPE html><html><head><title>Rail fares to rise</title>
<meta property="article:published_time" content="2024-03-0{n}"></head>
<body><nav><ul><li>Home</li><li>News</li></ul></nav><article><h1>Rail fares to rise</h1>
<p>Rail fares in England and Wales will rise by an average of 4.9% in March, the government
has confirmed, the biggest increase for more than a decade.</p>
<p>Passenger groups said the rise would <a href="/fares">hit commuters</a> hardest, while the
Department for Transport said it had capped the increase below inflation.</p></article>
<footer>Copyright 2024 Example Times</footer></body></html>"""


def test_cleaning_html_pages_leaves_no_reference_cycles(tmp_path: Path) -> None:
    """The driver cleans batches too (``pool.ordered_map``), inside ``read_clean.gather``, whose
    cycle collector is off for the whole ingest: garbage in cycles there (lxml's parser and its
    parse context refer to each other, and so kept each page's ``_Builder`` with all its text and
    blocks) would pile up until the ingest ends."""
    import gc

    from provenance.config import Config
    from provenance.outlets import Outlets
    from provenance.read_clean import clean_files
    from provenance.runtime.pool import call

    files = []
    for n in range(1, 10):
        path = tmp_path / f"page{n}.html"
        path.write_text(_PAGE.format(n=n), encoding="utf-8")
        files.append((str(path), path.name))
    config, outlets = Config(), Outlets()
    call(clean_files, files[:1], config, outlets, True)  # imports, caches and the parser made once
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(3):
            done = call(clean_files, files, config, outlets, True)
            assert len(done.items) == 9
            del done
        left = gc.collect()
    finally:
        if was:
            gc.enable()
    assert left < 27, f"{left} objects in reference cycles after cleaning 27 pages"


def test_what_a_paused_block_made_is_moved_to_the_oldest_generation_and_still_collected() -> None:
    import gc
    import weakref

    from provenance.runtime.memory import paused

    class Node:
        pass

    gc.collect()
    with paused():
        records = [[n] for n in range(50_000)]  # tracked objects (lists), as a stage's records
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle, which only the collector can free
        gone = weakref.ref(a)
    assert gc.isenabled()
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(records[0]) in oldest and id(records[-1]) in oldest  # not left young, to be walked
    assert gc.get_freeze_count() == 0
    del a, b
    gc.collect()
    assert gone() is None  # still collected
    assert len(records) == 50_000


def test_a_programs_own_frozen_objects_stay_frozen() -> None:
    import gc

    from provenance.runtime.memory import paused

    gc.collect()
    kept = [["mine", n] for n in range(100)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with paused():
            made = [[n] for n in range(1_000)]
        assert gc.get_freeze_count() == frozen and kept and made
    finally:
        gc.unfreeze()
