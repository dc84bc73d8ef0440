"""Ingest: every format read from real text, encodings, and hostile inputs.

Each bad input gets its own test, which checks the exact ``Skipped`` reason
and that a good file next to it is still read.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import stat
import threading
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from provenance import Config, run
from provenance.config import IngestConfig
from provenance.ingest import read_paths
from provenance.records import Document, Skipped

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SEEDS = SAMPLES / "seeds"

GOOD_TEXT = "A perfectly ordinary article about the weather in Tabriz on a Tuesday.\n"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def read(*paths: Path | str, cfg: IngestConfig | None = None) -> tuple[dict[str, Document], list[Skipped]]:
    docs: dict[str, Document] = {}
    skipped: list[Skipped] = []
    for item in read_paths([str(p) for p in paths], cfg):
        if isinstance(item, Skipped):
            skipped.append(item)
        else:
            assert item.id not in docs, f"duplicate id {item.id}"
            docs[item.id] = item
    return docs, skipped


def with_good(tmp_path: Path, name: str, data: bytes) -> Path:
    """A folder holding the bad file ``name`` and a good ``good.txt``."""
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    (folder / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (folder / name).write_bytes(data)
    return folder


def assert_good_read(docs: dict[str, Document]) -> None:
    assert "good.txt" in docs
    assert docs["good.txt"].text == GOOD_TEXT


def only_skip(skipped: list[Skipped], path: Path | str) -> Skipped:
    mine = [s for s in skipped if s.path == str(path)]
    assert len(mine) == 1, skipped
    return mine[0]


def html_page(body: str, head: str = "") -> bytes:
    return (f"<!DOCTYPE html><html><head>{head}</head><body><article>"
            f"<p>{body}</p></article></body></html>").encode()


WarcItem = tuple[str, str, str, bytes, str]  # (record type, url, content type, body, WARC-Date)


def write_warc(path: Path, items: list[WarcItem], gzip: bool = True) -> None:
    """A WARC written with warcio: a warcinfo record, then ``items`` in order."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gzip)
        info = b"software: provenance tests\r\nformat: WARC File Format 1.0\r\n"
        writer.write_record(writer.create_warc_record(
            "", "warcinfo", payload=io.BytesIO(info), length=len(info),
            warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Date": "2020-02-15T11:59:59Z"}))
        for kind, url, ctype, body, date in items:
            if kind == "response":
                headers = StatusAndHeaders("200 OK", [
                    ("Content-Type", ctype), ("Content-Length", str(len(body))),
                    ("Date", "Sat, 15 Feb 2020 12:00:00 GMT"),
                    ("Last-Modified", "Mon, 01 Jan 2018 00:00:00 GMT"),
                ], protocol="HTTP/1.1")
                record = writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                   length=len(body), http_headers=headers,
                                                   warc_headers_dict={"WARC-Date": date})
            elif kind == "request":
                headers = StatusAndHeaders("GET / HTTP/1.1", [("Host", "example.org")],
                                           is_http_request=True)
                record = writer.create_warc_record(url, "request", payload=io.BytesIO(b""), length=0,
                                                   http_headers=headers,
                                                   warc_headers_dict={"WARC-Date": date})
            else:
                record = writer.create_warc_record(url, kind, payload=io.BytesIO(body), length=len(body),
                                                   warc_content_type="application/warc-fields",
                                                   warc_headers_dict={"WARC-Date": date})
            writer.write_record(record)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(40))

CRAWL: list[WarcItem] = [
    ("request", "https://www.example.org/first", "", b"", "2020-02-15T12:00:00Z"),
    ("response", "https://www.example.org/first", "text/html; charset=utf-8",
     html_page("The first page has no metadata at all, only this paragraph of text."),
     "2020-02-15T12:00:00Z"),
    ("metadata", "https://www.example.org/first", "", b"via: https://www.example.org/\r\n",
     "2020-02-15T12:00:01Z"),
    ("response", "https://img.example.org/pixel.png", "image/png", PNG, "2020-02-15T12:00:02Z"),
    ("request", "https://news.example.com/b", "", b"", "2020-02-16T08:30:00Z"),
    ("response", "https://news.example.com/b", "text/html",
     html_page("The second page says who published it and when.",
               '<meta property="og:site_name" content="Example News">'
               '<meta property="article:published_time" content="2019-05-01T10:00:00Z">'),
     "2020-02-16T08:30:00Z"),
]


