"""Lines to features: the third step of the pipeline.

:func:`page_features` turns one page's :class:`~boilerclf.parse.lines.Lines` into a
float32 matrix, one row per line.  This module defines the features (the
table below, the names, the stopwords and character tables); the computation
is compiled (``boilerclf/features/_cfeat.pyx``, :func:`~boilerclf.features._cfeat.fill_features`):
one pass over each line's code points counts character classes and tokens,
hashes every token (lower-cased) and looks it up among the stopwords and the
title's tokens, and a few loops over the lines fill the matrix, with prefix
sums over the lines for the container aggregates; one more loop
(:func:`headline_columns`) then places every line relative to the page's
headline.  The logarithms are numpy's,
computed on whole arrays; the values are those of the numpy version kept in
the tests (``tests/features/test_table.py::_page_features_reference``), to the bit.

The matrix starts with ``N_STRUCT`` *structure* columns the model's context
pass needs (page id, line index, the line's character count and the line
ranges of its containers); the learned features follow.  The table of columns
is :data:`FEATURE_NAMES`; its layout is versioned by :data:`SCHEMA_VERSION`,
which every saved model records.

Feature table (per line; ``ancK_*`` for the line's block element K=0 and its
4 nearest ancestors; ``prevN_*``/``nextN_*`` for the neighbours at distance N):

========================  ====================================================
chars, words              log1p of non-space characters / tokens (CJK
                          characters count as tokens)
avg_word_len              characters per token
link_density              share of the characters inside links
text_density              tokens per 80-character wrapped line (boilerpipe)
pos_line, pos_char        line index and character offset, as fractions
title_contain             share of the line's tokens found in the title
title_cover, title_jacc   share of the title's tokens in the line; Jaccard
repeat                    log of how often the same text occurs in the page
punct, digit, upper       ratios of punctuation, digits, upper-case letters
cap_words                 share of tokens starting with a capital
ends_sentence             last character is sentence-final punctuation
ends_colon, starts_bullet ends with ':' / starts with a bullet or a number
stopwords, short_words    share of very frequent function words (a
                          multilingual list) / of tokens of <= 3 characters
lead_label                the line starts with a 1-4 word label and a colon
                          ("See also: ...", "Source: ...")
cjk                       share of CJK characters
tag_*, heading            block tag of the line (one-hot) and heading level
depth, depth_rel          DOM depth, and relative to the page's deepest line
gap_before                blank lines before (text mode)
in_*                      the line sits inside nav, header, footer, ...
hint_*                    an ancestor's class/id contains nav, comment, ...
ancK_share, ancK_link,    share of the page's characters under the container,
ancK_p, ancK_lines,       its link density, share of its text in <p>, log
ancK_avg                  lines, mean characters per line
dense_dist                distance (in lines, as a fraction) to the densest
                          text region of the page
in_mainF, dist_mainF,     the main container: the smallest container holding
mainF_size                F% (75, 50) of the page's prose (lines of 80+
                          characters that end a sentence, have stopwords and
                          few links); whether the line is inside it, its
                          distance to it, and its size (lines, as a fraction)
page_chars, page_lines    log1p of the page's characters and lines
head_dist, head_chars     where the line is relative to the page's headline
                          (the line that best matches the title, headings
                          first): signed distance in lines and in characters,
                          as fractions of the page
head_sections             signed count of headings of the headline's level or
                          higher between the headline and the line (a second
                          article below the first starts a new section)
has_head                  the page has a headline (best title Jaccard >= 0.2;
                          without one the three columns above are 0)
========================  ====================================================
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from boilerclf.features._cfeat import (
    ANC_FILL,
    FILL_NAMES,
    MAIN_FILL,
    FeatureTables,
    fill_features,
    headline_fill,
)
from boilerclf.parse.lines import CONTEXT_FLAGS, HINTS, N_ANCESTORS, TAG_ID, Lines

#: Version of the column layout below; bump on any change.
SCHEMA_VERSION = 4

STRUCT_NAMES = (
    ["page", "line", "nchars"]
    + [f"anc{k}_start" for k in range(N_ANCESTORS)]
    + [f"anc{k}_end" for k in range(N_ANCESTORS)]
)
N_STRUCT = len(STRUCT_NAMES)

_TAG_GROUPS = (
    ("p", ("p",)), ("div", ("div", "section", "article", "main", "center", "body")),
    ("li", ("li",)), ("cell", ("td", "th")), ("head", ("h1", "h2", "h3", "h4", "h5", "h6")),
    ("quote", ("blockquote",)), ("pre", ("pre",)), ("def", ("dd", "dt", "dl")),
    ("caption", ("figcaption", "caption", "figure")), ("form", ("form", "fieldset", "legend", "label")),
    ("semantic", ("header", "footer", "nav", "aside")), ("br", ("br",)), ("none", ("",)),
)
_TAG_GROUP_OF = np.zeros(128, dtype=np.int8) + len(_TAG_GROUPS)  # "other"
for _g, (_name, _tags) in enumerate(_TAG_GROUPS):
    for _t in _tags:
        _TAG_GROUP_OF[TAG_ID[_t]] = _g

#: Main containers: the smallest holding this percentage of the page's prose.
MAIN_PERCENTS = (75, 50)

BASE_NAMES = [
    "chars", "words", "avg_word_len", "link_density", "text_density",
    "pos_line", "pos_char", "title_contain", "title_cover", "title_jacc",
    "repeat", "punct", "digit", "upper", "cap_words", "ends_sentence",
    "ends_colon", "starts_bullet", "stopwords", "short_words", "cjk",
    "heading", "depth", "depth_rel", "gap_before", "dense_dist",
    "in_main75", "dist_main75", "main75_size", "in_main50", "dist_main50", "main50_size",
    "lead_label",
]
TAG_NAMES = [f"tag_{n}" for n, _ in _TAG_GROUPS] + ["tag_other"]
FLAG_NAMES = [f"in_{n}" for n in CONTEXT_FLAGS]
HINT_NAMES = [f"hint_{n}" for n, _ in HINTS]
ANC_NAMES = [f"anc{k}_{s}" for k in range(N_ANCESTORS) for s in ("share", "link", "p", "lines", "avg")]
PAGE_NAMES = ["page_chars", "page_lines"]
#: Features repeated for the neighbours.
NEIGHBOUR_BASE = ["chars", "link_density", "ends_sentence", "stopwords", "title_contain",
                  "heading", "repeat", "tag_p", "tag_li", "depth"]
NEIGHBOUR_OFFSETS = (-3, -2, -1, 1, 2, 3)
NEIGHBOUR_NAMES = [
    f"{'prev' if o < 0 else 'next'}{abs(o)}_{n}" for o in NEIGHBOUR_OFFSETS for n in NEIGHBOUR_BASE
]
LINE_NAMES = BASE_NAMES + TAG_NAMES + FLAG_NAMES + HINT_NAMES + ANC_NAMES + PAGE_NAMES
#: Columns computed per page after the compiled pass (:func:`headline_columns`).
HEAD_NAMES = ["head_dist", "head_chars", "head_sections", "has_head"]
#: All columns of the matrix, structure columns first.
FEATURE_NAMES = STRUCT_NAMES + LINE_NAMES + NEIGHBOUR_NAMES + HEAD_NAMES
_COL = {n: i for i, n in enumerate(LINE_NAMES)}

# A multilingual list of very frequent short function words.
STOPWORDS = frozenset("""
a an the and or but of to in on at by for with from as is are was were be been
it its this that these those he she they we you i his her their our your not no
have has had do does did will would can could should may might there which who
what when where how than then also if so into about over after before more most
der die das und ist nicht ein eine einen dem den des zu im mit von auf für sich
es auch als an aus bei nach wie wir sie er ich du noch nur oder aber wird sind
le la les un une des du et est en dans pour qui que sur pas par ne se ce il au
plus avec son sont ou mais nous vous elle ils leur été
el los las y es en un una por con para del al lo se no su como más pero sus
il di che è e per non una sono della dei nel alla anche come più ma
o os as um uma do da em para com não por mais dos das ao
de het een van en is dat op te zijn met voor niet aan er ook als bij
""".split())




def in_sorted(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """``np.isin(values, sorted_set)`` for a sorted, unique ``sorted_set``: one
    binary search per value instead of sorting both arrays on every call."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    i = np.searchsorted(sorted_set, values)
    np.minimum(i, len(sorted_set) - 1, out=i)
    return sorted_set[i] == values


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique(a)`` for a 1-d array, without the import of ``numpy.ma``
    that ``np.unique`` makes on its first call (a cost of every process's start)."""
    a = np.sort(a)
    return a[np.r_[True, a[1:] != a[:-1]]] if len(a) else a


class HashSet:
    """Exact membership of 64-bit token hashes by one table lookup per value.

    Each hash sits in the slot given by its low bits, in a table sized (2^10
    to 2^18 slots, at most 2 MB) so that no two hashes share one; an empty
    slot ``j`` holds ``j + 1``, whose low bits are not ``j``, so it matches
    nothing.  A set too large for that (a page's title of thousands of
    words) falls back to binary search.
    """

    def __init__(self, hashes: np.ndarray):
        self.sorted = _sorted_unique(np.asarray(hashes, dtype=np.uint64))
        self.table = None
        bits = max(10, len(self.sorted).bit_length() + 6)
        while self.table is None and bits <= 18:
            mask = (1 << bits) - 1
            slots = (self.sorted & np.uint64(mask)).astype(np.intp)
            if len(_sorted_unique(slots)) == len(slots):
                self.table = np.arange(1, mask + 2, dtype=np.uint64)
                self.table[slots] = self.sorted
                self.mask = np.uint64(mask)
            bits += 1

    def __len__(self) -> int:
        return len(self.sorted)

    def contains(self, values: np.ndarray) -> np.ndarray:
        if self.table is None:
            return in_sorted(values, self.sorted)
        return self.table[(values & self.mask).astype(np.intp)] == values


def _cp_table(chars: str) -> np.ndarray:
    """Boolean table over the BMP: which code points are in ``chars``."""
    t = np.zeros(0x10000, dtype=bool)
    t[[ord(ch) for ch in chars]] = True
    return t


_PUNCT_END_T = _cp_table(".!?。！？…\"”’»)")
_BULLETS_T = _cp_table("-*•·–—►▸›>0123456789")


_POW = np.array([pow(1_000_003, k, 1 << 64) for k in range(32)], dtype=np.uint64)


def token_hashes(cps: np.ndarray, is_word: np.ndarray, tok_start: np.ndarray) -> np.ndarray:
    """A 64-bit hash of every ``\\w+`` token, computed on the code-point array
    (no Python per token): sum of code point x P^position, mixed with the length.
    The same hash as ``boilerclf/features/_cfeat.pyx`` computes for page features."""
    word_pos = np.flatnonzero(is_word)
    ts = tok_start[word_pos]
    first = np.flatnonzero(ts)  # index in word_pos of each token's first character
    if not len(first):
        return np.zeros(0, dtype=np.uint64)
    lens = np.diff(np.append(first, len(word_pos)))
    k = np.arange(len(word_pos)) - np.repeat(first, lens)  # position inside the token
    vals = cps[word_pos].astype(np.uint64) * _POW[np.minimum(k, 31)]
    h = np.add.reduceat(vals, first)
    return h ^ (lens.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))


