# cython: boundscheck=False, wraparound=False, cdivision=True
"""The scan of :func:`boilerclf.guard.guard`, compiled (same spans, linear time in C).

Tag names are compared by a 64-bit FNV-1a hash of their lower-cased code
points; the name classes of guard.py become bits in a small hash table built
at import from guard.py's own sets, so both scans use one definition.
"""
from libc.stdint cimport uint16_t, uint32_t, uint64_t
from libc.stdlib cimport realloc, free
from libc.string cimport memchr

from . import guard as _g

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

cdef enum:                     # rules of start tags (guard._CLOSES)
    R_LI = 1
    R_DDT = 2
    R_TDTH = 3
    R_TR = 4
    R_TSECTION = 5
    R_SELF = 6                 # a, nobr, button: close the same name

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
cdef uint64_t H_FORM = 0, H_P = 0


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
    global H_FORM, H_P
    classes = [
        (_g.VOID, C_VOID), (_g.RAW, C_RAW), (_g.NO_PUSH, C_NO_PUSH), (_g.NO_POP, C_NO_POP),
        (_g.FOREIGN, C_FOREIGN), (_g.BREAKOUT, C_BREAKOUT), (_g.HEADINGS, C_HEADING),
        (_g.SPECIAL, C_SPECIAL), (_g.SCOPE, C_SCOPE), ({"button"}, C_BUTTON),
        ({"ol", "ul"}, C_OLUL), (_g.TABLE_SCOPE, C_TABLE_SCOPE), (_g.P_CLOSERS, C_P_CLOSER),
        (_g._ITEM_STOP, C_ITEM_STOP), (_g._TABLE_PARTS, C_TABLE_PART), (_g._RUBY, C_RUBY),
        ({"rb", "rp", "rt"}, C_RUBY3), ({"option"}, C_OPTION), ({"plaintext"}, C_PLAINTEXT),
        ({"form"}, C_FORM), ({"p"}, C_P), ({"li"}, C_LI), ({"dd", "dt"}, C_DDT),
        ({"td", "th"}, C_TDTH), ({"tr"}, C_TR), ({"tbody", "thead", "tfoot"}, C_TSECTION),
    ]
    for names, bit in classes:
        for nm in names:
            _put(name_hash(nm), bit, 0)
    # the start-tag rules, checked against guard.py's tables
    rules = {"li": R_LI, "dd": R_DDT, "dt": R_DDT, "td": R_TDTH, "th": R_TDTH, "tr": R_TR,
             "tbody": R_TSECTION, "thead": R_TSECTION, "tfoot": R_TSECTION,
             "a": R_SELF, "nobr": R_SELF, "button": R_SELF}
    if set(rules) != set(_g._CLOSES):
        raise ImportError("boilerclf._cguard is out of date with guard._CLOSES")
    for nm, bit in rules.items():
        _put(name_hash(nm), 0, 0, bit)
    tops = {"option": TOP_OPTION, "optgroup": TOP_OPTION, "rb": TOP_RUBY, "rtc": TOP_RUBY,
            "rp": TOP_RUBY3, "rt": TOP_RUBY3, **{h: TOP_HEADING for h in _g.HEADINGS}}
    if set(tops) != set(_g._POPS_TOP):
        raise ImportError("boilerclf._cguard is out of date with guard._POPS_TOP")
    for nm, t in tops.items():
        _put(name_hash(nm), 0, t)
    H_FORM = name_hash("form")
    H_P = name_hash("p")


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


cdef struct Stack:
    uint64_t *h
    uint32_t *bits
    Py_ssize_t n, cap
    Py_ssize_t foreign


cdef int _push(Stack *s, uint64_t h, uint32_t bits) except -1:
    cdef Py_ssize_t cap
    if s.n == s.cap:
        cap = s.cap * 2 if s.cap else 64
        s.h = <uint64_t *> realloc(s.h, cap * sizeof(uint64_t))
        s.bits = <uint32_t *> realloc(s.bits, cap * sizeof(uint32_t))
        if s.h == NULL or s.bits == NULL:
            raise MemoryError()
        s.cap = cap
    s.h[s.n] = h
    s.bits[s.n] = bits
    s.n += 1
    if bits & C_FOREIGN:
        s.foreign += 1
    return 0


cdef inline void _pop_to(Stack *s, Py_ssize_t k) noexcept nogil:
    while s.n > k:
        s.n -= 1
        if s.bits[s.n] & C_FOREIGN:
            s.foreign -= 1


cdef inline Py_ssize_t _find(Stack *s, uint32_t names, uint64_t exact, uint32_t stop) noexcept nogil:
    """Index of the nearest element in ``names`` (or named ``exact``), -1 past a ``stop`` one."""
    cdef Py_ssize_t k = s.n - 1
    while k >= 0:
        if (s.bits[k] & names) or (exact and s.h[k] == exact):
            return k
        if s.bits[k] & stop:
            return -1
        k -= 1
    return -1


def guard(str text, Py_ssize_t max_depth=_g.MAX_DEPTH, Py_ssize_t max_attrs=_g.MAX_ATTRS):
    """Spans to delete, as :func:`boilerclf.guard.guard`."""
    cdef int kind = PyUnicode_KIND(text)
    cdef void *data = PyUnicode_DATA(text)
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    cdef Py_ssize_t i = 0, j, k, t0, start, end, cut_from, n_attrs, name_at, name_len, m
    cdef uint32_t c, q
    cdef uint64_t h
    cdef uint32_t bits, stop
    cdef int top, rule
    cdef bint end_tag, self_closing, pushed, ok
    cdef slot *sl
    cdef Stack st
    st.h = NULL
    st.bits = NULL
    st.n = st.cap = st.foreign = 0
    cuts = []
    try:
        while True:
            i = _next(kind, data, i, n, 60)  # '<'
            if i + 1 >= n:
                break
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
            else:
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
                j += 1
                while j < n:
                    c = PyUnicode_READ(kind, data, j)
                    if _ws(c) or c == 47 or c == 62 or c == 61:
                        break
                    j += 1
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
                if n_attrs == max_attrs + 1:
                    cut_from = start
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
                            if st.bits[k] & C_FOREIGN:
                                st.foreign -= 1
                            m = k
                            while m + 1 < st.n:
                                st.h[m] = st.h[m + 1]
                                st.bits[m] = st.bits[m + 1]
                                m += 1
                            st.n -= 1
                        continue
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
                if cut_from >= 0:
                    cuts.append((cut_from, end))
                if j >= n:
                    break
                continue
            if j >= n:
                if cut_from >= 0:
                    cuts.append((cut_from, end))
                break
            if st.foreign and (bits & C_BREAKOUT):
                k = 0
                while not (st.bits[k] & C_FOREIGN):
                    k += 1
                _pop_to(&st, k)
            pushed = True
            if (bits & (C_NO_PUSH | C_VOID)) or (self_closing and (st.foreign or (bits & C_FOREIGN))):
                pushed = False
            elif not st.foreign and (bits & (C_RAW | C_PLAINTEXT)):
                pushed = False
            elif h == H_FORM and _find(&st, 0, H_FORM, 0) >= 0:
                pushed = False
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
                elif rule == R_SELF:
                    k = _find(&st, 0, h, C_SCOPE if (bits & C_BUTTON) else C_SPECIAL)
                if k >= 0:
                    _pop_to(&st, k)
                if st.n >= max_depth:
                    cuts.append((t0, end + 1))
                    continue
                _push(&st, h, bits)
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
    finally:
        free(st.h)
        free(st.bits)
    return cuts
