"""provenance: strip page furniture from scraped text, find copies, say who published first."""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from .config import Config
from .errors import ConfigError, InputError, OutputError, ProvenanceError

if TYPE_CHECKING:
    from .pipeline import Report, run


def __getattr__(name: str) -> Any:
    """``Report`` and ``run`` load the pipeline (numpy, the parsers) on first use, so that the
    command's ``--version`` and ``--help`` start fast."""
    if name in ("Report", "run"):
        from . import pipeline

        value = getattr(pipeline, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'provenance' has no attribute {name!r}")

__all__ = [
    "Config",
    "ConfigError",
    "InputError",
    "OutputError",
    "ProvenanceError",
    "Report",
    "__version__",
    "run",
]
