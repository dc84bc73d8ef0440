"""Structure and context rules of an HTML page: which blocks are furniture by where they sit.

* **Structure rules** use each block's context: ``nav``, page-level
  ``header`` and ``footer``, ``aside``, ``form``; ids and classes that name
  comments, related/popular posts, share bars, sidebars, widgets, menus,
  cookie banners or adverts; link-dense blocks; and, when one element
  clearly holds the page's running text (``main_prefix``), everything
  outside it but the title and a lead.
* **Context rules**, over what the others removed: a heading with nothing
  kept under it goes with its section (``orphan_headings``), and a few short
  lines stranded between removed blocks go with them (``stranded_blocks``,
  jusText's idea).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from .config import CleanConfig
from .phrases import WORD, Rules, load_rules
from .records import Block, Document, Removal

#: Tags -> reason (HTML). ``header`` and ``footer`` count only outside an article.
TAG_REASONS = {"nav": "navigation", "aside": "sidebar", "form": "subscribe", "menu": "navigation",
               "figcaption": "caption"}
_CONTENT_CONTAINERS = {"article", "main", "@main", ".post-body", ".entry-content", ".article-body"}


#: An element holding more than this share of a page's text is its layout, not furniture,
#: whatever its class says (``div.content-sidebar-wrap``, ASP.NET's page-wide ``form``).
DOMINANT_SHARE = 0.5


def _elements(context: tuple[str, ...]) -> list[tuple[int, int]]:
    """``(start, end)`` of each element's descriptors in a context: its tag, then its ids/classes."""
    bounds = [i for i, item in enumerate(context) if item[:1] not in "#.@"]
    return list(zip(bounds, [*bounds[1:], len(context)], strict=True))


def _within(context: tuple[str, ...], prefix: tuple[str, ...] | None) -> bool:
    """The block of ``context`` is inside the element ``prefix`` (a context prefix)."""
    return prefix is not None and context[:len(prefix)] == prefix


def _chars_within(sized: Iterable[tuple[tuple[str, ...], int]], prefix: tuple[str, ...]) -> int:
    """Characters of the ``(context, length)`` items inside the element ``prefix``."""
    return sum(n for ctx, n in sized if _within(ctx, prefix))


#: Class namespaces of page builders and taxonomies: they name layout or a post's
#: categories (``category-no-newsletter``), never furniture.
_IGNORED_CLASSES = ("elementor-", "et_pb", "wp-block", "vc_", "fusion-", "td-", "tcb-", "thrv",
                    "tag-", "category-", "format-", "status-")
_LEAD_PREFIXES = ("intro", "subhead", "standfirst")
#: Words of a lead's class besides those that start with a ``_LEAD_PREFIXES`` word.
_LEAD_WORDS = frozenset({"lead", "teaser", "abstract", "summary", "subtitle", "chapo", "bajada", "leader",
                         "excerpt", "hero", "description", "deck"})


_PART_SPLIT = re.compile(r"[-_\s]+")


@lru_cache(maxsize=65536)
def _class_parts(item: str) -> tuple[str, ...]:
    """The words of an id or class that can name furniture (BEM modifiers after ``--`` and
    page-builder or taxonomy classes are not read)."""
    name = item[1:].split("--", 1)[0]
    if item[:1] == "." and name.startswith(_IGNORED_CLASSES):
        return ()
    return tuple(p for p in _PART_SPLIT.split(name) if p)


def element_reasons(context: tuple[str, ...], rules: Rules) -> list[tuple[str, int, bool]]:
    """Structural reasons a block's ancestors give, innermost first: (reason, prefix end, by class)."""
    inside_content = any(c in _CONTENT_CONTAINERS for c in context)
    found: list[tuple[str, int, bool]] = []
    for start, end in reversed(_elements(context)):
        tag = context[start]
        if tag in ("html", "body"):
            continue
        for item in context[start + 1:end]:
            if item[:1] == "@":
                if item == "@navigation":
                    found.append(("navigation", end, True))
                continue
            for part in _class_parts(item):
                reason = rules.class_reason(part)
                if reason in ("header", "footer") and inside_content:
                    continue
                if reason is not None:
                    found.append((reason, end, True))
                    break
        if tag in TAG_REASONS:
            found.append((TAG_REASONS[tag], end, False))
        elif tag in ("header", "footer") and not inside_content:
            found.append((tag, end, False))
    return found


#: Blocks in these elements do not vote for the main content (unless the element holds most
#: of the page's running text: some sites put the article in an ``aside``).
_NO_VOTE_TAGS = frozenset({"aside", "nav", "footer"})
_GOOD_TAGS = frozenset({"p", "div", "li", "td", "blockquote", "pre", "dd", "section", "article",
                        "main", "span", "font", "center", "body", "br", "figcaption"})
