"""Each ``pipeline.Backend`` step of the Spark engine runs on Spark and answers as the local one.

The local engine's run over a corpus records what ``find`` gave each step and what the step
answered; the Spark step is then given the same arguments, at several partition counts, and must
answer the same. An end-to-end run checks that ``run_spark`` calls every Spark step.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from provenance import Config, pipeline
from provenance.render.report import to_json

from . import spark_corpus
from .conftest import SAMPLES
from .spark_corpus import NEEDS_SPARK, spark_tests_context

pytestmark = NEEDS_SPARK

#: The steps that ran on the driver before: the rewrite stage, attribution and families.
STEPS = ("groups", "reuse_candidates", "rewrites", "attribute_matches", "families")


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


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Recorded, list[Any]]]:
    small = spark_corpus.write(tmp_path_factory.mktemp("steps") / "small", 400)
    return {"samples": _record([SAMPLES]), "generated": _record([small])}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and bool((a == b).all())
    if isinstance(a, (tuple, list)):
        return isinstance(b, type(a)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


@pytest.mark.parametrize("corpus", ["samples", "generated"])
@pytest.mark.parametrize("name", STEPS)
def test_spark_step_answers_as_the_local_one(sc: Any, recorded: dict[str, tuple[Recorded, list[Any]]],
                                             corpus: str, name: str) -> None:
    from provenance.spark_backend import SparkBackend

    got, cleaned = recorded[corpus]
    given, expected = got[name]
    if name in ("rewrites", "attribute_matches", "families"):
        assert expected[0] if name == "families" else expected, "the corpus exercises the step"
    for partitions in (1, 3, 7):
        args = tuple(a if a is cleaned else copy.deepcopy(a) for a in given)
        answer = getattr(SparkBackend(sc, partitions).backend(), name)(*args)
        assert _same(answer, expected), (name, corpus, partitions)


def test_run_spark_calls_every_spark_step(sc: Any, samples_report: pipeline.Report,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Every step of ``find`` runs through the Spark backend, and the report is the local one."""
    from provenance import spark_backend
    from provenance.spark_engine import run_spark

    called: list[str] = []
    every = ("document_candidates", "verify_documents", "passage_candidates", "verify_passages", *STEPS)
    for name in every:
        def counted(self: Any, *args: Any, _name: str = name,
                    _step: Any = getattr(spark_backend.SparkBackend, name), **kwargs: Any) -> Any:
            called.append(_name)
            return _step(self, *args, **kwargs)
        monkeypatch.setattr(spark_backend.SparkBackend, name, counted)
    assert to_json(run_spark([SAMPLES], Config(), sc=sc, partitions=3)) == to_json(samples_report)
    assert sorted(set(called)) == sorted(every)
