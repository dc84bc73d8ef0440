"""The Spark engine (issue 15) gives the local engine's report, byte for byte.

Real Spark in local mode, over ``samples/`` and over generated corpora (``spark_corpus``):
a small one at several partition counts, and 10,000 documents. Skipped, with the reason,
only where pyspark or Java is missing (``.ci/run`` installs both).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from provenance import Config, Report, run
from provenance.cli import app
from provenance.lineage import build_groups
from provenance.records import DocPair
from provenance.render.report import to_json

from . import spark_corpus
from .conftest import ROOT, SAMPLES
from .spark_corpus import NEEDS_SPARK, spark_tests_context

pytestmark = NEEDS_SPARK


@pytest.fixture(scope="module")
def sc() -> Iterator[Any]:
    yield from spark_tests_context()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return spark_corpus.write(tmp_path_factory.mktemp("spark") / "small", 400)


def _spark_json(sc: Any, paths: list[Path], partitions: int) -> str:
    from provenance.spark_engine import run_spark

    return to_json(run_spark(paths, Config(), sc=sc, partitions=partitions))


@pytest.mark.parametrize("partitions", [2, 5])
def test_samples_byte_for_byte(sc: Any, samples_report: Report, partitions: int) -> None:
    assert _spark_json(sc, [SAMPLES], partitions) == to_json(samples_report)


def test_generated_corpus_any_partitioning(sc: Any, small: Path) -> None:
    """Partition counts and local job counts all give one report: bad inputs skipped in order,
    repeated ids renamed, templates learnt per outlet, copies and passages found."""
    local = to_json(run([small], Config(), jobs=1))
    assert to_json(run([small], Config(), jobs=2)) == local
    report = run([small], Config())
    assert report.groups and report.matches and report.derivations
    reasons = [s.reason.split(":")[0] for s in report.skipped]
    assert reasons == ["malformed JSON", "record has no non-empty 'text' or 'html' string",
                       "truncated or corrupt gzip", "unsupported file type (.png)"]
    assert any(r.reason == "template" for c in report.cleaned for r in c.removed)
    assert any("~" in c.doc.id for c in report.cleaned)
    for partitions in (1, 3, 8):
        assert _spark_json(sc, [small], partitions) == local, partitions


def test_ten_thousand_documents(sc: Any, tmp_path: Path) -> None:
    corpus = spark_corpus.write(tmp_path / "c10k", 10_000)
    assert _spark_json(sc, [corpus], 4) == to_json(run([corpus], Config(), jobs=2))


def test_cli_engine_spark(sc: Any, small: Path, tmp_path: Path) -> None:
    """``scan --engine spark`` writes the local engine's JSON, and the same skip lines."""
    runner = CliRunner()
    spark, local = tmp_path / "spark.json", tmp_path / "local.json"
    done = runner.invoke(app, ["scan", str(small), "--engine", "spark", "-q", "-f", "json", "-o", str(spark)])
    assert done.exit_code == 0, done.output
    again = runner.invoke(app, ["scan", str(small), "-q", "-f", "json", "-o", str(local)])
    assert again.exit_code == 0, again.output
    assert spark.read_bytes() == local.read_bytes()
    skips = [line for line in done.stderr.splitlines() if line.startswith("skipped: ")]
    assert skips == [line for line in again.stderr.splitlines() if line.startswith("skipped: ")]
    assert any("broken.jsonl.gz: truncated or corrupt gzip" in line for line in skips)


def test_components_are_build_groups(sc: Any) -> None:
    """The iterative join finds ``lineage.build_groups``'s components, long chains included."""
    from provenance.spark_lsh import _components

    edges = [(i, i + 1) for i in range(0, 12)] + [(100, 150), (150, 120), (7, 300), (200, 201), (30, 13)]
    label = _components(sc, edges, 3)
    groups = build_groups([DocPair(a, b, 100.0, (0, 0), (0, 0)) for a, b in edges])
    assert {node: g.members[0] for g in groups for node in g.members} == label


