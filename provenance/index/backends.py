"""``open_store``: the backend an index spec names (a file path: SQLite; ``redis://``: Redis).

Apart from ``store`` so that neither backend imports the module that imports it.
"""

from __future__ import annotations

import os

from ..errors import IndexStoreError
from .sqlite import SQLiteStore
from .store import IndexStore


def open_store(spec: str | os.PathLike[str], *, create: bool = False,
               timeout: float = 600.0) -> IndexStore:
    """Open the index at ``spec``: a file path (SQLite) or a ``redis://`` URL.

    Args:
        spec: ``corpus.db`` or ``redis://host:6379/0`` (``?prefix=NAME`` keeps
            several indexes in one Redis database).
        create: open for ``create()`` (``index build``); otherwise the index
            must exist and be valid.
        timeout: seconds to wait for another writer's lock.

    Raises:
        IndexStoreError: missing, not an index, of another schema, or unreachable.
    """
    text = os.fspath(spec)
    if text.startswith(("redis://", "rediss://", "unix://")):
        try:
            from .redis_store import RedisStore  # imports redis only when it is used
        except ModuleNotFoundError as exc:
            if exc.name != "redis":
                raise
            raise IndexStoreError(f"{text}: a Redis index needs the redis package:"
                                  " pip install 'provenance[redis]'") from exc
        return RedisStore(text, create=create, timeout=timeout)
    return SQLiteStore(text, create=create, timeout=timeout)
