"""HTML page -> visible text in blocks, plus the page's own metadata.

The page is parsed once, here, with beautifulsoup4 (lxml's recovering
parser, so malformed markup still yields its text). The walk is iterative,
never recursive, so a page nested thousands of levels deep cannot exhaust
the stack; below ``max_depth`` the structure is flattened into its parent
block. ``clean`` then decides which blocks are boilerplate from their tag,
ids, classes and link density, without parsing again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bs4 import BeautifulSoup
from bs4.element import CData, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

from .dates import parse_date
from .records import Block

#: Elements whose content is never visible text.
INVISIBLE = frozenset({
    "script", "style", "noscript", "template", "head", "title", "meta", "link",
    "iframe", "svg", "math", "object", "embed", "canvas", "select", "option",
    "button", "input", "textarea",
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


def _descriptors(tag: Tag) -> list[str]:
    """The tag name plus ``#id`` and ``.class`` entries, lower-case."""
    out = [tag.name.lower()]
    ident = tag.get("id")
    if isinstance(ident, str) and ident.strip():
        out.append("#" + ident.strip().lower())
    raw = tag.get("class")
    classes = raw.split() if isinstance(raw, str) else list(raw or ())
    for cls in classes:
        out.append("." + str(cls).lower())
    role = tag.get("role")
    if isinstance(role, str) and role.strip():
        out.append("@" + role.strip().lower())
    return out


class _Builder:
    """Collects inline text into blocks while the walk goes on."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.blocks: list[Block] = []
        self.pos = 0
        self.buf: list[str] = []
        self.link_chars = 0
        self.block_tag = "body"
        self.context: tuple[str, ...] = ()

    def add(self, text: str, in_link: bool) -> None:
        self.buf.append(text)
        if in_link:
            self.link_chars += len(" ".join(text.split()))

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


def parse_html(html: str, max_depth: int = 400) -> Page:
    """Parse an HTML page into visible text blocks and metadata.

    Args:
        html: the decoded page.
        max_depth: elements nested deeper than this are flattened.

    Returns:
        A ``Page``; ``text`` is empty when the page has no visible text.
    """
    soup = BeautifulSoup(html, "lxml")
    meta = _metadata(soup)
    builder = _Builder()
    # Stack items: (node, depth, context, in_link, closing-marker)
    stack: list[tuple[Any, int, tuple[str, ...], bool, bool]] = [(soup, 0, (), False, False)]
    while stack:
        node, depth, context, in_link, closing = stack.pop()
        if closing:
            builder.flush()
            builder.block_tag = _tag_of(context)
            builder.context = context
            continue
        if isinstance(node, (Comment, Doctype, CData, ProcessingInstruction, Declaration)):
            continue
        if isinstance(node, NavigableString):
            builder.add(str(node), in_link)
            continue
        if not isinstance(node, Tag):
            continue
        name = (node.name or "").lower()
        if name in INVISIBLE or node.get("hidden") is not None:
            continue
        child_context = context
        is_block = name in BLOCK_TAGS and depth < max_depth
        if node is not soup and depth < max_depth:
            child_context = context + tuple(_descriptors(node))
        if is_block:
            builder.flush()
            # After this element closes, text belongs to the parent block again.
            stack.append((None, depth, context, in_link, True))
            builder.block_tag = name
            builder.context = child_context
        link = in_link or name == "a"
        for child in reversed(list(node.children)):
            stack.append((child, depth + 1, child_context, link, False))
    builder.flush()
    return Page("".join(builder.parts), tuple(builder.blocks), meta)


def _tag_of(context: tuple[str, ...]) -> str:
    for item in reversed(context):
        if item[:1] not in "#.@":
            return item
    return "body"


def _content(soup: BeautifulSoup, **attrs: str) -> str | None:
    tag = soup.find("meta", attrs=dict(attrs.items()))
    if isinstance(tag, Tag):
        value = tag.get("content")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _jsonld(soup: BeautifulSoup) -> list[dict[str, Any]]:
    """JSON-LD objects of the page (malformed ones are ignored)."""
    found: list[dict[str, Any]] = []
    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        raw = script.string or ""
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


def _metadata(soup: BeautifulSoup) -> dict[str, str]:
    """Outlet, url, date and title from the page's own metadata."""
    meta: dict[str, str] = {}
    site = _content(soup, property="og:site_name") or _content(soup, name="application-name")
    if site:
        meta["outlet"], meta["outlet_source"] = site, "og:site_name"
    canonical = soup.find("link", rel="canonical")
    if isinstance(canonical, Tag) and isinstance(canonical.get("href"), str):
        meta["url"] = str(canonical["href"]).strip()
    elif url := _content(soup, property="og:url"):
        meta["url"] = url
    for attrs, source in (
        ({"property": "article:published_time"}, "article:published_time"),
        ({"name": "date"}, "meta date"),
        ({"name": "pubdate"}, "meta pubdate"),
        ({"itemprop": "datePublished"}, "itemprop datePublished"),
        ({"name": "dc.date"}, "dc.date"),
    ):
        value = _content(soup, **attrs)
        date = parse_date(value) if value else None
        if date:
            meta["date"], meta["date_source"] = date, source
            break
    for item in _jsonld(soup):
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
    if "date" not in meta:
        time = soup.find("time", attrs={"datetime": True})
        if isinstance(time, Tag):
            date = parse_date(str(time.get("datetime")))
            if date:
                meta["date"], meta["date_source"] = date, "time element"
    author = _content(soup, name="author") or _content(soup, property="article:author")
    for item in _jsonld(soup):
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
    title = _content(soup, property="og:title")
    if not title and soup.title and soup.title.string:
        title = soup.title.string.strip()
    if title:
        meta["title"] = _SPACE.sub(" ", title)[:500]
    return meta
