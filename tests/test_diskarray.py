"""Signatures and fingerprints kept in files (issue 13's memory): the same arrays as in memory."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.config import SignConfig
from provenance.fingerprints import Fingerprints
from provenance.runtime import diskarray
from provenance.runtime.diskarray import Appender, Buckets, columns, is_mapped, rows, take, take_columns
from provenance.runtime.spill import SpillDir
from provenance.sign import sign_texts
from provenance.signatures import BatchJoiner, DiskJoiner, PassageRows, SignedBatch

WORDS = ["wire", "story", "court", "heard", "judge", "the", "a", "of", "bridge", "council", "said",
         "Leeds", "trial", "jury", "“quoted”", '"speech"', "paper", "ANSA", "città", "über"]
paragraph = st.lists(st.sampled_from(WORDS), min_size=0, max_size=40).map(" ".join)
text = st.lists(paragraph, min_size=1, max_size=4).map("\n".join)
CFG = SignConfig(num_perm=16, passage_min_words=3, passage_max_words=12, passage_stride=6)


def _fields(batch: SignedBatch) -> dict[str, np.ndarray]:
    return {name: np.asarray(getattr(batch, name)) for name in SignedBatch._FIELDS}


def _assert_same(a: SignedBatch, b: SignedBatch) -> None:
    fa, fb = _fields(a), _fields(b)
    for name in SignedBatch._FIELDS:
        assert fa[name].dtype == fb[name].dtype, name
        assert fa[name].shape == fb[name].shape, name
        assert np.array_equal(fa[name], fb[name]), name


def _joined(parts: list[list[str]], folder: str | None) -> SignedBatch:
    joined = DiskJoiner(CFG.num_perm, folder) if folder else BatchJoiner(CFG.num_perm)
    for part in parts:
        joined.add(sign_texts(part, CFG))
    return joined.result()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(text, min_size=1, max_size=4), min_size=1, max_size=4), st.data())
def test_a_batch_on_disk_holds_and_replaces_what_one_in_memory_does(parts: list[list[str]],
                                                                    data: st.DataObject) -> None:
    spill = SpillDir()
    saved = diskarray.CHUNK_BYTES
    diskarray.CHUNK_BYTES = 48  # a document's fingerprints run over several pieces
    try:
        memory, disk = _joined(parts, None), _joined(parts, spill.path)
        assert disk.folder == spill.path and is_mapped(disk.f_hash) == (len(disk.f_hash) > 0)
        _assert_same(memory, disk)
        n = len(memory.doc_values)
        docs = sorted(data.draw(st.sets(st.integers(0, n - 1), max_size=n)))
        new_texts = [data.draw(text) for _ in docs]
        new = sign_texts(new_texts, CFG)
        _assert_same(memory.replace(docs, new), disk.replace(docs, new))
        want, got = Fingerprints.of(memory, 0.3), Fingerprints.of(disk, 0.3)  # sums that round
        for name in ("hash", "start", "weight", "bounds", "total"):
            assert np.array_equal(np.asarray(getattr(want, name)), np.asarray(getattr(got, name))), name
        some = np.asarray(docs, dtype=np.int64)  # measuring reads the candidates' rows only
        part = Fingerprints.of(disk, 0.3, docs=some)
        assert np.array_equal(part.total, want.total)
        for d in range(n):
            for name in ("hash", "start", "weight"):
                got_rows = getattr(part, name)[part.rows(d)]
                assert np.array_equal(got_rows, getattr(want, name)[want.rows(d)] if d in docs else got_rows[:0])
    finally:
        diskarray.CHUNK_BYTES = saved
        spill.close()
    assert not os.path.exists(spill.path)


def test_passage_rows_read_from_files_as_from_memory(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    base = rng.integers(0, 2**32, size=(50, 16), dtype=np.uint32)
    base[7] = 0xFFFFFFFF
    whole = rng.random(120) < 0.4
    base_row = np.sort(rng.integers(0, 50, size=120))
    own = rng.integers(0, 2**32, size=(int((~whole).sum()), 16), dtype=np.uint32)
    own[3] = 0xFFFFFFFF
    out = Appender(str(tmp_path / "own.bin"), np.uint32, (16,))
    out.add(own[:10])
    out.add(own[10:])
    mapped = out.open()
    assert is_mapped(mapped)
    a, b = PassageRows(base, base_row, whole, own), PassageRows(base, base_row, whole, mapped)
    for lo, hi in [(0, 3), (5, 16), (15, 16)]:
        assert np.array_equal(a.columns(lo, hi), b.columns(lo, hi))
    picks = rng.integers(0, 120, size=300)
    assert np.array_equal(a.take(picks), b.take(picks))
    assert np.array_equal(a.nonempty(), b.nonempty())
    keep = np.flatnonzero(rng.random(120) < 0.7)
    sa, sb = a.subset(keep), b.subset(keep)
    assert is_mapped(sb.own) and np.array_equal(sa.own, sb.own)
    folder = tmp_path / "saved"
    folder.mkdir()
    b.save(str(folder))
    loaded = PassageRows.load(str(folder))
    assert is_mapped(loaded.own) and np.array_equal(loaded.columns(2, 9), a.columns(2, 9))
    assert np.array_equal(loaded.take(picks), a.take(picks))


def test_readers_of_a_mapped_file_keep_no_page_resident(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diskarray, "CHUNK_BYTES", 4096 * 4)
    monkeypatch.setattr(diskarray, "TAKE_ROWS", 64)
    values = np.arange(200_000 * 8, dtype=np.uint32).reshape(-1, 8)
    out = Appender(str(tmp_path / "v.bin"), np.uint32, (8,))
    out.add(values)
    mapped = out.open()
    assert np.array_equal(columns(mapped, 2, 5), values[:, 2:5])
    assert np.array_equal(rows(mapped, 1000, 1234), values[1000:1234])
    at = np.random.default_rng(1).integers(0, len(values), size=5000)
    assert np.array_equal(take(mapped, at), values[at])
    assert np.array_equal(take_columns(mapped, at, 1, 4), values[at, 1:4])
    assert _resident(mapped) <= 64 * 2  # what one gather touched, at most; never the file's 1,600 pages


def _resident(array: np.ndarray) -> int:
    """Pages of ``array``'s map resident in this process (``mincore`` is not in Python: /proc)."""
    path = os.path.realpath(str(array.filename))  # type: ignore[attr-defined]
    with open("/proc/self/smaps") as handle:
        lines = handle.read().splitlines()
    for k, line in enumerate(lines):
        if line.endswith(path):
            for follow in lines[k + 1:]:
                if follow.startswith("Rss:"):
                    return int(follow.split()[1]) // 4
    return 0