def tree_digest(folder: Path) -> str:
    """Names, modes, sizes, mtimes and contents of everything below ``folder``."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames) + [d + "/" for d in dirnames]:
            p = Path(dirpath) / name.rstrip("/")
            st = p.lstat()
            h.update(f"{p.relative_to(folder)}|{st.st_mode}|{st.st_size}|{st.st_mtime_ns}\n".encode())
            if stat.S_ISREG(st.st_mode) and os.access(p, os.R_OK):
                h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def call_with_timeout(fn, seconds: float):
    """Run ``fn`` in a thread; fail (not hang) when it does not return in time."""
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["value"] = fn()
        except BaseException as exc:
            result["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"did not return within {seconds} s (blocked on a pipe?)")
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["value"]


# --------------------------------------------------------------------------
# plain text
# --------------------------------------------------------------------------


def test_txt_read_verbatim(tmp_path: Path) -> None:
    for seed in sorted(SEEDS.glob("*.txt")):
        shutil.copy(seed, tmp_path / seed.name)
    docs, skipped = read(tmp_path)
    assert skipped == []
    assert sorted(docs) == sorted(p.name for p in SEEDS.glob("*.txt"))
    for seed in SEEDS.glob("*.txt"):
        doc = docs[seed.name]
        assert doc.kind == "text"
        assert doc.text == seed.read_text(encoding="utf-8")
        assert doc.path == str(tmp_path / seed.name)
        assert doc.blocks is None and doc.date is None and doc.outlet is None


def test_txt_crlf_becomes_lf(tmp_path: Path) -> None:
    (tmp_path / "crlf.txt").write_bytes(b"line one\r\nline two\rline three\r\n")
    docs, _ = read(tmp_path)
    assert docs["crlf.txt"].text == "line one\nline two\nline three\n"


def test_ids_are_relative_to_the_folder_and_files_passed_over_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.txt").write_text(GOOD_TEXT)
    (tmp_path / "a" / "notes.md").write_text("# not read")
    (tmp_path / "a" / "image.png").write_bytes(PNG)
    (tmp_path / "a" / "LICENSE").write_text("not read either")
    (tmp_path / ".hidden.txt").write_text(GOOD_TEXT)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD.txt").write_text(GOOD_TEXT)  # not reported one by one
    (tmp_path / "a" / "again").symlink_to(tmp_path / "a" / "b")
    (tmp_path / "outlets.json").write_text("{}")  # the folder's outlets file: read, not passed over
    docs, skipped = read(tmp_path)
    assert list(docs) == ["a/b/deep.txt"]
    assert skipped == [
        Skipped(str(tmp_path / ".git"), "hidden folder"),
        Skipped(str(tmp_path / ".hidden.txt"), "hidden file"),
        Skipped(str(tmp_path / "a" / "LICENSE"), "unsupported file type (no extension)"),
        Skipped(str(tmp_path / "a" / "again"), "symbolic link to a folder (not followed)"),
        Skipped(str(tmp_path / "a" / "image.png"), "unsupported file type (.png)"),
        Skipped(str(tmp_path / "a" / "notes.md"), "unsupported file type (.md)"),
    ]


def test_unsupported_file_named_explicitly_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# hello")
    (tmp_path / "good.txt").write_text(GOOD_TEXT)
    docs, skipped = read(tmp_path / "notes.md", tmp_path / "good.txt")
    assert list(docs) == ["good.txt"]
    assert [s.path for s in skipped] == [str(tmp_path / "notes.md")]
    assert skipped[0].reason == ("unsupported file type (expected .txt, .text, .html, .htm, .xhtml,"
                                 " .jsonl, .ndjson, .jsonl.gz, .ndjson.gz, .warc, .warc.gz,"
                                 " .warc.wet, .warc.wet.gz)")


# --------------------------------------------------------------------------
# HTML and its metadata
# --------------------------------------------------------------------------


def test_html_sample_metadata(tmp_path: Path) -> None:
    src = SAMPLES / "iranfocus" / "tackle-iran-by-supporting-the-iranian-people.html"
    shutil.copy(src, tmp_path / src.name)
    docs, skipped = read(tmp_path)
    assert skipped == []
    doc = docs[src.name]
    assert doc.kind == "html"
    assert doc.outlet == "Iran Focus"
    assert doc.outlet_source == "og:site_name"
    assert doc.date == "2017-12-19"
    assert doc.date_source == "article:published_time"
    assert doc.url == "https://www.iranfocus.com/en/news/tackle-iran-by-supporting-the-iranian-people"
    assert doc.title == "Tackle Iran by Supporting the Iranian People"
    assert doc.crawl_date is None
    # visible text only, one block a line; scripts and styles are not text
    assert "London, 19 Dec - Ever since the 2015 nuclear deal" in doc.text
    assert "gtag(" not in doc.text and "font-family" not in doc.text
    assert doc.blocks
    for block in doc.blocks:
        line = doc.text[block.start:block.end]
        assert line and "\n" not in line


def test_html_canonical_wins_over_og_url(tmp_path: Path) -> None:
    head = ('<meta property="og:url" content="https://mirror.example.net/x">'
            '<link rel="canonical" href="https://origin.example.com/story">')
    (tmp_path / "p.html").write_bytes(html_page("Some text of a story worth reading.", head))
    (tmp_path / "q.html").write_bytes(html_page("Another story with only an og:url.",
                                                '<meta property="og:url" content="https://og.example.com/q">'))
    docs, _ = read(tmp_path)
    assert docs["p.html"].url == "https://origin.example.com/story"
    assert docs["q.html"].url == "https://og.example.com/q"


def test_html_json_ld_publisher_and_date(tmp_path: Path) -> None:
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "H",
          "datePublished": "2018-03-05T08:00:00+00:00",
          "publisher": {"@type": "Organization", "name": "NCRI"}}
    head = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    (tmp_path / "ld.html").write_bytes(html_page("A story whose metadata is JSON-LD only.", head))
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "name": "site"},
        {"@type": "Article", "datePublished": "5 March 2018", "publisher": {"name": "Iran Focus"}}]}
    head2 = f'<script type="application/ld+json">{json.dumps(graph)}</script>'
    (tmp_path / "graph.html").write_bytes(html_page("A story with a JSON-LD graph.", head2))
    broken = '<script type="application/ld+json">{"publisher": {"name": "X"</script>'
    (tmp_path / "broken.html").write_bytes(html_page("A story with broken JSON-LD.", broken))
    docs, skipped = read(tmp_path)
    assert skipped == []
    assert (docs["ld.html"].outlet, docs["ld.html"].outlet_source) == ("NCRI", "json-ld publisher")
    assert (docs["ld.html"].date, docs["ld.html"].date_source) == ("2018-03-05", "json-ld datePublished")
    assert (docs["graph.html"].outlet, docs["graph.html"].date) == ("Iran Focus", "2018-03-05")
    assert docs["broken.html"].outlet is None and docs["broken.html"].date is None
    assert docs["broken.html"].text == "A story with broken JSON-LD."


def test_html_og_site_name_wins_over_json_ld(tmp_path: Path) -> None:
    ld = {"publisher": {"name": "Someone Else"}, "datePublished": "2001-01-01"}
    head = ('<meta property="og:site_name" content="Iran Focus">'
            '<meta property="article:published_time" content="2017-12-19T09:30:00+00:00">'
            f'<script type="application/ld+json">{json.dumps(ld)}</script>')
    (tmp_path / "both.html").write_bytes(html_page("Text of the page.", head))
    docs, _ = read(tmp_path)
    doc = docs["both.html"]
    assert (doc.outlet, doc.outlet_source) == ("Iran Focus", "og:site_name")
    assert (doc.date, doc.date_source) == ("2017-12-19", "article:published_time")


def test_html_meta_charset_is_honoured(tmp_path: Path) -> None:
    text = "Der Bürgermeister sagte am Dienstag: „Wir müssen reden.“ Über Größe und Maß."
    data = (f'<html><head><meta charset="windows-1252"></head><body><p>{text}</p></body></html>'
            .replace("„", '"').replace("“", '"'))
    (tmp_path / "de.html").write_bytes(data.encode("cp1252"))
    docs, _ = read(tmp_path)
    assert docs["de.html"].text == text.replace("„", '"').replace("“", '"')


# --------------------------------------------------------------------------
# JSON Lines
# --------------------------------------------------------------------------


def test_jsonl_sample_records(tmp_path: Path) -> None:
    shutil.copy(SAMPLES / "dumps" / "network-2017.jsonl", tmp_path / "dump.jsonl")
    docs, skipped = read(tmp_path)
    assert skipped == []
    assert list(docs) == [
        "dump.jsonl#iran-news-update-2017-08-10-weather",
        "dump.jsonl#iran-news-update-2017-08-03-sanctions",
        "dump.jsonl#ncri-us-2017-07-31-shafiee",
        "dump.jsonl#iran-news-update-2017-07-28-senate",
    ]
    ncri = docs["dump.jsonl#ncri-us-2017-07-31-shafiee"]
    assert (ncri.outlet, ncri.outlet_source) == ("NCRI US", "jsonl")
    assert (ncri.date, ncri.date_source) == ("2017-07-31", "jsonl")
    assert ncri.url == "https://www.ncrius.org/news/shafiee-regime-change-sanctions"
    assert ncri.title == "Shafiee: Tillerson and Senate vote mark a turn on Iran"
    assert ncri.path == f"{tmp_path / 'dump.jsonl'}#ncri-us-2017-07-31-shafiee"
    seed000 = (SEEDS / "000_0d593d3c2b046724.txt").read_text(encoding="utf-8")
    assert seed000.strip() in ncri.text


def test_jsonl_ids_fallback_and_duplicates(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": "first record", "url": "https://x.example/a",
                    "outlet": "Iran News Update", "date": "19 December 2017", "title": "T"}),
        "",  # a blank line still counts as a line
        json.dumps({"text": "no id here"}),
        json.dumps({"id": "a", "text": "same id again"}),
        json.dumps({"id": 7, "text": "numeric id"}),
        json.dumps({"id": "  ", "text": "blank id"}),
        json.dumps({"id": "a", "text": "third a"}),
        json.dumps({"id": "h", "html": "<html><head><meta property='og:site_name' content='Page Outlet'>"
                                      "</head><body><nav>Menu</nav><p>Html body text</p></body></html>",
                    "outlet": "Dump Outlet"}),
    ]
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    docs, skipped = read(tmp_path)
    assert skipped == []
    assert list(docs) == ["d.jsonl#a", "d.jsonl#3", "d.jsonl#a~2", "d.jsonl#7", "d.jsonl#6",
                          "d.jsonl#a~3", "d.jsonl#h"]
    first = docs["d.jsonl#a"]
    assert (first.text, first.kind, first.date, first.outlet, first.url, first.title) == (
        "first record", "text", "2017-12-19", "Iran News Update", "https://x.example/a", "T")
    assert docs["d.jsonl#3"].text == "no id here"
    assert docs["d.jsonl#a~2"].text == "same id again"
    assert docs["d.jsonl#a~3"].text == "third a"
    page = docs["d.jsonl#h"]
    assert page.kind == "html" and page.text == "Menu\nHtml body text"
    assert page.outlet == "Dump Outlet"  # the dump's own field wins over the page's metadata
    assert page.blocks is not None


def test_jsonl_undated_and_bad_date(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text(
        json.dumps({"id": "x", "text": "t", "date": "sometime last week"}) + "\n", encoding="utf-8")
    docs, _ = read(tmp_path)
    assert docs["d.jsonl#x"].date is None and docs["d.jsonl#x"].date_source is None


# --------------------------------------------------------------------------
# WARC
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "gzip"), [("crawl.warc.gz", True), ("crawl.warc", False)])
def test_warc_records(tmp_path: Path, name: str, gzip: bool) -> None:
    write_warc(tmp_path / name, CRAWL, gzip=gzip)
    docs, skipped = read(tmp_path)
    # numbered from 1, response records only (warcinfo, request, metadata not counted)
    assert list(docs) == [f"{name}#1", f"{name}#3"]
    assert skipped == [Skipped(f"{tmp_path / name}#2", "not an HTML response (image/png)")]

    first = docs[f"{name}#1"]
    assert first.text == "The first page has no metadata at all, only this paragraph of text."
    assert first.path == f"{tmp_path / name}#1"
    assert (first.outlet, first.outlet_source) == ("example.org", "warc target host")
    assert first.url == "https://www.example.org/first"
    assert first.crawl_date == "2020-02-15"
    assert first.date is None  # WARC-Date (and the HTTP Date header) are crawl times

    second = docs[f"{name}#3"]
    assert (second.outlet, second.outlet_source) == ("Example News", "og:site_name")
    assert (second.date, second.date_source) == ("2019-05-01", "article:published_time")
    assert second.crawl_date == "2020-02-16"


def test_warc_date_never_becomes_publication_date_in_a_full_run(tmp_path: Path) -> None:
    write_warc(tmp_path / "c.warc.gz", CRAWL)
    report = run([tmp_path], Config())
    by_id = {c.doc.id: c.doc for c in report.cleaned}
    assert by_id["c.warc.gz#1"].date is None
    assert by_id["c.warc.gz#1"].crawl_date == "2020-02-15"
    assert by_id["c.warc.gz#3"].date == "2019-05-01"


def test_warc_sample(tmp_path: Path) -> None:
    shutil.copy(SAMPLES / "crawl" / "network-2020.warc.gz", tmp_path / "n.warc.gz")
    docs, skipped = read(tmp_path)
    assert list(docs) == ["n.warc.gz#1", "n.warc.gz#2", "n.warc.gz#3"]
    assert skipped == [Skipped(f"{tmp_path / 'n.warc.gz'}#4", "not an HTML response (image/png)")]
    assert docs["n.warc.gz#1"].date == "2020-01-29"
    assert docs["n.warc.gz#2"].date == "2020-01-27"
    assert docs["n.warc.gz#2"].outlet == "NCRI"
    for doc in docs.values():
        assert doc.crawl_date == "2020-02-15"
    assert docs["n.warc.gz#3"].date is None


# --------------------------------------------------------------------------
# encodings
# --------------------------------------------------------------------------

CP1252_TEXT = (
    "Our correspondent in Paris filed this report on the café culture of the Left Bank. "
    "“It’s not what it was,” says Amélie, who has run the Café de Flore’s terrace for twenty "
    "years – “but the crème brûlée is still the best in town.” She hands me her résumé: "
    "waitress, manager, owner. The naïve tourist sees only the façade; the regulars know "
    "better. Prices have risen by 20 % since 2015, and the old piano — a gift from a "
    "customer — has gone.\n"
)

CP1251_TEXT = (
    "Привет, мир! Это тестовый текст на русском языке, написанный в кодировке windows-1251. "
    "Съешь же ещё этих мягких французских булок, да выпей чаю. Корреспондент сообщает, "
    "что переговоры продолжатся в четверг.\n"
)


def test_cp1252_sample_file_decodes_right(tmp_path: Path) -> None:
    src = SAMPLES / "blogs" / "free-iran-now" / "about.txt"
    shutil.copy(src, tmp_path / "about.txt")
    docs, _ = read(tmp_path)
    expected = src.read_bytes().decode("cp1252").replace("\r\n", "\n")
    assert docs["about.txt"].text == expected
    assert "café" in docs["about.txt"].text and "résumé" in docs["about.txt"].text


def test_cp1252_written_text_decodes_right(tmp_path: Path) -> None:
    (tmp_path / "w.txt").write_bytes(CP1252_TEXT.encode("cp1252"))
    docs, skipped = read(tmp_path)
    assert skipped == []
    assert docs["w.txt"].text == CP1252_TEXT


def test_cp1251_text_decodes_right(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_bytes(CP1251_TEXT.encode("cp1251"))
    docs, _ = read(tmp_path)
    assert docs["r.txt"].text == CP1251_TEXT


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom(tmp_path: Path, encoding: str) -> None:
    text = "UTF-16 text with a byte-order mark: café, Привет, “quotes”.\nSecond line.\n"
    data = text.encode(encoding)
    if encoding != "utf-16":  # the explicit-endian codecs write no BOM: add it
        data = ("\ufeff" + text).encode(encoding)
    assert b"\x00" in data
    (tmp_path / "u.txt").write_bytes(data)
    docs, skipped = read(tmp_path)
    assert skipped == []
    assert docs["u.txt"].text == text


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    text = "UTF-8 with a BOM: résumé.\n"
    (tmp_path / "b.txt").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (tmp_path / "b.html").write_bytes(b"\xef\xbb\xbf" + html_page("Page with a BOM: résumé."))
    docs, _ = read(tmp_path)
    assert docs["b.txt"].text == text
    assert docs["b.html"].text == "Page with a BOM: résumé."


# --------------------------------------------------------------------------
# bad inputs: one test each
# --------------------------------------------------------------------------


def test_binary_file_with_nul_bytes(tmp_path: Path) -> None:
    folder = with_good(tmp_path, "blob.txt", b"GIF89a\x00\x01\x00\x01\x00" + bytes(range(256)) * 4)
    docs, skipped = read(folder)
    assert_good_read(docs)
    assert only_skip(skipped, folder / "blob.txt").reason == "binary file (NUL bytes), not text"


def test_empty_file(tmp_path: Path) -> None:
    folder = with_good(tmp_path, "empty.txt", b"")
    docs, skipped = read(folder)
    assert_good_read(docs)
    assert only_skip(skipped, folder / "empty.txt").reason == "empty file"


def test_whitespace_only_file(tmp_path: Path) -> None:
    folder = with_good(tmp_path, "blank.txt", b"  \n\t\r\n   \n")
    docs, skipped = read(folder)
    assert_good_read(docs)
    assert only_skip(skipped, folder / "blank.txt").reason == "empty file"


def test_invalid_utf8_high_bytes(tmp_path: Path) -> None:
    noise = bytes(b | 0x80 for b in random.Random(0).randbytes(4096))  # no NULs, all high bytes
    folder = with_good(tmp_path, "noise.txt", noise)
    docs, skipped = read(folder)
    assert_good_read(docs)
    assert only_skip(skipped, folder / "noise.txt").reason == (
        "undecodable: not valid UTF-8 and no known encoding fits")


def test_random_bytes_with_nuls(tmp_path: Path) -> None:
    folder = with_good(tmp_path, "random.txt", random.Random(0).randbytes(4096))
    docs, skipped = read(folder)
    assert_good_read(docs)
    assert only_skip(skipped, folder / "random.txt").reason == "binary file (NUL bytes), not text"


def test_jsonl_line_with_invalid_utf8(tmp_path: Path) -> None:
    data = (json.dumps({"id": "ok1", "text": "first good record"}).encode() + b"\n"
            + b'{"id": "bad", "text": "caf\xe9 \xff\xfe"}\n'
            + json.dumps({"id": "ok2", "text": "last good record"}).encode() + b"\n")
    folder = with_good(tmp_path, "d.jsonl", data)
    docs, skipped = read(folder)
    assert_good_read(docs)
    assert docs["d.jsonl#ok1"].text == "first good record"
    assert docs["d.jsonl#ok2"].text == "last good record"
    assert only_skip(skipped, f"{folder / 'd.jsonl'}#2").reason == (
        "invalid UTF-8 at byte 26 (JSON Lines must be UTF-8)")


def test_malformed_html_without_text(tmp_path: Path) -> None:
    folder = with_good(tmp_path, "broken.html",
                       b"<html><head><title>Only a title</title><body><div><span></div></p>"
                       b"<script>var x = 'not text';</script><!-- a comment --></td></body>")
    docs, skipped = read(folder)
    assert_good_read(docs)
    assert only_skip(skipped, folder / "broken.html").reason == "malformed or empty HTML: no visible text"


def test_malformed_html_with_text_is_recovered(tmp_path: Path) -> None:
    folder = with_good(tmp_path, "sloppy.html",
                       b"<html><body><div><p>Unclosed paragraph about sanctions<span>and more"
                       b"</div></p><p>Second block</td></b")
    docs, skipped = read(folder)
    assert_good_read(docs)
    assert skipped == []
    text = docs["sloppy.html"].text
    assert "Unclosed paragraph about sanctions" in text
    assert "and more" in text
    assert "Second block" in text


def test_broken_jsonl_line(tmp_path: Path) -> None:
    data = (json.dumps({"id": "ok1", "text": "good"}) + "\n"
            + '{"id": "broken", "text": "no closing brace"\n'
            + "[1, 2, 3]\n"
            + json.dumps({"id": "notext", "title": "no text field"}) + "\n"
            + json.dumps({"id": "ok2", "text": "also good"}) + "\n").encode()
    folder = with_good(tmp_path, "d.jsonl", data)
    docs, skipped = read(folder)
    assert_good_read(docs)
    assert {"d.jsonl#ok1", "d.jsonl#ok2"} <= set(docs)
    base = folder / "d.jsonl"
    assert only_skip(skipped, f"{base}#2").reason.startswith("malformed JSON: Expecting ',' delimiter")
    assert only_skip(skipped, f"{base}#3").reason == "malformed record: expected a JSON object"
    assert only_skip(skipped, f"{base}#notext").reason == (
        "record has no non-empty 'text' or 'html' string")


def test_jsonl_line_nested_100000_deep(tmp_path: Path) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    deep_obj = b'{"id": "d", "text": "x", "extra": ' + deep + b"}"
    data = deep + b"\n" + deep_obj + b"\n" + json.dumps({"id": "after", "text": "still read"}).encode() + b"\n"
    folder = with_good(tmp_path, "d.jsonl", data)
    docs, skipped = read(folder)
    assert_good_read(docs)
    assert docs["d.jsonl#after"].text == "still read"
    base = folder / "d.jsonl"
    assert only_skip(skipped, f"{base}#1").reason == "malformed JSON: nested too deeply"
    assert only_skip(skipped, f"{base}#2").reason == "malformed JSON: nested too deeply"


def _response_offsets(path: Path) -> list[tuple[str, int]]:
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        return [(record.rec_type, it.get_record_offset()) for record in it]


@pytest.mark.parametrize(("name", "gzip"), [("cut.warc.gz", True), ("cut.warc", False)])
def test_truncated_warc(tmp_path: Path, name: str, gzip: bool) -> None:
    rnd = random.Random(0)
    words = ["sanctions", "senate", "regime", "people", "protest", "policy", "vote", "deal"]
    big = " ".join(f"{rnd.choice(words)}{rnd.randint(0, 99999)}" for _ in range(6000))
    full = tmp_path / ("full-" + name)
    write_warc(full, [
        ("response", "https://a.example.org/1", "text/html", html_page("The intact first page."),
         "2020-02-15T12:00:00Z"),
        ("response", "https://b.example.org/2", "text/html", html_page(big), "2020-02-15T12:00:01Z"),
        ("response", "https://c.example.org/3", "text/html", html_page("Never reached."),
         "2020-02-15T12:00:02Z"),
    ], gzip=gzip)
    offsets = _response_offsets(full)
    assert [t for t, _ in offsets] == ["warcinfo", "response", "response", "response"]
    start, end = offsets[2][1], offsets[3][1]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD_TEXT)
    (folder / name).write_bytes(full.read_bytes()[: (start + end) // 2])  # cut inside response #2
    docs, skipped = read(folder)
    assert_good_read(docs)
    assert docs[f"{name}#1"].text == "The intact first page."
    assert f"{name}#2" not in docs and f"{name}#3" not in docs
    assert only_skip(skipped, folder / name).reason == "truncated WARC: record 3 (response #2) ends early"


@pytest.mark.parametrize("content", [
    pytest.param(b"hello, this is plain text and not a web archive at all\n" * 10, id="plain-text"),
    pytest.param(b"<html><body><p>Just a web page, not an archive.</p></body></html>\n", id="html"),
    pytest.param(random.Random(3).randbytes(3000), id="random-bytes"),
])
def test_not_a_warc_at_all(tmp_path: Path, content: bytes) -> None:
    folder = with_good(tmp_path, "fake.warc", content)
    docs, skipped = read(folder)
    assert_good_read(docs)
    assert list(docs) == ["good.txt"]
    # one record for the file itself, saying it is not a (valid) WARC;
    # not "empty file" records for made-up response numbers
    assert [s.path for s in skipped] == [str(folder / "fake.warc")], skipped
    reason = skipped[0].reason
    assert "not a WARC" in reason or "malformed WARC" in reason, reason


def test_missing_path(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(GOOD_TEXT)
    missing = tmp_path / "nope" / "gone.txt"
    docs, skipped = read(missing, tmp_path / "good.txt")
    assert list(docs) == ["good.txt"]
    assert skipped == [Skipped(str(missing), "no such file or folder")]


def test_fifo_returns_promptly(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD_TEXT)
    for name in ("pipe.txt", "pipe.jsonl", "pipe.warc.gz"):
        os.mkfifo(folder / name)
    docs, skipped = call_with_timeout(lambda: read(folder), 10)
    assert_good_read(docs)
    reason = "not a regular file (a pipe, device or socket is never read)"
    for name in ("pipe.txt", "pipe.jsonl", "pipe.warc.gz"):
        assert only_skip(skipped, folder / name).reason == reason
    # named explicitly, too
    docs, skipped = call_with_timeout(lambda: read(folder / "pipe.txt"), 10)
    assert docs == {} and skipped == [Skipped(str(folder / "pipe.txt"), reason)]


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("small and fine")
    (folder / "big.txt").write_text("word " * 400)
    (folder / "big.html").write_bytes(html_page("word " * 400))
    docs, skipped = read(folder, cfg=IngestConfig(max_file_bytes=1000))
    assert list(docs) == ["good.txt"]
    assert only_skip(skipped, folder / "big.txt").reason == "too large: over 1000 bytes"
    assert only_skip(skipped, folder / "big.html").reason == "too large: over 1000 bytes"


@pytest.mark.parametrize("kind", ["jsonl", "warc.gz"])
def test_size_limit_applies_to_jsonl_and_warc_as_documented(tmp_path: Path, kind: str) -> None:
    """``IngestConfig.max_record_bytes``: a JSONL line or decompressed WARC payload over it is skipped."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("small and fine")
    if kind == "jsonl":
        (folder / "big.jsonl").write_text(json.dumps({"id": "x", "text": "word " * 400}) + "\n")
    else:
        write_warc(folder / "big.warc.gz", [("response", "https://a.example.org/", "text/html",
                                             html_page("word " * 400), "2020-02-15T12:00:00Z")])
    docs, skipped = read(folder, cfg=IngestConfig(max_record_bytes=1000))
    assert list(docs) == ["good.txt"], "a record over max_record_bytes was read"
    assert len(skipped) == 1 and "too large" in skipped[0].reason


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a file whatever its mode")
def test_unreadable_file(tmp_path: Path) -> None:
    folder = with_good(tmp_path, "secret.txt", b"you cannot read me")
    (folder / "secret.txt").chmod(0)
    try:
        docs, skipped = read(folder)
    finally:
        (folder / "secret.txt").chmod(0o644)
    assert_good_read(docs)
    assert only_skip(skipped, folder / "secret.txt").reason == "unreadable: permission denied"


