"""HTML page -> visible text in blocks, plus the page's own metadata.

The page is parsed once, here, by lxml's binding of libxml2's recovering
HTML parser (the parser beautifulsoup4 drove for us before, without
building bs4's tree), so malformed markup still yields its text. The
parser sends start, end and text events to ``_Builder``; no tree is built,
so a page nested thousands of levels deep cannot exhaust the stack; below
``max_depth`` the structure is flattened into its parent block. Text is
NFC-normalised; ruby readings (``rt``, ``rp``) and elements marked
``hidden`` are not text. ``clean`` then decides which blocks are
boilerplate from their tag, ids, classes and link density, without parsing
again.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .dates import parse_date
from .records import Block

if TYPE_CHECKING:
    from lxml import etree

#: Elements whose content is never visible text.
INVISIBLE = frozenset({
    "script", "style", "noscript", "template", "head", "title", "meta", "link",
    "iframe", "svg", "math", "object", "embed", "canvas", "select", "option",
    "button", "input", "textarea",
    # ruby annotations: the reading of a word is printed above it, not in the line of text
    "rt", "rp",
})

#: Elements that start a new block of text.
BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1",
    "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "li", "main",
    "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "ul", "br", "caption", "center",
})

_SPACE = re.compile(r"\s+")


@dataclass
class Page:
    """What one HTML page yields: its text, blocks and metadata."""

    text: str
    blocks: tuple[Block, ...]
    meta: dict[str, str] = field(default_factory=dict)


def _descriptors(name: str, attrib: Any) -> tuple[str, ...]:
    """The tag name plus ``#id``, ``.class`` and ``@role`` entries, lower-case."""
    out = [name]
    ident = attrib.get("id")
    if ident and ident.strip():
        out.append("#" + ident.strip().lower())
    classes = attrib.get("class")
    if classes:
        out += ["." + cls.lower() for cls in classes.split()]
    role = attrib.get("role")
    if role and role.strip():
        out.append("@" + role.strip().lower())
    return tuple(out)


