"""WARC and WET files (warcio) -> ``Document`` records: HTML responses and Common Crawl's
text conversions; other records are passed over, oversized ones unread (seeked past in a
``.warc``, discarded in pieces in a ``.warc.gz``).
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .config import IngestConfig
from .dates import parse_date
from .decode import DISCARD_CHUNK, GZIP_MAGIC, decode_bytes, inflate_bound, open_regular, sniff_charset
from .errors import InputError
from .pages import html_document, unique_id
from .records import Document, Skipped


def _host_outlet(url: str | None) -> str | None:
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host or None


#: WARC record types that hold a document: a crawled page, or its text (Common Crawl's WET).
DOCUMENT_RECORDS = ("response", "conversion")


def read_warc(file: Path, rel: str, cfg: IngestConfig, seen: set[str]) -> Iterator[Document | Skipped]:
    path = str(file)
    try:
        handle = open_regular(file, path)
    except InputError as exc:
        yield Skipped(exc.path, exc.reason)
        return
    with handle:
        bound = inflate_bound(os.fstat(handle.fileno()).st_size, cfg)
        yield from warc_records(handle, rel, path, cfg, seen, bound)


def warc_records(handle: Any, rel: str, path: str, cfg: IngestConfig, seen: set[str],
                  bound: int) -> Iterator[Document | Skipped]:
    """The documents of a WARC (or WET) stream: HTML ``response`` and plain-text ``conversion`` records.

    They are numbered together from 1 (``rel#N``). A record whose block is over
    ``max_record_bytes`` is passed over unread (``_pass_over``); in a gzipped
    stream, records whose blocks add up to more than ``bound`` stop the file
    (a compression bomb).
    """
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    if not looks_like_warc(handle):
        yield Skipped(path, "not a WARC file (it does not start with a WARC/ or ARC header)")
        return
    gzipped = handle.read(2) == GZIP_MAGIC
    handle.seek(0)
    records = number = inflated = 0  # all records read; document records (their numbers)
    try:
        for record in ArchiveIterator(handle, arc2warc=True):
            records += 1
            if records > cfg.max_records_per_file:
                yield Skipped(path, f"stopped after {cfg.max_records_per_file} records")
                break
            inflated += record.length or 0
            if gzipped and inflated > bound:
                yield Skipped(path, f"too large: decompresses to over {bound} bytes (a compression"
                              f" bomb?); the rest is not read after record {records}")
                return
            item: Document | Skipped | None = None
            if record.rec_type in DOCUMENT_RECORDS:
                number += 1
                item = _warc_document(record, number, rel, path, cfg, seen)
            if _pass_over(record):
                what = f" ({record.rec_type} #{number})" if record.rec_type in DOCUMENT_RECORDS else ""
                yield Skipped(path, f"truncated WARC: record {records}{what} ends early")
                return
            if item is not None:
                yield item
    except (ArchiveLoadFailed, EOFError, OSError, ValueError, Exception) as exc:
        # warcio and zlib raise a wide range of types on a truncated or
        # corrupt stream; any of them ends this file, not the run.
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        yield Skipped(path, f"truncated or malformed WARC after {records} records: {detail}")
        return
    if not records:
        yield Skipped(path, "empty or not a WARC file: no records")


def looks_like_warc(handle: Any) -> bool:
    """True when the stream starts like a WARC or ARC file (gzipped or not); rewinds it.

    warcio also reads the old ARC format, whose header is any line with
    spaces, so a text file named .warc would otherwise yield made-up records.
    """
    head = handle.read(2)
    handle.seek(0)
    try:
        if head == GZIP_MAGIC:
            with gzip.GzipFile(fileobj=handle) as gz:
                start = gz.read(16)
        else:
            start = handle.read(16)
    except (OSError, EOFError, zlib.error):
        start = b""
    handle.seek(0)
    return start.startswith((b"WARC/", b"filedesc://"))


def _pass_over(record: Any) -> bool:
    """Pass over what is left of a record's block, keeping none of it; True when the stream ends first.

    In an uncompressed stream the block is seeked past: what warcio has
    buffered is dropped and the file moved on, so a record of gigabytes costs
    nothing. warcio offers no skip of its own, so this relies on its reader
    layout (a ``LimitReader`` over a ``DecompressingBufferedReader`` over the
    file); anything else, and every gzipped stream, is read through in
    ``DISCARD_CHUNK`` pieces that are dropped as they come.
    """
    from warcio.bufferedreaders import DecompressingBufferedReader
    from warcio.limitreader import LimitReader

    raw = record.raw_stream
    reader: Any = getattr(raw, "stream", None)
    if (type(raw) is LimitReader and type(reader) is DecompressingBufferedReader
            and reader.decompressor is None and raw.limit > DISCARD_CHUNK):
        span = _seekable_span(reader.stream)
        if span is not None:
            here, end = span
            buffered = min(reader.rem_length(), raw.limit)
            reader.read(buffered)  # only what is buffered: nothing new is read
            raw.limit -= buffered
            jump = min(raw.limit, end - here)
            reader.stream.seek(here + jump)
            raw.limit -= jump
            return bool(raw.limit)
    while raw.read(DISCARD_CHUNK):
        pass
    return bool(getattr(raw, "limit", 0))


def _seekable_span(fh: Any) -> tuple[int, int] | None:
    """``(position, size)`` of a seekable stream, left where it was; None when it cannot seek."""
    try:
        here = fh.tell()
        end = fh.seek(0, io.SEEK_END)
        fh.seek(here)
    except (AttributeError, OSError, ValueError):
        return None
    return int(here), int(end)


def _warc_document(record: Any, number: int, rel: str, path: str, cfg: IngestConfig,
                   seen: set[str]) -> Document | Skipped:
    """A ``response`` (HTML) or ``conversion`` (text) record's document, or why it is skipped.

    A block over ``max_record_bytes`` is judged by its length and never read
    here; the payload is read up to the limit (it may be larger than the block
    once HTTP's chunking or compression is undone).
    """
    where = f"{path}#{number}"
    if getattr(record.raw_stream, "limit", 0) > cfg.max_record_bytes:
        return Skipped(where, f"too large: over {cfg.max_record_bytes} bytes")
    if record.rec_type == "conversion":
        ctype = (record.rec_headers.get_header("Content-Type") or "text/plain").lower()
    elif record.http_headers is not None:
        ctype = (record.http_headers.get_header("Content-Type") or "").lower()
    else:
        ctype = ""
    mime = ctype.split(";")[0].strip()
    if record.rec_type == "conversion":
        if mime != "text/plain":
            return Skipped(where, f"not a plain-text conversion ({mime})")
    elif mime and mime not in ("text/html", "application/xhtml+xml"):
        return Skipped(where, f"not an HTML response ({mime})")
    data = record.content_stream().read(cfg.max_record_bytes + 1)
    if len(data) > cfg.max_record_bytes:
        return Skipped(where, f"too large: over {cfg.max_record_bytes} bytes")
    declared = None
    if "charset=" in ctype:
        declared = ctype.split("charset=")[1].split(";")[0].strip(" \"'")
    try:
        if record.rec_type == "conversion":  # Common Crawl writes its extracted text as UTF-8
            text = decode_bytes(data, where, declared or "utf-8")
            doc = Document(id=unique_id(f"{rel}#{number}", seen), path=where, text=text, kind="text")
        else:
            html = decode_bytes(data, where, declared or sniff_charset(data))
            doc = html_document(unique_id(f"{rel}#{number}", seen), where, html, cfg)
    except InputError as exc:
        return Skipped(exc.path, exc.reason)
    url = record.rec_headers.get_header("WARC-Target-URI")
    if url:
        doc.url = doc.url or url
        if doc.outlet is None and (host := _host_outlet(url)):
            doc.outlet, doc.outlet_source = host, "warc target host"
    warc_date = record.rec_headers.get_header("WARC-Date")
    if warc_date:
        doc.crawl_date = parse_date(warc_date)
    return doc
