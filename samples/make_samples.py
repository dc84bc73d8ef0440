#!/usr/bin/env python3
# ruff: noqa: E501, RUF001, T201
# (long HTML templates, typographic quotes in the texts, progress output)
"""Build the demo corpus in samples/ from the five scraped seeds in samples/seeds/.

Run from the repository root:

    python samples/make_samples.py

The script is deterministic: no randomness, no network, no clock.  Every article
body below is cut out of a seed paragraph by paragraph, so the copies in the
derived files are real copies of the seed text.  Only the page furniture
(menus, footers, teasers, comments, dates, URLs) and a few clearly original
texts (the digest's own prose, a weather story, an "about" page) are written
here.  The script overwrites its own outputs and nothing else; the seeds are
only read.  See samples/README.md for what each file is meant to exercise.
"""

from __future__ import annotations

import html
import io
import json
import re
import struct
import sys
import uuid
import zlib
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

HERE = Path(__file__).resolve().parent
SEEDS = HERE / "seeds"

# Derived outputs (relative to samples/).
OUT_IRANFOCUS = "iranfocus/tackle-iran-by-supporting-the-iranian-people.html"
OUT_FREE_IRAN_NOW = "blogs/free-iran-now/2017-12-21-tackle-iran.txt"
OUT_FREE_IRAN_NOW_ABOUT = "blogs/free-iran-now/about.txt"
OUT_PERSIAN_VOICES = "blogs/persian-voices/opposition-must-be-supported.txt"
OUT_JSONL = "dumps/network-2017.jsonl"
OUT_WARC = "crawl/network-2020.warc.gz"
OUT_DIGEST = "roundup/weekly-digest-2017-12-23.html"

OUTPUTS = [
    OUT_IRANFOCUS,
    OUT_FREE_IRAN_NOW,
    OUT_FREE_IRAN_NOW_ABOUT,
    OUT_PERSIAN_VOICES,
    OUT_JSONL,
    OUT_WARC,
    OUT_DIGEST,
]

# Fixed namespace so that WARC-Record-IDs are stable from run to run.
RECORD_NS = uuid.UUID("6f1c1d64-1b0e-5a53-9a57-2f6d1c0e7a01")


# --------------------------------------------------------------------------
# Reading the seeds
# --------------------------------------------------------------------------


def read_seed(number: int) -> str:
    matches = sorted(SEEDS.glob(f"{number:03d}_*.txt"))
    if len(matches) != 1:
        sys.exit(f"expected exactly one seed {number:03d}_*.txt in {SEEDS}, found {len(matches)}")
    return matches[0].read_text(encoding="utf-8")


def paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks, each stripped of surrounding whitespace."""
    return [block.strip() for block in re.split(r"\n[ \t]*\n", text) if block.strip()]


def expect(condition: bool, message: str) -> None:
    if not condition:
        sys.exit(f"seed check failed: {message}")


def is_heading(line: str) -> bool:
    """A short line without closing punctuation: a subheading in the seeds."""
    return len(line) < 80 and not re.search(r"[.!?:;\"”’)…]$", line)


def seed000() -> list[str]:
    paras = paragraphs(read_seed(0))
    expect(paras[0].startswith("The US is already making waves"), "seed 000 start")
    expect(paras[-1].startswith("Shaifee wrote: “The new sanctions bill"), "seed 000 end")
    return paras


def seed001() -> tuple[str, list[str]]:
    """Returns (dateline, body paragraphs)."""
    paras = paragraphs(read_seed(1))
    expect(re.fullmatch(r"date 2017-07-28 By Jubin Katiraie", paras[0]) is not None, "seed 001 dateline")
    body = paras[1:]
    expect(body[0].startswith("The U.S. Senate voted almost unanimously"), "seed 001 body start")
    return paras[0], body


def seed002() -> list[tuple[str, object]]:
    """Blocks of seed 002 as ("p"|"h2", text) or ("ul", [items])."""
    blocks: list[tuple[str, object]] = []
    for block in paragraphs(read_seed(2)):
        lines = [ln.strip() for ln in block.split("\n")]
        if all(ln.startswith("•") for ln in lines):
            blocks.append(("ul", [ln.lstrip("•").strip() for ln in lines]))
        elif is_heading(block):
            blocks.append(("h2", block))
        else:
            blocks.append(("p", block))
    expect([b[1] for b in blocks if b[0] == "h2"] == ["Isolation", "Loss of Influence"], "seed 002 headings")
    expect(sum(len(b[1]) for b in blocks if b[0] == "ul") == 5, "seed 002 bullet list")
    return blocks


def seed002_plain(blocks: list[tuple[str, object]]) -> list[str]:
    out: list[str] = []
    for kind, value in blocks:
        out.extend(value if kind == "ul" else [value])  # type: ignore[arg-type]
    return out


def seed003() -> tuple[str, list[str]]:
    """Returns (headline, body paragraphs); the seed repeats its headline twice."""
    paras = paragraphs(read_seed(3))
    expect(paras[0] == paras[1], "seed 003 doubled headline")
    return paras[0], paras[2:]


SEED004_HEADLINE = "Tackle Iran by Supporting the Iranian People"
SEED004_SUBHEADINGS = ["International condemnation and Iran’s response", "Internal Protests"]


def seed004() -> list[tuple[str, str]]:
    """The Iran Focus article inside seed 004 as ("p"|"h2", text) blocks."""
    lines = read_seed(4).split("\n")
    expect(lines[0] == "Skip to main content", "seed 004 skip link")
    expect(lines[1].startswith(SEED004_HEADLINE), "seed 004 headline")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("London, 19 Dec -"))
    end = next(i for i, ln in enumerate(lines) if ln.rstrip().endswith("adopts a firm policy.”"))
    blocks = []
    for line in lines[start : end + 1]:
        line = line.strip()
        if line:
            blocks.append(("h2" if is_heading(line) else "p", line))
    expect([t for k, t in blocks if k == "h2"] == SEED004_SUBHEADINGS, "seed 004 subheadings")
    return blocks


def find_para(paras: list[str], prefix: str) -> int:
    hits = [i for i, p in enumerate(paras) if p.startswith(prefix)]
    expect(len(hits) == 1, f"paragraph starting {prefix!r}")
    return hits[0]


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


def html_blocks(blocks, indent: str = "        ") -> str:
    out = []
    for kind, value in blocks:
        if kind == "ul":
            items = "\n".join(f"{indent}  <li>{esc(v)}</li>" for v in value)
            out.append(f"{indent}<ul>\n{items}\n{indent}</ul>")
        else:
            out.append(f"{indent}<{kind}>{esc(value)}</{kind}>")
    return "\n".join(out)


def write_text(rel: str, text: str, encoding: str = "utf-8") -> None:
    path = HERE / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="\n") as fh:
        fh.write(text)


# --------------------------------------------------------------------------
# A. Iran Focus origin page and the Free Iran Now repost
# --------------------------------------------------------------------------


def make_iranfocus(blocks) -> str:
    url = "https://www.iranfocus.com/en/news/tackle-iran-by-supporting-the-iranian-people"
    nav = [
        ("Home", "/en/"),
        ("News", "/en/news"),
        ("Opinion", "/en/opinion"),
        ("Human Rights", "/en/human-rights"),
        ("Terrorism", "/en/terrorism"),
        ("Nuclear", "/en/nuclear"),
        ("About us", "/en/about-us"),
        ("Contact", "/en/contact"),
    ]
    nav_html = "\n".join(f'          <li><a href="{h}">{esc(t)}</a></li>' for t, h in nav)
    related = [
        ("Iran’s Revolutionary Guards tighten their grip on the economy", "/en/news/irgc-tighten-grip-on-economy", "14 December 2017"),
        ("Rights groups alarmed by new wave of executions in Iran", "/en/human-rights/rights-groups-alarmed-executions", "11 December 2017"),
        ("Collapsed credit institutions bring savers onto the streets", "/en/news/collapsed-credit-institutions-savers-protest", "6 December 2017"),
        ("Europe weighs its answer to Tehran’s missile tests", "/en/nuclear/europe-weighs-answer-missile-tests", "1 December 2017"),
    ]
    related_html = "\n".join(
        f'          <li><a href="{h}">{esc(t)}</a> <span class="date">{d}</span></li>' for t, h, d in related
    )
    comments = [
        ("Dariush K.", "2017-12-19T14:12:00+00:00", "19 December 2017 at 14:12",
         "Spot on. Sanctions on their own will not change much unless the world also listens to the people inside the country."),
        ("Helen Marsh", "2017-12-20T08:47:00+00:00", "20 December 2017 at 08:47",
         "Good piece. I would like to read more about what Brussels is actually doing, beyond statements."),
    ]
    comments_html = "\n".join(
        f"""        <div class="comment">
          <p class="comment-meta"><span class="comment-author">{esc(a)}</span> <time datetime="{iso}">{d}</time></p>
          <p class="comment-text">{esc(t)}</p>
        </div>"""
        for a, iso, d, t in comments
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{esc(SEED004_HEADLINE)} | Iran Focus</title>
  <meta name="description" content="Iran is facing a stream of international and domestic crises. The answer is to stand with the Iranian people.">
  <meta property="og:site_name" content="Iran Focus">
  <meta property="og:type" content="article">
  <meta property="og:title" content="{attr(SEED004_HEADLINE)}">
  <meta property="og:url" content="{url}">
  <meta property="article:published_time" content="2017-12-19T09:30:00+00:00">
  <meta property="article:section" content="News">
  <link rel="canonical" href="{url}">
  <link rel="stylesheet" href="/templates/iranfocus/css/template.css">
  <style>
    body {{ font-family: Georgia, serif; margin: 0; color: #222; }}
    .skip-link {{ position: absolute; left: -999px; }}
    .skip-link:focus {{ left: 1em; top: 1em; }}
    header.site-header {{ background: #0b3d2e; color: #fff; padding: 1em 2em; }}
    nav.main-menu ul {{ list-style: none; display: flex; gap: 1.2em; padding: 0; }}
    nav.main-menu a {{ color: #fff; text-decoration: none; }}
    main {{ max-width: 46em; margin: 2em auto; }}
    .share-buttons a {{ margin-right: 1em; }}
    footer.site-footer {{ font-size: 0.85em; border-top: 1px solid #ccc; padding: 1em 2em; }}
  </style>
  <script>
    window.dataLayer = window.dataLayer || [];
    function gtag() {{ dataLayer.push(arguments); }}
    gtag('js', new Date());
    gtag('config', 'UA-0000000-1');
  </script>
</head>
<body class="article-page">
  <a class="skip-link" href="#main-content">Skip to main content</a>
  <header class="site-header">
    <div class="masthead">
      <a class="logo" href="/en/"><img src="/images/iranfocus-logo.png" alt="Iran Focus" width="220" height="48"></a>
      <p class="tagline">News and analysis on Iran</p>
    </div>
    <nav class="main-menu" aria-label="Main menu">
      <ul>
{nav_html}
      </ul>
    </nav>
  </header>
  <main id="main-content">
    <article class="item-page">
      <h1>{esc(SEED004_HEADLINE)}</h1>
      <p class="byline">By <span class="author">Iran Focus</span> | <time datetime="2017-12-19T09:30:00+00:00">19 December 2017</time></p>
      <div class="article-body">
{html_blocks(blocks)}
      </div>
      <div class="share-buttons">
        <a href="https://www.facebook.com/sharer/sharer.php?u={url}">Share on Facebook</a>
        <a href="https://twitter.com/intent/tweet?url={url}">Tweet</a>
        <a href="mailto:?subject={attr(SEED004_HEADLINE)}&amp;body={url}">Email</a>
      </div>
    </article>
    <aside class="related-posts">
      <h2>Related articles</h2>
      <ul>
{related_html}
      </ul>
    </aside>
    <div id="comments">
      <h2>2 comments</h2>
{comments_html}
    </div>
    <form class="newsletter" action="/en/newsletter/subscribe" method="post">
      <h2>Subscribe to our newsletter</h2>
      <label for="nl-email">Email address</label>
      <input type="email" id="nl-email" name="email" placeholder="you@example.com" required>
      <button type="submit">Subscribe</button>
    </form>
  </main>
  <footer class="site-footer">
    <p>© 2017 Iran Focus. All rights reserved.</p>
    <p><a href="/en/privacy-policy">Privacy policy</a> | <a href="/en/terms-of-use">Terms of use</a></p>
  </footer>
</body>
</html>
"""


