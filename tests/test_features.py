"""boilerclf.features: known feature values on tiny pages."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boilerclf.features import (
    FEATURE_NAMES, LINE_NAMES, N_STRUCT, NEIGHBOUR_BASE, NEIGHBOUR_OFFSETS, SCHEMA_VERSION,
    batch_features, page_features,
)
from boilerclf.lines import Lines, html_lines, text_lines

COL = {n: i for i, n in enumerate(FEATURE_NAMES)}

TINY = (
    "<html><head><title>Harbour news today</title></head><body>"
    "<p>The harbour is open.</p>"          # 0
    "<p>The harbour is open.</p>"          # 1 (repeat)
    "<ul><li><a href='/'>Go home</a></li></ul>"  # 2 (all link)
    "<p>Read <a href='/m'>more</a> here</p>"     # 3 (partial link)
    "<p>See also:</p>"                     # 4
    "</body></html>"
)


@pytest.fixture(scope="module")
def tiny():
    L = html_lines(TINY)
    assert L.texts == ["The harbour is open.", "The harbour is open.", "Go home", "Read more here",
                       "See also:"]
    return L, page_features(L)


def col(X, name):
    return X[:, COL[name]]


def test_schema():
    assert len(FEATURE_NAMES) == len(set(FEATURE_NAMES))
    assert FEATURE_NAMES[:3] == ["page", "line", "nchars"]
    assert len(FEATURE_NAMES) == N_STRUCT + len(LINE_NAMES) + len(NEIGHBOUR_BASE) * len(NEIGHBOUR_OFFSETS)
    assert isinstance(SCHEMA_VERSION, int)
    for name in ("chars", "words", "link_density", "repeat", "title_contain", "ends_sentence",
                 "stopwords", "pos_line", "pos_char", "in_nav", "in_footer", "in_li", "hint_related",
                 "hint_comment", "prev1_chars", "next3_chars"):
        assert name in COL


def test_shape_and_dtype(tiny):
    L, X = tiny
    assert X.shape == (5, len(FEATURE_NAMES))
    assert X.dtype == np.float32
    assert np.isfinite(X).all()


def test_structure_columns(tiny):
    L, X = tiny
    assert col(X, "page").tolist() == [0] * 5
    assert col(X, "line").tolist() == [0, 1, 2, 3, 4]
    assert col(X, "nchars").tolist() == [17, 17, 6, 12, 8]
    assert (X[:, COL["anc0_start"]] == L.anc_start[:, 0]).all()
    assert (X[:, COL["anc4_end"]] == L.anc_end[:, 4]).all()
    assert (page_features(L, page=7)[:, 0] == 7).all()


def test_chars_and_words(tiny):
    _, X = tiny
    np.testing.assert_allclose(col(X, "chars"), np.log1p([17, 17, 6, 12, 8]), rtol=1e-6)
    np.testing.assert_allclose(col(X, "words"), np.log1p([4, 4, 2, 3, 2]), rtol=1e-6)
    np.testing.assert_allclose(col(X, "avg_word_len"), [17 / 4, 17 / 4, 3, 4, 4], rtol=1e-6)


def test_link_density(tiny):
    _, X = tiny
    np.testing.assert_allclose(col(X, "link_density"), [0, 0, 1, 4 / 12, 0], rtol=1e-6)


def test_repeat(tiny):
    _, X = tiny
    np.testing.assert_allclose(col(X, "repeat"), [math.log(2), math.log(2), 0, 0, 0], rtol=1e-6)


def test_title_overlap(tiny):
    _, X = tiny
    # title tokens {harbour, news, today}; "The harbour is open." has 1 of its 4 tokens in it
    np.testing.assert_allclose(col(X, "title_contain"), [0.25, 0.25, 0, 0, 0], rtol=1e-6)
    np.testing.assert_allclose(col(X, "title_cover"), [1 / 3, 1 / 3, 0, 0, 0], rtol=1e-6)
    np.testing.assert_allclose(col(X, "title_jacc"), [1 / 6, 1 / 6, 0, 0, 0], rtol=1e-6)


def test_sentence_end_colon_and_stopwords(tiny):
    _, X = tiny
    assert col(X, "ends_sentence").tolist() == [1, 1, 0, 0, 0]
    assert col(X, "ends_colon").tolist() == [0, 0, 0, 0, 1]
    # "the", "is" of 4 tokens; "more" of 3; "also" of 2
    np.testing.assert_allclose(col(X, "stopwords"), [0.5, 0.5, 0, 1 / 3, 0.5], rtol=1e-6)


@pytest.mark.parametrize("text,ends", [
    ("He said so!", 1), ("Is it?", 1), ("\u201cQuoted.\u201d", 1), ("(In brackets.)", 1),
    ("Trailing comma,", 0), ("No end", 0), ("\u6771\u4eac\u3002", 1),
])
def test_ends_sentence_values(text, ends):
    X = page_features(text_lines(text))
    assert col(X, "ends_sentence")[0] == ends


def test_positions(tiny):
    _, X = tiny
    np.testing.assert_allclose(col(X, "pos_line"), [0, 0.25, 0.5, 0.75, 1.0], rtol=1e-6)
    chars = np.array([17, 17, 6, 12, 8], dtype=float)
    np.testing.assert_allclose(col(X, "pos_char"), (np.cumsum(chars) - chars) / chars.sum(), rtol=1e-6)
    np.testing.assert_allclose(col(X, "page_chars"), math.log1p(chars.sum()), rtol=1e-6)
    np.testing.assert_allclose(col(X, "page_lines"), math.log1p(5), rtol=1e-6)


def test_tag_one_hot_and_context(tiny):
    _, X = tiny
    assert col(X, "tag_p").tolist() == [1, 1, 0, 1, 1]
    assert col(X, "tag_li").tolist() == [0, 0, 1, 0, 0]
    tag_cols = [i for n, i in COL.items() if n.startswith("tag_")]
    assert (X[:, tag_cols].sum(axis=1) == 1).all()
    assert col(X, "in_li").tolist() == [0, 0, 1, 0, 0]
    assert col(X, "in_list").tolist() == [0, 0, 1, 0, 0]
    assert col(X, "in_a_block").tolist() == [0, 0, 1, 0, 0]


def test_neighbour_columns_copy_neighbours_with_minus_one_padding(tiny):
    _, X = tiny
    n = len(X)
    for o in NEIGHBOUR_OFFSETS:
        for base in NEIGHBOUR_BASE:
            name = f"{'prev' if o < 0 else 'next'}{abs(o)}_{base}"
            got = col(X, name)
            for i in range(n):
                j = i + o
                want = col(X, base)[j] if 0 <= j < n else -1.0
                assert got[i] == want, (name, i)
    assert col(X, "prev1_chars")[0] == -1 and col(X, "next1_chars")[-1] == -1
    assert col(X, "prev1_link_density")[3] == 1.0  # line 2 is all link
    assert col(X, "next1_repeat")[0] == pytest.approx(math.log(2))


def test_cjk_characters_count_as_tokens():
    ja = "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3067\u3059"  # 10 CJK chars, no spaces
    X = page_features(text_lines(f"{ja}\nabcdefghij"))
    assert col(X, "cjk").tolist() == [1.0, 0.0]
    # one latin word of 10 letters is one token; 10 CJK characters are at least 10
    assert col(X, "words")[1] == pytest.approx(math.log1p(1))
    assert col(X, "words")[0] >= math.log1p(10) - 1e-6
    assert col(X, "chars")[0] == col(X, "chars")[1] == pytest.approx(math.log1p(10))


def test_context_flag_and_hint_columns(lighthouse_html):
    L = html_lines(lighthouse_html)
    X = page_features(L)
    row = {t: i for i, t in reversed(list(enumerate(L.texts)))}  # first occurrence

    def val(text, name):
        return X[row[text], COL[name]]

    assert val("Politics", "in_nav") == 1 and val("Politics", "in_li") == 1
    assert val("Politics", "in_header") == 1 and val("Politics", "hint_nav") == 1
    assert val("About us", "in_footer") == 1 and val("About us", "in_nav") == 0
    assert val("About us", "hint_footer") == 1
    assert val("Kittiwake colony returns to Marlow cliffs", "hint_related") == 1
    assert val("Kittiwake colony returns to Marlow cliffs", "in_aside") == 1
    assert val("Leave a Reply", "hint_comment") == 1
    assert val("Comment", "in_form") == 1 and val("Comment", "in_label") == 1
    assert val("Share this article Facebook Twitter WhatsApp Email", "hint_share") == 1
    assert val("About the author", "hint_author") == 1
    p = L.texts[13]
    assert p.startswith("The city council voted")
    for name in ("in_nav", "in_footer", "in_li", "in_form", "hint_related", "hint_comment",
                 "hint_share", "hint_author", "link_density"):
        assert X[13, COL[name]] == 0, name
    assert X[13, COL["in_article"]] == 1 and X[13, COL["in_main"]] == 1 and X[13, COL["in_p"]] == 1


def test_container_aggregates_on_nested_page():
    L = html_lines("<body><div><p>aaaa</p><p><a href='#'>bbbb</a></p></div><p>cc</p></body>")
    X = page_features(L)
    # line 0: block p (4 chars of 10), parent div (8 chars, half of it link), page
    np.testing.assert_allclose(X[0, COL["anc0_share"]], 0.4, rtol=1e-6)
    np.testing.assert_allclose(X[0, COL["anc1_share"]], 0.8, rtol=1e-6)
    np.testing.assert_allclose(X[0, COL["anc1_link"]], 0.5, rtol=1e-6)
    np.testing.assert_allclose(X[0, COL["anc1_lines"]], math.log1p(2), rtol=1e-6)
    np.testing.assert_allclose(X[0, COL["anc1_avg"]], math.log1p(4), rtol=1e-6)
    np.testing.assert_allclose(X[0, COL["anc2_share"]], 1.0, rtol=1e-6)
    np.testing.assert_allclose(X[1, COL["anc0_link"]], 1.0, rtol=1e-6)
    np.testing.assert_allclose(X[:, COL["anc1_p"]], 1.0, rtol=1e-6)  # all text in <p>


def test_label_prefix():
    L = text_lines("See also: Harbour reopens after the storm\n"
                   "The harbour reopened on Monday: three days of storms.\n"
                   "Share this article\n"
                   "Source:\n"
                   "Note: it was closed")
    X = page_features(L)
    # a 1-4 word label, a colon, then text; a colon after a sentence's 5th word is no label
    assert col(X, "lead_label").tolist() == [1, 0, 0, 0, 1]


def test_text_mode_gap_and_heading_columns():
    L = text_lines("# Head\n\n\nPara one.\n- item")
    X = page_features(L)
    assert col(X, "gap_before").tolist() == [0, 2, 0]
    assert col(X, "heading").tolist() == [1, 0, 0]
    assert col(X, "tag_head").tolist() == [1, 0, 0]
    assert col(X, "tag_li").tolist() == [0, 0, 1]
    assert col(X, "depth").tolist() == [0, 0, 0]


def test_empty_page_and_batch():
    assert page_features(Lines([])).shape == (0, len(FEATURE_NAMES))
    assert batch_features([]).shape == (0, len(FEATURE_NAMES))
    a, b = html_lines(TINY), text_lines("one\ntwo\nthree")
    X = batch_features([a, b])
    assert X.shape == (len(a) + len(b), len(FEATURE_NAMES))
    assert X[:, 0].tolist() == [0] * len(a) + [1] * len(b)
    assert X[:, 1].tolist() == list(range(len(a))) + list(range(len(b)))
    np.testing.assert_array_equal(X[len(a):, 1:], page_features(b)[:, 1:])


def test_exotic_code_points_do_not_break_token_counts():
    # emoji (outside the BMP) and a dotted capital I whose lower() is two code points
    L = text_lines("Hello \U0001F600 world\n\u0130stanbul news\n\U0001F600\U0001F600")
    X = page_features(L)
    assert X.shape == (3, len(FEATURE_NAMES))
    assert np.isfinite(X).all()


def _reference(texts: list[str], title: str) -> dict[str, np.ndarray]:
    """Plain-Python versions of the token features, for the property test."""
    from boilerclf.features import STOPWORDS

    title_set = set(re.findall(r"\w+", title.lower()))
    out = {k: [] for k in ("chars", "words", "stopwords", "short_words", "title_contain", "ends_colon",
                           "lead_label")}
    for t in texts:
        toks = re.findall(r"\w+", t.lower())
        nt = max(len(toks), 1)
        head, colon, tail = t.partition(":")
        out["lead_label"].append(float(bool(colon) and 1 <= len(re.findall(r"\w+", head)) <= 4
                                       and len(tail) > 2))
        out["chars"].append(math.log1p(max(sum(not ch.isspace() for ch in t), 1)))
        out["words"].append(math.log1p(max(len(toks), 1)))
        out["stopwords"].append(sum(w in STOPWORDS for w in toks) / nt)
        out["short_words"].append(sum(len(w) <= 3 for w in toks) / nt)
        out["title_contain"].append(sum(w in title_set for w in toks) / nt)
        out["ends_colon"].append(float(t.endswith(":")))
    return {k: np.asarray(v) for k, v in out.items()}


_WORDS = ["the", "The", "and", "of", "harbour", "Harbour", "news", "x", "caf\u00e9", "\u00dcber", "und",
          "See", "also", "Share", "comments", "May", "ago", "Kommentare",
          "a1", "2024", "it's", "e-mail", "le", "\u00e9t\u00e9", "ABC", "extraordinarily"]
_line = st.lists(st.sampled_from(_WORDS + [",", ".", ":", "!", "--"]), min_size=1, max_size=12).map(" ".join)


@settings(max_examples=60)
@given(st.lists(_line, min_size=1, max_size=6), _line)
def test_token_features_match_a_plain_python_reference(texts, title):
    L = text_lines("\n".join(texts), title=title)
    X = page_features(L)
    ref = _reference(L.texts, title)
    for name, want in ref.items():
        np.testing.assert_allclose(col(X, name), want, rtol=1e-5, atol=1e-6, err_msg=name)


def test_cjk_word_count_is_exact():
    X = page_features(text_lines("\u65e5\u672c\u8a9e"))
    assert X[0, FEATURE_NAMES.index("words")] == pytest.approx(math.log1p(3))
    assert X[0, FEATURE_NAMES.index("avg_word_len")] == pytest.approx(1.0)


def test_stopwords_case_insensitive_with_dotted_capital_i():
    X = page_features(text_lines("The harbour is open.\n\u0130stanbul news"))
    assert X[0, FEATURE_NAMES.index("stopwords")] == pytest.approx(0.5)


def _char_stats_reference(cps: np.ndarray, starts: np.ndarray, n: int):
    """The numpy version of the compiled character pass (boilerclf/_cfeat.pyx):
    counts (n, 9), token hashes, token lines, first colon, tokens before it."""
    from boilerclf.features import _POW, _char_table, _lower

    cls = np.where(cps < 0x10000, _char_table()[np.minimum(cps, 0xFFFF)], 2).astype(np.uint8)
    is_word = (cls & 2) > 0
    tok_start = is_word & ~np.concatenate([[False], is_word[:-1]])
    tok_end = is_word & ~np.append(is_word[1:], False)
    is_cjk, upper = (cls & 32) > 0, (cls & 4) > 0
    tok_pos = np.flatnonzero(tok_start)
    tok_len = np.flatnonzero(tok_end) - tok_pos + 1
    cols = [~(cls & 1).astype(bool), tok_start, is_cjk, upper, (cls & 8) > 0, (cls & 16) > 0,
            tok_start & upper, tok_start & is_cjk]
    counts = np.stack([np.add.reduceat(c.astype(np.int64), starts) for c in cols]
                      + [np.zeros(n, np.int64)], axis=1).astype(np.float32)
    tok_line = np.searchsorted(starts, tok_pos, side="right") - 1
    np.add.at(counts[:, 8], tok_line[tok_len <= 3], 1)
    low = _lower(cps).astype(np.uint64)
    hashes = np.array([(sum(int(low[p + k]) * int(_POW[min(k, 31)]) for k in range(int(ln))) % (1 << 64))
                       ^ ((int(ln) * 0x9E3779B97F4A7C15) % (1 << 64)) for p, ln in zip(tok_pos, tok_len)],
                      dtype=np.uint64)
    ends = np.append(starts[1:] - 1, len(cps))
    colon_at = np.full(n, -1, np.int64)
    before = np.zeros(n, np.int64)
    for i in range(n):
        hit = np.flatnonzero((cps[starts[i]:ends[i]] == 0x3A) | (cps[starts[i]:ends[i]] == 0xFF1A))
        if len(hit):
            colon_at[i] = starts[i] + hit[0]
            before[i] = int(((tok_pos >= starts[i]) & (tok_pos < colon_at[i])).sum())
    return counts, hashes, tok_line, colon_at, before


@settings(max_examples=150)
@given(st.lists(st.text(min_size=1, max_size=40).map(lambda t: t.replace("\n", " ")), min_size=1, max_size=6))
def test_compiled_char_pass_matches_numpy_reference(texts):
    from boilerclf._cfeat import char_stats
    from boilerclf.features import _POW, _char_table, _lower_table

    joined = "\n".join(texts)
    cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lens = np.array([len(t) for t in texts], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lens[:-1] + 1)]).astype(np.int64)
    got = char_stats(cps, starts, _char_table(), _lower_table(), _POW)
    want = _char_stats_reference(cps, starts, len(texts))
    for name, g, w in zip(("counts", "hashes", "tok_line", "colon_at", "toks_before"), got, want):
        np.testing.assert_array_equal(g, w, err_msg=name)


def test_compiled_char_pass_refuses_short_tables():
    from boilerclf._cfeat import char_stats

    cps = np.array([65, 66], dtype=np.uint32)
    with pytest.raises(ValueError, match="tables"):
        char_stats(cps, np.zeros(1, np.int64), np.zeros(10, np.uint8), np.zeros(10, np.uint32),
                   np.zeros(32, np.uint64))


@pytest.mark.parametrize("n", [0, 3, 300, 20000])
def test_hashset_membership_is_exact_with_table_and_fallback(n):
    from boilerclf.features import HashSet

    rng = np.random.default_rng(n)
    members = rng.integers(0, 2**63, n, dtype=np.uint64)
    hs = HashSet(members)
    assert len(hs) == len(np.unique(members))
    assert (hs.table is None) == (n > 4000)  # a huge set (a title of thousands of words) uses binary search
    others = rng.integers(0, 2**63, 5000, dtype=np.uint64)
    # same low bits as a member, different value: must not match
    twins = members[:50] ^ np.uint64(1 << 40)
    probe = np.concatenate([members, others, twins, np.arange(1, 1030, dtype=np.uint64)])
    np.testing.assert_array_equal(hs.contains(probe), np.isin(probe, members))
