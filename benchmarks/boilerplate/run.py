#!/usr/bin/env python
"""Boilerplate-removal benchmark: provenance's cleaner against trafilatura, jusText and raw text.

Run from the repository root::

    python benchmarks/boilerplate/run.py [--evaldata ../shared/evaldata] [--limit N] [--json out.json]

It reads ``boilerplate-dev.jsonl.gz`` (trafilatura's evaluation pages with gold snippets)
from the evaldata folder, which is *not* part of the repository, and scores every tool on
the same pages in one run with trafilatura's own metric: whitespace is normalised in the
output and in each snippet; a ``must_contain`` snippet found in the output is a true
positive (missing: false negative); a ``must_not_contain`` snippet found is a false positive
(missing: true negative); precision, recall and F1 are micro-averaged over all snippets.
"Boilerplate left in" is FP / (FP + TN). A tool that raises on a page scores that page as
an empty output (every ``must_contain`` missed, every ``must_not_contain`` dropped), as
trafilatura's evaluation does. Time per page is CPU time of this process (our row includes
``parse_html``). See README.md beside this file.

For provenance's cleaner it also writes a per-page diagnostics file (outside the repository:
it quotes the copyrighted pages) with every lost ``must_contain`` snippet, the removal that
cut it (reason, the rule that fired, the blocks' tag/id/class context) and every kept
``must_not_contain`` snippet with its blocks.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as _dt
import gzip
import inspect
import json
import logging
import os
import platform
import re
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from benchmarks.results_file import checkout_state, write_results  # noqa: E402  (the repository root, above)

DEFAULT_EVALDATA = REPO / ".." / "shared" / "evaldata"
DATA_FILE = "boilerplate-dev.jsonl.gz"
DEFAULT_DIAGNOSTICS = Path(tempfile.gettempdir()) / "provenance-boilerplate-diagnostics.json"

#: Tool key -> row label, in table order.
TOOLS = {
    "ours": "provenance clean (ours)",
    "trafilatura": "trafilatura",
    "trafilatura-precision": "trafilatura favor_precision",
    "justext": "jusText",
    "raw": "raw page text (floor)",
}

#: jusText stoplists tried for each page (the languages of this data set, plus Dutch).
JUSTEXT_LANGUAGES = ("German", "English", "French", "Spanish", "Italian", "Portuguese",
                     "Dutch", "Polish", "Finnish")
JUSTEXT_FALLBACK = "English"

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+", re.UNICODE)


def say(message: str = "", err: bool = False) -> None:
    """One line on stdout (results) or stderr (errors, progress)."""
    stream = sys.stderr if err else sys.stdout
    stream.write(message + "\n")
    stream.flush()


def norm(text: str) -> str:
    """trafilatura's normalisation: runs of white space to one space, stripped."""
    return _WS.sub(" ", text).strip()


# --------------------------------------------------------------------------- scoring


@dataclass
class Tally:
    """Confusion counts, time and failures of one tool over the pages."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    seconds: float = 0.0
    pages: int = 0
    errors: int = 0
    empty: int = 0

    def add(self, page: dict[str, Any], output: str | None, seconds: float) -> tuple[list[str], list[str]]:
        """Score one page's output; return the lost must_contain and kept must_not_contain snippets."""
        self.pages += 1
        self.seconds += seconds
        if not output or not output.strip():
            self.empty += 1
        text = norm(output or "")
        lost = [s for s in page["must_contain"] if norm(s) not in text]
        kept = [s for s in page["must_not_contain"] if norm(s) in text]
        self.tp += len(page["must_contain"]) - len(lost)
        self.fn += len(lost)
        self.fp += len(kept)
        self.tn += len(page["must_not_contain"]) - len(kept)
        return lost, kept

    def scores(self) -> dict[str, float]:
        def ratio(a: int, b: int) -> float:
            return a / b if b else 0.0

        precision = ratio(self.tp, self.tp + self.fp)
        recall = ratio(self.tp, self.tp + self.fn)
        return {
            "precision": precision,
            "recall": recall,
            "f1": ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn),
            "accuracy": ratio(self.tp + self.tn, self.tp + self.tn + self.fp + self.fn),
            "boilerplate_left_in": ratio(self.fp, self.fp + self.tn),
            "ms_per_page": 1000 * self.seconds / self.pages if self.pages else 0.0,
            "pages_per_second": self.pages / self.seconds if self.seconds else 0.0,
        }


