"""Shared fixtures: the samples corpus, one scan of it, and golden-file refresh."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from provenance import Config, Report, run

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SEEDS = SAMPLES / "seeds"
SEED_004 = SEEDS / "004_c7de8c5f71fa409e.txt"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="Rewrite tests/golden/*.json from the current output; review the diff.")


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def samples_report() -> Report:
    """One scan of samples/ with default parameters, shared by the tests that read it."""
    return run([SAMPLES], Config())


@pytest.fixture(scope="session")
def by_id(samples_report: Report) -> dict[str, int]:
    """Document id -> index in ``samples_report.cleaned``."""
    return {c.doc.id: i for i, c in enumerate(samples_report.cleaned)}


def python_output(code: str, *args: str, timeout: float = 120) -> str:
    """What a fresh interpreter prints for ``code`` (a probe of what it imports, starts or
    leaves behind), stripped; the test fails on an error exit."""
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()
