"""provenance: strip page furniture from scraped text, find copies, say who published first."""

from __future__ import annotations

__version__ = "0.1.0"

from .config import Config  # noqa: E402  (after __version__, which pipeline imports)
from .errors import ConfigError, InputError, OutputError, ProvenanceError  # noqa: E402
from .pipeline import Report, run  # noqa: E402

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
