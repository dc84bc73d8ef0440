"""The HTML report and the outlet graph, checked in a real headless Chromium."""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provenance import run
from provenance.cli import app
from provenance.render.graph import to_dot, to_graphml
from provenance.render.html_report import to_html
from provenance.render.report import syndication, to_dict

from .conftest import SAMPLES, SEED_004

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ATTACK = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='img'\">"
BODY_LINES = SEED_004.read_text(encoding="utf-8").split("Iran Focus\n", 1)[1].split("\nComments")[0].splitlines()


@pytest.fixture(scope="module")
def hostile_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An origin page and a blog copy whose scraped text carries markup that must not run."""
    root = tmp_path_factory.mktemp("hostile")
    paras = "".join(f"<p>{line}</p>" for line in BODY_LINES[:8])
    (root / "origin.html").write_text(
        '<html><head><meta property="og:site_name" content="Iran Focus">'
        '<meta property="article:published_time" content="2017-12-19"><script>var x = 1;</script></head>'
        f"<body><nav><a href='/'>Home</a></nav><article>{paras}</article></body></html>", encoding="utf-8")
    copy = "\n".join(["Skip to main content", "A blog <b>repost</b> " + ATTACK, "Source: Iran Focus",
                      *BODY_LINES[:8], "Comments", "Popular posts from this blog", "Teaser one ..."])
    (root / "blog.txt").write_text(copy, encoding="utf-8")
    (root / "roundup.txt").write_text(
        "Our weekly round-up of what others wrote, with our own notes between the quotes. " * 4
        + "\n" + BODY_LINES[5] + "\n" + ATTACK + " Originally published by Iran Focus\n"
        + "And that is all for this week from the editors, who thank every reader for writing in. " * 4,
        encoding="utf-8")
    return root


def test_scraped_markup_is_escaped(hostile_corpus: Path) -> None:
    page = to_html(run([hostile_corpus]))
    assert "<script" not in page.lower()
    assert "onerror=" not in page.replace("onerror=&quot;", "")  # only ever as escaped text
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in page


def test_graph_exports_match_the_syndication_table() -> None:
    report = run([SAMPLES])
    data = to_dict(report)
    edges = syndication(report)
    assert [e.as_dict() for e in edges] == data["syndication"]
    root = ET.fromstring(to_graphml(edges))
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    labels = {n.find("g:data", ns).text for n in root.iterfind(".//g:node", ns)}
    assert {"Iran Focus", "Free Iran Now", "Iran Weekly Digest", "NCRI", "NCRI US"} <= labels
    assert len(root.findall(".//g:edge", ns)) == len(data["syndication"]) == 8
    dot = to_dot(edges)
    assert '"Iran Focus" -> "Free Iran Now"' in dot
    assert dot.count("->") == 8


def test_graph_command_writes_both_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["graph", str(SAMPLES), "--graphml", str(tmp_path / "g.graphml"),
                                      "--dot", str(tmp_path / "g.dot"), "-q"])
    assert result.exit_code == 0, result.output
    assert ET.parse(tmp_path / "g.graphml").getroot().tag.endswith("graphml")
    assert (tmp_path / "g.dot").read_text().startswith("digraph outlets {")


def test_graph_command_needs_an_output() -> None:
    result = CliRunner().invoke(app, ["graph", str(SAMPLES), "-q"])
    assert result.exit_code == 2


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have Debian's chromium installed (.ci/run installs it)")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def _open(browser, path: Path, shot: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.resolve().as_uri())
    page.screenshot(path=str(shot), full_page=True)
    return page, errors


def test_report_opens_in_chromium_with_table_network_and_passages(browser, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", str(SAMPLES), "--html", str(out), "-q"])
    assert result.exit_code == 0, result.output
    page, errors = _open(browser, out, tmp_path / "report.png")
    assert errors == []
    assert page.title() == "provenance report"
    rows = page.locator("#syndication + table tr").count()
    assert rows == 1 + 8
    assert page.locator("svg circle").count() == 8  # one per outlet in the network
    assert page.locator(".pair").count() >= 3 + 5  # three passages, and a pair per group copy
    assert page.locator(".pair mark").count() > 0
    assert page.locator(".pair .removed").count() > 0
    assert (tmp_path / "report.png").stat().st_size > 20_000


def test_scraped_script_is_text_in_the_browser(browser, hostile_corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "hostile.html"
    out.write_text(to_html(run([hostile_corpus])), encoding="utf-8")
    page, errors = _open(browser, out, tmp_path / "hostile.png")
    assert errors == []
    assert page.title() == "provenance report"  # the scraped script never ran
    assert page.evaluate("document.querySelectorAll('script').length") == 0
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert "<script>document.title='pwned'</script>" in page.inner_text("body")
