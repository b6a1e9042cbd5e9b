# cython: boundscheck=False, wraparound=False, cdivision=True
"""The scan of :func:`boilerclf.parse.guard.guard`, compiled (same spans, linear time in C).

Tag names are compared by a 64-bit FNV-1a hash of their lower-cased code
points; the name classes of guard.py become bits in a small hash table built
at import from guard.py's own sets, so both scans use one definition.
"""
from libc.stdint cimport uint16_t, uint32_t, uint64_t
from libc.stdlib cimport realloc, free
from libc.string cimport memchr, memset

from boilerclf.parse import markup as _g

cdef extern from "Python.h":
    int PyUnicode_KIND(object o)
    void *PyUnicode_DATA(object o)
    uint32_t PyUnicode_READ(int kind, void *data, Py_ssize_t index) nogil
    Py_ssize_t PyUnicode_GET_LENGTH(object o)

# name classes
cdef enum:
    C_VOID = 1 << 0
    C_RAW = 1 << 1
    C_NO_PUSH = 1 << 2
    C_NO_POP = 1 << 3
    C_FOREIGN = 1 << 4
    C_BREAKOUT = 1 << 5
    C_HEADING = 1 << 6
    C_SPECIAL = 1 << 7
    C_SCOPE = 1 << 8
    C_BUTTON = 1 << 9          # button (button scope = scope + button)
    C_OLUL = 1 << 10           # ol, ul (list item scope = scope + these)
    C_TABLE_SCOPE = 1 << 11
    C_P_CLOSER = 1 << 12
    C_ITEM_STOP = 1 << 13
    C_TABLE_PART = 1 << 14
    C_RUBY = 1 << 15           # rb rp rt rtc
    C_RUBY3 = 1 << 16          # rb rp rt
    C_OPTION = 1 << 17
    C_PLAINTEXT = 1 << 18
    C_FORM = 1 << 19
    C_P = 1 << 20
    C_LI = 1 << 21
    C_DDT = 1 << 22            # dd dt
    C_TDTH = 1 << 23
    C_TR = 1 << 24
    C_TSECTION = 1 << 25       # tbody thead tfoot
    C_FORMATTING = 1 << 26
    C_MARKER = 1 << 27
    C_TABLE_START = 1 << 28
    C_TABLE_CONTEXT = 1 << 29
    C_NO_REBUILD = 1 << 30

cdef enum:                     # rules of start tags (guard._CLOSES)
    R_LI = 1
    R_DDT = 2
    R_TDTH = 3
    R_TR = 4
    R_TSECTION = 5
    R_BUTTON = 6               # button: close an open button

cdef enum:
    TOP_OPTION = 1
    TOP_RUBY = 2
    TOP_RUBY3 = 3
    TOP_HEADING = 4

cdef uint64_t FNV_OFFSET = 14695981039346656037ULL
cdef uint64_t FNV_PRIME = 1099511628211ULL


def name_hash(str name):
    """FNV-1a 64 of the code points of an (already lower-case) tag name."""
    cdef uint64_t h = FNV_OFFSET
    for ch in name:
        h = (h ^ <uint64_t> ord(ch)) * FNV_PRIME
    return h


cdef struct slot:
    uint64_t h
    uint32_t bits
    int top
    int rule
    bint used

DEF TAB = 1024
cdef slot _tab[TAB]
cdef uint64_t H_FORM = 0, H_P = 0, H_A = 0, H_NOBR = 0, H_BR = 0, H_FONT = 0, H_TABLE = 0
cdef uint64_t H_COLOR = 0, H_FACE = 0, H_SIZE = 0


cdef void _put(uint64_t h, uint32_t bits, int top, int rule=0) noexcept:
    cdef Py_ssize_t j = <Py_ssize_t> (h & (TAB - 1))
    while _tab[j].used and _tab[j].h != h:
        j = (j + 1) & (TAB - 1)
    _tab[j].used = True
    _tab[j].h = h
    _tab[j].bits |= bits
    if top:
        _tab[j].top = top
    if rule:
        _tab[j].rule = rule