SEED001_TEASER = (
    "The U.S. Senate voted almost unanimously on Thursday to pass new sanctions on Russia, "
    "North Korea and Iran. The officials of Iranian regime are already afraid of the "
    "consequences of the new sanctions."
)


def first_sentence(text: str) -> str:
    # A full stop after a lower-case letter, so "U.S." is not taken for a sentence end.
    match = re.match(r"(.+?[a-z][.!?])(\s+[A-Z“]|$)", text, re.S)
    expect(match is not None, "first sentence")
    return match.group(1)


def make_free_iran_now(blocks, seed001_body: list[str]) -> str:
    teaser = first_sentence(seed001_body[0]) + " " + first_sentence(seed001_body[1])
    expect(teaser == SEED001_TEASER, "seed 001 teaser sentences")
    body = [text for _, text in blocks][:-1]  # trimmed copy: last paragraph dropped
    lines = [
        "Skip to main content",
        "Free Iran Now",
        "News and views on Iran's struggle for freedom",
        "",
        "Why the world must back the Iranian people",
        "Posted on 21 December 2017",
        "",
        "Source: Iran Focus",
        "",
    ]
    for para in body:
        lines += [para, ""]
    lines += [
        "Share this:",
        "Facebook",
        "Twitter",
        "",
        "Labels: Iran, Human rights",
        "",
        "Newer Post Older Post Home",
        "",
        "Comments",
        "",
        "Post a Comment",
        "",
        "You may also like",
        "",
        "US Senate votes for new sanctions on Iran's rulers",
        teaser + " ...",
        "",
        "Rouhani's second term: more of the same",
        "Four years of talk about moderation have not emptied a single prison cell. Our contributors "
        "look at what the next four years are likely to bring ...",
        "",
        "Why women are at the front of Iran's protests",
        "From Mashhad to Kermanshah, women have been among the first to take to the streets. We spoke "
        "to three of them about fear, courage and ...",
    ]
    return "\n".join(lines) + "\n"


ABOUT_FREE_IRAN_NOW = """About this blog

Free Iran Now is kept by a handful of volunteers: two students, a retired teacher and the former owner of a small café in Isfahan who now lives in Lyon. We gather news and comment on human rights in Iran for readers who don’t follow the Persian-language press. Would you like to write for us? Send a short résumé and a sample of your writing to the editors. We read every message – “even the angry ones” – and we try to answer within a week.
"""


# --------------------------------------------------------------------------
# B. The 2017 JSONL dump
# --------------------------------------------------------------------------

WEATHER_TEXT = (
    "Temperatures in Ahvaz passed 50 degrees Celsius for a third day running on Wednesday, and "
    "residents of several towns in Khuzestan province said their taps had been dry since the weekend. "
    "Local officials blamed record demand and a broken pumping station near the Karun river, but people "
    "who spoke to local reporters said the problem had been building for years.\n\n"
    "In Hamidiyeh and Shadegan, families queued at tankers sent by the provincial water company, while "
    "shopkeepers closed early because power cuts had shut down air conditioning across whole districts. "
    "Farmers in the south of the province warned that date palms and buffalo herds would not survive "
    "another dry month.\n\n"
    "Environmental experts have long argued that upstream dams and the draining of the Hoor al-Azim "
    "wetland have left the region far more exposed to summer heat and dust storms. Residents say they "
    "have heard promises of new pipelines every summer and seen none of them finished."
)


