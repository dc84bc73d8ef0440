"""Texts spilled to disk: read back exactly, never kept in memory by a run, cleaned up after."""

from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance import Config, pipeline, run
from provenance.records import CleanDoc, Document
from provenance.render.report import to_json
from provenance.runtime.owner_lock import UNLOCKED_STALE_SECONDS
from provenance.runtime.spill import (
    LOCK_NAME,
    PREFIX,
    STAGING,
    SpillDir,
    SpillRef,
    Texts,
    raw_text,
    spill,
    text_length,
)

from .conftest import SAMPLES


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=8))
def test_spilled_texts_read_back_exactly(texts: list[str]) -> None:
    spill_dir = SpillDir()
    docs = [Document(id=str(i), path="p", text=t, kind="text") for i, t in enumerate(texts)]
    for d in docs:
        spill(d, spill_dir)
    assert all(isinstance(raw_text(d), SpillRef) for d in docs)
    assert [d.text for d in docs] == texts
    assert [text_length(d) for d in docs] == [len(t) for t in texts]


def test_a_reopened_file_appends_after_what_is_there(tmp_path: Path) -> None:
    spill_dir = SpillDir(str(tmp_path))
    first = spill_dir.write("first text")
    spill_dir.flush()
    spill_dir._out.close()
    spill_dir._out = None  # as a worker does when its handle went between batches
    spill_dir._cache.clear()
    second = spill_dir.write("second")
    assert (first.read(), second.read()) == ("first text", "second")


def test_a_ref_pickles_to_the_same_folder() -> None:
    spill_dir = SpillDir()
    clean = CleanDoc(Document("a", "p", "raw text", "text"), [(0, 8)], [], "raw text")
    spill(clean, spill_dir)
    back = pickle.loads(pickle.dumps(clean))
    assert raw_text(back).dir is spill_dir
    assert back == clean and back.text == "raw text"


def test_a_run_keeps_no_text_in_memory_and_the_report_is_the_same_for_any_jobs() -> None:
    serial = run([SAMPLES], Config(), jobs=1)
    parallel = run([SAMPLES], Config(), jobs=2)
    for report in (serial, parallel):
        assert report.cleaned
        for c in report.cleaned:
            assert isinstance(raw_text(c), SpillRef), c.doc.id
            assert isinstance(raw_text(c.doc), SpillRef), c.doc.id
    assert to_json(serial) == to_json(parallel)
    texts = Texts(serial.cleaned)
    assert texts[0] == serial.cleaned[0].text and texts[1:3] == [c.text for c in serial.cleaned[1:3]]


def test_the_folder_goes_with_the_last_document(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "SPILL_MIN_BYTES", 0)  # the seeds alone are a small input
    report = run([SAMPLES / "seeds"], Config(), jobs=1)
    folder = raw_text(report.cleaned[0]).dir.path
    assert os.path.isdir(folder) and os.listdir(folder)
    del report
    gc.collect()
    assert not os.path.exists(folder)


def test_a_small_input_keeps_its_texts_in_memory_and_reports_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    seeds = [SAMPLES / "seeds"]
    in_memory = run(seeds, Config(), jobs=1)
    assert all(isinstance(raw_text(c), str) and isinstance(raw_text(c.doc), str) for c in in_memory.cleaned)
    monkeypatch.setattr(pipeline, "SPILL_MIN_BYTES", 0)
    spilled = run(seeds, Config(), jobs=1)
    assert all(isinstance(raw_text(c), SpillRef) for c in spilled.cleaned)
    assert to_json(in_memory) == to_json(spilled)


