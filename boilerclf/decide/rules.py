"""Rules after the model: cross-reference lines, hidden text, the page's footer, readers' comment sections.

Cross-reference lines: "See also: …", "Read more: …", "Related: …".

A line that opens with a cross-reference label points the reader to another
page; it is never part of the article, in any of the gold conventions users
asked for.  The model sees such a label (``lead_label`` in
:mod:`boilerclf.features.table`), but in a plain-text dump without link markup a
"See also: <headline>" line between two paragraphs reads like prose, and the
training sets hold too few of them to learn that.  So this one rule caps
their score after the model (:func:`cap_scores`), in both modes.

The labels are English, French, German, Spanish, Portuguese, Italian, Dutch,
Polish, Russian and Chinese ones, followed by a colon (or ``»``, ``|``, a
dash) or alone on the line.  The headings of related-content boxes ("Most
Popular", "Recent Posts", "Das könnte Sie auch interessieren", "Vous aimerez
aussi", ...) count only alone on their line.

Nearly all the labelled lines of the shared sets that match are boilerplate in
the gold; the rest are mostly dragnet's "Related: <link>" and "Similar Posts:"
lines that its gold keeps (the counts of each rule below:
``docs/research/model-history.md``).

Comment-form prompts alone on their line ("Leave a Reply", "Please enter your
comment!", "Your email address will not be published", in six languages) are
searched with the cross-reference labels: in HTML or in any text rendering,
the labelled lines that match are boilerplate all but a handful.

Author boxes (:func:`bio_mask`): the author's name alone on a line, then, at
most one short line later, a line that opens with the same name and says what
the person writes ("Mia Noles" / "Mia Noles is a writer at ...").  Most
matching labelled lines are boilerplate (the others are end-of-article author
notes that readability's gold keeps); the model tends to drop the biography
and keep the name, which reads like a heading.

Hidden text (:func:`markup_mask`): lines inside an element with a ``hidden``
attribute or ``display: none`` are not what a reader sees, and few of them
are gold in the shared sets (more in tiptopjaw's LLM-written gold).  A page whose hidden lines hold most of
its text (:data:`MOSTLY_HIDDEN`) hides its own content until a script shows it
(a product page's description and specs in a ``display: none`` block): there
the hidden lines are left to the model (:func:`markup_codes`).  So are those of
a page whose visible lines the model scores all below
:data:`VISIBLE_CONTENT` while it scores a hidden one higher: the page shows
only its menus until a script runs, and capping its hidden lines would leave
it empty.

Readers' comment sections (:func:`markup_mask`): lines under an
element whose class or id starts with "comment", a Disqus thread or an
"article-comments" / "post-comments" block (``lines.COMMENT_SECTION``,
trafilatura's rule), or a shop's customer reviews (a class or id that starts
with "reviews", "product-reviews", ... or a review widget's name), unless that
section sits inside an ``<article>``.  The
golds disagree on comments: canola and cleaneval keep them, the article sets
do not, and dragnet is the only set with many comment threads, so a model that
has not seen dragnet keeps them.  The rule follows the article convention
(trafilatura's default too); ``Extractor(comments=True)`` keeps them.

The page's footer (:data:`PAGE_FOOTER`, :func:`markup_codes`): lines inside a
``<footer>`` element that is not inside the page's ``<article>`` or ``<main>``
are the site's footer (about the site, its links, the copyright), never the
page's content however much of it reads like prose.  The model sees the
element (``in_footer``), but scores such lines low rather than zero, and
``auto`` counts what they add up to as content it may lose (a shop page's
footer of links and blurbs); capped, they no longer weigh on the page's
threshold.  A ``<footer>`` inside the article (a byline, the story's tags or
credits) is left to the model.

Readers' comment sections of plain-text pages (:func:`comment_tail_mask`):
with no markup to say where a comment section starts, its heading does: a
line alone that says "12 Comments", "Comments (3)", "5 Responses to
“…”", "3 thoughts on “…”", "Comments:", "Discussion" (or "Kommentare",
"Commentaires", ...).  From such a heading to the end of the page every line
is capped, when at least :data:`COMMENT_TAIL_CONTENT` characters of lines the
model scores above :data:`CONTENT_SCORE` come before it: the article is above
the heading, which is not a "Comments" link in a toolbar over the headline.
A lone "Comment" or "Read all comments" is a button, not a heading, and does
not count; a page with several such headings is not cut at all (a listing's
"0 comments" under each post, a Q&A page's "6 Comments" under each answer,
whose later answers are content).  ``Extractor(comments=True)`` keeps the
section, as for HTML.
"""
from __future__ import annotations