# --------------------------------------------------------------------------- language


class StoplistChooser:
    """Picks a jusText stoplist for a page from its visible text.

    Each candidate language is scored by how many of the page's words are stopwords that
    occur in *its* stoplist and in no other candidate's (shared words such as "in", "die",
    "de" say nothing), divided by the square root of that exclusive list's size (jusText's
    lists range from a few hundred words to several thousand, and the long ones match
    names and abbreviations of every language). The best score wins; a page with no hit
    at all (Chinese, Japanese) gets the English list.
    """

    def __init__(self, justext_module: Any) -> None:
        lists = {lang: justext_module.get_stoplist(lang) for lang in JUSTEXT_LANGUAGES}
        counts = Counter(w for words in lists.values() for w in words)
        self.exclusive = {lang: frozenset(w for w in words if counts[w] == 1)
                          for lang, words in lists.items()}
        self.stoplists = {lang: frozenset(words) for lang, words in lists.items()}

    def choose(self, text: str) -> str:
        words = _WORD.findall(text.lower())
        best, best_score = JUSTEXT_FALLBACK, 0.0
        for lang in JUSTEXT_LANGUAGES:
            exclusive = self.exclusive[lang]
            score = sum(1 for w in words if w in exclusive) / max(len(exclusive), 1) ** 0.5
            if score > best_score:
                best, best_score = lang, score
        return best


# --------------------------------------------------------------------------- data


def read_pages(path: Path, limit: int | None) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for n, line in enumerate(handle):
            if limit is not None and n >= limit:
                return
            yield json.loads(line)


# --------------------------------------------------------------------------- diagnostics


def _norm_map(text: str) -> tuple[str, list[int]]:
    """``norm(text)`` plus, for every character of it, its offset in ``text``."""
    out: list[str] = []
    index: list[int] = []
    space = True  # drop leading white space
    for i, ch in enumerate(text):
        if ch.isspace():
            if not space:
                out.append(" ")
                index.append(i)
                space = True
        else:
            out.append(ch)
            index.append(i)
            space = False
    if out and out[-1] == " ":
        out.pop()
        index.pop()
    return "".join(out), index


def _locate(snippet: str, ntext: str, index: list[int]) -> tuple[int, int] | None:
    nsnip = norm(snippet)
    pos = ntext.find(nsnip)
    if pos < 0 or not nsnip:
        return None
    return index[pos], index[pos + len(nsnip) - 1] + 1


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a library function with only the keyword arguments it accepts (its API moves)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return fn(*args)
    return fn(*args, **{k: v for k, v in kwargs.items() if k in params})


def _element_label(context: tuple[str, ...], end: int) -> str:
    """``div.widget#blog1``: the tag and the ids/classes of the element whose descriptors end at ``end``."""
    start = end - 1
    while start > 0 and context[start][:1] in "#.@":
        start -= 1
    return context[start] + "".join(context[start + 1:end])


def _structure_triggers(context: tuple[str, ...], rules: Any,
                        share: Callable[[tuple[str, ...]], float]) -> list[dict[str, Any]]:
    """The ancestors whose tag, id or class names a boilerplate reason, innermost first.

    Asks the library (``structure.element_reasons``, or the older ``clean._candidates`` and
    ``clean._context_reason``) rather
    than copying its rules, so the answer follows the library as it changes. Each entry
    gives the reason, the element (``div.content-sidebar-wrap``) and the share of the
    page's text inside it: near 1.0 means a layout wrapper, not furniture.
    """
    from provenance import clean as cl

    try:
        from provenance import structure  # type: ignore[attr-defined,unused-ignore]
        candidates = getattr(structure, "element_reasons", None)
    except ImportError:  # a library from before the split
        candidates = getattr(cl, "_candidates", None)
    out: list[dict[str, Any]] = []
    if candidates is not None:
        try:
            found = _call(candidates, context, rules)
        except Exception:  # the library changed shape: no explanation rather than a crash
            found = []
        for item in found:
            reason, end = item[0], item[1]
            out.append({"reason": reason, "element": _element_label(context, end),
                        "page_share": round(share(context[:end]), 3)})
        return out
    reason_of = getattr(cl, "_context_reason", None)
    if reason_of is None or reason_of(context) is None:
        return out
    actual = reason_of(context)
    containers = getattr(cl, "_CONTENT_CONTAINERS", ())
    inside = any(c in containers for c in context)
    for i, item in enumerate(context):
        if item in containers:
            continue
        try:
            found_reason = reason_of((item, "article") if inside else (item,))
        except Exception:
            found_reason = None
        if found_reason == actual:
            end = i + 1
            while end < len(context) and context[end][:1] in "#.@":
                end += 1
            out.append({"reason": actual, "element": _element_label(context, end),
                        "descriptor": item, "page_share": round(share(context[:end]), 3)})
    return out[::-1]


