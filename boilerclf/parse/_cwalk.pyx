# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The DOM pass of :func:`boilerclf.parse.html.html_lines`, compiled.

:func:`walk_c` takes the same arguments and returns the same :class:`~boilerclf.parse.lines.Lines`
as the reference walker :func:`boilerclf.parse.html.walk` (same texts, arrays, title,
truncation), but walks lexbor's tree by following the C struct fields of the
nodes instead of creating a Python ``LexborNode`` per node.

selectolax does not ship lexbor's C headers, so the few lexbor structs read here
are declared below, copied from lexbor 3.1.0 as vendored in selectolax 1.0.2
(``lexbor/source/lexbor/dom/interfaces/{node,element,attr,character_data}.h``,
``core/hash.h``, ``core/str.h``).  No lexbor function is called: the root node's
address comes from selectolax's public ``LexborNode.mem_id``.  Because a
different struct layout would make this code read garbage, :func:`selfcheck`
checks, on a probe page, that every field read here agrees with what
selectolax's own API reports; :mod:`boilerclf.parse.html` runs it before using
the walker (in a child process for a selectolax release not in
:data:`VERIFIED_SELECTOLAX`) and keeps the Python walker if it fails.

Tag names are compared as lexbor tag ids; the id of each name in lines.py's tag
sets is asked of lexbor at first use (``create_node(name)``), so the sets stay
defined in lines.py only.  Elements with names lexbor does not know (custom
elements) are inline and carry no flags, as in the Python walker.  Whatever this
walker cannot reproduce exactly (a tag set naming an element lexbor has no id
for, a text node that is not valid UTF-8) raises :class:`Unsupported`, and
:mod:`boilerclf.parse.html` hands the page to the Python walker.  The tables
are read from the leaf module :mod:`boilerclf.parse.lines`, never from the
module that imports this one.
"""
from libc.stdint cimport uintptr_t, uint64_t, int32_t, int8_t
from libc.stdlib cimport malloc, calloc, realloc, free
from libc.string cimport memcpy, memcmp, memset
from cpython.unicode cimport PyUnicode_DecodeUTF8, Py_UNICODE_ISSPACE, Py_UNICODE_ISDECIMAL
from cpython.pyport cimport PY_SSIZE_T_MAX

import numpy as np

cdef extern from *:
    void __builtin_prefetch(const void *p) nogil

#: The selectolax releases whose lexbor struct layout is declared here (each one
#: checked by :func:`selfcheck`); for any other release, :mod:`boilerclf.parse.html`
#: runs :func:`selfcheck` in a child process first, because reading another
#: layout may crash the process that reads it.
VERIFIED_SELECTOLAX = ("1.0.0", "1.0.1", "1.0.2")

# ---------------------------------------------------------------- lexbor 3.1.0
# Struct layouts (field order and types as in lexbor's headers; only the
# leading fields that are read here are declared for element).

cdef struct lxb_node:                 # lxb_dom_node_t
    void *events                      # lxb_dom_event_target_t event_target
    uintptr_t local_name              # tag id (or attr id for attributes)
    uintptr_t prefix
    uintptr_t ns
    void *owner_document
    lxb_node *next
    lxb_node *prev
    lxb_node *parent
    lxb_node *first_child
    lxb_node *last_child
    void *user
    unsigned int type                 # lxb_dom_node_type_t

cdef struct lxb_str:                  # lexbor_str_t
    unsigned char *data
    size_t length

cdef struct lxb_chardata:             # lxb_dom_character_data_t (text nodes)
    lxb_node node
    lxb_str data

cdef struct lxb_attr:                 # lxb_dom_attr_t
    lxb_node node
    uintptr_t upper_name
    uintptr_t qualified_name
    lxb_str *value
    void *owner
    lxb_attr *next
    lxb_attr *prev

cdef struct lxb_element:              # lxb_dom_element_t (leading fields)
    lxb_node node
    uintptr_t upper_name
    uintptr_t qualified_name
    lxb_str *is_value
    lxb_attr *first_attr

cdef union lxb_hash_str:
    unsigned char *long_str
    unsigned char short_str[17]       # LEXBOR_HASH_SHORT_SIZE + 1

cdef struct lxb_hash_entry:           # lexbor_hash_entry_t, the head of
    lxb_hash_str u                    # lxb_tag_data_t and lxb_dom_attr_data_t
    size_t length
    lxb_hash_entry *next

cdef enum:
    # node types (DOM standard numbers)
    NODE_ELEMENT = 1
    NODE_TEXT = 3
    # lexbor/tag/const.h
    TAG__TEXT = 0x02
    TAG__DOCUMENT = 0x03
    TAG__EM_COMMENT = 0x04
    TAG__EM_DOCTYPE = 0x05
    TAG__PROCESSING_INSTRUCTION = 0x06  # the last id that is not an element name
    TAG__LAST_ENTRY = 0xc7            # ids >= this are addresses of lxb_tag_data_t
    # lexbor/dom/interfaces/attr_const.h
    ATTR_CLASS = 0x0b
    ATTR_ID = 0x21
    ATTR_STYLE = 0x3e
    ATTR__LAST_ENTRY = 0x49           # ids >= this are addresses of lxb_dom_attr_data_t
    # lexbor/core/hash.h
    HASH_SHORT_SIZE = 16


cdef inline const unsigned char *_entry_str(uintptr_t id, size_t *length) noexcept:
    """Name of a non-static tag or attribute id (a pointer to its hash entry)."""
    cdef lxb_hash_entry *e = <lxb_hash_entry *> id
    length[0] = e.length
    if e.length <= HASH_SHORT_SIZE:
        return e.u.short_str
    return e.u.long_str


cdef inline lxb_str *_value(lxb_attr *attr) noexcept:
    """An attribute's value, NULL where selectolax reads None."""
    if attr.value != NULL and attr.value.data != NULL:
        return attr.value
    return NULL


# ------------------------------------------------------------- byte classes
# How a text byte is handled: Python's whitespace (str.isspace / str.split) among
# ASCII, split into the two characters link_chars does not count, and the other
# characters; bytes >= 0x80 start (or continue) a multi-byte character.
cdef enum:
    K_WORD = 0
    K_SPACE = 1       # " "
    K_NEWLINE = 2     # "\n"
    K_WS = 3          # other ASCII whitespace
    K_MULTI = 4
