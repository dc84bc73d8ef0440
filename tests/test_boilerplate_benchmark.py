"""The boilerplate benchmark's diagnostics (``benchmarks/boilerplate/run.py``) follow the library."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from .test_boilerplate_gate import LEAD, article, clean_html, page

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "boilerplate" / "run.py"


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("boilerplate_benchmark_run", RUN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_diagnostics_name_the_main_element() -> None:
    # main_prefix moved from clean to structure: the diagnostics must still find it
    html = page("<nav><a href='/'>Home</a> <a href='/about'>About us</a></nav>" + article()
                + "<footer>Copyright 2024 Harbour News Ltd</footer>")
    cleaned = clean_html(html)
    found = _benchmark().Diagnoser().page({"id": "p.html", "html": html}, cleaned.doc, cleaned,
                                          [], [LEAD], {})
    assert found["main_element"] is not None and found["main_element"].startswith("main")