cdef inline slot *_get(uint64_t h) noexcept nogil:
    cdef Py_ssize_t j = <Py_ssize_t> (h & (TAB - 1))
    while _tab[j].used:
        if _tab[j].h == h:
            return &_tab[j]
        j = (j + 1) & (TAB - 1)
    return NULL


def _build():
    global H_FORM, H_P, H_A, H_NOBR, H_BR, H_FONT, H_TABLE, H_COLOR, H_FACE, H_SIZE
    classes = [
        (_g.VOID, C_VOID), (_g.RAW, C_RAW), (_g.NO_PUSH, C_NO_PUSH), (_g.NO_POP, C_NO_POP),
        (_g.FOREIGN, C_FOREIGN), (_g.BREAKOUT, C_BREAKOUT), (_g.HEADINGS, C_HEADING),
        (_g.SPECIAL, C_SPECIAL), (_g.SCOPE, C_SCOPE), ({"button"}, C_BUTTON),
        ({"ol", "ul"}, C_OLUL), (_g.TABLE_SCOPE, C_TABLE_SCOPE), (_g.P_CLOSERS, C_P_CLOSER),
        (_g.ITEM_STOP, C_ITEM_STOP), (_g.TABLE_PARTS, C_TABLE_PART), (_g.RUBY, C_RUBY),
        ({"rb", "rp", "rt"}, C_RUBY3), ({"option"}, C_OPTION), ({"plaintext"}, C_PLAINTEXT),
        ({"form"}, C_FORM), ({"p"}, C_P), ({"li"}, C_LI), ({"dd", "dt"}, C_DDT),
        ({"td", "th"}, C_TDTH), ({"tr"}, C_TR), ({"tbody", "thead", "tfoot"}, C_TSECTION),
        (_g.FORMATTING, C_FORMATTING), (_g.MARKERS, C_MARKER), (_g.TABLE_START, C_TABLE_START),
        (_g.TABLE_CONTEXT, C_TABLE_CONTEXT), (_g.NO_REBUILD, C_NO_REBUILD),
    ]
    for names, bit in classes:
        for nm in names:
            _put(name_hash(nm), bit, 0)
    # the start-tag rules, checked against guard.py's tables
    rules = {"li": R_LI, "dd": R_DDT, "dt": R_DDT, "td": R_TDTH, "th": R_TDTH, "tr": R_TR,
             "tbody": R_TSECTION, "thead": R_TSECTION, "tfoot": R_TSECTION,
             "button": R_BUTTON}
    if set(rules) != set(_g.CLOSES):
        raise ImportError("boilerclf.parse._cguard is out of date with guard._CLOSES")
    for nm, bit in rules.items():
        _put(name_hash(nm), 0, 0, bit)
    tops = {"option": TOP_OPTION, "optgroup": TOP_OPTION, "rb": TOP_RUBY, "rtc": TOP_RUBY,
            "rp": TOP_RUBY3, "rt": TOP_RUBY3, **{h: TOP_HEADING for h in _g.HEADINGS}}
    if set(tops) != set(_g.POPS_TOP):
        raise ImportError("boilerclf.parse._cguard is out of date with guard._POPS_TOP")
    for nm, t in tops.items():
        _put(name_hash(nm), 0, t)
    H_FORM = name_hash("form")
    H_P = name_hash("p")
    H_A = name_hash("a")
    H_NOBR = name_hash("nobr")
    H_BR = name_hash("br")
    H_FONT = name_hash("font")
    H_TABLE = name_hash("table")
    if _g.TABLE_MODE != {"table", "tbody", "thead", "tfoot", "tr"}:
        raise ImportError("boilerclf.parse._cguard is out of date with guard._TABLE_MODE")
    if _g.FONT_BREAKOUT_ATTRS != {"color", "face", "size"}:
        raise ImportError("boilerclf.parse._cguard is out of date with guard.FONT_BREAKOUT_ATTRS")
    H_COLOR = name_hash("color")
    H_FACE = name_hash("face")
    H_SIZE = name_hash("size")