cdef unsigned char _byte_kind[256]
cdef int _b
for _b in range(256):
    if _b >= 0x80:
        _byte_kind[_b] = K_MULTI
    elif _b == 0x20:
        _byte_kind[_b] = K_SPACE
    elif _b == 0x0a:
        _byte_kind[_b] = K_NEWLINE
    elif Py_UNICODE_ISSPACE(<Py_UCS4> _b):
        _byte_kind[_b] = K_WS
    else:
        _byte_kind[_b] = K_WORD


# ------------------------------------------------------------- growable arrays
cdef struct ivec:
    int32_t *p
    Py_ssize_t n
    Py_ssize_t cap

cdef int _grow(ivec *v, Py_ssize_t need) except -1:
    cdef Py_ssize_t cap = v.cap * 2 if v.cap else 64
    while cap < need:
        cap *= 2
    cdef int32_t *p = <int32_t *> realloc(v.p, cap * sizeof(int32_t))
    if p == NULL:
        raise MemoryError()
    v.p = p
    v.cap = cap
    return 0

cdef inline int _push(ivec *v, int32_t x) except -1:
    if v.n >= v.cap:
        _grow(v, v.n + 1)
    v.p[v.n] = x
    v.n += 1
    return 0


cdef struct frame:
    lxb_node *node
    int32_t flags
    int32_t hints
    bint is_block
    bint is_link


# ------------------------------------------------------------- hint bit cache
# hint_bits() of lines.py is a pure function of the class/id string; its results
# are cached here by the attribute's UTF-8 bytes, so a repeated class name costs
# a hash lookup instead of a str and a Python call.
cdef struct hint_slot:
    uint64_t h
    unsigned char *key        # NULL: empty slot
    size_t length
    int32_t bits

cdef hint_slot *_hint_tab = NULL
cdef Py_ssize_t _hint_cap = 0
cdef Py_ssize_t _hint_n = 0
cdef Py_ssize_t _hint_max = 100_000   # entries; then the cache starts over (as lines.py's)
cdef size_t _HINT_BYTES = 1024      # lines.HINT_BYTES, set by _init()

cdef inline uint64_t _hash(const unsigned char *s, size_t n) noexcept:
    """A fast 64-bit hash of a byte string, 8 bytes at a time."""
    cdef uint64_t h = n * 0x9E3779B97F4A7C15ULL
    cdef uint64_t w = 0
    while n >= 8:
        memcpy(&w, s, 8)
        h = (h ^ w) * 0xFF51AFD7ED558CCDULL
        h ^= h >> 32
        s += 8
        n -= 8
    if n:
        w = 0
        memcpy(&w, s, n)
        h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL
    h ^= h >> 29
    h *= 0xFF51AFD7ED558CCDULL
    h ^= h >> 32
    return h

cdef void _hint_clear() noexcept:
    global _hint_tab, _hint_cap, _hint_n
    cdef Py_ssize_t i
    if _hint_tab != NULL:
        for i in range(_hint_cap):
            free(_hint_tab[i].key)
        free(_hint_tab)
    _hint_tab = NULL
    _hint_cap = 0
    _hint_n = 0

cdef int _hint_rehash(Py_ssize_t cap) except -1:
    global _hint_tab, _hint_cap
    cdef hint_slot *old = _hint_tab
    cdef Py_ssize_t oldcap = _hint_cap, i, j
    cdef hint_slot *tab = <hint_slot *> calloc(cap, sizeof(hint_slot))
    if tab == NULL:
        raise MemoryError()
    for i in range(oldcap):
        if old[i].key != NULL:
            j = <Py_ssize_t> (old[i].h & <uint64_t> (cap - 1))
            while tab[j].key != NULL:
                j = (j + 1) & (cap - 1)
            tab[j] = old[i]
    free(old)
    _hint_tab = tab
    _hint_cap = cap
    return 0

cdef class HintTable
cdef int32_t _COMMENT_SECTION = 0   # lines.COMMENT_SECTION, set by _init()
cdef HintTable _hint_table = None   # the compiled hint search over lines.HINT_ALTERNATIVES
cdef object _hint_bits_py = None    # lines.hint_bits, which _hint_ascii stands for

cdef int32_t _hint_ascii(const unsigned char *s, size_t n) noexcept:
    """lines.hint_bits of an ASCII string without a Python call (lower-cased
    here, searched with the compiled table); -1 when s is not ASCII or the
    search is not the compiled one (then the caller asks lines.hint_bits)."""
    cdef unsigned char low[1024]
    cdef size_t i
    cdef unsigned char c
    if _hint_table is None or n > sizeof(low):
        return -1
    for i in range(n):
        c = s[i]
        if c >= 0x80:
            return -1
        low[i] = c + 32 if 65 <= c <= 90 else c
    cdef int32_t bits = <int32_t> _hint_table._search(1, low, n)
    if _comment_section(low, n):
        bits |= _COMMENT_SECTION
    return bits


cdef inline bint _starts(const unsigned char *s, size_t n, const char *w, size_t k) noexcept:
    return n >= k and memcmp(s, w, k) == 0


cdef bint _comment_section(const unsigned char *s, size_t n) noexcept:
    """lines._COMMENT_SECTION_RE.search of a lower-cased ASCII string."""
    cdef size_t i
    if _starts(s, n, b"comment", 7) and not _starts(s, n, b"commentary", 10):
        return True
    if _starts(s, n, b"comol", 5) or _starts(s, n, b"disqus_thread", 13) or _starts(s, n, b"dsq-comments", 12):
        return True
    for i in range(4, n - 8 if n >= 9 else 0):  # "(article|post)-comments" anywhere
        if s[i] == 45 and memcmp(s + i, b"-comments", 9) == 0:
            if memcmp(s + i - 4, b"post", 4) == 0 or (i >= 7 and memcmp(s + i - 7, b"article", 7) == 0):
                return True
    return _reviews_section(s, n)


