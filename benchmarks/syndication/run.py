#!/usr/bin/env python
"""Syndication benchmark: does ``provenance scan`` say which articles were copied, and from what?

Run from the repository root::

    python benchmarks/syndication/run.py [--evaldata ../shared/evaldata] [--out results.json]

Two gold sets from the shared evaluation folder (not part of the repository): METER (PA
wire copy and the newspaper articles written on the same stories, each labelled wholly,
partially or non-derived) and Clough & Stevenson 2011 (five Wikipedia texts and answers
labelled cut, light, heavy or non). The tool is run as a user runs it, a subprocess on a
JSONL file written to a temporary folder, and its JSON report is scored beside two rows
measured in the same run: a 3-gram containment baseline and "everything derived", the
floor any useful tool must beat. See README.md beside this file for the metrics.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gzip
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.results_file import checkout_state, write_results

REPO = Path(__file__).resolve().parents[2]
DEFAULT_EVALDATA = REPO / ".." / "shared" / "evaldata"
METER_FILE = "meter-dev-docs.jsonl.gz"
CLOUGH_FILE = "clough_docs.jsonl.gz"
POSITIVE = {"meter": {"wholly", "partially"}, "clough": {"cut", "light", "heavy"}}
VERDICTS = ("wholly", "partially", "none")  # the tool's three-way answer, null -> "none"

_WORD = re.compile(r"\w+")

Record = dict[str, Any]


def say(message: str = "", err: bool = False) -> None:
    """One line on stdout (results) or stderr (errors): the project's lint forbids print()."""
    stream = sys.stderr if err else sys.stdout
    stream.write(message + "\n")
    stream.flush()


def load(path: Path) -> list[Record]:
    """Records of one gzip JSONL gold file, in file order."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# --------------------------------------------------------------------------- gold sets


@dataclass
class GoldSet:
    """One gold set reduced to what scoring needs: which texts are judged, which are sources.

    ``right[x]`` is the set of source texts that count as x's true source (the PA texts of
    its story, or its task's Wikipedia text), so "tied to the right source" is one lookup.
    """

    name: str
    file_name: str  # the name of the temporary JSONL: report ids are "<file_name>#<record id>"
    records: list[Record]
    articles: list[str]  # ids of the texts judged derived or not
    sources: list[str]  # ids of the texts they may be derived from
    gold: set[str]  # articles that are derived
    right: dict[str, set[str]]
    gold_label: dict[str, str] = field(default_factory=dict)  # for the three-way confusion
    # Clough has no outlets or dates, so the tool cannot attribute an answer: there a link
    # to a source text counts as saying "derived" too (see README).
    link_means_derived: bool = False


def meter_date(ddmmyy: str) -> str:
    """METER's DD.MM.YY as ISO YYYY-MM-DD (the corpus runs from 1999 to 2000)."""
    day, month, yy = ddmmyy.split(".")
    year = 1900 + int(yy) if int(yy) > 50 else 2000 + int(yy)
    return f"{year:04d}-{int(month):02d}-{int(day):02d}"


def meter_set(records: list[Record]) -> GoldSet:
    """Newspaper articles (outlet != PA) judged against PA wire texts of their story."""
    by_story: dict[str, set[str]] = {}
    for r in records:
        if r["outlet"] == "PA":
            by_story.setdefault(r["story"], set()).add(r["id"])
    articles = [r for r in records if r["outlet"] != "PA"]
    return GoldSet(
        name="METER", file_name="meter.jsonl", records=records,
        articles=[r["id"] for r in articles],
        sources=[r["id"] for r in records if r["outlet"] == "PA"],
        gold={r["id"] for r in articles if r["derivation"] in POSITIVE["meter"]},
        right={r["id"]: by_story.get(r["story"], set()) for r in articles},
        gold_label={r["id"]: r["derivation"] for r in articles},
    )


def clough_set(records: list[Record]) -> GoldSet:
    """Student answers judged against the five Wikipedia texts (category ``orig``)."""
    orig_of_task = {r["task"]: r["id"] for r in records if r["category"] == "orig"}
    answers = [r for r in records if r["category"] != "orig"]
    return GoldSet(
        name="Clough", file_name="clough.jsonl", records=records,
        articles=[r["id"] for r in answers],
        sources=list(orig_of_task.values()),
        gold={r["id"] for r in answers if r["category"] in POSITIVE["clough"]},
        right={r["id"]: {orig_of_task[r["task"]]} for r in answers},
        link_means_derived=True,
    )


def tool_input(gs: GoldSet) -> Iterable[Record]:
    """The JSONL objects the tool reads: METER with outlet and ISO date, Clough text only."""
    for r in gs.records:
        if gs.name == "METER":
            yield {"id": r["id"], "text": r["text"], "outlet": r["outlet"], "date": meter_date(r["date"])}
        else:
            yield {"id": r["id"], "text": r["text"]}


