"""The command line: commands, formats, exit codes, and safe writing."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provenance import Config
from provenance.cli import app
from provenance.pipeline import ingest_and_clean
from provenance.render.output import MANIFEST
from provenance.render.report import CSV_COLUMNS

from .conftest import python_output

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SEED_004_ID = "seeds/004_c7de8c5f71fa409e.txt"
IRANFOCUS_ID = "iranfocus/tackle-iran-by-supporting-the-iranian-people.html"
FREE_IRAN_NOW_ID = "blogs/free-iran-now/2017-12-21-tackle-iran.txt"
TOP_LEVEL_KEYS = {"schema", "version", "params", "documents", "groups", "matches", "families", "derivations",
                  "syndication", "skipped"}
GOOD_TEXT = "An ordinary article about the weather in Tabriz on a Tuesday, with nothing copied.\n"

runner = CliRunner()


def invoke(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


def tree(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file below ``folder``, hidden ones included."""
    out = {}
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            p = Path(dirpath) / name
            out[p.relative_to(folder).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


#: What a scan of samples/ skips: its README and generator (other types), and the PNG in the crawl.
SAMPLES_SKIPPED = [
    (str(SAMPLES / "README.md"), "unsupported file type (.md)"),
    (str(SAMPLES / "make_samples.py"), "unsupported file type (.py)"),
    (f"{SAMPLES / 'crawl' / 'network-2020.warc.gz'}#4", "not an HTML response (image/png)"),
]
SAMPLES_SKIPPED_LINES = [f"skipped: {path}: {reason}" for path, reason in SAMPLES_SKIPPED]
SAMPLES_SKIPPED_JSON = [{"path": path, "reason": reason} for path, reason in SAMPLES_SKIPPED]


def skipped_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("skipped: ")]


@pytest.fixture(scope="module")
def scan_json() -> str:
    res = invoke("scan", SAMPLES, "--format", "json", "-q")
    assert res.exit_code == 0, res.stderr
    return res.stdout


@pytest.fixture
def mixed(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder with good files and bad ones; bad path -> expected reason."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD_TEXT)
    (folder / "page.html").write_text("<html><body><p>A small page with some visible words.</p></body></html>")
    (folder / "blob.txt").write_bytes(b"\x00\x01\x02binary\x00")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "nothing.html").write_text("<html><body><div></div></body></html>")
    (folder / "d.jsonl").write_text('{"id": "ok", "text": "a fine record"}\n{broken\n')
    bad = {
        str(folder / "blob.txt"): "binary file (NUL bytes), not text",
        str(folder / "empty.txt"): "empty file",
        str(folder / "nothing.html"): "malformed or empty HTML: no visible text",
        f"{folder / 'd.jsonl'}#2": "malformed JSON: Expecting property name enclosed in double quotes:"
                                   " line 1 column 2 (char 1)",
    }
    return folder, bad


# --------------------------------------------------------------------------
# help, version, usage errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--help"], ["scan", "--help"], ["clean", "--help"]])
def test_help(args: list[str]) -> None:
    res = invoke(*args)
    assert res.exit_code == 0
    assert "Usage" in res.stdout
    if args[0] == "--help":
        assert "scan" in res.stdout and "clean" in res.stdout
    else:
        assert "--format" in res.stdout and "--keep" in res.stdout


def test_version() -> None:
    res = invoke("--version")
    assert res.exit_code == 0
    assert res.stdout.strip() == "0.1.0"


@pytest.mark.parametrize("args", [
    ["scan", str(SAMPLES), "--bogus"],
    ["clean", str(SAMPLES), "--format", "jsonl", "--no-such-option"],
    ["scan", str(SAMPLES), "--format", "yaml"],
    ["scan", str(SAMPLES), "--threshold", "1.5"],
    ["scan"],
])
def test_usage_errors_exit_2(args: list[str]) -> None:
    res = invoke(*args)
    assert res.exit_code == 2, res.output


def test_clean_without_destination_exits_2() -> None:
    res = invoke("clean", SAMPLES, "-q")
    assert res.exit_code == 2
    assert "--out DIR, or --format jsonl" in res.stderr


# --------------------------------------------------------------------------
# scan formats
# --------------------------------------------------------------------------


def test_scan_table() -> None:
    res = invoke("scan", SAMPLES, "-q")
    assert res.exit_code == 0, res.stderr
    assert "17 documents read, 3 skipped" in res.stdout
    for title in ("Near-duplicate groups", "Republished passages", "Syndication", "Skipped"):
        assert title in res.stdout
    assert skipped_lines(res.stderr) == SAMPLES_SKIPPED_LINES


