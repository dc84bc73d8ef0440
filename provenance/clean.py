"""Boilerplate removal with an audit: ``Document`` -> ``CleanDoc``.

Three kinds of rule run on every document:

* **Line rules** (plain text and HTML alike: an HTML page's text holds one
  block a line) match phrases from the language files in ``data/lang/``: a "Skip to
  main content" line, share bars, cookie and subscription prompts, tag
  lists, and the headings of comment threads and teaser lists. A heading
  takes its whole section with it: in the last 60 % of a page everything up
  to the next recognised heading (or the end), elsewhere only the short,
  list-like lines that follow it. Teasers quote other articles, so a teaser
  list left in would look like copying.
* **Structure rules** (HTML only) use each block's context: ``nav``,
  page-level ``header`` and ``footer``, ``aside``, ``form``; ids and classes
  that name comments, related/popular posts, share bars, sidebars, widgets,
  menus, cookie banners or adverts; link-dense blocks; and, when one element
  clearly holds the page's running text (``main_prefix``), everything outside
  it but the title and a lead.
* **Context rules** (HTML, over what the others removed): a heading with
  nothing kept under it goes with its section (``orphan_headings``), and a
  few short lines stranded between removed blocks go with them
  (``stranded_blocks``, jusText's idea).

Every removed span is kept with its reason, in offsets of ``Document.text``,
so that the kept spans plus the removed ones rebuild the text exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from .config import CleanConfig
from .errors import ConfigError
from .lang import load_languages
from .records import Block, CleanDoc, Document, Removal, Span

_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)
_WORD = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)

#: Sections that a heading opens: the heading takes the section with it.
SECTION_REASONS = ("comments", "teaser-list")

#: Tags -> reason (HTML). ``header`` and ``footer`` count only outside an article.
TAG_REASONS = {"nav": "navigation", "aside": "sidebar", "form": "subscribe", "menu": "navigation",
               "figcaption": "caption"}
_CONTENT_CONTAINERS = {"article", "main", "@main", ".post-body", ".entry-content", ".article-body"}


@dataclass(frozen=True)
class _Rules:
    exact: dict[str, str]
    prefix: tuple[tuple[str, str], ...]
    contains: tuple[tuple[str, str], ...]
    regex: tuple[tuple[re.Pattern[str], str], ...]
    share_words: frozenset[str]
    share_requires: frozenset[str]
    classes: dict[str, str]
    class_prefixes: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # Every line of every document meets these rules: one compiled alternation
        # per kind answers "does any rule match?" in C, and the rules are walked in
        # order (the first match names the reason) only when one does.
        def alternation(parts: Iterable[str]) -> re.Pattern[str] | None:
            parts = list(parts)
            return re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None

        first: dict[str, str] = {}
        for start, reason in self.prefix:
            first.setdefault(start, reason)
        object.__setattr__(self, "_prefix_first", first)
        # alternatives are tried in order at the start: the first listed prefix that matches wins
        object.__setattr__(self, "_prefix_re", alternation(re.escape(p) for p, _ in self.prefix))
        object.__setattr__(self, "_contains_re", alternation(re.escape(n) for n, _ in self.contains))
        object.__setattr__(self, "_class_memo", {})
        try:
            object.__setattr__(self, "_regex_re", alternation(p.pattern for p, _ in self.regex))
        except re.error:  # a user's pattern with inline flags: no shortcut, the loop alone
            object.__setattr__(self, "_regex_re", None)

    def prefix_reason(self, low: str) -> str | None:
        """The reason of the first prefix rule that ``low`` starts with."""
        pattern: re.Pattern[str] | None = self._prefix_re  # type: ignore[attr-defined]
        found = pattern.match(low) if pattern is not None else None
        return self._prefix_first[found.group(0)] if found else None  # type: ignore[attr-defined]

    def regex_reason(self, norm: str, low: str) -> str | None:
        """The reason of the first regex rule that matches either form of the line."""
        quick: re.Pattern[str] | None = self._regex_re  # type: ignore[attr-defined]
        if not self.regex or (quick is not None and quick.search(norm) is None
                              and quick.search(low) is None):
            return None
        for pattern, reason in self.regex:
            if pattern.search(norm) or pattern.search(low):
                return reason
        return None

    def contains_reason(self, low: str) -> str | None:
        """The reason of the first "contains" rule whose phrase is in ``low``."""
        quick: re.Pattern[str] | None = self._contains_re  # type: ignore[attr-defined]
        if quick is None or quick.search(low) is None:
            return None
        return next((reason for needle, reason in self.contains if needle in low), None)

    def class_reason(self, part: str) -> str | None:
        """The reason a class or id part names: a whole word, else a known prefix."""
        memo: dict[str, str | None] = self._class_memo  # type: ignore[attr-defined]
        if part in memo:
            return memo[part]
        reason = self.classes.get(part)
        if reason is None:
            reason = next((value for prefix, value in self.class_prefixes if part.startswith(prefix)), None)
        if len(memo) < 100_000:
            memo[part] = reason
        return reason


@lru_cache(maxsize=8)
def load_rules(path: str | None = None) -> _Rules:
    """The phrase rules of every language (``provenance.lang``), merged; cached."""
    langs = load_languages(path)
    exact: dict[str, str] = {}
    prefix: list[tuple[str, str]] = []
    contains: list[tuple[str, str]] = []
    regex: list[tuple[re.Pattern[str], str]] = []
    words: set[str] = set()
    requires: set[str] = set()
    for reason, spec in sorted(langs.phrases.items()):
        for phrase in spec.get("exact", []):
            exact.setdefault(_norm(phrase), reason)
        prefix += [(_norm_prefix(p), reason) for p in spec.get("prefix", [])]
        contains += [(p.lower(), reason) for p in spec.get("contains", [])]
        regex += [(re.compile(p), reason) for p in spec.get("regex", [])]
        if reason == "share":
            words |= {w.lower() for w in spec.get("words", [])}
            requires |= {w.lower() for w in spec.get("requires", [])}
    return _Rules(exact, tuple(prefix), tuple(contains), tuple(regex),
                  frozenset(words), frozenset(requires), dict(langs.classes),
                  tuple(sorted(langs.class_prefixes.items())))


def _norm(line: str) -> str:
    return _EDGE_PUNCT.sub("", " ".join(line.lower().split()))


def _norm_prefix(text: str) -> str:
    return " ".join(text.lower().split())  # str.split and re's \s agree on whitespace


#: Lines longer than this are prose: exact phrases, "contains" rules (at most 25 words),
#: share bars and the anchored regexes cannot match them; only prefix rules are tried.
LONG_LINE = 300


def classify_line(line: str, rules: _Rules | None = None) -> str | None:
    """The boilerplate reason for one line of text, or None if it may be content.

    Example:
        >>> classify_line("Skip to main content")
        'skip-link'
        >>> classify_line("Popular posts from this blog")
        'teaser-list'
    """
    rules = rules or load_rules()
    if len(line) > LONG_LINE:
        # A paragraph of prose: only a prefix rule ("Tags: ...") can name it, so
        # only its start is normalised (this keeps cleaning linear and cheap).
        return rules.prefix_reason(_norm_prefix(line[:200]))
    norm = _norm(line)
    if not norm:
        return None
    if norm in rules.exact:
        return rules.exact[norm]
    low = _norm_prefix(line)
    reason = rules.regex_reason(norm, low) or rules.prefix_reason(low)
    if reason:
        return reason
    words = _WORD.findall(norm)
    if len(words) <= 25:
        reason = rules.contains_reason(low)
        if reason:
            return reason
    if words and len(words) <= 12 and all(w in rules.share_words for w in words) \
            and any(w in rules.share_requires for w in words):
        return "share"
    return None


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line, the end including its newline."""
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        spans.append((pos, pos + len(line)))
        pos += len(line)
    return spans