import re

import numpy as np

from boilerclf.parse.lines import COMMENT_SECTION, FLAG, Lines

#: Score a cross-reference line gets at most: below every threshold preset.
CAP = 0.05

_LABELS = (
    r"see also|read (?:also|more|next)|also read|more on this(?: story| topic)?"
    r"|related(?: articles?| stories| posts?| coverage| content| reading| links| news)?"
    r"|recommended(?: reading| for you| articles?| stories)?|you (?:may|might) also like"
    r"|further reading|don'?t miss|more stories"
    r"|(?:à )?lire aussi|voir aussi|sur le même sujet"
    r"|lesen sie auch|mehr zum thema|siehe auch|auch interessant"
    r"|lee también|leer más|ver también|leia também|veja também|leggi anche"
    r"|zie ook|lees ook|czytaj (?:też|także)|читайте также"
    r"|相关阅读|延伸阅读|推荐阅读|相关文章|相關閱讀|延伸閱讀"
)
# Headings of related-content boxes: they count only alone on their line
# ("Most Popular", "Das könnte Sie auch interessieren!"), since several of them
# also open news items ("Trending: <headline>", "In other news: ...").
_HEADINGS = (
    r"(?:most (?:popular|read|viewed|shared)|popular (?:posts|stories|articles)|top stories"
    r"|trending(?: now| stories)?|(?:latest|recent|similar) (?:news|posts|stories|articles)"
    r"|you (?:may|might) also (?:be interested in|enjoy)|what to read next|keep reading"
    r"|editor'?s picks|in other news|more (?:news|stories|articles|from [\w .'&-]{1,40})"
    r"|das könnte (?:dich|sie|ihnen|euch) auch interessieren|zum weiterlesen|top[- ]themen"
    r"|(?:ähnliche|verwandte|weitere|neueste|empfohlene|beliebte) (?:beiträge|artikel|themen|meldungen|nachrichten)"
    r"|meistgelesene?(?: artikel)?"
    r"|vous aimerez (?:aussi|également)|(?:à )?lire également|à voir aussi|les plus lus"
    r"|articles similaires|dans la même rubrique"
    r"|zobacz (?:też|również|także)|czytaj również|podobne artykuły|najczęściej czytane"
    r"|(?:también )?te puede interesar|(?:noticias|artículos) relacionad[oa]s|lo más leído"
    r"|você (?:também )?pode gostar|notícias relacionadas|mais lidas"
    r"|(?:ti )?potrebbe interessarti|articoli correlati|gerelateerde artikelen|meer nieuws)"
)
# The prompts of comment forms (WordPress and its themes, Disqus-like widgets),
# alone on their line: they are never part of a page's content, comments kept or not.
_FORM = (
    r"(?:(?:please )?(?:enter|type|write) your (?:comment|name|e-?mail(?: address)?|message|website)(?: here)?"
    r"|you have entered an incorrect email address|leave a (?:reply|comment|response)(?: to .{1,80})?"
    r"|(?:post|add|write) a comment|join the (?:discussion|conversation)|comments are closed|cancel reply"
    r"|log in to (?:reply|comment)|your email address will not be published.*|required fields are marked.*"
    r"|save my name,? email,? and website in this browser for the next time i comment"
    r"|you must be (?:logged|signed) in to post a comment.*|notify me of (?:follow-up|new) (?:comments|posts).*"
    r"|this site uses akismet to reduce spam.*"
    r"|laisser un commentaire|laisser une réponse|votre adresse (?:e-mail|de messagerie) ne sera pas publiée.*"
    r"|hinterlasse einen kommentar|kommentar (?:schreiben|hinterlassen)|deine e-mail-adresse wird nicht veröffentlicht.*"
    r"|deja un comentario|deja una respuesta|tu dirección de correo electrónico no será publicada.*"
    r"|deixe (?:um comentário|uma resposta)|o seu endereço de e-mail não será publicado.*"
    r"|lascia un commento|il tuo indirizzo email non sarà pubblicato.*)[ \t]*[!.:*]*"
)
# searched in "\n" + the lines joined by "\n": the literal "\n" first lets the
# regex engine skip to line starts (twice as fast as "^" with re.M)
_XREF = re.compile(rf"\n[ \t]*(?:(?:{_LABELS})[ \t]*(?:$|[:：»|–—>-])|{_HEADINGS}[ \t]*[:：!.…]*[ \t]*$"
                   rf"|{_FORM}[ \t]*$)", re.I | re.M)