cdef bint _reviews_at(const unsigned char *s, size_t n, size_t k) noexcept:
    """s[k:] starts with "reviews", then the end or a space, "_" or "-"."""
    cdef unsigned char c
    if n < k + 7 or memcmp(s + k, b"reviews", 7) != 0:
        return False
    if n == k + 7:
        return True
    c = s[k + 7]
    return c == 32 or c == 95 or c == 45 or 9 <= c <= 13 or 28 <= c <= 31  # str's \s in ASCII


cdef inline bint _reviews_after(const unsigned char *s, size_t n, const char *prefix, size_t k) noexcept:
    """s starts with ``prefix`` (k bytes), then "reviews" as :func:`_reviews_at` wants it."""
    return _starts(s, n, prefix, k) and _reviews_at(s, n, k)


cdef bint _reviews_section(const unsigned char *s, size_t n) noexcept:
    """The customers'-reviews alternatives of lines.COMMENT_SECTION_RE: "reviews"
    alone or after one of its prefixes, or a review widget's name, at the start."""
    return (_reviews_at(s, n, 0) or _reviews_after(s, n, b"product-", 8) or _reviews_after(s, n, b"customer-", 9)
            or _reviews_after(s, n, b"user-", 5) or _reviews_after(s, n, b"pdp-", 4)
            or _reviews_after(s, n, b"rating-", 7) or _reviews_after(s, n, b"ratings-", 8)
            or _reviews_after(s, n, b"rating-and-", 11) or _reviews_after(s, n, b"ratings-and-", 12)
            or _starts(s, n, b"yotpo", 5) or _starts(s, n, b"jdgm", 4) or _starts(s, n, b"spr-review", 10)
            or _starts(s, n, b"stamped-review", 14) or _starts(s, n, b"okereview", 9)
            or _starts(s, n, b"bv-review", 9) or _starts(s, n, b"bvrr", 4))


def _hint_ascii_bits(bytes b):
    """What the walker's cache-miss path computes for a class/id value's UTF-8
    bytes without a Python call: its hint bits, or -1 where it asks
    lines.hint_bits (not ASCII, too long).  For tests."""
    if not _ready:
        _init()
    return _hint_ascii(b, len(b))


cdef int32_t _hint(const unsigned char *s, size_t n, uint64_t h, object hint_bits) except? -1:
    """hint_bits of the string (UTF-8 bytes s[:n], hash h), from the module cache."""
    global _hint_n
    cdef Py_ssize_t j
    cdef hint_slot *slot
    if _hint_cap:
        j = <Py_ssize_t> (h & <uint64_t> (_hint_cap - 1))
        while _hint_tab[j].key != NULL:
            slot = &_hint_tab[j]
            if slot.h == h and slot.length == n and memcmp(slot.key, s, n) == 0:
                return slot.bits
            j = (j + 1) & (_hint_cap - 1)
    cdef int32_t bits = _hint_ascii(s, n) if hint_bits is _hint_bits_py else -1
    if bits < 0:
        bits = hint_bits(PyUnicode_DecodeUTF8(<const char *> s, n, "replace"))
    if _hint_n >= _hint_max:
        _hint_clear()
    if 2 * (_hint_n + 1) > _hint_cap:
        _hint_rehash(_hint_cap * 2 if _hint_cap else 1024)
    cdef unsigned char *key = <unsigned char *> malloc(n + 1)
    if key == NULL:
        raise MemoryError()
    memcpy(key, s, n)
    j = <Py_ssize_t> (h & <uint64_t> (_hint_cap - 1))
    while _hint_tab[j].key != NULL:
        j = (j + 1) & (_hint_cap - 1)
    _hint_tab[j].h = h
    _hint_tab[j].key = key
    _hint_tab[j].length = n
    _hint_tab[j].bits = bits
    _hint_n += 1
    return bits


def _set_hint_cache_max(Py_ssize_t n):
    """Empty the module's hint cache and cap it at n entries (for tests)."""
    global _hint_max
    _hint_clear()
    _hint_max = n


# ------------------------------------------------------------- tag tables
# Per static lexbor tag id: what lines.py's tag sets say of that name.
cdef unsigned char _is_block[TAG__LAST_ENTRY]
cdef int8_t _block_tag[TAG__LAST_ENTRY]      # BLOCK_TAGS index of a block
cdef int32_t _tag_flag[TAG__LAST_ENTRY]      # _TAG_FLAG bits
cdef uintptr_t _TAG_A = 0
cdef uintptr_t _TAG_BR = 0
cdef int32_t _FLAG_HIDDEN = 0, _FLAG_LI = 0, _FLAG_A_BLOCK = 0
cdef int8_t _TAG_H1 = 0, _TAG_BODY = 0
cdef Py_ssize_t _N_ANC = 0
cdef object _L = None               # the boilerclf.parse.lines module, once initialised
cdef bint _ready = False            # tables built from lines.py's constants
cdef bint _unfit = False            # ... or found not to fit lexbor's tag ids
cdef dict _skip_maps = {}           # frozenset -> bytes (1 per static tag id) or None


cdef uintptr_t _lexbor_tag_id(object name, object parser) except? 0:
    """lexbor's static tag id for an element name; 0 where lexbor has none.

    0 also where lexbor would name the element differently (``"DIV"`` is a
    ``div``, whose tag is ``"div"``): the Python walker compares names.
    """
    if not isinstance(name, str):
        return 0
    try:
        node = parser.create_node(name)
    except Exception:
        return 0
    if node.tag != name:
        return 0
    cdef lxb_element *el = <lxb_element *> <uintptr_t> node.mem_id
    cdef uintptr_t tid = el.node.local_name
    if el.qualified_name or tid <= TAG__PROCESSING_INSTRUCTION or tid >= TAG__LAST_ENTRY:
        return 0
    return tid


cdef object _tag_ids(names):
    """{name: static tag id}, or None if a name has no static lexbor id."""
    from selectolax.lexbor import LexborHTMLParser
    parser = LexborHTMLParser("")
    ids = {}
    cdef uintptr_t tid
    for name in names:
        tid = _lexbor_tag_id(name, parser)
        if tid == 0:
            return None
        ids[name] = tid
    return ids


