"""``runtime.forked``: shares of a find stage computed by forked copies of the run.

The answers come back in order and equal this process's; a child that fails or
dies costs time, not the answer (its share is computed again here); an error
of the work itself is raised as it would be without children; and no child
outlives its run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.runtime import forked

pytestmark = pytest.mark.skipif(not forked.available(2, forked.MIN_DOCS), reason="no fork here")

PARENT = os.getpid()


def _forked_children() -> list[object]:
    """This process's live forked copies (``forked.Share``'s): not the worker pool's fork server
    or workers, which an earlier test of the session may have started and which live on."""
    import multiprocessing
    import multiprocessing.context

    return [p for p in multiprocessing.active_children() if isinstance(p, multiprocessing.context.ForkProcess)]


def _square_sum(numbers: list[int]) -> tuple[int, int]:
    return sum(n * n for n in numbers), os.getpid()


def _dies_in_a_child(n: int) -> int:
    if os.getpid() != PARENT:
        os._exit(3)  # as if killed: no answer is ever sent
    return n + 1


def _raises_in_a_child(n: int) -> int:
    if os.getpid() != PARENT:
        raise MemoryError("only the copy runs out")
    return n * 2


def _always_fails(n: int) -> int:
    raise ValueError(f"bad share {n}")


@settings(max_examples=15, deadline=None)
@given(st.lists(st.lists(st.integers(-1000, 1000), max_size=30), min_size=1, max_size=4))
def test_fork_map_answers_in_order_as_one_process_would(shares: list[list[int]]) -> None:
    answers = forked.fork_map(_square_sum, [(s,) for s in shares])
    assert [a for a, _ in answers] == [sum(n * n for n in s) for s in shares]
    pids = [pid for _, pid in answers]
    assert pids[0] == os.getpid()  # the first share runs here...
    assert all(pid != os.getpid() for pid in pids[1:])  # ...the others in forked copies
    assert len(set(pids)) == len(pids)


def test_a_child_that_dies_has_its_share_computed_here() -> None:
    assert forked.fork_map(_dies_in_a_child, [(1,), (10,), (100,)]) == [2, 11, 101]


def test_a_child_that_fails_has_its_share_computed_here() -> None:
    assert forked.start(_raises_in_a_child, 21).result() == 42


def test_an_error_of_the_work_itself_is_raised_here() -> None:
    with pytest.raises(ValueError, match="bad share 0"):
        forked.fork_map(_always_fails, [(0,), (1,)])
    with pytest.raises(ValueError, match="bad share 5"):
        forked.start(_always_fails, 5).result()


def _sleeps(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_a_cancelled_share_leaves_no_child() -> None:
    share = forked.start(_sleeps, 60.0)
    pid = share._process.pid
    share.cancel()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_no_fork_below_or_above_the_sizes_it_pays_off_at() -> None:
    assert not forked.available(1, forked.MIN_DOCS)
    assert not forked.available(2, forked.MIN_DOCS - 1)
    assert not forked.available(2, forked.MAX_DOCS + 1)
    assert forked.available(2, forked.MIN_DOCS)


def test_children_die_with_the_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A run killed with SIGKILL runs no handler: the kernel kills its forked copies
    (``lifeline.die_with_parent``)."""
    import subprocess
    import sys

    pid_file = tmp_path / "child.pid"
    script = (
        "import os, sys, time\n"
        "from provenance.runtime import forked\n"
        "def work(path):\n"
        "    open(path, 'w').write(str(os.getpid()))\n"
        "    time.sleep(60)\n"
        "if __name__ == '__main__':\n"
        f"    share = forked.start(work, {str(pid_file)!r})\n"
        "    time.sleep(60)\n"
    )
    run = subprocess.Popen([sys.executable, "-c", script])
    try:
        for _ in range(200):
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.05)
        child = int(pid_file.read_text())
        os.kill(run.pid, signal.SIGKILL)
        run.wait(10)
        for _ in range(100):
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        pytest.fail(f"forked child {child} outlived its run")
    finally:
        run.kill()


class _Stopped(BaseException):
    """What the command line's SIGTERM handler raises (``cli.app``), here from SIGALRM."""


def _raise_stopped(signum: int, frame: object) -> None:
    raise _Stopped


