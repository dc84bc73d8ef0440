"""The Spark engine reads Hadoop file-system URIs (issue 15): listed through Hadoop's FileSystem
on the driver, read with ``binaryFiles`` on the executors, parsed by the local readers.

``file://`` URIs take exactly the Hadoop path (real Spark, local mode). The report is the local
engine's over the same folder named by its absolute path, but for one spelling: every path in
it (documents', skips', the outlets file's) is the URI, ``file://`` before the absolute path.
Ids, which are relative to the folder scanned, are the same. Skipped only where pyspark or Java
is missing, as ``test_spark.py`` is.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from provenance import Config, run
from provenance.cli import app
from provenance.errors import ConfigError
from provenance.render.report import to_json

from .conftest import SAMPLES
from .spark_corpus import NEEDS_SPARK, spark_tests_context

pytestmark = NEEDS_SPARK


@pytest.fixture(scope="module")
def sc() -> Iterator[Any]:
    yield from spark_tests_context()


def _as_local(report_json: str, root: Path) -> str:
    """The one legitimate difference undone: ``file:///abs/...`` paths spelled ``/abs/...``."""
    return report_json.replace(f'"file://{root}', f'"{root}')


def test_samples_through_hadoop_as_locally(sc: Any) -> None:
    from provenance.spark_engine import run_spark

    local = to_json(run([SAMPLES], Config()))
    spark = to_json(run_spark([f"file://{SAMPLES}"], Config(), sc=sc, partitions=3))
    assert f'"file://{SAMPLES}/outlets.json"' in spark  # outlets.json atop the URI, read through Hadoop
    assert spark != local and _as_local(spark, SAMPLES) == local
    ids = [d["id"] for d in json.loads(spark)["documents"]]
    assert ids == [d["id"] for d in json.loads(local)["documents"]] and not any(":" in i for i in ids)


def test_a_uri_given_twice_stands_twice_as_a_local_path_does(sc: Any, tmp_path: Path) -> None:
    """Each file under a URI given twice (or under two URIs that overlap) is read once but stands
    in each place, its second copy renamed, as the local engine reads a folder given twice."""
    from provenance.spark_engine import run_spark

    folder = tmp_path / "c"
    folder.mkdir()
    for name in ("seeds/000_0d593d3c2b046724.txt", "seeds/001_64fc29aab0a0f312.txt"):
        shutil.copy(SAMPLES / name, folder / Path(name).name)
    local = to_json(run([folder, folder], Config()))
    spark = to_json(run_spark([f"file://{folder}", f"file://{folder}"], Config(), sc=sc, partitions=2))
    assert _as_local(spark, folder) == local
    ids = [d["id"] for d in json.loads(local)["documents"]]
    assert len(ids) == 4 and sum(i.endswith("~2") for i in ids) == 2


