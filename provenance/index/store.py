"""A stored index of a corpus: documents, signatures and LSH band keys.

``open_store(spec)`` opens one: a file path is an SQLite index (the embedded
default), a ``redis://`` URL a Redis one (``redis_store``). Both hold, for
every document, its id, outlet, url, date, the sha256 of its cleaned text,
its metadata (the report's document entry plus the kept spans), the cleaned
text (zlib), the MinHash values of the document and of its passages (numpy
``tobytes``, dtype recorded in the parameters: nothing is pickled), the
passages' spans, and one row per LSH band key. A query reads only the
buckets of the keys it asks for, never the whole corpus.

Each document also keeps its template scope, page key and short lines' keys
(``templates.LineKeys``); the index counts, per scope, the documents on each
page and on each (line, page), so that ``add`` and ``check`` learn each outlet's
templates together with the new files' by reading only the rows of the new
files' own lines.

This module holds what both backends share: the records an index stores, the
``IndexStore`` protocol, band keys and array codecs. ``backends.open_store`` picks
the backend; ``sqlite`` and ``redis_store`` implement it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import zlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..bands import band_keys, banding
from ..templates import TemplateCounts

#: Written into every index; a file without it is not a provenance index.
FORMAT = "provenance-index"
#: Bumped when the stored layout changes; an index of another schema is refused.
SCHEMA = "2"
#: Test-only hook: when set to a file path, ``add`` creates that file inside its
#: transaction, after writing the documents' rows, and sleeps there for
#: ``PROVENANCE_TEST_PAUSE_SECONDS`` (default 120), so that a test can kill the
#: process mid-transaction or race another writer (see tests/test_index.py).
#: Never set it otherwise.
PAUSE_ENV = "PROVENANCE_TEST_PAUSE_IN_ADD"
#: The value of an empty MinHash slot (datasketch's ``_max_hash``).
EMPTY_VALUE = 0xFFFFFFFF


@dataclass
class Entry:
    """One document as the index stores it."""

    id: str
    hash: str  # sha256 of the cleaned text
    outlet: str | None
    url: str | None
    date: str | None
    meta: dict[str, Any]  # report.document_dict() plus "kept"
    text: str  # the cleaned text
    sig: np.ndarray  # (num_perm,)
    psig: np.ndarray  # (passages, num_perm)
    pspans: np.ndarray  # (passages, 2) uint32: start, end in the cleaned text
    dkeys: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # (b,) or empty
    pkeys: np.ndarray = field(default_factory=lambda: np.empty((0, 0), np.int64))  # (passages, b)
    pvalid: np.ndarray = field(default_factory=lambda: np.empty(0, bool))  # passages with keys
    packed: tuple[str, bytes] | None = None  # (meta as JSON, zlib text), when made in a worker
    scope: str = ""  # templates.scope_of: the outlet, else the folder
    page: int = 0  # templates.LineKeys.page
    tkeys: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))  # LineKeys.keys

    def pack(self) -> tuple[str, bytes]:
        """The metadata as JSON and the text compressed, as stored."""
        if self.packed is None:
            self.packed = (json.dumps(self.meta, sort_keys=True, ensure_ascii=False),
                           zlib.compress(self.text.encode("utf-8"), 6))
        return self.packed


@dataclass(frozen=True)
class StoredDoc:
    """A document read back from the index for verification."""

    rowid: int
    id: str
    meta: dict[str, Any]
    text: str
    pspans: np.ndarray
    sig: bytes = b""  # the document's MinHash values, as stored (dtype in the parameters)


@dataclass(frozen=True)
class AddResult:
    """What one ``add`` did."""

    added: int
    replaced: int
    unchanged: int
    total: int


class IndexStore(Protocol):
    """What ``check`` needs of a stored index; ``SQLiteStore`` and ``RedisStore`` implement it."""

    spec: str
    backend: str

    def create(self, params: dict[str, Any], force: bool = False) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...
    def params(self) -> dict[str, Any]: ...
    def add(self, entries: Iterable[Entry]) -> AddResult: ...
    def count(self) -> int: ...
    def stats(self) -> dict[str, Any]: ...
    def snapshot(self) -> contextlib.AbstractContextManager[None]: ...
    def find_hashes(self, hashes: Collection[str]) -> dict[str, list[int]]: ...
    def doc_buckets(self, keys: Collection[int], cap: int) -> dict[int, list[int]]: ...
    def passage_buckets(self, keys: Collection[int], cap: int) -> dict[int, list[tuple[int, int]]]: ...
    def load(self, rowids: Collection[int]) -> list[StoredDoc]: ...
    def template_counts(self, wanted: dict[str, tuple[set[int], set[int]]]) -> dict[str, TemplateCounts]: ...
    def close(self) -> None: ...


# -- shared helpers ---------------------------------------------------------

def decode_array(blob: bytes, dtype: str, width: int) -> np.ndarray:
    """A 2-D array from ``tobytes()`` output, ``width`` columns."""
    arr = np.frombuffer(blob, dtype=np.dtype(dtype))
    return arr.reshape(-1, width) if width else arr


def signed64(value: int) -> int:
    """A 64-bit unsigned hash as the signed integer SQLite stores."""
    return value - (1 << 64) if value >= 1 << 63 else value


def unsigned64(value: int) -> int:
    """``signed64`` undone."""
    return value + (1 << 64) if value < 0 else value


def keys_of(sig: np.ndarray, psig: np.ndarray, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray,
                                                                                    np.ndarray]:
    """Band keys of a document and of its passages under ``params``; empty signatures get none.

    Returns ``(doc_keys, passage_keys, passage_has_keys)``.
    """
    num_perm = int(params["sign"]["num_perm"])
    db, dr = banding(float(params["match"]["doc_threshold"]), num_perm)
    pb, pr = banding(float(params["match"]["passage_threshold"]), num_perm)
    dkeys = (np.empty(0, np.int64) if np.all(sig == EMPTY_VALUE)
             else band_keys(sig.reshape(1, -1), db, dr)[0])
    valid = ~np.all(psig == EMPTY_VALUE, axis=1) if len(psig) else np.empty(0, bool)
    pkeys = band_keys(psig, pb, pr) if len(psig) else np.empty((0, pb), np.int64)
    return dkeys, pkeys, valid


def pause_for_test() -> None:
    """The test-only hook of ``PAUSE_ENV``: signal, then sleep inside the transaction."""
    marker = os.environ.get(PAUSE_ENV)
    if marker:
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(float(os.environ.get("PROVENANCE_TEST_PAUSE_SECONDS", "120")))