def _main_prefix() -> Callable[..., Any] | None:
    """The library's ``main_prefix`` (``structure``'s since clean.py was split, ``clean``'s before)."""
    try:
        from provenance import structure as home  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # a library from before the split
        from provenance import clean as home  # type: ignore[no-redef,unused-ignore]
    found: Callable[..., Any] | None = getattr(home, "main_prefix", None)
    return found


class Diagnoser:
    """Explains, for one cleaned page, why snippets were lost or kept."""

    def __init__(self) -> None:
        from provenance.clean import load_rules
        from provenance.config import CleanConfig

        self.cfg = CleanConfig()
        self.rules = load_rules(self.cfg.rules_file)

    def page(self, page: dict[str, Any], doc: Any, cdoc: Any, lost: list[str], kept: list[str],
             others: dict[str, str]) -> dict[str, Any]:
        from provenance import clean as cl

        text = doc.text
        ntext, index = _norm_map(text)
        blocks = doc.blocks or ()
        starts = [b.start for b in blocks]
        # the same calls clean_document makes (HTML sections are not greedy since cleaning v2)
        line_found = _call(cl.line_removals, text, self.rules, greedy=doc.kind != "html")
        html_found = _call(cl.html_removals, doc, self.cfg, rules=self.rules) if blocks else []
        main: tuple[str, ...] | None = None
        main_prefix = _main_prefix()
        if blocks and main_prefix is not None:
            try:
                main = _call(main_prefix, doc, self.cfg)
            except Exception:
                main = None

        total_chars = sum(b.end - b.start for b in blocks) or 1
        share_cache: dict[tuple[str, ...], float] = {}

        def share(prefix: tuple[str, ...]) -> float:
            """Share of the page's block text under the element a context prefix ends in."""
            if prefix not in share_cache:
                n = len(prefix)
                share_cache[prefix] = sum(b.end - b.start for b in blocks if b.context[:n] == prefix) \
                    / total_chars
            return share_cache[prefix]

        def blocks_in(start: int, end: int) -> list[dict[str, Any]]:
            i = max(bisect.bisect_right(starts, start) - 1, 0)
            out = []
            while i < len(blocks) and blocks[i].start < end:
                b = blocks[i]
                if b.end > start:
                    entry: dict[str, Any] = {
                        "start": b.start, "end": b.end, "tag": b.tag, "context": list(b.context),
                        "chars": b.end - b.start, "link_chars": b.link_chars,
                        "words": len(_WORD.findall(text[b.start:b.end])),
                        "structure": _structure_triggers(b.context, self.rules, share),
                        "head": text[b.start:min(b.end, b.start + 100)],
                    }
                    if main is not None:
                        entry["in_main"] = b.context[:len(main)] == main
                        common = 0
                        while common < min(len(main), len(b.context)) and main[common] == b.context[common]:
                            common += 1
                        # the innermost element the block shares with the main content
                        while common > 0 and common < len(b.context) and b.context[common][:1] in "#.@":
                            common -= 1
                        entry["common_with_main"] = _element_label(b.context, common) if common else None
                    out.append(entry)
                i += 1
            return out

        def overlapping(removals: list[Any], start: int, end: int) -> list[Any]:
            return [r for r in removals if r.start < end and r.end > start]

        def other_tools(snippet: str) -> dict[str, bool]:
            ns = norm(snippet)
            return {tool: ns in out for tool, out in others.items()}

        main_label = f"{_element_label(main, len(main))} ({share(main):.0%} of the page)" if main else None
        lost_out = []
        for snippet in lost:
            entry: dict[str, Any] = {"snippet": snippet, "others_kept": other_tools(snippet)}
            span = _locate(snippet, ntext, index)
            if span is None:
                squeezed = _WS.sub("", snippet)
                if squeezed and squeezed in _WS.sub("", text):
                    entry["where"] = "white space differs (block boundary or inline join)"
                else:
                    entry["where"] = "not in the parsed text"
                entry["in_raw_html"] = norm(snippet) in norm(page["html"])
                lost_out.append(entry)
                continue
            start, end = span
            entry["where"] = "removed"
            entry["start"], entry["end"] = start, end
            removed = overlapping(cdoc.removed, start, end)
            entry["removed"] = [{"start": r.start, "end": r.end, "reason": r.reason,
                                 "overlap": min(r.end, end) - max(r.start, start)} for r in removed]
            entry["reason"] = max(removed, key=lambda r: min(r.end, end) - max(r.start, start)).reason \
                if removed else None
            rules = []
            for r in overlapping(line_found, start, end):
                first_line = text[r.start:r.end].split("\n", 1)[0]
                rules.append({"source": "line", "reason": r.reason, "start": r.start, "end": r.end,
                              "trigger_line": first_line[:120],
                              "on_trigger_line": start < r.start + len(first_line),
                              "section_chars": r.end - r.start,
                              "late": r.start >= 0.4 * max(len(text), 1)})
            for r in overlapping(html_found, start, end):
                b = blocks_in(r.start, r.end)
                ctx = b[0] if b else {}
                rule = {"source": "html", "reason": r.reason, "start": r.start, "end": r.end,
                        "context": ctx.get("context"), "tag": ctx.get("tag")}
                if r.reason == "link-dense":
                    rule["trigger"] = f"link_chars {ctx.get('link_chars')}/{ctx.get('chars')} chars, " \
                                      f"{ctx.get('words')} words"
                elif r.reason == "outside-main":
                    rule["trigger"] = f"outside the main element {main_label}; shares " \
                                      f"{ctx.get('common_with_main')} with it"
                else:
                    named = [t for t in ctx.get("structure", []) if t["reason"] == r.reason]
                    rule["trigger"] = ", ".join(f"{t['element']} ({t['page_share']:.0%} of the page)"
                                                for t in named) or None
                rules.append(rule)
            entry["rules"] = rules
            entry["blocks"] = blocks_in(start, end)
            lost_out.append(entry)

        kept_out = []
        if kept:
            nclean, cindex = _norm_map(cdoc.text)
            for snippet in kept:
                entry = {"snippet": snippet, "others_kept": other_tools(snippet)}
                span = _locate(snippet, nclean, cindex)
                if span is not None:
                    start, end = cdoc.span_to_original(*span)
                    entry["start"], entry["end"] = start, end
                    entry["blocks"] = blocks_in(start, end)
                kept_out.append(entry)

        return {
            "id": page["id"], "url": page.get("url"), "chars": len(text), "chars_kept": len(cdoc.text),
            "main_element": main_label,
            "removed_by_reason": dict(Counter(r.reason for r in cdoc.removed)),
            "lost": lost_out, "kept_boilerplate": kept_out,
        }