def make_jsonl(s000: list[str], s001_body: list[str]) -> str:
    def text(title: str, paras: list[str], footer: str | None = None) -> str:
        parts = [title, *paras] + ([footer] if footer else [])
        return "\n\n".join(parts)

    ncri_title = "Shafiee: Tillerson and Senate vote mark a turn on Iran"
    inu_title = "US sanctions vote terrifies Iran's mullahs"
    senate_title = "Iran's regime fears regime change after Senate sanctions vote"
    weather_title = "Heat wave leaves Khuzestan towns without running water"
    # Newest first, as a news feed export would be: file order is not evidence.
    records = [
        {
            "id": "iran-news-update-2017-08-10-weather",
            "url": "https://irannewsupdate.com/news/khuzestan-heat-wave-water-shortages",
            "outlet": "Iran News Update",
            "date": "2017-08-10",
            "title": weather_title,
            "text": text(weather_title, WEATHER_TEXT.split("\n\n")),
        },
        {
            "id": "iran-news-update-2017-08-03-sanctions",
            "url": "https://irannewsupdate.com/news/us-sanctions-vote-terrifies-irans-mullahs",
            "outlet": "Iran News Update",
            "date": "2017-08-03",
            "title": inu_title,
            "text": text(inu_title, s000[:-1], "Follow us on Twitter and Facebook"),
        },
        {
            "id": "ncri-us-2017-07-31-shafiee",
            "url": "https://www.ncrius.org/news/shafiee-regime-change-sanctions",
            "outlet": "NCRI US",
            "date": "2017-07-31",
            "title": ncri_title,
            "text": text(ncri_title, s000),
        },
        {
            "id": "iran-news-update-2017-07-28-senate",
            "url": "https://irannewsupdate.com/news/regime-fears-regime-change-after-senate-sanctions-vote",
            "outlet": "Iran News Update",
            "date": "2017-07-28",
            "title": senate_title,
            "text": text(senate_title, s001_body),
        },
    ]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


# --------------------------------------------------------------------------
# C. The 2020 WARC crawl
# --------------------------------------------------------------------------

NCRI_HEADLINE = "2019: The Year Iran’s Regime Became More Isolated Than Ever"
BLOG_HEADLINE = "Regime on shaky ground"


def make_ncri_article(blocks, url: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(NCRI_HEADLINE)} - NCRI</title>
<meta property="og:locale" content="en_US">
<meta property="og:type" content="article">
<meta property="og:site_name" content="NCRI">
<meta property="og:title" content="{attr(NCRI_HEADLINE)}">
<meta property="og:url" content="{url}">
<meta property="article:section" content="Iran News">
<meta property="article:published_time" content="2020-01-27T11:20:00+00:00">
<link rel="canonical" href="{url}">
<link rel="stylesheet" id="ncri-style-css" href="https://www.ncr-iran.org/en/wp-content/themes/ncri/style.css?ver=5.3.2" media="all">
<script src="https://www.ncr-iran.org/en/wp-includes/js/jquery/jquery.js?ver=1.12.4"></script>
</head>
<body class="post-template-default single single-post">
<a class="screen-reader-text skip-link" href="#content">Skip to content</a>
<header id="masthead" class="site-header">
  <div class="site-branding"><a href="https://www.ncr-iran.org/en/" rel="home">National Council of Resistance of Iran</a></div>
  <nav id="site-navigation" class="main-navigation">
    <ul id="primary-menu" class="menu">
      <li><a href="https://www.ncr-iran.org/en/">Home</a></li>
      <li><a href="https://www.ncr-iran.org/en/news/">News</a></li>
      <li><a href="https://www.ncr-iran.org/en/ncri-statements/">NCRI Statements</a></li>
      <li><a href="https://www.ncr-iran.org/en/human-rights/">Human Rights</a></li>
      <li><a href="https://www.ncr-iran.org/en/about-us/">About NCRI</a></li>
      <li><a href="https://www.ncr-iran.org/en/contact/">Contact</a></li>
    </ul>
  </nav>