def text_hashes(text: str) -> np.ndarray:
    """:func:`token_hashes` of a lower-cased string."""
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cls = _classes(cps)
    is_word = (cls & 2) > 0
    return token_hashes(_lower(cps), is_word, is_word & ~np.concatenate([[False], is_word[:-1]]))


def _classes(cps: np.ndarray) -> np.ndarray:
    return np.where(cps < 0x10000, _char_table()[np.minimum(cps, 0xFFFF)], 2).astype(np.uint8)


_STOP_HASHES: HashSet | None = None


def _stop_hashes() -> HashSet:
    """The token hashes of :data:`STOPWORDS`."""
    global _STOP_HASHES
    if _STOP_HASHES is None:
        _STOP_HASHES = HashSet(text_hashes(" ".join(STOPWORDS)))
    return _STOP_HASHES


def _build_lower_table() -> np.ndarray:
    """Per BMP code point: its lower-case code point (itself where lower() is not one character).
    Built with ``map`` over the code points' strings (no Python loop body): about
    20 ms, a cost every process pays once, on its first page."""
    lows = list(map(str.lower, map(chr, range(0x10000))))
    one = np.fromiter(map(len, lows), dtype=np.int64, count=0x10000) == 1
    joined = "".join(low if ok else "\0" for low, ok in zip(lows, one))
    cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return np.where(one, cps, np.arange(0x10000, dtype=np.uint32)).astype(np.uint32)


