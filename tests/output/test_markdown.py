"""Markdown of the kept lines (Result.markdown): the structure of real-looking pages."""
from __future__ import annotations

from pathlib import Path

import pytest

import boilerclf
from boilerclf import Extractor, Line, Result
from boilerclf.output.blocks import safe_url
from boilerclf.parse import html as html_mod
from boilerclf.parse.structure import line_markup

FIXTURES = Path(__file__).parent.parent / "fixtures"

ARTICLE_MD = """\
River Data Office

- Home
- Stations
- About

By Ana Ribeiro, 3 March 2026

River flow is measured at gauging stations along the main channel, and reported as `flow_m3s` values every \
fifteen minutes.

A measuring weir near the old mill.

## The stations

| Station | Mean flow (m³/s) | Sensor |
| --- | --- | --- |
| Upper mill | 12.4 | Weir \\| gauge |
| Lower bridge | 18.9 | Radar |

## Reading the data

The files are plain CSV. A small script reads them:

```python
import csv

def mean_flow(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return sum(float(r["flow"]) for r in rows) / len(rows)
```

> Flow data are provisional until the hydrology team has checked them.
>
> Checked data replace them within a month.

What to check before using the numbers:

1. The station was running.
   - Look at the status log.
   - Compare with the neighbouring station.
2. The rating curve is current.

Questions? Write to us or read the answers below.

© 2026 River Data Office. All rights reserved."""

DOCS_MD = """\
- Overview
- Install
- API

`read_gauge(station, *, since=None)`

Read the readings of one gauging station, newest last.

## Parameters

| Name | Type | Meaning |
| --- | --- | --- |
| `station` | str | The station's code, as in `UPM-01`. |
| `since` | datetime \\| None | The first reading to return. |

## Example

```python
from tidepool import read_gauge
for r in read_gauge("UPM-01"):
    print(r.time, r.level)
```

### Notes

- Readings are in UTC.
- Missing readings are `None`, never `0`.

See also write_gauge and the format spec.

© 2026 Tidepool developers. Built with Sphinx."""