</header>
<div id="content" class="site-content">
  <div id="primary" class="content-area">
    <main id="main" class="site-main">
      <article id="post-98412" class="post-98412 post type-post status-publish">
        <header class="entry-header">
          <h1 class="entry-title">{esc(NCRI_HEADLINE)}</h1>
          <div class="entry-meta">
            <span class="posted-on"><time class="entry-date published" datetime="2020-01-27T11:20:00+00:00">January 27, 2020</time></span>
            <span class="cat-links">Posted in <a href="https://www.ncr-iran.org/en/news/" rel="category tag">Iran News</a></span>
          </div>
        </header>
        <div class="entry-content">
{html_blocks(blocks)}
        </div>
        <footer class="entry-footer">
          <span class="tags-links">Tagged <a href="https://www.ncr-iran.org/en/tag/sanctions/" rel="tag">Sanctions</a>, <a href="https://www.ncr-iran.org/en/tag/iran-protests/" rel="tag">Iran Protests</a></span>
        </footer>
      </article>
      <nav class="navigation post-navigation">
        <div class="nav-previous"><a href="https://www.ncr-iran.org/en/news/iran-news-in-brief-january-26-2020/" rel="prev">Iran News in Brief – January 26, 2020</a></div>
        <div class="nav-next"><a href="https://www.ncr-iran.org/en/news/iran-news-in-brief-january-28-2020/" rel="next">Iran News in Brief – January 28, 2020</a></div>
      </nav>
    </main>
  </div>
  <aside id="secondary" class="widget-area">
    <section class="widget widget_search">
      <form role="search" method="get" action="https://www.ncr-iran.org/en/"><label>Search for: <input type="search" name="s"></label><button type="submit">Search</button></form>
    </section>
    <section class="widget widget_recent_entries">
      <h2 class="widget-title">Latest News</h2>
      <ul>
        <li><a href="https://www.ncr-iran.org/en/news/iran-news-in-brief-january-28-2020/">Iran News in Brief – January 28, 2020</a></li>
        <li><a href="https://www.ncr-iran.org/en/news/iran-news-in-brief-january-26-2020/">Iran News in Brief – January 26, 2020</a></li>
        <li><a href="https://www.ncr-iran.org/en/ncri-statements/statement-on-student-arrests/">Statement on the arrest of students in Tehran</a></li>
      </ul>
    </section>
    <section class="widget widget_text">
      <h2 class="widget-title">Follow NCRI</h2>
      <div class="textwidget"><p><a href="https://twitter.com/">Twitter</a> | <a href="https://www.facebook.com/">Facebook</a> | <a href="https://www.youtube.com/">YouTube</a></p></div>
    </section>
  </aside>
</div>
<footer id="colophon" class="site-footer">
  <div class="site-info">© 2020 National Council of Resistance of Iran. All rights reserved. | <a href="https://www.ncr-iran.org/en/privacy-policy/">Privacy Policy</a></div>
</footer>
<script src="https://www.ncr-iran.org/en/wp-includes/js/wp-embed.min.js?ver=5.3.2"></script>
</body>
</html>
"""


def make_ncri_about(url: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<title>About NCRI - NCRI</title>
<meta property="og:site_name" content="NCRI">
<meta property="og:type" content="website">
<meta property="og:title" content="About NCRI">
<link rel="canonical" href="{url}">
</head>
<body class="page-template-default page">
<header id="masthead" class="site-header">
  <div class="site-branding"><a href="https://www.ncr-iran.org/en/" rel="home">National Council of Resistance of Iran</a></div>
  <nav id="site-navigation" class="main-navigation">
    <ul class="menu">
      <li><a href="https://www.ncr-iran.org/en/">Home</a></li>
      <li><a href="https://www.ncr-iran.org/en/news/">News</a></li>
      <li><a href="https://www.ncr-iran.org/en/about-us/">About NCRI</a></li>
      <li><a href="https://www.ncr-iran.org/en/contact/">Contact</a></li>
    </ul>
  </nav>
</header>
<main id="main" class="site-main">
  <article class="page type-page">
    <h1 class="entry-title">About NCRI</h1>
    <div class="entry-content">
      <p>The National Council of Resistance of Iran is a coalition of Iranian opposition groups and individuals. This page gives a short overview of its structure, its committees and the way its members are chosen.</p>
      <p>The council works through a number of committees, each responsible for one area of policy, from foreign affairs to women's rights. Their members meet regularly and publish statements on this website.</p>
      <p>For press enquiries, please use the contact page.</p>
    </div>
  </article>
</main>
<footer id="colophon" class="site-footer">
  <div class="site-info">© 2020 National Council of Resistance of Iran. All rights reserved. | <a href="https://www.ncr-iran.org/en/privacy-policy/">Privacy Policy</a></div>
</footer>
</body>
</html>
"""