def test_deeply_nested_html_does_not_crash(tmp_path: Path) -> None:
    page = b"<html><body>" + b"<div>" * 200_000 + b"deep text at the bottom" + b"</div>" * 200_000 + b"</body></html>"
    assert len(page) > 1_000_000
    folder = with_good(tmp_path, "deep.html", page)
    docs, skipped = read(folder)
    assert_good_read(docs)
    assert skipped == []
    assert docs["deep.html"].text == "deep text at the bottom"


# --------------------------------------------------------------------------
# inputs are never modified
# --------------------------------------------------------------------------


def test_scan_never_modifies_inputs(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    shutil.copytree(SAMPLES, folder)
    bad = folder / "bad"
    bad.mkdir()
    (bad / "blob.txt").write_bytes(b"\x00\x01binary")
    (bad / "empty.txt").write_bytes(b"")
    (bad / "broken.jsonl").write_bytes(b'{"id": "x", "text": "ok"}\n{broken\n')
    (bad / "fake.warc").write_bytes(b"not a warc\n")
    (bad / "crlf.txt").write_bytes(b"windows\r\nline endings\r\n")
    os.mkfifo(bad / "pipe.txt")
    before = tree_digest(folder)
    samples_before = tree_digest(SAMPLES)
    report = call_with_timeout(lambda: run([folder], Config()), 60)
    assert len(report.cleaned) >= 17
    assert tree_digest(folder) == before
    assert tree_digest(SAMPLES) == samples_before


@pytest.mark.parametrize(("lines", "skipped"), [(3, False), (4, True)])
def test_record_limit_reports_only_records_left_unread(tmp_path: Path, lines: int, skipped: bool) -> None:
    dump = tmp_path / "dump.jsonl"
    seed = (SAMPLES / "seeds" / "000_0d593d3c2b046724.txt").read_text(encoding="utf-8")
    dump.write_text("".join(json.dumps({"id": f"r{n}", "text": seed}) + "\n" for n in range(lines))
                    + "\n\n", encoding="utf-8")
    items = list(read_paths([dump], IngestConfig(max_records_per_file=3)))
    docs = [i for i in items if isinstance(i, Document)]
    skips = [i.reason for i in items if isinstance(i, Skipped)]
    assert [d.id for d in docs] == ["dump.jsonl#r0", "dump.jsonl#r1", "dump.jsonl#r2"]
    assert skips == (["stopped after 3 records"] if skipped else [])


# --------------------------------------------------------------------------
# gzipped JSON Lines, WET, standard input, oversized WARC records (issue 12)
# --------------------------------------------------------------------------


def test_jsonl_gz_is_read_like_the_jsonl(tmp_path: Path) -> None:
    data = (SAMPLES / "dumps" / "network-2017.jsonl").read_bytes()
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "d.jsonl").write_bytes(data)
    (tmp_path / "packed").mkdir()
    (tmp_path / "packed" / "d.jsonl.gz").write_bytes(gzip_compress(data))
    plain, _ = read(tmp_path / "plain")
    packed, skipped = read(tmp_path / "packed")
    assert skipped == []
    assert [i.replace(".jsonl.gz", ".jsonl") for i in packed] == list(plain)
    assert [d.text for d in packed.values()] == [d.text for d in plain.values()]
    assert len(plain) == 4


