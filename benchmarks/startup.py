"""Start-up of the ``provenance`` command (issue 17): ``provenance --version`` and
``provenance scan --help`` beside a bare ``python -c pass``, in the same run.

    python benchmarks/startup.py [--runs 10]

Prints a markdown table: the median wall seconds of each, and the command's start-up
beyond Python's own (median minus the bare interpreter's).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall(command: list[str], runs: int) -> float:
    """Median wall seconds of ``command`` over ``runs`` runs (output discarded)."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bytecode import compile_project

    compile_project()  # as an installed copy has it (``bytecode``)
    exe = shutil.which("provenance") or "provenance"
    rows = [("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
            ("provenance --version", [exe, "--version"]),
            ("provenance scan --help", [exe, "scan", "--help"])]
    base = None
    print(f"`python benchmarks/startup.py --runs {args.runs}`\n")
    print("| command | median wall s | beyond bare Python s |")
    print("|---|---:|---:|")
    for label, command in rows:
        seconds = wall(command, args.runs)
        base = seconds if base is None else base
        print(f"| `{label}` | {seconds:.3f} | {seconds - base:.3f} |")


if __name__ == "__main__":
    main()
