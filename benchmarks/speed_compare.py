"""Wall time of ``provenance scan`` against an earlier checkout, in the same run, as a ratio.

A change's cost is only readable beside the code it changed, on the same machine in the
same quarter hour (this host's speed drifts by 15 to 30 %), so the two are run in turns,
``--rounds`` times each, on the speed corpus (``speed_corpus.py``), and the median of each
round's ratio is reported::

    git worktree add /tmp/before <commit>
    python benchmarks/speed_compare.py --before /tmp/before --docs 10000 100000 --rounds 3

Each run is ``python CHECKOUT/cli.py scan corpus.jsonl --format json --output FILE --quiet
--jobs N``: the whole pipeline and the report, as a user runs it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bytecode import compile_project
from benchmarks.results_file import checkout_state, write_results
from benchmarks.speed_corpus import ensure_corpus

REPO = Path(__file__).resolve().parent.parent


def say(line: str) -> None:
    """One line of the table on standard output."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def scan_seconds(checkout: Path, corpus: Path, jobs: int, out: Path) -> float:
    """Wall seconds of one scan by ``checkout``'s ``cli.py``."""
    argv = [sys.executable, str(checkout / "cli.py"), "scan", str(corpus), "--format", "json",
            "--output", str(out), "--quiet", "--jobs", str(jobs)]
    started = time.perf_counter()
    subprocess.run(argv, check=True, cwd=checkout)
    return time.perf_counter() - started


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--before", type=Path, required=True, metavar="CHECKOUT",
                    help="the earlier checkout (a git worktree of an older commit)")
    ap.add_argument("--docs", type=int, nargs="+", default=[100_000])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--work", type=Path, default=Path("/tmp/provenance-bench"))
    ap.add_argument("--out", type=Path, default=None, metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args()
    before = args.before.resolve()
    names = {"before": before, "now": REPO}
    results: dict[str, object] = {"before": str(before), "before_commit": checkout_state(before),
                                  "now_commit": checkout_state(REPO), "jobs": args.jobs, "sizes": {}}
    for checkout in names.values():
        compile_project(checkout)  # both as installed copies have them (``bytecode``)
    say(f"before: {before} {checkout_state(before)}; now: {REPO} {checkout_state(REPO)}")
    say("| documents | before s (median) | now s (median) | ratio now/before (median of rounds) | rounds |")
    say("|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.docs:
            corpus, _ = ensure_corpus(n, args.work)
            times: dict[str, list[float]] = {"before": [], "now": []}
            for _ in range(args.rounds):
                for name, checkout in names.items():
                    times[name].append(scan_seconds(checkout, corpus, args.jobs, Path(tmp) / f"{name}.json"))
            ratios = [b and a / b for a, b in zip(times["now"], times["before"], strict=True)]
            rounds = ", ".join(f"{a:.1f}/{b:.1f}" for a, b in zip(times["now"], times["before"], strict=True))
            say(f"| {n:,} | {statistics.median(times['before']):.1f} | {statistics.median(times['now']):.1f}"
                f" | {statistics.median(ratios):.2f}x | {rounds} |")
            sizes = results["sizes"]
            assert isinstance(sizes, dict)
            sizes[str(n)] = {"before_s": times["before"], "now_s": times["now"], "ratios": ratios}
    if args.out is not None:
        write_results(args.out, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
