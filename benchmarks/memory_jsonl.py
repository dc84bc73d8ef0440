"""Peak memory of ``provenance scan`` over one JSON Lines file of many tiny records (issue 12).

Writes N records ``{"id": "<n>", "text": "<8 words>"}`` (default 1,000,000, about 47 MB;
words drawn with a fixed seed from a 5,000-word vocabulary, so few records are copies) to a
temporary folder, then runs, one after another, each as its own process:

* the scan as a user runs it: ``python -m provenance scan FILE --quiet --format json
  --output /dev/null [--jobs J]``, for each ``--jobs`` value asked for;
* a baseline: a Python process that reads the file and ``json.loads`` every line into a list.

The peak is the resident set of the process and all its descendants (worker processes
included), sampled every 50 ms from /proc. Prints a markdown table::

    python benchmarks/memory_jsonl.py                       # 1,000,000 records, --jobs 1 and 0
    python benchmarks/memory_jsonl.py --records 200000 --jobs 1
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from benchmarks.process_tree import run_sampled  # noqa: E402

BASELINE = ("import json, sys\n"
            "with open(sys.argv[1], 'rb') as f:\n"
            "    records = [json.loads(line) for line in f]\n"
            "print(len(records))\n")


def write_records(path: Path, n: int, seed: int = 12) -> int:
    """``n`` tiny records of 8 words each; the file's size in bytes."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = sorted({"".join(rng.choice(letters) for _ in range(rng.randint(3, 8))) for _ in range(5000)})
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            words = " ".join(rng.choice(vocab) for _ in range(8))
            out.write(f'{{"id": "{i}", "text": "{words}"}}\n')
    return path.stat().st_size


def peak_of(command: list[str]) -> tuple[int, float]:
    """Run ``command``; the peak resident bytes of its process tree, and its wall seconds."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    code, wall, peak = run_sampled(command, env=env, stdout=subprocess.DEVNULL)
    if code != 0:
        raise SystemExit(f"{' '.join(command)}: exit code {code}")
    return peak, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000, help="records in the file")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 0],
                        help="--jobs values of the scans (0: every core)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the json.loads baseline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="provenance-memory-") as tmp:
        file = Path(tmp) / "tiny.jsonl"
        size = write_records(file, args.records)
        rows = []
        for jobs in args.jobs:
            command = [sys.executable, "-m", "provenance", "scan", str(file), "--quiet",
                       "--format", "json", "--output", os.devnull, "--jobs", str(jobs)]
            peak, wall = peak_of(command)
            shown = f"python -m provenance scan tiny.jsonl --quiet --format json --output /dev/null --jobs {jobs}"
            rows.append((shown, peak, wall))
        if not args.no_baseline:
            peak, wall = peak_of([sys.executable, "-c", BASELINE, str(file)])
            rows.append(("baseline: python reads the file, json.loads every line into a list", peak, wall))
    print(f"{args.records:,} records, {size / 1e6:.1f} MB ({size:,} bytes)\n")
    print("| command | peak RSS MB (process tree) | x file size | wall s |")
    print("|---|---:|---:|---:|")
    for shown, peak, wall in rows:
        print(f"| `{shown}` | {peak / 1e6:,.0f} | {peak / size:.1f} | {wall:.1f} |")


if __name__ == "__main__":
    main()