cdef int _init() except -1:
    """Build the tag tables from boilerclf.parse.lines's constants (at first use)."""
    global _L, _ready, _TAG_A, _TAG_BR, _FLAG_HIDDEN, _FLAG_LI, _FLAG_A_BLOCK
    global _TAG_H1, _TAG_BODY, _N_ANC, _unfit, _HINT_BYTES, _hint_table, _hint_bits_py, _COMMENT_SECTION
    if _unfit:
        raise Unsupported("a tag name of boilerclf.parse.lines has no lexbor tag id")
    from boilerclf.parse import lines as L
    _L = L
    _HINT_BYTES = L.HINT_BYTES
    _COMMENT_SECTION = L.COMMENT_SECTION
    _hint_table = HintTable(L.HINT_ALTERNATIVES)
    _hint_bits_py = L.hint_bits
    names = set(L.BLOCK_TAGS[1:]) | set(L.BLOCK) | set(L.TAG_FLAG) | {"a", "br"}
    ids = _tag_ids(names)
    if ids is None:
        _unfit = True
        raise Unsupported("a tag name of boilerclf.parse.lines has no lexbor tag id")
    memset(_is_block, 0, sizeof(_is_block))
    memset(_block_tag, 0, sizeof(_block_tag))
    memset(_tag_flag, 0, sizeof(_tag_flag))
    for name in L.BLOCK:
        _is_block[ids[name]] = 1
        _block_tag[ids[name]] = L.TAG_ID.get(name, L.TAG_ID["div"])
    for name, bit in L.TAG_FLAG.items():
        _tag_flag[ids[name]] = bit
    _TAG_A = ids["a"]
    _TAG_BR = ids["br"]
    _FLAG_HIDDEN = L.FLAG["hidden"]
    _FLAG_LI = L.FLAG["li"]
    _FLAG_A_BLOCK = L.FLAG["a_block"]
    _TAG_H1 = L.TAG_ID["h1"]
    _TAG_BODY = L.TAG_ID["body"]
    _N_ANC = L.N_ANCESTORS
    _ready = True
    return 0


cdef object _skip_map(skip):
    """A byte per static tag id, 1 where the tag is skipped; None if unsupported."""
    m = _skip_maps.get(skip)
    if m is None and skip not in _skip_maps:
        ids = _tag_ids(skip)
        if ids is not None:
            b = bytearray(TAG__LAST_ENTRY)
            for tid in ids.values():
                b[tid] = 1
            m = bytes(b)
        if len(_skip_maps) > 64:
            _skip_maps.clear()
        _skip_maps[skip] = m
    return m


# ------------------------------------------------------------- the walker
class Unsupported(Exception):
    """The page holds something the compiled walker does not reproduce exactly."""