def page(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def every_line(name: str, **kw) -> Result:
    """The page with every line kept (threshold 0): the structure alone is tested."""
    return Extractor(threshold=0, **kw).classify(page(name))


def keep_only(r: Result, keep) -> Result:
    for ln in r.lines:
        ln.label = ln.label and bool(keep(ln.text))
    return r


def test_article_every_line():
    r = every_line("river_article.html")
    assert r.markdown == ARTICLE_MD


def test_documentation_page_every_line():
    assert every_line("api_docs.html").markdown == DOCS_MD


def test_links_and_images_when_asked():
    r = every_line("river_article.html", links=True, images=True)
    md = r.markdown
    # relative addresses resolved against the canonical address; images before their caption
    assert "River flow is measured at [gauging stations](https://rivers.example.org/stations) along" in md
    assert ("![A weir on the river](https://rivers.example.org/img/weir.jpg)\n\n"
            "A measuring weir near the old mill.") in md
    assert "- [Home](https://rivers.example.org/)\n- [Stations](https://rivers.example.org/stations)" in md
    # javascript: and in-page anchors keep their text only
    assert "Questions? Write to us or read the answers below." in md
    assert "javascript" not in md and "](#" not in md
    # the options can be given per call too, and are off by default
    assert r.to_markdown(links=False, images=False) == ARTICLE_MD
    assert every_line("river_article.html").to_markdown(links=True).count("](https://") == 5


def test_docs_links():
    md = every_line("api_docs.html", links=True).markdown
    assert "- [Overview](index.html)" in md  # no base address: left relative
    assert "See also [write_gauge](write_gauge.html) and the [format spec](https://example.org/spec.pdf)." in md


def test_only_kept_lines():
    r = every_line("river_article.html")
    dropped = {"River Data Office", "Home", "Stations", "About", "Sensor", "Weir | gauge", "Lower bridge",
               "Look at the status log.", "Checked data replace them within a month.",
               "© 2026 River Data Office. All rights reserved."}
    md = keep_only(r, lambda t: t not in dropped).markdown
    assert md.startswith("By Ana Ribeiro, 3 March 2026\n\n")
    assert md.endswith("Questions? Write to us or read the answers below.")
    # a table shows its kept cells in their columns
    assert ("| Station | Mean flow (m³/s) |  |\n| --- | --- | --- |\n| Upper mill | 12.4 |  |\n"
            "|  | 18.9 | Radar |") in md
    assert "> Flow data are provisional until the hydrology team has checked them.\n\nWhat" in md
    assert ("1. The station was running.\n   - Compare with the neighbouring station.\n"
            "2. The rating curve is current.") in md
    for t in dropped:
        assert t not in md


def test_shipped_model_drops_navigation():
    md = boilerclf.classify(page("river_article.html")).markdown
    assert "| Upper mill | 12.4 |" in md and "```python\nimport csv\n" in md
    assert "- Home" not in md and "All rights reserved" not in md
    assert "injected" not in md and "dataLayer" not in md


def test_headline_with_include_title():
    r = Extractor(threshold=0, include_title=True).classify(page("river_article.html"))
    assert "\n\n# How we measure river flow\n\nBy Ana Ribeiro" in r.markdown


def test_text_is_unchanged_by_markdown():
    r = every_line("river_article.html")
    text = r.text
    assert r.markdown and r.html
    assert r.text == text == Extractor(threshold=0).extract(page("river_article.html"))


@pytest.mark.parametrize("name", ["river_article.html", "api_docs.html", "library.html", "lighthouse.html",
                                  "news_page.html"])
def test_markup_walk_gives_the_same_lines(name):
    lines = html_mod.html_lines(page(name))
    got = line_markup(lines.texts, lines.source)
    assert got is not None and len(got[0]) == len(lines)


def test_markup_walk_with_node_cap_and_noscript():
    html = page("river_article.html")
    r = Extractor(threshold=0, max_nodes=60).classify(html)
    assert r.truncated and r.markdown.endswith("| Station | Mean flow (m³/s) | Sensor |\n| --- | --- | --- |\n"
                                               "| Upper mill |  |  |")  # the same cap: the same lines
    # a page that shows its text in noscript only (the walk keeps it, so does the markdown)
    ns = ("<html><body><div id='app'></div><noscript><h2>Reading list</h2><ul><li>First book on the list"
          "</li><li>Second book</li></ul></noscript></body></html>")
    assert Extractor(threshold=0).classify(ns).markdown == "## Reading list\n\n- First book on the list\n- Second book"


def test_lists_numbering_and_nesting():
    html = ("<html><body><ol start='3'><li>Third step of the recipe</li><li>Fourth step<ol><li>Sub one</li>"
            "<li>Sub two</li></ol></li></ol><ul><li><p>Loose item one.</p><p>More of it.</p></li>"
            "<li><p>Loose item two.</p></li></ul></body></html>")
    md = Extractor(threshold=0).classify(html).markdown
    assert md == ("3. Third step of the recipe\n4. Fourth step\n   1. Sub one\n   2. Sub two\n\n"
                  "- Loose item one.\n\n  More of it.\n\n- Loose item two.")


def test_layout_table_is_not_a_table():
    html = ("<html><body><table><tr><td><h2>Welcome</h2><p>Our shop sells old maps and prints.</p></td>"
            "<td><p>Opening hours are nine to five.</p></td></tr></table></body></html>")
    md = Extractor(threshold=0).classify(html).markdown
    assert md == "## Welcome\n\nOur shop sells old maps and prints.\n\nOpening hours are nine to five."


def test_code_keeps_breaks_from_br_and_fence_longer_than_backticks():
    html = ("<html><body><pre>line one<br>  indented ```x```<br><br>after a blank</pre>"
            "<p>Use <code>a`b</code> here.</p></body></html>")
    md = Extractor(threshold=0).classify(html).markdown
    assert md == "````\nline one\n  indented ```x```\n\nafter a blank\n````\n\nUse ``a`b`` here."


def test_escapes():
    html = ("<html><body><p># not a heading</p><p>- not an item</p><p>1. not a list</p>"
            "<p>Text with &lt;script&gt;alert(1)&lt;/script&gt; in it.</p>"
            "<p><a href='https://example.org/a_(b)'>link [with] brackets</a></p></body></html>")
    md = Extractor(threshold=0, links=True).classify(html).markdown
    assert md == ("\\# not a heading\n\n\\- not an item\n\n\\1. not a list\n\n"
                  "Text with \\<script>alert(1)\\</script> in it.\n\n"
                  "[link \\[with\\] brackets](https://example.org/a_%28b%29)")


def test_link_spanning_blocks_and_spaces_outside_links():
    html = ("<html><body><a href='https://example.org/card'><h3>Card title</h3><p>Card text here.</p></a>"
            "<p>Read<a href='https://example.org/x'> the guide </a>now.</p></body></html>")
    md = Extractor(threshold=0, links=True).classify(html).markdown
    assert md == ("### [Card title](https://example.org/card)\n\n[Card text here.](https://example.org/card)\n\n"
                  "Read [the guide](https://example.org/x) now.")


def test_text_pages():
    r = Extractor(threshold=0).classify("# Title line\n\nA paragraph of text here.\n\n- one\n- two\n", "text")
    assert r.markdown == "# Title line\n\nA paragraph of text here.\n\n- one\n- two"


def test_without_markup_falls_back_to_the_lines():
    lines = [Line("Head", True, 0.9, "h2"), Line("dropped", False, 0.1, "p"),
             Line("a", True, 0.9, "li"), Line("b", True, 0.9, "li"), Line("1. para", True, 0.8, "")]
    assert Result(lines).markdown == "## Head\n\n- a\n- b\n\n\\1. para"
    # a source that does not give these lines: the same
    assert Result(lines, source="<p>other</p>").markdown == "## Head\n\n- a\n- b\n\n\\1. para"


@pytest.mark.parametrize("href, base, want", [
    ("/x", "https://a.org/b/c", "https://a.org/x"),
    ("y z", "https://a.org/b/", "https://a.org/b/y%20z"),
    ("mailto:me@a.org", "", "mailto:me@a.org"),
    ("rel.html", "", "rel.html"),
    ("#top", "https://a.org/", None),
    ("javascript:alert(1)", "https://a.org/", None),
    ("  JaVa\tScRiPt:alert(1)", "", None),
    ("java\nscript:alert(1)", "https://a.org/", None),
    ("data:text/html;base64,PHNjcmlwdD4=", "", None),
    ("vbscript:x", "", None),
    ("", "https://a.org/", None),
    ("x", "javascript:alert(1)//", "x"),  # a hostile base changes nothing
    ("guide.html", "/docs/", "/docs/guide.html"),
])
def test_safe_url(href, base, want):
    assert safe_url(href, base) == want


def test_markup_walk_ends_after_the_last_kept_line():
    lines = html_mod.html_lines(page("river_article.html"))
    full = line_markup(lines.texts, lines.source)[0]
    part = line_markup(lines.texts, lines.source, stop=8)[0]
    assert len(full) == len(lines) and 8 < len(part) < len(lines)
    assert part == full[:len(part)]
    # a table still open when the walk could end: its cells all count
    cells = lines.texts.index("Station")
    part = line_markup(lines.texts, lines.source, stop=cells)[0]
    assert len(part) >= lines.texts.index("Radar") + 1
    assert line_markup(lines.texts[:5] + ["other"] + lines.texts[6:], lines.source, stop=8) is None
    assert line_markup(lines.texts[:5] + ["other"] + lines.texts[6:], lines.source, stop=4) is not None


def test_relative_links_against_the_page_address():
    html = ("<html><head><base href='/docs/v2/'></head><body><p>Read <a href='guide.html'>the guide</a> "
            "and <a href='https://other.org/x'>that</a>.</p></body></html>")
    r = Extractor(threshold=0, links=True).classify(html)
    assert r.markdown == "Read [the guide](/docs/v2/guide.html) and [that](https://other.org/x)."
    assert r.to_markdown(url="https://a.org/start") == ("Read [the guide](https://a.org/docs/v2/guide.html) "
                                                        "and [that](https://other.org/x).")
    assert '<a href="https://a.org/docs/v2/guide.html">' in r.to_html(url="https://a.org/start")
    # the page address counts before the canonical one
    r = Extractor(threshold=0, links=True).classify(page("river_article.html"))
    assert "[gauging stations](https://mirror.example.net/stations)" in r.to_markdown(
        url="https://mirror.example.net/blog/post")