def test_a_run_stopped_while_it_waits_for_a_child_does_not_wait_for_the_child() -> None:
    """SIGTERM (turned into an exception) while the run waits for a share's answer ends the
    wait at once and the child with it, rather than waiting out the child's whole share."""

    previous = signal.signal(signal.SIGALRM, _raise_stopped)
    share = forked.start(_sleeps, 30.0)
    began = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(_Stopped):
            share.result()
        assert time.monotonic() - began < 10
        assert not share._process.is_alive()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        share.cancel()
    assert _forked_children() == []


def _slow_passages(*args: object) -> object:
    time.sleep(30)
    raise AssertionError("not reached")


def _rewrites_fail(*args: object) -> object:
    raise RuntimeError("the rewrite stage failed")


def test_find_stops_its_passage_child_when_the_rewrite_stage_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The passage stage runs in a forked child beside the rewrite stage: an error of the rewrite
    stage ends the run, and the child with it (not left computing a stage nobody will read)."""
    from pathlib import Path

    from provenance import pipeline

    monkeypatch.setattr(forked, "MIN_DOCS", 0)
    monkeypatch.setattr(pipeline, "passage_stage", _slow_passages)
    monkeypatch.setattr(pipeline, "find_rewrites", _rewrites_fail)
    samples = Path(__file__).resolve().parent.parent / "samples"
    try:
        with pytest.raises(RuntimeError, match="rewrite stage failed"):
            pipeline.run([samples], jobs=2)
        assert _forked_children() == []
    finally:
        for child in _forked_children():
            child.kill()
            child.join()


def test_find_reports_every_stage_to_its_end_when_it_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stages reported, in order, and where each ends, are those of a run in one process
    (``test_speed_compat.test_every_stage_reports_progress``), with the passage stage forked."""
    from pathlib import Path

    from provenance import pipeline

    samples = Path(__file__).resolve().parent.parent / "samples"

    def stages(jobs: int) -> dict[str, tuple[int, int | None]]:
        seen: dict[str, tuple[int, int | None]] = {}
        pipeline.run([samples], jobs=jobs, progress=lambda stage, done, total: seen.__setitem__(stage, (done, total)))
        return seen

    alone = stages(1)
    monkeypatch.setattr(forked, "MIN_DOCS", 0)
    shared = stages(2)
    assert list(shared) == list(alone)
    assert shared == alone


def test_a_fork_refused_by_the_system_has_its_share_computed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """``fork`` fails with EAGAIN (a process limit: a container's pids.max, RLIMIT_NPROC) or
    ENOMEM (strict overcommit, a large run): the share is computed here, as when a child dies."""
    import errno
    import multiprocessing
    import multiprocessing.context

    def refused(process: object) -> object:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "_Popen", staticmethod(refused))
    answers = forked.fork_map(_square_sum, [([1, 2],), ([3],), ([4],)])
    assert [a for a, _ in answers] == [5, 9, 16]
    assert forked.start(_square_sum, [5]).result()[0] == 25
    assert _forked_children() == []


def test_derivations_travel_as_rows_and_come_back_equal() -> None:
    """What a forked copy sends back (``records.derivation_rows``) makes the same derivations,
    every field set, evidence and sentences included; a field added to ``Derivation`` travels too."""
    import dataclasses

    from provenance.records import (
        Derivation,
        Evidence,
        SentencePair,
        derivation_rows,
        derivations_of,
        sentence_rows,
        sentences_of,
    )

    d = Derivation(3, 7, 0.25, 0.5, [SentencePair((1, 9), (4, 12), 0.75, True),
                                     SentencePair((10, 20), (30, 40), 0.3, False)],
                   score=0.5, verdict="partially", origin="b", origin_outlet="Wire Post",
                   evidence=[Evidence("date", "x", "x was first", 2.0), Evidence("none", None, "-", 0.0)],
                   confidence=0.67, common_source="Press Association")
    for f in dataclasses.fields(Derivation):  # every field differs from its default
        if f.default is not dataclasses.MISSING:
            assert getattr(d, f.name) != f.default, f.name
    bare = Derivation(0, 1, 0.1, 0.2, [])
    back = derivations_of(derivation_rows([d, bare]))
    assert back == [d, bare]
    assert all(type(e) is Evidence for e in back[0].evidence)
    assert sentences_of(sentence_rows(d.sentences)) == d.sentences


