"""boilerclf.features.table: known feature values on tiny pages."""
from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boilerclf.features.table import (
    FEATURE_NAMES,
    LINE_NAMES,
    N_STRUCT,
    NEIGHBOUR_BASE,
    NEIGHBOUR_NAMES,
    NEIGHBOUR_OFFSETS,
    SCHEMA_VERSION,
    batch_features,
    headline_columns,
    page_features,
)
from boilerclf.parse.html import html_lines
from boilerclf.parse.lines import Lines
from boilerclf.parse.text import text_lines

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
    assert len(FEATURE_NAMES) == N_STRUCT + len(LINE_NAMES) + len(NEIGHBOUR_BASE) * len(NEIGHBOUR_OFFSETS) + 4
    assert FEATURE_NAMES[-4:] == ["head_dist", "head_chars", "head_sections", "has_head"]
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
    from boilerclf.features.table import STOPWORDS

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


def test_character_tables_are_the_str_methods_of_every_code_point():
    """The per-process tables (built vectorised, for start-up time) are what a
    plain loop over the BMP with ``str`` methods and the regex ``\\w`` gives."""
    import re

    from boilerclf.features.table import _build_char_table, _build_lower_table

    word = re.compile(r"\w")
    chars, lows = np.zeros(0x10000, np.uint8), np.arange(0x10000, dtype=np.uint32)
    for cp in range(0x10000):
        ch = chr(cp)
        low = ch.lower()
        if len(low) == 1:
            lows[cp] = ord(low)
        v = 1 if ch.isspace() else 0
        if word.match(ch):
            v |= 2 | (4 if ch.isupper() else 0) | (8 if ch.isdigit() else 0)
            if (0x3040 <= cp <= 0x30FF or 0x3400 <= cp <= 0x9FFF or 0xAC00 <= cp <= 0xD7AF
                    or 0xF900 <= cp <= 0xFAFF):
                v |= 32
        elif not ch.isspace() and ch.isprintable() and not ch.isalnum():
            v |= 16
        chars[cp] = v
    got_chars, got_lows = _build_char_table(), _build_lower_table()
    assert got_chars.dtype == np.uint8 and got_lows.dtype == np.uint32
    assert np.array_equal(got_chars, chars) and np.array_equal(got_lows, lows)
    assert got_lows[0x130] == 0x130 and got_lows[ord("A")] == ord("a")  # dotted I lowers to 2 chars


def _char_stats_reference(cps: np.ndarray, starts: np.ndarray, n: int):
    """The numpy version of the compiled character pass (boilerclf/features/_cfeat.pyx):
    counts (n, 9), token hashes, token lines, first colon, tokens before it."""
    from boilerclf.features.table import _POW, _char_table, _lower

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
    from boilerclf.features._cfeat import char_stats

    from boilerclf.features.table import _POW, _char_table, _lower_table

    joined = "\n".join(texts)
    cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lens = np.array([len(t) for t in texts], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lens[:-1] + 1)]).astype(np.int64)
    got = char_stats(cps, starts, _char_table(), _lower_table(), _POW)
    want = _char_stats_reference(cps, starts, len(texts))
    for name, g, w in zip(("counts", "hashes", "tok_line", "colon_at", "toks_before"), got, want):
        np.testing.assert_array_equal(g, w, err_msg=name)


def test_compiled_char_pass_refuses_short_tables():
    from boilerclf.features._cfeat import char_stats

    cps = np.array([65, 66], dtype=np.uint32)
    with pytest.raises(ValueError, match="tables"):
        char_stats(cps, np.zeros(1, np.int64), np.zeros(10, np.uint8), np.zeros(10, np.uint32),
                   np.zeros(32, np.uint64))


@pytest.mark.parametrize("n", [0, 3, 300, 20000])
def test_hashset_membership_is_exact_with_table_and_fallback(n):
    from boilerclf.features.table import HashSet

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