@given(st.lists(st.integers(min_value=-(2**62), max_value=2**62), max_size=300), st.integers(1, 5))
@settings(max_examples=30, deadline=None)
def test_buckets_give_back_each_value_once(values: list[int], bits: int) -> None:
    array = np.asarray(values, dtype=np.int64)
    count = 1 << bits
    with Buckets(count) as buckets:
        for lo in range(0, len(array), 37):
            part = array[lo:lo + 37]
            buckets.add(part, part & (count - 1))
        back = [buckets.take(k) for k in range(count)]
        folder = buckets._folder.path
    assert not os.path.exists(folder)
    assert sorted(np.concatenate(back).tolist()) == sorted(values)
    for k, got in enumerate(back):
        assert np.all((got & (count - 1)) == k)


@pytest.mark.parametrize("width", [16, 13, 3])
def test_a_band_major_copy_gives_the_columns_of_the_rows(tmp_path: Path, width: int,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diskarray, "CHUNK_BYTES", 4096)
    values = np.random.default_rng(5).integers(0, 2**32, size=(3000, width), dtype=np.uint32)
    out = Appender(str(tmp_path / "v.bin"), np.uint32, (width,))
    out.add(values)
    for name, array in (("mapped", out.open()), ("memory", values)):
        diskarray.save(str(tmp_path), name, array, band_major=True)
        loaded = diskarray.load(str(tmp_path), name)
        assert getattr(loaded, diskarray.GROUPED) is not None
        for lo in range(width):
            for hi in range(lo + 1, width + 1):
                assert np.array_equal(columns(loaded, lo, hi), values[:, lo:hi])
        at = np.array([5, 0, 2999, 5, 17])
        assert np.array_equal(take_columns(loaded, at, 1, 3), values[at, 1:3])
        assert np.array_equal(take(loaded, at), values[at])


@pytest.mark.parametrize("min_agree", [1, 5, 9, 16])
def test_agreement_counted_a_column_group_at_a_time_is_the_same(tmp_path: Path, min_agree: int) -> None:
    from provenance.match import _agreeing, _in_files

    rng = np.random.default_rng(min_agree)
    base = rng.integers(0, 3, size=(40, 16), dtype=np.uint32)  # few values: many agree
    whole = rng.random(90) < 0.3
    base_row = np.sort(rng.integers(0, 40, size=90))
    own = rng.integers(0, 3, size=(int((~whole).sum()), 16), dtype=np.uint32)
    memory = PassageRows(base, base_row, whole, own)
    memory.save(str(tmp_path))
    files = PassageRows.load(str(tmp_path))
    assert _in_files(files) and not _in_files(memory)
    pairs = np.sort(rng.integers(0, 90, size=(500, 2)), axis=1)
    assert np.array_equal(_agreeing(files, pairs, min_agree), _agreeing(memory, pairs, min_agree))
    values = rng.integers(0, 3, size=(70, 13), dtype=np.uint32)
    diskarray.save(str(tmp_path), "values", values, band_major=True)
    loaded = diskarray.load(str(tmp_path), "values")
    pairs = np.sort(rng.integers(0, 70, size=(300, 2)), axis=1)
    assert np.array_equal(_agreeing(loaded, pairs, min_agree), _agreeing(values, pairs, min_agree))
