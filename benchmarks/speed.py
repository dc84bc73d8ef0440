"""Speed at crawl scale: provenance beside its peers, same corpus, same run.

    python benchmarks/speed.py --docs 10000 100000 --jobs 2

For each N, builds (once, cached under ``--work``) a corpus of N documents
of real English text with 10 % planted copies (``speed_corpus.py``), then
runs each tool in its own process, one after another, and measures wall
time and peak memory (the resident set of the process and all its children,
sampled every 50 ms from /proc). Wall time is the tool's process from start
to exit (Python's start and the library's import included); for ``scan``, the
``provenance scan`` command's process (the harness around it reads the report
back to score it afterwards: not counted). Each tool reports what it found; recall is
the share of planted copies it found:

* provenance: a copy is found when its source and it are in one group, or
  (a "passage" plant: one paragraph lifted into a new article) when a
  passage match joins them.
* MinHash peers (datasketch, rensa): LSH candidates whose estimated Jaccard
  reaches the threshold, joined into groups; found when source and copy share
  a group. Passage plants are beyond document-level dedup, so peers are scored
  on the document-level plants (exact, edited, truncated, furniture), and so
  is provenance in the ``recall (doc plants)`` column.
* text-dedup and datatrove write the corpus back without duplicates; a copy
  is found when it or its source was removed (apart from the plants, the
  corpus holds no duplicates, so a removal means the pair was detected).

All tools use 5-word shingles, 128 permutations (datatrove: 25 bands x 5
rows = 125; rensa's LSH needs bands dividing 128: 32 x 4) and threshold 0.5,
one process, except ``provenance scan`` with ``--jobs``. Tokens for the
peers are ``\\w+`` lower-cased, as provenance's. The slow peers run only up to
``--peer-max-docs`` documents.

Writes ``--out`` (default ``benchmarks/results/speed-N.md``) and prints the
tables.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.process_tree import run_sampled  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS_PYTHON = Path(os.environ.get("PEERS_PYTHON", "/tmp/peers/bin/python"))
NUM_PERM, SHINGLE, THRESHOLD, SEED = 128, 5, 0.5, 1
_WORD = re.compile(r"\w+")

# name: (label, python, counts passage plants, slow)
TOOLS: dict[str, tuple[str, str, bool, bool]] = {
    "sign": ("provenance signing: documents and passages, 1 core", "self", False, False),
    "sign-docs": ("provenance signing: documents only, 1 core", "self", False, False),
    "scan": ("provenance scan (whole pipeline), --jobs J", "self", True, False),
    "scan1": ("provenance scan (whole pipeline), --jobs 1", "self", True, False),
    "find": ("provenance find (sign, LSH, verify, group; no cleaning), --jobs J", "self", True, False),
    "floor": ("floor: read + tokenize + shingle + xxh3 each shingle, no MinHash", "self", False, False),
    "rensa": ("rensa RMinHash + RMinHashLSH", "self", False, False),
    "datasketch-bulk": ("datasketch MinHash.bulk + MinHashLSH", "self", False, False),
    "datasketch-update": ("datasketch MinHash.update per shingle + MinHashLSH", "self", False, True),
    "text-dedup": ("text-dedup minhash (end to end, 1 process)", "peers", False, True),
    "datatrove": ("datatrove MinHash, 4 stages (1 task each)", "peers", False, True),
}


# --- the tools (each runs in a child process: ``speed.py _tool NAME CORPUS OUT``) ---


def _texts(corpus: Path) -> Iterator[tuple[str, str]]:
    with corpus.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            yield record["id"], record["text"]


def _shingles(text: str) -> list[str]:
    words = _WORD.findall(text.lower())
    if len(words) < SHINGLE:
        return [" ".join(words)] if words else []
    return list({" ".join(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)})


def _groups_from_pairs(ids: list[str], pairs: Iterator[tuple[int, int]]) -> list[list[str]]:
    parent = list(range(len(ids)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[str]] = {}
    for i in range(len(ids)):
        groups.setdefault(find(i), []).append(ids[i])
    return [g for g in groups.values() if len(g) > 1]


def tool_sign(corpus: Path, jobs: int, passages: bool = True) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from provenance.config import SignConfig
    from provenance.sign import sign_texts

    cfg = SignConfig(num_perm=NUM_PERM, shingle_size=SHINGLE, seed=SEED)
    t0, c0 = time.perf_counter(), time.process_time()
    batch: list[str] = []
    n = 0
    for _, text in _texts(corpus):
        batch.append(text)
        if len(batch) == 1000:
            sign_texts(batch, cfg, passages=passages)
            n += len(batch)
            batch = []
    if batch:
        sign_texts(batch, cfg, passages=passages)
    return {"seconds": time.perf_counter() - t0, "sign_cpu": time.process_time() - c0}


def tool_scan(corpus: Path, jobs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "cli.py"), "scan", str(corpus), "--format", "json",
                        "--output", str(out), "--jobs", str(jobs), "--num-perm", str(NUM_PERM),
                        "--shingle-size", str(SHINGLE), "--threshold", str(THRESHOLD)], check=True,
                       stderr=subprocess.DEVNULL if os.environ.get("SPEED_QUIET") else None)
        seconds = time.perf_counter() - t0
        report = json.loads(out.read_text(encoding="utf-8"))
    short = lambda x: x.rsplit("#", 1)[-1]  # noqa: E731
    groups = [[short(d) for d in g["documents"]] for g in report["groups"]]
    passages = sorted({tuple(sorted((short(m["a"]), short(m["b"])))) for m in report["matches"]})
    families = [[short(o["document"]) for o in f["occurrences"]] for f in report.get("families", [])]
    return {"seconds": seconds, "groups": groups, "passage_pairs": passages, "families": families}


def tool_find(corpus: Path, jobs: int) -> dict[str, object]:
    """``pipeline.find`` over the raw texts (no ingest, cleaning or templates): our part alone."""
    sys.path.insert(0, str(ROOT))
    from provenance.config import Config, MatchConfig, SignConfig
    from provenance.pipeline import find
    from provenance.records import CleanDoc, Document

    config = Config(sign=SignConfig(num_perm=NUM_PERM, shingle_size=SHINGLE, seed=SEED),
                    match=MatchConfig(doc_threshold=THRESHOLD))
    t0 = time.perf_counter()
    cleaned = [CleanDoc(Document(id=i, path=i, text=t, kind="text"), [(0, len(t))], [], t)
               for i, t in _texts(corpus)]
    last = [0.0]

    def progress(stage: str, done: int, total: int | None) -> None:
        if time.perf_counter() - last[0] >= 10:
            last[0] = time.perf_counter()
            sys.stderr.write(f"  {time.perf_counter() - t0:7.1f} s  {stage}: {done:,}/{total or '?'}\n")
    sys.stderr.write(f"  {time.perf_counter() - t0:7.1f} s  read {len(cleaned):,} documents\n")
    groups, matches, _derivations, families = find(cleaned, config, progress, jobs=jobs)
    ids = [c.doc.id for c in cleaned]
    return {"seconds": time.perf_counter() - t0,
            "groups": [[ids[m] for m in g.members] for g in groups],
            "passage_pairs": sorted({tuple(sorted((ids[m.a], ids[m.b]))) for m in matches}),
            "families": [[ids[o.doc] for o in f.occurrences] for f in families]}


def tool_floor(corpus: Path, jobs: int) -> dict[str, object]:
    import xxhash

    t0, c0 = time.perf_counter(), time.process_time()
    for _, text in _texts(corpus):
        for s in _shingles(text):
            xxhash.xxh3_64_intdigest(s.encode("utf-8"))
    return {"seconds": time.perf_counter() - t0, "sign_cpu": time.process_time() - c0}


def _lsh_groups(ids: list[str], sigs: list, lsh_cls: type, jaccard: str = "jaccard") -> list[list[str]]:
    lsh = lsh_cls(threshold=THRESHOLD, num_perm=NUM_PERM)
    for i, m in enumerate(sigs):
        if m is not None:
            lsh.insert(i, m)

    def pairs() -> Iterator[tuple[int, int]]:
        for i, m in enumerate(sigs):
            if m is None:
                continue
            for j in lsh.query(m):
                if j > i and getattr(m, jaccard)(sigs[j]) >= THRESHOLD:
                    yield i, j
    return _groups_from_pairs(ids, pairs())


def tool_datasketch(corpus: Path, jobs: int, bulk: bool) -> dict[str, object]:
    from datasketch import MinHash, MinHashLSH

    t0, c0 = time.perf_counter(), time.process_time()
    ids, sets = [], []
    for doc_id, text in _texts(corpus):
        ids.append(doc_id)
        sets.append([s.encode("utf-8") for s in _shingles(text)])
    if bulk:
        sigs = MinHash.bulk(sets, num_perm=NUM_PERM, seed=SEED)
    else:
        sigs = []
        for shingles in sets:
            m = MinHash(num_perm=NUM_PERM, seed=SEED)
            for s in shingles:
                m.update(s)
            sigs.append(m)
    signed, signed_cpu = time.perf_counter() - t0, time.process_time() - c0
    groups = _lsh_groups(ids, [m if not m.is_empty() else None for m in sigs], MinHashLSH)
    return {"seconds": time.perf_counter() - t0, "sign_seconds": signed, "sign_cpu": signed_cpu,
            "groups": groups}


def tool_rensa(corpus: Path, jobs: int) -> dict[str, object]:
    from rensa import RMinHash, RMinHashLSH

    t0, c0 = time.perf_counter(), time.process_time()
    ids, sigs = [], []
    for doc_id, text in _texts(corpus):
        ids.append(doc_id)
        shingles = _shingles(text)
        m = RMinHash(num_perm=NUM_PERM, seed=SEED)
        m.update(shingles)
        sigs.append(m if shingles else None)
    signed, signed_cpu = time.perf_counter() - t0, time.process_time() - c0
    lsh = RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=32)
    for i, m in enumerate(sigs):
        if m is not None:
            lsh.insert(i, m)

    def pairs() -> Iterator[tuple[int, int]]:
        for i, m in enumerate(sigs):
            if m is not None:
                for j in lsh.query(m):
                    if j > i and m.jaccard(sigs[j]) >= THRESHOLD:
                        yield i, j
    groups = _groups_from_pairs(ids, pairs())
    return {"seconds": time.perf_counter() - t0, "sign_seconds": signed, "sign_cpu": signed_cpu,
            "groups": groups}


def tool_text_dedup(corpus: Path, jobs: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "text_dedup.minhash", "--path", "json", "--data_files",
                        str(corpus), "--split", "train", "--cache_dir", f"{tmp}/cache", "--output",
                        f"{tmp}/out", "--column", "text", "--num_perm", str(NUM_PERM), "--ngram",
                        str(SHINGLE), "--threshold", str(THRESHOLD), "--num_proc", "1",
                        "--seed", str(SEED), "--hash_func", "xxh3"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
        from datasets import load_from_disk

        kept = set(load_from_disk(f"{tmp}/out")["id"])
    return {"seconds": seconds, "kept": sorted(kept)}


def tool_datatrove(corpus: Path, jobs: int) -> dict[str, object]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.word_tokenizers import WordTokenizer

    class RegexTokenizer(WordTokenizer):
        """``\\w+``, as the other tools (datatrove's English tokenizer needs spaCy)."""

        def word_tokenize(self, text: str) -> list[str]:
            return _WORD.findall(text)

        def sent_tokenize(self, text: str) -> list[str]:
            return [text]

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            return [(0, len(text))]

    config = MinhashConfig(n_grams=SHINGLE, num_buckets=25, hashes_per_bucket=5, seed=SEED)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()

        def reader() -> JsonlReader:
            return JsonlReader(str(corpus.parent), glob_pattern=corpus.name, id_key="id")
        stages = [
            [reader(), MinhashDedupSignature(output_folder=f"{tmp}/sigs", config=config,
                                                 language=RegexTokenizer())],
            [MinhashDedupBuckets(input_folder=f"{tmp}/sigs", output_folder=f"{tmp}/buckets", config=config)],
            [MinhashDedupCluster(input_folder=f"{tmp}/buckets", output_folder=f"{tmp}/remove",
                                 config=config)],
            [reader(), MinhashDedupFilter(input_folder=f"{tmp}/remove"),
             JsonlWriter(f"{tmp}/out", compression=None)],
        ]
        for n, stage in enumerate(stages):
            tasks = config.num_buckets if n == 1 else 1
            LocalPipelineExecutor(pipeline=stage, tasks=tasks, workers=1,
                                  logging_dir=f"{tmp}/logs{n}").run()
        seconds = time.perf_counter() - t0
        kept = set()
        for file in Path(f"{tmp}/out").glob("*.jsonl"):
            with file.open() as handle:
                kept.update(json.loads(line)["id"] for line in handle)
    return {"seconds": seconds, "kept": sorted(kept)}


def run_tool(name: str, corpus: Path, jobs: int) -> dict[str, object]:
    if name == "sign":
        return tool_sign(corpus, jobs)
    if name == "sign-docs":
        return tool_sign(corpus, jobs, passages=False)
    if name == "scan":
        return tool_scan(corpus, jobs)
    if name == "scan1":
        return tool_scan(corpus, 1)
    if name == "find":
        return tool_find(corpus, jobs)
    if name == "floor":
        return tool_floor(corpus, jobs)
    if name == "rensa":
        return tool_rensa(corpus, jobs)
    if name.startswith("datasketch"):
        return tool_datasketch(corpus, jobs, bulk=name.endswith("bulk"))
    if name == "text-dedup":
        return tool_text_dedup(corpus, jobs)
    if name == "datatrove":
        return tool_datatrove(corpus, jobs)
    raise SystemExit(f"unknown tool {name!r}; expected one of {', '.join(TOOLS)}")


# --- the harness ---------------------------------------------------------------


def measure(name: str, corpus: Path, jobs: int) -> dict[str, object]:
    """Run one tool in a child process; wall seconds, peak memory of its process tree, its result."""
    python = str(PEERS_PYTHON) if TOOLS[name][1] == "peers" else sys.executable
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        result_file = Path(out.name)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    code, wall, peak = run_sampled([python, str(Path(__file__).resolve()), "_tool", name, str(corpus),
                                    str(result_file), "--jobs", str(jobs)], cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if code != 0:
        return {"error": f"exit code {code}", "wall": wall}
    result = json.loads(result_file.read_text(encoding="utf-8"))
    result_file.unlink()
    result["harness_wall"] = wall
    # a tool's wall is its process, start to exit (Python's start and the library's import are
    # the user's wait too); for ``scan`` it is the ``provenance scan`` command's own process: the
    # harness around it then reads the report back to score it, which no user waits for
    result["wall"] = result["seconds"] if name in ("scan", "scan1") else wall
    result["cpu"] = cpu
    result["peak_bytes"] = peak
    return result


def measure_median(name: str, corpus: Path, jobs: int, repeat: int) -> dict[str, object]:
    """``measure`` ``repeat`` times; the run with the median wall time (its memory and findings)."""
    runs = [measure(name, corpus, jobs) for _ in range(repeat)]
    ok = sorted((r for r in runs if "error" not in r), key=lambda r: float(r["wall"]))  # type: ignore[arg-type]
    if not ok:
        return runs[0]
    chosen = ok[len(ok) // 2]
    chosen["walls"] = [round(float(r["wall"]), 2) for r in ok]  # type: ignore[arg-type]
    return chosen


def recall(result: dict[str, object], plants: list[dict[str, str]],
           passages: bool) -> tuple[float, float] | None:
    """(recall of document-level plants, recall of all plants) or None when the tool reports nothing."""
    short = lambda x: x.rsplit("#", 1)[-1]  # noqa: E731
    if "groups" in result:
        group_of = {short(d): g for g, docs in enumerate(result["groups"]) for d in docs}  # type: ignore[union-attr]
        pairs = {tuple(p) for p in result.get("passage_pairs", [])}  # type: ignore[union-attr]
        # a passage family reports every copy of one passage once: its members share it
        family_of: dict[str, set[int]] = {}
        for f, docs in enumerate(result.get("families", [])):  # type: ignore[arg-type]
            for d in docs:
                family_of.setdefault(short(d), set()).add(f)

        def found(p: dict[str, str]) -> bool:
            a, b = p["source"], p["id"]
            same = a in group_of and group_of.get(b) == group_of[a]
            shared = bool(family_of.get(a, set()) & family_of.get(b, set()))
            return same or (passages and (tuple(sorted((a, b))) in pairs or shared))
    elif "kept" in result:
        kept = {short(d) for d in result["kept"]}  # type: ignore[union-attr]

        def found(p: dict[str, str]) -> bool:  # one of the two was dropped as the other's duplicate
            return p["id"] not in kept or p["source"] not in kept
    else:
        return None
    doc_level = [p for p in plants if p["kind"] != "passage"]
    r_doc = sum(map(found, doc_level)) / max(1, len(doc_level))
    r_all = sum(map(found, plants)) / max(1, len(plants))
    return r_doc, r_all


def table(n: int, corpus: Path, rows: dict[str, dict[str, object]], plants: list[dict[str, str]],
          jobs: int) -> str:
    size = corpus.stat().st_size
    base = rows.get("scan", {}).get("wall")
    lines = [f"### N = {n:,} documents ({size / 1e6:.0f} MB, {len(plants):,} planted copies)", "",
             "| tool | wall s (median) | CPU s | docs/s | MB/s | MB/s per CPU s | peak memory MB "
             "| recall (doc plants) | recall (all plants) | wall vs `scan` |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows.items():
        label = TOOLS[name][0].replace(" J", f" {jobs}")
        if "error" in r:
            lines.append(f"| {label} | failed: {r['error']} | | | | | | | | |")
            continue
        seconds = float(r["wall"])  # type: ignore[arg-type]
        cpu = float(r["cpu"])  # type: ignore[arg-type]
        rec = recall(r, plants, TOOLS[name][2])
        rec_doc = f"{rec[0]:.3f}" if rec else "-"
        rec_all = f"{rec[1]:.3f}" if rec and TOOLS[name][2] else "-"
        ratio = f"{seconds / float(base):.2f}x" if base else "-"  # type: ignore[arg-type]
        lines.append(f"| {label} | {seconds:.1f} | {cpu:.1f} | {n / seconds:,.0f} | "
                     f"{size / 1e6 / seconds:.1f} | "
                     f"{size / 1e6 / cpu:.1f} | {int(r['peak_bytes']) / 2**20:,.0f} | "  # type: ignore[call-overload]
                     f"{rec_doc} | {rec_all} | {ratio} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_tool":
        name, corpus, out = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
        jobs = int(sys.argv[sys.argv.index("--jobs") + 1])
        out.write_text(json.dumps(run_tool(name, corpus, jobs)), encoding="utf-8")
        return
    parser = argparse.ArgumentParser(description="Time provenance beside its peers on one corpus.")
    parser.add_argument("--docs", type=int, nargs="+", default=[10_000])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=list(TOOLS))
    parser.add_argument("--peer-max-docs", type=int, default=10_000,
                        help="run the slow peers (datasketch per shingle, text-dedup, datatrove)"
                             " only up to this N")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the median is reported")
    parser.add_argument("--repeat-max-docs", type=int, default=10_000,
                        help="above this N, each tool runs once")
    parser.add_argument("--work", type=Path, default=Path("/tmp/provenance-bench"))
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from bytecode import compile_project
    from speed_corpus import ensure_corpus

    compile_project()  # as an installed copy has it (``bytecode``)

    args.out.mkdir(parents=True, exist_ok=True)
    for n in args.docs:
        corpus, plants_file = ensure_corpus(n, args.work)
        plants = json.loads(plants_file.read_text(encoding="utf-8"))
        rows: dict[str, dict[str, object]] = {}
        for name in args.tools:
            if TOOLS[name][3] and n > args.peer_max_docs:
                continue
            if TOOLS[name][1] == "peers" and not PEERS_PYTHON.exists():
                rows[name] = {"error": f"no {PEERS_PYTHON} (python3 -m venv /tmp/peers; pip install {name})"}
                continue
            sys.stderr.write(f"N={n}: {name} ...\n")
            rows[name] = measure_median(name, corpus, args.jobs,
                                        args.repeat if n <= args.repeat_max_docs else 1)
            sys.stderr.write(f"N={n}: {name}: {rows[name].get('wall', 0):.1f} s\n")
        text = table(n, corpus, rows, plants, args.jobs)
        command = "python benchmarks/speed.py " + " ".join(sys.argv[1:])
        (args.out / f"speed-{n}.md").write_text(f"`{command}`\n\n{text}", encoding="utf-8")
        (args.out / f"speed-{n}.json").write_text(json.dumps(
            {k: {f: v for f, v in r.items() if f not in ("groups", "kept", "passage_pairs", "families")}
             for k, r in rows.items()}, indent=1), encoding="utf-8")
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
