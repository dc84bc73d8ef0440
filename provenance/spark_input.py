"""Inputs named by Hadoop file-system URIs (``hdfs://``, ``s3a://``, ``file:///``...), for the Spark engine.

A path with a scheme is listed on the driver through Hadoop's ``FileSystem`` (the user's Hadoop
configuration says how to reach it) and read on the executors (``sc.binaryFiles``); what each
file's bytes hold is read by ``ingest.read_bytes`` and cleaned by ``read_clean.clean_bytes``,
the readers and limits of a local file. As in a local folder scan, a folder's files are read in
the order of ``ingest.walk`` (a folder's files by name, then its folders by name), their ids
are their paths relative to the folder, hidden entries and other file types are ``Skipped``
with the local reasons, and ``outlets.json`` atop the folder is the run's outlets file.
Documents' and skips' paths spell the URI as given, followed by the relative path.

A file is read whole into an executor's memory, so besides the local limits a JSON Lines or
WARC file over ``MAX_REMOTE_BYTES`` is skipped (locally such files are streamed); the size is
known from the listing, so no such file is read at all. A file named ``_x``, or with one of
``, { } [ ] * ? \\`` in its path, is skipped with the reason: Hadoop's input formats pass the
first over and read the second as patterns.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import OUTLETS_FILE, Config
from .errors import ConfigError
from .ingest import is_uri, kind_of
from .outlets import Outlets, find_outlets_files
from .records import Skipped

if TYPE_CHECKING:
    from pyspark import SparkContext

#: The largest JSON Lines or WARC file read from a Hadoop URI (it is read whole on an executor).
MAX_REMOTE_BYTES = 1 << 30
#: Characters Hadoop's input lists read as globs or separators: a file named with one is skipped.
_GLOB = re.compile(r"[,{}\[\]*?\\]")
@dataclass(frozen=True)
class Remote:
    """A file to read through Hadoop: its qualified path (``binaryFiles``' key), how documents
    name it, and its id (its path relative to the folder scanned)."""

    key: str
    path: str
    rel: str
    size: int


def _jvm(sc: SparkContext) -> Any:
    jvm: Any = sc._jvm
    return jvm


def _fs(sc: SparkContext, uri: str) -> tuple[Any, Any]:
    """Hadoop's ``Path`` for ``uri`` and its ``FileSystem``; a ``ConfigError`` naming the URI when
    Hadoop cannot reach it (no file system for the scheme, no such host...)."""
    try:
        path = _jvm(sc).org.apache.hadoop.fs.Path(uri)
        jsc: Any = sc._jsc
        return path, path.getFileSystem(jsc.hadoopConfiguration())
    except Exception as exc:
        raise ConfigError(f"{uri}: {_java_reason(exc)}") from exc


def _java_reason(exc: Exception) -> str:
    java = getattr(exc, "java_exception", None)
    text = str(java.toString()) if java is not None else str(exc)
    return " ".join(text.split())[:300] or type(exc).__name__


def _key(parts: list[str]) -> tuple[tuple[int, str], ...]:
    """``ingest.walk``'s order as a sort key: in each folder its files by name, then its folders."""
    return (*((1, d) for d in parts[:-1]), (0, parts[-1]))


def hadoop_sources(sc: SparkContext, uri: str, config: Config) -> Iterator[Remote | Skipped]:
    """The files below ``uri`` (or ``uri`` itself, a file) to read, with their ids, and a
    ``Skipped`` for each entry not read, in ``ingest.walk``'s order."""
    cfg = config.ingest
    path, fs = _fs(sc, uri)
    try:
        if not fs.exists(path):
            yield Skipped(uri, "no such file or folder")
            return
        status = fs.getFileStatus(path)
        root = status.getPath().toString().rstrip("/")
        if not status.isDirectory():
            rel = path.getName() if cfg.file_ids != "path" else uri
            yield from _one(uri, Remote(root, uri, rel, int(status.getLen())))
            return
        listed = fs.listFiles(path, True)
        found: list[tuple[tuple[tuple[int, str], ...], Remote | Skipped]] = []
        hidden: set[str] = set()
        base = uri.rstrip("/")
        while listed.hasNext():
            st = listed.next()
            key = st.getPath().toString()
            rel = key[len(root) + 1:] if key.startswith(root + "/") else st.getPath().getName()
            parts = rel.split("/")
            dot = next((i for i, p in enumerate(parts) if p.startswith(".")), None)
            if dot is not None:  # a hidden entry is reported once, as ingest.walk reports it
                name = "/".join(parts[:dot + 1])
                if name not in hidden:
                    hidden.add(name)
                    what = "file" if dot == len(parts) - 1 else "folder"
                    found.append((_key(parts[:dot + 1]), Skipped(f"{base}/{name}", f"hidden {what}")))
                continue
            if rel == OUTLETS_FILE:
                continue  # the run's outlets file (hadoop_outlets), as ingest.folder_files passes it over
            found.append((_key(parts), Remote(key, f"{base}/{rel}", rel, int(st.getLen()))))
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"{uri}: {_java_reason(exc)}") from exc
    found.sort(key=lambda kv: kv[0])
    for _, item in found:
        yield from _one(uri, item) if isinstance(item, Remote) else [item]


