"""provenance: strip page furniture from scraped text, find copies, say who published first."""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Config
from .errors import ConfigError, InputError, OutputError, ProvenanceError
from .pipeline import Report, run

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