def _in_table(cps: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``table[cps]`` for code points of any plane (outside the BMP: False)."""
    return table[np.minimum(cps, 0xFFFF)] & (cps < 0x10000)


def _page_features_reference(lines: Lines, page: int = 0) -> np.ndarray:
    """The numpy version of :func:`boilerclf.features.table.page_features` (its
    implementation before the compiled ``fill_features``): whole-array
    operations per page, the per-character pass compiled (``char_stats``).
    It needs non-empty line texts (an empty one reads the neighbouring
    line's characters, or fails at the end of the page)."""
    from boilerclf.features._cfeat import char_stats

    from boilerclf.features.table import (
        _BULLETS_T,
        _COL,
        _POW,
        _PUNCT_END_T,
        _TAG_GROUP_OF,
        FLAG_NAMES,
        HINT_NAMES,
        HashSet,
        _char_table,
        _lower_table,
        _stop_hashes,
        text_hashes,
    )
    from boilerclf.parse.lines import N_ANCESTORS

    _FLAG_COLS = np.array([_COL[n] for n in FLAG_NAMES])
    _HINT_COLS = np.array([_COL[n] for n in HINT_NAMES])
    n = len(lines)
    out = np.zeros((n, len(FEATURE_NAMES)), dtype=np.float32)
    if n == 0:
        return out
    texts = lines.texts
    joined = "\n".join(texts)
    cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(lens[:-1] + 1, out=starts[1:])
    ends = starts + lens
    # one compiled pass over the characters: per-line class and token counts,
    # token hashes (lower-cased) with their line, each line's first colon
    sums, hashes, tok_line, colon_at, toks_before = char_stats(
        cps, starts, _char_table(), _lower_table(), _POW)
    nonspace = np.maximum(sums[:, 0], 1.0)
    n_tok, cjk, upper, digit, punct, cap_tok, cjk_tok, short = (sums[:, j] for j in range(1, 9))
    # tokens, with each CJK character counted as one (a token starting with a
    # CJK character counts as its characters instead)
    units = np.maximum(n_tok - cjk_tok + cjk, 1.0)
    ntok_safe = np.maximum(n_tok, 1.0)
    stop = np.bincount(tok_line[_stop_hashes().contains(hashes)], minlength=n).astype(np.float32)
    # a label of 1-4 tokens before the line's first colon: "See also: ..."
    lead_label = (colon_at >= 0) & (toks_before >= 1) & (toks_before <= 4) & (ends - colon_at > 3)
    title_h = HashSet(text_hashes(lines.title) if lines.title else np.zeros(0, np.uint64))
    hits = np.bincount(tok_line[title_h.contains(hashes)], minlength=n).astype(np.float32)
    counts = Counter(texts)
    repeat = np.fromiter((counts[t] for t in texts), dtype=np.float32, count=n)
    last = cps[ends - 1]
    first = cps[starts]

    link = np.minimum(lines.link_chars.astype(np.float32) / nonspace, 1.0)
    total_chars = float(nonspace.sum())
    cum_chars = np.cumsum(nonspace) - nonspace
    idx = np.arange(n, dtype=np.float32)
    depth = lines.depth.astype(np.float32)
    tag = lines.tag.astype(np.int64)

    f = out[:, N_STRUCT:N_STRUCT + len(LINE_NAMES)]
    c = _COL
    f[:, c["chars"]] = np.log1p(nonspace)
    f[:, c["words"]] = np.log1p(units)
    f[:, c["avg_word_len"]] = nonspace / units
    f[:, c["link_density"]] = link
    f[:, c["text_density"]] = units / np.maximum(np.ceil(lens / 80.0), 1.0)
    f[:, c["pos_line"]] = idx / max(n - 1, 1)
    f[:, c["pos_char"]] = cum_chars / max(total_chars, 1.0)
    f[:, c["title_contain"]] = hits / ntok_safe
    if len(title_h):
        f[:, c["title_cover"]] = np.minimum(hits / len(title_h), 1.0)
        f[:, c["title_jacc"]] = hits / np.maximum(n_tok + len(title_h) - hits, 1.0)
    f[:, c["repeat"]] = np.log(repeat)
    f[:, c["punct"]] = punct / nonspace
    f[:, c["digit"]] = digit / nonspace
    f[:, c["upper"]] = upper / nonspace
    f[:, c["cap_words"]] = cap_tok / ntok_safe
    ends_sentence = _in_table(last, _PUNCT_END_T)
    f[:, c["ends_sentence"]] = ends_sentence
    f[:, c["ends_colon"]] = last == ord(":")
    f[:, c["starts_bullet"]] = _in_table(first, _BULLETS_T)
    f[:, c["stopwords"]] = stop / ntok_safe
    f[:, c["lead_label"]] = lead_label
    f[:, c["short_words"]] = short / ntok_safe
    f[:, c["cjk"]] = cjk / nonspace
    f[:, c["heading"]] = lines.heading_level
    f[:, c["depth"]] = depth
    f[:, c["depth_rel"]] = depth / max(float(depth.max()), 1.0)
    f[:, c["gap_before"]] = lines.gap_before
    # densest region: the line with most characters in a window of 5 lines
    win = np.convolve(nonspace, np.ones(5, dtype=np.float32), mode="same")
    f[:, c["dense_dist"]] = (idx - float(np.argmax(win))) / max(n, 1)
    groups = _TAG_GROUP_OF[tag]
    f[np.arange(n), c["tag_p"] + groups] = 1.0
    f[:, _FLAG_COLS] = (lines.flags[:, None] >> np.arange(len(FLAG_NAMES))) & 1
    f[:, _HINT_COLS] = (lines.hints[:, None] >> np.arange(len(HINT_NAMES))) & 1
    # prose: lines of 80+ characters that end a sentence, have stopwords and few links
    prose = nonspace * ((nonspace >= 80) & ends_sentence & (stop >= 0.1 * n_tok) & (link < 0.3))
    cs_prose = np.concatenate([[0.0], np.cumsum(prose)])
    # containers: aggregates over line ranges with prefix sums
    cs_chars = np.concatenate([[0.0], np.cumsum(nonspace)])
    cs_link = np.concatenate([[0.0], np.cumsum(np.minimum(lines.link_chars, nonspace))])
    cs_p = np.concatenate([[0.0], np.cumsum(nonspace * (groups == 0))])
    a0, a1 = lines.anc_start, lines.anc_end
    for k in range(N_ANCESTORS):
        s, e = a0[:, k], a1[:, k]
        ch = cs_chars[e] - cs_chars[s]
        nl = np.maximum(e - s, 1)
        chs = np.maximum(ch, 1.0)
        f[:, c[f"anc{k}_share"]] = ch / max(total_chars, 1.0)
        f[:, c[f"anc{k}_link"]] = (cs_link[e] - cs_link[s]) / chs
        f[:, c[f"anc{k}_p"]] = (cs_p[e] - cs_p[s]) / chs
        f[:, c[f"anc{k}_lines"]] = np.log1p(nl)
        f[:, c[f"anc{k}_avg"]] = np.log1p(ch / nl)
    # main containers, readability-style, from the candidate line ranges
    # each (start, end) pair as one int64 key, the whole page (0, n) among them;
    # the smallest non-empty range holding the share of the prose wins, ties to
    # the smallest key (rank = size * (n+1)^2 + key), with no sort
    keys = np.append(a0.ravel().astype(np.int64) * (n + 1) + a1.ravel(), n)
    k0, k1 = keys // (n + 1), keys % (n + 1)
    cand_prose = cs_prose[k1] - cs_prose[k0]
    size = k1 - k0
    rank = np.where(size > 0, size, n + 1) * (n + 1) ** 2 + keys
    total_prose = cs_prose[-1]
    for frac in (75, 50):
        if total_prose > 0:
            j = int(np.argmin(np.where(cand_prose >= frac / 100 * total_prose, rank, np.iinfo(np.int64).max)))
            best = (k0[j], k1[j])
        else:
            best = (0, n)
        ms, me = int(best[0]), int(best[1])
        pos = np.arange(n)
        f[:, c[f"in_main{frac}"]] = (pos >= ms) & (pos < me)
        f[:, c[f"dist_main{frac}"]] = (np.maximum(ms - pos, 0) + np.maximum(pos - me + 1, 0)) / max(n, 1)
        f[:, c[f"main{frac}_size"]] = (me - ms) / max(n, 1)
    f[:, c["page_chars"]] = np.log1p(total_chars)
    f[:, c["page_lines"]] = np.log1p(n)
    # neighbours
    nb = out[:, N_STRUCT + len(LINE_NAMES):N_STRUCT + len(LINE_NAMES) + len(NEIGHBOUR_NAMES)]
    src = np.array([c[name] for name in NEIGHBOUR_BASE])
    width = len(NEIGHBOUR_BASE)
    for j, o in enumerate(NEIGHBOUR_OFFSETS):
        block = nb[:, j * width:(j + 1) * width]
        block[:] = -1.0
        if o < 0 and n + o > 0:
            block[-o:] = f[:n + o, src]
        elif o > 0 and n - o > 0:
            block[:n - o] = f[o:, src]
    # structure columns
    out[:, 0] = page
    out[:, 1] = idx
    out[:, 2] = nonspace
    out[:, 3:3 + N_ANCESTORS] = a0
    out[:, 3 + N_ANCESTORS:3 + 2 * N_ANCESTORS] = a1
    _headline_reference(out)
    return out


def _headline_reference(out: np.ndarray) -> None:
    """The numpy version of :func:`boilerclf.features.table.headline_columns` (the
    version first measured in LODO, session 10)."""
    from boilerclf.features.table import HEAD_NAMES, HEADLINE_MIN_JACC

    c = {name: i for i, name in enumerate(FEATURE_NAMES)}
    head = out[:, c[HEAD_NAMES[0]]:c[HEAD_NAMES[0]] + 4]
    jac, level = out[:, c["title_jacc"]], out[:, c["heading"]]
    i = int(np.argmax(jac + 0.5 * ((level > 0) & (jac > HEADLINE_MIN_JACC))))
    if jac[i] < HEADLINE_MIN_JACC:
        head[:] = 0
        return
    n = len(out)
    idx = np.arange(n)
    running = np.cumsum(out[:, 2].astype(np.float64))
    head[:, 0] = (idx - i) / n
    head[:, 1] = (running - running[i]) / max(running[-1], 1.0)
    top = level[i] if level[i] > 0 else 2
    big = np.cumsum((level > 0) & (level <= top))
    head[:, 2] = big - big[i]
    head[:, 3] = 1


def _bits(X: np.ndarray) -> np.ndarray:
    """The matrix as raw bits: equality that tells -0.0 from 0.0 and NaN from NaN."""
    return np.ascontiguousarray(X, dtype=np.float32).view(np.uint32)


_TEXT_WORDS = _WORDS + [
    "\u65e5\u672c\u8a9e", "\u6771\u4eac\u3002", "\ud55c\uad6d\uc5b4", "\u0130stanbul", "\U0001F600", "\U00020000\u5b57",
    "See also:", "Source\uff1a", "1.", "-", "\u2022", "\u00bb", "\u201cQuoted.\u201d", "(x)", "a\u00a0b", "   ", "\t",
    "\ud800", "\u0300", "x" * 90, "Harbour news today", "\u2014", ">", "9",
]
_rich_line = st.one_of(
    st.lists(st.sampled_from(_TEXT_WORDS + [",", ".", ":", "!", "?", "--"]), min_size=1, max_size=30).map(" ".join),
    st.text(min_size=1, max_size=60),
    st.sampled_from([" ", "  ", ":", "a", "\u65e5", "\U0001F600", "x" * 200 + ".", "A: b c d"]),
)


@st.composite
def _random_lines(draw, max_lines: int = 14) -> Lines:
    """Any Lines the public API can hand over: random texts (repeats, CJK,
    blank and single-character lines, a title or none), link counts, tags,
    depths, flags and ancestor ranges (nested or not, empty or whole-page)."""
    from boilerclf.parse.lines import N_ANCESTORS

    pool = draw(st.lists(_rich_line, min_size=1, max_size=8))
    n = draw(st.integers(1, max_lines))
    texts = [draw(st.sampled_from(pool)) if draw(st.booleans()) else draw(_rich_line) for _ in range(n)]
    title = draw(st.one_of(st.just(""), _rich_line, st.sampled_from(texts)))
    ints = lambda lo, hi, dt: np.array(draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n)), dtype=dt)  # noqa: E731
    bounds = draw(st.lists(st.tuples(st.integers(0, n), st.integers(0, n)), min_size=n * N_ANCESTORS,
                           max_size=n * N_ANCESTORS))
    lo = np.array([min(a, b) for a, b in bounds], dtype=np.int32).reshape(n, N_ANCESTORS)
    hi = np.array([max(a, b) for a, b in bounds], dtype=np.int32).reshape(n, N_ANCESTORS)
    if draw(st.booleans()):  # nested: each level holds the one below and the line itself
        i = np.arange(n, dtype=np.int32)[:, None]
        lo = np.minimum(np.minimum.accumulate(lo, axis=1), i)
        hi = np.maximum(np.maximum.accumulate(hi, axis=1), i + 1)
    return Lines(
        texts=texts, kind=draw(st.sampled_from(["html", "text"])), title=title,
        link_chars=np.array([draw(st.integers(0, len(t) + 3)) for t in texts], dtype=np.int32),
        tag=ints(-128, 127, np.int8), depth=ints(-2, 60, np.int32),
        flags=ints(-2**31, 2**31 - 1, np.int32), hints=ints(-2**31, 2**31 - 1, np.int32),
        gap_before=ints(-128, 127, np.int8), anc_start=lo, anc_end=hi,
    )