def test_samples_rewrites_are_the_same_through_forked_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    """On ``samples/``, the rewrite stage's derivations (verdicts, origins, evidence, sentences) are
    the same whether its shares were measured and aligned here or sent back by forked copies."""
    from provenance import Config, run
    from provenance.render.report import to_json

    from .conftest import SAMPLES

    alone = to_json(run([SAMPLES], Config(), jobs=1))
    monkeypatch.setattr(forked, "MIN_DOCS", 0)
    shared = to_json(run([SAMPLES], Config(), jobs=2))
    assert shared == alone
    assert '"derivations": [\n    {' in alone  # there are rewrites to compare


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_each_shares_own_best_sources_keep_the_same_best_sources_over_all(data: st.DataObject) -> None:
    """``pipeline.settled_rewrites``: a share sends back only its own best sources
    (``keep_best``); ``find_rewrites``'s ``keep_best`` over what the shares send keeps
    exactly what it keeps over every derivation, in the same order."""
    from provenance.derive import keep_best
    from provenance.records import CleanDoc, Derivation, Document

    n = data.draw(st.integers(2, 7))
    cleaned = [CleanDoc(Document(f"d{i}", "p", "t", "text",
                                 date=data.draw(st.sampled_from([None, "2024-01-01", "2024-01-02"]))),
                        [(0, 1)], [], "t") for i in range(n)]
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1])
    derivations = []
    for a, b in data.draw(st.lists(pairs, max_size=40)):
        d = Derivation(a, b, 0.5, 0.5, [])
        d.origin = data.draw(st.sampled_from([None, "a", "b"]))
        d.score = data.draw(st.sampled_from([0.1, 0.2, 0.2, 0.9]))
        derivations.append(d)
    per_copy = data.draw(st.integers(1, 3))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(derivations)), max_size=3)))
    shares = [derivations[lo:hi] for lo, hi in zip([0, *cuts], [*cuts, len(derivations)], strict=True)]
    sent = [d for share in shares for d in keep_best(share, cleaned, per_copy)]
    assert [id(d) for d in keep_best(sent, cleaned, per_copy)] == \
        [id(d) for d in keep_best(derivations, cleaned, per_copy)]


def test_a_run_without_agency_copies_keeps_the_same_rewrites_through_forked_copies(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without an agency copy, each forked share of the rewrite stage measures, keeps its own
    best sources and aligns them (``settled_rewrites``), in one round of shares: the report
    is the same as one process's. The corpus: one seed's paragraphs, and three other seeds
    each with two of them worked in (papers that rewrote parts of one source)."""
    from provenance import Config, run
    from provenance.render.report import to_json

    from .conftest import SEEDS

    seeds = sorted(SEEDS.glob("*.txt"))

    def paragraphs(path: Path) -> list[str]:
        return [p for p in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")) if len(p.split()) >= 25]

    source = paragraphs(seeds[1])
    records = [{"id": "source", "text": "\n\n".join(source), "outlet": "Source Daily", "date": "2017-01-01"}]
    for k, seed in enumerate([seeds[0], seeds[2], seeds[3]]):
        records.append({"id": f"paper{k}", "text": "\n\n".join(paragraphs(seed)[:4] + source[k:k + 2]),
                        "outlet": f"Paper {k}", "date": f"2017-01-0{k + 2}"})
    corpus = tmp_path / "papers.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    alone = run([corpus], Config(), jobs=1)
    assert not any(c.doc.agency for c in alone.cleaned)
    assert len(alone.derivations) >= 4 and all(d.sentences for d in alone.derivations)
    monkeypatch.setattr(forked, "MIN_DOCS", 0)
    started: list[str] = []
    start = forked.start

    def counted(fn, *args, **how):  # type: ignore[no-untyped-def]
        started.append(fn.__name__)
        return start(fn, *args, **how)

    monkeypatch.setattr(forked, "start", counted)
    assert to_json(run([corpus], Config(), jobs=2)) == to_json(alone)
    assert "settled_rewrites" in started
    assert "measured_and_attributed" not in started and "aligned_sentences" not in started
