"""provenance: strip page furniture from scraped text, find copies, say who published first.

The Python API (the README's "Python API" section): ``scan`` files, folders or
texts into a ``Report``; ``report_dict`` / ``report_json`` for the JSON report;
``build_index``, ``open_index`` and ``check`` for a stored index; ``Config`` and
its parts for every parameter; the records a report holds; the error tree.
Names load their modules on first use, so that ``import provenance`` (and the
command's ``--version``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import CleanConfig, Config, IngestConfig, MatchConfig, SignConfig, VerifyConfig
from .errors import ConfigError, IndexStoreError, InputError, NothingReadable, OutputError, ProvenanceError
from .version import __version__

if TYPE_CHECKING:
    from .api import build_index, check, open_index, report_dict, report_json, scan
    from .families import Family
    from .index.check import CheckReport
    from .index.store import AddResult, IndexStore
    from .pipeline import Report, run
    from .records import CleanDoc, Derivation, Document, Evidence, Group, PassageMatch, Removal, Skipped

#: Public name -> the module that defines it (loaded on first use).
_LAZY = {
    "scan": "api", "check": "api", "build_index": "api", "open_index": "api",
    "report_dict": "api", "report_json": "api",
    "Report": "pipeline", "run": "pipeline",
    "CheckReport": "index.check",
    "AddResult": "index.store", "IndexStore": "index.store",
    "Family": "families",
    "CleanDoc": "records", "Derivation": "records", "Document": "records", "Evidence": "records",
    "Group": "records", "PassageMatch": "records", "Removal": "records", "Skipped": "records",
}


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use (numpy and the parsers are not imported before)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'provenance' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The lazy names too (``dir``, ``help`` and completion see the whole API before first use)."""
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AddResult",
    "CheckReport",
    "CleanConfig",
    "CleanDoc",
    "Config",
    "ConfigError",
    "Derivation",
    "Document",
    "Evidence",
    "Family",
    "Group",
    "IndexStore",
    "IndexStoreError",
    "IngestConfig",
    "InputError",
    "MatchConfig",
    "NothingReadable",
    "OutputError",
    "PassageMatch",
    "ProvenanceError",
    "Removal",
    "Report",
    "SignConfig",
    "Skipped",
    "VerifyConfig",
    "__version__",
    "build_index",
    "check",
    "open_index",
    "report_dict",
    "report_json",
    "run",
    "scan",
]