@settings(max_examples=400, deadline=None)
@given(_random_lines(), st.integers(0, 2**40))
def test_compiled_page_features_match_numpy_reference(L, page):
    np.testing.assert_array_equal(_bits(page_features(L, page)), _bits(_page_features_reference(L, page)))


# pages of up to 400 lines are the point here: hypothesis' size health check would refuse some draws
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.data_too_large, HealthCheck.too_slow])
@given(_random_lines(max_lines=400))
def test_compiled_page_features_match_numpy_reference_on_longer_pages(L):
    np.testing.assert_array_equal(_bits(page_features(L, 3)), _bits(_page_features_reference(L, 3)))


def test_compiled_page_features_match_reference_on_real_pages(lighthouse_html):
    for L in (html_lines(lighthouse_html), html_lines(TINY), text_lines("# Head\n\n\nPara one.\n- item"),
              text_lines("one line only"), html_lines("<p>no title: here</p><p>\u65e5\u672c\u8a9e\u3002</p>")):
        np.testing.assert_array_equal(_bits(page_features(L, 5)), _bits(_page_features_reference(L, 5)))


def test_compiled_fill_writes_every_cell():
    from boilerclf.features._cfeat import fill_features

    from boilerclf.features.table import _feature_tables

    L = html_lines(TINY)
    out = np.full((len(L), len(FEATURE_NAMES)), np.nan, dtype=np.float32)
    fill_features(_feature_tables(), out, 0, L.texts, L.title, Counter(L.texts), L.link_chars, L.depth,
                  L.tag, L.gap_before, L.flags, L.hints, L.anc_start, L.anc_end)
    headline_columns(out)
    np.testing.assert_array_equal(_bits(out), _bits(page_features(L)))


