"""Markup guard: bound what the HTML parser builds, before it parses.

lexbor's tree builder is quadratic in two hostile shapes: the depth of the
stack of open elements (each ``<div>``, ``<p>``, ``<li>``... searches it: tens
of thousands of nested ``<div>`` take seconds to a minute to parse) and the
number of distinct attributes of one element (each new one is compared with
all the others).  Real pages are nowhere near either (browsers cap the DOM
depth at 512 too), so :func:`guard` reads the markup once, in linear time,
with an approximate model of the HTML tokenizer and tree builder, and returns
the spans to delete before parsing:

* a start tag that would open an element deeper than ``max_depth`` is deleted
  (its text stays, one level up: the page is flattened there, as Blink and
  WebKit flatten it at depth 512);
* the attributes of an element after its first ``max_attrs`` are deleted, and
  so are all attributes past the page's budget (:func:`attr_budget`, about one
  per 16 characters: lexbor keeps each attribute in a few hundred bytes);
* a formatting start tag (``a``, ``b``, ``font``, ``i``, ``nobr``...) is deleted
  once ``max_formatting`` formatting elements are open or waiting to be
  reopened (its text stays).

Formatting elements are the third hostile shape.  The parser keeps them on
the list of active formatting elements, reopens ("reconstructs") the ones an
implicit close shut (``</p>``, ``<li>``, ``</div>``) before the next text or
start tag, and untangles misnested ones with the adoption agency algorithm.
Each reopened element is a new element on the stack of open elements, so
``<b><a href=x>`` repeated builds a stack as deep as the page is long, and
lexbor searches that stack on every ``<a>`` and every reconstruction.  The
standard's "Noah's Ark" clause keeps at most three identical entries on the
list, but distinct attributes defeat it:
``<p><font color=N>x</p>`` reopens every earlier font in every paragraph, a
tree quadratic in the page.  So the scan models the list too (entries, the
markers of cells, ``object``, ``marquee`` and ``template``, Noah's Ark on the
raw attribute text, reconstruction, and the adoption agency's effect on the
stack), bounds the formatting elements by ``max_formatting`` and counts the
elements it reopens: past :func:`rebuild_budget` (about one per 16
characters), the page is scanned again with every formatting start tag
deleted, so nothing is reopened at all.  Real pages stay far below both
bounds.

The model errs towards over-estimating the depth: an end tag closes an
element only where the parser would close it at least as far (scopes as in the
HTML standard), an element the parser may ignore is counted anyway, and no
markup the parser reads is skipped (raw text of ``script``, ``style``,
``textarea``... is skipped only outside ``svg``/``math``; comments end where
lexbor ends them).  Elements closed implicitly (``p``, ``li``, ``dt``/``dd``,
``td``/``th``, ``tr``, ``option``...) are closed as the parser closes them, so
legacy pages with unclosed paragraphs, items or cells are not flattened.
Table parts outside any table are ignored, as the parser ignores them (and
their end tags).  A tag is deleted on what the model holds before the tag
acts, so a deleted tag closes nothing in the model either.

This module is the reference; ``boilerclf.parse._cguard`` is the same scan compiled
(used by :func:`apply` when built; tests check both give the same spans).
"""
from __future__ import annotations

import re

from boilerclf.parse.markup import (
    BREAKOUT,
    BUTTON_SCOPE,
    CLOSES,
    FONT_BREAKOUT_ATTRS,
    FOREIGN,
    FORMATTING,
    LIST_SCOPE,
    MARK,
    MARKERS,
    MAX_ATTRS,
    MAX_DEPTH,
    MAX_FORMATTING,
    NO_POP,
    NO_PUSH,
    NO_REBUILD,
    P_CLOSERS,
    POPS_TOP,
    RAW,
    SCOPE,
    SPECIAL,
    TABLE_CONTEXT,
    TABLE_MODE,
    TABLE_PARTS,
    TABLE_SCOPE,
    TABLE_START,
    VOID,
    WS,
    attr_budget,
    rebuild_budget,
)

#: Default nesting depth past which start tags are dropped (as in Blink and WebKit).
_LOWER = {c: c + 32 for c in range(65, 91)}
_raw_end_re: dict[str, re.Pattern] = {}


def _raw_end(text: str, i: int, name: str) -> int:
    """Position of the ``</name`` that ends raw text starting at ``i``, or -1."""
    rx = _raw_end_re.get(name)
    if rx is None:
        rx = _raw_end_re[name] = re.compile("</" + name + "[\t\n\f\r />]", re.IGNORECASE)
    m = rx.search(text, i)
    return m.start() if m else -1


