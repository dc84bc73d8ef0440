"""``provenance check``: findings against the index and among new files, verdicts, formats, --update."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provenance.cli import app
from provenance.index.backends import open_store
from provenance.index.check import check, config_from_params
from provenance.render.check_format import _gh_data, _gh_property, to_github
from provenance.templates import _line_key

from .conftest import SAMPLES
from .index_fixtures import *  # noqa: F403  (the fixtures: store_spec, corpus_dir, new_dir)

runner = CliRunner()

IRANFOCUS = "index:iranfocus/tackle-iran-by-supporting-the-iranian-people.html"
NCRI_US = "index:dumps/network-2017.jsonl#ncri-us-2017-07-31-shafiee"
INU_SENATE = "index:dumps/network-2017.jsonl#iran-news-update-2017-07-28-senate"
NCRI_2020 = "index:crawl/network-2020.warc.gz#2"
PERSIAN = "index:blogs/persian-voices/opposition-must-be-supported.txt"
SEED = {n: f"seeds/{name}" for n, name in (
    (0, "000_0d593d3c2b046724.txt"), (1, "001_64fc29aab0a0f312.txt"), (2, "002_e83797cdff112179.txt"),
    (3, "003_76d74234d1cfb7f2.txt"), (4, "004_c7de8c5f71fa409e.txt"))}
DIGEST = "roundup/weekly-digest-2017-12-23.html"
DIGEST_ALONE = "weekly-digest-2017-12-23.html"  # its id when roundup/ itself is checked


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def index(store_spec: str, corpus_dir: Path) -> str:
    result = invoke("index", "build", str(corpus_dir), "--index", store_spec, "-q")
    assert result.exit_code == 0, result.output
    return store_spec


def check_json(index: str, *paths: Path | str, extra: tuple[str, ...] = ()) -> tuple[int, dict]:
    result = invoke("check", *map(str, paths), "--index", index, "--format", "json", "-q", *extra)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def findings_of(data: dict, file: str) -> dict[tuple[str, str], dict]:
    return {(f["other"], f["kind"]): f for f in data["findings"] if f["file"] == file}


def test_copies_of_indexed_documents_and_their_direction(index: str, new_dir: Path) -> None:
    code, data = check_json(index, new_dir)
    assert code == 1
    assert data["verdict"]["status"] == "fail"
    assert sorted(data["new"]) == sorted([*SEED.values(), DIGEST])
    seed4 = findings_of(data, SEED[4])[(IRANFOCUS, "document")]
    assert seed4["in_index"] and seed4["similarity"] > 95
    assert seed4["direction"] == "copy" and seed4["origin"] == IRANFOCUS
    assert seed4["other_outlet"] == "Iran Focus" and seed4["other_date"] == "2017-12-19"
    assert seed4["span"][0] == 21  # after the stripped "Skip to main content" line
    seed0 = findings_of(data, SEED[0])[(NCRI_US, "document")]
    assert seed0["direction"] == "copy" and seed0["other_date"] == "2017-07-31"
    assert findings_of(data, SEED[2])[(NCRI_2020, "document")]["origin"] == NCRI_2020
    assert findings_of(data, SEED[3])[(PERSIAN, "document")]["direction"] == "unknown"
    assert set(data["verdict"]["failing"]) == set(SEED.values())  # the digest quotes; it is not a copy


def test_republished_passages_and_fail_on(index: str, new_dir: Path) -> None:
    _, data = check_json(index, new_dir / "roundup")
    digest = findings_of(data, DIGEST_ALONE)
    assert {other for other, kind in digest if kind == "passage"} >= {NCRI_US, IRANFOCUS, INU_SENATE}
    assert not [k for k in digest if k[1] != "passage"]  # not a near-duplicate of anything
    quoted = digest[(NCRI_US, "passage")]
    assert quoted["direction"] == "copy" and quoted["similarity"] >= 85
    assert quoted["span"][1] - quoted["span"][0] >= 120
    assert data["verdict"]["status"] == "pass"  # --fail-on documents (the default)
    code, strict = check_json(index, new_dir / "roundup", extra=("--fail-on", "passages"))
    assert code == 1 and strict["verdict"]["failing"] == [DIGEST_ALONE]
    code, relaxed = check_json(index, new_dir, extra=("--fail-on", "none"))
    assert code == 0 and relaxed["verdict"]["status"] == "pass" and relaxed["findings"]


def test_threshold_decides_which_findings_fail(index: str, new_dir: Path) -> None:
    _, all_of = check_json(index, new_dir / "seeds")
    sims = {f["file"]: max(g["similarity"] for g in all_of["findings"] if g["file"] == f["file"])
            for f in all_of["findings"]}
    code, data = check_json(index, new_dir / "seeds", extra=("--min-similarity", "99"))
    assert code == 1
    assert set(data["verdict"]["failing"]) == {f for f, s in sims.items() if s >= 99}
    assert len(data["findings"]) == len(all_of["findings"])  # still reported, just not failing
    bad = invoke("check", str(new_dir), "--index", index, "--min-similarity", "0.5")
    assert bad.exit_code == 2


def test_threshold_means_the_lsh_threshold_on_check_too(index: str, new_dir: Path) -> None:
    """``--threshold`` is the LSH threshold on every command: the old similarity meaning is
    refused with a pointer to --min-similarity, and another LSH value than the index's is refused."""
    old = invoke("check", str(new_dir), "--index", index, "--threshold", "99")
    assert old.exit_code == 2 and "--min-similarity" in old.output
    other = invoke("check", str(new_dir), "--index", index, "--threshold", "0.7")
    assert other.exit_code == 2 and "match.doc_threshold: index 0.5, requested 0.7" in other.output
    same, _ = check_json(index, new_dir, extra=("--threshold", "0.5"))
    assert same == 1