def test_huge_page_is_linear_and_exact():
    import time

    texts = [f"Line {i % 977} of the page: {'word ' * (i % 13)}end." for i in range(100_000)]
    L = text_lines("\n".join(texts))
    t = time.process_time()
    X = page_features(L)
    assert time.process_time() - t < 2.0  # about 0.1 s; a quadratic step would take minutes
    np.testing.assert_array_equal(_bits(X), _bits(_page_features_reference(L)))


def test_pages_beyond_float32_exact_character_counts():
    # 2^24+ non-space characters: the page total and the densest window fall
    # back to numpy's float32 sums (pairwise, rounded), as the reference
    texts = ["a" * 5_000_000, "b" * 3, "c" * 4_000_001, "d" * 4_999_999, "e" * 2_777_777, "f" * 7] + ["g h."] * 5
    L = Lines(texts, link_chars=np.zeros(11, np.int32), tag=np.zeros(11, np.int8), depth=np.zeros(11, np.int32),
              flags=np.zeros(11, np.int32), hints=np.zeros(11, np.int32), gap_before=np.zeros(11, np.int8),
              anc_start=np.zeros((11, 5), np.int32), anc_end=np.full((11, 5), 11, np.int32))
    np.testing.assert_array_equal(_bits(page_features(L)), _bits(_page_features_reference(L)))


