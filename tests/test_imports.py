"""The library's import graph: no module imports one that imports it back (issue 14, in part).

Every ``import`` and ``from . import`` in ``provenance/``, at module level or inside a
function, is an edge. The cycles that remain are listed here, to be removed by the
restructuring; a new one fails the test.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "provenance"

#: Cycles still there; none may be added (the restructuring of issue 14 removed the last two).
KNOWN_CYCLES: set[frozenset[str]] = set()


def _module_name(file: Path, package: Path = PACKAGE) -> str:
    parts = ["provenance", *file.relative_to(package).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _edges(package_dir: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (a subpackage's ``__init__`` counts as
    the subpackage; ``from .. import name`` as the module ``name`` when there is one)."""
    modules = {_module_name(f, package_dir) for f in package_dir.rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for file in sorted(package_dir.rglob("*.py")):
        name = _module_name(file, package_dir)
        package = name if file.stem == "__init__" else name.rpartition(".")[0]
        found = edges.setdefault(name, set())
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if not target.startswith("provenance"):
                    continue
                subs = [f"{target}.{a.name}" for a in node.names]
                named = [t for t in subs if t in modules]
                found.update(named or [target])
            elif isinstance(node, ast.Import):
                # ``import provenance`` too: its lazy names (``provenance.scan``) are the API layer's
                found.update(a.name for a in node.names
                             if a.name == "provenance" or a.name.startswith("provenance."))
        found.discard(name)
    return edges


def test_no_two_modules_import_each_other() -> None:
    edges = _edges()
    mutual = {frozenset({a, b}) for a, targets in edges.items() for b in targets
              if a in edges.get(b, set()) and b != "provenance" and a != "provenance"}
    assert mutual == KNOWN_CYCLES


def test_the_cli_modules_and_the_pool_import_no_stage_back() -> None:
    """cli.index shares the CLI's pieces through cli.common, not cli; the worker pool
    runs the stages' functions and imports none of them (each stage hands it its batches)."""
    edges = _edges()
    assert "provenance.cli" not in edges["provenance.cli.index"]
    assert "provenance.cli" not in edges["provenance.cli.common"]
    assert "provenance.cli.index" not in edges["provenance.cli.common"]
    assert "provenance.cli" not in edges["provenance.cli.options"]
    assert {e for e in edges["provenance.runtime.pool"] if not e.startswith("provenance.runtime.")} == set()


#: The stack, bottom first: a module imports only from its own layer or those below. Every
#: module of the package must be placed (a new one fails ``test_every_module_has_a_layer``).
LAYERS = [
    ["provenance.version", "provenance.errors", "provenance.config", "provenance.names", "provenance.runtime",
     "provenance.runtime.memory", "provenance.runtime.owner_lock", "provenance.runtime.lifeline",
     "provenance.runtime._forkserver_lifeline", "provenance.render.safe_text"],
    ["provenance.runtime.spill", "provenance.runtime.diskarray", "provenance.runtime.pool", "provenance.runtime.forked",
     "provenance.records",
     "provenance.arrays"],
    # the stages and their helpers
    ["provenance.lang", "provenance.dates", "provenance.agencies", "provenance.outlets", "provenance.credits",
     "provenance.htmltext", "provenance.decode", "provenance.pages", "provenance.jsonl", "provenance.warc",
     "provenance.ingest", "provenance.phrases", "provenance.structure", "provenance.clean", "provenance.templates",
     "provenance.bands", "provenance.shingles",
     "provenance.signatures", "provenance.sign", "provenance.passages", "provenance.verify", "provenance.fingerprints",
     "provenance.derive",
     "provenance.evidence", "provenance.lineage", "provenance.families", "provenance.match",
     "provenance.read_clean"],
    ["provenance.pipeline"],
    ["provenance.spark_lsh", "provenance.spark_families", "provenance.spark_rewrites", "provenance.spark_backend",
     "provenance.spark_input", "provenance.spark_engine"],  # the pipeline's stages on Spark (issue 15)
    ["provenance.render", "provenance.render.output", "provenance.render.report", "provenance.render.terminal",
     "provenance.render.graph", "provenance.render.html_report", "provenance.render.corpus"],
    ["provenance.index", "provenance.index.store", "provenance.index.params", "provenance.index.sqlite",
     "provenance.index.redis_store", "provenance.index.backends", "provenance.index.check"],
    ["provenance.render.check_format"],  # renders a check's report
    ["provenance.api", "provenance", "provenance.spark_job"],
    ["provenance.cli", "provenance.cli.options", "provenance.cli.common", "provenance.cli.index", "provenance.cli.app",
     "provenance.cli.__main__", "provenance.__main__"],
]


def test_every_module_has_a_layer() -> None:
    placed = {m for layer in LAYERS for m in layer}
    assert set(_edges()) == placed


def test_each_form_of_import_is_an_edge(tmp_path: Path) -> None:
    # The layer test sees an upward import only if ``_edges`` does, whatever its form.
    pkg = tmp_path / "provenance"
    (pkg / "sub").mkdir(parents=True)
    for name in ("__init__", "low", "high", "sub/__init__", "sub/deep"):
        (pkg / f"{name}.py").write_text("")
    forms = {
        "from .high import f": "provenance.high", "from . import high": "provenance.high",
        "from provenance import high": "provenance.high", "from provenance.high import f": "provenance.high",
        "import provenance.high": "provenance.high", "import provenance.high as h": "provenance.high",
        "import provenance": "provenance", "from provenance import scan": "provenance",
        "from .sub.deep import g": "provenance.sub.deep", "from .sub import deep": "provenance.sub.deep",
    }
    for statement, target in forms.items():
        (pkg / "low.py").write_text(f"def later():\n    {statement}\n")
        assert _edges(pkg)["provenance.low"] == {target}, statement
    (pkg / "sub" / "deep.py").write_text("from .. import high\nfrom ..low import x\n")
    assert _edges(pkg)["provenance.sub.deep"] == {"provenance.high", "provenance.low"}


def test_every_import_points_down_the_stack() -> None:
    layer = {m: i for i, ms in enumerate(LAYERS) for m in ms}
    upward = sorted(f"{a} -> {b}" for a, targets in _edges().items() for b in targets
                    if layer[b] > layer[a])
    assert upward == []