def test_several_formats_from_one_run(index: str, new_dir: Path, tmp_path: Path) -> None:
    """github on standard output, JUnit, SARIF and JSON to their files, from one check."""
    junit, sarif, report = tmp_path / "check.xml", tmp_path / "check.sarif", tmp_path / "check.json"
    result = invoke("check", str(new_dir / "seeds"), "--index", index, "-q",
                    "--format", f"github,junit:{junit}", "-f", f"sarif:{sarif},json:{report}")
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("::error ") and "::error title=provenance check::" in result.stdout
    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert {c.get("name") for c in cases} == {n.removeprefix("seeds/") for n in SEED.values()}
    data = json.loads(report.read_text())
    log = json.loads(sarif.read_text())
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [
        "provenance/exact", "provenance/document", "provenance/passage"]
    assert len(run["results"]) == len(data["findings"])
    for r, f in zip(run["results"], data["findings"], strict=True):
        assert r["ruleId"] == f"provenance/{f['kind']}"
        assert r["level"] == ("error" if f["fails"] else "warning")
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == Path(f["path"]).as_uri()  # absolute: a file URI
        assert loc["region"]["startLine"] <= loc["region"]["endLine"]  # seeds are plain text
    assert run["properties"]["verdict"]["status"] == "fail"


@pytest.mark.parametrize(("args", "says"), [
    (("-f", "github,junit", "-o", "x.xml"), "FORMAT:PATH"),
    (("-f", "github,json"), "only one format can go to standard output"),
    (("-f", "junit:a.xml,sarif:a.xml"), "same file"),
    (("-f", "yaml"), "unknown format 'yaml'"),
    (("-f", "junit:"), "no file after"),
])
def test_format_lists_that_cannot_be_written_are_refused(index: str, new_dir: Path, args: tuple[str, ...],
                                                           says: str) -> None:
    result = invoke("check", str(new_dir), "--index", index, "-q", *args)
    assert result.exit_code == 2 and says in result.output


def test_sarif_uri_of_a_relative_path_is_percent_encoded(index: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "new files"
    folder.mkdir()
    shutil.copy(SAMPLES / SEED[4], folder / "copy #4.txt")
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "new files", "--index", index, "-q", "-f", "sarif")
    assert result.exit_code == 1, result.output
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(result.stdout)["runs"][0]["results"]}
    assert uris == {"new%20files/copy%20%234.txt"}