def test_empty_and_blank_lines():
    # an empty text (not made by html_lines/text_lines) has no first or last
    # character: its row is that of a single space
    def lines(texts):
        n = len(texts)
        return Lines(texts, title="x", link_chars=np.zeros(n, np.int32), tag=np.zeros(n, np.int8),
                     depth=np.zeros(n, np.int32), flags=np.zeros(n, np.int32), hints=np.zeros(n, np.int32),
                     gap_before=np.zeros(n, np.int8), anc_start=np.zeros((n, 5), np.int32),
                     anc_end=np.full((n, 5), n, np.int32))

    for texts in (["", "A."], ["A.", "", "b:"], ["A?", ""], [""]):
        X = page_features(lines(texts))
        assert np.isfinite(X).all()
        np.testing.assert_array_equal(_bits(X), _bits(page_features(lines([t or " " for t in texts]))))
    X = page_features(lines(["   ", "\u3000"]))
    assert col(X, "chars").tolist() == [pytest.approx(math.log1p(1))] * 2


def test_bad_lines_arrays_are_refused():
    good = html_lines(TINY)
    n = len(good)

    def with_(**kw):
        d = dict(texts=list(good.texts), title=good.title, link_chars=good.link_chars, tag=good.tag,
                 depth=good.depth, flags=good.flags, hints=good.hints, gap_before=good.gap_before,
                 anc_start=good.anc_start.copy(), anc_end=good.anc_end.copy())
        d.update(kw)
        return Lines(**d)

    bad_end = good.anc_end.copy()
    bad_end[2, 3] = n + 1
    bad_start = good.anc_start.copy()
    bad_start[0, 0] = -1
    crossed = good.anc_start.copy()
    crossed[1, 1] = good.anc_end[1, 1] + 1
    for L in (with_(anc_end=bad_end), with_(anc_start=bad_start), with_(anc_start=crossed, anc_end=np.maximum(
              good.anc_end, 0)), with_(link_chars=good.link_chars[:-1]), with_(depth=np.zeros(n + 1, np.int32)),
              with_(anc_start=good.anc_start[:, :3].copy()), with_(tag=np.full(n, 300)),
              with_(flags=np.zeros(n, np.float32)), with_(anc_end=good.anc_end[:-1])):
        with pytest.raises(ValueError):
            page_features(L)
    with pytest.raises(TypeError):
        page_features(with_(texts=list(good.texts[:-1]) + [b"bytes"]))
    # other integer dtypes and non-contiguous arrays are converted when the values fit
    X = page_features(with_(tag=good.tag.astype(np.int64), depth=good.depth.astype(np.uint8),
                            anc_start=np.asfortranarray(good.anc_start), texts=tuple(good.texts)))
    np.testing.assert_array_equal(_bits(X), _bits(page_features(good)))


