"""The index in Redis: a shared index for a fleet of CI runners.

Selected by a ``redis://host:port/db`` URL (``rediss://`` and ``unix://`` too);
``?prefix=NAME`` keeps several indexes in one database. Keys, all under
``provenance:v1:NAME:`` (``v1`` is the schema)::

    meta             hash: format, schema, params (JSON), created_with, documents, passages
    next             counter that numbers documents
    docs             set of document numbers
    id:<doc id>      the number of the document with that id
    doc:<n>          hash: id, outlet, url, date, hash, npass, meta (JSON), text (zlib),
                     sig, psig, pspans, tkeys (numpy tobytes), scope, page
    tp:<scope>       hash: page -> documents on that page (template statistics)
    tl:<scope>:<key> hash: page -> documents on that page holding that short line
    h:<sha256>       set of numbers of documents with that cleaned text
    d:<band key>     set of document numbers in that bucket
    p:<band key>     set of "n:passage" in that bucket

Every ``add`` is one ``MULTI``/``EXEC`` transaction, under ``WATCH`` of the ids it
writes: two adds of different documents both land; two that write the same id
retry in turn; a client that dies before ``EXEC`` leaves nothing behind.
A build is one such transaction too, and it claims the index by writing
``meta`` under ``WATCH`` of it: of two builds of one new index, the first
``EXEC`` lands and the other fails clearly (a forced one replaces it instead),
and a build killed before its ``EXEC`` leaves the old state, key for key.
"""

from __future__ import annotations

import contextlib
import json
import re
import zlib
from collections.abc import Collection, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit, urlunsplit

import numpy as np
import redis
from redis.exceptions import RedisError, WatchError

from ..errors import IndexStoreError
from ..templates import TemplateCounts
from ..version import __version__
from .store import FORMAT, SCHEMA, AddResult, Entry, StoredDoc, decode_array, keys_of, pause_for_test

_BATCH = 5000


def safe_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages)."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


#: Characters that Redis's MATCH reads as a pattern.
_GLOB = re.compile(r"[*?\[\]\\^]")