def test_what_spills(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts spill when the input holds ``SPILL_MIN_BYTES`` or more, or may: standard input, a
    FIFO, a compressed file. The walk stops as soon as it knows."""
    (tmp_path / "a.txt").write_text("x" * 600, encoding="utf-8")
    (tmp_path / "b.txt").write_text("y" * 600, encoding="utf-8")
    cfg = Config()
    assert not pipeline.spills([tmp_path], cfg)
    monkeypatch.setattr(pipeline, "SPILL_MIN_BYTES", 1000)
    assert pipeline.spills([tmp_path], cfg)  # 1,200 bytes in two files
    assert not pipeline.spills([tmp_path / "a.txt", tmp_path / "missing.txt"], cfg)
    assert pipeline.spills([Path("-")], cfg)
    gz = tmp_path / "d" / "small.jsonl.gz"
    gz.parent.mkdir()
    gz.write_bytes(b"\x1f\x8b")
    assert pipeline.spills([gz.parent], cfg)
    warc = tmp_path / "w" / "crawl.warc"  # gzip inside, found by its magic: it inflates
    warc.parent.mkdir()
    warc.write_bytes(b"\x1f\x8b")
    assert pipeline.spills([warc.parent], cfg)
    fifo = tmp_path / "f" / "pipe.txt"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    assert pipeline.spills([fifo], cfg)


#: A run that keeps a spill folder open until its standard input closes, as a run would.
_OWNER = ("import sys\nfrom provenance.runtime.spill import SpillDir\n"
          "d = SpillDir(sys.argv[1]); d.write('kept on disk'); d.flush()\n"
          "print(d.path, flush=True); sys.stdin.read()")


def _owner(parent: Path) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen([sys.executable, "-c", _OWNER, str(parent)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def _another_run(parent: Path) -> None:
    """A second real process whose SpillDir cleans up ``parent`` first (then removes its own at exit)."""
    subprocess.run([sys.executable, "-c", "import sys\nfrom provenance.runtime.spill import SpillDir\n"
                    "SpillDir(sys.argv[1])", str(parent)], check=True, timeout=60)


def test_a_live_owners_folder_is_kept_and_a_killed_ones_removed(tmp_path: Path) -> None:
    live, live_folder = _owner(tmp_path)
    killed, killed_folder = _owner(tmp_path)
    try:
        assert live_folder.is_dir() and killed_folder.is_dir()
        assert live_folder.name.startswith(PREFIX) and (live_folder / LOCK_NAME).exists()
        _another_run(tmp_path)
        assert live_folder.is_dir() and killed_folder.is_dir()  # both owners alive: both kept
        killed.kill()
        killed.wait(timeout=30)
        assert killed_folder.is_dir()  # nothing cleaned it up ...
        _another_run(tmp_path)
        assert not killed_folder.exists()  # ... until the next run
        assert live_folder.is_dir() and os.listdir(live_folder)
    finally:
        live.communicate(timeout=30)  # its stdin closes: it exits and removes its own folder
        killed.kill()
    assert live.returncode == 0
    assert not live_folder.exists()
    assert os.listdir(tmp_path) == []


def test_a_live_owner_is_known_by_its_lock_not_its_process_id(tmp_path: Path) -> None:
    # As in another PID namespace: the id in the folder's name is of no process here.
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    dead_pid = child.stdout.strip()
    live, folder = _owner(tmp_path)
    try:
        foreign = tmp_path / f"{PREFIX}{dead_pid}-other-namespace"
        folder.rename(foreign)  # the lock goes with the folder: the owner still holds it
        _another_run(tmp_path)
        assert foreign.is_dir()
    finally:
        live.kill()
        live.wait(timeout=30)
    _another_run(tmp_path)
    assert not foreign.exists()


def test_a_folder_without_a_lock_is_removed_only_when_long_unchanged(tmp_path: Path) -> None:
    # Made by an older provenance, or by a run killed while making it: nothing says whether
    # its owner lives, so only a day without change does.
    for name in (f"{PREFIX}{os.getpid()}-old", f"{PREFIX}1-fresh", f"{STAGING}killed"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "1.txt").write_text("left behind")
    day_ago = time.time() - UNLOCKED_STALE_SECONDS - 60
    for path in (tmp_path / f"{PREFIX}{os.getpid()}-old", tmp_path / f"{STAGING}killed"):
        os.utime(path / "1.txt", (day_ago, day_ago))
        os.utime(path, (day_ago, day_ago))
    made = SpillDir(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{PREFIX}1-fresh",
                                                                os.path.basename(made.path)])


def test_a_cut_spill_file_is_an_error_not_a_wrong_text(tmp_path: Path) -> None:
    spill_dir = SpillDir(str(tmp_path))
    ref = spill_dir.write("a text long enough to cut")
    spill_dir.flush()
    os.truncate(os.path.join(spill_dir.path, ref.name), 5)
    spill_dir._cache.clear()
    with pytest.raises(OSError, match="cut short"):  # an OutputError, which is an OSError
        ref.read()


def test_a_workers_answer_signs_and_spills_in_slices_with_the_same_result(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of many documents (one big WARC) is signed and spilled a slice at a time."""
    import numpy as np

    from provenance import read_clean
    from provenance.outlets import Outlets

    files = [(str(p), p.name) for p in sorted((SAMPLES / "seeds").iterdir()) if p.suffix == ".txt"]
    assert len(files) >= 5
    whole = read_clean.clean_files(files, Config(), Outlets(), True, SpillDir())
    monkeypatch.setattr(read_clean, "RECORDS_PER_BATCH", 2)
    sliced = read_clean.clean_files(files, Config(), Outlets(), True, SpillDir())
    assert [i.clean for i in sliced.items] == [i.clean for i in whole.items]  # type: ignore[union-attr]
    assert all(isinstance(raw_text(i.clean), SpillRef) for i in sliced.items)  # type: ignore[union-attr]
    assert whole.signed is not None and sliced.signed is not None
    for name in ("doc_values", "p_values", "p_doc", "p_start", "p_end"):
        assert np.array_equal(getattr(sliced.signed, name), getattr(whole.signed, name)), name


def test_no_room_for_the_texts_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from provenance.errors import OutputError
    from provenance.runtime import spill as spill_module

    def full(path: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(spill_module, "_open_append", full)
    monkeypatch.setattr(pipeline, "SPILL_MIN_BYTES", 0)  # the seeds alone are a small input
    with pytest.raises(OutputError, match=r"No space left on device.*TMPDIR"):
        run([SAMPLES / "seeds"], Config(), jobs=1)


def test_a_folder_that_cannot_be_made_is_one_clear_error(tmp_path: Path) -> None:
    from provenance.errors import OutputError

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(OutputError, match=r"file: cannot make a folder.*TMPDIR"):
        SpillDir(str(not_a_folder))
