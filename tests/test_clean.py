"""Boilerplate removal: seed 004 block by block, HTML structure rules, the audit invariant."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance import Report
from provenance.clean import classify_line, clean_document
from provenance.config import CleanConfig
from provenance.htmltext import parse_html
from provenance.records import CleanDoc, Document

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SEED_004 = SAMPLES / "seeds" / "004_c7de8c5f71fa409e.txt"
FREE_IRAN_NOW = SAMPLES / "blogs" / "free-iran-now" / "2017-12-21-tackle-iran.txt"

PROSE = "Prose sentence number {} about the economy of the region and what the minister said on Tuesday."


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def text_doc(text: str, doc_id: str = "t.txt") -> Document:
    return Document(id=doc_id, path=doc_id, text=text, kind="text")


def html_doc(body: str, doc_id: str = "p.html") -> Document:
    page = parse_html(f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>")
    return Document(id=doc_id, path=doc_id, text=page.text, kind="html", blocks=page.blocks)


def removed_texts(clean: CleanDoc) -> list[tuple[str, str]]:
    return [(r.reason, clean.doc.text[r.start:r.end]) for r in clean.removed]


def assert_audit_tiles(clean: CleanDoc) -> None:
    """Kept and removed spans tile the original text exactly and rebuild the cleaned text."""
    text = clean.doc.text
    spans = sorted([(s, e, "kept") for s, e in clean.kept]
                   + [(r.start, r.end, r.reason) for r in clean.removed])
    pos = 0
    for start, end, what in spans:
        assert start == pos, f"gap or overlap at {pos}: next span {start}-{end} ({what})"
        assert end > start, f"empty span {start}-{end} ({what})"
        pos = end
    assert pos == len(text)
    assert clean.kept == sorted(clean.kept)
    assert [(r.start, r.end) for r in clean.removed] == sorted((r.start, r.end) for r in clean.removed)
    assert "".join(text[s:e] for s, e in clean.kept) == clean.text
    # the offsets map back: each kept span of the cleaned text is the same text in the original
    consumed = 0
    for s, e in clean.kept:
        assert clean.span_to_original(consumed, consumed + e - s) == (s, e)
        consumed += e - s


# --------------------------------------------------------------------------
# seed 004, block by block
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed004() -> CleanDoc:
    text = SEED_004.read_text(encoding="utf-8")
    return clean_document(text_doc(text, "seeds/004_c7de8c5f71fa409e.txt"))


def test_seed004_skip_link_removed(seed004: CleanDoc) -> None:
    first = seed004.removed[0]
    assert (first.start, first.reason) == (0, "skip-link")
    assert seed004.doc.text[first.start:first.end] == "Skip to main content\n"
    assert "Skip to main content" not in seed004.text


def test_seed004_comments_line_removed(seed004: CleanDoc) -> None:
    comments = [t for reason, t in removed_texts(seed004) if reason == "comments"]
    assert comments == ["Comments\n"]
    assert not re.search(r"(?m)^Comments$", seed004.text)


def test_seed004_popular_posts_and_every_teaser_removed(seed004: CleanDoc) -> None:
    text = seed004.doc.text
    teasers = [r for r in seed004.removed if r.reason == "teaser-list"]
    assert len(teasers) == 1
    start = text.index("Popular posts from this blog")
    assert (teasers[0].start, teasers[0].end) == (start, len(text))  # everything after it goes
    for gone in [
        "Popular posts from this blog",
        "WE SHOULD LISTEN CLOSELY TO IRAN",
        "As the world continues to debate the recent Iranian outburst of protests",
        "The MEK is best known ...",
        "French FM Visits Iran to Talk Ballistic Missiles and Syria",
        "London, 05 Mar - The French foreign minister Jean-Yves Le Drian, has arrived in Iran",
        "Having such tools is not uniquely defensive",
        "Tortured by 'Moderates'",
        "THE WEEKLY STANDARD",
        "The Westerners didn’t seem uncomfortable in such company",
        "to take selfies with the...",
    ]:
        assert gone in text
        assert gone not in seed004.text, gone


def test_seed004_only_the_three_furniture_blocks_go(seed004: CleanDoc) -> None:
    assert [r.reason for r in seed004.removed] == ["skip-link", "comments", "teaser-list"]


def test_seed004_every_body_sentence_kept(seed004: CleanDoc) -> None:
    text = seed004.doc.text
    start = text.index("London, 19 Dec -")
    end = text.index("adopts a firm policy.”") + len("adopts a firm policy.”")
    body = text[start:end]
    lines = [line for line in body.splitlines() if line.strip()]
    assert len(lines) == 16
    for line in lines:
        assert line in seed004.text, line
    sentences = [s for s in re.split(r"(?<=[.!?”])\s+|(?<=[a-z]\.)(?=[A-Z])", body) if s.strip()]
    assert len(sentences) == 24
    for sentence in sentences:
        assert sentence.strip() in seed004.text, sentence
    # the head stays too: headline/date line and the credit line
    assert "Tackle Iran by Supporting the Iranian People19 December 2017" in seed004.text
    assert re.search(r"(?m)^Iran Focus$", seed004.text)
    assert seed004.text.strip().endswith("adopts a firm policy.”")


def test_free_iran_now_teasers_removed() -> None:
    clean = clean_document(text_doc(FREE_IRAN_NOW.read_text(encoding="utf-8")))
    reasons = {r.reason for r in clean.removed}
    assert {"skip-link", "share", "tags", "navigation", "comments", "teaser-list"} <= reasons
    assert "The U.S. Senate voted almost unanimously" in clean.doc.text
    assert "The U.S. Senate voted almost unanimously" not in clean.text
    assert "Four years of talk about moderation" not in clean.text
    assert "You may also like" not in clean.text
    assert "Labels: Iran, Human rights" not in clean.text
    assert "London, 19 Dec - Ever since the 2015 nuclear deal" in clean.text
    assert "This idea is shared by Shahriar Kia" in clean.text


def test_early_heading_takes_only_list_like_lines() -> None:
    # "Related posts" near the top: only the short teaser lines after it go,
    # the first prose paragraph after them stays.
    prose = [PROSE.format(i) * 2 for i in range(12)]
    text = "\n".join(["Related posts", "Short teaser one", "Short teaser two", *prose]) + "\n"
    clean = clean_document(text_doc(text))
    assert removed_texts(clean) == [("teaser-list", "Related posts\nShort teaser one\nShort teaser two\n")]
    for p in prose:
        assert p in clean.text


def test_late_heading_takes_the_rest_up_to_the_next_heading() -> None:
    prose = [PROSE.format(i) for i in range(10)]
    text = "\n".join([*prose, "Comments", "A long comment that reads just like prose, with many words in it "
                      "about the article and what the commenter thinks of the minister.",
                      "Related articles", "Teaser headline", "Skip to content", "Tail line"]) + "\n"
    clean = clean_document(text_doc(text))
    assert [r.reason for r in clean.removed] == ["comments", "teaser-list", "skip-link"]
    assert "A long comment that reads just like prose" not in clean.text
    assert "Teaser headline" not in clean.text
    assert clean.text.endswith("Tail line\n")


# --------------------------------------------------------------------------
# classify_line
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "reason"), [
    ("Skip to main content", "skip-link"),
    ("  SKIP TO CONTENT  ", "skip-link"),
    ("Comments", "comments"),
    ("3 Comments", "comments"),
    ("Comments (0)", "comments"),
    ("Post a Comment", "comments"),
    ("Leave a reply", "comments"),
    ("Popular posts from this blog", "teaser-list"),
    ("You may also like", "teaser-list"),
    ("Related articles", "teaser-list"),
    ("Share this:", "share"),
    ("Share this post", "share"),
    ("Facebook  Twitter  Email", "share"),
    ("Share on Facebook Tweet Email", "share"),
    ("Labels: Iran, Human rights", "tags"),
    ("Tags: Iran, MEK", "tags"),
    ("Newer Post Older Post Home", "navigation"),
    ("Home", "navigation"),
    ("© 2017 Iran Focus. All rights reserved.", "legal"),
    ("We use cookies to improve your experience on our site.", "cookie"),
    ("Follow us on Twitter and Facebook", "subscribe"),
    ("Subscribe to our newsletter for weekly updates", "subscribe"),
])
def test_classify_line_boilerplate(line: str, reason: str) -> None:
    assert classify_line(line) == reason


@pytest.mark.parametrize("line", [
    "",
    "   ",
    "Iran Focus",
    "Internal Protests",
    "London, 19 Dec - Ever since the 2015 nuclear deal, Iran has been dealing with an endless stream",
    "Comments by the minister were widely reported in the press.",
    "He shared this post on Facebook yesterday evening with his followers in Tehran.",
    "Popular posts from this blog about Iran and the regime in general",
    "Tackle Iran by Supporting the Iranian People19 December 2017",
])
def test_classify_line_content(line: str) -> None:
    assert classify_line(line) is None


# --------------------------------------------------------------------------
# HTML structure rules
# --------------------------------------------------------------------------

P1 = PROSE.format(1)


@pytest.mark.parametrize(("body", "reason", "gone"), [
    (f"<nav><a href='/'>Start</a> <a href='/n'>World</a></nav><article><p>{P1}</p></article>",
     "navigation", "Start World"),
    (f"<article><p>{P1}</p></article><aside><p>Something set aside here</p></aside>",
     "sidebar", "Something set aside here"),
    (f"<article><p>{P1}</p></article><form><p>Get the daily briefing in your inbox</p></form>",
     "subscribe", "Get the daily briefing in your inbox"),
    (f"<article><p>{P1}</p></article><div id='comments'><p>Great article, I agree with every word.</p></div>",
     "comments", "Great article, I agree with every word."),
    (f"<article><p>{P1}</p></article><div class='related-posts'><p>Another story headline here</p></div>",
     "teaser-list", "Another story headline here"),
    (f"<article><p>{P1}</p><div class='share-buttons'><span>Spread the word now</span></div></article>",
     "share", "Spread the word now"),
    (f"<article><p>{P1}</p></article><div class='sidebar widget'><p>Archive of the blog by month</p></div>",
     "sidebar", "Archive of the blog by month"),
    (f"<div class='cookie-banner'><p>We care about your data here</p></div><article><p>{P1}</p></article>",
     "cookie", "We care about your data here"),
    (f"<article><p>{P1}</p><p><a href='/a'>First link text</a> | <a href='/b'>Second link text</a></p></article>",
     "link-dense", "First link text | Second link text"),
])
def test_html_structure_rules(body: str, reason: str, gone: str) -> None:
    clean = clean_document(html_doc(body))
    assert gone in clean.doc.text
    assert [r for r, t in removed_texts(clean) if gone in t] == [reason]
    assert gone not in clean.text
    assert P1 in clean.text
    assert_audit_tiles(clean)


def test_page_header_and_footer_removed_but_article_header_kept() -> None:
    body = (f"<header><p>Daily Gazette of the Province</p></header>"
            f"<article><header><h1>Article Headline Here</h1><p>By A. Writer</p></header><p>{P1}</p>"
            f"<footer><p>Filed under economy by the desk</p></footer></article>"
            f"<footer><p>Contact the gazette office</p></footer>")
    clean = clean_document(html_doc(body))
    assert removed_texts(clean) == [("header", "Daily Gazette of the Province\n"),
                                    ("footer", "Contact the gazette office")]
    assert clean.text == (f"Article Headline Here\nBy A. Writer\n{P1}\nFiled under economy by the desk\n")


def test_link_rich_prose_paragraph_is_kept() -> None:
    words = " ".join(f"word{i}" for i in range(45))
    body = f"<article><p><a href='/x'>{words}</a> and a few more plain words.</p></article>"
    clean = clean_document(html_doc(body))
    assert clean.removed == []  # 40 words or more is prose, however many links


def test_keep_comments_keeps_comment_text() -> None:
    body = (f"<article><p>{P1}</p></article><div id='comments'><h3>Comments</h3>"
            f"<p>Great article, I agree with every word.</p></div>"
            f"<aside><p>Something set aside here</p></aside>")
    dropped = clean_document(html_doc(body))
    kept = clean_document(html_doc(body), CleanConfig(keep=("comments",)))
    assert "Great article, I agree with every word." not in dropped.text
    assert "Great article, I agree with every word." in kept.text
    assert [r.reason for r in kept.removed] == ["sidebar"]
    assert "Something set aside here" not in kept.text
    assert_audit_tiles(kept)


def test_keep_comments_on_the_iranfocus_page_keeps_only_comments() -> None:
    from provenance.ingest import read_paths
    [doc] = read_paths([SAMPLES / "iranfocus"])
    default = clean_document(doc)
    kept = clean_document(doc, CleanConfig(keep=("comments",)))
    assert "Spot on. Sanctions on their own will not change much" not in default.text
    assert "Spot on. Sanctions on their own will not change much" in kept.text
    assert "Good piece. I would like to read more about what Brussels is actually doing" in kept.text
    # the newsletter form and the page footer are not comments: they stay removed
    for furniture in ("Subscribe to our newsletter", "Email address",
                      "© 2017 Iran Focus. All rights reserved.", "Privacy policy | Terms of use"):
        assert furniture in doc.text
        assert furniture not in default.text
        assert furniture not in kept.text, furniture


def test_keep_comments_on_seed004() -> None:
    doc = text_doc(SEED_004.read_text(encoding="utf-8"))
    clean = clean_document(doc, CleanConfig(keep=("comments",)))
    assert [r.reason for r in clean.removed] == ["skip-link", "teaser-list"]
    assert re.search(r"(?m)^Comments$", clean.text)
    assert "WE SHOULD LISTEN CLOSELY TO IRAN" not in clean.text


# --------------------------------------------------------------------------
# the audit invariant
# --------------------------------------------------------------------------


def test_audit_tiles_every_sample_document(samples_report: Report) -> None:
    assert len(samples_report.cleaned) == 17
    total_removed = 0
    for clean in samples_report.cleaned:
        assert_audit_tiles(clean)
        total_removed += len(clean.removed)
    assert total_removed > 20


@pytest.mark.parametrize("keep", [("comments",), ("teaser-list", "share"), ("header", "footer", "navigation")])
def test_audit_tiles_every_sample_document_with_keep(samples_report: Report, keep: tuple[str, ...]) -> None:
    for clean in samples_report.cleaned:
        again = clean_document(clean.doc, CleanConfig(keep=keep))
        assert_audit_tiles(again)
        assert not {r.reason for r in again.removed} & set(keep)
        assert len(again.text) >= len(clean.text)


BOILERPLATE_LINES = [
    "Skip to main content", "Comments", "Share this:", "Popular posts from this blog",
    "You may also like", "Labels: Iran, Human rights", "Newer Post Older Post Home",
    "Post a Comment", "Facebook  Twitter  Email", "Related articles", "3 Comments",
    "© 2017 All rights reserved.", "Follow us on Twitter", "Home", "Leave a reply",
    "We use cookies on this site.", "Skip to content",
]
SEED_LINES = [line for line in SEED_004.read_text(encoding="utf-8").splitlines() if line.strip()]

line_strategy = st.one_of(
    st.sampled_from(BOILERPLATE_LINES),
    st.sampled_from(SEED_LINES),
    st.just(""),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=120),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(line_strategy, max_size=40), trailing=st.sampled_from(["", "\n", "\n\n"]))
def test_audit_tiles_generated_text(lines: list[str], trailing: str) -> None:
    clean = clean_document(text_doc("\n".join(lines) + trailing))
    assert_audit_tiles(clean)


WRAPPERS = [
    "<p>{}</p>", "<nav><a href='#'>{}</a></nav>", "<div class='comments'><p>{}</p></div>",
    "<aside><p>{}</p></aside>", "<header><p>{}</p></header>", "<footer>{}</footer>",
    "<article><header><h1>{}</h1></header></article>", "<ul class='related'><li><a href='#'>{}</a></li></ul>",
    "<div>{}</div>", "<p><a href='#'>{}</a></p>",
]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(WRAPPERS),
                          st.one_of(st.sampled_from(BOILERPLATE_LINES), st.sampled_from(SEED_LINES))),
                max_size=25),
       st.sampled_from([(), ("comments",), ("navigation", "teaser-list")]))
def test_audit_tiles_generated_html(parts: list[tuple[str, str]], keep: tuple[str, ...]) -> None:
    from html import escape
    body = "".join(w.format(escape(line)) for w, line in parts)
    clean = clean_document(html_doc(body), CleanConfig(keep=keep))
    assert_audit_tiles(clean)
    assert not {r.reason for r in clean.removed} & set(keep)


def _spaced(phrase: str, gaps: list[str]) -> str:
    words = phrase.split(" ")
    return "".join(w + gaps[k % len(gaps)] for k, w in enumerate(words))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.sampled_from([" ", "  ", "\t", " \t ", " " * 40]), min_size=1,
                                         max_size=5),
       st.sampled_from(["", " " * 30, "\t" * 90, "x"]), st.booleans())
def test_a_long_line_is_named_by_its_normalised_start_as_the_first_200_characters_name_it(
        pick: int, gaps: list[str], lead: str, upper: bool) -> None:
    """``classify_line`` normalises only as much of a long line as the longest prefix rule reads
    (more where white space eats it): the reason is the one the first 200 characters give."""
    from provenance.phrases import _norm_prefix, load_rules

    rules = load_rules()
    phrase = rules.prefix[pick % len(rules.prefix)][0]
    line = lead + _spaced(phrase.upper() if upper else phrase, gaps) + "rest of the paragraph " * 20
    assert len(line) > 300
    assert classify_line(line, rules) == rules.prefix_reason(_norm_prefix(line[:200]))


@given(st.integers(0, 50), st.integers(1, 50), st.integers(-3, 60), st.integers(-3, 60), st.booleans())
def test_a_span_maps_back_as_its_two_ends_do(a: int, length: int, start: int, end: int, two: bool) -> None:
    """``CleanDoc.span_to_original`` (one kept piece: a shift) maps a span as ``to_original``
    maps its ends, for spans inside, empty, reversed and past the kept text."""
    from provenance.records import CleanDoc, Document

    raw = "x" * (a + length + 10)
    kept = [(a, a + length)] if not two else [(a, a + length // 2), (a + length // 2 + 3, a + length + 3)]
    clean = CleanDoc(Document("d", "d", raw, "text"), kept, [], "".join(raw[s:e] for s, e in kept))
    p = clean.to_original(start)
    expected = (p, p) if end <= start else (p, clean.to_original(end - 1) + 1)
    assert clean.span_to_original(start, end) == expected


def test_a_long_lines_window_cut_after_a_capital_sigma_names_it_as_the_first_200_characters_do(
        tmp_path: Path) -> None:
    """``str.lower`` maps a capital sigma by what follows it: cut off by the window it is a final
    "ς" (here the end of a prefix rule), in the first 200 characters a "σ" (a longer word)."""
    import json

    from provenance.phrases import _norm_prefix, load_rules

    rules_file = tmp_path / "rules.json"
    rules_file.write_text(json.dumps({"phrases": {"tags": {"prefix": ["ετικέτες άρθρου μας"]}}}),
                          encoding="utf-8")
    rules = load_rules(str(rules_file))
    assert rules._prefix_longest == 19  # type: ignore[attr-defined]  # the window: 54 characters
    line = "ΕΤΙΚΈΤΕΣ" + " " * 36 + "ΆΡΘΡΟΥ ΜΑΣΤΟΡΑ " + "λέξη " * 80
    assert rules.prefix_reason(_norm_prefix(line[:200])) is None
    assert classify_line(line, rules) is None