def test_without_pyspark_one_line_error(tmp_path: Path) -> None:
    """Without pyspark, ``--engine spark`` says what to install, in one line, exit 2."""
    code = ("import sys; sys.modules['pyspark'] = None; from provenance.cli import app; "
            f"sys.argv = ['provenance', 'scan', {str(SAMPLES)!r}, '--engine', 'spark', '-q']; app()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "pyspark" in line]
    assert len(errors) == 1 and "pip install 'provenance[spark]'" in errors[0], done.stderr


def test_stdin_engine_spark(sc: Any, small: Path, tmp_path: Path) -> None:
    """``-`` (standard input, read on the driver) gives the local engine's report on Spark too."""
    runner = CliRunner()
    data = (small / "a" / "corpus.jsonl").read_bytes()
    spark, local = tmp_path / "spark.json", tmp_path / "local.json"
    done = runner.invoke(app, ["scan", "-", "--engine", "spark", "-q", "-f", "json", "-o", str(spark)], input=data)
    assert done.exit_code == 0, done.output
    again = runner.invoke(app, ["scan", "-", "-q", "-f", "json", "-o", str(local)], input=data)
    assert again.exit_code == 0, again.output
    assert spark.read_bytes() == local.read_bytes()
    assert b'"stdin#' in spark.read_bytes()


def test_jobs_is_the_local_master(sc: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``--jobs N`` with ``--engine spark`` asks for ``local[N]``; without it, no master (spark-submit's,
    else ``local[2]``)."""
    from provenance import spark_engine

    asked: list[str | None] = []

    def context(master: str | None = None, app_name: str = "provenance") -> Any:
        asked.append(master)
        return sc

    monkeypatch.setattr(spark_engine, "spark_context", context)
    for jobs in (["-j", "3"], []):
        done = CliRunner().invoke(app, ["scan", str(SAMPLES), "--engine", "spark", "-q", *jobs, "-f", "json",
                                        "-o", str(tmp_path / "r.json")])
        assert done.exit_code == 0, done.output
    assert asked == ["local[3]", None]


def _readme_spark_submit() -> str:
    """The README's ``spark-submit`` command on ``samples/``, as written (continuation lines joined)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("With `spark-submit`", 1)[1].split("```", 2)[1]
    command = block.strip().replace("\\\n", " ")
    assert command.startswith("spark-submit ") and " samples/ " in command, command
    return command


def test_readme_spark_submit_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's ``spark-submit`` line, run as written (its report written to a temporary
    folder instead of ``report.json``), gives ``provenance scan samples/ --format json``'s report."""
    submit = Path(sys.executable).parent / "spark-submit"
    if not submit.exists():
        pytest.skip("no spark-submit beside this Python (pyspark's pip package ships one)")
    out, local = tmp_path / "report.json", tmp_path / "local.json"
    command = _readme_spark_submit().replace("--output report.json", f"--output {out}")
    env = {**os.environ, "PATH": f"{submit.parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    monkeypatch.chdir(ROOT)  # the same relative path, so the same document paths
    again = CliRunner().invoke(app, ["scan", "samples/", "-q", "--format", "json", "--output", str(local)])
    assert again.exit_code == 0, again.output
    assert out.read_bytes() == local.read_bytes()


def test_spark_job_takes_scans_keep_and_rules(sc: Any, tmp_path: Path) -> None:
    """The job's ``--keep`` (checked as ``scan`` checks it) gives ``scan --keep``'s report."""
    from provenance.spark_job import main

    job, local = tmp_path / "job.json", tmp_path / "local.json"
    assert main([str(SAMPLES), "--keep", "navigation", "--keep", "share", "--output", str(job)]) == 0
    done = CliRunner().invoke(app, ["scan", str(SAMPLES), "--keep", "share", "--keep", "navigation", "-q",
                                    "-f", "json", "-o", str(local)])
    assert done.exit_code == 0, done.output
    assert job.read_bytes() == local.read_bytes()
    assert main([str(SAMPLES), "--keep", "navigaton", "--output", str(job)]) == 2