# --------------------------------------------------------------------------- scoring


def prf(predicted: set[str], gold: set[str]) -> dict[str, float]:
    """Precision, recall and F1 of a predicted-positive set (0 where undefined)."""
    tp = len(predicted & gold)
    p = tp / len(predicted) if predicted else 0.0
    r = tp / len(gold) if gold else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1, "predicted": len(predicted), "tp": tp,
            "gold": len(gold)}


def share(items: list[str], hit: Callable[[str], bool]) -> float | None:
    """Share of ``items`` for which ``hit`` holds (None when there are none)."""
    return sum(1 for x in items if hit(x)) / len(items) if items else None


# --------------------------------------------------------------------------- the tool


def provenance_cmd() -> list[str]:
    """The installed console script next to this interpreter, as a user would type it."""
    exe = Path(sys.executable).parent / ("provenance.exe" if os.name == "nt" else "provenance")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "provenance"]


def tool_version() -> str:
    """``provenance --version``, or the error it gave."""
    done = subprocess.run([*provenance_cmd(), "--version"], capture_output=True, text=True, check=False)
    return (done.stdout.strip() or done.stderr.strip() or f"exit {done.returncode}").splitlines()[0]


def run_scan(gs: GoldSet, tmp: Path, cmd: list[str] | None = None,
             tag: str = "") -> tuple[dict[str, Any], float, list[str]]:
    """Write the set's JSONL to ``tmp``, run ``provenance scan`` on it; report, wall s, argv.

    ``cmd`` runs another build of the tool (``python OTHER/cli.py``) in place of the installed one.
    """
    data, report = tmp / gs.file_name, tmp / f"{gs.name.lower()}{tag}-report.json"
    with open(data, "w", encoding="utf-8") as handle:
        for obj in tool_input(gs):
            handle.write(json.dumps(obj, ensure_ascii=False) + "\n")
    argv = [*(cmd or provenance_cmd()), "scan", str(data), "--format", "json", "--output", str(report),
            "--quiet"]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"provenance scan failed on {gs.name} (exit {done.returncode}):\n{done.stderr}")
    with open(report, encoding="utf-8") as handle:
        return json.load(handle), seconds, argv


def record_id(doc_id: str) -> str:
    """``meter.jsonl#PA/courts/...`` -> ``PA/courts/...`` (split on the first ``#``)."""
    return doc_id.split("#", 1)[1] if "#" in doc_id else doc_id


def linked(report: dict[str, Any]) -> dict[str, set[str]]:
    """Record id -> every other record sharing a finding with it (group, match, derivation)."""
    links: dict[str, set[str]] = {}
    pairs: list[tuple[str, str]] = []
    for group in report.get("groups", []):
        members = [record_id(d) for d in group["documents"]]
        pairs += [(a, b) for a in members for b in members if a != b]
    for family in report.get("families", []):  # every copy of one passage shares it
        members = [record_id(o["document"]) for o in family["occurrences"]]
        pairs += [(a, b) for a in members for b in members if a != b]
    for finding in [*report.get("matches", []), *report.get("derivations", [])]:
        a, b = record_id(finding["a"]), record_id(finding["b"])
        pairs += [(a, b), (b, a)]
    for a, b in pairs:
        links.setdefault(a, set()).add(b)
    return links


def says_derived(attribution: dict[str, Any] | None, rid: str) -> bool:
    """The tool says the text came from somewhere: an origin other than itself, or an outlet."""
    if not attribution:
        return False
    origin = attribution.get("origin")
    if origin is not None:
        return record_id(origin) != rid
    return attribution.get("outlet") is not None


def score_tool(gs: GoldSet, report: dict[str, Any], seconds: float) -> dict[str, Any]:
    """P/R/F1 of the tool's "derived" verdicts, and whether what it found points the right way."""
    attribution = {record_id(d["id"]): d.get("attribution") for d in report["documents"]}
    links = linked(report)
    sources = set(gs.sources)

    def linked_to_source(x: str) -> bool:
        return bool(links.get(x, set()) & sources)

    found = {x for x in gs.articles if says_derived(attribution.get(x), x)
             or (gs.link_means_derived and linked_to_source(x))}
    found_list = sorted(found)

    def origin_right(x: str) -> bool:
        origin = (attribution.get(x) or {}).get("origin")
        return origin is not None and record_id(origin) in gs.right[x]

    result: dict[str, Any] = {
        **prf(found, gs.gold),
        "tied_right": share(found_list, lambda x: bool(links.get(x, set()) & gs.right[x])),
        "origin_right": share(found_list, origin_right),
        "wall_s": seconds,
        "attributed": sum(1 for x in gs.articles if attribution.get(x)),
        "findings": {k: len(report.get(k, [])) for k in ("groups", "matches", "families", "derivations")},
        # a diagnostic, not the verdict: the articles the tool links to any source text
        "linked_to_a_source": prf({x for x in gs.articles if linked_to_source(x)}, gs.gold),
    }
    if gs.gold_label:
        confusion: dict[str, Counter[str]] = {}
        for x in gs.articles:
            verdict = (attribution.get(x) or {}).get("derivation") or "none"
            confusion.setdefault(gs.gold_label[x], Counter())[str(verdict)] += 1
        result["confusion"] = {g: dict(c) for g, c in confusion.items()}
    return result