class RedisStore:
    """An index in a Redis database."""

    backend = "redis"

    def __init__(self, url: str, *, create: bool = False, timeout: float = 600.0) -> None:
        self.spec = safe_url(url)
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        name = query.pop("prefix", [""])[0] or "default"
        # ":" ends the name in every key, so a name never holds one: "team" and "team:corpus"
        # must not share keys (a forced rebuild of "team" would delete the other's).
        self.prefix = f"provenance:v{SCHEMA}:{quote(name, safe='')}:"
        clean_url = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
        self._pending: dict[str, Any] | None = None
        self._force = False  # the pending build may replace an index (``create(force=True)``)
        try:
            self.r = redis.Redis.from_url(clean_url, socket_connect_timeout=5, socket_timeout=timeout)
            self.r.ping()
            meta = self.r.hgetall(self.k("meta"))
        except (RedisError, OSError, ValueError) as exc:
            raise IndexStoreError(f"cannot reach Redis at {self.spec}: {_reason(exc)}") from exc
        # one document fewer on a page; the field goes when none is left, so HLEN counts pages
        self._decrement = self.r.register_script(
            "if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then"
            " redis.call('HDEL', KEYS[1], ARGV[1]) end")
        self._meta = {_text(k): _text(v) for k, v in meta.items()}
        self._params: dict[str, Any] | None = None
        if self._meta:
            self._params = self._validate(self._meta)
        elif not create:
            raise IndexStoreError(f"no provenance index at {self.spec} (prefix {self.prefix!r}); create"
                                  f" it first with: provenance index build PATH... --index {self.spec}")

    def k(self, *parts: object) -> str:
        """A key under this index's prefix."""
        return self.prefix + ":".join(str(p) for p in parts)

    def _validate(self, meta: dict[str, str]) -> dict[str, Any]:
        if meta.get("format") != FORMAT:
            raise IndexStoreError(f"{self.spec}: keys under {self.prefix!r} are not a provenance index")
        if meta.get("schema") != SCHEMA:
            raise IndexStoreError(f"{self.spec}: index schema {meta.get('schema')}, this provenance reads"
                                  f" schema {SCHEMA}; rebuild it with --force")
        params: dict[str, Any] = json.loads(meta["params"])
        return params

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except WatchError:
            raise
        except (RedisError, OSError) as exc:
            raise IndexStoreError(f"Redis at {self.spec}: {what} failed: {_reason(exc)}") from exc

    # creating

    def create(self, params: dict[str, Any], force: bool = False) -> None:
        """A new index: written by the first ``add``'s transaction.

        With ``force``, an old index under the prefix is deleted in that same
        transaction, so that readers see the old index until the new one is
        complete, and a build that fails leaves the old one as it was.
        """
        if self._params is not None and not force:
            raise IndexStoreError(f"{self.spec} already holds an index (prefix {self.prefix!r});"
                                  f" extend it with: provenance index add PATH... --index {self.spec},"
                                  " or rebuild it with --force")
        self._force = force
        self._pending = params

    def _old_keys(self) -> list[bytes]:
        """This index's keys, and no other's: the prefix is matched literally (glob characters
        escaped), and it ends with the ":" that no name holds."""
        return list(self.r.scan_iter(match=_GLOB.sub(r"\\\g<0>", self.prefix) + "*", count=5000))

    def commit(self) -> None:
        return None

    def abort(self) -> None:
        self._pending = None
        self._force = False

    def close(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            self.r.close()

    def params(self) -> dict[str, Any]:
        params = self._pending if self._pending is not None else self._params
        assert params is not None
        return params

    # writing

    def add(self, entries: Iterable[Entry]) -> AddResult:
        """Add (or replace, by id) documents in one MULTI/EXEC transaction."""
        staged: dict[str, Entry] = {}
        for e in entries:
            staged[e.id] = e
        ids = sorted(staged)
        for _attempt in range(50):
            try:
                result: AddResult = self._call("add", self._add_once, ids, staged)
                return result
            except WatchError:
                continue
        raise IndexStoreError(f"{self.spec}: gave up after 50 tries: other writers kept changing"
                              " the same documents")

    def _add_once(self, ids: list[str], staged: dict[str, Entry]) -> AddResult:
        params = self.params()
        dtype, width = params["sign"]["dtype"], int(params["sign"]["num_perm"])
        with self.r.pipeline(transaction=True) as pipe:
            id_keys = [self.k("id", i) for i in ids]
            pipe.watch(self.k("meta"), *id_keys)  # type: ignore[no-untyped-call]
            # A build claims the index by writing its meta in this transaction, under WATCH of
            # meta: if another build's EXEC lands first, this one's fails and the retry sees it.
            # A new build then stops (its index was not kept); a forced one replaces that index.
            building = self._pending is not None
            replace = building and bool(pipe.exists(self.k("meta")))
            if replace and not self._force:
                raise IndexStoreError(f"{self.spec}: another build created this index while this one"
                                      " ran; this build was not kept (rebuild with --force to replace"
                                      " it)")
            old_keys = self._old_keys() if replace else []
            current = ([None] * len(ids) if building  # the old index's ids are not this one's
                       else [x for chunk in _chunks(id_keys) for x in pipe.mget(chunk)])
            old: dict[str, int] = {i: int(n) for i, n in zip(ids, current, strict=True) if n is not None}
            old_docs = {i: pipe.hmget(self.k("doc", n), "hash", "sig", "psig", "npass", "scope", "page",
                                      "tkeys")
                        for i, n in old.items()}
            unchanged = {i for i, (h, *_rest) in old_docs.items()
                         if h is not None and _text(h) == staged[i].hash}
            todo = [i for i in ids if i not in unchanged]
            base = 0  # a build numbers from 1 in its transaction: a killed one leaves no counter behind
            if not building and todo:
                base = int(self.r.incrby(self.k("next"), len(todo))) - len(todo)
            pipe.multi()
            for chunk in _chunks(old_keys):  # the old index goes in the transaction that writes the new
                pipe.unlink(*chunk)
            if building:
                pipe.set(self.k("next"), len(todo))
            if self._pending is not None:
                pipe.hset(self.k("meta"), mapping={
                    "format": FORMAT, "schema": SCHEMA, "created_with": __version__,
                    "params": json.dumps(self._pending, sort_keys=True), "documents": 0, "passages": 0})
            dropped_passages = 0
            for i in todo:
                if i in old_docs:
                    h, sig, psig, npass, scope, page, tkeys = old_docs[i]
                    n = old[i]
                    pipe.delete(self.k("doc", n))
                    if h is None:
                        continue  # a number without a document: nothing else to remove
                    dkeys, pkeys, valid = keys_of(decode_array(_bytes(sig), dtype, 0),
                                                  decode_array(_bytes(psig), dtype, width), params)
                    for key in dkeys:
                        pipe.srem(self.k("d", int(key)), n)
                    for p in np.nonzero(valid)[0]:
                        for key in pkeys[p]:
                            pipe.srem(self.k("p", int(key)), f"{n}:{int(p)}")
                    pipe.srem(self.k("h", _text(h)), n)
                    if scope is not None and page is not None:
                        self._decrement(keys=[self.k("tp", _text(scope))], args=[_text(page)], client=pipe)
                        for key in np.unique(np.frombuffer(_bytes(tkeys), dtype=np.uint64)):
                            self._decrement(keys=[self.k("tl", _text(scope), int(key))], args=[_text(page)],
                                            client=pipe)
                    pipe.srem(self.k("docs"), n)
                    dropped_passages += int(_text(npass))
            passages = 0
            for offset, i in enumerate(todo, start=1):
                e, n = staged[i], base + offset
                passages += len(e.psig)
                meta, text = e.pack()
                pipe.hset(self.k("doc", n), mapping={
                    "id": e.id, "outlet": e.outlet or "", "url": e.url or "", "date": e.date or "",
                    "hash": e.hash, "npass": len(e.psig), "meta": meta, "text": text, "sig": e.sig.tobytes(),
                    "psig": np.ascontiguousarray(e.psig).tobytes(),
                    "pspans": np.ascontiguousarray(e.pspans, dtype=np.uint32).tobytes(),
                    "scope": e.scope, "page": e.page,
                    "tkeys": np.ascontiguousarray(e.tkeys, dtype=np.uint64).tobytes()})
                pipe.set(self.k("id", i), n)
                pipe.hincrby(self.k("tp", e.scope), str(e.page), 1)
                for key in np.unique(e.tkeys):
                    pipe.hincrby(self.k("tl", e.scope, int(key)), str(e.page), 1)
                pipe.sadd(self.k("docs"), n)
                pipe.sadd(self.k("h", e.hash), n)
                for key in e.dkeys:
                    pipe.sadd(self.k("d", int(key)), n)
                for p in np.nonzero(e.pvalid)[0]:
                    for key in e.pkeys[p]:
                        pipe.sadd(self.k("p", int(key)), f"{n}:{int(p)}")
            replaced = len(old_docs) - len(unchanged)
            added = len(todo) - replaced
            pipe.hincrby(self.k("meta"), "documents", added)
            pipe.hincrby(self.k("meta"), "passages", passages - dropped_passages)
            pipe.scard(self.k("docs"))
            pause_for_test()
            results = pipe.execute()
        if self._pending is not None:
            self._params, self._pending, self._force = self._pending, None, False
        return AddResult(added=added, replaced=replaced, unchanged=len(unchanged), total=int(results[-1]))

    # reading

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        yield  # each read is one pipeline; a replaced document is skipped if it vanished meanwhile

    def count(self) -> int:
        return int(self._call("count", self.r.scard, self.k("docs")))

    def stats(self) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            meta = {_text(k): _text(v) for k, v in self.r.hgetall(self.k("meta")).items()}
            memory = self.r.info("memory").get("used_memory")
            return {"backend": self.backend, "index": self.spec, "prefix": self.prefix,
                    "documents": int(self.r.scard(self.k("docs"))), "passages": int(meta["passages"]),
                    "created_with": meta.get("created_with"), "schema": meta.get("schema"),
                    "bytes": memory, "bytes_note": "used_memory of the whole Redis server",
                    "params": self.params()}
        return dict(self._call("stats", read))

    def _members(self, keys: list[str]) -> list[set[bytes]]:
        out: list[set[bytes]] = []
        for chunk in _chunks(keys):
            pipe = self.r.pipeline(transaction=False)
            for key in chunk:
                pipe.smembers(key)
            out.extend(self._call("reading buckets", pipe.execute))
        return out

    def find_hashes(self, hashes: Collection[str]) -> dict[str, list[int]]:
        wanted = sorted(set(hashes))
        found = self._members([self.k("h", h) for h in wanted])
        return {h: sorted(int(x) for x in members) for h, members in zip(wanted, found, strict=True)
                if members}

    def doc_buckets(self, keys: Collection[int], cap: int) -> dict[int, list[int]]:
        wanted = sorted(set(keys))
        found = self._members([self.k("d", key) for key in wanted])
        return {key: sorted(int(x) for x in members)[:cap]
                for key, members in zip(wanted, found, strict=True) if members}

    def passage_buckets(self, keys: Collection[int], cap: int) -> dict[int, list[tuple[int, int]]]:
        wanted = sorted(set(keys))
        found = self._members([self.k("p", key) for key in wanted])
        out: dict[int, list[tuple[int, int]]] = {}
        for key, members in zip(wanted, found, strict=True):
            if members:
                pairs = sorted(tuple(int(v) for v in x.split(b":")) for x in members)
                out[key] = [(a, b) for a, b in pairs[:cap]]
        return out

    def load(self, rowids: Collection[int]) -> list[StoredDoc]:
        wanted = sorted(set(rowids))
        out = []
        for chunk in _chunks(wanted):
            pipe = self.r.pipeline(transaction=False)
            for n in chunk:
                pipe.hmget(self.k("doc", n), "id", "meta", "text", "pspans", "sig")
            for n, (doc_id, meta, text, pspans, sig) in zip(chunk, self._call("loading", pipe.execute),
                                                           strict=True):
                if doc_id is None:
                    continue  # replaced by a concurrent add since its bucket was read
                out.append(StoredDoc(n, doc_id.decode(), json.loads(meta),
                                     zlib.decompress(text).decode("utf-8"),
                                     decode_array(pspans, "uint32", 2), sig))
        return out


    def template_counts(self, wanted: dict[str, tuple[set[int], set[int]]]) -> dict[str, TemplateCounts]:
        """``SQLiteStore.template_counts``: reads the fields of the asked-about lines and pages only."""
        out = {}
        for scope, (keys, pages) in sorted(wanted.items()):
            ordered, asked = sorted(keys), sorted(pages)
            pipe = self.r.pipeline(transaction=False)
            pipe.hlen(self.k("tp", scope))
            if asked:
                pipe.hmget(self.k("tp", scope), [str(p) for p in asked])
            for key in ordered:
                pipe.hlen(self.k("tl", scope, key))
            replies = self._call("reading templates", pipe.execute)
            known = {p for p, n in zip(asked, replies[1], strict=True) if n is not None} if asked else set()
            counts = replies[2:] if asked else replies[1:]
            holders = {k: int(c) for k, c in zip(ordered, counts, strict=True) if int(c)}
            out[scope] = TemplateCounts(int(replies[0]), holders, known)
        return out


def _chunks(items: list[Any], size: int = _BATCH) -> Iterator[list[Any]]:
    for k in range(0, len(items), size):
        yield items[k:k + size]


def _bytes(value: Any) -> bytes:
    """A reply as bytes (the client does not decode replies)."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def _text(value: Any) -> str:
    """A reply as text."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