def test_single_line_and_no_title():
    for L in (text_lines("Only: one line here.", title=""), text_lines("x"), text_lines("\u65e5")):
        np.testing.assert_array_equal(_bits(page_features(L, 1)), _bits(_page_features_reference(L, 1)))
    with pytest.raises(ValueError):
        page_features(Lines(["\u65e5"]))  # texts without the per-line arrays


def test_page_features_into_given_rows():
    a = text_lines("First paragraph of the story.\nSecond one here.")
    b = text_lines("Menu\nHome\nAbout us")
    X = np.full((len(a) + len(b) + 1, len(FEATURE_NAMES)), np.nan, dtype=np.float32)
    got = page_features(b, 1, out=X[len(a):len(a) + len(b)])
    assert got.base is X or got.base is X.base
    np.testing.assert_array_equal(X[len(a):len(a) + len(b)], page_features(b, 1))
    assert np.isnan(X[:len(a)]).all() and np.isnan(X[-1]).all()  # nothing outside the rows
    np.testing.assert_array_equal(batch_features([a, b]), np.vstack([page_features(a, 0), page_features(b, 1)]))
    for bad in (np.zeros((len(b), len(FEATURE_NAMES)), np.float64), np.zeros((len(b) + 1, len(FEATURE_NAMES)), np.float32),
                np.zeros((len(FEATURE_NAMES), len(b)), np.float32).T):
        with pytest.raises(ValueError, match="out must be"):
            page_features(b, out=bad)


