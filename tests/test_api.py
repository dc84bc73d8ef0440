"""The Python API: the names it promises, and that each does what the command does."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import provenance
from provenance import Config, ConfigError

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

WIRE = ("Police in Leeds arrested two men on Tuesday after a lorry carrying forty tonnes of"
        " copper cable was stolen from a depot near the ring road, a spokesman said. The cable,"
        " worth about two hundred thousand pounds, was found in a barn outside Wakefield the next"
        " morning. Both men were released on bail pending further inquiries by detectives.")


def test_the_public_names_are_pinned() -> None:
    # A name added or dropped is a change of the API: this list moves with the README's section.
    assert provenance.__all__ == [
        "AddResult", "CheckReport", "CleanConfig", "CleanDoc", "Config", "ConfigError", "Derivation",
        "Document", "Evidence", "Family", "Group", "IndexStore", "IndexStoreError", "IngestConfig",
        "InputError", "MatchConfig", "NothingReadable", "OutputError", "PassageMatch", "ProvenanceError", "Removal",
        "Report", "SignConfig", "Skipped", "VerifyConfig", "__version__", "build_index", "check",
        "open_index", "report_dict", "report_json", "run", "scan",
    ]
    for name in provenance.__all__:
        assert getattr(provenance, name) is not None
    with pytest.raises(AttributeError):
        _ = provenance.no_such_name  # type: ignore[attr-defined]


def test_dir_lists_the_lazy_names_before_their_first_use() -> None:
    code = "import provenance; print(sorted(set(provenance.__all__) - set(dir(provenance))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_importing_the_package_loads_no_heavy_library() -> None:
    code = ("import sys, provenance; print(sorted(m for m in ('numpy', 'bs4', 'rapidfuzz', 'datasketch',"
            " 'provenance.pipeline') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_scan_of_a_folder_is_the_commands_json_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    subprocess.run([sys.executable, "-m", "provenance", "scan", str(SAMPLES), "-f", "json", "-o", str(out),
                    "--quiet"], check=True, capture_output=True)
    report = provenance.scan(SAMPLES)
    assert provenance.report_json(report) == out.read_text(encoding="utf-8")
    assert provenance.report_dict(report) == json.loads(out.read_text(encoding="utf-8"))


def test_scan_of_texts_reads_them_as_a_json_lines_file_would(tmp_path: Path) -> None:
    records = [{"id": "wire", "text": WIRE, "outlet": "PA", "date": "2001-03-06"},
               {"id": "paper", "text": "By our reporter. " + WIRE, "outlet": "Courier", "date": "7 March 2001"},
               WIRE[:150], 42, {"id": "empty", "text": "  "}]
    report = provenance.scan(texts=records)
    dumped = tmp_path / "texts.jsonl"
    as_lines = [{"text": r} if isinstance(r, str) else r for r in records if not isinstance(r, int)]
    dumped.write_text("\n".join(json.dumps(r) for r in as_lines) + "\n", encoding="utf-8")
    from_file = json.loads(provenance.report_json(provenance.scan(dumped))
                           .replace(str(dumped), "texts").replace("texts.jsonl#", "texts#"))
    from_texts = provenance.report_dict(report)
    from_file["params"]["ingest"]["outlets_files"] = []
    assert from_texts["skipped"][0] == {"path": "texts#4", "reason": "expected a text or a mapping, got int"}
    from_texts["skipped"] = from_texts["skipped"][1:]
    assert from_texts == from_file
    ids = [c.doc.id for c in report.cleaned]
    assert ids == ["texts#wire", "texts#paper", "texts#3"]
    assert [c.doc.date for c in report.cleaned][:2] == ["2001-03-06", "2001-03-07"]
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("texts#4", "expected a text or a mapping, got int"),
        ("texts#empty", "record has no non-empty 'text' or 'html' string")]
    [group] = report.groups  # the wire copy and the paper that prints it under its own line
    assert sorted(report.cleaned[m].doc.id for m in group.members) == ["texts#paper", "texts#wire"]
    assert report.cleaned[group.origin].doc.id == "texts#wire"


def test_scan_wants_paths_or_texts_not_both() -> None:
    with pytest.raises(ConfigError, match="not both"):
        provenance.scan(SAMPLES, texts=["a text"])
    with pytest.raises(ConfigError, match="needs paths"):
        provenance.scan()


def test_an_index_built_and_checked_through_the_api(tmp_path: Path) -> None:
    index = tmp_path / "corpus.db"
    added = provenance.build_index(SAMPLES, index, config=Config())
    assert added.added == added.total > 0
    with contextlib.closing(provenance.open_index(index)) as store:
        assert store.count() == added.total
    source = SAMPLES / "iranfocus" / "tackle-iran-by-supporting-the-iranian-people.html"
    copied = tmp_path / "new" / "copy.html"
    copied.parent.mkdir()
    copied.write_bytes(source.read_bytes())
    result = provenance.check(copied.parent, index)
    assert not result.verdict.passed
    assert result.findings[0].kind == "exact" and result.findings[0].in_index
    fresh = tmp_path / "fresh" / "own.txt"
    fresh.parent.mkdir()
    fresh.write_text(WIRE, encoding="utf-8")
    passed = provenance.check(fresh.parent, index)
    assert passed.verdict.passed and not passed.findings


def test_one_text_or_record_is_one_document_not_its_characters_or_keys() -> None:
    # A str is iterable: texts="..." made a document of each character, texts={...} one of each key.
    assert [c.text for c in provenance.scan(texts=WIRE).cleaned] == [WIRE]
    [doc] = provenance.scan(texts={"id": "wire", "text": WIRE, "outlet": "PA"}).cleaned
    assert (doc.doc.id, doc.doc.outlet, doc.text) == ("texts#wire", "Press Association", WIRE)
    with pytest.raises(ConfigError, match="not bytes"):
        provenance.scan(texts=WIRE.encode())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="not bytes"):
        provenance.scan(str(SAMPLES).encode())  # type: ignore[arg-type]


def test_a_record_nested_too_deeply_is_skipped_not_fatal() -> None:
    # json.dumps raised RecursionError out of scan; a JSON Lines line this deep is skipped.
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    report = provenance.scan(texts=[{"text": WIRE, "meta": deep}, WIRE[:150]])
    assert [c.doc.id for c in report.cleaned] == ["texts#2"]
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("texts#1", "not a JSON-like record: nested too deeply")]


def test_run_of_one_path_reads_that_path_not_each_of_its_characters(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # provenance.run("corpus/") read "c", "o", ..., and "/": the whole file system. Relative
    # here, so that the old behaviour fails the test instead of walking from the root.
    (tmp_path / "ab.txt").write_text(WIRE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    report = provenance.run("ab.txt")
    assert [c.doc.id for c in report.cleaned] == ["ab.txt"] and report.skipped == []
    assert provenance.report_dict(report) == provenance.report_dict(provenance.scan("ab.txt"))


def test_a_text_over_the_record_limit_is_skipped_before_it_is_copied() -> None:
    # A text of N characters was serialised and encoded (two more copies of it) before the limit.
    import tracemalloc

    big = "word " * 2_000_000  # 10 MB
    config = Config(ingest=provenance.IngestConfig(max_record_bytes=1 << 20))
    tracemalloc.start()
    try:
        report = provenance.scan(texts=[big, {"id": "b", "html": big}, WIRE], config=config)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [c.doc.id for c in report.cleaned] == ["texts#3"]
    assert peak < len(big)
    assert [s.reason for s in report.skipped] == [
        "a field of 10,000,000 characters is over the record limit of 1,048,576 bytes"] * 2
