"""The library's import graph: no module imports one that imports it back (issue 14, in part).

Every ``import`` and ``from . import`` in ``provenance/``, at module level or inside a
function, is an edge. The cycles that remain are listed here, to be removed by the
restructuring; a new one fails the test.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "provenance"

#: Cycles still there (the restructuring of issue 14 removes them); none may be added.
KNOWN_CYCLES = {
    frozenset({"provenance.cli", "provenance.__main__"}),  # python -m provenance.cli runs __main__'s app
}


def _edges() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for file in sorted(PACKAGE.glob("*.py")):
        name = "provenance" if file.stem == "__init__" else f"provenance.{file.stem}"
        found = edges.setdefault(name, set())
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level == 1 and node.module:
                    found.add(f"provenance.{node.module.split('.')[0]}")
                elif node.level == 1:
                    found.update(f"provenance.{a.name}" for a in node.names)
                elif node.module and node.module.startswith("provenance."):
                    found.add(".".join(node.module.split(".")[:2]))
            elif isinstance(node, ast.Import):
                found.update(".".join(a.name.split(".")[:2]) for a in node.names
                             if a.name.startswith("provenance."))
        found.discard(name)
    return edges


def test_no_two_modules_import_each_other() -> None:
    edges = _edges()
    mutual = {frozenset({a, b}) for a, targets in edges.items() for b in targets
              if a in edges.get(b, set()) and b != "provenance" and a != "provenance"}
    assert mutual == KNOWN_CYCLES


def test_the_cli_modules_and_the_pool_import_no_stage_back() -> None:
    """cli_index shares the CLI's pieces through cli_common, not cli; the worker pool
    (parallel) runs the stages' functions and is never imported back by match."""
    edges = _edges()
    assert "provenance.cli" not in edges["provenance.cli_index"]
    assert "provenance.cli" not in edges["provenance.cli_common"]
    assert "provenance.cli_index" not in edges["provenance.cli_common"]
    assert "provenance.match" not in edges["provenance.parallel"]
