"""Errors this package raises on purpose.

The tree is small on purpose (as in httpx)::

    ProvenanceError
    ├── InputError        a source that cannot be read as a document (has .path)
    ├── ConfigError       impossible or conflicting parameters
    │   └── NothingReadable   no input could be read (an index is not built of nothing)
    ├── OutputError       a destination that cannot be written safely
    └── IndexStoreError   an index that is missing, unreadable, of another kind or schema,
                          built with other parameters, or unreachable

A document that is skipped is *not* an error for the run: ingest turns an
``InputError`` into a ``Skipped`` record and goes on with the rest.
"""

from __future__ import annotations


class ProvenanceError(Exception):
    """Base for every error this package raises on purpose."""


class InputError(ProvenanceError, ValueError):
    """A source that cannot be read as a document.

    Args:
        path: the file (or ``file#record``) that failed.
        reason: one line saying why, e.g. ``"binary file (NUL bytes in the first 8 KiB)"``.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class ConfigError(ProvenanceError, ValueError):
    """Impossible or conflicting parameters."""


class OutputError(ProvenanceError, OSError):
    """A destination that cannot be written safely."""


class NothingReadable(ConfigError):
    """No input could be read as a document."""


class IndexStoreError(ProvenanceError):
    """An index that is missing, unreadable, not an index, or unreachable."""