_ARTICLE_MARKS = ("article", "main", "@main", "@article", ".post-body", ".entry-content",
                  ".article-body", ".articlebody", ".post-content", ".story-body", ".article-content")


def main_prefix(doc: Document, cfg: CleanConfig, rules: Rules | None = None) -> tuple[str, ...] | None:
    """The context of the element that holds the page's main text, or None when unclear.

    Readability's idea on our blocks: each block of running text (10 words or
    more, little link text) scores its parent element fully and its
    grandparent by half; the best-scoring element is the main content. An
    explicit article container (``article``, ``main``, ``.entry-content``...)
    that holds the best element and most of the running text is taken
    instead, so the headline and byline around the body come with it. The
    result is used only when it holds at least ``main_min_share`` of the
    page's running text.
    """
    rules = rules or load_rules(cfg.rules_file)
    blocks = doc.blocks or ()
    scores: dict[tuple[str, ...], float] = {}
    good_chars: list[tuple[tuple[str, ...], int]] = []
    running: list[tuple[Block, int, tuple[str, ...] | None]] = []
    aside_chars: dict[tuple[str, ...], int] = {}
    for block in blocks:
        if block.tag not in _GOOD_TAGS or not _is_prose(block, doc.text):
            continue
        length = block.end - block.start
        if any(rules.class_reason(part) == "comments" for item in block.context if item[:1] in "#."
               for part in _class_parts(item)):
            continue  # a long comment thread must not win the vote for the main content
        aside = next((block.context[:end] for start, end in _elements(block.context)
                      if block.context[start] in _NO_VOTE_TAGS), None)
        if aside is not None:
            aside_chars[aside] = aside_chars.get(aside, 0) + length
        running.append((block, length, aside))
    all_running = sum(n for _, n, _ in running)
    for block, length, aside in running:
        if aside is not None and aside_chars[aside] < 0.8 * all_running:
            continue  # a sidebar's, menu's or footer's text does not vote either (unless it holds most)
        good_chars.append((block.context, length))
        elements = _elements(block.context)
        score = 1.0 + doc.text.count(",", block.start, block.end) + min(length / 100.0, 3.0)
        for depth, share in ((2, 1.0), (3, 0.5)):
            if len(elements) >= depth:
                key = block.context[:elements[-depth][1]]
                scores[key] = scores.get(key, 0.0) + score * share
    total = sum(n for _, n in good_chars)
    if not scores or total == 0:
        return None
    best = max(scores, key=lambda k: (scores[k], -len(k)))

    def held(prefix: tuple[str, ...]) -> int:
        return _chars_within(good_chars, prefix)

    for start, end in _elements(best):
        element = best[:end]
        if any(item in _ARTICLE_MARKS for item in best[start:end]) and held(element) >= 0.8 * total:
            best = element
            break
    if held(best) < cfg.main_min_share * total:
        return None
    return _widen(best, blocks, good_chars)


#: The main element widens to its parent when the text the parent adds is at least this
#: share running text...
WIDEN_PROSE_SHARE = 0.6
#: ...and adds at least this share to the main element's running text.
WIDEN_MIN_GAIN = 0.1


_PAGE_FURNITURE_TAGS = frozenset({"header", "footer", "nav", "aside", "menu", "form"})


def _last_tag(prefix: tuple[str, ...]) -> str:
    """The tag name of the innermost element of a context prefix."""
    return prefix[_elements(prefix)[-1][0]]


def _widen(best: tuple[str, ...], blocks: tuple[Block, ...],
           good_chars: list[tuple[tuple[str, ...], int]]) -> tuple[str, ...]:
    """The main element, widened to its parent while the parent adds running text, not furniture.

    The element that wins the vote can be one part of the body (a long ``ul`` of
    paragraphs, one of several ``div`` sections) with the rest of the body beside it:
    the parent is taken when what it adds is mostly running text and adds to it
    noticeably. A sidebar, link lists or a comment thread beside the body add text
    that is not running text, and stop the widening.
    """
    elements = _elements(best)
    sized = [(b.context, b.end - b.start) for b in blocks]
    good, every = _chars_within(good_chars, best), _chars_within(sized, best)
    for start, _ in reversed(elements[2:]):  # never up to html or body
        parent = best[:start]
        if _last_tag(parent) in _PAGE_FURNITURE_TAGS:
            break
        parent_good, parent_every = _chars_within(good_chars, parent), _chars_within(sized, parent)
        added_good, added = parent_good - good, parent_every - every
        if added <= 0:
            best = parent
            continue
        if added_good < WIDEN_MIN_GAIN * good or added_good < WIDEN_PROSE_SHARE * added:
            break
        best, good, every = parent, parent_good, parent_every
    return best