@dataclass
class _Head:
    """The elements the page's metadata is read from, as the parse meets them."""

    metas: list[dict[str, str]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    jsonld: list[str] = field(default_factory=list)
    time: str | None = None
    title: str | None = None


class _Builder:
    """lxml parser target: collects inline text into blocks as the parser goes.

    libxml2's recovering HTML parser (the one beautifulsoup4 drives) sends
    start, end and text events; no tree is built, so nesting of any depth
    costs a stack entry, never recursion. Below ``max_depth`` elements add no
    context and start no block: their text joins their ancestor's block.
    """

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.parts: list[str] = []
        self.blocks: list[Block] = []
        self.pos = 0
        self.buf: list[str] = []
        self.pending: list[str] = []  # the pieces of the text node being read
        self.link_chars = 0
        self.block_tag = "body"
        self.context: tuple[str, ...] = ()
        # one frame an open element: (context inside it, in a link, hidden, a block)
        self.frames: list[tuple[tuple[str, ...], bool, bool, bool]] = []
        self.head = _Head()
        self.capture: list[str] | None = None  # text of a <title> or JSON-LD <script>
        self.capture_children = 0  # elements open inside it
        self.capture_title = False
        self.title_seen = False
        self.capture_mixed = False  # it holds elements: a title is read only when it is text alone

    def start(self, tag: Any, attrib: Any) -> None:
        if self.pending:
            self._text_node()
        name = tag.lower() if isinstance(tag, str) else ""
        if self.capture is not None:
            self.capture_children += 1
            self.capture_mixed = True
        if name in _HEAD_TAGS:
            self._head_start(name, attrib)
        if self.frames:
            context, in_link, hidden, _ = self.frames[-1]
        else:
            context, in_link, hidden = (), False, False
        if hidden or name in INVISIBLE or attrib.get("hidden") is not None:
            self.frames.append((context, in_link, True, False))
            return
        depth = len(self.frames) + 1
        child_context = context + _descriptors(name, attrib) if depth < self.max_depth else context
        is_block = name in BLOCK_TAGS and depth < self.max_depth
        if is_block:
            self.flush()
            self.block_tag = name
            self.context = child_context
        self.frames.append((child_context, in_link or name == "a", False, is_block))

    def end(self, tag: Any) -> None:
        if self.pending:
            self._text_node()
        if self.capture is not None:
            if self.capture_children:
                self.capture_children -= 1
            else:
                self._head_end(tag.lower() if isinstance(tag, str) else "")
        if not self.frames:
            return
        if self.frames.pop()[3]:
            # After a block closes, text belongs to the enclosing block again.
            self.flush()
            context = self.frames[-1][0] if self.frames else ()
            self.block_tag = _tag_of(context)
            self.context = context

    def data(self, text: str) -> None:
        # libxml2 may hand one text node over in several pieces: they are joined before
        # the node's link characters are counted (white space collapsed within the node).
        if self.capture is not None:
            self.capture.append(text)
        if not (self.frames and self.frames[-1][2]):
            self.pending.append(text)

    def _text_node(self) -> None:
        text = "".join(self.pending) if len(self.pending) > 1 else self.pending[0]
        self.pending = []
        if not text.isascii():
            # one form for one text: a page written in decomposed form (e + combining accent,
            # Bengali vowel signs) reads as the same words as its composed copy
            text = unicodedata.normalize("NFC", text)
        self.buf.append(text)
        if self.frames and self.frames[-1][1]:
            self.link_chars += len(" ".join(text.split()))

    def close(self) -> None:
        if self.pending:
            self._text_node()
        self.flush()

    def flush(self) -> None:
        text = " ".join("".join(self.buf).split())
        self.buf = []
        if text:
            if self.parts:
                self.parts.append("\n")
                self.pos += 1
            self.parts.append(text)
            self.blocks.append(Block(self.pos, self.pos + len(text), self.block_tag,
                                     self.context, min(self.link_chars, len(text))))
            self.pos += len(text)
        self.link_chars = 0

    def _head_start(self, name: str, attrib: Any) -> None:
        head = self.head
        if name == "meta":
            head.metas.append(dict(attrib))
        elif name == "link":
            head.links.append(dict(attrib))
        elif name == "time":
            if head.time is None and attrib.get("datetime") is not None:
                head.time = str(attrib.get("datetime"))
        elif self.capture is None:
            if name == "title" and not self.title_seen:
                self.title_seen = True
                self.capture, self.capture_children, self.capture_mixed = [], 0, False
                self.capture_title = True
            elif name == "script" and attrib.get("type") == "application/ld+json":
                self.capture, self.capture_children, self.capture_mixed = [], 0, False
                self.capture_title = False

    def _head_end(self, name: str) -> None:
        text = "".join(self.capture or [])
        if self.capture_title:
            self.head.title = None if self.capture_mixed else text
        else:
            self.head.jsonld.append(text)
        self.capture = None


_HEAD_TAGS = frozenset({"meta", "link", "time", "title", "script"})


def parse_html(html: str, max_depth: int = 400) -> Page:
    """Parse an HTML page into visible text blocks and metadata.

    Args:
        html: the decoded page.
        max_depth: elements nested deeper than this are flattened.

    Returns:
        A ``Page``; ``text`` is empty when the page has no visible text.
    """
    from lxml import etree  # here: a run of JSON Lines or text parses no page (4 ms of a start)

    # One parser (and its builder) a thread, reused page after page: an lxml parser and its parse
    # context refer to each other, so a parser made per page is garbage in a reference cycle,
    # holding its builder's text and blocks until the cycle collector runs, which the driver has
    # turned off while it ingests (``read_clean.gather``) and cleans batches itself too.
    reused: tuple[etree.HTMLParser, _Builder] | None = getattr(_parsers, "pair", None)
    _parsers.pair = None  # taken: a failed parse leaves no half-read page to the next one
    if reused is None:
        builder = _Builder(max_depth)
        parser = etree.HTMLParser(target=builder, recover=True)
    else:
        parser, builder = reused
        builder.__init__(max_depth)  # type: ignore[misc]  # every field afresh
    try:
        parser.feed(html)
        parser.close()
    except (etree.ParserError, etree.XMLSyntaxError):
        builder.close()
    else:
        _parsers.pair = parser, builder
    return Page("".join(builder.parts), tuple(builder.blocks), _metadata(builder.head))


#: Each thread's parser and builder, between pages (``parse_html``).
_parsers = threading.local()


def _tag_of(context: tuple[str, ...]) -> str:
    for item in reversed(context):
        if item[:1] not in "#.@":
            return item
    return "body"


def _content(metas: list[dict[str, str]], key: str, value: str) -> str | None:
    """The ``content`` of the first ``<meta>`` whose ``key`` attribute is ``value``."""
    for tag in metas:
        if tag.get(key) == value:
            content = tag.get("content")
            if content and content.strip():
                return str(content.strip())
            return None
    return None


def _jsonld(head: _Head) -> list[dict[str, Any]]:
    """JSON-LD objects of the page (malformed ones are ignored)."""
    found: list[dict[str, Any]] = []
    for raw in head.jsonld:
        if len(raw) > 200_000:
            continue
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        items = data if isinstance(data, list) else [data]
        for item in items:
            if isinstance(item, dict):
                graph = item.get("@graph")
                if isinstance(graph, list):
                    found.extend(x for x in graph if isinstance(x, dict))
                found.append(item)
    return found


def _metadata(head: _Head) -> dict[str, str]:
    """Outlet, url, date and title from the page's own metadata."""
    meta: dict[str, str] = {}
    metas = head.metas
    site = _content(metas, "property", "og:site_name") or _content(metas, "name", "application-name")
    if site:
        meta["outlet"], meta["outlet_source"] = site, "og:site_name"
    canonical = next((link for link in head.links if "canonical" in (link.get("rel") or "").split()), None)
    if canonical is not None and canonical.get("href") is not None:
        meta["url"] = str(canonical.get("href")).strip()
    elif url := _content(metas, "property", "og:url"):
        meta["url"] = url
    for attrs, source in (
        (("property", "article:published_time"), "article:published_time"),
        (("name", "date"), "meta date"),
        (("name", "pubdate"), "meta pubdate"),
        (("itemprop", "datePublished"), "itemprop datePublished"),
        (("name", "dc.date"), "dc.date"),
    ):
        value = _content(metas, *attrs)
        date = parse_date(value) if value else None
        if date:
            meta["date"], meta["date_source"] = date, source
            break
    items = _jsonld(head)  # parsed once for the publisher, the date and the author
    for item in items:
        publisher = item.get("publisher")
        if "outlet" not in meta and isinstance(publisher, dict):
            name = publisher.get("name")
            if isinstance(name, str) and name.strip():
                meta["outlet"], meta["outlet_source"] = name.strip(), "json-ld publisher"
        published = item.get("datePublished")
        if "date" not in meta and isinstance(published, str):
            date = parse_date(published)
            if date:
                meta["date"], meta["date_source"] = date, "json-ld datePublished"
    if "date" not in meta and head.time is not None:
        date = parse_date(head.time)
        if date:
            meta["date"], meta["date_source"] = date, "time element"
    author = _content(metas, "name", "author") or _content(metas, "property", "article:author")
    for item in items:
        if author:
            break
        value = item.get("author")
        value = value[0] if isinstance(value, list) and value else value
        if isinstance(value, dict):
            value = value.get("name")
        if isinstance(value, str) and value.strip():
            author = value.strip()
    if author and not author.startswith("http"):
        meta["author"] = _SPACE.sub(" ", author)[:100]
    title = _content(metas, "property", "og:title")
    if not title and head.title:
        title = head.title.strip()
    if title:
        meta["title"] = _SPACE.sub(" ", title)[:500]
    return meta
