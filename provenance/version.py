"""The version: its one source (``pyproject.toml`` reads it; ``provenance.__version__`` re-exports it).

A module of its own, at the bottom of the import graph, so that the modules that record the
version (reports, indexes) need not import the package root that imports them.
"""

__version__ = "0.1.0"
