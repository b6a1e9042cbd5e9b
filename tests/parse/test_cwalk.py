"""boilerclf.parse._cwalk: the compiled DOM walker gives exactly the Lines of lines._walk."""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from boilerclf.parse import html as html_mod
from boilerclf.parse import lines as L

IN_CI = os.environ.get("CI") == "true"


if IN_CI:
    # CI builds the extension: an ImportError here (build or layout self-check
    # failed) fails the run instead of silently testing nothing.
    from boilerclf.parse import _cwalk as cw
else:
    cw = pytest.importorskip("boilerclf.parse._cwalk", reason="compiled walker not built")


def test_html_lines_uses_the_compiled_walker():
    assert html_mod.active_walk is not html_mod.walk  # the compiled walk, through its fallback wrapper

ARRAYS = ("link_chars", "tag", "depth", "flags", "hints", "gap_before", "anc_start", "anc_end")
SKIP_NOSCRIPT = L.SKIP - {"noscript"}


def assert_same(a: L.Lines, b: L.Lines) -> None:
    assert a.texts == b.texts
    assert a.title == b.title
    assert a.truncated == b.truncated
    assert a.kind == b.kind
    for name in ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert x.shape == y.shape, name
        assert np.array_equal(x, y), name


def compare(html: str, title: str = "", skips=(L.SKIP, SKIP_NOSCRIPT),
            max_nodes=(L.MAX_NODES,)) -> L.Lines:
    """Both walkers on one parsed page, for each skip set and node cap; returns one result."""
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    out = None
    for skip in skips:
        for mn in max_nodes:
            want = html_mod.walk(root, title, skip, mn)
            got = cw.walk_c(root, title, skip, mn)  # strict: no hand-over to Python
            assert_same(want, got)
            out = got
    return out


def compare_public(html) -> L.Lines:
    """html_lines with the compiled walker vs with the Python one."""
    got = html_mod.html_lines(html)
    fast = html_mod.active_walk
    html_mod.active_walk = html_mod.walk
    try:
        want = html_mod.html_lines(html)
    finally:
        html_mod.active_walk = fast
    assert_same(want, got)
    return got