def test_scan_json(scan_json: str) -> None:
    data = json.loads(scan_json)
    assert set(data) == TOP_LEVEL_KEYS
    assert data["version"] == "0.1.0"
    defaults = json.loads(json.dumps(Config().as_dict()))
    for section, values in defaults.items():  # every parameter of the run is recorded
        for key, value in values.items():
            assert data["params"][section][key] == value, (section, key)
    assert len(data["documents"]) == 17
    assert [d["id"] for d in data["documents"]] == sorted(d["id"] for d in data["documents"])
    assert len(data["groups"]) == 5
    assert len(data["matches"]) == 3
    assert data["skipped"] == SAMPLES_SKIPPED_JSON
    group_a = next(g for g in data["groups"] if IRANFOCUS_ID in g["documents"])
    assert sorted(group_a["documents"]) == sorted([IRANFOCUS_ID, SEED_004_ID, FREE_IRAN_NOW_ID])
    assert group_a["origin"] == IRANFOCUS_ID
    assert scan_json.endswith("}\n")


def test_scan_csv() -> None:
    res = invoke("scan", SAMPLES, "--format", "csv", "-q")
    assert res.exit_code == 0, res.stderr
    reader = csv.DictReader(io.StringIO(res.stdout))
    assert reader.fieldnames == CSV_COLUMNS
    rows = list(reader)
    kinds = [r["finding"] for r in rows]
    assert kinds.count("group") == 13  # 3 + 2 + 3 + 3 + 2 members
    assert kinds.count("passage") == 3
    assert kinds.count("syndication") >= 3
    assert kinds.count("skipped") == 3
    origin_rows = [r for r in rows if r["finding"] == "group" and r["document"] == IRANFOCUS_ID]
    assert origin_rows and origin_rows[0]["origin"] == "yes"
    copy_row = next(r for r in rows if r["finding"] == "group" and r["document"] == SEED_004_ID)
    assert copy_row["origin"] == "no" and copy_row["other"] == IRANFOCUS_ID
    assert float(copy_row["similarity"]) >= 80


