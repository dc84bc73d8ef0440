"""The SQLite index (the embedded default): one file, WAL.

SQLite schema (one file, WAL)::

    meta(key TEXT PRIMARY KEY, value TEXT)     format, schema, params (JSON), counts
    docs(rowid INTEGER PRIMARY KEY, id TEXT UNIQUE, outlet, url, date, hash,
         npass, meta TEXT, text BLOB, sig BLOB, psig BLOB, pspans BLOB,
         scope TEXT, page INTEGER, tkeys BLOB)
    tpage(scope, page, n)                      documents on each page of a scope
    tline(scope, key, page, n)                 documents holding each short line, by page
    dband(key INTEGER, doc INTEGER, PRIMARY KEY (key, doc)) WITHOUT ROWID
    pband(key INTEGER, doc INTEGER, passage INTEGER,
          PRIMARY KEY (key, doc, passage)) WITHOUT ROWID

Every ``add`` is one transaction (``BEGIN IMMEDIATE``): rows are first staged
in connection-private TEMP tables without any lock on the index, then copied
in, sorted by key, under the write lock. Concurrent adds wait for each other
(``busy_timeout``); readers never wait (WAL). A process killed during an add
leaves the index as it was. ``build`` writes a new file beside the target and
renames it into place when complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import zlib
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from ..errors import IndexStoreError
from ..runtime.owner_lock import hold, ownerless, unchanged_for
from ..templates import TemplateCounts
from ..version import __version__
from .store import (
    FORMAT,
    SCHEMA,
    AddResult,
    Entry,
    StoredDoc,
    decode_array,
    keys_of,
    pause_for_test,
    signed64,
    unsigned64,
)

_SQLITE_MAGIC = b"SQLite format 3\x00"


def _passage_rows(n: int, e: Entry) -> np.ndarray:
    """``(key, n, passage)`` rows of an entry's valid passages, as an int64 array."""
    valid = np.nonzero(e.pvalid)[0]
    if not len(valid):
        return np.empty((0, 3), np.int64)
    keys = e.pkeys[valid]
    return np.column_stack([keys.ravel(), np.full(keys.size, n, np.int64),
                            np.repeat(valid.astype(np.int64), keys.shape[1])])