def make_blog_repost(blocks, url: str) -> str:
    return f"""<!DOCTYPE html>
<html class="v2" dir="ltr" lang="en">
<head>
<meta content="text/html; charset=UTF-8" http-equiv="Content-Type">
<meta content="blogger" name="generator">
<title>Iran Commentary: {esc(BLOG_HEADLINE)}</title>
<meta property="og:site_name" content="Iran Commentary">
<meta property="og:title" content="{attr(BLOG_HEADLINE)}">
<meta property="og:url" content="{url}">
<meta property="article:published_time" content="2020-01-29T18:42:00+00:00">
<link rel="canonical" href="{url}">
<style type="text/css">
  body {{ font: normal normal 14px Arial, Tahoma, Helvetica, FreeSans, sans-serif; }}
  .post-body {{ line-height: 1.5; }}
  .popular-posts li {{ margin-bottom: 0.8em; }}
</style>
</head>
<body class="loading">
<div class="header-outer">
  <div class="Header" id="Header1">
    <h1 class="title"><a href="https://iran-commentary.blogspot.com/">Iran Commentary</a></h1>
    <p class="description">Opinion and news about Iran, collected from around the web.</p>
  </div>
</div>
<div class="main-outer">
  <div class="main-inner">
    <div class="blog-posts hfeed">
      <div class="date-outer">
        <h2 class="date-header"><span>Wednesday, January 29, 2020</span></h2>
        <div class="post hentry">
          <h3 class="post-title entry-title">{esc(BLOG_HEADLINE)}</h3>
          <div class="post-header"><span class="post-author vcard">Posted by <span class="fn">Iran Commentary</span></span></div>
          <div class="post-body entry-content" id="post-body-4417260815522">
{html_blocks(blocks, indent="            ")}
          </div>
          <div class="post-footer">
            <span class="post-timestamp">at <abbr class="published" title="2020-01-29T18:42:00+00:00">6:42 PM</abbr></span>
            <span class="post-labels">Labels: <a href="https://iran-commentary.blogspot.com/search/label/Iran" rel="tag">Iran</a>, <a href="https://iran-commentary.blogspot.com/search/label/Sanctions" rel="tag">Sanctions</a></span>
            <div class="post-share-buttons"><a href="#" class="share-button">Email This</a> <a href="#" class="share-button">BlogThis!</a> <a href="#" class="share-button">Share to Twitter</a> <a href="#" class="share-button">Share to Facebook</a></div>
          </div>
        </div>
      </div>
      <div class="comments" id="comments">
        <h4>2 comments:</h4>
        <div class="comment-block">
          <p class="comment-header"><cite class="user">Anonymous</cite> <span class="datetime">January 30, 2020 at 9:15 AM</span></p>
          <p class="comment-content">Thanks for putting this together in one place. The list of events in the second half is useful.</p>
        </div>
        <div class="comment-block">
          <p class="comment-header"><cite class="user">Reza T.</cite> <span class="datetime">February 2, 2020 at 11:03 PM</span></p>
          <p class="comment-content">Let us hope the Europeans keep their word this time.</p>
        </div>
        <p class="comment-footer"><a href="https://www.blogger.com/comment.g?blogID=1" >Post a Comment</a></p>
      </div>
      <div class="blog-pager" id="blog-pager">
        <a class="blog-pager-newer-link" href="https://iran-commentary.blogspot.com/2020/02/">Newer Post</a>
        <a class="blog-pager-older-link" href="https://iran-commentary.blogspot.com/2020/01/">Older Post</a>
        <a class="home-link" href="https://iran-commentary.blogspot.com/">Home</a>
      </div>
    </div>
  </div>
  <div class="sidebar section" id="sidebar-right-1">
    <div class="widget PopularPosts" id="PopularPosts1">
      <h2>Popular Posts</h2>
      <div class="widget-content popular-posts">
        <ul>
          <li><div class="item-title"><a href="https://iran-commentary.blogspot.com/2019/11/fuel-price-protests.html">Fuel price protests spread across the country</a></div><div class="item-snippet">Within two days of the overnight price rise, crowds had gathered in more than a hundred towns and cities ...</div></li>
          <li><div class="item-title"><a href="https://iran-commentary.blogspot.com/2019/12/internet-shutdown.html">A week without the internet</a></div><div class="item-snippet">When the connection came back, the first videos showed what had happened while the country was cut off ...</div></li>
          <li><div class="item-title"><a href="https://iran-commentary.blogspot.com/2020/01/airliner.html">The airliner and the three days of denial</a></div><div class="item-snippet">For three days officials insisted that a technical fault had brought the plane down ...</div></li>
        </ul>
      </div>
    </div>
    <div class="widget BlogArchive" id="BlogArchive1">
      <h2>Blog Archive</h2>
      <ul><li><a href="https://iran-commentary.blogspot.com/2020/">2020</a> (14)</li><li><a href="https://iran-commentary.blogspot.com/2019/">2019</a> (131)</li></ul>
    </div>
  </div>
</div>
<div class="footer-outer"><p>Powered by <a href="https://www.blogger.com">Blogger</a>.</p></div>
</body>
</html>
"""


