"""boilerclf.parse.lines: pages to lines (HTML and plain text)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boilerclf.parse import html as html_mod
from boilerclf.parse import lines as lines_mod
from boilerclf.parse.decode import looks_like_html
from boilerclf.parse.html import html_lines
from boilerclf.parse.lines import (
    BLOCK_TAGS,
    FLAG,
    HINT,
    N_ANCESTORS,
    TAG_ID,
    Lines,
    hint_bits,
)
from boilerclf.parse.text import text_lines


def body(html: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{html}</body></html>"


LONG = ("The harbour authority said on Monday that the new breakwater would be finished by the end "
        "of the summer, two months later than planned, because of the storms in February and March "
        "that damaged the cranes used to place the concrete blocks.")


def tags(L: Lines) -> list[str]:
    return [BLOCK_TAGS[int(t)] for t in L.tag]


# ------------------------------------------------------------ blocks and inline

@pytest.mark.parametrize("tag", ["p", "div", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
                                 "blockquote", "pre", "dd", "dt", "figcaption", "section", "article"])
def test_block_elements_start_and_end_lines(tag):
    wrap = {"li": ("<ul>", "</ul>"), "td": ("<table><tr>", "</tr></table>"),
            "th": ("<table><tr>", "</tr></table>"), "dd": ("<dl>", "</dl>"), "dt": ("<dl>", "</dl>"),
            "figcaption": ("<figure>", "</figure>")}.get(tag, ("", ""))
    html = body(f"before{wrap[0]}<{tag}>inside text</{tag}>{wrap[1]}after")
    L = html_lines(html)
    assert L.texts == ["before", "inside text", "after"]
    assert BLOCK_TAGS[int(L.tag[1])] == tag


def test_inline_elements_merge_into_their_block():
    L = html_lines(body(
        '<p>Hello <a href="/x">big <b>bold</b> world</a>, <span>a span</span>, <em>em</em>, '
        "<strong>strong</strong>, <i>i</i> and <code>code</code>.</p>"))
    assert L.texts == ["Hello big bold world, a span, em, strong, i and code."]
    assert tags(L) == ["p"]


def test_sibling_blocks_and_lists():
    L = html_lines(body(
        "<h1>Title</h1><p>One.</p><div>Two</div><ul><li>a</li><li>b</li></ul>"
        "<table><tr><td>c1</td><td>c2</td></tr></table><blockquote>q</blockquote>"))
    assert L.texts == ["Title", "One.", "Two", "a", "b", "c1", "c2", "q"]
    assert tags(L) == ["h1", "p", "div", "li", "li", "td", "td", "blockquote"]
    assert L.heading_level.tolist() == [1, 0, 0, 0, 0, 0, 0, 0]


def test_text_around_nested_block_splits_into_three_lines():
    L = html_lines(body("<div>before <p>inner</p> after</div>"))
    assert L.texts == ["before", "inner", "after"]
    assert tags(L) == ["div", "p", "div"]


def test_whitespace_is_collapsed_and_empty_blocks_skipped():
    L = html_lines(body("<p>  many \n\t spaces   here </p><p>   </p><div></div><p>\n</p>"))
    assert L.texts == ["many spaces here"]


def test_one_br_does_not_split_a_line():
    L = html_lines(body("<div>first part<br>second part</div>"))
    assert L.texts == ["first part second part"]


@pytest.mark.parametrize("brs", ["<br><br>", "<br>\n  <br>", "<br/><br/>", "<br><br><br>"])
def test_two_br_split_a_line(brs):
    L = html_lines(body(f"<div>line a<br>line b{brs}line c</div>"))
    assert L.texts == ["line a line b", "line c"]
    assert tags(L) == ["div", "div"]


def test_br_pair_separated_by_text_does_not_split():
    L = html_lines(body("<div>a<br>b<br>c<br>d</div>"))
    assert L.texts == ["a b c d"]


# ------------------------------------------------------------ dropped content

@pytest.mark.parametrize("snippet", [
    "<script>var hidden = 'SECRET';</script>",
    "<style>.x { content: 'SECRET'; }</style>",
    "<noscript>SECRET</noscript>",
    "<template><p>SECRET</p></template>",
    "<svg><text>SECRET</text></svg>",
    "<iframe>SECRET</iframe>",
    "<select><option>SECRET</option><optgroup label='g'><option>SECRET</option></optgroup></select>",
    "<textarea>SECRET</textarea>",
    "<button>SECRET</button>",
    "<object>SECRET</object>",
    "<video>SECRET</video>",
    "<audio>SECRET</audio>",
    "<canvas>SECRET</canvas>",
    "<math><mi>SECRET</mi></math>",
    "<!-- SECRET -->",
])
def test_dropped_elements(snippet):
    # (a page with real text: a near-empty page may fall back to its <noscript> text)
    L = html_lines(body(f"<div>keep {snippet} this</div><p>{LONG}</p>"))
    assert L.texts == ["keep this", LONG]
    assert not any("SECRET" in t for t in L.texts)


def test_noscript_text_is_used_when_the_page_has_no_other_text():
    # pages that serve their text to crawlers inside <noscript> only
    L = html_lines(body(f"<div id='app'></div><noscript><p>{LONG}</p></noscript>"))
    assert L.texts == [LONG]


def test_head_content_is_not_a_line():
    L = html_lines(body("<p>x</p>", head="<title>T</title><style>p{}</style><script>s()</script>"))
    assert L.texts == ["x"]


# ------------------------------------------------------------ links

def test_link_characters_are_counted_without_spaces():
    L = html_lines(body('<p>Read <a href="#">the full story</a> now.</p>'
                        '<p><a href="#"><b>bold</b> link</a></p><p>no link here</p>'
                        '<p><a href="#">a</a> and <a href="#">bc</a></p>'))
    assert L.texts == ["Read the full story now.", "bold link", "no link here", "a and bc"]
    assert L.link_chars.tolist() == [len("thefullstory"), len("boldlink"), 0, 3]


def test_link_in_list_item_sets_a_block():
    L = html_lines(body('<ul><li><a href="/1">menu item</a></li></ul><p><a href="/2">inline</a> text</p>'))
    assert L.flags[0] & FLAG["a_block"]
    assert not L.flags[1] & FLAG["a_block"]


# ------------------------------------------------------------ context flags and hints

def test_context_flags():
    L = html_lines(body(
        "<header><p>hdr</p></header>"
        "<nav><ul><li><a href='/'>navitem</a></li></ul></nav>"
        "<main><article><h2>heading</h2><p>para <time>today</time></p>"
        "<blockquote>quoted</blockquote><pre>code</pre>"
        "<figure><figcaption>caption</figcaption></figure>"
        "<table><tr><td>cell</td></tr></table><dl><dt>term</dt></dl></article></main>"
        "<aside>side</aside><form><label>lbl</label></form>"
        "<address>addr</address><div hidden>hid</div><div style='display: none'>hid2</div>"
        "<footer><p>foot</p></footer>"))
    f = dict(zip(L.texts, L.flags.tolist()))

    def has(text, *names):
        return all(f[text] & FLAG[n] for n in names)

    assert has("hdr", "header", "p") and not has("hdr", "nav")
    assert has("navitem", "nav", "li", "list", "a_block") and not has("navitem", "footer")
    assert has("heading", "main", "article", "heading")
    assert has("para today", "main", "article", "p", "time")
    assert has("quoted", "blockquote", "article")
    assert has("code", "pre")
    assert has("caption", "figure")
    assert has("cell", "table")
    assert has("term", "dl")
    assert has("side", "aside") and not has("side", "main")
    assert has("lbl", "form", "label")
    assert has("addr", "address")
    assert has("hid", "hidden") and has("hid2", "hidden")
    assert has("foot", "footer", "p") and not has("foot", "header", "nav", "article")


@pytest.mark.parametrize("attr,hint", [
    ('class="related-posts"', "related"),
    ('id="comments"', "comment"),
    ('class="share-buttons"', "share"),
    ('class="author-bio"', "author"),
    ('id="cookie-consent"', "cookie"),
    ('class="site-footer"', "footer"),
    ('class="main-menu"', "nav"),
    ('class="breadcrumbs"', "breadcrumb"),
    ('class="newsletter-signup"', "newsletter"),
    ('class="RelatedStories"', "related"),
])
def test_class_and_id_hints_reach_descendant_lines(attr, hint):
    L = html_lines(body(f"<p>plain</p><div {attr}><section><p>inside</p></section></div>"))
    assert L.texts == ["plain", "inside"]
    assert L.hints[1] & HINT[hint]
    assert L.hints[0] == 0


def test_hint_needs_a_word_boundary():
    assert hint_bits("comments") & HINT["comment"]
    assert not hint_bits("uncommented") & HINT["comment"]
    assert hint_bits("post-footer") & HINT["footer"]
    assert hint_bits("") == 0


def _hint_reference(s: str) -> int:
    """What hint_bits computed before its fast search: finditer over the whole regex."""
    bits = 0
    for m in lines_mod._HINT_RE.finditer(s.lower()):
        bits |= 1 << int(m.lastgroup[1:])
    if lines_mod.COMMENT_SECTION_RE.search(s.lower()):
        bits |= lines_mod.COMMENT_SECTION
    return bits


_LOOKAHEAD = r"(?=$|[\s_\-:\d])"
_HINT_PIECES = [w for _, words in lines_mod.HINTS for w in words.replace(_LOOKAHEAD, "").replace("?", "").split("|")]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_HINT_PIECES + ["ad", "ads", "ads2", "read-next", "most-", "un"]),
                          st.sampled_from(["-", "_", ":", " ", "\t", "\u3000", "--", "1"]),
                          st.text(max_size=3)), max_size=10))
def test_hint_search_equals_the_regex(pieces):
    s = "".join(pieces)
    want = _hint_reference(s) & ~lines_mod.COMMENT_SECTION  # the groups' search alone
    assert lines_mod.hint_search(s.lower()) == want  # compiled (boilerclf/parse/_cwalk.pyx)
    assert lines_mod.hint_search_py(s.lower()) == want  # its fallback


_SECTION_PIECES = ["commentary", "comol", "disqus_thread", "dsq-comments", "article-comments",
                   "post-comments", "article", "post", "-comments", "reviews", "review", "product-", "customer-",
                   "user-", "pdp-", "rating-", "ratings-", "and-", "yotpo", "jdgm", "spr-review", "stamped-review",
                   "okereview", "bv-review", "bvrr", "\x1c", "\x0b"]
_CASED_PIECES = [w for p in _HINT_PIECES + _SECTION_PIECES for w in (p, p.upper(), p.title())]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_CASED_PIECES),
                          st.sampled_from(["-", "_", ":", " ", "\t", "--", "1", "\u00e9", "\u0130"]),
                          st.text(alphabet=st.characters(max_codepoint=127), max_size=3)), max_size=10))
def test_walker_hint_miss_path_equals_hint_bits(pieces):
    """The compiled walker computes an ASCII class name's bits itself (lower-cased
    in C); anything else goes to hint_bits."""
    from boilerclf.parse import _cwalk

    s = "".join(pieces)
    got = _cwalk._hint_ascii_bits(s.encode())
    if s.isascii():
        assert got == _hint_reference(s)
    else:
        assert got == -1


@pytest.mark.parametrize("attr, inside", [
    ('class="comment"', True), ('class="comments-area"', True), ('id="comment-1049826"', True),
    ('class="commentlist"', True), ('id="disqus_thread"', True), ('class="entry post-comments"', True),
    ('class="article-comments"', True), ('class="CommentsBlock"', True),
    # a comment word later in the value, or commentary, is not a comment section
    ('class="tonal--tone-comment"', False), ('class="commentary"', False),
    ('class="post category-comment"', False), ('class="no-comments-yet"', False),
    # a shop's customer reviews are its comments; a post's review category is not
    ('id="reviews"', True), ('class="product-reviews container"', True), ('class="ratings-and-reviews"', True),
    ('class="yotpo yotpo-main-widget"', True), ('id="BVRRContainer"', True), ('class="jdgm-widget"', True),
    ('class="post category-reviews"', False), ('class="reviewsection"', False), ('class="review-body"', False),
])
def test_comment_section_bit(attr, inside):
    from selectolax.lexbor import LexborHTMLParser

    page = body(f"<article><p>Text of the story.</p><div {attr}><ol><li><p>First!</p></li></ol></div></article>")
    L = html_lines(page)
    assert L.texts == ["Text of the story.", "First!"]
    assert not L.hints[0] & lines_mod.COMMENT_SECTION
    assert bool(L.hints[1] & lines_mod.COMMENT_SECTION) is inside
    # the compiled walker and the reference walk agree
    ref = html_mod.walk(LexborHTMLParser(page).body, "", lines_mod.SKIP, lines_mod.MAX_NODES)
    assert ref.hints.tolist() == L.hints.tolist()


def test_hint_search_is_compiled_and_its_table_is_literal():
    from boilerclf.parse._cwalk import HintTable

    assert isinstance(lines_mod.hint_search.__self__, HintTable)
    alts = lines_mod.HINT_ALTERNATIVES
    assert (7, "ads", True) in alts and (7, "ad", True) in alts  # ads?(?=...): "ads" tried first
    assert alts.index((4, "read-next", False)) + 1 == alts.index((4, "readnext", False))
    with pytest.raises(ValueError):
        HintTable([(0, "-nav", False)])  # a separator first would break the start rule


# ------------------------------------------------------------ container ranges

NESTED = body(
    "<div id='a'>"
    "  <p>p0</p>"
    "  <div id='b'><p>p1</p><ul><li>i2</li><li>i3</li></ul></div>"
    "  <p>p4</p>"
    "</div>"
    "<p>p5</p>")


def test_anc_ranges_on_a_nested_page():
    L = html_lines(NESTED)
    assert L.texts == ["p0", "p1", "i2", "i3", "p4", "p5"]
    assert L.anc_start.shape == (6, N_ANCESTORS)
    # block, then ancestors outward; the whole page (0..6) pads the rest
    expect = {
        "p0": ([0, 0, 0, 0, 0], [1, 5, 6, 6, 6]),  # p, div#a, page
        "p1": ([1, 1, 0, 0, 0], [2, 4, 5, 6, 6]),  # p, div#b, div#a, page
        "i2": ([2, 2, 1, 0, 0], [3, 4, 4, 5, 6]),  # li, ul, div#b, div#a, page
        "i3": ([3, 2, 1, 0, 0], [4, 4, 4, 5, 6]),
        "p4": ([4, 0, 0, 0, 0], [5, 5, 6, 6, 6]),
        "p5": ([5, 0, 0, 0, 0], [6, 6, 6, 6, 6]),
    }
    for i, t in enumerate(L.texts):
        assert L.anc_start[i].tolist() == expect[t][0], t
        assert L.anc_end[i].tolist() == expect[t][1], t


def _check_ranges(L: Lines) -> None:
    n = len(L)
    for i in range(n):
        s, e = L.anc_start[i], L.anc_end[i]
        for k in range(N_ANCESTORS):
            assert 0 <= s[k] <= i < e[k] <= n, (i, k, s, e)
            if k:
                assert s[k] <= s[k - 1] and e[k - 1] <= e[k], (i, k, s, e)


def test_anc_ranges_contain_the_line_and_nest(lighthouse_html, library_html):
    for page in (lighthouse_html, library_html, NESTED):
        _check_ranges(html_lines(page))


def test_anc_ranges_deeper_than_kept_levels():
    html = body("<div>" * 9 + "<p>deep</p><p>deep2</p>" + "</div>" * 9 + "<p>out</p>")
    L = html_lines(html)
    assert L.texts == ["deep", "deep2", "out"]
    _check_ranges(L)
    assert L.anc_end[0].tolist() == [1, 2, 2, 2, 2]  # p, then the innermost 4 divs


# ------------------------------------------------------------ title

def test_title_prefers_og_title():
    head = ('<title>Tab title | Site</title>'
            '<meta property="og:title" content="  OG headline ">')
    assert html_lines(body("<h1>H1 headline</h1>", head)).title == "OG headline"


def test_title_from_title_element_collapses_whitespace():
    head = "<title>\n  Tab   title\n | Site </title>"
    assert html_lines(body("<h1>H1 headline</h1>", head)).title == "Tab title | Site"


def test_empty_og_title_falls_back_to_title():
    head = '<meta property="og:title" content=""><title>Tab</title>'
    assert html_lines(body("<h1>H1</h1>", head)).title == "Tab"


def test_title_falls_back_to_first_h1():
    L = html_lines(body("<p>intro</p><h2>sub</h2><h1>First h1</h1><h1>Second h1</h1>"))
    assert L.title == "First h1"


def test_no_title_at_all():
    assert html_lines(body("<p>just text</p>")).title == ""


def test_fixture_page_lines(lighthouse_html, lighthouse_gold):
    L = html_lines(lighthouse_html)
    assert L.title == "Council approves plan to restore Point Marlow lighthouse"
    for para in lighthouse_gold.splitlines():
        assert para in L.texts
    joined = "\n".join(L.texts)
    for gone in ("dataLayer", "Accept", "Manage settings", "Write your comment here", "Post Comment",
                 "Please enable JavaScript", "Search the Gazette", "querySelectorAll"):
        assert gone not in joined
    assert L.texts.count("Privacy policy") == 2
    assert len(L) == len(L.tag) == len(L.flags) == len(L.hints) == len(L.link_chars) == len(L.depth)


def test_max_nodes_truncates():
    html = body("".join(f"<p>para {i}</p>" for i in range(200)))
    full = html_lines(html)
    cut = html_lines(html, max_nodes=50)
    assert len(full) == 200 and not full.truncated
    assert cut.truncated and 0 < len(cut) < 200
    assert cut.texts == full.texts[:len(cut)]
    _check_ranges(cut)


# ------------------------------------------------------------ plain text

def test_text_lines_gaps_and_title():
    L = text_lines("Site name\nDate line\n\nHeadline\n\n\n\n\n\nBody text.\n   \nEnd")
    assert L.kind == "text"
    assert L.texts == ["Site name", "Date line", "Headline", "Body text.", "End"]
    assert L.gap_before.tolist() == [0, 0, 1, 3, 1]  # capped at 3; whitespace-only = blank
    assert L.title == "Site name"
    assert text_lines("a\nb", title="Given").title == "Given"


def test_text_lines_markdown_links_count_as_link_chars():
    L = text_lines("Read [the full story](https://x.org/a) now.\n[Home](/) | [About us](/about)\nplain")
    assert L.texts == ["Read the full story now.", "Home | About us", "plain"]
    assert L.link_chars.tolist() == [len("thefullstory"), len("Home") + len("Aboutus"), 0]


def test_text_lines_headings():
    L = text_lines("# Main title\n## Sub title\n###### Six\n#hashtag is not a heading")
    assert L.texts == ["Main title", "Sub title", "Six", "#hashtag is not a heading"]
    assert L.heading_level.tolist() == [1, 2, 6, 0]
    assert [bool(f & FLAG["heading"]) for f in L.flags] == [True, True, True, False]


def test_text_lines_bullets():
    L = text_lines("- dash item\n* star item\n\u2022 dot item\n1. numbered\n2) also\n-not a bullet\n\nplain")
    assert L.texts == ["dash item", "star item", "dot item", "numbered", "also", "-not a bullet", "plain"]
    is_li = [int(t) == TAG_ID["li"] for t in L.tag]
    assert is_li == [True] * 5 + [False, False]
    assert all(L.flags[i] & FLAG["li"] and L.flags[i] & FLAG["list"] for i in range(5))


def test_text_lines_joins_the_fragments_of_a_dump_without_blank_lines():
    # BeautifulSoup's get_text("\n"): every text node on its own line, no blank line anywhere
    dump = ("Harbour reopens\nHome\nNews\nThe harbour reopened on Monday after\ntwo winters\nof repairs"
            "\n, said the\nmayor\n.\nBy\nAnna Berg\nat 09:53\nRelated stories")
    L = text_lines(dump)
    assert L.texts == ["Harbour reopens", "Home", "News",
                       "The harbour reopened on Monday after two winters of repairs, said the mayor.",
                       "By", "Anna Berg at 09:53", "Related stories"]
    assert (L.gap_before == 0).all()
    # the same lines with blank lines between blocks are a dump of blocks: nothing is joined
    blocks = text_lines(dump.replace("\nHome", "\n\nHome").replace("\nThe", "\n\nThe"))
    assert len(blocks) == len(dump.splitlines())
    # a sentence's end, a heading and an upper-case start keep a line apart
    many = "One.\nthen\n# Head\nlower\nAbc\ndef\n" + "Item\n" * 6
    assert text_lines(many).texts == ["One.", "then", "Head", "lower", "Abc def"] + ["Item"] * 6
    # a short text says too little: left as it is
    assert text_lines("line one\nline two").texts == ["line one", "line two"]


def test_text_lines_ranges_cover_page(rail_text):
    L = text_lines(rail_text)
    assert len(L) == 21
    assert L.texts[2] == L.texts[3]  # headline twice
    assert (L.anc_start[:, 2:] == 0).all() and (L.anc_end[:, 2:] == len(L)).all()  # the page
    assert (L.depth == 0).all() and (L.hints == 0).all()


def test_text_lines_containers_are_blocks_and_runs_of_prose():
    prose = "The harbour reopened on Monday after two winters of repairs to the sea wall."
    L = text_lines(f"Home\nNews\nSport\nWeather\n\n{prose}\n\nThe repairs\n\n{prose}\n\nAbout\nContact\nJobs\n\nTerms")
    blocks = list(zip(L.anc_start[:, 0].tolist(), L.anc_end[:, 0].tolist()))
    runs = list(zip(L.anc_start[:, 1].tolist(), L.anc_end[:, 1].tolist()))
    assert blocks == [(0, 4)] * 4 + [(4, 5), (5, 6), (6, 7)] + [(7, 10)] * 3 + [(10, 11)]
    # the menu, the article (a short subheading does not cut it), the footer's links
    assert runs == [(0, 4)] * 4 + [(4, 7)] * 3 + [(7, 11)] * 4
    assert (L.anc_start[:, 2:] == 0).all() and (L.anc_end[:, 2:] == 11).all()
    assert text_lines("").anc_start.shape == (0, 5)


def test_text_lines_from_bytes():
    L = text_lines("caf\u00e9 \u201cq\u201d\n".encode("utf-8"))
    assert L.texts == ["caf\u00e9 \u201cq\u201d"]


def test_looks_like_html():
    assert looks_like_html("<!DOCTYPE html><p>x</p>")
    assert looks_like_html("  <html><body>x</body></html>")
    assert looks_like_html("<div>x</div>")
    assert not looks_like_html("Just a plain text page.\n\nWith < and > signs.")
    assert not looks_like_html("")


def test_empty_inputs():
    for L in (html_lines(""), html_lines(b""), text_lines(""), text_lines(b"\n\n  \n")):
        assert len(L) == 0
        assert L.anc_start.shape == (0, N_ANCESTORS)
    assert np.asarray(html_lines("").link_chars).shape == (0,)


def test_text_lines_crlf_and_subset():
    L = text_lines("first\r\n\r\nsecond\rthird\n")
    assert L.texts == ["first", "second", "third"]
    assert L.gap_before.tolist() == [0, 1, 0]
    assert L.subset(np.array([True, False, True])) == ["first", "third"]


# ------------------------------------------------------------ the slow path

@pytest.fixture
def slow(monkeypatch):
    """This process as if the installed selectolax were one whose lexbor layout the
    compiled walker cannot read (the warning not given yet)."""
    import selectolax

    monkeypatch.setattr(selectolax, "__version__", "0.3.21")
    asked = []

    def child(version, extension):
        asked.append(version)
        return f"the compiled HTML walker cannot read selectolax {version}'s lexbor: the check crashed (signal 11)"

    monkeypatch.setattr(html_mod, "check_layout_in_child", child)
    walk, table, reason = html_mod.load_fast_walker()
    assert asked == ["0.3.21"] and walk is None and table is None
    monkeypatch.setattr(html_mod, "slow_reason", reason)
    monkeypatch.setattr(html_mod, "slow_warned", False)
    return reason


def test_another_selectolax_is_reported(slow):
    assert "selectolax 0.3.21's lexbor" in slow and "verified with 1.0.0, 1.0.1, 1.0.2" in slow
    assert "pip install 'selectolax>=1.0,<1.1'" in slow
    assert html_mod.slow_path_reason() == slow
    assert issubclass(html_mod.SlowPathWarning, RuntimeWarning)


def test_unverified_selectolax_with_the_same_layout_keeps_the_fast_walker(monkeypatch, tmp_path):
    """A selectolax release the walker was not verified with is checked once in a
    child process (a wrong layout may crash the reader); a release that passes
    keeps the compiled walker, and the answer is kept for the next start."""
    import subprocess

    import selectolax

    from boilerclf.parse import _cwalk

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(selectolax, "__version__", "1.0.9")
    walk, table, reason = html_mod.load_fast_walker()  # the child reads the real 1.0.x layout
    assert reason is None and walk is not None and table is _cwalk.HintTable
    (mark,) = (tmp_path / "boilerclf").glob("walker-layout-1.0.9-*.txt")
    assert mark.read_text() == "ok"

    def no_child(*a, **k):
        raise AssertionError("the cached answer should be used")

    monkeypatch.setattr(subprocess, "run", no_child)
    assert html_mod.load_fast_walker()[2] is None
    mark.write_text("the compiled HTML walker cannot read selectolax 1.0.9's lexbor: x")
    assert "cannot read selectolax 1.0.9" in html_mod.load_fast_walker()[2]


def test_a_crashing_layout_check_is_a_reason_not_a_crash(monkeypatch, tmp_path):
    import subprocess

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, -11, "", ""))
    reason = html_mod.check_layout_in_child("0.4.13", html_mod.__file__)
    assert reason == "the compiled HTML walker cannot read selectolax 0.4.13's lexbor: the check crashed (signal 11)"


def test_slow_path_warns_once(slow):
    import warnings

    with pytest.warns(html_mod.SlowPathWarning) as got:
        html_lines(body("<p>one</p>"))
    msg = str(got[0].message)
    assert "about 2x slower" in msg and "selectolax 0.3.21" in msg and "1.0.2" in msg
    assert "\n" not in msg
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        html_lines(body("<p>two</p>"))
        html_mod.warn_slow_path()
    assert not [w for w in again if issubclass(w.category, html_mod.SlowPathWarning)]


def test_extension_that_does_not_load_is_reported(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "boilerclf.parse._cwalk", None)  # import fails
    walk, table, reason = html_mod.load_fast_walker()
    assert walk is None and "compiled HTML walker did not load" in reason


def test_installed_package_uses_the_compiled_walker():
    """Fails loudly (instead of a silently 2x slower package) when the compiled
    walker did not build, did not load or cannot read the installed selectolax."""
    assert html_mod.slow_path_reason() is None


def test_fast_path_gives_no_warning(monkeypatch):
    import warnings

    from boilerclf.parse import _cwalk as cw

    walk, table, reason = html_mod.load_fast_walker()
    assert walk is not None and table is cw.HintTable and reason is None
    monkeypatch.setattr(html_mod, "slow_reason", None)
    monkeypatch.setattr(html_mod, "slow_warned", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", html_mod.SlowPathWarning)
        html_lines(body("<p>one</p>"))