# --------------------------------------------------------------------------- main


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("provenance", "trafilatura", "justext", "lxml"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "-"
    return out


def _library_state() -> str:
    """Where the provenance package was imported from, and its git commit (+ "dirty")."""
    import provenance

    where = Path(provenance.__file__).resolve().parent
    state = checkout_state(where)
    if state is None:
        return f"{where} (not a git checkout)"
    return f"{where} at {state[0]}{' + uncommitted changes' if state[1] else ''}"


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| tool | precision | recall | F1 | boilerplate left in | ms/page (CPU) | pages/s (CPU) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['label']} | {_fmt(r['precision'])} | {_fmt(r['recall'])} | {_fmt(r['f1'])} "
                     f"| {_fmt(r['boilerplate_left_in'])} | {r['ms_per_page']:.1f} "
                     f"| {r['pages_per_second']:.0f} |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--evaldata", type=Path, default=None,
                    help=f"folder holding {DATA_FILE} (default: ../shared/evaldata from the repository root)")
    ap.add_argument("--limit", type=int, default=None, metavar="N", help="score only the first N pages")
    ap.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--tools", default=",".join(TOOLS),
                    help=f"comma-separated subset of: {', '.join(TOOLS)} (default: all)")
    ap.add_argument("--diagnostics", type=Path, default=DEFAULT_DIAGNOSTICS, metavar="FILE",
                    help=f"per-page diagnostics of our cleaner (default: {DEFAULT_DIAGNOSTICS}); "
                         "it quotes the pages, so it may not be written inside the repository")
    args = ap.parse_args(argv)
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in args.tools if t not in TOOLS]
    if unknown or not args.tools:
        ap.error(f"unknown tool(s) {unknown}; choose from {', '.join(TOOLS)}")
    if args.limit is not None and args.limit < 1:
        ap.error("--limit must be at least 1")
    return args


