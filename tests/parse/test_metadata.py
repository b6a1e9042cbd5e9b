"""Page metadata: meta tags, JSON-LD, <time>, bylines, and what a page without them gives."""
from __future__ import annotations

import json
import time

import pytest

import boilerclf
from boilerclf.batch.render import render
from boilerclf.parse.metadata import Metadata, byline_author, iso_date, ld_fields, strip_site_name

BODY = """<body><header><nav><a href="/">Home</a> <a href="/news">News</a></nav></header>
<article><h1>{h1}</h1>{byline}
<p>The council met on Tuesday evening and voted to approve the riverside park plan after a
long and heated debate that lasted more than two years and involved many residents.</p>
<p>Construction is planned to begin in the spring, and the park should open the following
summer, the mayor said in a statement released after the vote.</p></article>
<footer>Copyright 2026 Example News</footer></body>"""


def page(head: str, h1: str = "Council approves riverside park", byline: str = "", lang: str = "en") -> str:
    return f'<html lang="{lang}"><head>{head}</head>' + BODY.format(h1=h1, byline=byline) + "</html>"


META_TAGS = """<title>Council approves riverside park | Example News</title>
<meta property="og:title" content="Council approves riverside park">
<meta property="og:site_name" content="Example News">
<meta name="author" content="Maria Lopez">
<meta property="article:published_time" content="2026-03-14T09:30:00+01:00">
<meta property="og:url" content="https://news.example/park">
<link rel="canonical" href="https://news.example/2026/03/14/park">"""


def test_meta_tags_give_every_field():
    m = boilerclf.classify(page(META_TAGS)).metadata
    assert m == Metadata(title="Council approves riverside park", author="Maria Lopez", date="2026-03-14",
                         site_name="Example News", language="en", url="https://news.example/2026/03/14/park")
    assert m.as_dict()["date"] == "2026-03-14"
    with pytest.raises(AttributeError):  # frozen
        m.author = "someone else"  # type: ignore[misc]


GRAPH = {"@context": "https://schema.org", "@graph": [
    {"@type": "WebSite", "name": "Garden Weekly"},
    {"@type": "WebPage", "name": "Spring bulbs | Garden Weekly", "inLanguage": "en-GB"},
    {"@type": ["NewsArticle"], "headline": "Plant spring bulbs now",
     "author": [{"@type": "Person", "name": "Ann Green"}, {"@type": "Person", "name": "Bo Stone"}],
     "datePublished": "2025-10-02T08:00:00Z", "dateModified": "2025-11-01",
     "publisher": {"@type": "Organization", "name": "Garden Weekly Ltd"}}]}


def test_json_ld_graph_with_an_author_list():
    head = f'<script type="application/ld+json">{json.dumps(GRAPH)}</script>'
    m = boilerclf.classify(page(head, lang="")).metadata
    assert m.author == "Ann Green; Bo Stone"
    assert m.date == "2025-10-02"  # published, not modified
    assert m.site_name == "Garden Weekly Ltd"  # the article's publisher
    assert m.language == "en-GB"  # no <html lang>: the JSON-LD's
    fields = ld_fields((json.dumps(GRAPH),))
    assert fields["title"] == "Plant spring bulbs now"


@pytest.mark.parametrize("author, want", [
    ("Jane Doe", "Jane Doe"),
    ({"@type": "Person", "name": "Jane Doe"}, "Jane Doe"),
    ([{"name": "Jane Doe"}, "John Roe", {"name": "Jane Doe"}], "Jane Doe; John Roe"),
    ({"givenName": "Jane", "familyName": "Doe"}, "Jane Doe"),
    ("https://example.com/authors/jane", ""),
])
def test_json_ld_author_forms(author, want):
    doc = {"@context": "https://schema.org", "@type": "BlogPosting", "headline": "H", "author": author}
    assert ld_fields((json.dumps(doc),)).get("author", "") == want


def test_time_element_gives_the_date():
    m = boilerclf.classify(page("<title>T</title>",
                                byline='<p>Posted <time datetime="2024-02-29T10:00">Feb 29</time></p>')).metadata
    assert m.date == "2024-02-29"


@pytest.mark.parametrize("line, author", [
    ("By Jane Doe", "Jane Doe"),
    ("By Jane Doe and John Roe | March 3, 2025", "Jane Doe; John Roe"),
    ("Von Hans Müller, 3. März 2025", "Hans Müller"),
    ("Par Claire Dubois le 4 avril 2025", "Claire Dubois"),
    ("By the way, this is a sentence about something else entirely", ""),
    ("Byzantine art of the fourth century", ""),
])
def test_byline_author(line, author):
    assert byline_author(line) == author


def test_byline_line_near_the_headline_gives_author_and_date():
    html = page("<title>Council approves riverside park</title>",
                byline="<p>By Jane Doe | March 3, 2025</p>")
    m = boilerclf.classify(html).metadata
    assert (m.author, m.date) == ("Jane Doe", "2025-03-03")
    assert m.site_name == "" and m.url == ""


