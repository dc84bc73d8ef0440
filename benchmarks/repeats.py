"""Repetition at scale (issues 12 and 13): one paragraph repeated 120,000 times, four ways.

    python benchmarks/repeats.py [--repeats 120000] [--jobs 0] [--timeout 120]

Builds, in a temporary folder, the shapes of the issues and a baseline of the same size
with no repetition, then times ``provenance scan FILE --quiet --format json -o OUT`` on
each, one after another, in its own process (the command is printed):

* (a) ``a.txt``: one paragraph (a real one, 293 bytes) a line, repeated;
* (b) ``b.txt``: the same, with a blank line between repeats;
* (c) ``c.jsonl``: one record per repeat, each the same paragraph: identical documents;
* (d) ``d.jsonl``: the same, each record with a sentence of its own after the paragraph;
* baselines ``distinct.txt`` and ``distinct.jsonl``: as many distinct paragraphs of the
  same length (words drawn from the seed texts of ``samples/``), a line or a record each.

Each shape's time is also given as a ratio to its baseline (the ``.txt`` shapes to
``distinct.txt``, the ``.jsonl`` ones to ``distinct.jsonl``), so the figure says what
repetition costs on top of reading, cleaning and signing that much text. Also printed:
groups, the pairs the report lists, matches, and the report's size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARAGRAPH = ("It is worth noting that the Iranian Regime did not halt its missile programme following"
             " the 2015 deal, and evidence from the NCRI and People’s Mojahedin Organization of Iran"
             " (PMOI/MEK) reveals that Iran is actually working with North Korea on nuclear technology"
             " and has secret nuclear sites.")


def _vocabulary() -> list[str]:
    words: list[str] = []
    for path in sorted((ROOT / "samples" / "seeds").glob("*.txt")):
        words += re.findall(r"[A-Za-z’']+", path.read_text(encoding="utf-8"))
    return words or PARAGRAPH.split()


def build(folder: Path, n: int) -> dict[str, Path]:
    """Write the shapes and the baselines; returns name -> path."""
    rng = random.Random(1)
    vocab = _vocabulary()
    size = len(PARAGRAPH.split())

    def distinct() -> str:
        return " ".join(rng.choice(vocab) for _ in range(size)).capitalize() + "."

    def unique_sentence(i: int) -> str:
        return f"The note numbered {i} says " + " ".join(rng.choice(vocab) for _ in range(12)) + "."

    files = {
        "a": folder / "a.txt", "b": folder / "b.txt", "c": folder / "c.jsonl", "d": folder / "d.jsonl",
        "distinct.txt": folder / "distinct.txt", "distinct.jsonl": folder / "distinct.jsonl",
    }
    files["a"].write_text((PARAGRAPH + "\n") * n, encoding="utf-8")
    files["b"].write_text((PARAGRAPH + "\n\n") * n, encoding="utf-8")
    with files["c"].open("w", encoding="utf-8") as f:
        f.writelines(json.dumps({"id": f"r{i}", "text": PARAGRAPH}) + "\n" for i in range(n))
    with files["d"].open("w", encoding="utf-8") as f:
        f.writelines(json.dumps({"id": f"r{i}", "text": PARAGRAPH + "\n\n" + unique_sentence(i)}) + "\n"
                     for i in range(n))
    with files["distinct.txt"].open("w", encoding="utf-8") as f:
        f.writelines(distinct() + "\n" for _ in range(n))
    with files["distinct.jsonl"].open("w", encoding="utf-8") as f:
        f.writelines(json.dumps({"id": f"r{i}", "text": distinct()}) + "\n" for i in range(n))
    return files


def scan(path: Path, out: Path, jobs: int, timeout: float) -> tuple[list[str], float | None]:
    """Run a scan; its command and wall time (None when it timed out or failed)."""
    cmd = [sys.executable, "-m", "provenance", "scan", str(path), "--quiet", "--format", "json",
           "-o", str(out), "--jobs", str(jobs)]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    start = time.perf_counter()
    try:
        done = subprocess.run(cmd, env=env, timeout=timeout, check=False, capture_output=True)
    except subprocess.TimeoutExpired:
        return cmd, None
    return cmd, (time.perf_counter() - start if done.returncode == 0 else None)


def summary(out: Path) -> str:
    data = json.loads(out.read_text(encoding="utf-8"))
    pairs = sum(len(g["pairs"]) for g in data["groups"])
    largest = max((len(g["documents"]) for g in data["groups"]), default=0)
    return (f"{len(data['documents']):>9,} {len(data['groups']):>6,} {largest:>9,} {pairs:>9,}"
            f" {len(data['matches']):>8,} {out.stat().st_size / 1e6:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=120_000)
    parser.add_argument("--jobs", type=int, default=0, help="scan --jobs (0: every core)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a scan is stopped")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="provenance-repeats-") as tmp:
        folder = Path(tmp)
        files = build(folder, args.repeats)
        times: dict[str, float | None] = {}
        rows = []
        for name in ("distinct.txt", "distinct.jsonl", "a", "b", "c", "d"):
            out = folder / f"{Path(name).stem}-{name}.json"
            cmd, seconds = scan(files[name], out, args.jobs, args.timeout)
            times[name] = seconds
            print("$", " ".join(cmd[1:]).replace(str(folder) + "/", ""), file=sys.stderr)
            base = times["distinct.txt" if files[name].suffix == ".txt" else "distinct.jsonl"]
            took = f"{seconds:8.1f}" if seconds is not None else f"  >{args.timeout:.0f}"
            ratio = f"{seconds / base:6.2f}" if seconds is not None and base else "     -"
            found = summary(out) if seconds is not None else ""
            rows.append(f"{name:<15} {files[name].stat().st_size / 1e6:>6.1f} {took} {ratio}  {found}")
    print(f"provenance scan FILE --quiet --format json -o OUT --jobs {args.jobs}"
          f" ({args.repeats:,} repeats, {os.cpu_count()} cores)")
    print(f"{'file':<15} {'MB':>6} {'wall s':>8} {'ratio':>6}  {'documents':>9} {'groups':>6} {'largest':>9}"
          f" {'pairs':>9} {'matches':>8} {'out MB':>8}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