_build()


cdef inline Py_ssize_t _next(int kind, void *data, Py_ssize_t i, Py_ssize_t n, uint32_t ch) noexcept nogil:
    """Index of the next ``ch`` at or after ``i``, or ``n`` (memchr for 1-byte strings)."""
    cdef const char *p
    cdef const uint16_t *p2
    cdef const uint32_t *p4
    if i >= n:
        return n
    if kind == 1:
        p = <const char *> memchr(<const char *> data + i, <int> ch, n - i)
        return n if p == NULL else p - <const char *> data
    if kind == 2:
        p2 = <const uint16_t *> data
        while i < n and p2[i] != ch:
            i += 1
        return i
    p4 = <const uint32_t *> data
    while i < n and p4[i] != ch:
        i += 1
    return i


cdef inline bint _ws(uint32_t c) noexcept nogil:
    return c == 9 or c == 10 or c == 12 or c == 13 or c == 32


cdef inline bint _alpha(uint32_t c) noexcept nogil:
    return (c >= 97 and c <= 122) or (c >= 65 and c <= 90)


cdef inline uint32_t _low(uint32_t c) noexcept nogil:
    return c + 32 if (c >= 65 and c <= 90) else c



DEF MARK = -2


cdef struct State:
    # the stack of open elements: name hash, classes, and its formatting entry, -1 or MARK
    uint64_t *h
    uint32_t *bits
    Py_ssize_t *mark
    Py_ssize_t n, cap
    Py_ssize_t foreign, tables
    # the list of active formatting elements: entry numbers, -1 for a marker
    Py_ssize_t *afe
    Py_ssize_t na, capa
    # the entries: name hash, raw attributes (hash, start, length), on the stack, on the list
    uint64_t *e_h
    uint64_t *e_ah
    Py_ssize_t *e_as
    Py_ssize_t *e_al
    char *e_open
    char *e_in
    Py_ssize_t ne, cape
    Py_ssize_t open_fmt, closed, rebuilt


cdef void _free(State *s) noexcept:
    free(s.h)
    free(s.bits)
    free(s.mark)
    free(s.afe)
    free(s.e_h)
    free(s.e_ah)
    free(s.e_as)
    free(s.e_al)
    free(s.e_open)
    free(s.e_in)


cdef int _push(State *s, uint64_t h, uint32_t bits, Py_ssize_t mark) except -1:
    cdef Py_ssize_t cap
    if s.n == s.cap:
        cap = s.cap * 2 if s.cap else 64
        s.h = <uint64_t *> realloc(s.h, cap * sizeof(uint64_t))
        s.bits = <uint32_t *> realloc(s.bits, cap * sizeof(uint32_t))
        s.mark = <Py_ssize_t *> realloc(s.mark, cap * sizeof(Py_ssize_t))
        if s.h == NULL or s.bits == NULL or s.mark == NULL:
            raise MemoryError()
        s.cap = cap
    s.h[s.n] = h
    s.bits[s.n] = bits
    s.mark[s.n] = mark
    s.n += 1
    if bits & C_FOREIGN:
        s.foreign += 1
    if bits & C_TABLE_CONTEXT:
        s.tables += 1
    if mark >= 0:
        s.open_fmt += 1
    elif mark == MARK:
        _afe_push(s, -1)
    return 0


cdef int _afe_push(State *s, Py_ssize_t x) except -1:
    cdef Py_ssize_t cap
    if s.na == s.capa:
        cap = s.capa * 2 if s.capa else 64
        s.afe = <Py_ssize_t *> realloc(s.afe, cap * sizeof(Py_ssize_t))
        if s.afe == NULL:
            raise MemoryError()
        s.capa = cap
    s.afe[s.na] = x
    s.na += 1
    return 0


