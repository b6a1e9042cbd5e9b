# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Compiled inner loops of :func:`boilerclf.features.table.page_features`.

:func:`fill_features` writes a page's whole feature matrix in a few loops over
its lines (what each loop computes is commented there); :mod:`boilerclf.features.table`
defines the features and hands over, in a :class:`FeatureTables`, the column of
every quantity this module computes (by the names in :data:`FILL_NAMES`,
:data:`ANC_FILL` and :data:`MAIN_FILL`) plus the character tables.  The values
are bit-identical to the numpy version kept in
``tests/test_features.py::_page_features_reference``: float32 quantities are
computed in C ``float`` in the same order of operations, float64 ones in
``double`` and rounded to float32 once, and the logarithms are computed by
numpy itself on whole arrays (its SIMD ``log``/``log1p`` differ from the C
library's in the last bit).

:func:`char_stats` is the per-character pass over a page joined by newlines,
returning per-line counts and token hashes; it shares the line scanner
(:func:`_scan_line`) with :func:`fill_features` and the tests check it against
a numpy version (``tests/test_features.py::_char_stats_reference``).

:func:`headline_fill` writes the headline columns of a page's matrix after
:func:`fill_features` (``boilerclf.features.table.headline_columns``), checked
against ``tests/test_features.py::_headline_reference``.

:func:`stage2_input` assembles the second stage's input rows (a line's
features and its context features) for :func:`boilerclf.model.classifier.stage2_input`,
bit-identical to ``boilerclf.model.classifier.context_features``, the reference.
"""
from cpython.unicode cimport PyUnicode_Check, PyUnicode_DATA, PyUnicode_GET_LENGTH, PyUnicode_KIND
from libc.math cimport ceil
from libc.stdint cimport int8_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, qsort, realloc
from libc.string cimport memcpy, memset

import numpy as np

cdef extern from *:
    """
    #if PY_VERSION_HEX < 0x030C0000
    #define _cfeat_unicode_ready(o) PyUnicode_READY(o)
    #else
    #define _cfeat_unicode_ready(o) 0
    #endif
    """
    int _cfeat_unicode_ready(object o) except -1

cdef uint64_t _GOLDEN = 0x9E3779B97F4A7C15ULL
# float32 counts saturate here: the numpy version counted with float32 += 1
cdef int64_t _F32_INT = 16777216

#: Per-line quantities :func:`fill_features` computes, in the order of the
#: ``cols`` array of :class:`FeatureTables` (one column each).
FILL_NAMES = (
    "page", "line", "nchars",
    "chars", "words", "avg_word_len", "link_density", "text_density",
    "pos_line", "pos_char", "title_contain", "title_cover", "title_jacc",
    "repeat", "punct", "digit", "upper", "cap_words", "ends_sentence",
    "ends_colon", "starts_bullet", "stopwords", "short_words", "cjk",
    "heading", "depth", "depth_rel", "gap_before", "dense_dist", "lead_label",
    "page_chars", "page_lines",
)
#: Per-container quantities, in the order of a row of ``anc_cols`` (one row per ancestor level).
ANC_FILL = ("start", "end", "share", "link", "p", "lines", "avg")
#: Per-main-container quantities, in the order of a row of ``main_cols`` (one row per fraction).
MAIN_FILL = ("in", "dist", "size")

cdef enum:
    C_PAGE, C_LINE, C_NCHARS,
    C_CHARS, C_WORDS, C_AVG_WORD_LEN, C_LINK_DENSITY, C_TEXT_DENSITY,
    C_POS_LINE, C_POS_CHAR, C_TITLE_CONTAIN, C_TITLE_COVER, C_TITLE_JACC,
    C_REPEAT, C_PUNCT, C_DIGIT, C_UPPER, C_CAP_WORDS, C_ENDS_SENTENCE,
    C_ENDS_COLON, C_STARTS_BULLET, C_STOPWORDS, C_SHORT_WORDS, C_CJK,
    C_HEADING, C_DEPTH, C_DEPTH_REL, C_GAP_BEFORE, C_DENSE_DIST, C_LEAD_LABEL,
    C_PAGE_CHARS, C_PAGE_LINES,
    N_FILL

cdef enum:
    A_START, A_END, A_SHARE, A_LINK, A_P, A_LINES, A_AVG, N_ANC_FILL

cdef enum:
    M_IN, M_DIST, M_SIZE, N_MAIN_FILL

assert len(FILL_NAMES) == N_FILL and len(ANC_FILL) == N_ANC_FILL and len(MAIN_FILL) == N_MAIN_FILL

ctypedef fused char_t:
    uint8_t
    uint16_t
    uint32_t


# Prefilter of a set of token hashes: one bit per value of bits 40-54 of the
# hash (other bits than a HashSet table's slot), 4 KB; a token whose bit is
# clear is no member, which spares most tokens a lookup outside L1.
cdef enum:
    _BLOOM_WORDS = 512

cdef inline uint64_t _bloom_bit(uint64_t h) noexcept nogil:
    return (h >> 40) & (_BLOOM_WORDS * 64 - 1)


cdef inline bint _bloom_has(const uint64_t *bloom, uint64_t h) noexcept nogil:
    cdef uint64_t b = _bloom_bit(h)
    return (bloom[b >> 6] >> (b & 63)) & 1


cdef struct Scan:
    # page-constant inputs of the line scanner
    const uint8_t *cls          # class bits per BMP code point (1 space, 2 word, 4 upper, 8 digit, 16 punct, 32 CJK)
    const uint32_t *lower       # lower-case code point per BMP code point
    const uint64_t *pow_        # 32 hash multipliers
    const uint64_t *stop_table  # stopword hashes by low bits (features.HashSet.table), or NULL
    uint64_t stop_mask
    const uint64_t *stop_sorted  # sorted stopword hashes, searched when stop_table is NULL
    Py_ssize_t n_stop_sorted
    const uint64_t *title       # sorted unique title token hashes
    Py_ssize_t n_title
    const uint64_t *stop_bloom  # prefilters of the stopwords (NULL: no stopword count) and the title tokens
    uint64_t title_bloom[_BLOOM_WORDS]
    uint64_t *hashes            # where to store the line's token hashes
    Py_ssize_t cap              # their room; _scan_str grows it (malloc'd), _scan_line needs m // 2 + 2


cdef struct LineStats:
    # exact counts of one line (the float32 columns saturate them at 2^24)
    int64_t nonspace, ntok, cjk, upper, digit, punct, cap_tok, cjk_tok, short_tok
    int64_t stop, hits          # tokens that are stopwords / title tokens
    int64_t colon_at            # offset of the first ':' or '：' in the line, -1: none
    int64_t toks_before         # tokens starting before it


cdef inline bint _in_sorted(const uint64_t *a, Py_ssize_t n, uint64_t h) noexcept nogil:
    cdef Py_ssize_t lo = 0, hi = n, mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < h:
            lo = mid + 1
        else:
            hi = mid
    return lo < n and a[lo] == h


# Per-character counts, packed: 8 bits each for non-space, CJK, upper-case,
# digit and punctuation characters and tokens, upper-case-initial and
# CJK-initial tokens (added per character by class bits, flushed to int64
# every 255 characters).
cdef uint64_t _INC[256]
cdef uint64_t _INC_START[256]
cdef int _c
for _c in range(256):
    _INC[_c] = ((<uint64_t> ((_c & 1) ^ 1)) | (<uint64_t> ((_c >> 5) & 1) << 8) | (<uint64_t> ((_c >> 2) & 1) << 16)
                | (<uint64_t> ((_c >> 3) & 1) << 24) | (<uint64_t> ((_c >> 4) & 1) << 32))
    _INC_START[_c] = (<uint64_t> 1 << 40) | (<uint64_t> ((_c >> 2) & 1) << 48) | (<uint64_t> ((_c >> 5) & 1) << 56)


cdef Py_ssize_t _scan_line(const char_t *s, Py_ssize_t m, const Scan *sc, LineStats *st) noexcept nogil:
    """One line's code points ``s[0:m]``: counts of character classes, tokens
    (``\\w+`` runs, hashed lower-cased: sum of code point x P^position, mixed
    with the length), stopword and title tokens, the first colon.  Returns the
    number of tokens; their hashes go to ``sc.hashes``, which must hold
    ``m // 2 + 2``."""
    cdef Py_ssize_t i, i0, i1, nt = 0
    cdef uint64_t h = 0, k = 0, w, prev = 0, start, end, packed, lc, ho
    # the tables in locals: the stores into buf could alias the struct's fields
    cdef uint64_t *buf = sc.hashes
    cdef const uint8_t *cls = sc.cls
    cdef const uint32_t *lower = sc.lower
    cdef const uint64_t *pow_ = sc.pow_
    cdef int64_t short_tok = 0, stop = 0, hits = 0, ntok = 0, colon_at = -1, toks_before = 0
    cdef uint32_t cp
    cdef uint8_t c
    st.nonspace = st.cjk = st.upper = st.digit = st.punct = st.ntok = st.cap_tok = st.cjk_tok = 0
    # branch-free over the characters, in chunks of 255 (the packed counts' capacity)
    i0 = 0
    while i0 < m:
        i1 = i0 + 255 if m - i0 > 255 else m
        packed = 0
        for i in range(i0, i1):
            cp = s[i]
            if cp < 0x10000:
                c = cls[cp]
                lc = lower[cp]
            else:  # outside the BMP: a word character, its own lower case
                c = 2
                lc = cp
            w = (c >> 1) & 1
            start = w & (prev ^ 1)
            end = prev & (w ^ 1)
            packed += _INC[c] + (_INC_START[c] & (0 - start))
            # a token ended at i - 1: keep its hash (the slot is overwritten until one does)
            buf[nt] = h ^ (k * _GOLDEN)
            short_tok += end & (k <= 3)
            nt += end
            # hash and length of the token running through i (0 outside tokens)
            h = (h + lc * pow_[k if k < 31 else 31]) & (0 - w)
            k = (k + 1) & (0 - w)
            prev = w
            if (cp == 0x3A or cp == 0xFF1A) and colon_at < 0:
                colon_at = i
                toks_before = ntok + <int64_t> ((packed >> 40) & 0xFF)
        st.nonspace += packed & 0xFF
        st.cjk += (packed >> 8) & 0xFF
        st.upper += (packed >> 16) & 0xFF
        st.digit += (packed >> 24) & 0xFF
        st.punct += (packed >> 32) & 0xFF
        ntok += (packed >> 40) & 0xFF
        st.cap_tok += (packed >> 48) & 0xFF
        st.cjk_tok += (packed >> 56) & 0xFF
        i0 = i1
    if prev:  # the last token runs to the end of the line
        buf[nt] = h ^ (k * _GOLDEN)
        short_tok += k <= 3
        nt += 1
    # the tokens that are stopwords / title tokens
    for i in range(nt):
        ho = buf[i]
        if sc.stop_bloom != NULL and _bloom_has(sc.stop_bloom, ho):
            if sc.stop_table != NULL:
                stop += sc.stop_table[ho & sc.stop_mask] == ho
            elif sc.n_stop_sorted:
                stop += _in_sorted(sc.stop_sorted, sc.n_stop_sorted, ho)
        if sc.n_title and _bloom_has(sc.title_bloom, ho):
            hits += _in_sorted(sc.title, sc.n_title, ho)
    st.ntok = ntok
    st.colon_at = colon_at
    st.toks_before = toks_before
    st.short_tok = short_tok
    st.stop = stop
    st.hits = hits
    return nt