# The heading of a readers' comment section, alone on its line (searched as
# :data:`_XREF` is, in "\n" + the lines joined by "\n").
_COMMENT_HEADING = re.compile(
    r"\n[ \t]*[{(\[]?[ \t]*(?:(?:\d+|one|no)[ \t]+(?:comments?|responses?|replies|thoughts? on\b.{0,100})"
    r"|(?:\d+[ \t]+)?responses? to\b.{0,100}|(?:reader(?:s'?)? |user )?comments?[ \t]*:?[ \t]*\(\d+\)|comments?[ \t]*:"
    r"|(?:reader(?:s'?)? |user )?comments|discussion|kommentare|commentaires|comentarios|commenti|reacties)"
    r"[ \t]*[:.!\u2026]?[ \t]*[})\]]?[ \t]*$", re.I | re.M)
#: A text page's comment section starts at its heading only when lines scored
#: above :data:`CONTENT_SCORE` hold at least this many characters before it.
COMMENT_TAIL_CONTENT = 1000
#: The score above which a line counts as the page's content for :data:`COMMENT_TAIL_CONTENT`.
CONTENT_SCORE = 0.5
# An author box: the author's name alone on a line, then (at most one short line
# later) a line that starts with the same name and says what the person writes.
_NAME = re.compile(r"[A-Z][\w'’.-]*(?: [A-Z][\w'’.-]*){1,3}")
_ROLE = re.compile(r"(?i:is|was|has been|has worked as)(?: \S+){0,6}? (?i:writer|journalist|reporter|editor|author"
                   r"|correspondent|contributor|columnist|blogger|freelancer|producer|analyst|photographer|critic)s?\b")
#: The longest name line of an author box, in characters.
NAME_CHARS = 40


def xref_mask(texts: list[str]) -> np.ndarray:
    """Boolean array: which of ``texts`` (one page's lines) are cross-reference lines.

    One regex pass over the page's text joined by newlines, not one call per
    line (a line whose text holds a newline counts when any of its parts matches).
    """
    out = np.zeros(len(texts), dtype=bool)
    out[_matching_rows(_XREF, texts)] = True
    return out


def _matching_rows(regex: re.Pattern, texts: list[str]) -> np.ndarray:
    """The rows of ``texts`` where ``regex`` (which starts with a newline)
    matches, in one pass over the lines joined by newlines (a line whose text
    holds a newline counts when any of its parts matches)."""
    if not texts:
        return np.zeros(0, dtype=np.int64)
    starts = [m.start() for m in regex.finditer("\n" + "\n".join(texts))]
    if not starts:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(np.fromiter(map(len, texts), np.int64, len(texts)) + 1)  # offsets of line ends
    return np.searchsorted(ends, starts, side="right")


def bio_mask(texts: list[str], rows: np.ndarray | None = None) -> np.ndarray:
    """Boolean array: which of ``texts`` (one page's lines, or a batch's) are an
    author box's name line and the biography line that follows it
    ("Jane Doe" / "Jane Doe is a reporter at ...").  ``rows``: the only lines
    that may be a name line (all by default); a line is tested further only
    when a line after it starts with its text, so the cost is one string
    comparison per candidate."""
    n = len(texts)
    out = np.zeros(n, dtype=bool)
    for i in (range(n - 1) if rows is None else rows.tolist()):
        name = texts[i].strip()
        if len(name) > NAME_CHARS or i + 1 >= n:
            continue
        key = name + " "
        for j in (i + 1, i + 2):
            if j >= n:
                break
            line = texts[j].lstrip()
            if line.startswith(key):
                if _NAME.fullmatch(name) and _ROLE.match(line, len(key)):
                    out[i] = out[j] = True
                break
            if len(line) > NAME_CHARS:  # only a short line may sit between them
                break
    return out


