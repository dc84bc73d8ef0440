"""JSON Lines dumps (and records given in memory) -> ``Document`` records.

Each line is read up to ``max_record_bytes`` (a longer one is skipped and read past), decoded
as UTF-8, parsed with a nesting bound, and must be an object with a non-empty ``text`` or
``html``; ``id``, ``outlet``, ``date``, ``url`` and ``title`` are taken when present. A bad
line is one ``Skipped`` record, and the rest of the file is read.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .config import IngestConfig
from .dates import parse_date
from .decode import Inflated, inflate_bound, nonempty, open_regular
from .errors import InputError
from .pages import html_document, unique_id
from .records import Document, Skipped

#: The name records given in memory are known by (``texts#ID``), as a file's are by its name.
TEXTS_ID = "texts"


def read_records(records: Iterable[str | Mapping[str, object]],
                 cfg: IngestConfig | None = None) -> Iterator[Document | Skipped]:
    """Documents from records in memory: a text, or a mapping with ``text`` or ``html`` and
    optionally ``id``, ``outlet``, ``date``, ``url``, ``title``.

    Each is checked exactly as a JSON Lines line is (``jsonl_record``: the same fields,
    limits and errors), so a library caller and a file get the same documents; ids are
    ``texts#ID`` (``texts#N`` for the Nth record without one). A record that is not
    serialisable, or not a text or a mapping, is ``Skipped``.
    """
    cfg = cfg or IngestConfig()
    seen: set[str] = set()
    for n, record in enumerate(records, start=1):
        where = f"{TEXTS_ID}#{n}"
        try:
            if isinstance(record, str):
                record = {"text": record}
            if not isinstance(record, Mapping):
                raise InputError(where, f"expected a text or a mapping, got {type(record).__name__}")
            longest = max((len(v) for v in record.values() if isinstance(v, str)), default=0)
            if longest > cfg.max_record_bytes:  # a character is a byte or more: not copied to find out
                raise InputError(where, f"a field of {longest:,} characters is over the record limit of"
                                        f" {cfg.max_record_bytes:,} bytes")
            try:
                line = json.dumps(dict(record), ensure_ascii=False).encode("utf-8")
            except (TypeError, ValueError) as exc:
                raise InputError(where, f"not a JSON-like record: {exc}") from exc
            except RecursionError as exc:  # as a JSON Lines line nested too deeply is
                raise InputError(where, "not a JSON-like record: nested too deeply") from exc
            if len(line) > cfg.max_record_bytes:
                raise InputError(where, f"record of {len(line):,} bytes is over the limit of"
                                        f" {cfg.max_record_bytes:,}")
            yield jsonl_record(line, n, TEXTS_ID, TEXTS_ID, cfg, seen)
        except InputError as exc:
            yield Skipped(exc.path, exc.reason)


def jsonl_lines(file: Path, cfg: IngestConfig) -> Iterator[tuple[int, bytes] | Skipped]:
    """A JSON Lines file's non-blank lines as ``(line number, bytes)``, bounded (``jsonl_stream_lines``).

    A ``.gz`` file is inflated as it is read, within ``inflate_bound`` of its
    size. The parallel reader batches the same lines, so both read a file identically.
    """
    path = str(file)
    try:
        handle = open_regular(file, path)
        if file.name.lower().endswith(".gz"):
            handle = Inflated(handle, inflate_bound(os.fstat(handle.fileno()).st_size, cfg), path)
    except InputError as exc:
        yield Skipped(exc.path, exc.reason)
        return
    with handle:
        yield from jsonl_stream_lines(handle, path, cfg)


def jsonl_stream_lines(handle: Any, path: str, cfg: IngestConfig) -> Iterator[tuple[int, bytes] | Skipped]:
    """The non-blank lines of a JSON Lines stream as ``(line number, bytes)``, bounded.

    A line over ``max_record_bytes`` is skipped (and the rest of it read past
    without keeping it); when no line end comes within twice that, the rest of
    the file is not read (a file with no newline, or an endless one, is not
    read to its end). Reading stops after ``max_records_per_file`` lines,
    and a file with no line at all is reported empty. A stream that fails
    midway (a gzip bomb, a corrupt gzip) ends with one ``Skipped``.
    """
    read_any = False
    try:
        for lineno in range(1, cfg.max_records_per_file + 1):
            line = handle.readline(cfg.max_record_bytes + 1)
            if not line:
                break
            if len(line) > cfg.max_record_bytes and not line.endswith(b"\n"):
                read_any = True
                passed = 0  # the rest of the line is read past, up to another limit's worth
                while line and not line.endswith(b"\n") and passed <= cfg.max_record_bytes:
                    line = handle.readline(1 << 20)
                    passed += len(line)
                if line and not line.endswith(b"\n"):  # no line end in sight: not JSON Lines
                    yield Skipped(f"{path}#{lineno}", f"too large: a line over {cfg.max_record_bytes}"
                                  " bytes, with no line end within twice that; the rest of the file"
                                  " is not read")
                    break
                yield Skipped(f"{path}#{lineno}", f"too large: a line over {cfg.max_record_bytes} bytes")
                continue
            if line.strip():
                read_any = True
                yield lineno, line
        else:
            more = handle.readline(1 << 16)
            while more and not more.strip():  # blank lines after the last record are not records
                more = handle.readline(1 << 16)
            if more:
                yield Skipped(path, f"stopped after {cfg.max_records_per_file} records")
    except InputError as exc:
        yield Skipped(exc.path, exc.reason)
        return
    if not read_any:
        yield Skipped(path, "empty file")


def jsonl_documents(lines: Iterable[tuple[int, bytes] | Skipped], rel: str, path: str,
                     cfg: IngestConfig, seen: set[str]) -> Iterator[Document | Skipped]:
    for item in lines:
        if isinstance(item, Skipped):
            yield item
            continue
        lineno, line = item
        try:
            yield jsonl_record(line, lineno, rel, path, cfg, seen)
        except InputError as exc:
            yield Skipped(exc.path, exc.reason)


def _field(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


#: Half of a surrogate pair (JSON escapes one as ``"\\ud800"``; ``json`` reads it as such).
_SURROGATE = re.compile("[\ud800-\udfff]")


def _whole(value: str) -> str:
    """``value`` with each lone surrogate (``"\\ud800"`` escaped in JSON, half of a pair
    alone) as U+FFFD: no text of Unicode holds one, and it could not be written out, hashed
    or matched as UTF-8. A character for a character: offsets stay."""
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def jsonl_record(line: bytes, lineno: int, rel: str, path: str, cfg: IngestConfig,
                 seen: set[str]) -> Document:
    where = f"{path}#{lineno}"
    try:
        text_line = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(where, f"invalid UTF-8 at byte {exc.start} (JSON Lines must be UTF-8)") from exc
    try:
        record = json.loads(text_line)
    except RecursionError as exc:
        raise InputError(where, "malformed JSON: nested too deeply") from exc
    except ValueError as exc:
        raise InputError(where, f"malformed JSON: {exc}") from exc
    if not isinstance(record, dict):
        raise InputError(where, "malformed record: expected a JSON object")
    if any([type(v) is str and not v.isascii() and _SURROGATE.search(v) for v in record.values()]):
        record = {key: _whole(value) if isinstance(value, str) else value for key, value in record.items()}
    rec_id = _field(record, "id") or str(lineno)
    doc_id = unique_id(f"{rel}#{rec_id}", seen)
    where = f"{path}#{rec_id}"
    date_raw, outlet = _field(record, "date"), _field(record, "outlet")
    date = parse_date(date_raw) if date_raw else None
    fields: dict[str, Any] = {
        "url": _field(record, "url"), "title": _field(record, "title"),
        "outlet": outlet, "outlet_source": "jsonl" if outlet else None,
        "date": date, "date_source": "jsonl" if date else None,
    }
    html, text = record.get("html"), record.get("text")
    if isinstance(html, str) and html.strip():
        doc = html_document(doc_id, where, nonempty(html, where), cfg)
        for key, value in fields.items():
            if value is not None:  # the dump's own fields win over page metadata
                setattr(doc, key, value)
        return doc
    if isinstance(text, str) and text.strip():
        return Document(id=doc_id, path=where, text=nonempty(text, where), kind="text", **fields)
    raise InputError(where, "record has no non-empty 'text' or 'html' string")