def test_cli_scan_of_a_file_uri(sc: Any, tmp_path: Path) -> None:
    out, local = tmp_path / "spark.json", tmp_path / "local.json"
    runner = CliRunner()
    done = runner.invoke(app, ["scan", "--engine", "spark", f"file://{SAMPLES}", "-q", "-f", "json", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert runner.invoke(app, ["scan", str(SAMPLES), "-q", "-f", "json", "-o", str(local)]).exit_code == 0
    assert _as_local(out.read_text(), SAMPLES) == local.read_text()


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    root = tmp_path / "mixed"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / ".hidden" / "x.txt").write_text("never read")
    shutil.copy(SAMPLES / "crawl" / "network-2020.warc.gz", root / "sub" / "crawl.warc.gz")
    records = [{"id": f"r{i}", "text": f"Record number {i} says something about the weather today."}
               for i in range(3)]
    lines = [json.dumps(r) for r in records] + ["{not json", json.dumps({"id": "no-text"})]
    (root / "sub" / "deeper" / "dump.jsonl.gz").write_bytes(gzip.compress("\n".join(lines).encode()))
    (root / "sub" / "bomb.jsonl.gz").write_bytes(gzip.compress(b"\n" * 5_000_000))
    (root / "sub" / "broken.jsonl.gz").write_bytes(gzip.compress(b'{"text": "a"}\n')[:-8])
    (root / "empty.txt").write_bytes(b"")
    (root / "image.png").write_bytes(b"\x89PNG\r\n")
    (root / "a.txt").write_text("A plain text file with a few words in it, to be read.")
    (root / "b.html").write_text("<html><body><p>A page with a paragraph of visible text.</p></body></html>")
    return root


def test_generated_folder_skips_as_locally(sc: Any, mixed: Path) -> None:
    """A gzipped JSON Lines file (bad records among good, a bomb, a truncated one), a WARC, an
    unsupported file, an empty file and a hidden folder: the same documents and skips, in order."""
    from provenance.spark_engine import run_spark

    local = run([mixed], Config())
    spark = run_spark([f"file://{mixed}"], Config(), sc=sc, partitions=4)
    assert _as_local(to_json(spark), mixed) == to_json(local)
    reasons = {s.path.removeprefix(f"file://{mixed}/"): s.reason.split(":")[0] for s in spark.skipped}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["image.png"] == "unsupported file type (.png)"
    assert reasons[".hidden"] == "hidden folder"
    assert reasons["sub/bomb.jsonl.gz"] == "too large"
    assert reasons["sub/broken.jsonl.gz"] == "truncated or corrupt gzip"
    assert [d.doc.id for d in spark.cleaned][:2] == ["a.txt", "b.html"]
    assert any(d.doc.id.startswith("sub/deeper/dump.jsonl.gz#") for d in spark.cleaned)
    assert any(d.doc.id.startswith("sub/crawl.warc.gz#") for d in spark.cleaned)


def test_local_paths_and_uris_in_one_run(sc: Any, mixed: Path) -> None:
    from provenance.spark_engine import run_spark

    local = to_json(run([SAMPLES, mixed], Config()))
    spark = run_spark([str(SAMPLES), f"file://{mixed}"], Config(), sc=sc, partitions=2)
    assert _as_local(to_json(spark), mixed) == local


def test_too_large_is_not_read(sc: Any, mixed: Path) -> None:
    from provenance.spark_engine import run_spark

    config = Config()
    config = replace(config, ingest=replace(config.ingest, max_file_bytes=20))
    report = run_spark([f"file://{mixed}"], config, sc=sc, partitions=2)
    assert _as_local(to_json(report), mixed) == to_json(run([mixed], config))
    assert any(s.path == f"file://{mixed}/a.txt" and s.reason == "too large: over 20 bytes" for s in report.skipped)


def test_no_file_system_for_the_scheme(sc: Any) -> None:
    from provenance.spark_engine import run_spark

    with pytest.raises(ConfigError) as caught:
        run_spark(["foo://x/corpus"], Config(), sc=sc)
    message = str(caught.value)
    assert message.startswith("foo://x/corpus: ") and "\n" not in message and "foo" in message[15:]
    done = CliRunner().invoke(app, ["scan", "--engine", "spark", "foo://x/corpus", "-q"])
    assert done.exit_code != 0 and "foo://x/corpus" in done.output


def test_missing_uri_is_skipped_as_a_missing_path(sc: Any, tmp_path: Path) -> None:
    from provenance.spark_engine import run_spark

    report = run_spark([f"file://{tmp_path}/nothing", f"file://{SAMPLES}/seeds"], Config(), sc=sc, partitions=2)
    assert report.skipped[0].path == f"file://{tmp_path}/nothing"
    assert report.skipped[0].reason == "no such file or folder"


def test_a_file_named_by_uri(sc: Any) -> None:
    from provenance.spark_engine import run_spark

    file = SAMPLES / "dumps" / "network-2017.jsonl"
    spark = run_spark([f"file://{file}"], Config(), sc=sc, partitions=2)
    local = run([file], Config())
    assert [c.doc.id for c in spark.cleaned] == [c.doc.id for c in local.cleaned]
    assert _as_local(to_json(spark), file) == to_json(local)


def test_names_hadoop_would_not_read_are_skipped(sc: Any, tmp_path: Path) -> None:
    """``_x`` (Hadoop's input formats pass it over) and glob characters: skipped with a reason,
    never a failed job."""
    from provenance.spark_engine import run_spark

    for name in ("_under.txt", "a,b.txt", "c[1].txt", "ok.txt"):
        (tmp_path / name).write_text(f"The file {name} holds a sentence or two of plain text.")
    report = run_spark([f"file://{tmp_path}"], Config(), sc=sc, partitions=2)
    assert [c.doc.id for c in report.cleaned] == ["ok.txt"]
    skipped = {s.path.rsplit("/", 1)[-1]: s.reason for s in report.skipped}
    assert skipped["_under.txt"].startswith("a name starting with _")
    assert skipped["a,b.txt"].startswith("a name Hadoop's input lists read as a pattern")
    assert skipped["c[1].txt"].startswith("a name Hadoop's input lists read as a pattern")
