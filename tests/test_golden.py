"""The whole JSON report on samples/ against a reviewed golden file, and determinism."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from provenance import Config, run
from provenance.render.report import to_json

from .conftest import ROOT

GOLDEN = Path(__file__).parent / "golden" / "samples.json"


def _scan_json() -> str:
    return to_json(run(["samples"], Config()))


def test_report_matches_golden(monkeypatch: pytest.MonkeyPatch, update_golden: bool) -> None:
    monkeypatch.chdir(ROOT)
    text = _scan_json()
    if update_golden:
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.exists(), "run pytest --update-golden once and review tests/golden/samples.json"
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_same_input_gives_byte_identical_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    first = hashlib.sha256(_scan_json().encode()).hexdigest()
    second = hashlib.sha256(_scan_json().encode()).hexdigest()
    assert first == second


def test_another_seed_changes_signatures_but_not_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed is recorded in params; findings are robust to it on clear-cut copies."""
    from provenance.config import SignConfig

    monkeypatch.chdir(ROOT)
    a = run(["samples"], Config())
    b = run(["samples"], Config(sign=SignConfig(seed=7)))
    assert b.params["sign"]["seed"] == 7
    ids = [c.doc.id for c in a.cleaned]
    assert [[ids[m] for m in g.members] for g in a.groups] == [[ids[m] for m in g.members] for g in b.groups]