def _inside_repo(path: Path) -> bool:
    try:
        path.resolve().relative_to(REPO)
    except ValueError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    evaldata = (args.evaldata if args.evaldata is not None else DEFAULT_EVALDATA).resolve()
    data_file = evaldata / DATA_FILE
    if not data_file.is_file():
        say(f"error: evaluation data not found: {data_file}\n"
            f"The data set is not part of the repository. Pass the folder that holds {DATA_FILE} "
            f"with --evaldata PATH (default: ../shared/evaldata next to the repository).", err=True)
        return 2
    if "ours" in args.tools and _inside_repo(args.diagnostics):
        say(f"error: --diagnostics {args.diagnostics} is inside the repository; the file quotes "
            "copyrighted pages, write it elsewhere (default: the temp folder)", err=True)
        return 2

    warnings.filterwarnings("ignore")  # the libraries' parser warnings
    logging.disable(logging.CRITICAL)  # trafilatura logs every page it finds hard

    from provenance.clean import clean_document
    from provenance.htmltext import parse_html
    from provenance.records import Document

    trafilatura = justext = None
    need = {"trafilatura": ("trafilatura", "trafilatura-precision"), "justext": ("justext",)}
    for module, keys in need.items():
        if any(k in args.tools for k in keys):
            try:
                mod = __import__(module)
            except ImportError as err:
                say(f"error: cannot import {module} ({err}). Install the benchmark extra: "
                    f"pip install -e '.[bench]' (or run with --tools ours,raw)", err=True)
                return 2
            if module == "trafilatura":
                trafilatura = mod
            else:
                justext = mod
    chooser = StoplistChooser(justext) if justext is not None else None
    stoplists: dict[str, Any] = {}

    def run_trafilatura(html: str, **kw: Any) -> str | None:
        assert trafilatura is not None
        result: str | None = trafilatura.extract(html, include_comments=False, **kw)
        return result

    def run_justext(html: str, lang: str) -> str:
        assert justext is not None
        if lang not in stoplists:
            stoplists[lang] = justext.get_stoplist(lang)
        paragraphs = justext.justext(html, stoplists[lang])
        return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)

    # Warm up lazy imports and caches so the first page's timing is not skewed.
    warm = ("<html><body><article><p>" + "Ein Satz mit Wörtern und der Text. " * 20
            + "</p></article></body></html>")
    page0 = parse_html(warm)
    clean_document(Document(id="w", path="w", text=page0.text, kind="html", blocks=page0.blocks))
    if trafilatura is not None:
        run_trafilatura(warm)
        run_trafilatura(warm, favor_precision=True)
    if justext is not None:
        run_justext(warm, "German")

    tallies = {t: Tally() for t in TOOLS if t in args.tools}  # table rows in TOOLS order
    diagnoser = Diagnoser() if "ours" in args.tools else None
    diagnostics: list[dict[str, Any]] = []
    langs: Counter[str] = Counter()
    n_pages = n_with = n_without = 0
    # CPU time of this process: every tool here is single-threaded, and other jobs on a
    # shared machine do not inflate it the way they inflate wall-clock time.
    clock = time.process_time
    started = time.perf_counter()

    for page in read_pages(data_file, args.limit):
        n_pages += 1
        n_with += len(page["must_contain"])
        n_without += len(page["must_not_contain"])
        html: str = page["html"]
        outputs: dict[str, str] = {}

        # Our parser feeds both "raw" and "ours": its time counts in both rows.
        t0 = clock()
        try:
            parsed = parse_html(html)
            parse_error = None
        except Exception as err:  # a crash is a full miss, as in trafilatura's evaluation
            parsed, parse_error = None, err
        parse_s = clock() - t0

        if "raw" in tallies:
            if parsed is None:
                tallies["raw"].errors += 1
            tallies["raw"].add(page, parsed.text if parsed else None, parse_s)
            outputs["raw"] = norm(parsed.text) if parsed else ""

        doc = cdoc = None
        if "ours" in tallies:
            t0 = clock()
            try:
                if parsed is None:
                    raise RuntimeError(f"parse_html failed: {parse_error!r}")
                doc = Document(id=page["id"], path=page.get("url") or page["id"], text=parsed.text,
                               kind="html", blocks=parsed.blocks)
                cdoc = clean_document(doc)
                ours_text: str | None = cdoc.text
            except Exception:
                tallies["ours"].errors += 1
                ours_text = None
            ours_s = parse_s + clock() - t0

        for key in ("trafilatura", "trafilatura-precision"):
            if key in tallies:
                kw = {"favor_precision": True} if key == "trafilatura-precision" else {}
                t0 = clock()
                try:
                    out = run_trafilatura(html, **kw)
                except Exception:
                    tallies[key].errors += 1
                    out = None
                tallies[key].add(page, out, clock() - t0)
                outputs[key] = norm(out or "")

        if "justext" in tallies:
            assert chooser is not None
            lang = chooser.choose(parsed.text if parsed else "")  # not timed
            langs[lang] += 1
            t0 = clock()
            try:
                out = run_justext(html, lang)
            except Exception:
                tallies["justext"].errors += 1
                out = None
            tallies["justext"].add(page, out, clock() - t0)
            outputs["justext"] = norm(out or "")

        if "ours" in tallies:
            lost, kept = tallies["ours"].add(page, ours_text, ours_s)
            if diagnoser is not None:
                if doc is not None and cdoc is not None:
                    diagnostics.append(diagnoser.page(page, doc, cdoc, lost, kept, outputs))
                else:
                    diagnostics.append({"id": page["id"], "url": page.get("url"), "error": "failed",
                                        "lost": [{"snippet": s} for s in lost],
                                        "kept_boilerplate": []})
        if n_pages % 50 == 0:
            say(f"  {n_pages} pages ({time.perf_counter() - started:.0f} s)", err=True)

    rows = []
    for key, tally in tallies.items():
        row = {"tool": key, "label": TOOLS[key], **tally.scores(),
               "tp": tally.tp, "fp": tally.fp, "fn": tally.fn, "tn": tally.tn,
               "errors": tally.errors, "empty_outputs": tally.empty}
        rows.append(row)

    today = _dt.date.today().isoformat()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    versions = _versions()
    library = _library_state()
    say(f"\n{n_pages} pages, {n_with} must_contain and {n_without} must_not_contain snippets "
        f"({data_file}); {today}; {machine}")
    say("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    say(f"provenance library: {library}")
    say()
    say(table(rows))
    notes = [f"{r['label']}: {r['errors']} errors, {r['empty_outputs']} empty outputs"
             for r in rows if r["errors"] or r["empty_outputs"]]
    if notes:
        say("\n" + "; ".join(notes))
    if langs:
        say("\njusText stoplists chosen: " + ", ".join(f"{k} {v}" for k, v in langs.most_common()))

    if diagnoser is not None:
        reasons: Counter[str] = Counter()
        for d in diagnostics:
            for item in d["lost"]:
                reasons[item.get("reason") or item.get("where", "?")] += 1
        say("\nour lost must_contain snippets by removal reason: "
            + (", ".join(f"{k} {v}" for k, v in reasons.most_common()) or "none"))
        args.diagnostics.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.diagnostics.with_name(args.diagnostics.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump({"date": today, "pages": diagnostics}, handle, ensure_ascii=False, indent=1)
        os.replace(tmp, args.diagnostics)
        say(f"per-page diagnostics of our cleaner: {args.diagnostics}")

    if args.json is not None:
        result = {
            "date": today, "machine": machine, "evaldata": str(data_file), "pages": n_pages,
            "must_contain": n_with, "must_not_contain": n_without, "versions": versions,
            "library": library,
            "justext_stoplists": dict(langs), "results": rows,
        }
        write_results(args.json, result)
        say(f"results: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