cdef class _Walk:
    cdef:
        list texts
        ivec link, tag, depth, flags, hints, anc     # per line (anc: _N_ANC per line)
        ivec el_start, el_end, blocks, block_tags
        frame *stack
        Py_ssize_t n_stack, cap_stack
        unsigned char *out                            # the line's text, collapsed
        Py_ssize_t n_out, cap_out
        bint pending_space
        int32_t link_buf, line_flags, line_hints
        object hint_bits
        # this page's class/id strings (keys point into the page's own DOM): a
        # small table in front of the module cache, which is too big to stay in
        # the CPU cache
        hint_slot *seen
        Py_ssize_t n_seen, cap_seen

    def __dealloc__(self):
        free(self.link.p); free(self.tag.p); free(self.depth.p); free(self.flags.p)
        free(self.hints.p); free(self.anc.p); free(self.el_start.p); free(self.el_end.p)
        free(self.blocks.p); free(self.block_tags.p); free(self.stack); free(self.out)
        free(self.seen)

    cdef int32_t hint(self, const unsigned char *s, size_t n) except? -1:
        """hint_bits of a class/id value (UTF-8 bytes s[:n]; only the first
        lines.HINT_BYTES of them count, as in lines.hint_bits)."""
        if n > _HINT_BYTES:
            n = _HINT_BYTES
        cdef uint64_t h = _hash(s, n)
        cdef Py_ssize_t j, i, cap
        cdef hint_slot *slot
        cdef hint_slot *tab
        cdef int32_t bits
        if self.cap_seen:
            j = <Py_ssize_t> (h & <uint64_t> (self.cap_seen - 1))
            while self.seen[j].key != NULL:
                slot = &self.seen[j]
                if slot.h == h and slot.length == n and memcmp(slot.key, s, n) == 0:
                    return slot.bits
                j = (j + 1) & (self.cap_seen - 1)
        bits = _hint(s, n, h, self.hint_bits)
        if 2 * (self.n_seen + 1) > self.cap_seen:
            cap = self.cap_seen * 2 if self.cap_seen else 256
            tab = <hint_slot *> calloc(cap, sizeof(hint_slot))
            if tab == NULL:
                raise MemoryError()
            for i in range(self.cap_seen):
                if self.seen[i].key != NULL:
                    j = <Py_ssize_t> (self.seen[i].h & <uint64_t> (cap - 1))
                    while tab[j].key != NULL:
                        j = (j + 1) & (cap - 1)
                    tab[j] = self.seen[i]
            free(self.seen)
            self.seen = tab
            self.cap_seen = cap
        j = <Py_ssize_t> (h & <uint64_t> (self.cap_seen - 1))
        while self.seen[j].key != NULL:
            j = (j + 1) & (self.cap_seen - 1)
        self.seen[j].h = h
        self.seen[j].key = <unsigned char *> s
        self.seen[j].length = n
        self.seen[j].bits = bits
        self.n_seen += 1
        return bits

    cdef int flush(self) except -1:
        cdef Py_ssize_t k, i
        if self.n_out:
            self.texts.append(PyUnicode_DecodeUTF8(<const char *> self.out, self.n_out, NULL))
            _push(&self.link, self.link_buf)
            _push(&self.tag, self.block_tags.p[self.block_tags.n - 1])
            _push(&self.depth, <int32_t> self.n_stack)
            _push(&self.flags, self.line_flags)
            _push(&self.hints, self.line_hints)
            for k in range(_N_ANC):
                i = self.blocks.n - 1 - k
                _push(&self.anc, self.blocks.p[i] if i >= 0 else 0)
            self.n_out = 0
            self.pending_space = False
        self.link_buf = 0
        self.line_flags = 0
        self.line_hints = 0
        return 0

    cdef int reserve_out(self, Py_ssize_t extra) except -1:
        cdef Py_ssize_t cap
        cdef unsigned char *p
        if self.n_out + extra > self.cap_out:
            cap = self.cap_out * 2 if self.cap_out else 4096
            while cap < self.n_out + extra:
                cap *= 2
            p = <unsigned char *> realloc(self.out, cap)
            if p == NULL:
                raise MemoryError()
            self.out = p
            self.cap_out = cap
        return 0

    cdef int text(self, const unsigned char *s, Py_ssize_t n, int32_t *counts) except -1:
        """Append a text node to the line (whitespace collapsed as str.split does).

        counts gets [code points, ' ' count, '\\n' count, non-space code points].
        Raises Unsupported on bytes that are not valid UTF-8 (Python would
        decode them with replacement characters).
        """
        cdef Py_ssize_t i = 0, j, k, ln
        cdef unsigned int c, c1, c2, c3, kind
        cdef Py_UCS4 cp
        cdef int32_t ncp = 0, nsp = 0, nnl = 0, nonsp = 0
        cdef unsigned char *out
        cdef Py_ssize_t o
        cdef bint pending = self.pending_space
        self.reserve_out(n + 1)
        out = self.out
        o = self.n_out
        while i < n:
            kind = _byte_kind[s[i]]
            if kind == K_WORD:
                # a run of ASCII non-space characters, copied as is
                if pending:
                    out[o] = 0x20
                    o += 1
                    pending = False
                j = i
                while j < n and _byte_kind[s[j]] == K_WORD:
                    out[o] = s[j]
                    o += 1
                    j += 1
                ncp += <int32_t> (j - i)
                nonsp += <int32_t> (j - i)
                i = j
                continue
            if kind != K_MULTI:
                # ASCII whitespace
                ncp += 1
                if kind == K_SPACE:
                    nsp += 1
                elif kind == K_NEWLINE:
                    nnl += 1
                if o:
                    pending = True
                i += 1
                continue
            # a multi-byte UTF-8 sequence, validated as Python's decoder does
            c = s[i]
            if 0xc2 <= c <= 0xdf:
                ln = 2
                if i + 1 >= n:
                    raise Unsupported()
                c1 = s[i + 1]
                if c1 & 0xc0 != 0x80:
                    raise Unsupported()
                cp = ((c & 0x1f) << 6) | (c1 & 0x3f)
            elif 0xe0 <= c <= 0xef:
                ln = 3
                if i + 2 >= n:
                    raise Unsupported()
                c1 = s[i + 1]
                c2 = s[i + 2]
                if c1 & 0xc0 != 0x80 or c2 & 0xc0 != 0x80:
                    raise Unsupported()
                if (c == 0xe0 and c1 < 0xa0) or (c == 0xed and c1 >= 0xa0):
                    raise Unsupported()     # overlong or surrogate
                cp = ((c & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f)
            elif 0xf0 <= c <= 0xf4:
                ln = 4
                if i + 3 >= n:
                    raise Unsupported()
                c1 = s[i + 1]
                c2 = s[i + 2]
                c3 = s[i + 3]
                if c1 & 0xc0 != 0x80 or c2 & 0xc0 != 0x80 or c3 & 0xc0 != 0x80:
                    raise Unsupported()
                if (c == 0xf0 and c1 < 0x90) or (c == 0xf4 and c1 >= 0x90):
                    raise Unsupported()     # overlong or > U+10FFFF
                cp = ((c & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) | (c3 & 0x3f)
            else:
                raise Unsupported()
            ncp += 1
            if Py_UNICODE_ISSPACE(cp):
                if o:
                    pending = True
            else:
                nonsp += 1
                if pending:
                    out[o] = 0x20
                    o += 1
                    pending = False
                for k in range(ln):
                    out[o + k] = s[i + k]
                o += ln
            i += ln
        self.n_out = o
        self.pending_space = pending
        counts[0] = ncp
        counts[1] = nsp
        counts[2] = nnl
        counts[3] = nonsp
        return 0

    cdef int push_frame(self, lxb_node *node, int32_t flags, int32_t hints,
                        bint is_block, bint is_link) except -1:
        cdef Py_ssize_t cap
        cdef frame *p
        if self.n_stack >= self.cap_stack:
            cap = self.cap_stack * 2 if self.cap_stack else 256
            p = <frame *> realloc(self.stack, cap * sizeof(frame))
            if p == NULL:
                raise MemoryError()
            self.stack = p
            self.cap_stack = cap
        self.stack[self.n_stack].node = node
        self.stack[self.n_stack].flags = flags
        self.stack[self.n_stack].hints = hints
        self.stack[self.n_stack].is_block = is_block
        self.stack[self.n_stack].is_link = is_link
        self.n_stack += 1
        return 0

    cdef bint run(self, lxb_node *root, const unsigned char *skip,
                  Py_ssize_t max_nodes) except -1:
        """The walk of boilerclf.parse.html.walk; returns whether it was truncated."""
        cdef lxb_node *node = root.first_child
        cdef lxb_node *child
        cdef lxb_element *el
        cdef lxb_attr *attr
        cdef lxb_chardata *cd
        cdef lxb_str *cls = NULL
        cdef lxb_str *ident = NULL
        cdef lxb_str *style = NULL
        cdef frame *f
        cdef uintptr_t ln, name_id, attr_id
        cdef const unsigned char *name
        cdef size_t name_len = 0
        cdef int32_t cur_flags = 0, cur_hints = 0, flags, hints
        cdef int32_t counts[4]
        cdef int32_t in_link = 0
        cdef bint last_br = False, is_block, is_link, hidden, is_br
        cdef Py_ssize_t n_nodes = 0, i, j, nt
        cdef unsigned char ch

        _push(&self.el_start, 0)          # element 0 = the whole page
        _push(&self.el_end, 0)
        _push(&self.blocks, 0)
        _push(&self.block_tags, _TAG_BODY)
        while True:
            if node == NULL:
                if self.n_stack == 0:
                    break
                self.n_stack -= 1
                f = &self.stack[self.n_stack]
                node = f.node
                cur_flags = f.flags
                cur_hints = f.hints
                if f.is_block:
                    self.flush()
                    self.blocks.n -= 1
                    self.el_end.p[self.blocks.p[self.blocks.n]] = <int32_t> len(self.texts)
                    self.block_tags.n -= 1
                if f.is_link:
                    in_link -= 1
                node = node.next
                continue
            n_nodes += 1
            if n_nodes > max_nodes:
                return True
            # the DOM is scattered in memory: fetch the next nodes while this one is handled
            if node.next != NULL:
                __builtin_prefetch(node.next)
            if node.first_child != NULL:
                __builtin_prefetch(node.first_child)
            ln = node.local_name
            if ln == TAG__TEXT:
                if node.type == NODE_TEXT:
                    cd = <lxb_chardata *> node
                    if cd.data.data != NULL and cd.data.length:
                        self.text(cd.data.data, <Py_ssize_t> cd.data.length, counts)
                        if counts[3]:
                            self.line_flags |= cur_flags
                            self.line_hints |= cur_hints
                            last_br = False
                            if in_link:
                                self.link_buf += counts[0] - counts[1] - counts[2]
                node = node.next
                continue
            if (node.type != NODE_ELEMENT or ln == TAG__EM_COMMENT
                    or ln == TAG__EM_DOCTYPE or ln == TAG__DOCUMENT):
                node = node.next          # tag None, "-comment", "-doctype", ...
                continue
            el = <lxb_element *> node
            name_id = el.qualified_name if el.qualified_name else ln
            if name_id < TAG__LAST_ENTRY:
                if skip[name_id]:
                    node = node.next
                    continue
                is_br = name_id == _TAG_BR
                flags = cur_flags | _tag_flag[name_id]
                is_block = _is_block[name_id]
                is_link = name_id == _TAG_A
            else:
                # a name lexbor has no id for: inline, no flags (its set
                # membership was ruled out when the tag sets were mapped)
                name = _entry_str(name_id, &name_len)
                if name_len == 0 or name[0] == 0x2d:   # "-..." is not an element
                    node = node.next
                    continue
                is_br = False
                flags = cur_flags
                is_block = False
                is_link = False
            if is_br:
                if last_br:
                    self.flush()
                    last_br = False
                else:
                    if self.n_out:
                        self.pending_space = True
                    last_br = True
                node = node.next
                continue
            hints = cur_hints
            attr = el.first_attr
            if attr != NULL:
                cls = NULL
                ident = NULL
                style = NULL
                hidden = False
                # as attributes.get(name) of selectolax: the last one of a name
                # wins, a value-less one reads as None (val = NULL)
                while attr != NULL:
                    attr_id = attr.qualified_name if attr.qualified_name else attr.node.local_name
                    if attr_id < ATTR__LAST_ENTRY:
                        if attr_id == ATTR_CLASS:
                            cls = _value(attr)
                        elif attr_id == ATTR_ID:
                            ident = _value(attr)
                        elif attr_id == ATTR_STYLE:
                            style = _value(attr)
                    else:
                        name = _entry_str(attr_id, &name_len)
                        if name_len == 6 and memcmp(name, b"hidden", 6) == 0:
                            hidden = True
                        elif name_len == 5 and memcmp(name, b"class", 5) == 0:
                            cls = _value(attr)
                        elif name_len == 2 and memcmp(name, b"id", 2) == 0:
                            ident = _value(attr)
                        elif name_len == 5 and memcmp(name, b"style", 5) == 0:
                            style = _value(attr)
                    attr = attr.next
                if cls != NULL and cls.length:
                    hints |= self.hint(cls.data, cls.length)
                if ident != NULL and ident.length:
                    hints |= self.hint(ident.data, ident.length)
                if hidden and ident != NULL and ident.length >= 2 and ident.data[0] == 0x53 \
                        and ident.data[1] == 0x3a:   # id="S:...": a streamed block (lines.STREAMED_ID)
                    hidden = False
                if not hidden and style != NULL and style.length >= 12:
                    # "display:none" in style.replace(" ", "")
                    j = 0
                    for i in range(<Py_ssize_t> style.length):
                        ch = style.data[i]
                        if ch == 0x20:
                            continue
                        if ch == (<const unsigned char *> b"display:none")[j]:
                            j += 1
                            if j == 12:
                                hidden = True
                                break
                        else:
                            # restart: the pattern has no repeated prefix, so only
                            # the current byte can begin a new match
                            j = 1 if ch == 0x64 else 0   # "d"
                if hidden:
                    flags |= _FLAG_HIDDEN
            if is_block:
                self.flush()
                last_br = False
                nt = len(self.texts)
                _push(&self.blocks, <int32_t> self.el_start.n)
                _push(&self.el_start, <int32_t> nt)
                _push(&self.el_end, <int32_t> nt)
                _push(&self.block_tags, _block_tag[name_id])
            if is_link:
                in_link += 1
                if flags & _FLAG_LI or is_block:
                    flags |= _FLAG_A_BLOCK
            child = node.first_child
            if child == NULL:
                if is_block:
                    self.blocks.n -= 1
                    self.el_end.p[self.blocks.p[self.blocks.n]] = <int32_t> len(self.texts)
                    self.block_tags.n -= 1
                if is_link:
                    in_link -= 1
                node = node.next
                continue
            self.push_frame(node, cur_flags, cur_hints, is_block, is_link)
            cur_flags = flags
            cur_hints = hints
            node = child
        return False


cdef object _array(ivec *v, dtype):
    a = np.empty(v.n, dtype=dtype)
    cdef int32_t[::1] a32
    cdef int8_t[::1] a8
    cdef Py_ssize_t i
    if v.n:
        if dtype is np.int32:
            a32 = a
            memcpy(&a32[0], v.p, v.n * sizeof(int32_t))
        else:
            a8 = a
            for i in range(v.n):
                a8[i] = <int8_t> v.p[i]
    return a


def walk_c(root, title, skip, max_nodes):
    """The compiled walk; raises instead of handing a page to the Python walker.

    Raises ``Unsupported`` where it cannot reproduce ``lines._walk`` exactly.
    """
    if not _ready:
        _init()
    if type(skip) is not frozenset:
        if not isinstance(skip, (set, frozenset)):
            raise Unsupported("skip is not a set")   # ("x" in a str or list differs)
        skip = frozenset(skip)
    if type(max_nodes) is not int and type(max_nodes) is not bool:
        raise Unsupported("max_nodes is not an int")
    # any negative cap truncates at the first node, as in Python
    cdef Py_ssize_t cap = -1 if max_nodes < 0 else (
        max_nodes if max_nodes < PY_SSIZE_T_MAX else PY_SSIZE_T_MAX)
    cdef object smap = _skip_map(skip)
    if smap is None:
        raise Unsupported("a skip tag has no lexbor tag id")
    cdef lxb_node *rootp = <lxb_node *> <uintptr_t> root.mem_id
    cdef _Walk w = _Walk.__new__(_Walk)
    w.texts = []
    w.hint_bits = _L.hint_bits
    cdef bint truncated = w.run(rootp, <const unsigned char *> smap, cap)
    w.flush()
    cdef list texts = w.texts
    cdef Py_ssize_t n = len(texts), k, i
    w.el_end.p[0] = <int32_t> n
    for k in range(1, w.blocks.n):
        w.el_end.p[w.blocks.p[k]] = <int32_t> n
    # anc_start/anc_end: the ranges of each line's block and ancestors
    anc_start = np.empty((n, _N_ANC), dtype=np.int32)
    anc_end = np.empty((n, _N_ANC), dtype=np.int32)
    cdef int32_t[:, ::1] s2 = anc_start
    cdef int32_t[:, ::1] e2 = anc_end
    cdef int32_t e
    for i in range(n):
        for k in range(_N_ANC):
            e = w.anc.p[i * _N_ANC + k]
            s2[i, k] = w.el_start.p[e]
            e2[i, k] = w.el_end.p[e]
    tags = _array(&w.tag, np.int8)
    if not title:
        for i in range(n):
            if w.tag.p[i] == _TAG_H1:
                title = texts[i]
                break
    return _L.Lines(
        texts=texts, kind="html", title=title,
        link_chars=_array(&w.link, np.int32),
        tag=tags,
        depth=_array(&w.depth, np.int32),
        flags=_array(&w.flags, np.int32),
        hints=_array(&w.hints, np.int32),
        gap_before=np.zeros(n, dtype=np.int8),
        anc_start=anc_start, anc_end=anc_end, truncated=truncated,
    )


# ------------------------------------------------------------- layout check
# A page with every kind of node and field the walker reads: doctype, comment,
# text with multi-byte characters, elements with static and non-static tag ids,
# short (<= 16 bytes, stored inline) and long names, a case-adjusted SVG name
# (qualified_name set), static and non-static attribute names, empty attributes.
_PROBE = (
    '<!DOCTYPE html><html><head><title>T</title></head><body><!-- c -->'
    '<div class="nav main" id="x1" style="display: none" hidden data-x>a \u00e9\u2003b'
    '<x-short>s</x-short><x-a-custom-element-with-a-long-name data-a-rather-long-attribute-name="v"'
    ' aria-hidden="true">l</x-a-custom-element-with-a-long-name></div>'
    '<svg viewBox="0 0 1 1"><foreignObject>f</foreignObject></svg>'
    '<p class="">\u4e2d\u6587<br><a href="/">k \U0001f600</a></p></body></html>'
)


cdef object _c_attrs(lxb_element *el):
    """[(name or static id, value bytes or None)] of an element, read from the structs."""
    out = []
    cdef lxb_attr *attr = el.first_attr
    cdef uintptr_t nid
    cdef const unsigned char *name
    cdef size_t name_len = 0
    while attr != NULL:
        nid = attr.qualified_name if attr.qualified_name else attr.node.local_name
        if nid < ATTR__LAST_ENTRY:
            key = {ATTR_CLASS: "class", ATTR_ID: "id", ATTR_STYLE: "style"}.get(nid, nid)
        else:
            name = _entry_str(nid, &name_len)
            key = (<const char *> name)[:name_len].decode("utf-8")
        if attr.value != NULL and attr.value.data != NULL:
            val = (<const char *> attr.value.data)[:attr.value.length].decode("utf-8")
        else:
            val = None
        out.append((key, val))
        attr = attr.next
    return out


def selfcheck():
    """Check that the structs declared here match the running selectolax's lexbor
    (raises ImportError if not).  Run it before :func:`walk_c` is used: in this
    process for a release in :data:`VERIFIED_SELECTOLAX`, in a child process for any
    other (a different layout can crash the reader instead of failing the check)."""
    from selectolax.lexbor import LexborHTMLParser
    tree = LexborHTMLParser(_PROBE)
    probe = LexborHTMLParser("")
    cdef lxb_node *p
    cdef lxb_chardata *cd
    cdef lxb_element *el
    cdef uintptr_t nid
    cdef const unsigned char *name
    cdef size_t name_len = 0
    seen = set()
    attr_names = set()
    todo = [tree.root.parent or tree.root]
    while todo:
        nd = todo.pop()
        if nd is None:
            continue
        p = <lxb_node *> <uintptr_t> nd.mem_id
        tag = nd.tag
        seen.add(tag)
        ok = True
        if tag == "-text":
            cd = <lxb_chardata *> p
            ok = (p.local_name == TAG__TEXT and p.type == NODE_TEXT and
                  (<const char *> cd.data.data)[:cd.data.length].decode("utf-8") == nd.text_content)
        elif tag == "-comment":
            ok = p.local_name == TAG__EM_COMMENT
        elif tag == "-doctype":
            ok = p.local_name == TAG__EM_DOCTYPE
        elif tag == "-document":
            ok = p.local_name == TAG__DOCUMENT
        else:
            el = <lxb_element *> p
            nid = el.qualified_name if el.qualified_name else p.local_name
            ok = p.type == NODE_ELEMENT
            if nid < TAG__LAST_ENTRY:
                ok = ok and _lexbor_tag_id(tag, probe) == nid
            else:
                name = _entry_str(nid, &name_len)
                ok = ok and (<const char *> name)[:name_len].decode("utf-8") == tag
            attrs = nd.attributes
            c_attrs = _c_attrs(el)
            attr_names.update(key for key, _ in c_attrs)
            ok = ok and len(c_attrs) == len(attrs)
            for key, val in c_attrs:
                if isinstance(key, str):
                    ok = ok and key in attrs and attrs[key] == val
                else:
                    ok = ok and val in attrs.values()
        for api, ptr in ((nd.child, <uintptr_t> p.first_child), (nd.next, <uintptr_t> p.next)):
            ok = ok and (0 if api is None else api.mem_id) == ptr
        if not ok:
            raise ImportError(f"boilerclf.parse._cwalk: lexbor struct layout mismatch at {tag!r}")
        todo.append(nd.next)
        todo.append(nd.child)
    want = {"-text", "-comment", "-doctype", "div", "x-short", "foreignObject",
            "x-a-custom-element-with-a-long-name", "a", "br"}
    if not want <= seen:
        raise ImportError(f"boilerclf.parse._cwalk: probe page lacks {want - seen}")
    # the walker finds class/id/style by their static ids and hidden by name
    want = {"class", "id", "style", "hidden", "data-a-rather-long-attribute-name"}
    if not want <= attr_names:
        raise ImportError(f"boilerclf.parse._cwalk: attributes not found by name: {want - attr_names}")


# ---------------------------------------------------------------- hint search
cdef extern from "Python.h":
    int PyUnicode_KIND(object o)
    void *PyUnicode_DATA(object o)
    Py_UCS4 PyUnicode_READ(int kind, void *data, Py_ssize_t index)


cdef inline bint _hint_sep(Py_UCS4 c) noexcept:
    return c == 0x5F or c == 0x2D or c == 0x3A or Py_UNICODE_ISSPACE(c)  # _ - : or \s


cdef class HintTable:
    """The hint search of :mod:`boilerclf.parse.lines`, compiled: literal alternatives
    tried in order at the string's start and after each separator, as
    ``lines._hint_search`` does with the regex (see there).

    ``alternatives``: ``(group, literal, lookahead)`` in the regex's order of
    trial; ``lookahead`` requires the end of the string, a separator or a
    decimal digit after the literal.  No literal may be empty or start with a
    separator (then the regex's ``^`` branch and the start rule agree).
    """

    cdef Py_UCS4 *chars
    cdef Py_ssize_t *start
    cdef Py_ssize_t *length
    cdef int *group
    cdef bint *look
    cdef Py_ssize_t n
    # the alternatives by their first character (ASCII), in order of trial:
    # order[bucket[c]:bucket[c + 1]] start with chr(c); order[bucket[128]:] with
    # a non-ASCII character (only they can match where the string has one)
    cdef int *order
    cdef int bucket[130]

    def __cinit__(self, alternatives):
        alts = list(alternatives)
        self.n = len(alts)
        total = sum(len(lit) for _, lit, _ in alts)
        self.chars = <Py_UCS4 *> malloc(max(total, 1) * sizeof(Py_UCS4))
        self.start = <Py_ssize_t *> malloc(max(self.n, 1) * sizeof(Py_ssize_t))
        self.length = <Py_ssize_t *> malloc(max(self.n, 1) * sizeof(Py_ssize_t))
        self.group = <int *> malloc(max(self.n, 1) * sizeof(int))
        self.look = <bint *> malloc(max(self.n, 1) * sizeof(bint))
        self.order = <int *> malloc(max(self.n, 1) * sizeof(int))
        if not (self.chars and self.start and self.length and self.group and self.look
                and self.order):
            raise MemoryError()
        cdef Py_ssize_t k = 0, i
        for i, (g, lit, la) in enumerate(alts):
            if not lit or _hint_sep(ord(lit[0])) or not 0 <= g < 31:
                raise ValueError(f"bad hint alternative {(g, lit, la)!r}")
            self.start[i] = k
            self.length[i] = len(lit)
            self.group[i] = g
            self.look[i] = bool(la)
            for ch in lit:
                self.chars[k] = ord(ch)
                k += 1
        # a stable sort by first character keeps the order of trial within a bucket
        first = [min(ord(lit[0]), 128) for _, lit, _ in alts]
        for b, i in enumerate(sorted(range(self.n), key=first.__getitem__)):
            self.order[b] = i
        cdef int c
        self.bucket[0] = 0
        for c in range(129):
            self.bucket[c + 1] = self.bucket[c] + first.count(c)

    def __dealloc__(self):
        free(self.chars)
        free(self.start)
        free(self.length)
        free(self.group)
        free(self.look)
        free(self.order)

    cdef inline Py_ssize_t _match(self, int kind, void *data, Py_ssize_t n, Py_ssize_t q,
                                  int *g) noexcept:
        # the first alternative matching at q: its end (its group in *g), or -1
        cdef Py_ssize_t a, b, j, L, e
        cdef Py_UCS4 c = PyUnicode_READ(kind, data, q) if q < n else 0
        cdef int k = c if c < 128 else 128
        for b in range(self.bucket[k], self.bucket[k + 1]):
            a = self.order[b]
            L = self.length[a]
            e = q + L
            if e > n:
                continue
            j = 0
            while j < L and PyUnicode_READ(kind, data, q + j) == self.chars[self.start[a] + j]:
                j += 1
            if j < L:
                continue
            if self.look[a] and e < n:
                c = PyUnicode_READ(kind, data, e)
                if not (_hint_sep(c) or Py_UNICODE_ISDECIMAL(c)):
                    continue
            g[0] = self.group[a]
            return e
        return -1

    def search(self, str s) -> int:
        """Bits of the groups found in ``s`` (already lower-cased)."""
        return self._search(PyUnicode_KIND(s), PyUnicode_DATA(s), len(s))

    cdef long _search(self, int kind, void *data, Py_ssize_t n) noexcept:
        cdef Py_ssize_t i = 0, e
        cdef int g = 0
        cdef long bits = 0
        if n and not _hint_sep(PyUnicode_READ(kind, data, 0)):
            e = self._match(kind, data, n, 0, &g)
            if e >= 0:
                bits |= 1 << g
                i = e
        while i < n:
            if _hint_sep(PyUnicode_READ(kind, data, i)):
                e = self._match(kind, data, n, i + 1, &g)
                if e >= 0:
                    bits |= 1 << g
                    i = e
                    continue
            i += 1
        return bits