cdef Py_ssize_t _new_entry(State *s, uint64_t h, uint64_t ah, Py_ssize_t at, Py_ssize_t al) except -1:
    cdef Py_ssize_t cap
    if s.ne == s.cape:
        cap = s.cape * 2 if s.cape else 64
        s.e_h = <uint64_t *> realloc(s.e_h, cap * sizeof(uint64_t))
        s.e_ah = <uint64_t *> realloc(s.e_ah, cap * sizeof(uint64_t))
        s.e_as = <Py_ssize_t *> realloc(s.e_as, cap * sizeof(Py_ssize_t))
        s.e_al = <Py_ssize_t *> realloc(s.e_al, cap * sizeof(Py_ssize_t))
        s.e_open = <char *> realloc(s.e_open, cap * sizeof(char))
        s.e_in = <char *> realloc(s.e_in, cap * sizeof(char))
        if (s.e_h == NULL or s.e_ah == NULL or s.e_as == NULL or s.e_al == NULL
                or s.e_open == NULL or s.e_in == NULL):
            raise MemoryError()
        s.cape = cap
    s.e_h[s.ne] = h
    s.e_ah[s.ne] = ah
    s.e_as[s.ne] = at
    s.e_al[s.ne] = al
    s.e_open[s.ne] = 1
    s.e_in[s.ne] = 1
    s.ne += 1
    return s.ne - 1


cdef void _remove_at(State *s, Py_ssize_t k) noexcept nogil:
    cdef uint32_t bits = s.bits[k]
    cdef Py_ssize_t mark = s.mark[k]
    cdef Py_ssize_t m = k
    while m + 1 < s.n:
        s.h[m] = s.h[m + 1]
        s.bits[m] = s.bits[m + 1]
        s.mark[m] = s.mark[m + 1]
        m += 1
    s.n -= 1
    if bits & C_FOREIGN:
        s.foreign -= 1
    if bits & C_TABLE_CONTEXT:
        s.tables -= 1
    if mark >= 0:
        s.open_fmt -= 1


cdef void _pop_to(State *s, Py_ssize_t k) noexcept nogil:
    cdef Py_ssize_t mark, x
    while s.n > k:
        mark = s.mark[s.n - 1]
        _remove_at(s, s.n - 1)
        if mark >= 0:
            if s.e_in[mark]:
                s.e_open[mark] = 0
                s.closed += 1
        elif mark == MARK:  # the list is cleared up to its last marker
            while s.na:
                s.na -= 1
                x = s.afe[s.na]
                if x < 0:
                    break
                s.e_in[x] = 0
                if not s.e_open[x]:
                    s.closed -= 1


cdef void _drop(State *s, Py_ssize_t j) noexcept nogil:
    cdef Py_ssize_t x = s.afe[j]
    while j + 1 < s.na:
        s.afe[j] = s.afe[j + 1]
        j += 1
    s.na -= 1
    s.e_in[x] = 0
    if not s.e_open[x]:
        s.closed -= 1


cdef int _rebuild(State *s) except -1:
    """Reconstruct the active formatting elements: reopen the entries after the last open one."""
    cdef Py_ssize_t j, x
    if s.na == 0 or s.afe[s.na - 1] < 0 or s.e_open[s.afe[s.na - 1]]:
        return 0
    j = s.na - 1
    while j > 0 and s.afe[j - 1] >= 0 and not s.e_open[s.afe[j - 1]]:
        j -= 1
    while j < s.na:
        x = s.afe[j]
        s.e_open[x] = 1
        s.closed -= 1
        s.rebuilt += 1
        _push(s, s.e_h[x], C_FORMATTING, x)
        j += 1
    return 0