#: The most tokens (:func:`boilerclf.decide.decision.line_words`) a name line may have.
NAME_TOKENS = 8


def bio_candidates(rows: np.ndarray, words: np.ndarray) -> np.ndarray:
    """The ``rows`` that can be an author box's name line, by token counts
    alone (``words``: tokens per line of the batch): 2 to :data:`NAME_TOKENS`
    tokens, and one of the next two lines at least 2 tokens longer (the name
    again, "is", what the person writes)."""
    w = np.rint(words)
    rows = rows[(w[rows] >= 2) & (w[rows] <= NAME_TOKENS)]
    last = len(w) - 1
    later = np.maximum(w[np.minimum(rows + 1, last)], w[np.minimum(rows + 2, last)])
    return rows[later >= w[rows] + 2]


def cap_scores(scores: np.ndarray, texts: list[str], words: np.ndarray | None = None) -> np.ndarray:
    """``scores`` with those of cross-reference lines, comment-form prompts and
    author boxes capped at :data:`CAP`.

    Only lines scored above the cap can change, so only their texts are
    searched (most of a page's lines score below it: menus, link lists);
    ``words`` (tokens per line) lets only short ones be tried as a name line.
    """
    above = np.flatnonzero(scores > CAP)
    if not len(above):
        return scores
    mask = np.zeros(len(texts), dtype=bool)
    mask[above] = xref_mask([texts[i] for i in above.tolist()])
    mask |= bio_mask(texts, above if words is None else bio_candidates(above, words))
    if not mask.any():
        return scores
    return np.where(mask, np.minimum(scores, CAP), scores)