def _list_like(line: str) -> bool:
    """A line that reads as a list item or teaser rather than prose."""
    stripped = line.strip()
    return (not stripped or len(_WORD.findall(stripped)) < 20
            or stripped.endswith(("...", "…", "»", "›")))


def line_removals(text: str, rules: _Rules | None = None, greedy: bool = True) -> list[Removal]:
    """Removals found by the line rules, sections included.

    With ``greedy`` (plain text), a section heading in the last 60 % of the
    text takes everything up to the next heading; without it (HTML, whose
    structure rules find comment and teaser blocks themselves) a heading
    takes only the short, list-like lines that follow it.
    """
    rules = rules or load_rules()
    lines = _lines(text)
    reasons = [classify_line(text[s:e], rules) for s, e in lines]
    out: list[Removal] = []
    n, total = len(lines), max(len(text), 1)
    i = 0
    while i < n:
        reason = reasons[i]
        if reason is None:
            i += 1
            continue
        start, end = lines[i]
        j = i + 1
        if reason in SECTION_REASONS:
            late = greedy and start >= 0.4 * total
            while j < n and (reasons[j] is None or reasons[j] not in (*SECTION_REASONS, "skip-link")):
                body = text[lines[j][0]:lines[j][1]]
                if not late and not _list_like(body):
                    break
                if not late and j - i > 40:
                    break
                j += 1
            # do not swallow trailing blank lines that belong to the next section
            while j > i + 1 and not text[lines[j - 1][0]:lines[j - 1][1]].strip():
                j -= 1
            end = lines[j - 1][1]
        out.append(Removal(start, end, reason))
        i = j
    return out