def tiny_png() -> bytes:
    """A valid 1x1 RGB PNG (a few bytes: the non-HTML record in the crawl)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\x0b\x3d\x2e", 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# Response records in file order; numbering (#1..#4) counts response records only.
BLOG_URL = "https://iran-commentary.blogspot.com/2020/01/regime-on-shaky-ground.html"
NCRI_URL = "https://www.ncr-iran.org/en/news/iran-regime-isolation-2019"
NCRI_ABOUT_URL = "https://www.ncr-iran.org/en/about-us/"
PNG_URL = "https://www.ncr-iran.org/en/wp-content/uploads/2020/01/ncri-logo-32.png"


def http_date(warc_date: str) -> str:
    # Only the dates used below; avoids any dependence on locale or clock.
    m = re.fullmatch(r"2020-02-15T(\d\d):(\d\d):(\d\d)Z", warc_date)
    assert m is not None
    return f"Sat, 15 Feb 2020 {m.group(1)}:{m.group(2)}:{m.group(3)} GMT"


def make_warc(blocks002) -> bytes:
    pages = [
        # The blog repost is crawled first on purpose: crawl order and WARC-Date
        # are not publication evidence.
        (BLOG_URL, "2020-02-15T12:00:00Z", "text/html; charset=utf-8",
         make_blog_repost(blocks002, BLOG_URL).encode("utf-8"), "GSE"),
        (NCRI_URL, "2020-02-15T12:00:41Z", "text/html; charset=utf-8",
         make_ncri_article(blocks002, NCRI_URL).encode("utf-8"), "nginx"),
        (NCRI_ABOUT_URL, "2020-02-15T12:00:43Z", "text/html; charset=utf-8",
         make_ncri_about(NCRI_ABOUT_URL).encode("utf-8"), "nginx"),
        (PNG_URL, "2020-02-15T12:00:44Z", "image/png", tiny_png(), "nginx"),
    ]
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    info = (
        "software: provenance samples/make_samples.py\r\n"
        "format: WARC File Format 1.0\r\n"
        "conformsTo: http://bibnum.bnf.fr/WARC/WARC_ISO_28500_version1_latestdraft.pdf\r\n"
        "isPartOf: network-2020\r\n"
        "description: Demo crawl of three pages and one image, 15 February 2020\r\n"
        "robots: obey\r\n"
        "http-header-user-agent: Mozilla/5.0 (compatible; provenance-demo-crawler/0.1)\r\n"
    ).encode("utf-8")
    warcinfo = writer.create_warc_record(
        "",
        "warcinfo",
        payload=io.BytesIO(info),
        length=len(info),
        warc_content_type="application/warc-fields",
        warc_headers_dict={
            "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(RECORD_NS, 'warcinfo')}>",
            "WARC-Date": "2020-02-15T11:59:58Z",
            "WARC-Filename": "network-2020.warc.gz",
        },
    )
    writer.write_record(warcinfo)
    for url, date, ctype, body, server in pages:
        http_headers = StatusAndHeaders(
            "200 OK",
            [
                ("Server", server),
                ("Date", http_date(date)),
                ("Content-Type", ctype),
                ("Content-Length", str(len(body))),
                ("Connection", "close"),
            ],
            protocol="HTTP/1.1",
        )
        record = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http_headers,
            warc_headers_dict={
                "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(RECORD_NS, url)}>",
                "WARC-Date": date,
                "WARC-Warcinfo-ID": f"<urn:uuid:{uuid.uuid5(RECORD_NS, 'warcinfo')}>",
            },
        )
        writer.write_record(record)
    return buf.getvalue()


# --------------------------------------------------------------------------
# D. Persian Voices repost (undecidable)
# --------------------------------------------------------------------------


def make_persian_voices(headline: str, body: list[str]) -> str:
    lines = [headline, ""]
    for para in body:
        lines += [para, ""]
    lines += ["Share this post", "Facebook  Twitter  Email", "", "Comments (0)", "", "Leave a reply"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# E. Weekly digest round-up with three quoted passages
# --------------------------------------------------------------------------

DIGEST_DATE = "2017-12-23"
DIGEST_TITLE = "Weekly digest: sanctions, a second term and a summer of rallies"

DIGEST_INTRO = [
    "Welcome to this week’s digest, our Saturday selection of the commentary that caught our editors’ "
    "attention. It has been a busy seven days. Congress sent its sanctions package to the White House, "
    "the president signed it on Wednesday, and in Tehran Hassan Rouhani is being sworn in for a second "
    "term this weekend. Below we have picked three passages that, in our view, capture the mood among "
    "Iranian exiles and their Western friends, with a few words of our own around each of them.",
    "We begin with the opposition’s rally near Paris at the start of July, which many of the writers we "
    "read this week still treat as a turning point. American guests on the stage were unusually blunt "
    "about what they expect from Washington, as this report makes clear:",
]
DIGEST_MIDDLE_1 = [
    "Whether remarks like these reflect the thinking of the administration is another matter. Former "
    "officials and retired politicians can say things that a serving diplomat would never put on paper, "
    "and several readers wrote in to remind us that the State Department has so far avoided any formal "
    "commitment. Still, the tone in Washington has plainly hardened since the spring.",
    "That hardening is the theme of our second pick, a column arguing that the hopes once placed in the "
    "so-called moderates have already run out:",
]
DIGEST_MIDDLE_2 = [
    "It is a fair point, if not a new one. Nearly every Iranian election of the last twenty years has been "
    "greeted by a burst of Western optimism and, a few months later, by disappointment. What is different "
    "this time is that the disappointment arrived before the inauguration ceremony had even been held.",
    "Our last passage looks away from the capitals and asks what ordinary Iranians are doing about their "
    "situation. Its author is convinced that the street, not the negotiating table, will decide what "
    "comes next:",
]
DIGEST_OUTRO = [
    "That is all for this week. As always, the opinions in the pieces we quote belong to their authors, "
    "and we are glad to receive corrections and suggestions for future editions. Write to us through the "
    "contact page, or simply reply to the newsletter if it reaches you by email. We will be back next "
    "Saturday.",
]


def make_digest(s000: list[str], s001_body: list[str], blocks004) -> str:
    i = find_para(s001_body, "“I’m happiest to be here because")
    expect(s001_body[i + 1].startswith("“we’re behind you,"), "seed 001 Giuliani second paragraph")
    quote1 = s001_body[i : i + 2]
    quote2 = [s000[find_para(s000, "Shafiee wrote: “Some in the West were falsely led")]]
    paras004 = [t for _, t in blocks004]
    quote3 = [paras004[find_para(paras004, "The number one concern for Iran is the rising levels of protests")]]

    def ps(paras: list[str], indent: str = "        ") -> str:
        return "\n".join(f"{indent}<p>{esc(p)}</p>" for p in paras)

    def quote(paras: list[str], credit: str) -> str:
        return (
            f"        <blockquote>\n{ps(paras, '          ')}\n        </blockquote>\n"
            f'        <p class="credit">{esc(credit)}</p>'
        )

    url = "https://www.iranweeklydigest.com/2017/12/23/weekly-digest-sanctions-second-term-rallies/"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{esc(DIGEST_TITLE)} – Iran Weekly Digest</title>
  <meta property="og:site_name" content="Iran Weekly Digest">
  <meta property="og:type" content="article">
  <meta property="og:title" content="{attr(DIGEST_TITLE)}">
  <meta property="og:url" content="{url}">
  <meta property="article:published_time" content="{DIGEST_DATE}T07:00:00+00:00">
  <link rel="canonical" href="{url}">
  <link rel="stylesheet" href="/wp-content/themes/digest/style.css">
</head>
<body class="single-post">
  <header class="site-header">
    <p class="site-title"><a href="/">Iran Weekly Digest</a></p>
    <nav class="primary-menu">
      <ul>
        <li><a href="/">Home</a></li>
        <li><a href="/category/digest/">Digests</a></li>
        <li><a href="/category/analysis/">Analysis</a></li>
        <li><a href="/newsletter/">Newsletter</a></li>
        <li><a href="/contact/">Contact</a></li>
      </ul>
    </nav>
  </header>
  <main>
    <article class="post">
      <h1 class="entry-title">{esc(DIGEST_TITLE)}</h1>
      <p class="entry-meta">Posted on <time datetime="{DIGEST_DATE}T07:00:00+00:00">December 23, 2017</time> by <span class="author">The editors</span></p>
      <div class="entry-content">
{ps(DIGEST_INTRO)}
{quote(quote1, "Originally published by Iran News Update")}
{ps(DIGEST_MIDDLE_1)}
{quote(quote2, "Source: NCRI US")}
{ps(DIGEST_MIDDLE_2)}
{quote(quote3, "This article first appeared in Iran Focus")}
{ps(DIGEST_OUTRO)}
      </div>
    </article>
    <aside class="related-posts">
      <h2>Related posts</h2>
      <ul>
        <li><a href="/2017/07/29/weekly-digest-senate-vote/">Weekly digest: the Senate vote and what comes next</a></li>
        <li><a href="/2017/07/22/weekly-digest-election-aftermath/">Weekly digest: the long tail of the May election</a></li>
        <li><a href="/2017/07/15/weekly-digest-paris-rally/">Weekly digest: voices from the Paris rally</a></li>
      </ul>
    </aside>
  </main>
  <footer class="site-footer">
    <p>© 2017 Iran Weekly Digest. Quoted material belongs to its original publishers.</p>
    <p><a href="/privacy/">Privacy</a> | <a href="/about/">About</a></p>
  </footer>
</body>
</html>
"""