SECOND_ARTICLE = """<html><head><title>Harbour seals return to the estuary | Coast News</title></head><body>
<nav><a href="/">Home</a> <a href="/nature">Nature</a></nav>
<aside><p>Bob writes about the coast. He is the author of three books on seabirds and tides.</p></aside>
<article><h1>Harbour seals return to the estuary</h1>
<p>For the first time in twenty years, harbour seals have been seen resting on the sandbanks.</p>
<h2>Counting from the air</h2>
<p>Volunteers counted forty animals from a small plane on Sunday morning.</p></article>
<article><h1>Storm closes the ferry for two days</h1>
<p>The ferry to the islands will not run until Wednesday, the operator said.</p></article>
</body></html>"""


def _head_cols(L):
    X = page_features(L)
    c = {name: i for i, name in enumerate(FEATURE_NAMES)}
    return {name: X[:, c[name]] for name in ("head_dist", "head_chars", "head_sections", "has_head")}


def test_headline_columns_place_lines_around_the_headline():
    L = html_lines(SECOND_ARTICLE)
    h = _head_cols(L)
    at = {t: i for i, t in enumerate(L.texts)}
    head = at["Harbour seals return to the estuary"]
    assert (h["has_head"] == 1).all()
    assert h["head_dist"][head] == 0 and h["head_chars"][head] == 0 and h["head_sections"][head] == 0
    bio = at[next(t for t in L.texts if t.startswith("Bob writes"))]
    assert h["head_dist"][bio] < 0 and h["head_chars"][bio] < 0 and h["head_sections"][bio] == -1
    # the article's own h2 is lower than its h1: still the headline's section
    assert h["head_sections"][at["Volunteers counted forty animals from a small plane on Sunday morning."]] == 0
    # the next article's h1 opens a new section
    ferry = at["The ferry to the islands will not run until Wednesday, the operator said."]
    assert h["head_sections"][ferry] == 1 and 0 < h["head_dist"][ferry] < 1 and 0 < h["head_chars"][ferry] < 1


def test_headline_columns_are_zero_without_a_matching_line():
    L = html_lines("<title>Quarterly report</title><p>Nothing here shares a word with it.</p><p>Nor here.</p>")
    h = _head_cols(L)
    assert all((v == 0).all() for v in h.values())
    # a text page's title is its first line, which is then its headline
    h = _head_cols(text_lines("Seals return\n\nThe seals came back on Sunday."))
    assert (h["has_head"] == 1).all() and h["head_dist"].tolist() == [0.0, 0.5]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60), st.integers(0, 2**32 - 1))
def test_headline_columns_match_reference_on_random_columns(n, seed):
    rng = np.random.default_rng(seed)
    X = np.zeros((n, len(FEATURE_NAMES)), dtype=np.float32)
    c = {name: i for i, name in enumerate(FEATURE_NAMES)}
    X[:, 2] = rng.integers(0, 300, n)
    X[:, c["title_jacc"]] = rng.choice(np.array([0, 0.1, 0.2, 0.2000001, 0.5, 1.0], np.float32), n)
    X[:, c["heading"]] = rng.integers(0, 7, n) * (rng.random(n) < 0.4)
    ref = X.copy()
    _headline_reference(ref)
    headline_columns(X)
    np.testing.assert_array_equal(_bits(X), _bits(ref))
