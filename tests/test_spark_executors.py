"""Several executors (issue 15): the report is the local engine's whatever the number of executors.

``local[2]`` (the other Spark tests) runs every task in one JVM. Spark's ``local-cluster[2,1,1024]``
mode starts a master, a worker and two executor JVMs of their own, each with its own Python
workers, as a cluster does: tasks, broadcasts and shuffles cross process boundaries. It needs
nothing beyond ``pip install pyspark`` and Java (the jars and launch scripts ship with pyspark).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from provenance import Config, run
from provenance.render.report import to_json

from . import spark_corpus
from .conftest import ROOT, SAMPLES
from .spark_corpus import NEEDS_SPARK

pytestmark = NEEDS_SPARK


def test_two_executors_give_the_local_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from provenance.spark_engine import run_spark, spark_context

    # the executors' Python workers run this Python and import this checkout's provenance
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    corpus = spark_corpus.write(tmp_path / "corpus", 300)
    local = run([corpus, SAMPLES], Config(), jobs=1)
    assert local.groups and local.matches and local.derivations and local.families
    sc = spark_context("local-cluster[2,1,1024]", "provenance executors test")
    try:
        deadline = time.monotonic() + 120  # executors register with the driver as they start
        while sc._jsc.sc().getExecutorMemoryStatus().size() < 3:  # the driver and two executors
            assert time.monotonic() < deadline, "two executors did not start in 120 s"
            time.sleep(0.5)
        workers = set(sc.parallelize(range(16), 16).map(lambda _: os.getppid()).collect())
        assert len(workers) == 2  # tasks ran under both executors' JVMs
        assert to_json(run_spark([corpus, SAMPLES], Config(), sc=sc, partitions=5)) == to_json(local)
    finally:
        sc.stop()