_LOWER_TABLE: np.ndarray | None = None


def _lower_table() -> np.ndarray:
    global _LOWER_TABLE
    if _LOWER_TABLE is None:
        _LOWER_TABLE = _build_lower_table()
    return _LOWER_TABLE


def _lower(cps: np.ndarray) -> np.ndarray:
    """Lower-cased code points (same length: no string re-encoding)."""
    return np.where(cps < 0x10000, _lower_table()[np.minimum(cps, 0xFFFF)], cps)


def _build_char_table() -> np.ndarray:
    """Per BMP code point: bit 1 space, 2 word char (regex ``\\w``: alphanumeric or
    ``_``), and for word chars 4 upper, 8 digit, 32 CJK; 16 punct (printable, not
    space, not alphanumeric, not a word char).  Built from the ``str`` predicates
    mapped over the code points (about 20 ms, once per process)."""
    chars = list(map(chr, range(0x10000)))

    def where(pred) -> np.ndarray:
        return np.fromiter(map(pred, chars), dtype=bool, count=0x10000)

    space, alnum, upper, digit, printable = (where(str.isspace), where(str.isalnum), where(str.isupper),
                                             where(str.isdigit), where(str.isprintable))
    word = alnum.copy()
    word[ord("_")] = True
    cp = np.arange(0x10000)
    cjk = (((0x3040 <= cp) & (cp <= 0x30FF)) | ((0x3400 <= cp) & (cp <= 0x9FFF))
           | ((0xAC00 <= cp) & (cp <= 0xD7AF)) | ((0xF900 <= cp) & (cp <= 0xFAFF)))
    table = space * 1 + word * 2 + (word & upper) * 4 + (word & digit) * 8 + (word & cjk) * 32
    table += (~word & ~space & printable & ~alnum) * 16
    return table.astype(np.uint8)


