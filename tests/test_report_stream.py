"""The JSON report written as a stream (issue 13): the bytes of the report made whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance import Config, run
from provenance.render import report as report_module
from provenance.render.report import to_json, to_json_chunks

from .conftest import SAMPLES


@pytest.mark.parametrize("piece", [1, 1 << 20])
def test_the_streamed_report_is_the_whole_one(piece: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_module, "PIECE_BYTES", piece)
    report = run([SAMPLES], Config())
    assert report.cleaned and report.groups and report.matches
    assert b"".join(to_json_chunks(report)) == to_json(report).encode("utf-8")


def test_a_report_of_nothing_streams_as_it_is_written_whole(tmp_path: Path) -> None:
    report = run([tmp_path], Config())
    assert b"".join(to_json_chunks(report)) == to_json(report).encode("utf-8")


def test_a_report_with_one_document_streams_as_it_is_written_whole(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Line one\n\n\u00e9t\u00e9 \u201cquoted\u201d \\ \" \t tab\n", encoding="utf-8")
    report = run([tmp_path], Config())
    assert b"".join(to_json_chunks(report)) == to_json(report).encode("utf-8")