def test_meta_author_that_is_the_site_name_yields_to_the_byline():
    head = ('<meta property="og:site_name" content="Example News">'
            '<meta name="author" content="Example News">')
    m = boilerclf.classify(page(head, byline="<p>By Jane Doe</p>")).metadata
    assert m.author == "Jane Doe"


def test_missing_everything():
    m = boilerclf.classify("<html><body><p>" + "Some words here. " * 20 + "</p></body></html>").metadata
    assert (m.author, m.date, m.site_name, m.language, m.url) == ("", "", "", "", "")
    assert boilerclf.classify("<html></html>").metadata == Metadata()


def test_text_page_has_its_title_only():
    r = boilerclf.classify("A plain title\n\nBy Jane Doe\n\n" + "A sentence of the body. " * 20, kind="text")
    assert r.metadata == Metadata(title=r.title) and r.title


@pytest.mark.parametrize("value, want", [
    ("2025-09-04T10:00:00+00:00", "2025-09-04"), ("2025/9/4", "2025-09-04"), ("20250904", "2025-09-04"),
    ("September 4, 2025", "2025-09-04"), ("4 Sept. 2025", "2025-09-04"), ("4. März 2025", "2025-03-04"),
    ("2025-13-40", ""), ("no date here", ""),
])
def test_iso_date(value, want):
    assert iso_date(value) == want


def test_iso_date_numeric_shown_dates():
    assert iso_date("Updated 04.09.2025", text=True) == "2025-09-04"  # day first
    assert iso_date("09/04/2025", text=True) == "2025-09-04"  # month first with slashes
    assert iso_date("04.09.2025") == ""  # not read from markup values


def test_malformed_and_hostile_json_ld_do_not_break_the_page():
    bad = [
        '{"@type": "Article", "headline": "Broken", "author": {"name": "X"',  # cut
        "[" * 100_000 + "]" * 100_000,  # deep nesting
        '{"@type": "Article", "author": "' + "A" * 5_000_000 + '"}',  # longer than the cap: skipped
        '{"@type": "Article", "headline": 12, "author": [null, 3, {"name": ["Al", {"name": "Bo"}]}]}',
        "<!-- " + json.dumps({"@type": "Article", "author": "Cy Young", "datePublished": "2020-01-02"}) + " -->",
    ]
    head = "".join(f'<script type="application/ld+json">{b}</script>' for b in bad)
    head += '<meta name="author" content="' + "Z" * 100_000 + '">'
    t0 = time.perf_counter()
    m = boilerclf.classify(page(head)).metadata
    assert time.perf_counter() - t0 < 10
    assert m.author == "Al; Bo"  # the fourth script's, the others skipped
    assert m.date == "2020-01-02"  # the commented-out one parses too
    assert all(len(v) <= 2000 for v in m.as_dict().values())


def test_jsonl_record_carries_the_metadata_and_keeps_its_keys():
    r = boilerclf.classify(page(META_TAGS))
    rec = render(r, ("p1", "https://news.example/park", "in.html"), "record", False)[0]
    assert rec["metadata"] == {"title": "Council approves riverside park", "author": "Maria Lopez",
                               "date": "2026-03-14", "site_name": "Example News", "language": "en",
                               "url": "https://news.example/2026/03/14/park"}
    assert {"id", "url", "source", "title", "page_type", "text", "counts", "truncated"} <= set(rec)
    line = render(r, ("p1", None, None), "jsonl", False)[0]
    assert json.loads(line)["metadata"]["author"] == "Maria Lopez"


def test_metadata_is_read_once_and_the_source_let_go():
    ex = boilerclf.Extractor()
    lines = ex.lines(page(META_TAGS))
    r = ex.classify_lines([lines])[0]
    assert lines.source is None  # the JSON-LD was read with the page's types
    assert r.metadata is r.metadata


def test_title_from_the_markup_when_the_headline_is_no_h1():
    html = ('<html><head><title>Ignored</title><meta property="og:title" content="Opening hours | City Library">'
            '<meta property="og:site_name" content="City Library"></head><body>'
            '<h2>Opening hours</h2><p>' + "We are open every weekday from nine to five. " * 8 + "</p></body></html>")
    r = boilerclf.classify(html)
    assert r.lines[r.headline].tag == "h2"
    assert r.metadata.title == "Opening hours"  # og:title without the site name
    assert strip_site_name("Plant bulbs now - Garden Weekly", "Garden Weekly") == "Plant bulbs now"
    assert strip_site_name("A long headline here | Site") == "A long headline here"
    assert strip_site_name("No separator") == "No separator"


def test_a_head_of_many_tags_is_read_only_so_far():
    from boilerclf.parse.metadata import MAX_HEAD_NODES

    filler = '<meta name="x" content="y">' * (MAX_HEAD_NODES + 10)
    late = '<meta name="author" content="Too Late">'
    m = boilerclf.classify(page('<meta name="author" content="Early Bird">' + filler + late)).metadata
    assert m.author == "Early Bird"
    m = boilerclf.classify(page(filler + late)).metadata
    assert m.author == ""  # past the bound: not read