def body(html: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{html}</body></html>"


PAGES = {
    "nesting": body("<div>a<div>b<section>c<article>d<p>e</p>f</article>g</section>h</div>i</div>"
                    "<main><header><nav><ul><li><div><p>deep</p></div></li></ul></nav></header></main>"),
    "inline_merging": body('<p>Hello <a href="/x">big <b>bold</b> world</a>, <span>a <i>span</i></span>,'
                           " <em>em</em>   and\n\t<code>code</code>.</p><span>loose</span> text"),
    "br_pairs": body("<p>one<br>two<br><br>three<br> <br>four<br>\n<br>five</p>"
                     "<div>x<br><b>y</b><br><br><br><br>z<br></div>a<br><br>"),
    "br_whitespace": body("<div>a<br>   <br>b<br><span> </span><br>c<br><i>d</i><br>e</div>"),
    "links": body('<ul><li><a href="/1">Home</a></li><li>x <a href="/2">News and views</a></li></ul>'
                  '<p>Read <a href="/3">the full\nstory  here</a> or <a><a href="/n">nested</a></a>.</p>'
                  '<a href="/b"><div>block in a link</div>tail</a><li><a><b>li a</b></a></li>'),
    "skip_tags": body("<p>kept</p><script>var x = '<p>no</p>';</script><style>p{}</style>"
                      "<noscript><p>noscript text</p></noscript><template><p>t</p></template>"
                      "<svg><text>svg</text></svg><iframe>if</iframe><select><option>o</option></select>"
                      "<textarea>ta</textarea><button>b</button><form><label>L <input value=v></label>"
                      "<fieldset><legend>leg</legend>f</fieldset></form><math><mi>m</mi></math>"
                      "<object>obj</object><canvas>c</canvas><video>v</video><audio>a</audio>"
                      "<map><area></map><picture><source><img alt=x></picture><dialog>d</dialog>"),
    "noscript_fallback": body("<noscript><div><h1>Crawler title</h1><p>Text served in noscript to "
                              "crawlers, long enough to win over the empty page.</p></div></noscript>"
                              "<div id=app></div>"),
    "hidden": body('<div hidden>h1</div><p style="display:none">h2</p><p style="color:red; display: none ;">h3'
                   '</p><p style="DISPLAY:NONE">not</p><p style="display:\tnone">not</p>'
                   '<p style="ddisplay:none">yes</p><p style="displaydisplay:none">yes</p>'
                   '<div style="display: n o n e">spaced</div><span hidden>inline</span>'
                   '<div aria-hidden="true">aria</div><div hidden="">empty</div><p style>x</p>'
                   '<p style="">y</p><div hidden><p>nested <b>deep</b></p></div>'),
    "hints": body('<div class="site-nav">n</div><div id="footer">f</div><div class="comments-list">c</div>'
                  '<div class="share social">s</div><div class="ads">a</div><div class="ads2">a2</div>'
                  '<div class="post-content entry"><p class="lead">l</p><span class="byline">b</span></div>'
                  '<div class="">e</div><div class id>e2</div><div class="NAV Menu">upper</div>'
                  '<div class="\u00e9t\u00e9 nav">accent</div><div id="a" class="b" id="c">dup</div>'
                  '<div class="cookie-consent"><div class="modal overlay"><p>x</p></div></div>'),
    "tables_lists": body("<table><caption>cap</caption><thead><tr><th>h1</th><th>h2</th></tr></thead>"
                         "<tbody><tr><td>a</td><td>b <b>c</b></td></tr><tr><td><table><tr><td>in</td>"
                         "</tr></table></td></tr></tbody><tfoot><tr><td>f</td></tr></tfoot></table>"
                         "<ol><li>1<ul><li>1.1</li><li>1.2</li></ul></li><li>2</li></ol>"
                         "<dl><dt>term</dt><dd>def</dd></dl><menu><li>m</li></menu>"
                         "<details><summary>sum</summary>det</details><figure><img><figcaption>fc"
                         "</figcaption></figure><address>addr</address><hgroup><h2>x</h2></hgroup>"
                         "<p>a <time>2024</time> <label>lab</label></p><hr><center>c</center>"),
    "comments": body("<!-- a comment --><p>a<!-- in -->b</p><!--x--><div><!-- only --></div>"
                     "<!DOCTYPE again><?php echo 1 ?><p>c</p>"),
    "cdata": body("<p>a<![CDATA[bogus comment]]>b</p><svg><![CDATA[cd <x>]]></svg>"
                  "<math><![CDATA[m]]></math>"),
    "cjk": body("<h1>\u4e2d\u6587\u6807\u9898</h1><p>\u65e5\u672c\u8a9e\u306e\u6587\u7ae0\u3002"
                "\u3000\u5168\u89d2\u7a7a\u767d\u3000\u3042\u308a</p><p>\ud55c\uad6d\uc5b4 "
                "<a>\ub9c1\ud06c \U0001f600</a></p>"),
    "unicode_space": body("<p>\xa0\xa0lead\u2003em\u2002en\u200bzw\u3000ideo\x85nel"
                          "\u2028ls\u2029ps\u202fnn\u205fmm\u1680og\x1c\x1d\x1e\x1fend\xa0</p>"
                          "<p>\u200b</p><p>\xa0</p><a>\xa0 \n</a><p>&nbsp;&ensp;&#x3000;x&#8203;</p>"),
    "entities": body("<p>&amp;&lt;&gt;&quot;&#39;&copy;&euro;&#128;&#x0;&#xD800;&#x110000;&bogus;</p>"),
    "custom_elements": body("<my-widget>w<x-card-with-a-really-long-name><p>in</p>ok</x-card-with-a-"
                            "really-long-name></my-widget><x-nav class=nav>xn</x-nav><foo>inline</foo>"
                            "<p>a<x>b</x>c</p><image>im</image>"),
    "foreign": body('<svg viewBox="0 0 1 1"><foreignObject><p>fo</p></foreignObject><a>sa</a>'
                    '<clipPath>cp</clipPath></svg><p>after</p>'),
    "empty_body": "<html><head><title>Only a title</title></head><body></body></html>",
    "whitespace_only": body("  \n\t <div> </div> <p>\n</p> "),
    "text_only": "just some text, no tags at all",
    "empty": "",
    "frameset": "<html><head><title>f</title></head><frameset><frame src=a></frameset></html>",
    "titles": body("<h2>Sub</h2><h1>First <b>h1</b></h1><h1>Second</h1>",
                   head='<meta property="og:title" content="OG title">'),
    "h1_title": body("<p>x</p><h1>  The   h1 </h1>"),
    "nul_bytes": body("<p>a\x00b</p><div class='na\x00v'>c\x00</div>\x00<p>\x00</p>"),
    "malformed": "<p>unclosed <b>bold <i>both</p> text</b> after</i><div><span>x</div></span>"
                 "<table><p>foster</p><tr><td>t</td></tr></table><li>orphan<li>li2",
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_pages_equal(name):
    html = PAGES[name]
    compare(html)
    compare(html, title="Given title")
    compare(html, max_nodes=(0, 1, 2, 3, 5, 10, 25))
    compare_public(html)


def test_noscript_fallback_is_taken_by_both():
    got = compare_public(PAGES["noscript_fallback"])
    assert "Crawler title" in got.texts


def test_foreign_content_walked_with_a_custom_skip_set():
    """svg/math are always skipped by html_lines; walk them too (CDATA, adjusted names, svg <a>)."""
    skip = L.SKIP - {"svg", "math", "noscript", "template"}
    for name in ("foreign", "cdata", "skip_tags"):
        compare(PAGES[name], skips=(skip, frozenset(), frozenset({"p", "div"})))


def test_nested_20000_divs():
    n = 20_000
    html = body("<div>" * n + "deep text" + "</div>" * n + "<p>after</p>")
    got = compare(html, skips=(L.SKIP,))
    assert got.texts == ["deep text", "after"]
    assert int(got.depth[0]) == n - 1
    compare(html, skips=(L.SKIP,), max_nodes=(10_000, 20_001, 20_002))


def test_max_nodes_truncation():
    html = body("".join(f"<div><p>para {i} <b>bold</b></p><ul><li>item</li></ul></div>" for i in range(300)))
    n_nodes = 300 * 8
    for mn in (0, 1, 7, 100, 999, 1000, 1001, n_nodes - 1):
        got = compare(html, max_nodes=(mn,))
        assert got.truncated
    assert not compare(html, max_nodes=(n_nodes,)).truncated


def test_nul_bytes_through_html_lines_and_bytes():
    compare_public(PAGES["nul_bytes"])
    compare_public(PAGES["nul_bytes"].encode("utf-8"))
    compare_public(PAGES["cjk"].encode("utf-8"))


def test_skip_set_unknown_to_lexbor_is_handed_to_python():
    """A tag set naming an element lexbor has no id for: walk() returns the Python result."""
    html = body("<p>a</p><my-ad>ad text</my-ad><p>b</p>")
    tree = LexborHTMLParser(html)
    skip = L.SKIP | {"my-ad"}
    with pytest.raises(cw.Unsupported):
        cw.walk_c(tree.body, "", skip, L.MAX_NODES)
    got = html_mod.active_walk(tree.body, "", skip, L.MAX_NODES)
    assert_same(html_mod.walk(tree.body, "", skip, L.MAX_NODES), got)
    assert got.texts == ["a", "b"]


@pytest.mark.parametrize("skip", [
    set(L.SKIP),                              # a set works as the frozenset does
    L.SKIP | {"SCRIPT"},                       # names compare case-sensitively in Python
    list(L.SKIP),                              # not a set: Python semantics, by Python
    "script style",                             # (substring tests)
    L.SKIP | {None},
])
def test_odd_skip_arguments_give_the_python_result(skip):
    html = body("<p>a</p><script>s</script><SCRIPT>S</SCRIPT><p>b</p><style>x</style>")
    tree = LexborHTMLParser(html)
    want = html_mod.walk(tree.body, "", skip, L.MAX_NODES)
    assert_same(want, html_mod.active_walk(tree.body, "", skip, L.MAX_NODES))


@pytest.mark.parametrize("max_nodes", [-1, -10**30, 0, True, 10**30, 3.5, float("inf")])
def test_odd_max_nodes_give_the_python_result(max_nodes):
    tree = LexborHTMLParser(body("<p>a</p><p>b <b>c</b></p>"))
    want = html_mod.walk(tree.body, "", L.SKIP, max_nodes)
    assert_same(want, html_mod.active_walk(tree.body, "", L.SKIP, max_nodes))


def test_hint_cache_starting_over():
    """The module's class/id cache, capped tiny, clears and refills without changing results."""
    try:
        cw._set_hint_cache_max(3)
        for name in ("hints", "nesting", "tables_lists", "hints"):
            compare(PAGES[name])
    finally:
        cw._set_hint_cache_max(100_000)
    compare(PAGES["hints"])


def test_layout_selfcheck_passes_on_the_installed_selectolax():
    import selectolax

    assert selectolax.__version__ in cw.VERIFIED_SELECTOLAX
    cw.selfcheck()  # the walker's structs agree with selectolax's API on the probe page


def test_fixture_pages():
    from pathlib import Path

    for path in sorted((Path(__file__).parent.parent / "fixtures").glob("*.html")):
        compare_public(path.read_bytes())
        compare(path.read_text(encoding="utf-8", errors="replace"), max_nodes=(L.MAX_NODES, 50))


# ------------------------------------------------------------ random pages

_TAGS = ["div", "p", "span", "a", "b", "li", "ul", "td", "tr", "table", "h1", "h3", "br", "script",
         "noscript", "nav", "footer", "section", "pre", "label", "time", "my-el", "svg", "img",
         "form", "input", "header", "aside", "figure", "blockquote", "center", "button", "template"]
_ATTRS = ["", ' class="nav"', ' id="main-content"', " hidden", ' style="display: none"',
          ' class="share-bar ad"', ' class=""', ' href="/x"', ' style="color:red"', ' class="byline x"']
_TEXTS = ["", " ", "\n", "word", "two words", " lead", "trail ", "\xa0", "\u4e2d\u6587", "a\u3000b",
          "x\ty", "&amp;", "\U0001f600", "<!-- c -->", "line\nbreak"]


@st.composite
def _html(draw, depth=0):
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 6 and draw(st.booleans()):
            tag = draw(st.sampled_from(_TAGS))
            attr = draw(st.sampled_from(_ATTRS))
            inner = draw(_html(depth + 1))
            close = draw(st.booleans())
            parts.append(f"<{tag}{attr}>{inner}" + (f"</{tag}>" if close else ""))
        else:
            parts.append(draw(st.sampled_from(_TEXTS)))
    return "".join(parts)


@settings(max_examples=int(os.environ.get("CWALK_EXAMPLES", "300")))
@given(_html(), st.sampled_from([L.MAX_NODES, 3, 17]))
def test_random_pages_equal(html, max_nodes):
    compare(html, max_nodes=(max_nodes,))


def test_streamed_react_blocks_are_not_hidden():
    """A streaming React page sends its article in ``<div hidden id="S:0">`` and a
    script moves it into place: a reader sees it, so both walkers leave it unflagged."""
    html = body('<template id="B:0"></template><p>Menu</p>'
                '<div hidden id="S:0"><p>The article a reader sees once the script has run.</p></div>'
                '<div hidden id="promo"><p>A hidden promo.</p></div>'
                '<div hidden id="S:1" style="display: none"><p>Hidden by its style too.</p></div>')
    got = compare(html)
    hidden = {t: bool(f & L.FLAG["hidden"]) for t, f in zip(got.texts, got.flags.tolist())}
    assert hidden == {"Menu": False, "The article a reader sees once the script has run.": False,
                      "A hidden promo.": True, "Hidden by its style too.": True}
