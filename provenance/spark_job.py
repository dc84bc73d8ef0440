"""The scan as a Spark application: ``spark-submit`` this file (or ``provenance-spark``).

::

    spark-submit --master local[2] "$(python -c 'import provenance.spark_job as j; print(j.__file__)')" \\
        samples/ --output report.json

writes the JSON report that ``provenance scan samples/ --format json`` writes, byte for byte.
The master, executors and their memory are ``spark-submit``'s (``--master yarn``,
``--num-executors``, ``--executor-memory``...); without one, ``local[2]``. Every executor needs
``provenance`` importable (``pip install 'provenance[spark]'`` on each node, or a zip of the
package passed with ``--py-files``); inputs are local paths every node can open (a shared
mount) or Hadoop URIs (``hdfs://``, ``s3a://``, ``file:///``: ``spark_input``).

Bad inputs are skipped with one line each on stderr (``skipped: PATH: REASON``), as by
``provenance scan``; the output is written atomically (``render.output``). Exit codes: 0,
or 2 for a usage error or nothing readable.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

if __name__ == "__main__" and __package__ in (None, ""):
    # run as a script (spark-submit FILE): this folder is not a place to import modules from,
    # the installed package is
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]

from provenance.clean import check_keep
from provenance.config import CleanConfig, Config, IngestConfig, MatchConfig, SignConfig
from provenance.errors import ProvenanceError
from provenance.render.output import atomic_write_text, write_stdout
from provenance.render.safe_text import one_line


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The job's arguments: ``scan``'s that shape a report (with its defaults: ``config``'s),
    plus Spark's own two."""
    sign, match = SignConfig(), MatchConfig()
    parser = argparse.ArgumentParser(prog="provenance-spark", description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", help="files or folders, as for provenance scan")
    parser.add_argument("--output", "-o", help="write the report here (atomically); default: stdout")
    parser.add_argument("--format", "-f", choices=("json", "csv"), default="json")
    parser.add_argument("--partitions", type=int, default=0,
                        help="tasks per stage (default: twice Spark's default parallelism)")
    parser.add_argument("--master", help="Spark master (default: spark-submit's, else local[2])")
    parser.add_argument("--shingle-size", type=int, default=sign.shingle_size)
    parser.add_argument("--num-perm", type=int, default=sign.num_perm)
    parser.add_argument("--seed", type=int, default=sign.seed)
    parser.add_argument("--threshold", type=float, default=match.doc_threshold)
    parser.add_argument("--keep", action="append", metavar="REASON",
                        help="keep spans removed for this reason; repeatable (as scan's --keep)")
    parser.add_argument("--rules", metavar="FILE",
                        help="phrase rules added to the built-in language files (as scan's --rules;"
                             " a path every node can open)")
    parser.add_argument("--outlets", help="outlets file (default: outlets.json atop a scanned folder)")
    parser.add_argument("--metrics", help="also write the Spark stages' metrics here, as JSON (tasks,"
                                          " shuffle bytes, run time: read from the driver's UI)")
    return parser.parse_args(argv)


def stage_metrics(ui: str) -> dict[str, Any]:
    """What each Spark stage of this application did, from the driver UI's REST API, and the totals
    (for ``benchmarks/spark.py``'s shuffle bytes per document)."""
    import json
    from urllib.request import urlopen

    with urlopen(f"{ui}/api/v1/applications", timeout=30) as answer:
        app = json.load(answer)[0]["id"]
    with urlopen(f"{ui}/api/v1/applications/{app}/stages", timeout=60) as answer:
        stages = json.load(answer)
    keep = ("stageId", "name", "numTasks", "executorRunTime", "inputBytes", "shuffleReadBytes",
            "shuffleWriteBytes", "memoryBytesSpilled", "diskBytesSpilled")
    rows = sorted(({k: st.get(k) for k in keep} for st in stages), key=lambda r: int(r["stageId"]))
    totals = {k: sum(int(r[k] or 0) for r in rows) for k in keep[2:]}
    return {"stages": rows, "totals": totals}


def main(argv: list[str] | None = None) -> int:
    """Run the job; the exit code."""
    args = parse(argv)
    from provenance.render.report import to_csv, to_json_chunks
    from provenance.spark_engine import run_spark, spark_context

    config = Config(ingest=IngestConfig(outlets_file=args.outlets),
                    clean=CleanConfig(keep=tuple(sorted(set(args.keep or ()))), rules_file=args.rules),
                    sign=SignConfig(shingle_size=args.shingle_size, num_perm=args.num_perm, seed=args.seed),
                    match=MatchConfig(doc_threshold=args.threshold))
    try:
        check_keep(config.clean)
        sc = spark_context(args.master, "provenance scan")
        report = run_spark(args.paths, config, sc=sc, partitions=args.partitions)
    except ProvenanceError as exc:
        sys.stderr.write(f"error: {one_line(str(exc))}\n")
        return 2
    for s in report.skipped:
        sys.stderr.write(f"skipped: {one_line(s.path)}: {one_line(s.reason)}\n")
    if not report.cleaned:
        sys.stderr.write("error: nothing readable in " + ", ".join(args.paths) + "\n")
        return 2
    text = to_json_chunks(report) if args.format == "json" else to_csv(report)
    if args.output in (None, "-"):
        write_stdout(text)
    else:
        atomic_write_text(args.output, text)
    if args.metrics:
        import json

        atomic_write_text(args.metrics, json.dumps(stage_metrics(str(sc.uiWebUrl)), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