cdef inline Py_ssize_t _last_entry(State *s, uint64_t h) noexcept nogil:
    cdef Py_ssize_t j = s.na - 1
    while j >= 0:
        if s.afe[j] < 0:
            return -1
        if s.e_h[s.afe[j]] == h:
            return j
        j -= 1
    return -1


cdef inline Py_ssize_t _find(State *s, uint32_t names, uint64_t exact, uint32_t stop) noexcept nogil:
    """Index of the nearest element in ``names`` (or named ``exact``), -1 past a ``stop`` one."""
    cdef Py_ssize_t k = s.n - 1
    while k >= 0:
        if (s.bits[k] & names) or (exact and s.h[k] == exact):
            return k
        if s.bits[k] & stop:
            return -1
        k -= 1
    return -1


cdef int _adopt(State *s, uint64_t h, Py_ssize_t *pos) noexcept nogil:
    """The adoption agency for an end tag (guard.py's ``adopt``): 0 without an entry,
    2 when its element is out of scope (``pos`` is set), else 1."""
    cdef Py_ssize_t j = _last_entry(s, h)
    cdef Py_ssize_t x, k, m, top_block = -1, n_blocks = 0, fb
    cdef bint in_scope = True
    if j < 0:
        return 0
    x = s.afe[j]
    if not s.e_open[x]:
        _drop(s, j)
        return 1
    k = s.n - 1
    while s.mark[k] != x:
        if s.bits[k] & C_SCOPE:
            in_scope = False
        if s.bits[k] & C_SPECIAL:
            if top_block < 0:
                top_block = k
            n_blocks += 1
        k -= 1
    if not in_scope:
        pos[0] = k
        return 2
    if n_blocks == 0:
        _drop(s, j)
        _pop_to(s, k)
    elif n_blocks < 8:
        _drop(s, j)
        _remove_at(s, k)
        _pop_to(s, top_block)
    else:
        fb = k + 1  # the eighth special element above it
        m = 0
        while True:
            if s.bits[fb] & C_SPECIAL:
                m += 1
                if m == 8:
                    break
            fb += 1
        _remove_at(s, k)  # fb moves down one: the clone goes at fb
        m = s.n
        while m > fb:
            s.h[m] = s.h[m - 1]
            s.bits[m] = s.bits[m - 1]
            s.mark[m] = s.mark[m - 1]
            m -= 1
        s.h[fb] = h
        s.bits[fb] = C_FORMATTING
        s.mark[fb] = x
        s.n += 1
        s.open_fmt += 1
    return 1


def guard(str text, Py_ssize_t max_depth=_g.MAX_DEPTH, Py_ssize_t max_attrs=_g.MAX_ATTRS,
          Py_ssize_t max_formatting=_g.MAX_FORMATTING, max_page_attrs=None):
    """Spans to delete, as :func:`boilerclf.parse.guard.guard`."""
    cdef Py_ssize_t page_attrs = (_g.attr_budget(PyUnicode_GET_LENGTH(text)) if max_page_attrs is None
                                  else max_page_attrs)
    cuts = _scan(text, max_depth, max_attrs, max_formatting, page_attrs)
    if cuts is None:  # formatting elements rebuilt past the page's budget: drop them all
        cuts = _scan(text, max_depth, max_attrs, 0, page_attrs)
    return cuts