def guard(text: str, max_depth: int = MAX_DEPTH, max_attrs: int = MAX_ATTRS,
          max_formatting: int = MAX_FORMATTING, max_page_attrs: int | None = None) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of ``text`` to delete, sorted and disjoint (see module docstring).

    ``max_page_attrs`` defaults to :func:`attr_budget` of the page's length."""
    page_attrs = attr_budget(len(text)) if max_page_attrs is None else max_page_attrs
    cuts = _scan(text, max_depth, max_attrs, max_formatting, page_attrs)
    if cuts is None:  # formatting elements rebuilt past the page's budget: drop them all
        cuts = _scan(text, max_depth, max_attrs, 0, page_attrs)
    return cuts


def _scan(text: str, max_depth: int, max_attrs: int, max_formatting: int,
          page_attrs: int) -> list[tuple[int, int]] | None:
    """One pass of the model; None once it rebuilds more formatting elements than the budget."""
    n = len(text)
    budget = rebuild_budget(n)
    cuts: list[tuple[int, int]] = []
    stack: list[str] = []
    marks: list[int] = []  # per open element: its formatting entry, -1, or MARK (it put a marker on the list)
    foreign = 0  # svg / math elements on the stack
    tables = 0  # table / template elements on the stack
    # the list of active formatting elements: entry numbers, -1 for a marker
    afe: list[int] = []
    e_name: list[str] = []
    e_attrs: list[str] = []
    e_open: list[bool] = []  # on the stack
    e_in: list[bool] = []  # on the list
    open_fmt = 0  # formatting elements on the stack
    closed = 0  # entries of the list not on the stack
    rebuilt = 0
    i = 0

    def push(name: str, mark: int) -> None:
        nonlocal foreign, tables, open_fmt
        stack.append(name)
        marks.append(mark)
        if name in FOREIGN:
            foreign += 1
        if name in TABLE_CONTEXT:
            tables += 1
        if mark >= 0:
            open_fmt += 1
        elif mark == MARK:
            afe.append(-1)

    def remove_at(k: int) -> None:
        nonlocal foreign, tables, open_fmt
        name = stack.pop(k)
        mark = marks.pop(k)
        if name in FOREIGN:
            foreign -= 1
        if name in TABLE_CONTEXT:
            tables -= 1
        if mark >= 0:
            open_fmt -= 1

    def pop_to(k: int) -> None:
        nonlocal closed
        while len(stack) > k:
            mark = marks[-1]
            remove_at(len(stack) - 1)
            if mark >= 0:
                if e_in[mark]:
                    e_open[mark] = False
                    closed += 1
            elif mark == MARK:  # the list is cleared up to its last marker
                while afe:
                    x = afe.pop()
                    if x < 0:
                        break
                    e_in[x] = False
                    if not e_open[x]:
                        closed -= 1

    def drop(j: int) -> None:
        nonlocal closed
        x = afe.pop(j)
        e_in[x] = False
        if not e_open[x]:
            closed -= 1

    def rebuild() -> None:
        # reconstruct the active formatting elements: reopen the entries after the last open one
        nonlocal closed, rebuilt
        if not afe or afe[-1] < 0 or e_open[afe[-1]]:
            return
        j = len(afe) - 1
        while j > 0 and afe[j - 1] >= 0 and not e_open[afe[j - 1]]:
            j -= 1
        for x in afe[j:]:
            e_open[x] = True
            closed -= 1
            rebuilt += 1
            push(e_name[x], x)

    def last_entry(name: str) -> int:
        for j in range(len(afe) - 1, -1, -1):
            x = afe[j]
            if x < 0:
                return -1
            if e_name[x] == name:
                return j
        return -1

    def adopt(name: str) -> tuple[int, int]:
        """The adoption agency for an end tag: (0, -1) without an entry, (2, its
        position) when its element is out of scope, else (1, -1)."""
        nonlocal open_fmt
        j = last_entry(name)
        if j < 0:
            return 0, -1
        x = afe[j]
        if not e_open[x]:
            drop(j)
            return 1, -1
        k = len(stack) - 1
        in_scope = True
        blocks = []  # special elements above it, the nearest last
        while marks[k] != x:
            if stack[k] in SCOPE:
                in_scope = False
            if stack[k] in SPECIAL:
                blocks.append(k)
            k -= 1
        if not in_scope:
            return 2, k
        if not blocks:
            drop(j)
            pop_to(k)
        elif len(blocks) < 8:  # the last clone is closed with all above the last furthest block
            drop(j)
            remove_at(k)
            pop_to(blocks[0])
        else:  # eight rounds leave a clone just above the eighth furthest block
            remove_at(k)
            stack.insert(blocks[-8], name)
            marks.insert(blocks[-8], x)
            open_fmt += 1
        return 1, -1

    def find(names: frozenset, stop: frozenset) -> int:
        for k in range(len(stack) - 1, -1, -1):
            if stack[k] in names:
                return k
            if stack[k] in stop:
                return -1
        return -1

    while True:
        if rebuilt > budget:
            return None
        t0 = text.find("<", i)
        if t0 < 0 or t0 + 1 >= n:
            break
        if t0 > i:  # text
            rebuild()
        i = t0
        c = text[i + 1]
        if c == "!":
            if text.startswith("<!--", i):
                j = i + 4
                if text.startswith(">", j):
                    i = j + 1
                    continue
                if text.startswith("->", j):
                    i = j + 2
                    continue
                e1 = text.find("-->", j)
                e2 = text.find("--!>", j, e1 if e1 >= 0 else n)
                if e1 < 0 and e2 < 0:
                    break
                i = e2 + 4 if e2 >= 0 else e1 + 3
                continue
            j = text.find(">", i + 2)  # doctype, CDATA (in svg too: that over-estimates), bogus
            if j < 0:
                break
            i = j + 1
            continue
        if c == "?":
            j = text.find(">", i + 2)
            if j < 0:
                break
            i = j + 1
            continue
        end_tag = c == "/"
        if end_tag:
            if i + 2 >= n:
                break
            c = text[i + 2]
            if c == ">":
                i += 3
                continue
            if not ("a" <= c <= "z" or "A" <= c <= "Z"):
                j = text.find(">", i + 2)
                if j < 0:
                    break
                i = j + 1
                continue
            j = i + 2
        elif "a" <= c <= "z" or "A" <= c <= "Z":
            j = i + 1
        else:  # a '<' that is text
            rebuild()
            i += 1
            continue
        # the tag name, then the attributes as the tokenizer reads them
        k = j
        while k < n and text[k] not in WS and text[k] != "/" and text[k] != ">":
            k += 1
        name = text[j:k].translate(_LOWER)
        name_end = k
        is_font = name == "font"
        font_breaks = False  # a font with color, face or size leaves svg/math content
        n_attrs = 0
        cut_from = -1
        self_closing = False
        j = k
        while True:
            while j < n and (text[j] in WS or text[j] == "/"):
                self_closing = text[j] == "/"
                j += 1
            if j >= n or text[j] == ">":
                break
            self_closing = False
            start = j
            j += 1  # the first character of a name may be '='
            while j < n and text[j] not in WS and text[j] != "/" and text[j] != ">" and text[j] != "=":
                j += 1
            if is_font and not font_breaks and text[start:j].translate(_LOWER) in FONT_BREAKOUT_ATTRS:
                font_breaks = True
            while j < n and text[j] in WS:
                j += 1
            if j < n and text[j] == "=":
                j += 1
                while j < n and text[j] in WS:
                    j += 1
                if j < n and (text[j] == '"' or text[j] == "'"):
                    q = text.find(text[j], j + 1)
                    j = n if q < 0 else q + 1
                else:
                    while j < n and text[j] not in WS and text[j] != ">":
                        j += 1
            n_attrs += 1
            if cut_from < 0:
                if n_attrs > max_attrs or page_attrs <= 0:
                    cut_from = start
                else:
                    page_attrs -= 1
        end = j  # the '>', or n: the tag runs to the end and the parser drops it
        i = end + 1
        if end_tag:
            if j < n and name not in NO_POP:
                if name == "form":
                    k = find(frozenset(("form",)), SCOPE)
                    if k >= 0:  # only the form itself leaves the stack
                        remove_at(k)
                    continue
                if name in FORMATTING and not foreign and adopt(name)[0]:
                    pass
                else:
                    if name == "p":
                        stop = BUTTON_SCOPE
                    elif name == "li":
                        stop = LIST_SCOPE
                    elif name in TABLE_PARTS:
                        stop = TABLE_SCOPE
                    elif name in SPECIAL:
                        stop = SCOPE
                    else:
                        stop = SPECIAL
                    k = find(frozenset((name,)), stop)
                    if k >= 0:
                        pop_to(k)
            elif j < n and name == "br":  # read as <br>
                rebuild()
            if cut_from >= 0:
                cuts.append((cut_from, end))
            if j >= n:
                break
            continue
        if j >= n:  # an unfinished start tag: the parser drops it
            if cut_from >= 0:
                cuts.append((cut_from, end))
            break
        breakout = foreign > 0 and (name in BREAKOUT or font_breaks)
        in_foreign = foreign > 0 and not breakout
        fmt = name in FORMATTING and not in_foreign
        pushed = True
        if name in NO_PUSH or name in VOID or (self_closing and (in_foreign or name in FOREIGN)):
            pushed = False
        elif not in_foreign and (name in RAW or name == "plaintext"):
            pushed = False
        elif name == "form" and "form" in stack:
            pushed = False
        elif not in_foreign and name in TABLE_START and not tables:
            pushed = False  # ignored outside a table
        # the cuts, before anything the tag would do
        if pushed and (len(stack) >= max_depth or (fmt and open_fmt + closed >= max_formatting)):
            cuts.append((t0, end + 1))
            continue
        if breakout:
            k = 0
            while stack[k] not in FOREIGN:
                k += 1
            pop_to(k)
        if pushed:
            if name in P_CLOSERS:
                k = find(frozenset(("p",)), BUTTON_SCOPE)
                if k >= 0:
                    pop_to(k)
            top = POPS_TOP.get(name)
            while top is not None and stack and stack[-1] in top:
                pop_to(len(stack) - 1)
            rule = CLOSES.get(name)
            if rule is not None:
                k = find(*rule)
                if k >= 0:
                    pop_to(k)
            if name == "table" and not in_foreign and stack and stack[-1] in TABLE_MODE:
                k = find(frozenset(("table",)), TABLE_SCOPE)  # a table right in a table closes it
                if k >= 0:
                    pop_to(k)
            if fmt and name == "a":  # an open a is closed first, and leaves the list
                code, k = adopt("a")
                if code == 2:
                    drop(last_entry("a"))
                    remove_at(k)
        if name not in NO_REBUILD:
            rebuild()
            if fmt and name == "nobr" and find(frozenset(("nobr",)), SCOPE) >= 0:
                if not adopt("nobr")[0]:
                    k = find(frozenset(("nobr",)), SPECIAL)
                    if k >= 0:
                        pop_to(k)
                rebuild()
        if pushed:
            if fmt:
                attrs = text[name_end:end]
                same = 0
                first = -1
                for j in range(len(afe) - 1, -1, -1):  # at most three identical entries (Noah's Ark)
                    x = afe[j]
                    if x < 0:
                        break
                    if e_name[x] == name and e_attrs[x] == attrs:
                        same += 1
                        first = j
                if same >= 3:
                    drop(first)
                x = len(e_name)
                e_name.append(name)
                e_attrs.append(attrs)
                e_open.append(True)
                e_in.append(True)
                push(name, x)
                afe.append(x)
            else:
                push(name, MARK if not in_foreign and name in MARKERS else -1)
        if cut_from >= 0:
            cuts.append((cut_from, end))
        if not pushed and not foreign and name in RAW:
            k = _raw_end(text, i, name)
            if k < 0:
                break
            i = k
        elif not pushed and not foreign and name == "plaintext":
            break
    if rebuilt > budget:
        return None
    return cuts


def apply(text: str, max_depth: int = MAX_DEPTH, max_attrs: int = MAX_ATTRS,
          max_formatting: int = MAX_FORMATTING) -> tuple[str, bool]:
    """``(text with the guard's spans deleted, whether any were)``."""
    if len(text) <= 2 * max_attrs and text.count("<") <= min(max_depth, max_formatting, MAX_FORMATTING):
        return text, False  # nothing can run over
    cuts = _guard_fast(text, max_depth, max_attrs, max_formatting)
    if not cuts:
        return text, False
    parts = []
    prev = 0
    for a, b in cuts:
        parts.append(text[prev:a])
        prev = b
    parts.append(text[prev:])
    return "".join(parts), True


try:
    from boilerclf.parse._cguard import guard as _guard_fast
except ImportError:  # the extension is not built: the reference scan (slower)
    _guard_fast = guard
