"""Outputs are written into what is there, as ``>`` would: never replacing a device, a FIFO
or a link, keeping a file's mode, and never landing on an input."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from provenance.errors import OutputError
from provenance.render.output import atomic_write_text, check_not_input

from .conftest import SAMPLES, SEED_004

CLI = [sys.executable, str(Path(__file__).resolve().parent.parent / "cli.py")]


def test_dev_null_is_written_into_not_replaced() -> None:
    before = os.stat("/dev/null")
    atomic_write_text("/dev/null", "report\n")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_a_fifo_is_written_into(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")))
    reader.start()
    atomic_write_text(fifo, "through the pipe\n")
    reader.join(timeout=10)
    assert got == ["through the pipe\n"] and stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_symlinks_target_is_written_and_the_link_stays(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new"


def test_an_existing_file_keeps_its_mode_and_a_new_one_follows_the_umask(tmp_path: Path) -> None:
    old = tmp_path / "shared.json"
    old.write_text("old", encoding="utf-8")
    old.chmod(0o640)
    atomic_write_text(old, "new")
    assert stat.S_IMODE(old.stat().st_mode) == 0o640 and old.read_text(encoding="utf-8") == "new"
    mask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "fresh.json", "x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "fresh.json").stat().st_mode) == 0o644


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a folder"):
        atomic_write_text(tmp_path, "x")


def test_an_output_on_an_input_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="one of the inputs"):
        check_not_input(SEED_004, [SEED_004])
    with pytest.raises(OutputError, match="inside the inputs"):
        check_not_input(SAMPLES / "report.json", [SAMPLES])
    check_not_input("-", [SAMPLES])
    check_not_input("/dev/null", [Path("/dev")])  # a device is not a file of the inputs
    check_not_input(tmp_path / "report.json", [SAMPLES])


def test_scan_output_dash_is_stdout_and_an_input_is_never_overwritten(tmp_path: Path) -> None:
    seed = tmp_path / "seed.txt"
    seed.write_bytes(SEED_004.read_bytes())
    done = subprocess.run([*CLI, "scan", str(seed), "-q", "--format", "json", "-o", "-"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("{")
    done = subprocess.run([*CLI, "scan", str(seed), "-q", "--format", "json", "-o", str(seed)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "one of the inputs" in done.stderr
    assert seed.read_bytes() == SEED_004.read_bytes()


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_link_out_of_a_scanned_folder_is_skipped_not_read(tmp_path: Path, jobs: int) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("root:x:0:0 a secret line that must never be read into a report\n", encoding="utf-8")
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    (crawl / "page.txt").write_bytes(SEED_004.read_bytes())
    (crawl / "shadow.txt").symlink_to(secret)
    (crawl / "inside.txt").symlink_to(crawl / "page.txt")  # a link within the folder is read
    import provenance.runtime.pool as parallel
    from provenance import Config, run
    from provenance.render.report import to_dict

    old = parallel.MIN_PARALLEL_BYTES
    parallel.MIN_PARALLEL_BYTES = 0  # share out even this small input when jobs > 1
    try:
        report = to_dict(run([crawl], Config(), jobs=jobs))
    finally:
        parallel.MIN_PARALLEL_BYTES = old
    assert sorted(d["id"] for d in report["documents"]) == ["inside.txt", "page.txt"]
    assert report["skipped"] == [{"path": str(crawl / "shadow.txt"),
                                  "reason": "symbolic link to outside the input folders (not followed;"
                                            " --follow-links reads it)"}]
    assert "secret" not in json.dumps(report)


@pytest.mark.parametrize("jobs", [1, 2])
def test_follow_links_reads_a_link_out_but_never_into_proc_sys_or_dev(tmp_path: Path, jobs: int) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shared.txt").write_bytes(SEED_004.read_bytes())
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    (crawl / "shared.txt").symlink_to(outside / "shared.txt")
    (crawl / "kmsg.txt").symlink_to("/proc/kmsg")  # would block a reader forever
    (crawl / "zero.txt").symlink_to("/dev/zero")  # endless
    import provenance.runtime.pool as parallel
    from provenance import Config, run
    from provenance.config import IngestConfig
    from provenance.render.report import to_dict

    old = parallel.MIN_PARALLEL_BYTES
    parallel.MIN_PARALLEL_BYTES = 0  # share out even this small input when jobs > 1
    try:
        plain = to_dict(run([crawl], Config(), jobs=jobs))
        report = to_dict(run([crawl], Config(ingest=IngestConfig(follow_links=True)), jobs=jobs))
    finally:
        parallel.MIN_PARALLEL_BYTES = old
    assert plain["documents"] == [] and len(plain["skipped"]) == 3
    assert [d["id"] for d in report["documents"]] == ["shared.txt"]
    assert {s["path"].rsplit("/", 1)[-1]: s["reason"] for s in report["skipped"]} == {
        "kmsg.txt": "symbolic link into /proc (never followed)",
        "zero.txt": "symbolic link into /dev (never followed)"}
    cli = subprocess.run([sys.executable, "-m", "provenance", "scan", str(crawl), "-f", "json", "-q",
                          "--follow-links"], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0 and [d["id"] for d in json.loads(cli.stdout)["documents"]] == ["shared.txt"]


def test_a_jsonl_file_with_no_line_end_is_refused_at_the_limit(tmp_path: Path) -> None:
    # 8 GB of zero bytes without a newline (sparse: no disk used); read to its end it would take
    # minutes. Only the limit's worth, and as much again, is read.
    from provenance.config import IngestConfig
    from provenance.ingest import jsonl_lines

    huge = tmp_path / "dump.jsonl"
    with open(huge, "wb") as handle:
        handle.truncate(8 << 30)
    cfg = IngestConfig(max_record_bytes=1 << 20)
    got = list(jsonl_lines(huge, cfg))
    assert len(got) == 1 and "the rest of the file is not read" in got[0].reason  # type: ignore[union-attr]


def test_ids_that_cannot_be_file_names_are_mapped_to_safe_unique_ones(tmp_path: Path) -> None:
    # 120 CJK characters are 360 bytes (a file name may hold 255); "clash" and
    # "clash.txt/inner" would make a file and a folder of one name.
    body = SEED_004.read_text(encoding="utf-8")
    long_a, long_b = "汉" * 120, "汉" * 119 + "字"
    records = [{"id": i, "text": f"{i} {body}"} for i in (long_a, long_b, "clash", "clash.txt/inner")]
    dump = tmp_path / "dump.jsonl"
    dump.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "cleaned"
    done = subprocess.run([*CLI, "clean", str(dump), "--out", str(out), "-q"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    texts = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt"))
    assert len(texts) == 4
    assert all(len(part.encode()) <= 255 for t in texts for part in t.split("/"))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["documents"]) == 4


def test_clean_replaces_only_its_own_folder(tmp_path: Path) -> None:
    seed = tmp_path / "seed.txt"
    seed.write_bytes(SEED_004.read_bytes())
    webapp = tmp_path / "webapp"
    webapp.mkdir()
    (webapp / "manifest.json").write_text('{"name": "My App", "start_url": "/"}', encoding="utf-8")
    (webapp / "index.html").write_text("<h1>mine</h1>", encoding="utf-8")
    done = subprocess.run([*CLI, "clean", str(seed), "--out", str(webapp), "-q"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 2 and "not written by provenance clean" in done.stderr
    assert (webapp / "index.html").read_text(encoding="utf-8") == "<h1>mine</h1>"
    out = tmp_path / "cleaned"
    for _ in range(2):  # its own folder is replaced, run after run
        done = subprocess.run([*CLI, "clean", str(seed), "--out", str(out), "-q"], capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0, done.stderr
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["written_by"] == "provenance clean"
    link = tmp_path / "link"
    link.symlink_to(out)
    done = subprocess.run([*CLI, "clean", str(seed), "--out", str(link), "-q"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 2 and "symbolic link" in done.stderr
    assert link.is_symlink() and sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_names_with_controls_stay_one_line_and_well_formed(tmp_path: Path) -> None:
    # A crawled file name with a newline, an escape, a right-to-left override and a NUL-like
    # control: no forged stderr line, well-formed GraphML and JUnit, no live override in HTML.
    import xml.etree.ElementTree as ET

    from provenance.render.safe_text import no_bidi, one_line, xml_document

    assert one_line("a\nskipped: /etc/passwd: fake\x1b[31m") == "a\\x0askipped: /etc/passwd: fake\\x1b[31m"
    assert no_bidi("gpj\u202e.exe\nnext") == "gpj\\u202e.exe\nnext"
    root = ET.Element("graph", name="bad\x01name")
    ET.SubElement(root, "node").text = "label\x0b with \x00 controls"
    ET.fromstring(xml_document(root).split("\n", 1)[1])  # parses: well-formed
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    (crawl / "a.txt").write_bytes(SEED_004.read_bytes())
    (crawl / "b\u202etxt.txt").write_bytes(SEED_004.read_bytes())
    (crawl / "c\nskipped: forged.txt").write_bytes(b"")  # empty: skipped, its name printed
    done = subprocess.run([*CLI, "scan", str(crawl), "-q", "--format", "json", "-o", str(tmp_path / "r.json")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("skipped:")] == [
        f"skipped: {crawl}/c\\x0askipped: forged.txt: empty file"]
    html_out = tmp_path / "r.html"
    graph = tmp_path / "g.graphml"
    assert subprocess.run([*CLI, "report", str(crawl), "-q", "--html", str(html_out)],
                          capture_output=True, check=False).returncode == 0
    assert "\u202e" not in html_out.read_text(encoding="utf-8")
    assert subprocess.run([*CLI, "graph", str(crawl), "-q", "--graphml", str(graph)],
                          capture_output=True, check=False).returncode == 0
    ET.parse(graph)


def test_follow_links_never_reads_through_dev_fd_or_proc_self(tmp_path: Path) -> None:
    """The final target is not enough: /dev/fd/N resolves to what the descriptor opens, and
    /proc/self/root/... to an ordinary path; every hop of a link is checked."""
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0 a secret line that must never be read into a report\n", encoding="utf-8")
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    (crawl / "page.txt").write_bytes(SEED_004.read_bytes())
    (crawl / "fd.txt").symlink_to("/dev/stdin")
    (crawl / "root.txt").symlink_to(f"/proc/self/root{secret}")
    hop = tmp_path / "hop"
    hop.symlink_to("/proc/self")  # a folder link on the way
    (crawl / "via.txt").symlink_to(hop / "root" / str(secret).lstrip("/"))
    with open(secret, "rb") as stdin:
        proc = subprocess.run([sys.executable, "-m", "provenance", "scan", str(crawl), "--follow-links",
                               "-f", "json", "-q", "-j", "1"], stdin=stdin, capture_output=True, text=True,
                              timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [d["id"] for d in report["documents"]] == ["page.txt"]
    reasons = {s["path"].rsplit("/", 1)[-1]: s["reason"] for s in report["skipped"]}
    assert reasons == {"fd.txt": "symbolic link into /dev (never followed)",
                       "root.txt": "symbolic link into /proc (never followed)",
                       "via.txt": "symbolic link into /proc (never followed)"}
    assert "secret line" not in proc.stdout