_CHAR_TABLE: np.ndarray | None = None


def _char_table() -> np.ndarray:
    global _CHAR_TABLE
    if _CHAR_TABLE is None:
        _CHAR_TABLE = _build_char_table()
    return _CHAR_TABLE


def _column_plan() -> dict:
    """Where :func:`~boilerclf.features._cfeat.fill_features` writes each quantity it
    computes: the column tables of :class:`~boilerclf.features._cfeat.FeatureTables`,
    checked to cover every column of :data:`FEATURE_NAMES` exactly once."""
    col = {n: i for i, n in enumerate(FEATURE_NAMES)}
    tag_u8 = np.arange(256).astype(np.uint8).view(np.int8)  # tag bytes as Lines.tag holds them
    nb = [(o, col[name], col[f"{'prev' if o < 0 else 'next'}{abs(o)}_{name}"])
          for o in NEIGHBOUR_OFFSETS for name in NEIGHBOUR_BASE]
    plan = dict(
        cols=[col[name] for name in FILL_NAMES],
        anc_cols=[[col[f"anc{k}_{s}"] for s in ANC_FILL] for k in range(N_ANCESTORS)],
        main_fracs=[pc / 100 for pc in MAIN_PERCENTS],
        main_cols=[[col[name] for name in (f"in_main{pc}", f"dist_main{pc}", f"main{pc}_size")]
                   for pc in MAIN_PERCENTS],
        group_of=_TAG_GROUP_OF[tag_u8],
        heading_of=Lines([], tag=tag_u8).heading_level,
        group_cols=[col[name] for name in TAG_NAMES],
        p_group=TAG_NAMES.index("tag_p"),
        flag_cols=[col[name] for name in FLAG_NAMES],
        hint_cols=[col[name] for name in HINT_NAMES],
        nb_off=[o for o, _, _ in nb], nb_src=[s for _, s, _ in nb], nb_dst=[d for _, _, d in nb],
    )
    written = (plan["cols"] + sum(plan["anc_cols"], []) + sum(plan["main_cols"], []) + plan["group_cols"]
               + plan["flag_cols"] + plan["hint_cols"] + plan["nb_dst"] + [col[name] for name in HEAD_NAMES])
    if tuple(MAIN_FILL) != ("in", "dist", "size") or sorted(written) != list(range(len(FEATURE_NAMES))):
        raise RuntimeError("the feature passes do not write every column exactly once")
    return plan


_PLAN = _column_plan()
_TABLES: FeatureTables | None = None