def comment_tail_mask(texts: list[str], scores: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Boolean array: the lines of a batch of plain-text pages that sit in a
    readers' comment section (see the module docstring): on a page with one
    comment-section heading that follows at least
    :data:`COMMENT_TAIL_CONTENT` characters of lines scored above
    :data:`CONTENT_SCORE`, from it to the page's end.  ``texts`` and ``scores`` are one
    per line; ``starts``: each page's first row and the number of rows at the end.
    One regex pass over the batch's text."""
    mask = np.zeros(len(texts), dtype=bool)
    rows = _matching_rows(_COMMENT_HEADING, texts)
    if not len(rows):
        return mask
    chars = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    content = np.where(np.asarray(scores) > CONTENT_SCORE, chars, 0)
    before = np.cumsum(content) - content  # content characters above each line, in the batch
    page = np.searchsorted(starts, rows, side="right") - 1
    cut = (np.bincount(page, minlength=len(starts) - 1)[page] == 1) & \
        (before[rows] - before[starts[page]] >= COMMENT_TAIL_CONTENT)
    for r, p in zip(rows[cut].tolist(), page[cut].tolist()):
        mask[r:starts[p + 1]] = True
    return mask


#: :func:`markup_codes`: a line the markup rule caps on every page.
CAPPED = 1
#: :func:`markup_codes`: a hidden line, capped unless its page is mostly hidden.
HIDDEN = 2
#: A page whose hidden lines hold at least this share of its characters keeps
#: its hidden lines to the model's judgement.
MOSTLY_HIDDEN = 0.6
#: A page whose visible lines (not hidden, not capped) all score below this,
#: while a hidden line scores above them, keeps its hidden lines to the model's
#: judgement too.
VISIBLE_CONTENT = 0.3


#: The ``Lines.flags`` of the page-level elements whose lines :func:`markup_codes`
#: caps outside an ``<article>`` or ``<main>``: the page's ``<footer>``.
PAGE_FOOTER = FLAG["footer"]
_IN_CONTENT = FLAG["article"] | FLAG["main"]


def markup_codes(hints: np.ndarray, flags: np.ndarray, *, comments: bool = False) -> np.ndarray:
    """uint8 per HTML line: what the markup says of it.  :data:`HIDDEN` for a
    line inside an element the page hides (a ``hidden`` attribute, ``display:
    none``), :data:`CAPPED` (also) for a line, unless ``comments``, inside a
    readers' comment section (``Lines.hints`` has
    :data:`~boilerclf.parse.lines.COMMENT_SECTION`) that is not inside an
    ``<article>`` element (forum posts and threads that are the page's
    article), and for a line inside a page's ``<footer>`` that is not inside
    its ``<article>`` or ``<main>`` (:data:`PAGE_FOOTER`).  Arguments are
    ``Lines.hints`` and ``Lines.flags``;
    :func:`boilerclf.decide.keep.kept_lines` applies the codes per page."""
    codes = np.where((flags & FLAG["hidden"]) != 0, HIDDEN, 0).astype(np.uint8)
    codes |= np.where(((flags & PAGE_FOOTER) != 0) & ((flags & _IN_CONTENT) == 0), CAPPED, 0).astype(np.uint8)
    if not comments:
        codes |= np.where(((hints & COMMENT_SECTION) != 0) & ((flags & FLAG["article"]) == 0),
                          CAPPED, 0).astype(np.uint8)
    return codes


def markup_caps(codes: np.ndarray, chars: np.ndarray, starts: np.ndarray,
                scores: np.ndarray | None = None) -> np.ndarray:
    """Boolean array: the lines :func:`markup_codes` caps, page by page
    (``starts``: each page's first row and the number of rows at the end;
    ``chars``: each line's length; ``scores``: the lines' scores, if known).
    A hidden line is capped unless its page's hidden lines hold
    :data:`MOSTLY_HIDDEN` of the page's characters, or (with ``scores``) its
    page's visible lines all score below :data:`VISIBLE_CONTENT` and one of its
    hidden lines scores higher than they do."""
    capped = (codes & CAPPED) != 0
    hidden = (codes & HIDDEN) != 0
    if not hidden.any():
        return capped
    n = np.add.reduceat(chars, starts[:-1]) if len(chars) else np.zeros(0)
    h = np.add.reduceat(np.where(hidden, chars, 0), starts[:-1]) if len(chars) else np.zeros(0)
    trusted = h >= MOSTLY_HIDDEN * np.maximum(n, 1)
    if scores is not None and len(chars):
        s = np.asarray(scores, dtype=np.float64)
        seen = np.maximum.reduceat(np.where(hidden | capped, -1.0, s), starts[:-1])
        unseen = np.maximum.reduceat(np.where(hidden, s, -1.0), starts[:-1])
        trusted |= (seen < VISIBLE_CONTENT) & (unseen > seen)
    page = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    return capped | (hidden & ~trusted[page])


def markup_mask(hints: np.ndarray, flags: np.ndarray, texts: list[str], *, comments: bool = False,
                scores: np.ndarray | None = None) -> np.ndarray:
    """Boolean array: the lines of one HTML page the markup rule caps
    (:func:`markup_codes` applied as :func:`markup_caps` does)."""
    codes = markup_codes(hints, flags, comments=comments)
    chars = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    return markup_caps(codes, chars, np.array([0, len(codes)]), scores)


def rule_mask(page: Lines, *, comments: bool = False, scores: np.ndarray | None = None) -> np.ndarray:
    """Boolean array: the lines of one page whose score the rules cap at
    :data:`CAP` (what :class:`~boilerclf.Extractor` does after the model, in
    one pass per batch): cross-reference lines, comment-form prompts and author
    boxes, and, in HTML, hidden lines and (unless ``comments``) the lines of
    readers' comment sections (in plain text, with ``scores``, those of
    :func:`comment_tail_mask`).  ``scores``: the model's scores of the lines,
    for the hidden-line exception of :func:`markup_caps` (without them, hidden
    lines are judged by their share of the page's text only) and the content
    above a text page's comment heading."""
    mask = xref_mask(page.texts) | bio_mask(page.texts)
    if page.kind == "html":
        mask |= markup_mask(page.hints, page.flags, page.texts, comments=comments, scores=scores)
    elif scores is not None and not comments:
        capped = np.where(mask, np.minimum(scores, CAP), scores)
        mask |= comment_tail_mask(page.texts, capped, np.array([0, len(page.texts)]))
    return mask
