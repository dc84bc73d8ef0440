"""Language data: boilerplate phrases, class/id words and month names.

Each language is one JSON file in ``data/lang/`` (``en.json``, ``fr.json``...),
so adding a language is adding a file, not code. Every language applies to
every page: a German page with an English cookie banner is cleaned of both.

A file holds any of::

    {"phrases": {REASON: {"exact": [...], "prefix": [...], "contains": [...],
                          "regex": [...], "words": [...], "requires": [...]}},
     "classes": {"kommentare": "comments"},
     "class_prefixes": {"related": "teaser-list"},
     "months":  {"dezember": 12}}

``classes`` match a whole part of a class or id (split on ``-`` and ``_``);
``class_prefixes`` match the start of a part (``relatedlinks``, ``commentlist``).

A user's rules file (``--rules FILE``) has the same shape and is added to the
built-in languages; it may also say ``"drop": {"exact": [...], "classes": [...]}``
to remove built-in phrases or class words, or ``"replace": true`` to use
only itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from .errors import ConfigError


@dataclass
class Languages:
    """Everything the language files say, merged."""

    phrases: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)
    class_prefixes: dict[str, str] = field(default_factory=dict)
    months: dict[str, int] = field(default_factory=dict)
    codes: list[str] = field(default_factory=list)

    def add(self, code: str, data: dict[str, Any]) -> None:
        for reason, spec in (data.get("phrases") or {}).items():
            target = self.phrases.setdefault(reason, {})
            for kind, items in spec.items():
                target.setdefault(kind, []).extend(str(i) for i in items)
        self.classes.update({str(k).lower(): str(v) for k, v in (data.get("classes") or {}).items()})
        self.class_prefixes.update({str(k).lower(): str(v)
                                    for k, v in (data.get("class_prefixes") or {}).items()})
        self.months.update({str(k).lower(): int(v) for k, v in (data.get("months") or {}).items()})
        self.codes.append(code)

    def drop(self, data: dict[str, Any]) -> None:
        gone = data.get("drop") or {}
        exact = {str(p).lower() for p in gone.get("exact", [])}
        for spec in self.phrases.values():
            for kind in ("exact", "prefix", "contains"):
                if kind in spec:
                    spec[kind] = [p for p in spec[kind] if p.lower() not in exact]
        for word in gone.get("classes", []):
            self.classes.pop(str(word).lower(), None)


def _builtin_files() -> list[tuple[str, str]]:
    folder = resources.files("provenance").joinpath("data/lang")
    return sorted((item.name.removesuffix(".json"), item.read_text("utf-8"))
                  for item in folder.iterdir() if item.name.endswith(".json"))


def _shape_problem(data: dict[str, Any]) -> str | None:
    """What is wrong with a rules file's shape (see the module's docstring), or None."""
    def strings(value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(x, str) for x in value)

    phrases = data.get("phrases", {})
    if not isinstance(phrases, dict):
        return 'phrases must map a reason to its rules, e.g. {"promo": {"exact": ["Buy now"]}}'
    for reason, spec in phrases.items():
        if not isinstance(spec, dict) or not all(strings(v) for v in spec.values()):
            return (f"phrases[{reason!r}] must map exact, prefix, contains, regex, words or requires"
                    ' to a list of strings, e.g. {"exact": ["Buy now"]}')
        for pattern in spec.get("regex", []):
            try:
                re.compile(pattern)
            except re.error as exc:
                return f"phrases[{reason!r}] regex {pattern!r} does not compile: {exc}"
    for key in ("classes", "class_prefixes"):
        words = data.get(key, {})
        if not isinstance(words, dict) or not all(isinstance(v, str) for v in words.values()):
            return f'{key} must map a class or id word to a reason, e.g. {{"kommentare": "comments"}}'
    months = data.get("months", {})
    if not isinstance(months, dict) or not all(isinstance(v, int) and not isinstance(v, bool)
                                               and 1 <= v <= 12 for v in months.values()):
        return 'months must map a month name to its number, e.g. {"dezember": 12}'
    drop = data.get("drop", {})
    if not isinstance(drop, dict) or not all(strings(v) for v in drop.values()):
        return 'drop must map exact or classes to a list of strings, e.g. {"exact": ["Share"]}'
    return None


@lru_cache(maxsize=8)
def load_languages(rules_file: str | None = None) -> Languages:
    """The built-in languages, plus (or instead of) a user's rules file."""
    extra: dict[str, Any] | None = None
    if rules_file is not None:
        try:
            with open(rules_file, encoding="utf-8") as handle:
                extra = json.load(handle)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{rules_file}: not a readable rules file: {exc}") from exc
        if not isinstance(extra, dict):
            raise ConfigError(f"{rules_file}: a rules file is a JSON object (phrases, classes, months)")
        problem = _shape_problem(extra)
        if problem:
            raise ConfigError(f"{rules_file}: {problem}")
    langs = Languages()
    if not (extra and extra.get("replace")):
        for code, raw in _builtin_files():
            langs.add(code, json.loads(raw))
    if extra is not None:
        langs.drop(extra)
        langs.add(rules_file or "rules", extra)
    return langs
