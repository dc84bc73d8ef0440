"""Each ``pipeline.Backend`` step of the Spark engine runs on Spark and answers as the local one.

The local engine's run over a corpus records what ``find`` gave each step and what the step
answered; the Spark step is then given the same arguments, at several partition counts, and must
answer the same. An end-to-end run checks that ``run_spark`` calls every Spark step.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from provenance import Config, pipeline
from provenance.render.report import to_json

from . import spark_corpus
from .conftest import SAMPLES
from .spark_corpus import NEEDS_SPARK, OUTLETS, _edit, _sentence, _words, spark_tests_context

pytestmark = NEEDS_SPARK

#: The steps that ran on the driver before: exact copies, the rewrite stage, attribution and families.
STEPS = ("exact_duplicates", "groups", "reuse_candidates", "rewrites", "attribute_matches", "families")


@pytest.fixture(scope="module")
def sc() -> Iterator[Any]:
    yield from spark_tests_context()


Recorded = dict[str, tuple[tuple[Any, ...], Any]]


def _record(paths: list[Path]) -> tuple[Recorded, list[Any]]:
    """The local run's arguments and answer of each step (copied when called: later steps change
    what earlier ones answered), and the cleaned documents (which no step changes)."""
    local = pipeline._steps(pipeline.LOCAL)
    got: Recorded = {}
    cleaned, _ = pipeline.ingest_and_clean(paths, Config(), jobs=1)
    for c in cleaned:  # texts in memory, as the Spark engine's driver holds them (not spilled to files)
        c.text, c.doc.text = c.text, c.doc.text

    def recording(name: str) -> Callable[..., Any]:
        def step(*args: Any) -> Any:
            given = tuple(a if a is cleaned else copy.deepcopy(a) for a in args)
            out = getattr(local, name)(*args)
            got[name] = (given, copy.deepcopy(out))
            return out
        return step

    backend = pipeline.Backend(**{name: recording(name) for name in STEPS})
    pipeline.find(cleaned, Config(), jobs=1, backend=backend)  # signed in memory
    assert set(got) == set(STEPS)
    return got, cleaned


def write_wire(folder: Path, stories: int = 4, papers: int = 24, seed: int = 7) -> Path:
    """Agency stories (Reuters') each rewritten by ``papers`` papers, later, from about 60% of
    its sentences: the agency copies are origins, the papers wire siblings (unhooked), the
    widely held fingerprints pair papers with the agency copy only (``derive.HUB_MAX``), and
    each paper has more sources than it keeps (``derive.keep_best``)."""
    rng = random.Random(seed)
    words = _words(rng)
    lines = []
    for s in range(stories):
        story = [_sentence(rng, words) for _ in range(14)]
        lines.append({"id": f"reuters-{s}", "outlet": "Reuters", "date": f"2020-03-0{s + 1}",
                      "text": " ".join(story)})
        for p in range(papers):
            kept = [_edit(rng, x, words) for x in story if rng.random() < 0.6]
            own = [_sentence(rng, words) for _ in range(rng.randint(1, 4))]
            lines.append({"id": f"paper-{s}-{p}", "outlet": rng.choice(OUTLETS),
                          "date": f"2020-03-{rng.randint(2, 28):02d}", "text": " ".join(own[:1] + kept + own[1:])})
    folder.mkdir(parents=True)
    (folder / "wire.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Recorded, list[Any]]]:
    small = spark_corpus.write(tmp_path_factory.mktemp("steps") / "small", 400)
    wire = write_wire(tmp_path_factory.mktemp("steps") / "wire")
    return {"samples": _record([SAMPLES]), "generated": _record([small]), "wire": _record([wire])}


def test_the_wire_corpus_unhooks_siblings_and_prunes_sources(recorded: dict[str, tuple[Recorded, list[Any]]]
                                                             ) -> None:
    """The wire corpus exercises what is global in the rewrite stage: wire siblings, and
    ``keep_best`` over copies tied by derivations with no origin."""
    got, _ = recorded["wire"]
    derivations = got["rewrites"][1]
    assert sum(d.origin is None for d in derivations) > 50
    assert any("were both written from" in e.detail for d in derivations for e in d.evidence)
    sources: dict[int, int] = {}
    for d in derivations:
        for c in ([d.a, d.b] if d.origin is None else [d.b if d.origin == "a" else d.a]):
            sources[c] = sources.get(c, 0) + 1
    assert max(sources.values()) >= Config().verify.derive_max_sources


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and bool((a == b).all())
    if isinstance(a, (tuple, list)):
        return isinstance(b, type(a)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.parametrize("corpus", ["samples", "generated", "wire"])
@pytest.mark.parametrize("name", STEPS)
def test_spark_step_answers_as_the_local_one(sc: Any, recorded: dict[str, tuple[Recorded, list[Any]]],
                                             corpus: str, name: str) -> None:
    from provenance.spark_backend import SparkBackend

    got, cleaned = recorded[corpus]
    given, expected = got[name]
    if name in ("rewrites", "attribute_matches", "families"):
        assert expected[0] if name == "families" else expected, "the corpus exercises the step"
    if name == "exact_duplicates" and corpus == "generated":
        assert len(expected) >= 5, "the corpus exercises the step"
    for partitions in (1, 3, 7):
        args = tuple(a if a is cleaned else copy.deepcopy(a) for a in given)
        answer = getattr(SparkBackend(sc, partitions).backend(), name)(*args)
        assert _same(answer, expected), (name, corpus, partitions)


def test_run_spark_calls_every_spark_step(sc: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every step of ``find`` runs through the Spark backend, and the report is the local one."""
    from provenance import spark_backend
    from provenance.spark_engine import run_spark

    called: list[str] = []
    every = ("document_candidates", "verify_documents", "passage_candidates", "verify_passages", *STEPS)

    def counting(name: str) -> Callable[..., Any]:
        step = getattr(spark_backend.SparkBackend, name)

        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            called.append(name)
            return step(self, *args, **kwargs)
        return counted

    for name in every:
        monkeypatch.setattr(spark_backend.SparkBackend, name, counting(name))
    paths = [SAMPLES, write_wire(tmp_path / "wire")]
    assert to_json(run_spark(paths, Config(), sc=sc, partitions=3)) == to_json(pipeline.run(paths, Config()))
    assert sorted(set(called)) == sorted(every)
