"""The ``provenance`` command: a thin typer layer over the library (``app``: scan, clean,
report, graph; ``index``: index build/add/stats and check; ``common``: shared options).
"""

from .app import app

__all__ = ["app"]