#: An element holding more than this share of a page's text is its layout, not furniture,
#: whatever its class says (``div.content-sidebar-wrap``, ASP.NET's page-wide ``form``).
DOMINANT_SHARE = 0.5


def _elements(context: tuple[str, ...]) -> list[tuple[int, int]]:
    """``(start, end)`` of each element's descriptors in a context: its tag, then its ids/classes."""
    bounds = [i for i, item in enumerate(context) if item[:1] not in "#.@"]
    return list(zip(bounds, [*bounds[1:], len(context)], strict=True))


#: Class namespaces of page builders and taxonomies: they name layout or a post's
#: categories (``category-no-newsletter``), never furniture.
_IGNORED_CLASSES = ("elementor-", "et_pb", "wp-block", "vc_", "fusion-", "td-", "tcb-", "thrv",
                    "tag-", "category-", "format-", "status-")
_LEAD_PREFIXES = ("intro", "subhead", "standfirst")
_LEAD_WORDS = frozenset({"lead", "teaser", "intro", "abstract", "summary", "standfirst", "subtitle",
                         "chapo", "bajada", "leader", "excerpt", "hero", "description", "deck"})


_PART_SPLIT = re.compile(r"[-_\s]+")


@lru_cache(maxsize=65536)
def _class_parts(item: str) -> tuple[str, ...]:
    """The words of an id or class that can name furniture (BEM modifiers after ``--`` and
    page-builder or taxonomy classes are not read)."""
    name = item[1:].split("--", 1)[0]
    if item[:1] == "." and name.startswith(_IGNORED_CLASSES):
        return ()
    return tuple(p for p in _PART_SPLIT.split(name) if p)


def _candidates(context: tuple[str, ...], rules: _Rules) -> list[tuple[str, int, bool]]:
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


def main_prefix(doc: Document, cfg: CleanConfig, rules: _Rules | None = None) -> tuple[str, ...] | None:
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
        return sum(n for ctx, n in good_chars if ctx[:len(prefix)] == prefix)

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
    good = sum(n for ctx, n in good_chars if ctx[:len(best)] == best)
    every = sum(b.end - b.start for b in blocks if b.context[:len(best)] == best)
    for start, _ in reversed(elements[2:]):  # never up to html or body
        parent = best[:start]
        if _last_tag(parent) in _PAGE_FURNITURE_TAGS:
            break
        parent_good = sum(n for ctx, n in good_chars if ctx[:len(parent)] == parent)
        parent_every = sum(b.end - b.start for b in blocks if b.context[:len(parent)] == parent)
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
    if near is None or block.start >= first_main or block.context[:len(near)] != near:
        return False
    length = block.end - block.start
    if not length or block.link_chars / length > 0.2 or len(_WORD.findall(text[block.start:block.end])) < 8:
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
    inside = [i for i, block in enumerate(blocks) if block.context[:len(main)] == main]
    if not inside or any(blocks[i].tag == "h1" for i in inside):
        return None
    return next((block for block in reversed(blocks[:inside[0]]) if block.tag == "h1"), None)


def _is_prose(block: Block, text: str) -> bool:
    """Running text: ten words or more, little of it link text."""
    length = block.end - block.start
    return length > 0 and block.link_chars / length <= 0.33 \
        and len(_WORD.findall(text, block.start, block.end)) >= 10


def html_removals(doc: Document, cfg: CleanConfig, rules: _Rules | None = None) -> list[Removal]:
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
    first_main = next((b.start for b in blocks if main is not None and b.context[:len(main)] == main), 0)
    out: list[Removal] = []
    main_held = held.get(main, 0) if main is not None else 0
    title = _title_block(blocks, main)
    candidates: dict[tuple[str, ...], list[tuple[str, int, bool]]] = {}
    for block in blocks:
        inside = main is not None and block.context[:len(main)] == main
        # An element is no reason when it holds most of the page, or is (or wraps)
        # the main content, or holds most of it (Blogger's ``div.widget.Blog``
        # around every post, ``div.entry-content.no-share``).
        found = candidates.get(block.context)
        if found is None:
            found = candidates[block.context] = _candidates(block.context, rules)
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
            ratio, words = block.link_chars / length, len(_WORD.findall(text[block.start:block.end]))
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
        and len(_WORD.findall(text, block.start, block.end)) <= STRANDED_MAX_WORDS


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