# --------------------------------------------------------------------------- the baseline


def trigrams(text: str) -> set[tuple[str, ...]]:
    """Word 3-grams of lowercase ``\\w+`` tokens."""
    words = _WORD.findall(text.lower())
    return set(zip(words, words[1:], words[2:], strict=False))


def score_baseline(gs: GoldSet, threshold: float) -> dict[str, Any]:
    """3-gram containment of each article in its best source text, over ALL source texts.

    Derived when the best containment reaches ``threshold``; tied right when that best text
    is one of the article's true sources (it is also the origin this baseline names).
    """
    started = time.perf_counter()
    text = {r["id"]: r["text"] for r in gs.records}
    source_grams = [(s, trigrams(text[s])) for s in gs.sources]
    best: dict[str, tuple[float, str]] = {}
    for x in gs.articles:
        grams = trigrams(text[x])
        best[x] = max(((len(grams & g) / len(grams) if grams else 0.0, s) for s, g in source_grams),
                      key=lambda pair: pair[0])  # the first source wins a tie
    found = {x for x, (c, _) in best.items() if c >= threshold}
    seconds = time.perf_counter() - started
    tied = share(sorted(found), lambda x: best[x][1] in gs.right[x])
    return {**prf(found, gs.gold), "tied_right": tied, "origin_right": tied, "wall_s": seconds,
            "threshold": threshold}


def score_everything(gs: GoldSet) -> dict[str, Any]:
    """Call every article derived: the F1 any detector has to beat."""
    return {**prf(set(gs.articles), gs.gold), "tied_right": None, "origin_right": None, "wall_s": None}


# --------------------------------------------------------------------------- output