def _feature_tables() -> FeatureTables:
    """The page-independent inputs of the compiled pass (built on first use:
    the character tables take a moment)."""
    global _TABLES
    if _TABLES is None:
        stop = _stop_hashes()
        _TABLES = FeatureTables(
            len(FEATURE_NAMES), _char_table(), _lower_table(), _POW, _PUNCT_END_T, _BULLETS_T,
            stop.table, int(stop.mask) if stop.table is not None else 0, stop.sorted, **_PLAN)
    return _TABLES


def _int_array(a, dtype: type, name: str) -> np.ndarray:
    """``a`` as a C-contiguous array of ``dtype``; ``ValueError`` if it is not
    integers or a value does not fit."""
    if type(a) is np.ndarray and a.dtype == dtype and a.flags.c_contiguous:
        return a
    a = np.asarray(a)
    if a.dtype.kind not in "biu":
        raise ValueError(f"Lines.{name} must hold integers, not {a.dtype}")
    b = np.ascontiguousarray(a, dtype=dtype)
    if not np.array_equal(a, b):
        raise ValueError(f"Lines.{name} holds values outside {np.dtype(dtype).name}")
    return b


#: A page's headline must share at least this Jaccard share of tokens with the title.
HEADLINE_MIN_JACC = 0.2
_C_JACC = FEATURE_NAMES.index("title_jacc")
_C_HEADING = FEATURE_NAMES.index("heading")
_C_HEAD = FEATURE_NAMES.index(HEAD_NAMES[0])


def headline_columns(out: np.ndarray) -> None:
    """Fill the :data:`HEAD_NAMES` columns of one page's matrix ``out`` (a
    C-contiguous float32 array, every other column already computed) in place.

    The headline is the line of highest title Jaccard, a heading that matches
    (Jaccard above :data:`HEADLINE_MIN_JACC`) counting 0.5 more; the first
    such line on ties.  Distances are signed (negative above the headline);
    "in characters" is the difference of the running character counts (the
    headline's own included).  Compiled (:func:`~boilerclf.features._cfeat.headline_fill`);
    the numpy version is ``tests/features/test_table.py::_headline_reference``."""
    headline_fill(out, _C_JACC, _C_HEADING, _C_HEAD, HEADLINE_MIN_JACC)


def page_features(lines: Lines, page: int = 0, out: np.ndarray | None = None) -> np.ndarray:
    """The feature matrix of one page: ``(len(lines), len(FEATURE_NAMES))`` float32.

    With ``out`` (a C-contiguous float32 array of that shape, e.g. this page's
    rows of a batch matrix) the matrix is written there and ``out`` returned.

    Raises ``ValueError`` if the arrays of ``lines`` do not have one entry
    (``anc_start``/``anc_end``: one row of ``N_ANCESTORS``) per line, hold
    other than integers that fit their documented dtypes, or an ancestor
    range is not ``0 <= start <= end <= len(lines)``; ``TypeError`` if a
    text is not a ``str``.
    """
    n = len(lines)
    if out is None:
        out = np.empty((n, len(FEATURE_NAMES)), dtype=np.float32)  # every cell is written
    elif out.dtype != np.float32 or out.shape != (n, len(FEATURE_NAMES)) or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float32 array of shape {(n, len(FEATURE_NAMES))}")
    if n == 0:
        return out
    texts = lines.texts if type(lines.texts) is list else list(lines.texts)
    fill_features(
        _feature_tables(), out, page, texts, lines.title or "",
        # how often each text occurs in the page ("repeat")
        Counter(texts),
        _int_array(lines.link_chars, np.int32, "link_chars"), _int_array(lines.depth, np.int32, "depth"),
        _int_array(lines.tag, np.int8, "tag"), _int_array(lines.gap_before, np.int8, "gap_before"),
        _int_array(lines.flags, np.int32, "flags"), _int_array(lines.hints, np.int32, "hints"),
        _int_array(lines.anc_start, np.int32, "anc_start"), _int_array(lines.anc_end, np.int32, "anc_end"))
    headline_columns(out)
    return out


def batch_features(pages: list[Lines]) -> np.ndarray:
    """The matrices of several pages in one (page ids 0..len(pages)-1), each
    page written in place into its rows."""
    ends = np.cumsum([len(p) for p in pages], dtype=np.int64)
    X = np.empty((int(ends[-1]) if len(ends) else 0, len(FEATURE_NAMES)), dtype=np.float32)
    start = 0
    for i, (p, end) in enumerate(zip(pages, ends.tolist())):
        page_features(p, i, out=X[start:end])
        start = end
    return X