def _merge(removals: Iterable[Removal]) -> list[Removal]:
    """Sort and merge overlapping removals; the earlier span's reason wins."""
    merged: list[Removal] = []
    for r in sorted(removals, key=lambda r: (r.start, -r.end)):
        if merged and r.start < merged[-1].end:
            last = merged[-1]
            if r.end > last.end:
                if r.reason == last.reason:
                    merged[-1] = Removal(last.start, r.end, last.reason)
                else:
                    merged.append(Removal(last.end, r.end, r.reason))
            continue
        if merged and r.start == merged[-1].end and r.reason == merged[-1].reason:
            merged[-1] = Removal(merged[-1].start, r.end, r.reason)
            continue
        merged.append(r)
    return merged


def _overlay(primary: list[Removal], secondary: list[Removal]) -> list[Removal]:
    """``primary`` spans as they are, plus the parts of ``secondary`` they do not cover."""
    out = list(primary)
    for r in secondary:
        pos = r.start
        for p in primary:
            if p.end <= pos or p.start >= r.end:
                continue
            if p.start > pos:
                out.append(Removal(pos, p.start, r.reason))
            pos = max(pos, p.end)
        if pos < r.end:
            out.append(Removal(pos, r.end, r.reason))
    return _merge(out)


#: Reasons set by structure rather than by the language files.
_STRUCTURAL_REASONS = ("header", "footer", "link-dense", "outside-main", "template", "skip-link")


def known_reasons(rules_file: str | None = None) -> list[str]:
    """Every reason a removal can carry with these rules, sorted (what ``--keep`` accepts).

    A user's rules file may add reasons of its own, so the list depends on it.
    """
    langs = load_languages(rules_file)
    return sorted({*TAG_REASONS.values(), *SECTION_REASONS, *_STRUCTURAL_REASONS, *langs.phrases,
                   *langs.classes.values(), *langs.class_prefixes.values()})


def check_keep(cfg: CleanConfig) -> None:
    """Refuse ``keep`` reasons that no rule gives: a typo (``--keep comment``) would otherwise
    keep nothing, silently."""
    unknown = sorted(set(cfg.keep) - set(known_reasons(cfg.rules_file)))
    if unknown:
        raise ConfigError(f"unknown --keep reason{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(map(repr, unknown))}; valid reasons: "
                          + ", ".join(known_reasons(cfg.rules_file)))


def clean_document(doc: Document, cfg: CleanConfig | None = None) -> CleanDoc:
    """Strip boilerplate from one document and keep the audit.

    Args:
        doc: a document as ingested.
        cfg: which reasons to keep (``cfg.keep``) and the link-density cut.

    Returns:
        A ``CleanDoc`` whose ``removed`` spans plus ``kept`` spans rebuild
        ``doc.text`` exactly.
    """
    cfg = cfg or CleanConfig()
    rules = load_rules(cfg.rules_file)
    found = _merge(line_removals(doc.text, rules, greedy=doc.kind != "html"))
    if doc.kind == "html":
        # Where rules overlap, the most specific reason names the span: a line's
        # own phrase ("Skip to main content") first, then the block's structure
        # (footer, form, aside), then a text section running over it.
        lines = [r for r in found if r.reason not in SECTION_REASONS]
        sections = [r for r in found if r.reason in SECTION_REASONS]
        found = _overlay(_overlay(lines, _merge(html_removals(doc, cfg, rules))), sections)
        found = _merge([*found, *orphan_headings(doc, found)])
        found = _merge([*found, *stranded_blocks(doc, found)])
    removed = [r for r in found if r.reason not in cfg.keep and r.end > r.start]
    kept: list[Span] = []
    pos = 0
    for r in removed:
        if r.start > pos:
            kept.append((pos, r.start))
        pos = r.end
    if pos < len(doc.text):
        kept.append((pos, len(doc.text)))
    text = "".join(doc.text[s:e] for s, e in kept)
    return CleanDoc(doc=doc, kept=kept, removed=removed, text=text)


def clean(docs: Iterable[Document], cfg: CleanConfig | None = None) -> Iterator[CleanDoc]:
    """Clean a stream of documents (a pipeline stage)."""
    for doc in docs:
        yield clean_document(doc, cfg)
