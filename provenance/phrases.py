"""The phrase rules: the language files' phrases, compiled once, and the reason of one line.

``data/lang/*.json`` hold, per reason, the phrases that name a line of page
furniture in each language ("Skip to main content", "Popular posts from this
blog", share-bar words, class names of sidebars). ``load_rules`` merges every
language into one ``Rules`` (cached), whose matchers answer "does any rule
match?" with one compiled alternation per kind; ``classify_line`` names a
line's reason. ``clean`` and ``structure`` apply them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .lang import load_languages

_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)
WORD = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)

#: Sections that a heading opens: the heading takes the section with it.
SECTION_REASONS = ("comments", "teaser-list")


@dataclass(frozen=True)
class Rules:
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
        object.__setattr__(self, "_prefix_longest", max((len(p) for p, _ in self.prefix), default=0))
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
def load_rules(path: str | None = None) -> Rules:
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
    return Rules(exact, tuple(prefix), tuple(contains), tuple(regex),
                  frozenset(words), frozenset(requires), dict(langs.classes),
                  tuple(sorted(langs.class_prefixes.items())))


def _norm(line: str) -> str:
    return _EDGE_PUNCT.sub("", " ".join(line.lower().split()))


def _norm_prefix(text: str) -> str:
    return " ".join(text.lower().split())  # str.split and re's \s agree on whitespace


#: Lines longer than this are prose: exact phrases, "contains" rules (at most 25 words),
#: share bars and the anchored regexes cannot match them; only prefix rules are tried.
LONG_LINE = 300


def classify_line(line: str, rules: Rules | None = None) -> str | None:
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
        # only its start is normalised (this keeps cleaning linear and cheap): as many
        # characters as the longest prefix reads, which a normalised start is a start of
        # (white space that ate the window: the first 200). Not where the window holds a
        # capital sigma: the one character ``str.lower`` maps by what follows it (a final
        # "ς" where the window cuts a word, "σ" in the longer start).
        longest: int = rules._prefix_longest  # type: ignore[attr-defined]
        window = line[:min(200, 2 * longest + 16)]
        head = _norm_prefix(window)
        whole = len(head) >= longest and "\u03a3" not in window
        return rules.prefix_reason(head if whole else _norm_prefix(line[:200]))
    norm = _norm(line)
    if not norm:
        return None
    if norm in rules.exact:
        return rules.exact[norm]
    low = _norm_prefix(line)
    reason = rules.regex_reason(norm, low) or rules.prefix_reason(low)
    if reason:
        return reason
    words = WORD.findall(norm)
    if len(words) <= 25:
        reason = rules.contains_reason(low)
        if reason:
            return reason
    if words and len(words) <= 12 and all(w in rules.share_words for w in words) \
            and any(w in rules.share_requires for w in words):
        return "share"
    return None