#: A lead may sit this many levels above the main element (in the article's header).
LEAD_LEVELS = 5


def _is_lead(block: Block, text: str, near: tuple[str, ...] | None, first_main: int) -> bool:
    """A standfirst or lead before the main element, in the region around it (TYPO3's
    ``.teaser-text``, ``#chapo``, ``.texto-bajada``, ``.article-subheadline``)."""
    if near is None or block.start >= first_main or not _within(block.context, near):
        return False
    length = block.end - block.start
    if not length or block.link_chars / length > 0.2 or len(WORD.findall(text[block.start:block.end])) < 8:
        return False
    return any(part in _LEAD_WORDS or part.startswith(_LEAD_PREFIXES) or part.endswith("intro")
               for item in block.context[len(near):] if item[:1] in "#." for part in _class_parts(item))


#: A web or mail address written out: inside the article, a reference its author gives.
_WRITTEN_ADDRESS = re.compile(r"https?://\S|www\.\w|[\w.+-]+@[\w-]+\.\w")


def _title_block(blocks: tuple[Block, ...], main: tuple[str, ...] | None) -> Block | None:
    """The page's title outside the main element: the last ``h1`` before the main element's
    first block, when the main element holds no ``h1`` of its own. Other ``h1`` outside the
    main element (a sidebar's, a footer's) are not the title."""
    if main is None:
        return None
    inside = [i for i, block in enumerate(blocks) if _within(block.context, main)]
    if not inside or any(blocks[i].tag == "h1" for i in inside):
        return None
    return next((block for block in reversed(blocks[:inside[0]]) if block.tag == "h1"), None)


def _is_prose(block: Block, text: str) -> bool:
    """Running text: ten words or more, little of it link text."""
    length = block.end - block.start
    return length > 0 and block.link_chars / length <= 0.33 \
        and len(WORD.findall(text, block.start, block.end)) >= 10


def html_removals(doc: Document, cfg: CleanConfig, rules: Rules | None = None) -> list[Removal]:
    """Removals found by the structure rules of an HTML page.

    Ids and classes say more than tags (``aside.related-posts`` is a teaser
    list, not just a sidebar), and nearer ancestors more than farther ones;
    an ancestor that holds most of the page's text, or most of its running
    text (``div.left-navigation-wrapper`` around the whole page), is never a
    reason.
    """
    rules = rules or load_rules(cfg.rules_file)
    blocks = doc.blocks or ()
    held: dict[tuple[str, ...], int] = {}
    prose_held: dict[tuple[str, ...], int] = {}
    total = prose_total = 0
    text = doc.text
    for block in blocks:
        length = block.end - block.start
        total += length
        prose = _is_prose(block, text)
        prose_total += length if prose else 0
        for _, end in _elements(block.context):
            key = block.context[:end]
            held[key] = held.get(key, 0) + length
            if prose:
                prose_held[key] = prose_held.get(key, 0) + length
    limit = DOMINANT_SHARE * total
    prose_limit = DOMINANT_SHARE * prose_total
    main = main_prefix(doc, cfg, rules) if cfg.main_min_share <= 1.0 else None
    near = None
    if main is not None:
        levels = _elements(main)
        near = main[:levels[max(len(levels) - 1 - LEAD_LEVELS, 2)][1]] if len(levels) > 3 else main
    first_main = next((b.start for b in blocks if _within(b.context, main)), 0)
    out: list[Removal] = []
    main_held = held.get(main, 0) if main is not None else 0
    title = _title_block(blocks, main)
    candidates: dict[tuple[str, ...], list[tuple[str, int, bool]]] = {}
    for block in blocks:
        inside = _within(block.context, main)
        # An element is no reason when it holds most of the page, or is (or wraps)
        # the main content, or holds most of it (Blogger's ``div.widget.Blog``
        # around every post, ``div.entry-content.no-share``).
        found = candidates.get(block.context)
        if found is None:
            found = candidates[block.context] = element_reasons(block.context, rules)
        usable = [(r, by_class) for r, end, by_class in found
                  if held.get(block.context[:end], 0) <= limit
                  and prose_held.get(block.context[:end], 0) <= prose_limit
                  and not (inside and main is not None
                           and (end <= len(main) or held.get(block.context[:end], 0) > 0.5 * main_held))]
        reason = next((r for r, by_class in usable if by_class), None) or next(
            (r for r, _ in usable), None)
        length = block.end - block.start
        if reason is None and length:
            # Inside the main content only a list of links is furniture (``A | B``), not
            # a sentence that happens to be one link, nor a data table's cell (a linked name).
            ratio, words = block.link_chars / length, len(WORD.findall(text[block.start:block.end]))
            if (not inside and ratio > cfg.link_density and words < 40) or \
                    (inside and block.tag not in ("td", "th")
                     and ((ratio > 0.8 and words < 15) or (ratio > 0.95 and words < 60))
                     and not _WRITTEN_ADDRESS.search(text, block.start, block.end)):
                reason = "link-dense"
        if reason is None and main is not None and not inside and block is not title \
                and not _is_lead(block, text, near, first_main):
            reason = "outside-main"
        if reason is not None:
            end = block.end + 1 if text[block.end:block.end + 1] == "\n" else block.end
            out.append(Removal(block.start, end, reason))
    return out