def gzip_compress(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, mtime=0)


def test_jsonl_gz_bomb_stops_at_the_bound(tmp_path: Path) -> None:
    """20 MB of blank lines gzip to 20 KB: stopped near 100 times that (plus 1 MiB), not read out."""
    bomb = gzip_compress(b"\n" * 20_000_000)
    folder = with_good(tmp_path, "bomb.jsonl.gz", bomb)
    docs, skipped = read(folder)
    assert_good_read(docs)
    bound = 100 * len(bomb) + (1 << 20)
    assert only_skip(skipped, folder / "bomb.jsonl.gz").reason == (
        f"too large: decompresses to over {bound} bytes (a compression bomb?); the rest is not read")


def test_jsonl_gz_truncated(tmp_path: Path) -> None:
    line = json.dumps({"id": "a", "text": GOOD_TEXT}).encode() + b"\n"
    packed = gzip_compress(line * 2000)
    folder = with_good(tmp_path, "cut.jsonl.gz", packed[: len(packed) // 2])
    docs, skipped = read(folder)
    assert_good_read(docs)
    assert skipped[-1].path == str(folder / "cut.jsonl.gz")
    assert skipped[-1].reason.startswith("truncated or corrupt gzip: ")


def write_wet(path: Path, pages: list[tuple[str, str, bytes]], gzip: bool = True) -> None:
    """A WET file as Common Crawl writes it: a warcinfo record, then ``conversion`` records."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gzip)
        info = b"software: provenance tests\r\nformat: WARC File Format 1.0\r\n"
        writer.write_record(writer.create_warc_record(
            "", "warcinfo", payload=io.BytesIO(info), length=len(info),
            warc_content_type="application/warc-fields"))
        for url, ctype, body in pages:
            writer.write_record(writer.create_warc_record(
                url, "conversion", payload=io.BytesIO(body), length=len(body), warc_content_type=ctype,
                warc_headers_dict={"WARC-Date": "2021-03-04T05:06:07Z",
                                   "WARC-Refers-To": "<urn:uuid:00000000-0000-0000-0000-000000000000>"}))


@pytest.mark.parametrize("name", ["cc.warc.wet.gz", "cc.warc.wet"])
def test_wet_conversion_records_are_plain_text(tmp_path: Path, name: str) -> None:
    seed = (SEEDS / "004_c7de8c5f71fa409e.txt").read_text(encoding="utf-8")
    write_wet(tmp_path / name, [
        ("https://www.iranfocus.com/en/a", "text/plain", seed.encode()),
        ("https://example.org/file.pdf", "application/pdf", b"%PDF-1.4"),
        ("https://news.example.com/b", "text/plain", "Short text, in UTF-8: Tehrān.".encode()),
    ], gzip=name.endswith(".gz"))
    docs, skipped = read(tmp_path)
    assert list(docs) == [f"{name}#1", f"{name}#3"]
    assert skipped == [Skipped(f"{tmp_path / name}#2", "not a plain-text conversion (application/pdf)")]
    first = docs[f"{name}#1"]
    assert (first.kind, first.text) == ("text", seed)
    assert (first.url, first.outlet, first.outlet_source) == ("https://www.iranfocus.com/en/a",
                                                              "iranfocus.com", "warc target host")
    assert (first.crawl_date, first.date) == ("2021-03-04", None)
    assert docs[f"{name}#3"].text == "Short text, in UTF-8: Tehrān."


def _rchar() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="counts reads through /proc/self/io")
def test_oversized_record_of_an_uncompressed_warc_is_seeked_past(tmp_path: Path) -> None:
    """A response that says it holds 2 GiB (a sparse file) is passed over without reading it."""
    gap = 2 << 30
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
    big = (b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:11111111-1111-1111-1111-111111111111>"
           b"\r\nWARC-Date: 2020-02-15T12:00:00Z\r\nWARC-Target-URI: https://big.example.org/\r\n"
           b"Content-Type: application/http; msgtype=response\r\n"
           b"Content-Length: " + str(len(http) + gap).encode() + b"\r\n\r\n" + http)
    after = tmp_path / "after.warc"
    write_warc(after, CRAWL[-1:], gzip=False)
    folder = tmp_path / "in"
    folder.mkdir()
    with open(folder / "big.warc", "wb") as fh:
        fh.write(big)
        fh.seek(gap, os.SEEK_CUR)  # a hole: no disk used, but read through it would take 2 GiB
        fh.write(b"\r\n\r\n" + after.read_bytes())
    before = _rchar()
    docs, skipped = read(folder)
    assert _rchar() - before < 8 << 20, "the oversized record was read through"
    assert skipped == [Skipped(f"{folder / 'big.warc'}#1", f"too large: over {16 << 20} bytes")]
    assert docs["big.warc#2"].text == "The second page says who published it and when."


def test_oversized_record_of_a_warc_gz_is_never_held_in_memory(tmp_path: Path) -> None:
    """Over the limit, a gzipped record is read past in small pieces, not up to the limit."""
    import tracemalloc

    rnd = random.Random(5)
    body = html_page(" ".join(f"word{rnd.randint(0, 9999)}" for _ in range(600_000)))  # ~6 MB
    write_warc(tmp_path / "w.warc.gz", [
        ("response", "https://a.example.org/", "text/html", body, "2020-02-15T12:00:00Z"),
        CRAWL[-1],
    ])
    tracemalloc.start()
    try:
        docs, skipped = read(tmp_path, cfg=IngestConfig(max_record_bytes=4 << 20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert skipped == [Skipped(f"{tmp_path / 'w.warc.gz'}#1", f"too large: over {4 << 20} bytes")]
    assert list(docs) == ["w.warc.gz#2"]
    assert peak < 2 << 20, f"{peak} bytes held at once"


def test_warc_gz_bomb_stops_before_the_record_is_inflated(tmp_path: Path) -> None:
    write_warc(tmp_path / "bomb.warc.gz", [
        ("response", "https://a.example.org/", "text/html", b"\0" * 30_000_000, "2020-02-15T12:00:00Z"),
        CRAWL[-1],
    ])
    bound = 100 * (tmp_path / "bomb.warc.gz").stat().st_size + (1 << 20)
    docs, skipped = call_with_timeout(lambda: read(tmp_path), 10)
    assert docs == {}
    assert skipped == [Skipped(str(tmp_path / "bomb.warc.gz"), f"too large: decompresses to over {bound}"
                               " bytes (a compression bomb?); the rest is not read after record 2")]


def stdin_read(data: bytes) -> tuple[dict[str, Document], list[Skipped]]:
    from provenance.ingest import read_stdin

    docs: dict[str, Document] = {}
    skipped: list[Skipped] = []
    for item in read_stdin(io.BytesIO(data), IngestConfig(), set()):
        if isinstance(item, Skipped):
            skipped.append(item)
        else:
            docs[item.id] = item
    return docs, skipped


def test_stdin_is_sniffed_plain_text_html_jsonl() -> None:
    seed = (SEEDS / "004_c7de8c5f71fa409e.txt").read_bytes()
    docs, _ = stdin_read(seed)
    assert (list(docs), docs["stdin"].kind, docs["stdin"].path) == (["stdin"], "text", "stdin")
    docs, _ = stdin_read((SAMPLES / "iranfocus" / "tackle-iran-by-supporting-the-iranian-people.html").read_bytes())
    assert docs["stdin"].kind == "html" and "<" not in docs["stdin"].text
    docs, skipped = stdin_read(b"\n" + (SAMPLES / "dumps" / "network-2017.jsonl").read_bytes())
    assert skipped == [] and len(docs) == 4
    assert all(i.startswith("stdin#") for i in docs)


@pytest.mark.parametrize("packed", [False, True])
def test_stdin_warc_gzipped_or_not(tmp_path: Path, packed: bool) -> None:
    write_warc(tmp_path / "c.warc.gz", CRAWL, gzip=packed)
    docs, skipped = stdin_read((tmp_path / "c.warc.gz").read_bytes())
    assert list(docs) == ["stdin#1", "stdin#3"]
    assert skipped == [Skipped("stdin#2", "not an HTML response (image/png)")]


def test_stdin_gzip_bomb_stops_at_the_size_limit() -> None:
    docs, skipped = stdin_read(gzip_compress(b"word " * 20_000_000))  # 100 MB, over 64 MiB
    assert docs == {}
    assert len(skipped) == 1 and skipped[0].path == "stdin"
    assert skipped[0].reason.startswith("too large: decompresses to over ")


def test_endless_stdin_stops_at_the_limit_in_a_real_pipe() -> None:
    import subprocess
    import sys

    yes = subprocess.Popen(["yes", "the same words again"], stdout=subprocess.PIPE)
    try:
        done = subprocess.run([sys.executable, "-m", "provenance", "scan", "-", "-q"], stdin=yes.stdout,
                              capture_output=True, text=True, timeout=60, cwd=ROOT)
    finally:
        yes.kill()
        yes.wait()
    assert done.returncode == 2
    assert f"skipped: stdin: too large: over {64 << 20} bytes (standard input is not read past the limit)" \
        in done.stderr.splitlines()


def test_stdin_named_twice_is_a_usage_error() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "provenance", "scan", "-", str(SEEDS), "-", "-q"],
                          input="text", capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: standard input (-) can be named only once"


def test_a_record_with_a_lone_surrogate_escaped_is_read_with_a_replacement_character(tmp_path: Path) -> None:
    """JSON may escape half of a surrogate pair alone (``"\\ud800"``); no Unicode text holds one,
    and the scan crashed on it (``UnicodeEncodeError`` hashing the lines). It is read as U+FFFD,
    a character for a character, a pair escaped whole is kept, and the report is written."""
    from provenance.cli import app
    from provenance.render.report import to_json

    text = "The council met \ud800 on Tuesday about the bridge, and \U0001F309 the river crossing plans."
    feed = tmp_path / "in" / "feed.jsonl"
    feed.parent.mkdir()
    feed.write_text(json.dumps({"id": "a\udc00", "text": text, "title": "Bridge \ud83d"}) + "\n"
                    + json.dumps({"id": "b", "text": "Another record, about the weather in town."}) + "\n",
                    encoding="utf-8")
    assert "\\ud800" in feed.read_text(encoding="utf-8")  # escaped, as json.dumps writes it
    report = run([feed.parent], Config())
    doc = next(c.doc for c in report.cleaned if c.doc.id.endswith("#a\ufffd"))
    assert doc.text == text.replace("\ud800", "\ufffd") and len(doc.text) == len(text)
    assert "\U0001F309" in doc.text and doc.title == "Bridge \ufffd"
    assert json.loads(to_json(report))["documents"]
    from typer.testing import CliRunner

    out = tmp_path / "report.json"
    done = CliRunner().invoke(app, ["scan", str(feed.parent), "-f", "json", "-o", str(out), "-q"])
    assert done.exit_code == 0, done.output
    assert len(json.loads(out.read_text(encoding="utf-8"))["documents"]) == 2