def test_exact_re_adds_are_recognised_as_exact(index: str, corpus_dir: Path) -> None:
    code, data = check_json(index, corpus_dir / "blogs")
    assert code == 1
    for f in data["findings"]:
        if f["kind"] == "exact":
            assert f["similarity"] == 100.0 and f["other"] == "index:blogs/" + f["file"]
    assert data["verdict"]["counts"]["exact"] == 3
    assert {f["file"] for f in data["findings"] if f["kind"] == "exact"} == set(data["new"])
    pairs = [p for g in data["groups"] for p in g["pairs"]]
    assert pairs and all(p["exact"] for p in pairs)


def test_copies_among_the_new_files_themselves(index: str, tmp_path: Path) -> None:
    new = tmp_path / "batch"
    new.mkdir()
    about = SAMPLES / "blogs" / "free-iran-now" / "about.txt"
    text = (SAMPLES / "roundup" / "weekly-digest-2017-12-23.html").read_text(encoding="utf-8")
    (new / "a.html").write_text(text, encoding="utf-8")
    (new / "b.html").write_text(text.replace("Weekly", "Weekly (mirror)", 1), encoding="utf-8")
    shutil.copy(about, new / "c.txt")  # in the index already: an exact re-add
    code, data = check_json(index, new)
    assert code == 1
    among = [f for f in data["findings"] if not f["in_index"] and f["kind"] in ("document", "exact")]
    assert {(f["file"], f["other"]) for f in among} >= {("a.html", "b.html"), ("b.html", "a.html")}
    assert findings_of(data, "c.txt")[("index:blogs/free-iran-now/about.txt", "exact")]


def test_a_clean_file_passes(index: str) -> None:
    weather = SAMPLES / "crawl" / "network-2020.warc.gz"
    code, data = check_json(index, SAMPLES / "seeds" / SEED[1].split("/")[1], extra=("--fail-on", "none"))
    assert code == 0
    result = invoke("check", str(weather), "--index", index, "-q", "--format", "json")
    data = json.loads(result.stdout)
    assert result.exit_code == 1  # it is in the index: exact re-adds
    assert data["verdict"]["counts"]["exact"] == 3