def _one(uri: str, item: Remote) -> Iterator[Remote | Skipped]:
    """A listed file, or why it is not read: another file type, or a name Hadoop's input formats
    pass over (``_x``) or read as a glob (its size is judged by ``too_large``)."""
    kind = kind_of(item.path.rsplit("/", 1)[-1])
    name = item.path.rsplit("/", 1)[-1]
    if kind is None:
        suffix = Path(name).suffix
        yield Skipped(item.path, f"unsupported file type ({suffix or 'no extension'})")
    elif name.startswith("_"):  # FileInputFormat's hidden-file filter drops it even when named
        yield Skipped(item.path, "a name starting with _ is not read from a Hadoop URI (Hadoop's"
                                 " input formats pass such files over)")
    elif _GLOB.search(item.key):
        yield Skipped(item.path, "a name Hadoop's input lists read as a pattern (one of , { } [ ] * ? \\)"
                                 " is not read from a Hadoop URI")
    else:
        yield item


def too_large(item: Remote, config: Config) -> Skipped | None:
    """Why a listed file is not read for its size, as ``decode.read_bounded`` would say it."""
    kind = kind_of(item.path.rsplit("/", 1)[-1])
    limit = config.ingest.max_file_bytes if kind in ("text", "html") else MAX_REMOTE_BYTES
    if item.size > limit:
        extra = "" if kind in ("text", "html") else " (a file from a Hadoop URI is read whole on an executor)"
        return Skipped(item.path, f"too large: over {limit} bytes{extra}")
    return None


def hadoop_outlets(sc: SparkContext, uri: str, config: Config) -> tuple[str, Outlets] | None:
    """``outlets.json`` atop a folder named by a URI, read on the driver (and its URI), if any."""
    path, fs = _fs(sc, uri)
    try:
        if not fs.exists(path) or not fs.getFileStatus(path).isDirectory():
            return None
        file = _jvm(sc).org.apache.hadoop.fs.Path(path, OUTLETS_FILE)
        if not fs.exists(file):
            return None
        status = fs.getFileStatus(file)
        if status.getLen() > config.ingest.max_file_bytes:
            raise ConfigError(f"{uri.rstrip('/')}/{OUTLETS_FILE}: too large for an outlets file")
        data = _read_all(sc, fs, file, int(status.getLen()))
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"{uri}: {_java_reason(exc)}") from exc
    name = f"{uri.rstrip('/')}/{OUTLETS_FILE}"
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, OUTLETS_FILE)
        Path(local).write_bytes(data)
        try:
            return name, Outlets.load(local)
        except ConfigError as exc:
            raise ConfigError(str(exc).replace(local, name)) from exc


def _read_all(sc: SparkContext, fs: Any, file: Any, size: int) -> bytes:
    """A small file's bytes, through the JVM (``IOUtils.readFully``)."""
    jvm = _jvm(sc)
    stream = fs.open(file)
    try:
        data = jvm.org.apache.commons.io.IOUtils.toByteArray(stream)  # py4j gives bytes
        return bytes(data)[:size + 1]
    finally:
        stream.close()


def spark_outlets(sc: SparkContext, paths: list[str | Path], config: Config) -> tuple[list[str], Outlets]:
    """``pipeline.load_outlets`` over local paths and URIs: ``outlets.json`` atop each folder
    (read through Hadoop for a URI), in the order of the paths, then the named one; and their names."""
    names: list[str] = []
    outlets = Outlets()
    for raw in paths:
        if isinstance(raw, str) and is_uri(raw):
            found = hadoop_outlets(sc, raw, config)
            if found is not None:
                names.append(found[0])
                outlets = outlets.merge(found[1])
        else:
            for file in find_outlets_files([Path(raw)]):
                names.append(str(file))
                outlets = outlets.merge(Outlets.load(file))
    if config.ingest.outlets_file:
        named = config.ingest.outlets_file
        if not Path(named).is_file():
            raise ConfigError(f"{named}: no such outlets file")
        names.append(named)
        outlets = outlets.merge(Outlets.load(named))
    return names, outlets
