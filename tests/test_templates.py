"""Per-outlet templates: one outlet's repeated furniture goes, syndicated text stays."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from provenance import Config, run
from provenance.config import CleanConfig
from provenance.render.report import to_dict
from provenance.templates import LineKeys, TemplateCounts, _short, learn_with_index

from .conftest import SEEDS

HEADER = "Welcome to the Daily Ledger, independent news since 1999"
FOOTER = "The Daily Ledger is published by Ledger Media Ltd, registered in London."
SEED_TEXTS = [p.read_text("utf-8") for p in sorted(SEEDS.glob("*.txt"))]
SHARED = SEED_TEXTS[0].split("\n\n")[2]  # one paragraph of seed 000, to be syndicated


def _page(outlet: str, body: str, date: str) -> str:
    """A plain-text page as a crawler saves it: the site's own lines around the article."""
    top = HEADER if outlet == "Daily Ledger" else outlet
    bottom = FOOTER if outlet == "Daily Ledger" else ""
    return f"{top}\nPublished {date}\n\n{body}\n\n{bottom}\n"


def _corpus(root: Path) -> Path:
    """Four unrelated pages of one outlet (a folder), and a paragraph that two other outlets republish."""
    bodies = [t.split("\n\n")[-2] + "\n" + t.split("\n\n")[-1] for t in SEED_TEXTS[1:]]
    (root / "ledger").mkdir()
    for n, body in enumerate(bodies):
        extra = "\n" + SHARED if n == 0 else ""
        (root / "ledger" / f"page-{n}.txt").write_text(_page("Daily Ledger", body + extra, f"2017-07-0{n + 1}"), "utf-8")
    for outlet in ("Blog Two", "Blog Three"):
        folder = root / outlet.lower().replace(" ", "-")
        folder.mkdir()
        text = f"Our own introduction to the week, written by {outlet} for its readers.\n{SHARED}"
        (folder / "post.txt").write_text(_page(outlet, text, "2017-08-01"), "utf-8")
    return root


def test_an_outlets_repeated_header_and_footer_are_stripped(tmp_path: Path) -> None:
    report = run([_corpus(tmp_path)])
    for clean in report.cleaned:
        if clean.doc.id.startswith("ledger/"):
            assert HEADER not in clean.text and FOOTER not in clean.text
            reasons = {r.reason for r in clean.removed}
            assert "template" in reasons
            cut = [clean.doc.text[r.start:r.end].strip() for r in clean.removed if r.reason == "template"]
            assert sorted(cut) == sorted([HEADER, FOOTER])


def test_a_passage_syndicated_by_three_outlets_survives(tmp_path: Path) -> None:
    report = run([_corpus(tmp_path)])
    holders = [c.doc.id.split("/")[0] for c in report.cleaned if SHARED in c.text]
    assert sorted(holders) == ["blog-three", "blog-two", "ledger"]
    data = to_dict(report)
    # the two blogs are near-copies of each other (a group); the Ledger page shares the passage with it
    assert [sorted(g["documents"]) for g in data["groups"]] == [["blog-three/post.txt", "blog-two/post.txt"]]
    [match] = data["matches"]
    assert "ledger/page-0.txt" in (match["a"], match["b"])


def test_template_text_can_be_kept(tmp_path: Path) -> None:
    report = run([_corpus(tmp_path)], Config(clean=CleanConfig(keep=("template",))))
    ledger = [c for c in report.cleaned if c.doc.id.startswith("ledger/")]
    assert all(HEADER in c.text for c in ledger)


def test_long_paragraphs_posted_again_by_one_outlet_are_not_templates(tmp_path: Path) -> None:
    """An outlet that posts the same article three times keeps its body: the copies must be found."""
    article = SEED_TEXTS[0]
    for n in range(3):
        (tmp_path / f"dup-{n}.txt").write_text(_page("Daily Ledger", article, f"2017-07-0{n + 1}"), "utf-8")
    report = run([tmp_path])
    assert all(len(c.text) > 0.9 * len(article) for c in report.cleaned)
    assert len(report.groups) == 1 and len(report.groups[0].members) == 3


def test_clean_show_marks_every_cut() -> None:
    from typer.testing import CliRunner

    from provenance.cli import app

    result = CliRunner().invoke(app, ["clean", str(SEEDS / "004_c7de8c5f71fa409e.txt"), "--show"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "[-skip-link: Skip to main content-]" in out
    assert "[-comments: Comments-]" in out
    assert "[-teaser-list: Popular posts from this blog" in out
    assert "London, 19 Dec - Ever since the 2015 nuclear deal" in out  # kept text, unmarked


def test_a_rules_file_can_drop_a_phrase_and_add_one(tmp_path: Path) -> None:
    import json

    from provenance.clean import clean_document
    from provenance.records import Document

    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"drop": {"exact": ["comments"]},
                                 "phrases": {"navigation": {"exact": ["back to the front page"]}}}))
    text = "Comments\nBack to the front page\nA real sentence of the article stays here.\n"
    clean = clean_document(Document(id="d", path="d", text=text, kind="text"),
                           CleanConfig(rules_file=str(rules)))
    assert [r.reason for r in clean.removed] == ["navigation"]
    assert clean.text.startswith("Comments\n")


@given(st.text(alphabet="ab x1-é\n_’٣.\t", max_size=80),
       st.integers(min_value=0, max_value=6))
def test_short_line_test_counts_words_as_the_word_regex_does(line: str, max_words: int) -> None:
    assert _short(line, max_words) == (len(re.findall(r"\w+", line)) <= max_words)


@given(st.lists(st.sampled_from(["word", "a", "_x", "42", " ", "  ", "-", "'s", ", ", ".", "\t", "é", "—",
                                 "state-of-the-art", "\x7f", "~"]), max_size=120).map("".join),
       st.integers(min_value=0, max_value=45))
def test_short_line_test_of_long_ascii_lines_counts_words_as_the_regex_does(line: str, max_words: int) -> None:
    """Long lines, most of them ASCII (counted by mapping bytes, not by the pattern)."""
    assert _short(line, max_words) == (len(re.findall(r"\w+", line)) <= max_words)


def test_learning_with_an_index_counts_each_page_once() -> None:
    cfg = CleanConfig()  # a template: on >= 3 pages and on >= 30 % of the scope's pages
    footer, other = 101, 202
    new = [LineKeys(1, np.array([footer, other], np.uint64)), LineKeys(2, np.array([footer], np.uint64))]
    asked: list[dict[str, tuple[set[int], set[int]]]] = []

    def counts(wanted: dict[str, tuple[set[int], set[int]]]) -> dict[str, TemplateCounts]:
        asked.append(wanted)
        # the index holds 5 pages of the outlet, page 1 among them; the footer is on 2 of them
        return {"outlet:ledger": TemplateCounts(5, {footer: 2}, {1})}

    learnt = learn_with_index(["outlet:ledger"] * 2, new, cfg, counts)
    assert asked == [{"outlet:ledger": ({footer, other}, {1, 2})}]  # only the new lines and pages
    # footer: 2 indexed pages + page 2 (page 1 is already counted) = 3 of 6 pages: a template;
    # other: only on page 1, which the index knows, and not there: 0 pages
    assert learnt == {"outlet:ledger": {footer}}
    assert learn_with_index(["outlet:ledger"], new[:1], cfg, counts) == {}  # 2 of 5 pages: not yet