def _chunks(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for k in range(0, len(items), size):
        yield items[k:k + size]


_SCHEMA_SQL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE docs (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, outlet TEXT, url TEXT,
                   date TEXT, hash TEXT NOT NULL, npass INTEGER NOT NULL, meta TEXT NOT NULL,
                   text BLOB NOT NULL, sig BLOB NOT NULL, psig BLOB NOT NULL, pspans BLOB NOT NULL,
                   scope TEXT NOT NULL, page INTEGER NOT NULL, tkeys BLOB NOT NULL);
CREATE INDEX docs_hash ON docs (hash);
CREATE TABLE tpage (scope TEXT NOT NULL, page INTEGER NOT NULL, n INTEGER NOT NULL,
                    PRIMARY KEY (scope, page)) WITHOUT ROWID;
CREATE TABLE tline (scope TEXT NOT NULL, key INTEGER NOT NULL, page INTEGER NOT NULL, n INTEGER NOT NULL,
                    PRIMARY KEY (scope, key, page)) WITHOUT ROWID;
CREATE TABLE dband (key INTEGER NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (key, doc)) WITHOUT ROWID;
CREATE TABLE pband (key INTEGER NOT NULL, doc INTEGER NOT NULL, passage INTEGER NOT NULL,
                    PRIMARY KEY (key, doc, passage)) WITHOUT ROWID;
"""

_STAGE_SQL = """
CREATE TEMP TABLE IF NOT EXISTS s_docs (n INTEGER PRIMARY KEY, id TEXT, outlet TEXT, url TEXT, date TEXT,
    hash TEXT, npass INTEGER, meta TEXT, text BLOB, sig BLOB, psig BLOB, pspans BLOB,
    scope TEXT, page INTEGER, tkeys BLOB);
CREATE TEMP TABLE IF NOT EXISTS s_dband (key INTEGER, n INTEGER);
CREATE TEMP TABLE IF NOT EXISTS s_tline (key INTEGER, n INTEGER);
CREATE TEMP TABLE IF NOT EXISTS s_pband (key INTEGER, n INTEGER, passage INTEGER);
DELETE FROM temp.s_docs; DELETE FROM temp.s_dband; DELETE FROM temp.s_pband; DELETE FROM temp.s_tline;
"""


class SQLiteStore:
    """An index in one SQLite file (WAL mode)."""

    backend = "sqlite"

    def __init__(self, path: str, *, create: bool = False, timeout: float = 600.0) -> None:
        self.spec = path
        self.path = Path(path)
        self.timeout = timeout
        self._con: sqlite3.Connection | None = None
        self._building: Path | None = None
        self._build_lock: int | None = None  # the flock-held lock of the build in progress
        self._force = False  # the pending build may replace an index
        self._params: dict[str, Any] | None = None
        self._exists = self.path.exists()
        if self.path.is_dir():
            raise IndexStoreError(f"{path} is a folder, not an index file")
        if not self._exists:
            if create:
                return
            raise IndexStoreError(f"{path}: no such index; create it first with: "
                                  f"provenance index build PATH... --index {path}")
        self._con = self._connect(self.path, must_be_index=True)

    # opening and creating

    def _connect(self, path: Path, must_be_index: bool) -> sqlite3.Connection:
        if must_be_index:
            _check_header(path)
        try:
            con = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True, timeout=self.timeout,
                                  isolation_level=None, check_same_thread=False)
            con.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            if must_be_index:
                self._params = _read_meta(con, path)
                if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise IndexStoreError(f"{path}: not a provenance index ({exc})") from exc
        return con

    def create(self, params: dict[str, Any], force: bool = False) -> None:
        """Start a new index in a file beside the target; ``commit()`` renames it into place."""
        if self._exists and not force:
            raise IndexStoreError(f"{self.spec} already exists; extend it with: provenance index add"
                                  f" PATH... --index {self.spec}, or rebuild it with --force")
        if self._con is not None:
            self._con.close()
            self._con = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_builds(self.path)
        # A random part: two builds in two containers may share a process id and a folder.
        tmp = self.path.with_name(f".{self.path.name}.build-{os.getpid()}-{secrets.token_hex(6)}")
        self._build_lock = hold(f"{tmp}{LOCK_SUFFIX}")  # before the file exists: see below
        con = sqlite3.connect(tmp, timeout=self.timeout, isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA journal_mode = OFF")  # a new file: atomic by rename, not by journal
        con.execute("PRAGMA synchronous = OFF")
        con.execute("PRAGMA cache_size = -262144")
        con.executescript(_SCHEMA_SQL)
        meta = {"format": FORMAT, "schema": SCHEMA, "params": json.dumps(params, sort_keys=True),
                "created_with": __version__, "documents": "0", "passages": "0"}
        con.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
        self._con, self._building, self._params = con, tmp, params
        self._force = force

    def commit(self) -> None:
        """Finish a build: switch the new file to WAL and rename it over the target."""
        if self._building is None or self._con is None:
            return
        con, tmp = self._con, self._building
        con.execute("PRAGMA synchronous = FULL")
        con.execute("PRAGMA journal_mode = WAL")
        con.close()
        Path(f"{tmp}-wal").unlink(missing_ok=True)
        Path(f"{tmp}-shm").unlink(missing_ok=True)
        if not self._force:
            # A new index: created only if nothing is there yet (a hard link fails if the name
            # exists), so of two builds of one new index one lands and the other says so.
            if not self.path.exists():
                self._drop_stale_log()
            try:
                os.link(tmp, self.path)
            except FileExistsError as exc:
                self._con = None  # closed above
                self.abort()
                raise IndexStoreError(f"{self.spec}: another build created this index while this one"
                                      " ran; this build was not kept (rebuild with --force to replace"
                                      " it)") from exc
            except OSError:  # a file system without hard links: the rename below
                pass
            else:
                tmp.unlink(missing_ok=True)
        if tmp.exists():
            self._drop_stale_log()
            os.replace(tmp, self.path)
        self._building = None
        self._release_build_lock(tmp)
        self._exists = True
        self._con = self._connect(self.path, must_be_index=True)

    def _drop_stale_log(self) -> None:
        """A log of an old file at the target's name must never meet the new one (SQLite would
        replay it into the new index)."""
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def abort(self) -> None:
        """Drop a build that did not finish; the target is untouched."""
        if self._building is not None:
            if self._con is not None:
                self._con.close()
                self._con = None
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{self._building}{suffix}").unlink(missing_ok=True)
            self._release_build_lock(self._building)
            self._building = None

    def _release_build_lock(self, tmp: Path) -> None:
        if self._build_lock is not None:
            Path(f"{tmp}{LOCK_SUFFIX}").unlink(missing_ok=True)
            os.close(self._build_lock)
            self._build_lock = None

    def close(self) -> None:
        self.abort()
        if self._con is not None:
            self._con.close()
            self._con = None

    @property
    def con(self) -> sqlite3.Connection:
        if self._con is None:
            raise IndexStoreError(f"{self.spec}: the index is not open")
        return self._con

    def params(self) -> dict[str, Any]:
        assert self._params is not None
        return self._params

    # writing

    def _stage(self, entries: Iterable[Entry]) -> int:
        """Copy entries into TEMP tables (no lock on the index); returns how many."""
        con = self.con
        con.executescript(_STAGE_SQL)
        n = 0
        batch: list[tuple[int, Entry]] = []
        con.execute("BEGIN")
        try:
            for entry in entries:
                n += 1
                batch.append((n, entry))
                if len(batch) >= 1000:
                    self._stage_batch(batch)
                    batch = []
            self._stage_batch(batch)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return n

    def _stage_batch(self, batch: list[tuple[int, Entry]]) -> None:
        if not batch:
            return
        con = self.con
        docs = []
        for n, e in batch:
            meta, text = e.pack()
            docs.append((n, e.id, e.outlet, e.url, e.date, e.hash, len(e.psig), meta, text, e.sig.tobytes(),
                         np.ascontiguousarray(e.psig).tobytes(),
                         np.ascontiguousarray(e.pspans, dtype=np.uint32).tobytes(),
                         e.scope, signed64(e.page), np.ascontiguousarray(e.tkeys, dtype=np.uint64).tobytes()))
        con.executemany("INSERT INTO temp.s_docs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", docs)
        con.executemany("INSERT INTO temp.s_dband VALUES (?, ?)", np.concatenate(
            [np.column_stack([e.dkeys, np.full(len(e.dkeys), n, np.int64)]) for n, e in batch]).tolist())
        rows = [_passage_rows(n, e) for n, e in batch]
        con.executemany("INSERT INTO temp.s_pband VALUES (?, ?, ?)", np.concatenate(rows).tolist())
        con.executemany("INSERT INTO temp.s_tline VALUES (?, ?)",
                        [(signed64(int(k)), n) for n, e in batch for k in np.unique(e.tkeys)])

    def add(self, entries: Iterable[Entry]) -> AddResult:
        """Add (or replace, by id) documents in one transaction."""
        con = self.con
        con.execute("PRAGMA cache_size = -131072")  # 128 MiB of page cache for the sorted inserts
        self._stage(entries)
        try:
            con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise IndexStoreError(f"{self.spec}: the index stayed locked by another writer for"
                                  f" {self.timeout:.0f} s ({exc})") from exc
        try:
            base = con.execute("SELECT coalesce(max(rowid), 0) FROM docs").fetchone()[0]
            same = con.execute("SELECT s.n, d.rowid, d.hash = s.hash FROM temp.s_docs s"
                               " JOIN docs d ON d.id = s.id").fetchall()
            unchanged = [(n,) for n, _, equal in same if equal]
            for table in ("s_docs", "s_dband", "s_pband", "s_tline"):
                con.executemany(f"DELETE FROM temp.{table} WHERE n = ?", unchanged)
            dropped_passages = sum(self._delete(rowid) for _, rowid, equal in same if not equal)
            con.execute("INSERT INTO docs (rowid, id, outlet, url, date, hash, npass, meta, text, sig,"
                        " psig, pspans, scope, page, tkeys) SELECT n + ?, id, outlet, url, date, hash, npass,"
                        " meta, text, sig, psig, pspans, scope, page, tkeys FROM temp.s_docs ORDER BY n",
                        (base,))
            pause_for_test()
            con.execute("INSERT OR IGNORE INTO dband (key, doc) SELECT key, n + ? FROM temp.s_dband"
                        " ORDER BY key, n", (base,))
            con.execute("INSERT OR IGNORE INTO pband (key, doc, passage) SELECT key, n + ?, passage"
                        " FROM temp.s_pband ORDER BY key, n, passage", (base,))
            # template statistics: how many documents hold each (scope, page), (scope, line, page)
            con.execute("INSERT INTO tpage (scope, page, n) SELECT scope, page, count(*) FROM temp.s_docs"
                        " WHERE true GROUP BY scope, page"
                        " ON CONFLICT (scope, page) DO UPDATE SET n = n + excluded.n")
            con.execute("INSERT INTO tline (scope, key, page, n) SELECT d.scope, t.key, d.page, count(*)"
                        " FROM temp.s_tline t JOIN temp.s_docs d ON d.n = t.n WHERE true"
                        " GROUP BY d.scope, t.key, d.page"
                        " ON CONFLICT (scope, key, page) DO UPDATE SET n = n + excluded.n")
            inserted, passages = con.execute("SELECT count(*), coalesce(sum(npass), 0)"
                                             " FROM temp.s_docs").fetchone()
            replaced = len(same) - len(unchanged)
            counts = dict(con.execute("SELECT key, value FROM meta WHERE key IN"
                                      " ('documents', 'passages')").fetchall())
            total = int(counts.get("documents", 0)) + inserted - replaced
            con.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [
                ("documents", str(total)),
                ("passages", str(int(counts.get("passages", 0)) + passages - dropped_passages))])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.executescript("DELETE FROM temp.s_docs; DELETE FROM temp.s_dband; DELETE FROM temp.s_pband;"
                              " DELETE FROM temp.s_tline;")
        return AddResult(added=inserted - replaced, replaced=replaced, unchanged=len(unchanged),
                         total=total)

    def _delete(self, rowid: int) -> int:
        """Remove one document and its band rows (inside the caller's transaction)."""
        con, params = self.con, self.params()
        sig_blob, psig_blob, npass, scope, page, tkeys = con.execute(
            "SELECT sig, psig, npass, scope, page, tkeys FROM docs WHERE rowid = ?", (rowid,)).fetchone()
        con.execute("UPDATE tpage SET n = n - 1 WHERE scope = ? AND page = ?", (scope, page))
        con.executemany("UPDATE tline SET n = n - 1 WHERE scope = ? AND key = ? AND page = ?",
                        [(scope, signed64(int(k)), page) for k in np.unique(np.frombuffer(tkeys, np.uint64))])
        con.execute("DELETE FROM tpage WHERE scope = ? AND page = ? AND n <= 0", (scope, page))
        con.execute("DELETE FROM tline WHERE scope = ? AND page = ? AND n <= 0", (scope, page))
        dtype, width = params["sign"]["dtype"], int(params["sign"]["num_perm"])
        dkeys, pkeys, valid = keys_of(decode_array(sig_blob, dtype, 0),
                                      decode_array(psig_blob, dtype, width), params)
        con.executemany("DELETE FROM dband WHERE key = ? AND doc = ?", ((int(k), rowid) for k in dkeys))
        con.executemany("DELETE FROM pband WHERE key = ? AND doc = ? AND passage = ?",
                        ((int(k), rowid, int(p)) for p in np.nonzero(valid)[0] for k in pkeys[p]))
        con.execute("DELETE FROM docs WHERE rowid = ?", (rowid,))
        return int(npass)

    # reading

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one state of the index, whatever writers commit meanwhile."""
        con = self.con
        con.execute("BEGIN")
        try:
            yield
        finally:
            con.execute("COMMIT")

    def count(self) -> int:
        row = self.con.execute("SELECT value FROM meta WHERE key = 'documents'").fetchone()
        return int(row[0]) if row else 0

    def stats(self) -> dict[str, Any]:
        con = self.con
        counts = dict(con.execute("SELECT key, value FROM meta").fetchall())
        size = sum(Path(f"{self.path}{s}").stat().st_size for s in ("", "-wal")
                   if Path(f"{self.path}{s}").exists())
        return {"backend": self.backend, "index": self.spec, "documents": int(counts["documents"]),
                "passages": int(counts["passages"]), "created_with": counts.get("created_with"),
                "schema": counts["schema"], "bytes": size, "params": self.params()}

    def find_hashes(self, hashes: Collection[str]) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for chunk in _chunks(sorted(set(hashes))):
            marks = ",".join("?" * len(chunk))
            for h, rowid in self.con.execute(
                    f"SELECT hash, rowid FROM docs WHERE hash IN ({marks}) ORDER BY rowid", chunk):
                out.setdefault(h, []).append(rowid)
        return out

    def doc_buckets(self, keys: Collection[int], cap: int) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for key in sorted(set(keys)):
            rows = self.con.execute("SELECT doc FROM dband WHERE key = ? LIMIT ?", (key, cap)).fetchall()
            if rows:
                out[key] = [r[0] for r in rows]
        return out

    def passage_buckets(self, keys: Collection[int], cap: int) -> dict[int, list[tuple[int, int]]]:
        out: dict[int, list[tuple[int, int]]] = {}
        for key in sorted(set(keys)):
            rows = self.con.execute("SELECT doc, passage FROM pband WHERE key = ? LIMIT ?",
                                    (key, cap)).fetchall()
            if rows:
                out[key] = [(r[0], r[1]) for r in rows]
        return out

    def load(self, rowids: Collection[int]) -> list[StoredDoc]:
        out = []
        for chunk in _chunks(sorted(set(rowids))):
            marks = ",".join("?" * len(chunk))
            for rowid, doc_id, meta, text, pspans, sig in self.con.execute(
                    f"SELECT rowid, id, meta, text, pspans, sig FROM docs WHERE rowid IN ({marks})", chunk):
                out.append(StoredDoc(rowid, doc_id, json.loads(meta),
                                     zlib.decompress(text).decode("utf-8"),
                                     decode_array(pspans, "uint32", 2), sig))
        return out


    def template_counts(self, wanted: dict[str, tuple[set[int], set[int]]]) -> dict[str, TemplateCounts]:
        """For each scope: (its line keys, its pages) of the new files -> what the index knows.

        Reads only the rows of those keys and pages (and the scope's page count),
        so a check costs in proportion to its own lines, not to the corpus.
        """
        out = {}
        for scope, (keys, pages) in sorted(wanted.items()):
            total = self.con.execute("SELECT count(*) FROM tpage WHERE scope = ?", (scope,)).fetchone()[0]
            holders: dict[int, int] = {}
            known: set[int] = set()
            for chunk in _chunks(sorted(signed64(k) for k in keys)):
                marks = ",".join("?" * len(chunk))
                for key, count in self.con.execute(
                        f"SELECT key, count(*) FROM tline WHERE scope = ? AND key IN ({marks}) GROUP BY key",
                        [scope, *chunk]):
                    holders[unsigned64(key)] = int(count)
            for chunk in _chunks(sorted(signed64(p) for p in pages)):
                marks = ",".join("?" * len(chunk))
                known |= {unsigned64(p) for (p,) in self.con.execute(
                    f"SELECT page FROM tpage WHERE scope = ? AND page IN ({marks})", [scope, *chunk])}
            out[scope] = TemplateCounts(int(total), holders, known)
        return out


#: Beside a build's file, the lock its builder holds (``flock``) for as long as it runs.
#: Beside a build's file, the lock its builder holds (``owner_lock``) for as long as it runs.
LOCK_SUFFIX = ".lock"


def _remove_stale_builds(path: Path) -> None:
    """Delete the half-written files of builds whose builder is gone (killed, or the machine stopped).

    A build writes ``.NAME.build-PID-RANDOM`` beside the index and renames it into place at
    the end; one that died never did, and its file would stay. Its builder holds a ``flock``
    on ``.NAME.build-...lock`` from before the file exists until it is renamed or dropped, so
    a file whose lock can be taken has no live builder, in any process namespace or container
    (a process id says nothing across them). The kernel releases the lock of a killed process.
    """
    for leftover in path.parent.glob(f".{path.name}.build-*"):
        name = leftover.name
        if name.endswith((LOCK_SUFFIX, "-journal", "-wal", "-shm")):
            continue
        try:
            with ownerless(f"{leftover}{LOCK_SUFFIX}") as gone:
                if gone:  # its builder is gone: the file, its logs and the lock
                    for suffix in ("", "-journal", "-wal", "-shm", LOCK_SUFFIX):
                        Path(f"{leftover}{suffix}").unlink(missing_ok=True)
        except FileNotFoundError:  # no lock: an older provenance's build
            if unchanged_for(str(leftover)):
                leftover.unlink(missing_ok=True)


def _check_header(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        raise IndexStoreError(f"{path}: cannot read the index: {exc.strerror or exc}") from exc
    if not head:
        raise IndexStoreError(f"{path}: not a provenance index (empty file)")
    if head != _SQLITE_MAGIC:
        raise IndexStoreError(f"{path}: not a provenance index (not an SQLite database); "
                              "build one with: provenance index build PATH... --index FILE")


def _read_meta(con: sqlite3.Connection, path: Path) -> dict[str, Any]:
    try:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        raise IndexStoreError(f"{path}: an SQLite database, but not a provenance index"
                              f" ({exc})") from exc
    if meta.get("format") != FORMAT:
        raise IndexStoreError(f"{path}: an SQLite database, but not a provenance index"
                              f" (format {meta.get('format')!r}, expected {FORMAT!r})")
    if meta.get("schema") != SCHEMA:
        raise IndexStoreError(f"{path}: index schema {meta.get('schema')}, this provenance reads schema"
                              f" {SCHEMA}; rebuild it with: provenance index build ... --force")
    try:
        params: dict[str, Any] = json.loads(meta["params"])
    except (KeyError, ValueError) as exc:
        raise IndexStoreError(f"{path}: the index's parameters are unreadable ({exc})") from exc
    return params