def test_scan_json_subprocess_matches_in_process(scan_json: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": "4321", "COLUMNS": "80"}
    proc = subprocess.run([sys.executable, str(ROOT / "cli.py"), "scan", str(SAMPLES), "--format", "json", "-q"],
                          capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert set(json.loads(proc.stdout)) == TOP_LEVEL_KEYS
    assert proc.stdout == scan_json  # another process, another hash seed: same bytes
    assert skipped_lines(proc.stderr) == SAMPLES_SKIPPED_LINES


def test_scan_json_is_byte_identical_across_runs(scan_json: str) -> None:
    again = invoke("scan", SAMPLES, "--format", "json", "-q")
    assert again.exit_code == 0
    assert again.stdout == scan_json


@pytest.mark.parametrize(("fmt", "name"), [("json", "report.json"), ("csv", "report.csv"),
                                           ("table", "report.txt")])
def test_scan_output_file(tmp_path: Path, fmt: str, name: str, scan_json: str) -> None:
    out = tmp_path / "results" / name
    res = invoke("scan", SAMPLES, "--format", fmt, "--output", out, "-q")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == ""
    assert sorted(os.listdir(out.parent)) == [name]  # no temporary file left behind
    assert sorted(os.listdir(tmp_path)) == ["results"]
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        assert text == scan_json
    elif fmt == "csv":
        assert next(csv.reader(io.StringIO(text))) == CSV_COLUMNS
    else:
        assert "Near-duplicate groups" in text


def test_scan_output_replaces_existing_file(tmp_path: Path, scan_json: str) -> None:
    out = tmp_path / "report.json"
    out.write_text("old contents")
    res = invoke("scan", SAMPLES, "--format", "json", "-o", out, "-q")
    assert res.exit_code == 0
    assert out.read_text(encoding="utf-8") == scan_json
    assert os.listdir(tmp_path) == ["report.json"]


# --------------------------------------------------------------------------
# exit codes and skipped lines
# --------------------------------------------------------------------------


def test_nothing_readable_exits_2(tmp_path: Path, mixed: tuple[Path, dict[str, str]]) -> None:
    folder, _ = mixed
    bad_only = tmp_path / "bad"
    bad_only.mkdir()
    for name in ("blob.txt", "empty.txt", "nothing.html"):
        shutil.copy(folder / name, bad_only / name)
    out = tmp_path / "r.json"
    res = invoke("scan", bad_only, "--format", "json", "-o", out, "-q")
    assert res.exit_code == 2
    assert res.stdout == ""
    assert len(skipped_lines(res.stderr)) == 3
    assert f"error: nothing readable in {bad_only} (3 skipped)" in res.stderr
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["bad", "mixed"]


def test_empty_folder_exits_2(tmp_path: Path) -> None:
    res = invoke("scan", tmp_path, "-q")
    assert res.exit_code == 2
    assert f"error: nothing readable in {tmp_path}" in res.stderr


def test_missing_path_alone_exits_2(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    res = invoke("scan", missing, "-q")
    assert res.exit_code == 2
    assert skipped_lines(res.stderr) == [f"skipped: {missing}: no such file or folder"]
    res = invoke("clean", missing, "--format", "jsonl", "-q")
    assert res.exit_code == 2


def test_missing_path_with_a_good_one_exits_0(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(GOOD_TEXT)
    res = invoke("scan", tmp_path / "missing.txt", tmp_path / "good.txt", "--format", "json", "-q")
    assert res.exit_code == 0
    assert [d["id"] for d in json.loads(res.stdout)["documents"]] == ["good.txt"]
    assert skipped_lines(res.stderr) == [f"skipped: {tmp_path / 'missing.txt'}: no such file or folder"]


def test_mixed_good_and_bad_exits_0_with_one_line_per_bad_file(mixed: tuple[Path, dict[str, str]]) -> None:
    folder, bad = mixed
    res = invoke("scan", folder, "--format", "json", "-q")
    assert res.exit_code == 0, res.stderr
    lines = skipped_lines(res.stderr)
    assert sorted(lines) == sorted(f"skipped: {path}: {reason}" for path, reason in bad.items())
    data = json.loads(res.stdout)
    assert [d["id"] for d in data["documents"]] == ["d.jsonl#ok", "good.txt", "page.html"]
    assert {s["path"]: s["reason"] for s in data["skipped"]} == bad


# --------------------------------------------------------------------------
# clean
# --------------------------------------------------------------------------


def test_clean_out_writes_text_audit_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "cleaned"
    res = invoke("clean", SAMPLES, "--out", out, "-q")
    assert res.exit_code == 0, res.stderr
    assert f"wrote 17 cleaned documents to {out}" in res.stderr
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    cleaned, _ = ingest_and_clean([SAMPLES], Config())
    expected = {c.doc.id: c for c in cleaned}
    assert [e["id"] for e in manifest["documents"]] == [c.doc.id for c in cleaned]
    files = tree(out)
    assert len(files) == 2 * 17 + 1
    assert sum(f.endswith(".audit.json") for f in files) == 17
    for entry in manifest["documents"]:
        clean = expected[entry["id"]]
        assert entry["text"].endswith(".txt") and entry["audit"].endswith(".audit.json")
        assert (out / entry["text"]).read_text(encoding="utf-8") == clean.text
        audit = json.loads((out / entry["audit"]).read_text(encoding="utf-8"))
        assert audit["id"] == entry["id"]
        assert audit["removed"] == [{"start": r.start, "end": r.end, "reason": r.reason} for r in clean.removed]
        assert audit["removed_text"] == [clean.doc.text[r.start:r.end] for r in clean.removed]
        assert audit["chars_clean"] == len(clean.text)
    seed = next(e for e in manifest["documents"] if e["id"] == SEED_004_ID)
    assert "Popular posts from this blog" not in (out / seed["text"]).read_text(encoding="utf-8")
    assert manifest["skipped"] == SAMPLES_SKIPPED_JSON
    assert manifest["dropped"] == []
    assert not (out / "dedup.json").exists()
    assert os.listdir(tmp_path) == ["cleaned"]  # no temporary folder left beside it


def test_clean_jsonl_on_stdout() -> None:
    res = invoke("clean", SAMPLES, "--format", "jsonl", "-q")
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 17
    cleaned, _ = ingest_and_clean([SAMPLES], Config())
    expected = {c.doc.id: c for c in cleaned}
    for line in lines:
        record = json.loads(line)
        assert set(record) == {"id", "text", "removed"}
        clean = expected[record["id"]]
        assert record["text"] == clean.text
        assert record["removed"] == [{"start": r.start, "end": r.end, "reason": r.reason}
                                     for r in clean.removed]


def test_clean_dedup_with_nothing_to_drop_names_no_missing_file(tmp_path: Path) -> None:
    # It said "0 duplicates dropped, see .../dedup.json", a file written only when one is.
    out = tmp_path / "dedup"
    res = invoke("clean", SAMPLES / "iranfocus", "--out", out, "--dedup", "-q")
    assert res.exit_code == 0, res.stderr
    assert not (out / "dedup.json").exists() and "dedup.json" not in res.stderr
    assert res.stderr.strip().endswith("(no duplicates dropped)")


def test_clean_dedup_on_samples(tmp_path: Path) -> None:
    out = tmp_path / "dedup"
    res = invoke("clean", SAMPLES, "--out", out, "--dedup", "-q")
    assert res.exit_code == 0, res.stderr
    dedup = json.loads((out / "dedup.json").read_text(encoding="utf-8"))
    for dropped in (SEED_004_ID, FREE_IRAN_NOW_ID):
        assert dedup[dropped]["kept"] == IRANFOCUS_ID
        assert dedup[dropped]["rule"] == "origin"
        assert dedup[dropped]["similarity"] >= 80
    assert IRANFOCUS_ID not in dedup
    assert dedup["crawl/network-2020.warc.gz#1"]["kept"] == "crawl/network-2020.warc.gz#2"
    assert dedup["seeds/000_0d593d3c2b046724.txt"]["kept"] == "dumps/network-2017.jsonl#ncri-us-2017-07-31-shafiee"
    assert len(dedup) == 8
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    kept_ids = {e["id"] for e in manifest["documents"]}
    assert len(kept_ids) == 9
    assert not kept_ids & set(dedup)
    assert manifest["dropped"] == sorted(dedup)
    for info in dedup.values():
        assert info["kept"] in kept_ids
    assert "8 duplicates dropped" in res.stderr


@pytest.mark.parametrize("where", ["inside", "same", "parent"])
def test_clean_refuses_out_overlapping_an_input(tmp_path: Path, where: str) -> None:
    src = tmp_path / "corpus"
    src.mkdir()
    (src / "a.txt").write_text(GOOD_TEXT)
    (src / "sub").mkdir()
    (src / "sub" / "b.txt").write_text("Another small text file, different from the first one.\n")
    out = {"inside": src / "sub" / "cleaned", "same": src, "parent": tmp_path}[where]
    before = tree(tmp_path)
    res = invoke("clean", src, "--out", out, "-q")
    assert res.exit_code == 2
    assert "overlaps the input" in res.stderr
    assert tree(tmp_path) == before
    assert sorted(os.listdir(tmp_path)) == ["corpus"]
    assert not (src / "sub" / "cleaned").exists()


def test_clean_refuses_non_empty_folder_not_written_by_provenance(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(GOOD_TEXT)
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("my own notes")
    res = invoke("clean", src, "--out", out, "-q")
    assert res.exit_code == 2
    assert "not written by provenance" in res.stderr
    assert tree(out) == {"notes.txt": hashlib.sha256(b"my own notes").hexdigest()}
    assert sorted(os.listdir(tmp_path)) == ["in", "precious"]


def test_clean_into_empty_existing_folder(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(GOOD_TEXT)
    out = tmp_path / "empty"
    out.mkdir()
    res = invoke("clean", src, "--out", out, "-q")
    assert res.exit_code == 0, res.stderr
    assert sorted(tree(out)) == ["a.txt.audit.json", "a.txt.txt", MANIFEST]


def test_clean_rerun_replaces_the_folder(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "a.txt").write_text(GOOD_TEXT)
    (first / "b.txt").write_text("Skip to main content\nA second text file about something else.\n")
    (second / "c.txt").write_text("A third file that only the second run sees.\n")
    out = tmp_path / "out"
    assert invoke("clean", first, "--out", out, "-q").exit_code == 0
    assert sorted(tree(out)) == ["a.txt.audit.json", "a.txt.txt", "b.txt.audit.json", "b.txt.txt", MANIFEST]
    assert (out / "b.txt.txt").read_text() == "A second text file about something else.\n"
    res = invoke("clean", second, "--out", out, "-q")
    assert res.exit_code == 0, res.stderr
    assert sorted(tree(out)) == ["c.txt.audit.json", "c.txt.txt", MANIFEST]
    assert [e["id"] for e in json.loads((out / MANIFEST).read_text())["documents"]] == ["c.txt"]
    assert sorted(os.listdir(tmp_path)) == ["first", "out", "second"]  # no .tmp / .old left


def test_clean_jsonl_id_cannot_escape_out(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    records = [
        {"id": "../../../../tmp/evil", "text": "evil text one"},
        {"id": "/etc/passwd", "text": "evil text two"},
        {"id": "..\\..\\windows\\evil", "text": "evil text three"},
        {"id": "..", "text": "evil text four"},
    ]
    (src / "x.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "out"
    before_tmp = {p for p in ("/tmp/evil", "/tmp/evil.txt", "/tmp/evil.audit.json") if os.path.exists(p)}
    before_in = tree(src)
    res = invoke("clean", src, "--out", out, "-q")
    assert res.exit_code == 0, res.stderr
    assert sorted(os.listdir(tmp_path)) == ["in", "out"]
    assert tree(src) == before_in
    assert {p for p in ("/tmp/evil", "/tmp/evil.txt", "/tmp/evil.audit.json") if os.path.exists(p)} == before_tmp
    manifest = json.loads((out / MANIFEST).read_text())
    assert [e["id"] for e in manifest["documents"]] == [f"x.jsonl#{r['id']}" for r in records]
    texts = set()
    for entry in manifest["documents"]:
        for rel in (entry["text"], entry["audit"]):
            target = (out / rel).resolve()
            assert out.resolve() in target.parents, rel
            assert target.is_file()
        texts.add((out / entry["text"]).read_text())
    assert texts == {r["text"] for r in records}
    assert len(tree(out)) == 2 * len(records) + 1


def test_keep_comments_changes_removed_spans() -> None:
    plain = invoke("clean", SAMPLES, "--format", "jsonl", "-q")
    keep = invoke("clean", SAMPLES, "--format", "jsonl", "--keep", "comments", "-q")
    assert plain.exit_code == keep.exit_code == 0
    a = {r["id"]: r for r in map(json.loads, plain.stdout.splitlines())}
    b = {r["id"]: r for r in map(json.loads, keep.stdout.splitlines())}
    assert [x["reason"] for x in a[SEED_004_ID]["removed"]] == ["skip-link", "comments", "teaser-list"]
    assert [x["reason"] for x in b[SEED_004_ID]["removed"]] == ["skip-link", "teaser-list"]
    assert "\nComments\n" in b[SEED_004_ID]["text"]
    assert "Spot on. Sanctions on their own" not in a[IRANFOCUS_ID]["text"]
    assert "Spot on. Sanctions on their own" in b[IRANFOCUS_ID]["text"]
    for doc_id in a:
        assert not [x for x in b[doc_id]["removed"] if x["reason"] == "comments"]


def test_scan_keep_comments_changes_removed_spans(scan_json: str) -> None:
    res = invoke("scan", SAMPLES, "--format", "json", "--keep", "comments", "-q")
    assert res.exit_code == 0
    kept = json.loads(res.stdout)
    plain = json.loads(scan_json)
    assert kept["params"]["clean"]["keep"] == ["comments"]
    before = {d["id"]: d["removed"] for d in plain["documents"]}
    after = {d["id"]: d["removed"] for d in kept["documents"]}
    assert before[SEED_004_ID] != after[SEED_004_ID]
    assert sum(r["reason"] == "comments" for rs in before.values() for r in rs) == 7
    assert sum(r["reason"] == "comments" for rs in after.values() for r in rs) == 0


@pytest.mark.parametrize("module", ["provenance", "provenance.cli"])
def test_python_dash_m_runs_the_same_app(module: str) -> None:
    proc = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0.1.0"
    commands = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True,
                              timeout=60)
    assert all(name in commands.stdout for name in ("scan", "clean", "report", "index", "check"))


def test_the_command_exits_at_once_with_its_code_its_output_whole_and_nothing_left(tmp_path: Path) -> None:
    """``cli.run`` ends the process with ``os._exit`` once the exit handlers have run: the
    report is complete on stdout and in a file, the exit code is the command's, and the spill
    folders the run made are gone (their removal is an exit handler)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    command = [sys.executable, "-m", "provenance", "scan", str(SAMPLES), "--jobs", "2", "-q", "--format"]
    to_stdout = subprocess.run([*command, "json"], capture_output=True, env=env, timeout=120)
    assert to_stdout.returncode == 0, to_stdout.stderr
    report = json.loads(to_stdout.stdout)
    assert SEED_004_ID in {d["id"] for d in report["documents"]}
    assert list(tmp.iterdir()) == []  # (the next run would remove what a dead run left)
    to_file = subprocess.run([*command, "csv", "-o", str(tmp_path / "r.csv")], capture_output=True, env=env,
                             timeout=120)
    assert to_file.returncode == 0 and to_file.stdout == b"", to_file.stderr
    assert (tmp_path / "r.csv").read_text(encoding="utf-8").startswith("finding,id,document")
    assert list(tmp.iterdir()) == []
    missing = subprocess.run([*command[:3], "scan", str(tmp_path / "nowhere"), "-q"], capture_output=True,
                             env=env, timeout=120)
    assert missing.returncode == 2 and b"error: nothing readable in" in missing.stderr and missing.stdout == b""
    assert list(tmp.iterdir()) == []


@pytest.mark.parametrize(("code", "status", "err"), [(0, 0, ""), (3, 3, ""), (None, 0, ""),
                                                     ("'bad'", 1, "bad\n")])
def test_quick_exit_runs_the_exit_handlers_flushes_and_exits_with_the_code(
        tmp_path: Path, code: object, status: int, err: str) -> None:
    mark = tmp_path / "handled"
    script = ("import atexit, sys\nfrom provenance.cli import quick_exit\n"
              f"atexit.register(lambda: open({str(mark)!r}, 'w').write('ran'))\n"
              "sys.stdout.write('buffered, not flushed')\n"
              f"quick_exit({code})\nprint('not reached')\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (status, "buffered, not flushed", err)
    assert mark.read_text() == "ran"


def test_a_command_started_without_standard_output_or_error_exits_as_it_would_with_them(tmp_path: Path) -> None:
    """Started with descriptor 1 or 2 closed, Python has ``sys.stdout`` or ``sys.stderr`` None: a
    scan written to a file still succeeds (a forked pool flushes the streams first, and
    ``quick_exit`` flushes them last), and an exit message to a missing standard error is dropped,
    as ``sys.exit`` drops it."""
    out = tmp_path / "r.json"
    # a pool for the samples (``MIN_PARALLEL_BYTES``), forked from the run
    script = ("import sys\nimport provenance.runtime.pool as pool\npool.MIN_PARALLEL_BYTES = 0\n"
              "pool.FORK_MAX_RESIDENT = 1 << 40\nfrom provenance.cli import run\n"
              f"sys.argv = ['provenance', 'scan', {str(SAMPLES)!r}, '-q', '--jobs', '2', '-f', 'json',"
              f" '-o', {str(out)!r}]\nassert sys.stdout is None\nrun()\n")
    done = subprocess.run([sys.executable, "-c", script], stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          timeout=120, preexec_fn=lambda: os.close(1))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["documents"]
    for code, status in (("0", 0), ("3", 3), ("'bad'", 1)):
        script = ("import os, sys\nfrom provenance.cli import quick_exit\nassert sys.stderr is None\n"
                  f"try:\n    quick_exit({code})\nexcept BaseException:\n    os._exit(99)\n")
        done = subprocess.run([sys.executable, "-c", script], stdout=subprocess.PIPE, timeout=60,
                              preexec_fn=lambda: os.close(2))
        assert done.returncode == status, code


def test_without_a_terminal_every_stage_logs_plain_progress_lines(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from provenance.cli import common as cli_module

    monkeypatch.setattr(cli_module, "LOG_EVERY", 0.0)  # a line at every update
    res = runner.invoke(app, ["scan", str(SAMPLES), "--format", "json", "-o", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.stderr
    stages = {line.split(":", 1)[0] for line in res.stderr.splitlines() if "/s" in line}
    assert {"read and clean", "match documents", "verify documents", "match passages"} <= stages
    banding = [line for line in res.stderr.splitlines() if line.startswith("match passages: ")]
    assert all(" (" in line and "/s" in line for line in banding)
    assert any(", eta " in line for line in banding)  # a known total gives an ETA


@pytest.mark.parametrize("command", [["scan"], ["clean", "--format", "jsonl"], ["report", "--html", "r.html"]])
def test_unknown_keep_reason_is_refused_with_the_valid_ones(command: list[str], tmp_path: Path) -> None:
    res = invoke(command[0], SAMPLES / "seeds", *command[1:], "--keep", "comment", "-q")
    assert res.exit_code == 2
    line = res.stderr.strip()
    assert line.startswith("error: unknown --keep reason 'comment'; valid reasons: ")
    assert {"comments", "teaser-list", "template", "navigation"} <= set(line.split(": ")[-1].split(", "))


def test_keep_accepts_a_reason_the_rules_file_adds(tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"phrases": {"promo": {"exact": ["Subscribe to our podcast"]}}}))
    doc = tmp_path / "a.txt"
    doc.write_text("Subscribe to our podcast\n" + GOOD_TEXT * 3)
    cut = invoke("clean", doc, "--format", "jsonl", "--rules", rules, "-q")
    kept = invoke("clean", doc, "--format", "jsonl", "--rules", rules, "--keep", "promo", "-q")
    assert cut.exit_code == kept.exit_code == 0, kept.stderr
    assert [r["reason"] for r in json.loads(cut.stdout)["removed"]] == ["promo"]
    assert json.loads(kept.stdout)["removed"] == []
    assert invoke("clean", doc, "--format", "jsonl", "--keep", "promo", "-q").exit_code == 2


def test_rules_help_says_it_adds_to_the_built_ins() -> None:
    res = runner.invoke(app, ["scan", "--help"], env={"COLUMNS": "300"})
    assert "added to the built-in language files" in res.stdout
    assert "instead of the built-in" not in res.stdout


@pytest.mark.parametrize("target", ["blogs", "blogs/persian-voices", "blogs/persian-voices/opposition-must-be-supported.txt"])
def test_outlets_file_paths_hold_when_a_subfolder_or_file_is_scanned(target: str) -> None:
    """``samples/outlets.json`` names blogs/persian-voices/* "Persian Voices": its patterns are
    paths from its own folder, so they hold however deep the scan starts."""
    res = invoke("scan", SAMPLES / target, "--outlets", SAMPLES / "outlets.json", "-f", "json", "-q")
    assert res.exit_code == 0, res.stderr
    outlets = {d["path"]: (d["outlet"], d["outlet_source"]) for d in json.loads(res.stdout)["documents"]}
    page = str(SAMPLES / "blogs/persian-voices/opposition-must-be-supported.txt")
    assert outlets[page] == ("Persian Voices", "outlets file")
    without = json.loads(invoke("scan", SAMPLES / target, "-f", "json", "-q").stdout)
    assert {d["path"]: d["outlet"] for d in without["documents"]}[page] is None


def test_scan_several_formats_at_once(tmp_path: Path, scan_json: str) -> None:
    report, rows = tmp_path / "r.json", tmp_path / "r.csv"
    res = invoke("scan", SAMPLES, "-q", "-f", f"table,json:{report},csv:{rows}")
    assert res.exit_code == 0, res.stderr
    assert "Near-duplicate groups" in res.stdout
    assert report.read_text() == scan_json
    assert rows.read_text() == invoke("scan", SAMPLES, "-q", "-f", "csv").stdout


def test_tables_without_a_terminal_are_wide_enough_to_read() -> None:
    """In a CI log (no terminal, no COLUMNS) a table is LOG_WIDTH wide, not rich's 80 columns."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.run([sys.executable, "-m", "provenance", "scan", str(SAMPLES), "-q"], capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    widths = [len(line) for line in proc.stdout.splitlines()]
    assert 100 < max(widths) <= 160
    narrow = subprocess.run([sys.executable, "-m", "provenance", "scan", str(SAMPLES), "-q"],
                            capture_output=True, text=True, timeout=120, env={**env, "COLUMNS": "90"})
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 90


def test_the_version_has_one_source() -> None:
    """pyproject.toml reads the version from the package; the installed metadata agrees."""
    from importlib.metadata import version

    import provenance

    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in text and 'version = { attr = "provenance.version.__version__" }' in text
    assert version("provenance") == provenance.__version__


def test_the_wheel_lists_every_subpackage_and_data_file() -> None:
    """setuptools is given the packages by name: a subpackage (or data file) left out of
    pyproject.toml would be missing from the wheel while every test run from the checkout passes."""
    import fnmatch

    tomllib = pytest.importorskip("tomllib")  # Python 3.11 on
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    package = ROOT / "provenance"
    found = {".".join(("provenance", *p.parent.relative_to(package).parts)) for p in package.rglob("__init__.py")}
    assert set(setup["packages"]) == found
    globs = setup["package-data"]["provenance"]
    data = [p.relative_to(package).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert data and [d for d in data if not any(fnmatch.fnmatch(d, g) for g in globs)] == []


def test_the_command_starts_without_the_heavy_libraries() -> None:
    """--version and --help load typer and rich only: numpy, scipy (datasketch's LSH parameters),
    the HTML parsers and rapidfuzz load when a command runs the pipeline (issue 17: start-up)."""
    heavy = ("numpy", "scipy", "datasketch", "bs4", "lxml", "rapidfuzz", "provenance.pipeline",
             "provenance.index.check", "provenance.index.store")
    probe = ("import sys; from provenance.cli import app\n"
             "try:\n    app(['--version'])\nexcept SystemExit:\n    pass\n"
             f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    assert python_output(probe).splitlines() == ["0.1.0", "[]"]


@pytest.mark.parametrize("rules", [
    {"phrases": {"myreason": ["foo"]}}, {"phrases": "x"}, {"classes": ["a"]},
    {"phrases": {"r": {"line": 5}}}, {"phrases": {"r": {"regex": ["("]}}}, {"months": {"x": 13}},
    {"drop": ["Share"]},
])
def test_a_rules_file_of_the_wrong_shape_is_one_clear_error(tmp_path: Path, rules: dict) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(rules), encoding="utf-8")
    res = invoke("scan", SAMPLES / "seeds", "-q", "--rules", bad, "-f", "json")
    assert res.exit_code == 2
    assert res.stderr.startswith(f"error: {bad}: ") and "Traceback" not in res.output


def test_two_formats_naming_one_file_through_a_link_are_refused(tmp_path: Path) -> None:
    (tmp_path / "lnk.json").symlink_to(tmp_path / "o1.json")
    res = invoke("scan", SAMPLES / "seeds", "-q", "-f", f"json:{tmp_path / 'o1.json'},csv:{tmp_path / 'lnk.json'}")
    assert res.exit_code == 2 and "same file" in res.stderr
    assert not (tmp_path / "o1.json").exists()


def test_the_terminal_table_shows_control_characters_of_names_escaped(tmp_path: Path) -> None:
    """An id or outlet with an escape sequence or a line break never reaches the terminal raw."""
    hostile = "e0\x1b]0;PWNED\x07\x1b[31mRED\nfake line \u202e"
    text = (SEED_004_ID and (SAMPLES / SEED_004_ID).read_text(encoding="utf-8"))
    records = [{"id": hostile, "outlet": hostile, "date": "2017-12-19", "text": text},
               {"id": "copy", "outlet": "Other", "date": "2017-12-20", "text": text}]
    (tmp_path / "x.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    res = invoke("scan", tmp_path / "x.jsonl", "-q")
    assert res.exit_code == 0, res.stderr
    assert "\x1b" not in res.stdout and "\u202e" not in res.stdout and "fake line" in res.stdout
    assert "\\x1b]0;PWNED" in res.stdout
    assert not any(line.lstrip("│ ").startswith("fake line") for line in res.stdout.splitlines())


def test_a_hadoop_uri_on_the_local_engine_is_a_usage_error(tmp_path: Path) -> None:
    """``Path`` would fold ``file:///x`` to ``file:/x`` and report it missing; the error names the
    engine that reads URIs instead, from the command and from the API alike."""
    from provenance import scan
    from provenance.errors import ConfigError

    uri = f"file://{tmp_path}"
    done = CliRunner().invoke(app, ["scan", uri, "-q"])
    assert done.exit_code == 2
    assert f"{uri}: a Hadoop URI, read by the Spark engine only (--engine spark)" in done.output
    with pytest.raises(ConfigError, match="--engine spark"):
        scan(uri)


def test_a_scan_holds_its_report_until_the_process_ends(tmp_path: Path) -> None:
    """``scan`` leaves its report to the process's end (``hold_until_exit``: ``cli.run`` ends
    with ``os._exit``, so it is never freed object by object); a later command's report
    replaces it, so a process that runs many holds one."""
    import weakref

    from provenance.cli import common
    from provenance.pipeline import Report

    assert invoke("scan", SAMPLES / "seeds", "-f", "json", "-o", tmp_path / "a.json", "-q").exit_code == 0
    held = common._HELD[0]
    assert isinstance(held, Report) and len(held.cleaned) == 5
    first = weakref.ref(held)
    del held
    assert first() is not None  # still held after the command returned
    assert invoke("scan", SAMPLES / "blogs", "-f", "json", "-o", tmp_path / "b.json", "-q").exit_code == 0
    assert len(common._HELD) == 1 and first() is None


def test_a_scan_to_a_file_without_a_terminal_never_imports_rich(tmp_path: Path) -> None:
    """Issue 17: rich (20 ms of a command's start) is imported for a progress bar on a terminal
    or a table, not for a JSON report written to a file with standard error a pipe; with
    ``FORCE_COLOR`` set, rich is asked, as before (and says yes)."""
    out = tmp_path / "r.json"
    probe = ("import sys\nfrom provenance.cli import app\n"
             f"try:\n    app(['scan', {str(SAMPLES / 'seeds')!r}, '-f', 'json', '-o', {str(out)!r}])\n"
             "except SystemExit as e:\n    assert e.code in (0, None), e.code\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items()
                               if k not in ("FORCE_TERMINAL", "TTY_COMPATIBLE", "FORCE_COLOR")})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert len(json.loads(out.read_text(encoding="utf-8"))["documents"]) == 5
    from provenance.cli.common import err_console, stderr_is_terminal

    os.environ["FORCE_COLOR"] = "1"
    err_console.cache_clear()
    try:
        assert stderr_is_terminal()  # rich's answer where a variable forces a terminal
    finally:
        del os.environ["FORCE_COLOR"]
        err_console.cache_clear()
    table = invoke("scan", SAMPLES / "seeds", "-f", f"table:{tmp_path / 't.txt'}", "-q")
    assert table.exit_code == 0 and "Boilerplate removed" in (tmp_path / "t.txt").read_text(encoding="utf-8")
