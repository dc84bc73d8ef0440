"""Quality gate for boilerplate removal: small self-written pages, one kind of furniture each.

Every page is made up for this test (no text from any real site or data set). Each pins what
the cleaner keeps (the article's headline, lead and paragraphs) and what it removes, with the
reason the audit gives, so that a change to the rules that loses body text or lets a kind of
furniture back in fails here before it shows in the benchmark.
"""

from __future__ import annotations

import pytest

from provenance.clean import clean_document
from provenance.htmltext import parse_html
from provenance.records import CleanDoc, Document

HEADLINE = "Harbour town votes to rebuild its old ferry pier"
LEAD = ("The council of a small harbour town approved a plan on Tuesday evening to rebuild "
        "the wooden ferry pier that storms damaged two winters ago.")
PARAGRAPHS = [
    "The vote, seven to two, ends a debate that has run through three public meetings, "
    "a petition signed by more than four hundred residents and a study of the seabed.",
    "Engineers proposed a steel frame on concrete piles, which should last fifty years, "
    "although it costs roughly a third more than repairing the existing timber deck.",
    "Fishermen, who land their catch at the pier each morning, asked for a temporary "
    "landing stage while the work goes on; the council promised one by early spring.",
    "The ferry company said it would keep the summer timetable unchanged, with boats "
    "leaving from the beach slipway until the new pier opens next year.",
]


def article(extra_inside: str = "", extra_after: str = "") -> str:
    """The article: a headline, a lead and four paragraphs, plus furniture inside or after it."""
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (f"<main><article><h1>{HEADLINE}</h1><p class='lead'>{LEAD}</p>{body}"
            f"{extra_inside}</article>{extra_after}</main>")


def page(body: str) -> str:
    return f"<!DOCTYPE html><html lang='en'><head><title>t</title></head><body>{body}</body></html>"


def clean_html(html: str) -> CleanDoc:
    parsed = parse_html(html)
    return clean_document(Document(id="p.html", path="p.html", text=parsed.text, kind="html",
                                   blocks=parsed.blocks))


def removed_reasons(cleaned: CleanDoc) -> dict[str, str]:
    """Each removed line's text -> the reason of the span that removed it."""
    text = cleaned.doc.text
    out: dict[str, str] = {}
    for r in cleaned.removed:
        for line in text[r.start:r.end].splitlines():
            if line.strip():
                out[line.strip()] = r.reason
    return out


def assert_article_kept(cleaned: CleanDoc) -> None:
    for part in (HEADLINE, LEAD, *PARAGRAPHS):
        assert part in cleaned.text, part


def assert_audit_rebuilds(cleaned: CleanDoc) -> None:
    """Kept plus removed spans cover the text exactly, in order, without overlap."""
    spans = sorted([*cleaned.kept, *((r.start, r.end) for r in cleaned.removed)])
    pos = 0
    for start, end in spans:
        assert start == pos
        pos = end
    assert pos == len(cleaned.doc.text)


def check(html: str, expected: dict[str, str]) -> CleanDoc:
    cleaned = clean_html(page(html))
    assert_article_kept(cleaned)
    assert_audit_rebuilds(cleaned)
    reasons = removed_reasons(cleaned)
    for line, reason in expected.items():
        assert line not in cleaned.text, line
        assert reasons.get(line) == reason, (line, reasons.get(line))
    return cleaned


NAV = ("<header><nav><ul><li><a href='/'>Home</a></li><li><a href='/local'>Local news</a></li>"
       "<li><a href='/sport'>Sport</a></li><li><a href='/weather'>Weather</a></li></ul></nav></header>"
       "<div class='breadcrumbs'><a href='/'>Front page</a> › <a href='/local'>Local</a></div>"
       "<div role='navigation'><a href='/a'>Previous story: Lighthouse keeper retires</a></div>")
SHARE = ("<div class='share-buttons'><span>Share this article</span> <a href='#'>Facebook</a> "
         "<a href='#'>Twitter</a> <a href='#'>Email</a></div>")
RELATED = ("<section class='related-posts'><h3>Related posts</h3><ul>"
           "<li><a href='/1'>New lifeboat station opens on the north quay</a></li>"
           "<li><a href='/2'>Record catch of mackerel reported this autumn</a></li>"
           "<li><a href='/3'>Ferry fares to rise by five percent in May</a></li></ul></section>")
COMMENTS = ("<div id='comments'><h3>3 Comments</h3>"
            "<div class='comment'><p>About time too, my grandfather used to sail from that pier "
            "every Sunday and it has been sad to see it fenced off for so long.</p></div>"
            "<div class='comment'><p>A third more for steel seems a lot, but if it really lasts "
            "fifty years it will be cheaper in the end than patching the timber.</p></div>"
            "<div class='comment-form'><p>Leave a reply</p></div></div>")
NOTICES = ("<div class='cookie-banner'><p>We use cookies to give you the best experience on our "
           "website.</p><p>Accept all cookies</p></div>" + article()
           + "<div class='legal'><p>© 2026 Harbour Gazette. All rights reserved.</p></div>")
