"""The project's modules compiled to bytecode before anything is timed.

``pip install .`` compiles a package's modules as it installs them, and Python
writes the bytecode of an editable checkout at its first run. Where
``PYTHONDONTWRITEBYTECODE`` is set (this workplace's machines set it), an editable
checkout is compiled anew at every start instead: 0.06 s of each ``provenance``
command that no installed copy pays, while the peers, installed from PyPI, were
compiled when installed. So the benchmarks compile it once, first.
"""

from __future__ import annotations

import compileall
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "provenance"


def compile_project(checkout: Path | None = None) -> None:
    """Write the bytecode of every module of ``provenance/`` (this checkout's, or ``checkout``'s);
    modules whose bytecode is up to date are skipped."""
    compileall.compile_dir(str(checkout / "provenance" if checkout else PACKAGE), quiet=1)