_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


def _removed_blocks(blocks: tuple[Block, ...], removals: list[Removal]) -> list[str | None]:
    """For each block, the reason of the removal that covers it whole, or None."""
    out: list[str | None] = []
    k = 0
    for block in blocks:
        while k < len(removals) and removals[k].end <= block.start:
            k += 1
        # merged removals may abut: walk the run that covers the block
        pos, j, reason = block.start, k, None
        while j < len(removals) and removals[j].start <= pos < block.end:
            reason = reason or removals[j].reason
            pos = removals[j].end
            j += 1
        out.append(reason if pos >= block.end else None)
    return out


def orphan_headings(doc: Document, removals: list[Removal]) -> list[Removal]:
    """Headings with nothing kept under them: the title of a removed section goes with it.

    A heading (``h1``-``h6``) heads the blocks up to the next heading of its level or
    higher; when there are such blocks and every one is removed ("More from this
    section" over a link list, "Comments" over a comment thread), the heading is
    furniture too, and takes the reason of the first block under it. Sorted, merged
    ``removals`` go in.
    """
    blocks = doc.blocks or ()
    reasons = _removed_blocks(blocks, removals)
    out: list[Removal] = []
    text = doc.text
    for i, block in enumerate(blocks):
        level = _HEADINGS.get(block.tag)
        if level is None or reasons[i] is not None:
            continue
        j = i + 1
        while j < len(blocks) and reasons[j] is not None \
                and _HEADINGS.get(blocks[j].tag, 7) > level:
            j += 1
        ended = j == len(blocks) or _HEADINGS.get(blocks[j].tag, 7) <= level
        if j > i + 1 and ended:
            reason = reasons[i + 1]
            assert reason is not None
            end = block.end + 1 if text[block.end:block.end + 1] == "\n" else block.end
            out.append(Removal(block.start, end, reason))
    return out


#: A kept block this short between two removed ones is taken as part of them.
STRANDED_MAX_WORDS = 8
STRANDED_MAX_CHARS = 80
#: ...and so is a run of at most this many such blocks.
STRANDED_MAX_RUN = 5


def _short(block: Block, text: str) -> bool:
    """A line of a few words (and few characters: a sentence of Japanese is one ``\\w+`` run)."""
    return block.tag != "h1" and block.end - block.start <= STRANDED_MAX_CHARS \
        and len(WORD.findall(text, block.start, block.end)) <= STRANDED_MAX_WORDS


def stranded_blocks(doc: Document, removals: list[Removal]) -> list[Removal]:
    """Short blocks stranded between removed ones: jusText's context rule on our blocks.

    A run of lines of a few words each ("Previous article", a date, "Source:")
    whose neighbours on both sides are removed is part of the furniture around
    it, and takes the reason of the block before it. Longer blocks, and the
    page's ``h1`` title (often between a breadcrumb and a byline), stay whatever
    surrounds them. An advert slot is no neighbour: sites place them between the
    paragraphs of an article, next to its subheadings. Sorted, merged
    ``removals`` go in.
    """
    blocks = doc.blocks or ()
    reasons = _removed_blocks(blocks, removals)
    seq = [k for k, reason in enumerate(reasons) if reason != "advert"]
    out: list[Removal] = []
    text = doc.text
    i = 1
    while i < len(seq) - 1:
        before = reasons[seq[i - 1]]
        if reasons[seq[i]] is not None or before is None:
            i += 1
            continue
        j = i
        while j < len(seq) and reasons[seq[j]] is None and _short(blocks[seq[j]], text) \
                and j - i < STRANDED_MAX_RUN:
            j += 1
        if j > i and j < len(seq) and reasons[seq[j]] is not None:
            for k in seq[i:j]:
                end = blocks[k].end + 1 if text[blocks[k].end:blocks[k].end + 1] == "\n" else blocks[k].end
                out.append(Removal(blocks[k].start, end, before))
        i = max(j, i + 1)
    return out
