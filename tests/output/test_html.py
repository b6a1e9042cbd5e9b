"""HTML of the kept blocks (Result.html, clean --format html): minimal and safe."""
from __future__ import annotations

import re
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from boilerclf import Extractor

FIXTURES = Path(__file__).parent.parent / "fixtures"

ARTICLE_HTML = """\
<p>By Ana Ribeiro, 3 March 2026</p>
<p>River flow is measured at <a href="https://rivers.example.org/stations">gauging stations</a> along the main \
channel, and reported as <code>flow_m3s</code> values every fifteen minutes.</p>
<figure><img src="https://rivers.example.org/img/weir.jpg" alt="A weir on the river"></figure>
<p>A measuring weir near the old mill.</p>
<h2>The stations</h2>
<table>
<tr><th>Station</th><th>Mean flow (m³/s)</th><th>Sensor</th></tr>
<tr><td>Upper mill</td><td>12.4</td><td>Weir | gauge</td></tr>
<tr><td>Lower bridge</td><td>18.9</td><td>Radar</td></tr>
</table>
<h2>Reading the data</h2>
<p>The files are plain CSV. A small script reads them:</p>
<pre><code>import csv

def mean_flow(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return sum(float(r["flow"]) for r in rows) / len(rows)</code></pre>
<blockquote>
<p>Flow data are provisional until the hydrology team has checked them.</p>
<p>Checked data replace them within a month.</p>
</blockquote>
<p>What to check before using the numbers:</p>
<ol>
<li>
<p>The station was running.</p>
<ul>
<li>Look at the status log.</li>
<li>Compare with the neighbouring station.</li>
</ul>
</li>
<li>The rating curve is current.</li>
</ol>
<p>Questions? Write to us or read the answers below.</p>"""

HOSTILE = """<html><head><base href="javascript:alert(1)//"></head><body>
<p onclick="alert(1)" style="color:red">A paragraph about <a href=" javascript:alert(2)">a link</a> and
<a href="https://example.org/&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;">another link</a> here.</p>
<p>Shown text: &lt;script&gt;alert(4)&lt;/script&gt; &amp; more.</p>
<p><img src="x" onerror="alert(5)" alt='"><script>alert(6)</script>'>Caption of the image above.</p>
<p><a href="data:text/html,&lt;script&gt;alert(7)&lt;/script&gt;">data link</a> and
<a href="JAVA&#x09;SCRIPT:alert(8)">tab link</a> and <img src="javascript:alert(9)" alt="bad"> end.</p>
<svg><script>alert(10)</script><a href="https://example.org/svg">svg link</a></svg>
<iframe src="https://evil.example/"></iframe><script>alert(11)</script><style>p{}</style>
<table><tr><td onmouseover="alert(12)">Cell one</td><td>Cell two</td></tr></table>
</body></html>"""


def test_article_html():
    html = (FIXTURES / "river_article.html").read_text(encoding="utf-8")
    r = Extractor(links=True, images=True).classify(html)
    assert r.html == ARTICLE_HTML


def test_html_without_links_and_images():
    r = Extractor().classify((FIXTURES / "river_article.html").read_text(encoding="utf-8"))
    assert "<a " not in r.html and "<img" not in r.html
    assert r.html.startswith("<p>By Ana Ribeiro, 3 March 2026</p>\n<p>River flow is measured at gauging stations")


def test_html_document():
    r = Extractor().classify((FIXTURES / "api_docs.html").read_text(encoding="utf-8"))
    doc = r.to_html(document=True)
    assert doc.startswith('<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
                          "<title>tidepool.read_gauge</title>\n</head>\n<body>\n")
    assert doc.endswith("</body>\n</html>")
    assert '<pre><code>from tidepool import read_gauge\nfor r in read_gauge("UPM-01"):\n' in doc


def test_hostile_page():
    r = Extractor(threshold=0, links=True, images=True).classify(HOSTILE)
    out = r.html
    tree = LexborHTMLParser(out)
    allowed = {"html", "head", "body", "h1", "h2", "h3", "h4", "h5", "h6", "p", "ul", "ol", "li", "table", "tr",
               "th", "td", "pre", "code", "blockquote", "a", "img", "figure", "caption", "tbody"}
    for node in tree.root.traverse():
        assert node.tag in allowed, node.tag
        assert set(node.attributes) <= {"href", "src", "alt", "start"}, node.attributes
        for key in ("href", "src"):
            v = node.attributes.get(key)
            if v is not None:
                assert re.match(r"https?://", v) or not re.match(r"[\w+.-]*:", v), v  # or relative
    low = out.lower()
    assert "javascript" not in low and "data:" not in low and "<script" not in low and "onerror" not in low
    assert "Shown text: &lt;script&gt;alert(4)&lt;/script&gt; &amp; more." in out
    assert '<a href="https://example.org/&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;">another link</a>' in out
    assert "alt=\"&quot;&gt;&lt;script&gt;alert(6)&lt;/script&gt;\"" in out
    assert "A paragraph about a link and" in out and "data link and tab link and end." in out
    md = r.markdown
    assert "javascript" not in md.lower() and "data:" not in md
    assert "Shown text: \\<script>alert(4)\\</script> & more." in md
    assert '![">\\<script>alert(6)\\</script>](x)' in md
    assert "[another link](https://example.org/%22%3E%3Cscript%3Ealert%283%29%3C/script%3E)" in md