def digest_own_words() -> int:
    return sum(len(p.split()) for p in DIGEST_INTRO + DIGEST_MIDDLE_1 + DIGEST_MIDDLE_2 + DIGEST_OUTRO)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def build() -> None:
    s000 = seed000()
    _, s001_body = seed001()
    blocks002 = seed002()
    headline003, body003 = seed003()
    blocks004 = seed004()
    expect(digest_own_words() >= 250, "digest must carry at least 250 words of its own")

    write_text(OUT_IRANFOCUS, make_iranfocus(blocks004))
    write_text(OUT_FREE_IRAN_NOW, make_free_iran_now(blocks004, s001_body))
    write_text(OUT_FREE_IRAN_NOW_ABOUT, ABOUT_FREE_IRAN_NOW, encoding="cp1252")
    write_text(OUT_JSONL, make_jsonl(s000, s001_body))
    warc_path = HERE / OUT_WARC
    warc_path.parent.mkdir(parents=True, exist_ok=True)
    warc_path.write_bytes(make_warc(blocks002))
    write_text(OUT_PERSIAN_VOICES, make_persian_voices(headline003, body003))
    write_text(OUT_DIGEST, make_digest(s000, s001_body, blocks004))


def check() -> None:
    """Read every output back the way the tool will, and list the corpus."""
    from bs4 import BeautifulSoup
    from warcio.archiveiterator import ArchiveIterator

    n_response = 0
    with open(HERE / OUT_WARC, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "response":
                n_response += 1
                ctype = record.http_headers.get_header("Content-Type")
                payload = record.content_stream().read()
                if ctype.startswith("text/html"):
                    BeautifulSoup(payload.decode("utf-8"), "html.parser")
                print(f"  {OUT_WARC}#{n_response}: {ctype:28} {record.rec_headers.get_header('WARC-Target-URI')}")
    assert n_response == 4

    with open(HERE / OUT_JSONL, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            assert list(rec) == ["id", "url", "outlet", "date", "title", "text"], rec.keys()
            print(f"  {OUT_JSONL}#{rec['id']}")

    for rel in (OUT_IRANFOCUS, OUT_DIGEST):
        soup = BeautifulSoup((HERE / rel).read_text(encoding="utf-8"), "html.parser")
        assert soup.find("meta", property="og:site_name") is not None, rel

    raw = (HERE / OUT_FREE_IRAN_NOW_ABOUT).read_bytes()
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - optional check
        print("  (charset-normalizer not installed: cp1252 detection not checked)")
    else:
        best = from_bytes(raw).best()
        assert best is not None and str(best) == ABOUT_FREE_IRAN_NOW, best and best.encoding
        print(f"  {OUT_FREE_IRAN_NOW_ABOUT}: detected as {best.encoding}, decodes correctly")

    print("files:")
    for path in sorted(p for p in HERE.rglob("*") if p.is_file() and p.name != "make_samples.py"):
        print(f"  {path.stat().st_size:8d}  {path.relative_to(HERE)}")


if __name__ == "__main__":
    build()
    check()
