"""Boilerplate phrases in every language file: each language's furniture goes, its prose stays."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from provenance.clean import clean_document
from provenance.dates import find_dates
from provenance.htmltext import parse_html
from provenance.lang import load_languages
from provenance.records import Document

# (language, skip link, comments heading, teaser heading, share line, cookie line, body, a date)
CASES = [
    ("en", "Skip to main content", "Leave a reply", "You may also like", "Share on Facebook Tweet Email",
     "This website uses cookies to improve your experience.",
     "The council met on Tuesday and agreed a new budget for the schools of the district after a long debate.",
     ("19 December 2017", "2017-12-19")),
    ("fr", "Aller au contenu principal", "Laisser un commentaire", "Articles similaires", "Partager sur Facebook",
     "Nous utilisons des cookies pour améliorer votre expérience.",
     "Le conseil s'est réuni mardi et a adopté un nouveau budget pour les écoles du district après un long débat.",
     ("19 décembre 2017", "2017-12-19")),
    ("de", "Zum Inhalt springen", "Kommentar schreiben", "Das könnte Sie auch interessieren", "Auf Facebook teilen",
     "Diese Website verwendet Cookies, um Ihr Erlebnis zu verbessern.",
     "Der Rat trat am Dienstag zusammen und beschloss nach langer Debatte einen neuen Haushalt für die Schulen.",
     ("19. Dezember 2017", "2017-12-19")),
    ("es", "Saltar al contenido principal", "Deja un comentario", "Artículos relacionados", "Compartir en Facebook",
     "Este sitio web utiliza cookies para mejorar su experiencia.",
     "El consejo se reunió el martes y aprobó un nuevo presupuesto para las escuelas del distrito tras un largo debate.",
     ("19 de diciembre de 2017", "2017-12-19")),
    ("fa", "رفتن به محتوای اصلی", "ارسال نظر", "مطالب مرتبط", "اشتراک گذاری در تلگرام",
     "این سایت از کوکی ها استفاده می کند.",
     "شورا روز سه‌شنبه تشکیل جلسه داد و پس از بحثی طولانی بودجه تازه‌ای برای مدرسه‌های منطقه تصویب کرد.",
     ("19 دسامبر 2017", "2017-12-19")),
]


def _text(skip: str, comments: str, teaser: str, share: str, cookie: str, body: str) -> str:
    return "\n".join([skip, cookie, body, body, share, teaser, "Item one of the list", "Item two of the list",
                      "", comments, ""])


@pytest.mark.parametrize(("lang", "skip", "comments", "teaser", "share", "cookie", "body", "date"), CASES)
def test_each_language_plain_text(lang: str, skip: str, comments: str, teaser: str, share: str,
                                  cookie: str, body: str, date: tuple[str, str]) -> None:
    doc = Document(id=f"{lang}.txt", path=f"{lang}.txt", text=_text(skip, comments, teaser, share, cookie, body),
                   kind="text")
    clean = clean_document(doc)
    reasons = {doc.text[r.start:r.end].splitlines()[0]: r.reason for r in clean.removed}
    assert reasons[skip] == "skip-link"
    assert reasons[cookie] == "cookie"
    assert reasons[share] == "share"
    assert reasons[teaser] == "teaser-list"
    assert reasons[comments] == "comments"
    assert "Item one of the list" not in clean.text  # the teaser heading took its list
    assert clean.text.count(body) == 2


@pytest.mark.parametrize(("lang", "skip", "comments", "teaser", "share", "cookie", "body", "date"), CASES)
def test_each_language_dates(lang: str, skip: str, comments: str, teaser: str, share: str,
                             cookie: str, body: str, date: tuple[str, str]) -> None:
    written, iso = date
    assert [d for d, _, _ in find_dates(f"x {written} y")] == [iso]


def test_language_class_words_in_html() -> None:
    body = "Der Rat trat am Dienstag zusammen und beschloss nach langer Debatte einen neuen Haushalt. " * 3
    html = (f"<html><body><article><p>{body}</p></article>"
            "<div class='kommentare'><p>Sehr guter Artikel, danke dafür an die Redaktion!</p></div>"
            "<div class='compartir-botones'><p>Compartir este artículo con sus amigos</p></div></body></html>")
    page = parse_html(html)
    clean = clean_document(Document(id="d.html", path="d.html", text=page.text, kind="html", blocks=page.blocks))
    reasons = {clean.doc.text[r.start:r.end].strip(): r.reason for r in clean.removed}
    assert reasons["Sehr guter Artikel, danke dafür an die Redaktion!"] == "comments"
    assert reasons["Compartir este artículo con sus amigos"] == "share"
    assert body.strip() in clean.text


def test_every_language_file_is_well_formed() -> None:
    folder = resources.files("provenance").joinpath("data/lang")
    codes = sorted(f.name.removesuffix(".json") for f in folder.iterdir() if f.name.endswith(".json"))
    assert {"en", "fr", "de", "es", "fa"} <= set(codes)
    # the reasons --keep accepts; advert and byline are named by class words too
    known = {"skip-link", "comments", "teaser-list", "share", "subscribe", "cookie", "navigation", "tags", "legal",
             "caption", "advert", "byline"}
    for code in codes:
        data = json.loads(folder.joinpath(f"{code}.json").read_text("utf-8"))
        assert set(data["phrases"]) <= known, code
        assert all(1 <= m <= 12 for m in data["months"].values()), code
    assert load_languages().codes == codes
