# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""One pass over a page's characters for :func:`boilerclf.features.page_features`.

The page's line texts are joined by ``"\\n"`` and handed over as code points
with each line's start offset.  One loop counts, per line, the character
classes and tokens the features need, hashes every ``\\w+`` token (lower-cased)
and finds the line's first colon; it computes exactly what the numpy version
(``tests/test_features.py::_char_stats_reference``) computes, without a pass
per class.
"""
from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

import numpy as np

cdef uint64_t _GOLDEN = 0x9E3779B97F4A7C15ULL


def char_stats(const uint32_t[::1] cps, const int64_t[::1] starts, const uint8_t[::1] cls_table,
               const uint32_t[::1] lower_table, const uint64_t[::1] pow_):
    """Per-line counts, token hashes and colons of a joined page.

    ``cps``: code points of the line texts joined by newlines; ``starts``:
    offset of each line in it (increasing, first 0); ``cls_table``: class
    bits per BMP code point (1 space, 2 word, 4 upper, 8 digit, 16 punct,
    32 CJK; outside the BMP a character is a word character); ``lower_table``:
    lower-case code point per BMP code point; ``pow_``: 32 hash multipliers.

    Returns ``(counts, hashes, tok_line, colon_at, toks_before)``: ``counts``
    float32 ``(n, 9)`` = non-space characters, tokens, CJK characters,
    upper-case, digits, punctuation, tokens starting upper-case, tokens
    starting with a CJK character, tokens of at most 3 characters; ``hashes``
    uint64 per token (in order) and ``tok_line`` its line; ``colon_at`` the
    offset of the line's first ``:`` or ``：`` before its end (-1: none) and
    ``toks_before`` the tokens of the line that start before it.
    """
    cdef Py_ssize_t n = starts.shape[0], m = cps.shape[0]
    if cls_table.shape[0] < 0x10000 or lower_table.shape[0] < 0x10000 or pow_.shape[0] < 32:
        raise ValueError("tables too short")
    counts_a = np.zeros((n, 9), dtype=np.float32)
    colon_a = np.full(n, -1, dtype=np.int64)
    before_a = np.zeros(n, dtype=np.int64)
    hashes_a = np.empty(m // 2 + 1, dtype=np.uint64)  # at most one token per two characters
    line_a = np.empty(m // 2 + 1, dtype=np.int64)
    cdef float[:, ::1] counts = counts_a
    cdef int64_t[::1] colon_at = colon_a, toks_before = before_a, tok_line = line_a
    cdef uint64_t[::1] hashes = hashes_a
    cdef Py_ssize_t i, line = -1, next_start = starts[0] if n else m, end = 0
    cdef Py_ssize_t n_tok = 0, k = 0, line_tok = 0
    cdef uint32_t cp, lc
    cdef uint8_t c
    cdef bint in_word = False, found_colon = False
    cdef uint64_t h = 0
    for i in range(m):
        while i >= next_start and line + 1 < n:
            line += 1
            next_start = starts[line + 1] if line + 1 < n else m + 1
            end = next_start - 1  # the separator; the last line ends at m
            if line + 1 >= n:
                end = m
            line_tok = 0
            found_colon = False
        cp = cps[i]
        if cp < 0x10000:
            c = cls_table[cp]
            lc = lower_table[cp]
        else:
            c = 2
            lc = cp
        if line < 0:
            continue
        if c & 2:
            if not in_word:  # a token starts
                in_word = True
                k = 0
                h = 0
                counts[line, 1] += 1
                if c & 4:
                    counts[line, 6] += 1
                if c & 32:
                    counts[line, 7] += 1
                tok_line[n_tok] = line
                line_tok += 1
            h += <uint64_t>lc * pow_[k if k < 31 else 31]
            k += 1
        elif in_word:  # the token ended at i - 1
            in_word = False
            hashes[n_tok] = h ^ (<uint64_t>k * _GOLDEN)
            if k <= 3:
                counts[tok_line[n_tok], 8] += 1
            n_tok += 1
        if not (c & 1):
            counts[line, 0] += 1
        if c & 32:
            counts[line, 2] += 1
        if c & 4:
            counts[line, 3] += 1
        if c & 8:
            counts[line, 4] += 1
        if c & 16:
            counts[line, 5] += 1
        if (cp == 0x3A or cp == 0xFF1A) and not found_colon and i < end:
            found_colon = True
            colon_at[line] = i
            toks_before[line] = line_tok
    if in_word:
        hashes[n_tok] = h ^ (<uint64_t>k * _GOLDEN)
        if k <= 3:
            counts[tok_line[n_tok], 8] += 1
        n_tok += 1
    return counts_a, hashes_a[:n_tok].copy(), line_a[:n_tok].copy(), colon_a, before_a