FOOTER = ("<footer><p>The Harbour Gazette is published every weekday by a cooperative of its "
          "readers.</p><ul><li><a href='/about'>About us</a></li><li><a href='/jobs'>Jobs</a></li>"
          "<li><a href='/advertise'>Advertise with us</a></li></ul></footer>")
SIDEBAR = ("<aside><p>Sign up for our newsletter</p>"
           "<h2>Most read</h2><ol><li><a href='/x'>Seal pup rescued from the marina</a></li>"
           "<li><a href='/y'>Harbour master to step down after twenty years</a></li></ol></aside>")

#: One page per kind of furniture, and each removed line's reason in the audit.
FURNITURE = [
    pytest.param(NAV + article(), {
        "Local news": "navigation",
        "Sport": "navigation",
        "Front page › Local": "navigation",
        "Previous story: Lighthouse keeper retires": "navigation",
    }, id="navigation-menus-and-breadcrumbs"),
    pytest.param(article(extra_inside=SHARE), {"Share this article Facebook Twitter Email": "share"}, id="share-bar"),
    pytest.param(article(extra_after=RELATED), {
        "Related posts": "teaser-list",
        "New lifeboat station opens on the north quay": "teaser-list",
        "Ferry fares to rise by five percent in May": "teaser-list",
    }, id="related-posts-take-their-heading"),
    pytest.param(article(extra_after=COMMENTS), {
        "3 Comments": "comments",
        "About time too, my grandfather used to sail from that pier every Sunday and it has been sad "
        "to see it fenced off for so long.": "comments",
        "Leave a reply": "comments",
    }, id="comment-thread"),
    pytest.param(NOTICES, {
        "We use cookies to give you the best experience on our website.": "cookie",
        "Accept all cookies": "cookie",
        "© 2026 Harbour Gazette. All rights reserved.": "legal",
    }, id="cookie-banner-and-legal-notice"),
    pytest.param(article() + FOOTER, {
        "The Harbour Gazette is published every weekday by a cooperative of its readers.": "footer",
        "About us": "footer",
        "Advertise with us": "footer",
    }, id="page-footer"),
    # the element names the reason; a line's own phrase is more specific than its element
    pytest.param(article(extra_after=SIDEBAR), {
        "Most read": "sidebar",
        "Seal pup rescued from the marina": "sidebar",
        "Sign up for our newsletter": "subscribe",
    }, id="sidebar-beside-the-article"),
]


@pytest.mark.parametrize(("html", "expected"), FURNITURE)
def test_each_kind_of_furniture_goes_with_its_reason(html: str, expected: dict[str, str]) -> None:
    check(html, expected)


def test_short_lines_between_removed_blocks_go_with_them() -> None:
    # a date and a "Previous article" label between a share bar and a related list: furniture
    inside = ("<div class='share-buttons'><a href='#'>Facebook</a> <a href='#'>Twitter</a></div>"
              "<p>Previous article</p><p>12 March</p>"
              "<div class='related-stories'><a href='/p'>Harbour dredging to begin in June</a></div>")
    cleaned = check(article(extra_inside=inside), {"Previous article": "share", "12 March": "share"})
    assert "Harbour dredging to begin in June" not in cleaned.text


def test_heading_over_a_removed_section_goes_with_it() -> None:
    more = ("<h2>From around the coast</h2><ul>"
            "<li><a href='/c1'>Cliff path reopens</a></li><li><a href='/c2'>Beach cafe sold</a></li></ul>")
    cleaned = check(article(extra_after=more), {"From around the coast": "link-dense"})
    assert "Cliff path reopens" not in cleaned.text


def test_a_written_out_address_in_the_article_stays() -> None:
    # a paragraph that is one link, but one the author wrote out: a reference, not navigation
    inside = "<p><a href='https://example.org/pier-study.pdf'>https://example.org/pier-study.pdf</a></p>"
    cleaned = check(article(extra_inside=inside), {})
    assert "https://example.org/pier-study.pdf" in cleaned.text


@pytest.mark.parametrize("lead_class", ["article-intro", "standfirst", "subheadline"])
def test_a_lead_above_the_article_body_stays(lead_class: str) -> None:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    html = (f"<div class='page'><div class='head'><h1>{HEADLINE}</h1><p class='{lead_class}'>{LEAD}</p></div>"
            f"<div class='story'><div class='story-text'>{body}</div></div>"
            "<div class='promo-box'><p>Win two tickets for the island ferry this weekend, enter today "
            "and tell us your favourite crossing in no more than fifty words, please.</p></div></div>")
    cleaned = clean_html(page(html))
    assert_article_kept(cleaned)
    assert "Win two tickets" not in cleaned.text


def test_ruby_readings_are_not_text() -> None:
    html = page("<p><ruby>漢<rt>かん</rt>字<rt>じ</rt></ruby>を書く</p>")
    assert parse_html(html).text == "漢字を書く"