def _f(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def table(rows: list[tuple[str, str, dict[str, Any]]]) -> str:
    """The results as a markdown table, one line per (row, set)."""
    lines = ["| row | set | P | R | F1 | tied to right source | origin is the source text | wall s |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for label, set_name, r in rows:
        lines.append(f"| {label} | {set_name} | {_f(r['precision'])} | {_f(r['recall'])} | {_f(r['f1'])} "
                     f"| {_f(r['tied_right'])} | {_f(r['origin_right'])} | {_f(r['wall_s'], 2)} |")
    return "\n".join(lines)


def confusion_table(confusion: dict[str, dict[str, int]]) -> str:
    """Gold wholly/partially/non (rows) against the tool's verdict (columns)."""
    extra = sorted({v for c in confusion.values() for v in c} - set(VERDICTS))
    columns = [*VERDICTS, *extra]
    lines = ["| gold \\ tool | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for gold in ("wholly", "partially", "non"):
        counts = confusion.get(gold, {})
        lines.append(f"| {gold} | " + " | ".join(str(counts.get(c, 0)) for c in columns) + " |")
    scores = three_way_f1(confusion)
    shown = ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
    lines.append(f"\nThree-way F1 (gold non = tool none): {shown} (Clough et al. 2002's best: average 0.664)")
    return "\n".join(lines)


def three_way_f1(confusion: dict[str, dict[str, int]]) -> dict[str, float]:
    """F1 of each class of the wholly/partially/non classification, and their average."""
    pairs = {"wholly": "wholly", "partially": "partially", "non": "none"}
    out: dict[str, float] = {}
    for gold, tool in pairs.items():
        tp = confusion.get(gold, {}).get(tool, 0)
        predicted = sum(c.get(tool, 0) for c in confusion.values())
        actual = sum(confusion.get(gold, {}).values())
        p, r = (tp / predicted if predicted else 0.0), (tp / actual if actual else 0.0)
        out[gold] = 2 * p * r / (p + r) if p + r else 0.0
    out["average"] = sum(out.values()) / 3
    return out


def library_state() -> str:
    """The git commit of the checkout the tool runs from (+ uncommitted changes): others edit it."""
    state = checkout_state(REPO / "provenance")
    if state is None:
        return "not a git checkout"
    return state[0] + (" + uncommitted changes in provenance/" if state[1] else "")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--evaldata", type=Path, default=None,
                    help="folder holding the gold files "
                         "(default: ../shared/evaldata from the repository root)")
    ap.add_argument("--out", type=Path, default=None, metavar="FILE", help="also write every figure as JSON")
    ap.add_argument("--baseline-threshold", type=float, default=0.08, metavar="T",
                    help="3-gram containment at which the baseline calls an article derived (default: 0.08)")
    ap.add_argument("--before", type=Path, default=None, metavar="CHECKOUT",
                    help="also score another checkout of provenance (its cli.py, run with this interpreter), "
                         "e.g. a git worktree of an older commit, as an extra row of the same run")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    evaldata = (args.evaldata if args.evaldata is not None else DEFAULT_EVALDATA).resolve()
    missing = [evaldata / f for f in (METER_FILE, CLOUGH_FILE) if not (evaldata / f).is_file()]
    if missing:
        say(f"error: evaluation data not found: {', '.join(map(str, missing))}\n"
            f"The data sets are not part of the repository. Pass the folder that holds {METER_FILE} "
            f"and {CLOUGH_FILE} with --evaldata PATH (default: ../shared/evaldata next to the "
            "repository).", err=True)
        return 2

    sets = [meter_set(load(evaldata / METER_FILE)), clough_set(load(evaldata / CLOUGH_FILE))]
    version = tool_version()
    t = args.baseline_threshold
    rows: list[tuple[str, str, dict[str, Any]]] = []
    results: dict[str, Any] = {}
    scan_commands: list[str] = []
    with tempfile.TemporaryDirectory(prefix="provenance-syndication-") as tmp:
        for gs in sets:
            try:
                report, seconds, scan_argv = run_scan(gs, Path(tmp))
            except RuntimeError as err:
                say(f"error: {err}", err=True)
                return 1
            scan_commands.append(shlex.join(scan_argv))
            results[gs.name] = {
                "articles": len(gs.articles), "sources": len(gs.sources), "gold_positive": len(gs.gold),
                "provenance_scan": score_tool(gs, report, seconds),
                "baseline": score_baseline(gs, t),
                "everything_derived": score_everything(gs),
            }
            if args.before is not None:
                before_cmd = [sys.executable, str(args.before.resolve() / "cli.py")]
                try:
                    report, seconds, scan_argv = run_scan(gs, Path(tmp), before_cmd, "-before")
                except RuntimeError as err:
                    say(f"error: {err}", err=True)
                    return 1
                scan_commands.append(shlex.join(scan_argv))
                results[gs.name]["before"] = score_tool(gs, report, seconds)
    labels = {"provenance_scan": "provenance scan", "baseline": f"3-gram containment baseline (t={t:g})",
              "everything_derived": "everything derived (floor)"}
    if args.before is not None:
        labels = {"provenance_scan": "provenance scan",
                  "before": f"provenance scan, {args.before.name} (before)",
                  **{k: v for k, v in labels.items() if k != "provenance_scan"}}
    for key, label in labels.items():
        rows += [(label, gs.name, results[gs.name][key]) for gs in sets]

    command = shlex.join([Path(sys.executable).name, *sys.argv])
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    meter = results["METER"]["provenance_scan"]
    say(f"command: {command}")
    for scan in scan_commands:
        say(f"tool run: {scan}")
    say(f"tool: {version} (provenance checkout {library_state()}); {_dt.date.today().isoformat()}; {machine}")
    say("sets: " + "; ".join(f"{gs.name} {len(gs.articles)} articles ({len(gs.gold)} derived), "
                             f"{len(gs.sources)} source texts" for gs in sets))
    say()
    say(table(rows))
    say()
    say("METER, gold derivation (rows) against the tool's attribution.derivation (columns):")
    say()
    say(confusion_table(meter["confusion"]))
    say()
    for gs in sets:
        r = results[gs.name]["provenance_scan"]
        diag = r["linked_to_a_source"]
        say(f"{gs.name}: the tool attributes {r['attributed']} of {len(gs.articles)} articles; findings "
            + ", ".join(f"{k} {v}" for k, v in r["findings"].items())
            + f"; linked to any source text (diagnostic): P {_f(diag['precision'])} R {_f(diag['recall'])} "
            f"F1 {_f(diag['f1'])}")

    if args.out is not None:
        payload = {"command": command, "scan_commands": scan_commands, "tool_version": version,
                   "checkout": library_state(), "date": _dt.date.today().isoformat(), "machine": machine,
                   "evaldata": str(evaldata), "baseline_threshold": t, "results": results}
        write_results(args.out, payload)
        say(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