cdef inline float _sat(int64_t c) noexcept nogil:
    """A count as the float32 it was when counted with float32 += 1 (stuck at 2^24)."""
    return <float> (c if c < _F32_INT else _F32_INT)


cdef int _cmp_u64(const void *a, const void *b) noexcept nogil:
    cdef uint64_t x = (<const uint64_t *> a)[0], y = (<const uint64_t *> b)[0]
    return (x > y) - (x < y)


cdef Py_ssize_t _scan_str(object t, Scan *sc, LineStats *st, uint32_t *first, uint32_t *last,
                          Py_ssize_t *length) except -1:
    """:func:`_scan_line` of a ``str`` (read in place, whatever its storage
    width; ``sc.hashes`` grown as needed); ``first``/``last`` get its first
    and last code point (0 if empty), ``length`` its length."""
    if not PyUnicode_Check(t):
        raise TypeError(f"line texts must be str, not {type(t).__name__}")
    _cfeat_unicode_ready(t)
    cdef Py_ssize_t m = PyUnicode_GET_LENGTH(t), r
    cdef uint64_t *grown
    length[0] = m
    if sc.cap < m // 2 + 2:
        grown = <uint64_t *> realloc(sc.hashes, (m // 2 + 2) * sizeof(uint64_t))
        if grown == NULL:
            raise MemoryError()
        sc.hashes = grown
        sc.cap = m // 2 + 2
    cdef int kind = PyUnicode_KIND(t)
    cdef void *data = PyUnicode_DATA(t)
    if kind == 1:
        r = _scan_line(<const uint8_t *> data, m, sc, st)
        first[0] = (<const uint8_t *> data)[0] if m else 0
        last[0] = (<const uint8_t *> data)[m - 1] if m else 0
    elif kind == 2:
        r = _scan_line(<const uint16_t *> data, m, sc, st)
        first[0] = (<const uint16_t *> data)[0] if m else 0
        last[0] = (<const uint16_t *> data)[m - 1] if m else 0
    else:
        r = _scan_line(<const uint32_t *> data, m, sc, st)
        first[0] = (<const uint32_t *> data)[0] if m else 0
        last[0] = (<const uint32_t *> data)[m - 1] if m else 0
    return r


def _check_tables(const uint8_t[::1] cls_table, const uint32_t[::1] lower_table, const uint64_t[::1] pow_):
    if cls_table.shape[0] < 0x10000 or lower_table.shape[0] < 0x10000 or pow_.shape[0] < 32:
        raise ValueError("tables too short")


def char_stats(const uint32_t[::1] cps, const int64_t[::1] starts, const uint8_t[::1] cls_table,
               const uint32_t[::1] lower_table, const uint64_t[::1] pow_):
    """Per-line counts, token hashes and colons of a joined page.

    ``cps``: code points of the line texts joined by newlines; ``starts``:
    offset of each line in it (the first 0, each later one just after a
    ``"\\n"``); ``cls_table``: class bits per BMP code point (1 space, 2
    word, 4 upper, 8 digit, 16 punct, 32 CJK; outside the BMP a character is
    a word character); ``lower_table``: lower-case code point per BMP code
    point; ``pow_``: 32 hash multipliers.

    Returns ``(counts, hashes, tok_line, colon_at, toks_before)``: ``counts``
    float32 ``(n, 9)`` = non-space characters, tokens, CJK characters,
    upper-case, digits, punctuation, tokens starting upper-case, tokens
    starting with a CJK character, tokens of at most 3 characters; ``hashes``
    uint64 per token (in order) and ``tok_line`` its line; ``colon_at`` the
    offset of the line's first ``:`` or ``：`` (-1: none) and
    ``toks_before`` the tokens of the line that start before it.
    """
    cdef Py_ssize_t n = starts.shape[0], m = cps.shape[0], i, j, a, b, nt, n_tok = 0
    _check_tables(cls_table, lower_table, pow_)
    for i in range(n):
        if (starts[i] != 0 if i == 0 else
                not (starts[i - 1] < starts[i] <= m and cps[starts[i] - 1] == 10)):
            raise ValueError("starts must be 0 and then the offsets just after newlines")
    counts_a = np.zeros((n, 9), dtype=np.float32)
    colon_a = np.full(n, -1, dtype=np.int64)
    before_a = np.zeros(n, dtype=np.int64)
    hashes_a = np.empty(m // 2 + 2, dtype=np.uint64)  # at most one token per two characters, + 1 slot
    line_a = np.empty(m // 2 + 2, dtype=np.int64)
    cdef float[:, ::1] counts = counts_a
    cdef int64_t[::1] colon_at = colon_a, toks_before = before_a, tok_line = line_a
    cdef uint64_t[::1] hashes = hashes_a
    cdef Scan sc
    cdef LineStats st
    memset(&sc, 0, sizeof(Scan))
    sc.cls = &cls_table[0]
    sc.lower = &lower_table[0]
    sc.pow_ = &pow_[0]
    for i in range(n):
        # line i: from its start to the newline before the next line (the last: to the end)
        a = starts[i]
        b = starts[i + 1] - 1 if i + 1 < n else m
        sc.hashes = &hashes[n_tok]
        nt = _scan_line(&cps[a] if b > a else <const uint32_t *> NULL, b - a, &sc, &st)
        for j in range(n_tok, n_tok + nt):
            tok_line[j] = i
        n_tok += nt
        counts[i, 0] = _sat(st.nonspace)
        counts[i, 1] = _sat(st.ntok)
        counts[i, 2] = _sat(st.cjk)
        counts[i, 3] = _sat(st.upper)
        counts[i, 4] = _sat(st.digit)
        counts[i, 5] = _sat(st.punct)
        counts[i, 6] = _sat(st.cap_tok)
        counts[i, 7] = _sat(st.cjk_tok)
        counts[i, 8] = _sat(st.short_tok)
        if st.colon_at >= 0:
            colon_at[i] = a + st.colon_at
            toks_before[i] = st.toks_before
    return counts_a, hashes_a[:n_tok].copy(), line_a[:n_tok].copy(), colon_a, before_a


cdef class FeatureTables:
    """The page-independent inputs of :func:`fill_features`: character
    tables, the stopword hash set and the column of every computed quantity.

    ``cols``: column per name of :data:`FILL_NAMES`; ``anc_cols`` ``(K, 7)``:
    columns per ancestor level and name of :data:`ANC_FILL`; ``main_fracs``
    and ``main_cols`` ``(F, 3)``: share of the prose each main container
    must hold and its columns per name of :data:`MAIN_FILL`; ``group_of`` /
    ``heading_of``: tag group and heading level per tag byte (256 entries,
    indexed by the tag as unsigned); ``group_cols``: column per tag group
    (``p_group`` the group of ``<p>``); ``flag_cols`` / ``hint_cols``: column
    per bit of ``Lines.flags`` / ``Lines.hints``; ``nb_off``, ``nb_src``,
    ``nb_dst``: neighbour copies (``out[i, dst] = out[i + off, src]``, -1
    outside the page).  All columns are checked to lie below ``ncols``.
    """
    cdef readonly Py_ssize_t ncols
    cdef const uint8_t[::1] cls, end_table, bullet_table
    cdef const uint32_t[::1] lower
    cdef const uint64_t[::1] pow_, stop_table, stop_sorted
    cdef uint64_t stop_mask
    cdef uint64_t stop_bloom[_BLOOM_WORDS]
    cdef const Py_ssize_t[::1] cols, group_cols, flag_cols, hint_cols, nb_off, nb_src, nb_dst, nb_rel
    cdef const Py_ssize_t[:, ::1] anc_cols, main_cols
    cdef const double[::1] main_fracs
    cdef const int8_t[::1] group_of, heading_of
    cdef Py_ssize_t p_group, nb_reach

    def __init__(self, Py_ssize_t ncols, cls_table, lower_table, pow_, end_table, bullet_table,
                 stop_table, stop_mask, stop_sorted, cols, anc_cols, main_fracs, main_cols,
                 group_of, heading_of, group_cols, p_group, flag_cols, hint_cols,
                 nb_off, nb_src, nb_dst):
        cdef Py_ssize_t i
        self.ncols = ncols
        self.cls = np.ascontiguousarray(cls_table, dtype=np.uint8)
        self.lower = np.ascontiguousarray(lower_table, dtype=np.uint32)
        self.pow_ = np.ascontiguousarray(pow_, dtype=np.uint64)
        self.end_table = np.ascontiguousarray(end_table, dtype=np.uint8)
        self.bullet_table = np.ascontiguousarray(bullet_table, dtype=np.uint8)
        _check_tables(self.cls, self.lower, self.pow_)
        if self.end_table.shape[0] < 0x10000 or self.bullet_table.shape[0] < 0x10000:
            raise ValueError("tables too short")
        self.stop_sorted = np.ascontiguousarray(stop_sorted, dtype=np.uint64)
        cdef uint64_t v, b
        for i in range(self.stop_sorted.shape[0]):
            if i and self.stop_sorted[i] <= self.stop_sorted[i - 1]:
                raise ValueError("stop_sorted must be sorted and unique")
            b = _bloom_bit(self.stop_sorted[i])
            self.stop_bloom[b >> 6] |= <uint64_t> 1 << (b & 63)
        if stop_table is None:
            self.stop_table = np.zeros(0, dtype=np.uint64)
        else:
            self.stop_table = np.ascontiguousarray(stop_table, dtype=np.uint64)
            if self.stop_table.shape[0] != <Py_ssize_t> stop_mask + 1 or self.stop_table.shape[0] & stop_mask:
                raise ValueError("stop_table must have stop_mask + 1 (a power of 2) slots")
            self.stop_mask = stop_mask
            # the table (HashSet.table: a member in the slot of its low bits,
            # an empty slot j holds j + 1) holds exactly stop_sorted
            for i in range(self.stop_table.shape[0]):
                v = self.stop_table[i]
                if v != <uint64_t> i + 1 and not ((v & self.stop_mask) == <uint64_t> i and _in_sorted(
                        &self.stop_sorted[0], self.stop_sorted.shape[0], v)):
                    raise ValueError("stop_table holds a value not in stop_sorted")
            for i in range(self.stop_sorted.shape[0]):
                v = self.stop_sorted[i]
                if self.stop_table[v & self.stop_mask] != v:
                    raise ValueError("stop_table lacks a value of stop_sorted")
        self.cols = np.ascontiguousarray(cols, dtype=np.intp)
        self.anc_cols = np.ascontiguousarray(anc_cols, dtype=np.intp)
        self.main_fracs = np.ascontiguousarray(main_fracs, dtype=np.float64)
        self.main_cols = np.ascontiguousarray(main_cols, dtype=np.intp)
        self.group_of = np.ascontiguousarray(group_of, dtype=np.int8)
        self.heading_of = np.ascontiguousarray(heading_of, dtype=np.int8)
        self.group_cols = np.ascontiguousarray(group_cols, dtype=np.intp)
        self.p_group = p_group
        self.flag_cols = np.ascontiguousarray(flag_cols, dtype=np.intp)
        self.hint_cols = np.ascontiguousarray(hint_cols, dtype=np.intp)
        self.nb_off = np.ascontiguousarray(nb_off, dtype=np.intp)
        self.nb_src = np.ascontiguousarray(nb_src, dtype=np.intp)
        self.nb_dst = np.ascontiguousarray(nb_dst, dtype=np.intp)
        if (self.cols.shape[0] != N_FILL or self.anc_cols.shape[1] != N_ANC_FILL
                or self.main_cols.shape[1] != N_MAIN_FILL
                or self.main_cols.shape[0] != self.main_fracs.shape[0]):
            raise ValueError("column tables of the wrong shape")
        for i in range(self.main_fracs.shape[0]):
            if not 0 < self.main_fracs[i] <= 1:
                raise ValueError("main_fracs must lie in (0, 1]")
        if self.group_of.shape[0] != 256 or self.heading_of.shape[0] != 256:
            raise ValueError("group_of and heading_of need 256 entries")
        for i in range(256):
            if not 0 <= self.group_of[i] < self.group_cols.shape[0]:
                raise ValueError("group_of holds a group without a column")
        if not 0 <= p_group < self.group_cols.shape[0]:
            raise ValueError("p_group out of range")
        if self.flag_cols.shape[0] > 32 or self.hint_cols.shape[0] > 32:
            raise ValueError("at most 32 flag and hint bits")
        if not (self.nb_off.shape[0] == self.nb_src.shape[0] == self.nb_dst.shape[0]):
            raise ValueError("neighbour arrays of different lengths")
        for a in (cols, anc_cols, main_cols, group_cols, flag_cols, hint_cols, nb_src, nb_dst):
            a = np.asarray(a)
            if a.size and not (0 <= a.min() and a.max() < ncols):
                raise ValueError("a column index is outside the matrix")
        if self.anc_cols.shape[0] < 1:
            raise ValueError("at least one ancestor level")
        if np.isin(nb_src, nb_dst).any():
            raise ValueError("a neighbour copy reads a neighbour column")
        self.nb_reach = int(np.abs(self.nb_off).max()) if self.nb_off.shape[0] else 0
        # a copy's source relative to the destination row, in cells
        self.nb_rel = np.ascontiguousarray(self.nb_off, dtype=np.intp) * ncols + self.nb_src


def fill_features(FeatureTables tb, float[:, ::1] out, int64_t page, list texts, str title,
                  counts, const int32_t[::1] link_chars, const int32_t[::1] depth,
                  const int8_t[::1] tag, const int8_t[::1] gap_before, const int32_t[::1] flags,
                  const int32_t[::1] hints, const int32_t[:, ::1] anc_start,
                  const int32_t[:, ::1] anc_end):
    """Write every cell of the feature matrix ``out`` ``(n, tb.ncols)`` of a
    page of ``n`` lines (see :func:`boilerclf.features.table.page_features`).

    ``counts`` maps each text to its number of occurrences in the page; the
    arrays are the fields of :class:`~boilerclf.parse.lines.Lines` (one entry, or
    row of ``K`` ancestors, per line).  Raises ``ValueError`` if a length or
    shape does not match ``n`` or an ancestor range is not ``0 <= start <=
    end <= n``, ``TypeError`` if a text is not a ``str``.
    """
    cdef Py_ssize_t n = len(texts), i, j, k, q, K = tb.anc_cols.shape[0], F = tb.main_fracs.shape[0]
    cdef Py_ssize_t s, e, nl, ms, me, best_s, best_size, L, off, lo, hi, m, argmax = 0
    texts = list(texts)  # a private copy: nothing can change its length under the loops
    if out.shape[0] != n or out.shape[1] != tb.ncols:
        raise ValueError(f"out must be ({n}, {tb.ncols})")
    if (link_chars.shape[0] != n or depth.shape[0] != n or tag.shape[0] != n or gap_before.shape[0] != n
            or flags.shape[0] != n or hints.shape[0] != n):
        raise ValueError("Lines arrays must have one entry per line")
    if anc_start.shape[0] != n or anc_end.shape[0] != n or anc_start.shape[1] != K or anc_end.shape[1] != K:
        raise ValueError(f"anc_start and anc_end must be ({n}, {K})")
    if n == 0:
        return
    for i in range(n):
        for k in range(K):
            if not 0 <= anc_start[i, k] <= anc_end[i, k] <= n:
                raise ValueError(f"line {i}: ancestor range {k} is not 0 <= start <= end <= {n}")

    # the column tables and arrays as plain pointers (memoryview fields would
    # be reloaded after every store into the matrix)
    cdef Py_ssize_t ncols = tb.ncols, NG = tb.group_cols.shape[0], NF = tb.flag_cols.shape[0]
    cdef Py_ssize_t NH = tb.hint_cols.shape[0], NQ = tb.nb_off.shape[0], reach = tb.nb_reach
    cdef const Py_ssize_t *C = &tb.cols[0]
    cdef const Py_ssize_t *AC = &tb.anc_cols[0, 0]
    cdef const Py_ssize_t *MC = &tb.main_cols[0, 0] if F else NULL
    cdef const Py_ssize_t *GC = &tb.group_cols[0]
    cdef const Py_ssize_t *FC = &tb.flag_cols[0] if NF else NULL
    cdef const Py_ssize_t *HC = &tb.hint_cols[0] if NH else NULL
    cdef const Py_ssize_t *NB_OFF = &tb.nb_off[0] if NQ else NULL
    cdef const Py_ssize_t *NB_SRC = &tb.nb_src[0] if NQ else NULL
    cdef const Py_ssize_t *NB_DST = &tb.nb_dst[0] if NQ else NULL
    cdef const Py_ssize_t *NB_REL = &tb.nb_rel[0] if NQ else NULL
    cdef const int8_t *GROUP_OF = &tb.group_of[0]
    cdef const int8_t *HEADING_OF = &tb.heading_of[0]
    cdef const uint8_t *END_T = &tb.end_table[0]
    cdef const uint8_t *BULLET_T = &tb.bullet_table[0]
    cdef const int32_t *A0 = &anc_start[0, 0]
    cdef const int32_t *A1 = &anc_end[0, 0]
    cdef float *O = &out[0, 0]
    cdef Scan sc
    cdef LineStats st
    cdef uint32_t first, last
    cdef float ns, ntok, units, ntok_safe, stop, hits, link, T, prose, acc_chars = 0, acc_p = 0, acc_prose = 0
    cdef double acc_link = 0, total_chars, total_prose, thr, ch, chs
    cdef int64_t exact_chars = 0, dmax_i = 0, w, best_w
    cdef uint8_t tbyte
    cdef int8_t g
    cdef uint64_t fl, hn
    cdef bint es
    cdef float *row
    cdef float fn, fdense, fdmax, ftot
    cdef double dn = <double> (n if n > 1 else 1)
    cdef const float *l32p
    cdef const float *lr32p
    cdef const double *l64p

    # numpy scratch for the logarithms: log1p of [non-space chars, units]
    # (float32), log of the repeat counts (float32), log1p of [lines, mean
    # chars] per container and of the page's chars and lines (float64)
    a32 = np.empty(2 * n, dtype=np.float32)
    r32 = np.empty(n, dtype=np.float32)
    a64 = np.empty(2 * n * K + 2, dtype=np.float64)
    cdef float[::1] v32_mv = a32, vr32_mv = r32
    cdef double[::1] v64_mv = a64
    cdef float *v32 = &v32_mv[0]
    cdef float *vr32 = &vr32_mv[0]
    cdef double *v64 = &v64_mv[0]
    cdef const float[::1] l32_mv, lr32_mv
    cdef const double[::1] l64_mv
    # prefix sums over lines (entry i: lines before i) of non-space chars,
    # link chars, chars in <p> and prose chars
    cdef double *cs = <double *> malloc(4 * (n + 1) * sizeof(double))
    cdef uint64_t *th = NULL
    if cs == NULL:
        raise MemoryError()
    cdef double *cs_chars = cs
    cdef double *cs_link = cs + (n + 1)
    cdef double *cs_p = cs + 2 * (n + 1)
    cdef double *cs_prose = cs + 3 * (n + 1)
    memset(&sc, 0, sizeof(Scan))
    try:
        sc.cls = &tb.cls[0]
        sc.lower = &tb.lower[0]
        sc.pow_ = &tb.pow_[0]
        # the title's distinct token hashes, sorted, and their prefilter
        q = _scan_str(title, &sc, &st, &first, &last, &m)
        th = <uint64_t *> malloc((q + 1) * sizeof(uint64_t))
        if th == NULL:
            raise MemoryError()
        memcpy(th, sc.hashes, q * sizeof(uint64_t))
        qsort(th, q, sizeof(uint64_t), _cmp_u64)
        j = 0
        for i in range(q):
            if j == 0 or th[i] != th[j - 1]:
                th[j] = th[i]
                j += 1
        sc.title = th
        sc.n_title = j
        T = <float> j
        for i in range(j):
            e = <Py_ssize_t> _bloom_bit(th[i])
            sc.title_bloom[e >> 6] |= <uint64_t> 1 << (e & 63)
        sc.stop_bloom = tb.stop_bloom
        if tb.stop_table.shape[0]:
            sc.stop_table = &tb.stop_table[0]
            sc.stop_mask = tb.stop_mask
        elif tb.stop_sorted.shape[0]:
            sc.stop_sorted = &tb.stop_sorted[0]
            sc.n_stop_sorted = tb.stop_sorted.shape[0]

        # pass 1, per line: scan the text; every column that needs nothing of
        # the whole page; the prefix sums
        fn = <float> (n - 1 if n > 1 else 1)
        cs_chars[0] = cs_link[0] = cs_p[0] = cs_prose[0] = 0.0
        for i in range(n):
            t = <object> texts[i]
            _scan_str(t, &sc, &st, &first, &last, &m)
            row = O + i * ncols
            ns = _sat(st.nonspace)
            if ns < 1:
                ns = 1
            ntok = _sat(st.ntok)
            # tokens, with each CJK character counted as one
            units = ntok - _sat(st.cjk_tok) + _sat(st.cjk)
            if units < 1:
                units = 1
            ntok_safe = ntok if ntok > 1 else 1
            stop = <float> st.stop
            hits = <float> st.hits
            link = <float> link_chars[i] / ns
            if link > 1:
                link = 1
            v32[i] = ns
            v32[n + i] = units
            vr32[i] = <float> <int64_t> counts[t]
            row[C[C_PAGE]] = <float> page
            row[C[C_LINE]] = <float> i
            row[C[C_NCHARS]] = ns
            for k in range(K):
                row[AC[k * N_ANC_FILL + A_START]] = <float> A0[i * K + k]
                row[AC[k * N_ANC_FILL + A_END]] = <float> A1[i * K + k]
            row[C[C_AVG_WORD_LEN]] = ns / units
            row[C[C_LINK_DENSITY]] = link
            # tokens per 80-character wrapped line
            row[C[C_TEXT_DENSITY]] = <float> (<double> units / max(ceil(<double> m / 80.0), 1.0))
            row[C[C_POS_LINE]] = <float> i / fn
            # characters before the line (float32 cumsum minus the line); divided in pass 2
            acc_chars = acc_chars + ns
            row[C[C_POS_CHAR]] = acc_chars - ns
            row[C[C_TITLE_CONTAIN]] = hits / ntok_safe
            if sc.n_title:
                row[C[C_TITLE_COVER]] = min(hits / T, <float> 1)
                row[C[C_TITLE_JACC]] = hits / max(ntok + T - hits, <float> 1)
            else:
                row[C[C_TITLE_COVER]] = 0
                row[C[C_TITLE_JACC]] = 0
            row[C[C_PUNCT]] = _sat(st.punct) / ns
            row[C[C_DIGIT]] = _sat(st.digit) / ns
            row[C[C_UPPER]] = _sat(st.upper) / ns
            row[C[C_CAP_WORDS]] = _sat(st.cap_tok) / ntok_safe
            # last / first character (an empty line has none)
            es = m > 0 and last < 0x10000 and END_T[last] != 0
            row[C[C_ENDS_SENTENCE]] = es
            row[C[C_ENDS_COLON]] = m > 0 and last == 0x3A
            row[C[C_STARTS_BULLET]] = m > 0 and first < 0x10000 and BULLET_T[first] != 0
            row[C[C_STOPWORDS]] = stop / ntok_safe
            row[C[C_SHORT_WORDS]] = _sat(st.short_tok) / ntok_safe
            row[C[C_CJK]] = _sat(st.cjk) / ns
            # a label of 1-4 tokens before the first colon, 3+ characters after it
            row[C[C_LEAD_LABEL]] = st.colon_at >= 0 and 1 <= st.toks_before <= 4 and m - st.colon_at > 3
            tbyte = <uint8_t> tag[i]
            g = GROUP_OF[tbyte]
            row[C[C_HEADING]] = <float> HEADING_OF[tbyte]
            row[C[C_DEPTH]] = <float> depth[i]
            row[C[C_DEPTH_REL]] = <float> depth[i]  # divided in pass 2
            if depth[i] > dmax_i or i == 0:
                dmax_i = depth[i]
            row[C[C_GAP_BEFORE]] = <float> gap_before[i]
            for k in range(NG):
                row[GC[k]] = 0
            row[GC[g]] = 1
            fl = <uint32_t> flags[i]
            for k in range(NF):
                row[FC[k]] = <float> ((fl >> k) & 1)
            hn = <uint32_t> hints[i]
            for k in range(NH):
                row[HC[k]] = <float> ((hn >> k) & 1)
            # prose: 80+ characters, ends a sentence, 10%+ stopwords, < 30% links
            prose = ns * <float> (ns >= 80 and es and stop >= <float> 0.1 * ntok and link < <float> 0.3)
            exact_chars += <int64_t> ns
            cs_chars[i + 1] = acc_chars
            acc_link = acc_link + min(<double> link_chars[i], <double> ns)
            cs_link[i + 1] = acc_link
            acc_p = acc_p + ns * <float> (g == tb.p_group)
            cs_p[i + 1] = acc_p
            acc_prose = acc_prose + prose
            cs_prose[i + 1] = acc_prose

        # the page's characters: the float32 sum is exact up to 2^24, else numpy's own sum
        if exact_chars <= _F32_INT:
            total_chars = <double> exact_chars
        else:
            total_chars = float(a32[:n].sum())
        ftot = <float> max(total_chars, 1.0)
        # densest region: the first maximum of the 5-line window sums, as
        # np.convolve(nonspace, ones(5), "same") (of length max(n, 5))
        if exact_chars <= _F32_INT:
            L = n if n > 5 else 5
            off = (n + 4 - L) // 2
            best_w = -1
            for i in range(L):
                lo = i + off - 4
                hi = i + off
                if lo < 0:
                    lo = 0
                if hi > n - 1:
                    hi = n - 1
                w = 0
                for j in range(lo, hi + 1):
                    w += <int64_t> v32[j]
                if w > best_w:
                    best_w = w
                    argmax = i
        else:
            argmax = int(np.argmax(np.convolve(a32[:n], np.ones(5, dtype=np.float32), mode="same")))
        fdense = <float> argmax

        # containers: log arguments (line count, mean characters) and the
        # share / link / <p> columns, from the prefix sums
        for i in range(n):
            row = O + i * ncols
            for k in range(K):
                s = A0[i * K + k]
                e = A1[i * K + k]
                ch = cs_chars[e] - cs_chars[s]
                nl = e - s if e > s else 1
                chs = ch if ch > 1.0 else 1.0
                row[AC[k * N_ANC_FILL + A_SHARE]] = <float> (ch / max(total_chars, 1.0))
                row[AC[k * N_ANC_FILL + A_LINK]] = <float> ((cs_link[e] - cs_link[s]) / chs)
                row[AC[k * N_ANC_FILL + A_P]] = <float> ((cs_p[e] - cs_p[s]) / chs)
                v64[2 * (i * K + k)] = <double> nl
                v64[2 * (i * K + k) + 1] = ch / <double> nl
        v64[2 * n * K] = total_chars
        v64[2 * n * K + 1] = <double> n
        l32_mv = np.log1p(a32)
        lr32_mv = np.log(r32)
        l64_mv = np.log1p(a64)
        l32p = &l32_mv[0]
        lr32p = &lr32_mv[0]
        l64p = &l64_mv[0]

        # main containers: among the ancestor ranges and the whole page, the
        # smallest non-empty one holding the share of the prose (ties: the
        # earliest start); the whole page if the page has no prose
        total_prose = cs_prose[n]
        for q in range(F):
            ms = 0
            me = n
            if total_prose > 0:
                thr = tb.main_fracs[q] * total_prose
                best_size = n
                best_s = 0
                for i in range(n * K):
                    s = A0[i]
                    e = A1[i]
                    if e > s and cs_prose[e] - cs_prose[s] >= thr and (
                            e - s < best_size or (e - s == best_size and s < best_s)):
                        best_size = e - s
                        best_s = s
                ms = best_s
                me = best_s + best_size
            for i in range(n):
                row = O + i * ncols
                row[MC[q * N_MAIN_FILL + M_IN]] = ms <= i < me
                row[MC[q * N_MAIN_FILL + M_DIST]] = <float> (<double> ((ms - i if ms > i else 0)
                                                                     + (i - me + 1 if i - me + 1 > 0 else 0)) / dn)
                row[MC[q * N_MAIN_FILL + M_SIZE]] = <float> (<double> (me - ms) / dn)

        # pass 2, per line: the columns that need page totals or logarithms
        fdmax = <float> max(<double> <float> dmax_i, 1.0)
        fn = <float> n
        for i in range(n):
            row = O + i * ncols
            row[C[C_CHARS]] = l32p[i]
            row[C[C_WORDS]] = l32p[n + i]
            row[C[C_REPEAT]] = lr32p[i]
            row[C[C_POS_CHAR]] = row[C[C_POS_CHAR]] / ftot
            row[C[C_DEPTH_REL]] = row[C[C_DEPTH_REL]] / fdmax
            row[C[C_DENSE_DIST]] = (<float> i - fdense) / fn
            for k in range(K):
                row[AC[k * N_ANC_FILL + A_LINES]] = <float> l64p[2 * (i * K + k)]
                row[AC[k * N_ANC_FILL + A_AVG]] = <float> l64p[2 * (i * K + k) + 1]
            row[C[C_PAGE_CHARS]] = <float> l64p[2 * n * K]
            row[C[C_PAGE_LINES]] = <float> l64p[2 * n * K + 1]

        # pass 3, per line: copies of the neighbours' columns (-1 off the page)
        for i in range(n):
            row = O + i * ncols
            if reach <= i < n - reach:  # all neighbours on the page
                for q in range(NQ):
                    row[NB_DST[q]] = row[NB_REL[q]]
            else:
                for q in range(NQ):
                    j = i + NB_OFF[q]
                    row[NB_DST[q]] = O[j * ncols + NB_SRC[q]] if 0 <= j < n else -1
    finally:
        free(cs)
        free(th)
        free(sc.hashes)


def stage2_input(const float[:, ::1] X, const double[::1] s1, const int64_t[::1] rows,
                 const int64_t[::1] starts, const double[::1] wsum, const double[::1] csum,
                 const double[::1] smax, Py_ssize_t n_struct, Py_ssize_t n_anc,
                 const int64_t[::1] offsets, float[:, ::1] out):
    """Rows ``rows`` of stage 2's input, ``[X[:, n_struct:], context_features(X, s1)]``,
    into ``out`` (one row per entry of ``rows``, ascending).

    ``starts`` are the page starts (rows where X[:, 1] == 0), ``wsum``, ``csum``
    and ``smax`` the per-page sums of ``s1 * chars``, of ``chars`` and the max of
    ``s1`` (numpy's ``reduceat``, whose pairwise sums this does not redo);
    ``offsets`` are :data:`boilerclf.model.classifier.CONTEXT_OFFSETS`.  Same values as
    :func:`boilerclf.model.classifier.context_features` (double arithmetic in its order,
    rounded to float once; the running sums are sequential, as ``np.cumsum``).
    """
    cdef Py_ssize_t n = X.shape[0], d = X.shape[1], m = rows.shape[0]
    cdef Py_ssize_t nf = d - n_struct, n_pages = starts.shape[0], n_off = offsets.shape[0]
    if s1.shape[0] != n or out.shape[0] != m or out.shape[1] != nf + 4 + n_off + 2 * n_anc:
        raise ValueError("stage2_input: shapes do not match")
    if n_struct < 3 + 2 * n_anc or wsum.shape[0] != n_pages or csum.shape[0] != n_pages \
            or smax.shape[0] != n_pages:
        raise ValueError("stage2_input: shapes do not match")
    cdef double *cs = <double *> malloc((n + 1) * sizeof(double))
    cdef double *cw = <double *> malloc((n + 1) * sizeof(double))
    cdef double *cc = <double *> malloc((n + 1) * sizeof(double))
    if cs == NULL or cw == NULL or cc == NULL:
        free(cs); free(cw); free(cc)
        raise MemoryError()
    cdef Py_ssize_t i, j, k, r, p = 0, lo, hi, src, base = nf + 4 + n_off
    cdef int64_t off, n_lines, a, b
    cdef double ch, w, pc
    cs[0] = 0.0; cw[0] = 0.0; cc[0] = 0.0
    for i in range(n):
        ch = <double> X[i, 2]
        cs[i + 1] = cs[i] + s1[i]
        cw[i + 1] = cw[i] + s1[i] * ch
        cc[i + 1] = cc[i] + ch
    try:
        for j in range(m):
            r = rows[j]
            if r < 0 or r >= n or (j and r <= rows[j - 1]):
                raise ValueError("stage2_input: rows must be ascending indices of X")
            while p + 1 < n_pages and starts[p + 1] <= r:
                p += 1
            if n_pages == 0 or starts[p] > r:
                raise ValueError("stage2_input: a row before the first page start")
            n_lines = (starts[p + 1] if p + 1 < n_pages else n) - starts[p]
            off = r - <int64_t> X[r, 1]
            memcpy(&out[j, 0], &X[r, n_struct], nf * sizeof(float))
            out[j, nf] = <float> s1[r]
            lo = r - 2 if r - 2 > off else off
            hi = r + 3 if r + 3 < off + n_lines else off + n_lines
            if lo < 0 or hi > n or hi <= lo:
                raise ValueError("stage2_input: line indices do not match the page starts")
            out[j, nf + 1] = <float> ((cs[hi] - cs[lo]) / (hi - lo))
            out[j, nf + 2] = <float> (wsum[p] / (csum[p] if csum[p] > 1.0 else 1.0))
            out[j, nf + 3] = <float> smax[p]
            for k in range(n_off):
                src = r + offsets[k]
                if 0 <= src < n and X[src, 0] == X[r, 0]:
                    out[j, nf + 4 + k] = <float> s1[src]
                else:
                    out[j, nf + 4 + k] = -1.0
            pc = wsum[p] if wsum[p] > 1e-6 else 1e-6
            for k in range(n_anc):
                a = off + <int64_t> X[r, 3 + k]
                b = off + <int64_t> X[r, 3 + n_anc + k]
                if a < 0 or b < 0 or a > n or b > n:
                    raise ValueError("stage2_input: a container range outside the batch")
                w = cw[b] - cw[a]
                ch = cc[b] - cc[a]
                out[j, base + 2 * k] = <float> (w / (ch if ch > 1.0 else 1.0))
                out[j, base + 2 * k + 1] = <float> (w / pc)
    finally:
        free(cs); free(cw); free(cc)


def headline_fill(float[:, ::1] out, Py_ssize_t c_jacc, Py_ssize_t c_heading, Py_ssize_t c_head,
                  double min_jacc):
    """The headline columns of one page (``boilerclf.features.table.headline_columns``,
    whose numpy version in ``tests/test_features.py`` is the reference):
    ``c_head`` .. ``c_head + 3`` from the title Jaccard, heading level and
    character-count columns, bit-identical (float64 arithmetic, one rounding)."""
    cdef Py_ssize_t n = out.shape[0], j, i = 0
    cdef double best = 0.0, v, total, run_i = 0.0, run = 0.0
    cdef float jac, top, lvl, mj = <float> min_jacc  # compared in float32, as numpy does
    cdef int64_t sec = 0, sec_i = 0
    if n == 0:
        return
    if c_head + 4 > out.shape[1] or c_jacc >= out.shape[1] or c_heading >= out.shape[1]:
        raise ValueError("column out of range")
    for j in range(n):
        jac = out[j, c_jacc]
        v = <double> jac + (0.5 if (out[j, c_heading] > 0 and jac > mj) else 0.0)
        if j == 0 or v > best:
            best = v
            i = j
    if not (out[i, c_jacc] >= mj):
        for j in range(n):
            out[j, c_head] = 0
            out[j, c_head + 1] = 0
            out[j, c_head + 2] = 0
            out[j, c_head + 3] = 0
        return
    top = out[i, c_heading] if out[i, c_heading] > 0 else 2
    for j in range(n):  # running totals up to and including line i
        run += <double> out[j, 2]
        lvl = out[j, c_heading]
        if lvl > 0 and lvl <= top:
            sec += 1
        if j == i:
            run_i = run
            sec_i = sec
    total = run if run > 1.0 else 1.0
    run = 0.0
    sec = 0
    for j in range(n):
        run += <double> out[j, 2]
        lvl = out[j, c_heading]
        if lvl > 0 and lvl <= top:
            sec += 1
        out[j, c_head] = <float> (<double> (j - i) / <double> n)
        out[j, c_head + 1] = <float> ((run - run_i) / total)
        out[j, c_head + 2] = <float> (sec - sec_i)
        out[j, c_head + 3] = 1