cdef object _scan(str text, Py_ssize_t max_depth, Py_ssize_t max_attrs, Py_ssize_t max_formatting,
                  Py_ssize_t page_attrs):
    cdef int kind = PyUnicode_KIND(text)
    cdef void *data = PyUnicode_DATA(text)
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    cdef Py_ssize_t budget = _g.rebuild_budget(n)
    cdef Py_ssize_t i = 0, j, k, t0, start, end, cut_from, n_attrs, name_at, name_len, name_end, m
    cdef Py_ssize_t x, same, first, pos
    cdef uint32_t c, q
    cdef uint64_t h, ah
    cdef uint32_t bits, stop
    cdef int top, rule, code
    cdef bint end_tag, self_closing, pushed, ok, is_font, font_breaks, breakout, in_foreign, fmt
    cdef slot *sl
    cdef State st
    memset(&st, 0, sizeof(State))
    cuts = []
    try:
        while True:
            if st.rebuilt > budget:
                return None
            j = _next(kind, data, i, n, 60)  # '<'
            if j + 1 >= n:
                break
            if j > i:  # text
                _rebuild(&st)
            i = j
            t0 = i
            c = PyUnicode_READ(kind, data, i + 1)
            if c == 33:  # '!'
                if (i + 3 < n and PyUnicode_READ(kind, data, i + 2) == 45
                        and PyUnicode_READ(kind, data, i + 3) == 45):  # '<!--'
                    j = i + 4
                    if j < n and PyUnicode_READ(kind, data, j) == 62:
                        i = j + 1
                        continue
                    if (j + 1 < n and PyUnicode_READ(kind, data, j) == 45
                            and PyUnicode_READ(kind, data, j + 1) == 62):
                        i = j + 2
                        continue
                    # the first '-->' or '--!>'
                    k = -1
                    while True:
                        j = _next(kind, data, j, n, 45)  # '-'
                        if j + 2 >= n:
                            break
                        if PyUnicode_READ(kind, data, j + 1) == 45:
                            c = PyUnicode_READ(kind, data, j + 2)
                            if c == 62:
                                k = j + 3
                                break
                            if c == 33 and j + 3 < n and PyUnicode_READ(kind, data, j + 3) == 62:
                                k = j + 4
                                break
                        j += 1
                    if k < 0:
                        break
                    i = k
                    continue
                j = _next(kind, data, i + 2, n, 62)
                if j >= n:
                    break
                i = j + 1
                continue
            if c == 63:  # '?'
                j = _next(kind, data, i + 2, n, 62)
                if j >= n:
                    break
                i = j + 1
                continue
            end_tag = c == 47  # '/'
            if end_tag:
                if i + 2 >= n:
                    break
                c = PyUnicode_READ(kind, data, i + 2)
                if c == 62:
                    i += 3
                    continue
                if not _alpha(c):
                    j = _next(kind, data, i + 2, n, 62)
                    if j >= n:
                        break
                    i = j + 1
                    continue
                j = i + 2
            elif _alpha(c):
                j = i + 1
            else:  # a '<' that is text
                _rebuild(&st)
                i += 1
                continue
            # the tag name
            name_at = j
            h = FNV_OFFSET
            while j < n:
                c = PyUnicode_READ(kind, data, j)
                if _ws(c) or c == 47 or c == 62:
                    break
                h = (h ^ <uint64_t> _low(c)) * FNV_PRIME
                j += 1
            name_len = j - name_at
            name_end = j
            is_font = h == H_FONT
            font_breaks = False
            # the attributes
            n_attrs = 0
            cut_from = -1
            self_closing = False
            while True:
                while j < n:
                    c = PyUnicode_READ(kind, data, j)
                    if not (_ws(c) or c == 47):
                        break
                    self_closing = c == 47
                    j += 1
                if j >= n or PyUnicode_READ(kind, data, j) == 62:
                    break
                self_closing = False
                start = j
                ah = (FNV_OFFSET ^ <uint64_t> _low(PyUnicode_READ(kind, data, j))) * FNV_PRIME
                j += 1
                while j < n:
                    c = PyUnicode_READ(kind, data, j)
                    if _ws(c) or c == 47 or c == 62 or c == 61:
                        break
                    ah = (ah ^ <uint64_t> _low(c)) * FNV_PRIME
                    j += 1
                if is_font and (ah == H_COLOR or ah == H_FACE or ah == H_SIZE):
                    font_breaks = True
                while j < n and _ws(PyUnicode_READ(kind, data, j)):
                    j += 1
                if j < n and PyUnicode_READ(kind, data, j) == 61:  # '='
                    j += 1
                    while j < n and _ws(PyUnicode_READ(kind, data, j)):
                        j += 1
                    if j < n:
                        q = PyUnicode_READ(kind, data, j)
                        if q == 34 or q == 39:
                            j = _next(kind, data, j + 1, n, q)
                            if j < n:
                                j += 1
                        else:
                            while j < n:
                                c = PyUnicode_READ(kind, data, j)
                                if _ws(c) or c == 62:
                                    break
                                j += 1
                n_attrs += 1
                if cut_from < 0:
                    if n_attrs > max_attrs or page_attrs <= 0:
                        cut_from = start
                    else:
                        page_attrs -= 1
            end = j
            i = end + 1
            sl = _get(h)
            bits = sl.bits if sl != NULL else 0
            top = sl.top if sl != NULL else 0
            rule = sl.rule if sl != NULL else 0
            if end_tag:
                if j < n and not (bits & C_NO_POP):
                    if h == H_FORM:
                        k = _find(&st, 0, H_FORM, C_SCOPE)
                        if k >= 0:  # only the form itself leaves the stack
                            _remove_at(&st, k)
                        continue
                    if (bits & C_FORMATTING) and not st.foreign and _adopt(&st, h, &pos):
                        pass
                    else:
                        if h == H_P:
                            stop = C_SCOPE | C_BUTTON
                        elif bits & C_LI:
                            stop = C_SCOPE | C_OLUL
                        elif bits & C_TABLE_PART:
                            stop = C_TABLE_SCOPE
                        elif bits & C_SPECIAL:
                            stop = C_SCOPE
                        else:
                            stop = C_SPECIAL
                        k = _find(&st, 0, h, stop)
                        if k >= 0:
                            _pop_to(&st, k)
                elif j < n and h == H_BR:  # read as <br>
                    _rebuild(&st)
                if cut_from >= 0:
                    cuts.append((cut_from, end))
                if j >= n:
                    break
                continue
            if j >= n:
                if cut_from >= 0:
                    cuts.append((cut_from, end))
                break
            breakout = st.foreign > 0 and ((bits & C_BREAKOUT) or font_breaks)
            in_foreign = st.foreign > 0 and not breakout
            fmt = (bits & C_FORMATTING) and not in_foreign
            pushed = True
            if (bits & (C_NO_PUSH | C_VOID)) or (self_closing and (in_foreign or (bits & C_FOREIGN))):
                pushed = False
            elif not in_foreign and (bits & (C_RAW | C_PLAINTEXT)):
                pushed = False
            elif h == H_FORM and _find(&st, 0, H_FORM, 0) >= 0:
                pushed = False
            elif not in_foreign and (bits & C_TABLE_START) and not st.tables:
                pushed = False  # ignored outside a table
            # the cuts, before anything the tag would do
            if pushed and (st.n >= max_depth or (fmt and st.open_fmt + st.closed >= max_formatting)):
                cuts.append((t0, end + 1))
                continue
            if breakout:
                k = 0
                while not (st.bits[k] & C_FOREIGN):
                    k += 1
                _pop_to(&st, k)
            if pushed:
                if bits & C_P_CLOSER:
                    k = _find(&st, 0, H_P, C_SCOPE | C_BUTTON)
                    if k >= 0:
                        _pop_to(&st, k)
                if top:
                    stop = (C_OPTION if top == TOP_OPTION else C_RUBY if top == TOP_RUBY
                            else C_RUBY3 if top == TOP_RUBY3 else C_HEADING)
                    while st.n and (st.bits[st.n - 1] & stop):
                        _pop_to(&st, st.n - 1)
                k = -1
                if rule == R_LI:
                    k = _find(&st, C_LI, 0, C_ITEM_STOP)
                elif rule == R_DDT:
                    k = _find(&st, C_DDT, 0, C_ITEM_STOP)
                elif rule == R_TDTH:
                    k = _find(&st, C_TDTH, 0, C_TABLE_SCOPE)
                elif rule == R_TR:
                    k = _find(&st, C_TR, 0, C_TABLE_SCOPE)
                elif rule == R_TSECTION:
                    k = _find(&st, C_TSECTION, 0, C_TABLE_SCOPE)
                elif rule == R_BUTTON:
                    k = _find(&st, 0, h, C_SCOPE)
                if k >= 0:
                    _pop_to(&st, k)
                if (h == H_TABLE and not in_foreign and st.n
                        and ((st.bits[st.n - 1] & (C_TSECTION | C_TR)) or st.h[st.n - 1] == H_TABLE)):
                    k = _find(&st, 0, H_TABLE, C_TABLE_SCOPE)  # a table right in a table closes it
                    if k >= 0:
                        _pop_to(&st, k)
                if fmt and h == H_A:  # an open a is closed first, and leaves the list
                    code = _adopt(&st, H_A, &pos)
                    if code == 2:
                        _drop(&st, _last_entry(&st, H_A))
                        _remove_at(&st, pos)
            if not (bits & C_NO_REBUILD):
                _rebuild(&st)
                if fmt and h == H_NOBR and _find(&st, 0, H_NOBR, C_SCOPE) >= 0:
                    if not _adopt(&st, H_NOBR, &pos):
                        k = _find(&st, 0, H_NOBR, C_SPECIAL)
                        if k >= 0:
                            _pop_to(&st, k)
                    _rebuild(&st)
            if pushed:
                if fmt:
                    ah = FNV_OFFSET
                    m = name_end
                    while m < end:
                        ah = (ah ^ <uint64_t> PyUnicode_READ(kind, data, m)) * FNV_PRIME
                        m += 1
                    same = 0
                    first = -1
                    k = st.na - 1
                    while k >= 0:  # at most three identical entries (Noah's Ark)
                        x = st.afe[k]
                        if x < 0:
                            break
                        if (st.e_h[x] == h and st.e_ah[x] == ah and st.e_al[x] == end - name_end
                                and _same(kind, data, st.e_as[x], name_end, end - name_end)):
                            same += 1
                            first = k
                        k -= 1
                    if same >= 3:
                        _drop(&st, first)
                    x = _new_entry(&st, h, ah, name_end, end - name_end)
                    _push(&st, h, bits, x)
                    _afe_push(&st, x)
                else:
                    _push(&st, h, bits, MARK if (not in_foreign and (bits & C_MARKER)) else -1)
            if cut_from >= 0:
                cuts.append((cut_from, end))
            if not pushed and not st.foreign and (bits & C_PLAINTEXT):
                break
            if not pushed and not st.foreign and (bits & C_RAW):
                # the next '</name' (any case) followed by a space, '/' or '>'
                k = -1
                j = i
                while True:
                    j = _next(kind, data, j, n, 60)
                    if j + 1 + name_len >= n:
                        break
                    if PyUnicode_READ(kind, data, j + 1) == 47:
                        ok = True
                        m = 0
                        while m < name_len:
                            if _low(PyUnicode_READ(kind, data, j + 2 + m)) != _low(PyUnicode_READ(kind, data, name_at + m)):
                                ok = False
                                break
                            m += 1
                        if ok:
                            c = PyUnicode_READ(kind, data, j + 2 + name_len)
                            if _ws(c) or c == 47 or c == 62:
                                k = j
                                break
                    j += 1
                if k < 0:
                    break
                i = k
        if st.rebuilt > budget:
            return None
    finally:
        _free(&st)
    return cuts


cdef inline bint _same(int kind, void *data, Py_ssize_t a, Py_ssize_t b, Py_ssize_t length) noexcept nogil:
    cdef Py_ssize_t m = 0
    while m < length:
        if PyUnicode_READ(kind, data, a + m) != PyUnicode_READ(kind, data, b + m):
            return False
        m += 1
    return True
