"""Where worker processes start to pay off: one process against two, by input size.

    python benchmarks/crossover.py --mb 0.25 0.5 1 2 4 8 --repeat 3

For each size, the first documents of the 10,000-document speed corpus
(``speed_corpus.py``, built once under ``--work``) that make up that many
megabytes are written to a JSON Lines file, and ``provenance scan`` runs on
it with ``--jobs 1`` and with ``--jobs 2`` forced to use workers
(``pool.MIN_PARALLEL_BYTES`` set to 0 in the child), in turn, ``--repeat``
times each; the table gives the fastest of each (wall seconds, the whole
command, Python's start included) and their ratio. ``MIN_PARALLEL_BYTES`` is
set from the size where two processes first win.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_CHILD = ("import sys\nsys.path.insert(0, {root!r})\ntry:\n    from provenance.runtime import pool as parallel\n"
          "except ImportError:  # a tree from before the pool was its own module\n"
          "    from provenance.runtime import parallel\n"
          "parallel.MIN_PARALLEL_BYTES = 0\nfrom provenance.cli import app\napp(sys.argv[1:])\n")


def run(corpus: Path, jobs: int, out: Path) -> float:
    """Wall seconds of one ``scan`` (JSON report to a file), workers forced when ``jobs > 1``."""
    args = ["scan", str(corpus), "--format", "json", "--output", str(out), "--jobs", str(jobs), "-q"]
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", _CHILD.format(root=str(ROOT)), *args], check=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[0.25, 0.5, 1, 2, 4, 8])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/provenance-bench"))
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from speed_corpus import ensure_corpus

    corpus, _ = ensure_corpus(10_000, args.work)
    lines = corpus.read_bytes().splitlines(keepends=True)
    sys.stdout.write("| input MB | documents | --jobs 1 s | --jobs 2 (workers) s | jobs 2 / jobs 1 |\n"
                     "|---:|---:|---:|---:|---:|\n")
    with tempfile.TemporaryDirectory() as tmp:
        for mb in args.mb:
            part, size = [], 0
            for line in lines:
                if size >= mb * 1e6:
                    break
                part.append(line)
                size += len(line)
            file = Path(tmp) / f"part-{mb}.jsonl"
            file.write_bytes(b"".join(part))
            best = {1: float("inf"), 2: float("inf")}
            for _ in range(args.repeat):
                for jobs in (1, 2):
                    best[jobs] = min(best[jobs], run(file, jobs, Path(tmp) / "r.json"))
            sys.stdout.write(f"| {size / 1e6:.2f} | {len(part):,} | {best[1]:.2f} | {best[2]:.2f}"
                             f" | {best[2] / best[1]:.2f} |\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