def test_an_unrelated_file_passes(index: str, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.txt"
    fresh.write_text("A short note on the harvest festival in a mountain village, where the bakers"
                     " compete each autumn for the best rye loaf and the prize is a copper pot.\n",
                     encoding="utf-8")
    result = invoke("check", str(fresh), "--index", index, "-q")
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.stdout


def test_json_keeps_the_scan_contract_plus_verdict(index: str, new_dir: Path) -> None:
    _, data = check_json(index, new_dir)
    assert {"version", "params", "documents", "groups", "matches", "syndication", "skipped",
            "verdict", "findings", "new", "index"} <= set(data)
    ids = {d["id"] for d in data["documents"]}
    assert set(data["new"]) <= ids
    assert {f["other"] for f in data["findings"]} <= ids  # every matched document is described
    indexed = next(d for d in data["documents"] if d["id"] == IRANFOCUS)
    assert indexed["outlet"] == "Iran Focus" and indexed["chars"] > indexed["chars_clean"]
    assert data["index"]["documents"] == 11
    assert data["verdict"] == {**data["verdict"], "fail_on": "documents", "threshold": None}


def test_both_backends_agree(corpus_dir: Path, new_dir: Path, tmp_path: Path, store_spec: str) -> None:
    sqlite_index = str(tmp_path / "other.db")
    for spec in (sqlite_index, store_spec):
        assert invoke("index", "build", str(corpus_dir), "--index", spec, "-q", "--force").exit_code == 0
    outputs = []
    for spec in (sqlite_index, store_spec):
        _, data = check_json(spec, new_dir)
        data.pop("index")
        outputs.append(json.dumps(data, sort_keys=True))
    assert outputs[0] == outputs[1]


def test_github_annotations(index: str, new_dir: Path) -> None:
    result = invoke("check", str(new_dir), "--index", index, "--format", "github", "-q")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    errors = [x for x in lines if x.startswith("::error file=")]
    assert any(f"file={new_dir / SEED[4]}," in x and ",line=2," in x for x in errors)
    assert all("\n" not in x and "title=provenance%3A " in x for x in errors)
    assert any(x.startswith("::warning file=") and "Republished passage" in x for x in lines)
    assert lines[-1].startswith("::error title=provenance check::")


def test_github_escaping() -> None:
    assert _gh_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert _gh_property("a,b: c") == "a%2Cb%3A c"


def test_junit_one_test_case_per_new_file(index: str, new_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "check.xml"
    result = invoke("check", str(new_dir), "--index", index, "--format", "junit", "--output", str(out), "-q")
    assert result.exit_code == 1 and result.stdout == ""
    root = ET.parse(out).getroot()
    cases = root.findall("./testsuite/testcase")
    assert {c.get("name") for c in cases} == {*SEED.values(), DIGEST}
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert failed == set(SEED.values())
    assert root.find("testsuite").get("failures") == "5"
    digest = next(c for c in cases if c.get("name") == DIGEST)
    assert "shares a passage" in digest.find("system-out").text


def test_markdown_and_table(index: str, new_dir: Path) -> None:
    md = invoke("check", str(new_dir), "--index", index, "--format", "markdown", "-q")
    assert md.exit_code == 1
    assert md.stdout.startswith("### provenance check: failed")
    assert "| | file | finding | matched document | similarity | outlets | dates | direction |" in md.stdout
    table = invoke("check", str(new_dir), "--index", index, "-q")
    assert table.exit_code == 1 and "FAILED" in table.stdout and "Findings" in table.stdout


def test_update_adds_only_when_the_check_passes(index: str, new_dir: Path, tmp_path: Path) -> None:
    failing = invoke("check", str(new_dir / "seeds"), "--index", index, "--update", "-q")
    assert failing.exit_code == 1 and "not updating" in failing.stderr
    passing = invoke("check", str(new_dir / "roundup"), "--index", index, "--update", "-q")
    assert passing.exit_code == 0 and "1 new" in passing.stderr
    # The retried job checks the same file again: it is not a duplicate of its own stored copy.
    again = invoke("check", str(new_dir / "roundup"), "--index", index, "-q", "--format", "json")
    assert again.exit_code == 0, again.stdout
    assert json.loads(again.stdout)["verdict"]["counts"]["exact"] == 0
    # The same text under another name is a copy of it.
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    for page in (new_dir / "roundup").iterdir():
        shutil.copy(page, renamed / ("copy-of-" + page.name))
    copy = invoke("check", str(renamed), "--index", index, "-q", "--format", "json")
    assert copy.exit_code == 1 and json.loads(copy.stdout)["verdict"]["counts"]["exact"] == 1


def test_nothing_readable_is_an_error(index: str, tmp_path: Path) -> None:
    (tmp_path / "x.bin").write_bytes(b"\x00\x01")
    result = invoke("check", str(tmp_path / "x.bin"), "--index", index)
    assert result.exit_code == 2 and "nothing readable" in result.stderr


def test_library_check_never_prints(index: str, new_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(index)
    try:
        result = check([new_dir], store, config_from_params(store.params()))
    finally:
        store.close()
    assert capsys.readouterr() == ("", "")
    assert not result.verdict.passed
    assert to_github(result).count("::error file=") == sum(f.fails for f in result.findings)


#: Short lines that one outlet prints on every page: its template, not evidence of copying.
LEDGER_FOOTER = [
    "The Valley Ledger is owned by its readers and answers to nobody else.",
    "Letters to the editor reach the desk on Fridays and appear in the weekend edition.",
    "Our newsroom is open to visitors every first Monday of the month, ten until four.",
]


def _ledger_page(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"{name.removesuffix('.txt').replace('-', ' ').title()}\n\n{body}\n\n"
                    + "\n".join(LEDGER_FOOTER) + "\n", encoding="utf-8")
    return path


def test_check_strips_an_outlets_template_learnt_from_the_index(store_spec: str, tmp_path: Path) -> None:
    seed = (SAMPLES / SEED[1]).read_text(encoding="utf-8")
    bodies = [p for p in seed.split("\n") if len(p.split()) > 40]
    assert len(bodies) >= 7
    for n, body in enumerate(bodies[:5]):  # five indexed pages, each with the footer
        _ledger_page(tmp_path / "corpus" / "ledger", f"page-{n}.txt", body)
    _ledger_page(tmp_path / "new" / "ledger", "fresh-page.txt", bodies[6])
    assert invoke("index", "build", str(tmp_path / "corpus"), "--index", store_spec, "-q").exit_code == 0

    code, data = check_json(store_spec, tmp_path / "new")
    assert code == 0, data["findings"]
    assert data["findings"] == []  # the shared footer is the outlet's template, not a copy
    new = next(d for d in data["documents"] if d["id"] == "ledger/fresh-page.txt")
    assert sorted(r["reason"] for r in new["removed"]).count("template") == len(LEDGER_FOOTER)

    # the new page itself becomes part of what later checks learn from
    assert invoke("index", "add", str(tmp_path / "new"), "--index", store_spec, "-q").exit_code == 0
    footer = {_line_key(line) for line in LEDGER_FOOTER}
    store = open_store(store_spec)
    try:
        counts = store.template_counts({"folder:ledger": (footer | {12345}, {67890})})["folder:ledger"]
    finally:
        store.close()
    assert counts.pages == 6  # six different pages
    assert counts.holders == {key: 6 for key in footer}  # each footer line on all six; 12345 on none
    assert counts.known == set()  # page 67890 is not in the index


def test_a_line_on_a_few_indexed_pages_is_not_a_template(store_spec: str, tmp_path: Path) -> None:
    seed = (SAMPLES / SEED[1]).read_text(encoding="utf-8")
    bodies = [p for p in seed.split("\n") if len(p.split()) > 40]
    for n, body in enumerate(bodies[:1]):  # with the new page, two pages: under template_min_docs (3)
        _ledger_page(tmp_path / "corpus" / "ledger", f"page-{n}.txt", body)
    _ledger_page(tmp_path / "new" / "ledger", "fresh-page.txt", bodies[6])
    assert invoke("index", "build", str(tmp_path / "corpus"), "--index", store_spec, "-q").exit_code == 0
    _, data = check_json(store_spec, tmp_path / "new")
    new = next(d for d in data["documents"] if d["id"] == "ledger/fresh-page.txt")
    assert not [r for r in new["removed"] if r["reason"] == "template"]


def test_template_counts_follow_replaced_documents(store_spec: str, tmp_path: Path) -> None:
    seed = (SAMPLES / SEED[1]).read_text(encoding="utf-8")
    bodies = [p for p in seed.split("\n") if len(p.split()) > 40]
    for n, body in enumerate(bodies[:5]):
        _ledger_page(tmp_path / "corpus" / "ledger", f"page-{n}.txt", body)
    assert invoke("index", "build", str(tmp_path / "corpus"), "--index", store_spec, "-q").exit_code == 0
    _ledger_page(tmp_path / "corpus" / "ledger", "page-0.txt", bodies[5])  # same id, another article
    added = invoke("index", "add", str(tmp_path / "corpus"), "--index", store_spec, "-q")
    assert "0 new, 1 replaced, 4 unchanged" in added.stdout
    footer = {_line_key(line) for line in LEDGER_FOOTER}
    store = open_store(store_spec)
    try:
        counts = store.template_counts({"folder:ledger": (footer, set())})["folder:ledger"]
    finally:
        store.close()
    assert counts.pages == 5  # the replaced page is no longer counted
    assert counts.holders == {key: 5 for key in footer}


def test_index_and_check_take_an_outlets_file(store_spec: str, tmp_path: Path) -> None:
    shutil.copytree(SAMPLES / "blogs", tmp_path / "blogs")
    shutil.copy(SAMPLES / "outlets.json", tmp_path / "outlets.json")
    outlets = str(tmp_path / "outlets.json")
    built = invoke("index", "build", str(tmp_path / "blogs" / "free-iran-now"), "--index", store_spec,
                   "--outlets", outlets, "-q")
    assert built.exit_code == 0, built.output
    page = tmp_path / "blogs" / "free-iran-now" / "2017-12-21-tackle-iran.txt"
    copy = tmp_path / "copy.txt"  # outside the outlets file's folder tree: no outlet from it
    shutil.copy(page, copy)
    code, data = check_json(store_spec, copy, extra=("--outlets", outlets))
    assert code == 1
    (finding,) = [f for f in data["findings"] if f["kind"] == "exact"]
    assert finding["other_outlet"] == "Free Iran Now" and finding["outlet"] is None
    added = invoke("index", "add", str(page), "--index", store_spec, "--outlets", outlets, "-q")
    assert added.exit_code == 0, added.output
