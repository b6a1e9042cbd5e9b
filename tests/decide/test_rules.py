"""Cross-reference lines ("See also: ..."), comment-form prompts and author boxes are dropped after the model."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pages import COMMENTS, MORE, PARAS, blog_dump
from pages import blog as _blog

import boilerclf
from boilerclf.decide import rules as cues
from boilerclf.decide.rules import CAP, bio_mask, cap_scores, comment_tail_mask, xref_mask
from boilerclf.parse.lines import FLAG


@pytest.mark.parametrize("line", [
    "See also: TSMC says second $17 billion factory in Japan will produce 3nm chips",
    "SEE ALSO: The History of GIFs",
    "Read more: Council approves the budget",
    "Related articles",
    "Related: New UK hotel swaps Bibles for Kindles",
    "  Also read - What is app testing?",
    "You might also like: ten walks by the sea",
    "Lire aussi : Les critiques de la CNIL",
    "Lesen Sie auch: Der Hafen wird saniert",
    "Читайте также: новости",
    "相关阅读：港口将重建",
    "See also:",
    # headings of related-content boxes, alone on their line
    "Most Popular",
    "Recent Posts",
    "More from the BBC:",
    "Das könnte Sie auch interessieren!",
    "Ähnliche Beiträge",
    "Vous aimerez aussi",
    "Zobacz również",
    "Noticias relacionadas",
    "More News...",
])
def test_xref_lines_match(line):
    assert xref_mask(["Intro paragraph.", line, "Outro."]).tolist() == [False, True, False]


@pytest.mark.parametrize("line", [
    "Seeing also the second factory, the minister said it would open in May.",
    "Related parties must disclose their holdings, the regulator said.",
    "He said: read more books.",
    "The report, see also page 4, was published on Monday.",
    "Readers also read the paper online.",
    # a box heading that opens a sentence or a headline is not a heading alone
    "Trending: Portman says he will run for the Senate",
    "In other news: the judge threw out the case",
    "Most popular destinations this summer were in the south.",
    "More from the interview, published on Monday, is below.",
    "",
])
def test_prose_does_not_match(line):
    assert not xref_mask([line]).any()


@pytest.mark.parametrize("line", [
    "Please enter your comment!",
    "Please enter your name here",
    "You have entered an incorrect email address!",
    "Leave a Reply",
    "Leave a Reply to Anna Cancel reply",
    "Add A Comment",
    "Your email address will not be published. Required fields are marked *",
    "Save my name, email, and website in this browser for the next time I comment.",
    "This site uses Akismet to reduce spam. Learn how your comment data is processed.",
    "Laisser un commentaire",
    "Hinterlasse einen Kommentar",
    "Deja una respuesta",
])
def test_comment_form_prompts_match(line):
    assert xref_mask(["Intro paragraph.", line, "Outro."]).tolist() == [False, True, False]


@pytest.mark.parametrize("line", [
    "Readers who leave a comment on the council's page will get an answer, the mayor said.",
    "Please enter your name in the register at the town hall before Friday.",
    "Comments are closed on Sundays, a spokesman for the library said.",
])
def test_prose_about_comments_does_not_match(line):
    assert not xref_mask([line]).any()


def test_author_box_name_and_biography_are_found():
    texts = [PARAS[0], "Mia Noles",
             "Mia Noles is a writer at the Ode Magazine. She holds a degree from Leeds University.",
             "Jim Pollard", "Follow on X",
             "Jim Pollard is an Australian journalist based in Thailand since 1999.",
             # a product or a company described under its name is not an author box
             "Apache Spark", "Apache Spark is a unified analytics engine for large-scale data processing.",
             # the name must be the same, alone on its line
             "Anna Berg", "Mia Noles is a writer at the Ode Magazine.",
             "Tom Hale is a reporter at the Gazette."]
    assert bio_mask(texts).tolist() == [False, True, True, True, False, True, False, False, False, False, False]
    assert bio_mask([]).shape == (0,) and not bio_mask(["Mia Noles"]).any()


def test_shipped_text_model_drops_the_author_box_and_the_comment_form():
    dump = "\n\n".join(["Harbour repairs to start in May", *PARAS, "Mia Noles",
                         "Mia Noles is a writer at the Harbour Gazette. She covers the town council and "
                         "the port, and loves sailing.",
                         "Please enter your comment!", "Please enter your name here",
                         "You have entered an incorrect email address!"])
    text = boilerclf.extract_text(dump)
    assert all(p in text for p in PARAS)
    assert "Mia Noles" not in text and "Please enter" not in text and "incorrect email" not in text


def test_mask_maps_matches_to_the_right_lines():
    texts = ["a", "", "See also: x", "b\nRead more: y", "c", "Related"]
    assert xref_mask(texts).tolist() == [False, False, True, True, False, True]
    assert xref_mask([]).shape == (0,)
    s = np.array([0.9, 0.9, 0.9, 0.2, 0.9, 0.01])
    out = cap_scores(s, texts)
    assert out.tolist() == [0.9, 0.9, CAP, CAP, 0.9, 0.01]


def _text_page(mid: str) -> str:
    return "\n\n".join([PARAS[0], PARAS[1], mid, PARAS[2]])


def test_extractor_drops_see_also_in_both_modes(tiny_models):
    mid = "See also: Council approves the harbour budget after a long night of debate in the town hall"
    html = "<html><body><article>" + "".join(f"<p>{t}</p>" for t in (PARAS[0], PARAS[1], mid, PARAS[2])) \
        + "</article></body></html>"
    on = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=0.1)
    off = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=0.1, xref_rule=False)
    for page, kind in ((_text_page(mid), "text"), (html, "html")):
        r_on, r_off = on.classify(page, kind), off.classify(page, kind)
        s_on = {ln.text: ln.score for ln in r_on.lines}
        s_off = {ln.text: ln.score for ln in r_off.lines}
        assert s_on[mid] == min(s_off[mid], CAP) and mid not in r_on.text
        # only that line changes
        assert {t: v for t, v in s_on.items() if t != mid} == {t: v for t, v in s_off.items() if t != mid}
    # with the rule off and a threshold under the model's score, the line is kept
    low = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], xref_rule=False,
                              threshold=min(s_off[mid], 0.5) / 2)
    assert mid in low.extract(html, "html")


_POOL = ["See also: x", "Read more", "Related: a\nb", "plain prose.", "", "a\nSee also: y", "Menu"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_POOL), st.sampled_from([0.0, 0.01, CAP, 0.06, 0.5, 1.0])),
                max_size=12))
def test_cap_scores_searches_only_lines_above_the_cap(rows):
    """Searching only the lines above the cap gives what capping every match gives."""
    texts = [t for t, _ in rows]
    s = np.array([v for _, v in rows], dtype=np.float64)
    expect = np.where(xref_mask(texts), np.minimum(s, CAP), s)
    np.testing.assert_array_equal(cap_scores(s, texts), expect)


# ------------------------------------------------------------ readers' comment sections



def test_comment_section_lines_are_capped_unless_comments_are_asked_for(tiny_models):
    page = _blog("id='comments' class='comments-area'")
    drop = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=0.1)
    keep = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=0.1, comments=True)
    r_drop, r_keep = drop.classify(page, "html"), keep.classify(page, "html")
    texts = [ln.text for ln in r_keep.lines]
    assert texts == [ln.text for ln in r_drop.lines]
    first, last = texts.index("2 Responses to “Pier to be rebuilt”"), texts.index("© Harbour News")
    assert last - first == 9  # heading + 2 x (author, date, comment, reply)
    in_thread = np.arange(len(texts)) >= first
    in_thread[last:] = False
    # only the thread's lines change
    np.testing.assert_array_equal(r_drop.scores, np.where(in_thread, np.minimum(r_keep.scores, CAP), r_keep.scores))
    assert max(r_keep.scores[texts.index(c)] for c in COMMENTS) > CAP  # the tiny model alone keeps them
    assert all(c not in drop.extract(page, "html") for c in COMMENTS)
    assert all(p in drop.extract(page, "html") for p in PARAS)


@pytest.mark.parametrize("attr", ["class='tonal--tone-comment'", "class='post category-comment'",
                                  "class='commentary'"])
def test_a_comment_word_later_in_the_class_is_not_a_comment_section(tiny_models, attr):
    page = _blog(attr)
    drop = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=0.1)
    keep = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=0.1, comments=True)
    assert [ln.score for ln in drop.classify(page, "html").lines] == \
        [ln.score for ln in keep.classify(page, "html").lines]


def test_a_comment_section_inside_the_article_is_left_to_the_model(tiny_models):
    page = _blog("id='comments'", in_article=True)
    drop = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=0.1)
    keep = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=0.1, comments=True)
    assert drop.classify(page, "html").scores.tolist() == keep.classify(page, "html").scores.tolist()


def test_shipped_extract_drops_the_comment_thread_and_keeps_the_story():
    page = _blog("id='comments'")
    text = boilerclf.extract(page)
    assert all(p in text for p in PARAS)
    assert not any(c in text for c in COMMENTS)
    assert boilerclf.classify(page, comments=True).scores.tolist() != boilerclf.classify(page).scores.tolist()


def test_rule_mask_is_what_the_extractor_caps(tiny_models):
    """training/ scores cached pages with cues.rule_mask; the extractor must cap the same lines."""
    from boilerclf.decide.rules import rule_mask

    mid = "See also: Council approves the harbour budget after a long night of debate"
    hidden = "<div style='display: none'><p>Subscribe to read the rest of this story today.</p></div>"
    page = _blog("id='comments'").replace(f"<p>{PARAS[1]}</p>", f"<p>{PARAS[1]}</p><p>{mid}</p>{hidden}")
    ex = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], xref_rule=False)
    L = ex.lines(page, "html")
    # the model's own scores, no rule applied
    off = ex.model_for("html")[0].decision_scores(boilerclf.features.table.batch_features([L]))
    for comments in (False, True):
        ex = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], comments=comments)
        mask = rule_mask(ex.lines(page, "html"), comments=comments)
        # see-also, hidden and page-footer lines (+ the thread's 9)
        assert mask.sum() == (3 if comments else 12)
        np.testing.assert_array_equal(ex.classify(page, "html").scores, np.where(mask, np.minimum(off, CAP), off))


def test_the_page_footer_is_capped_but_not_an_article_footer(tiny_models):
    """The page's ``<footer>`` (about the site, copyright) is capped, however
    much it reads like prose; a ``<footer>`` inside the ``<article>`` or
    ``<main>`` (a byline, the story's credits) is left to the model."""
    ex = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1])
    about = ("Harbour News is an independent newspaper founded in 1921 by the fishermen of the bay, "
             "and it has reported on the town council and the port ever since.")
    note = ("Reporting by Anna Berg and editing by Tom Hale, with the harbour council's figures for the "
            "last two years and the engineers' survey of the pier.")
    page = _blog("class='thread'").replace("</article>", f"<footer><p>{note}</p></footer></article>") \
        .replace("<footer>© Harbour News</footer>", f"<footer><p>{about}</p>© Harbour News</footer>")
    for p in (page, page.replace("<article>", "<main><article>").replace("</article>", "</article></main>")):
        r = ex.classify(p, "html")
        raw = ex.model_for("html")[0].decision_scores(boilerclf.features.table.batch_features([ex.lines(p, "html")]))
        texts = [ln.text for ln in r.lines]
        assert raw[texts.index(about)] > CAP >= r.scores[texts.index(about)]  # the rule, not the model
        assert about not in r.text and note in r.text
        assert r.scores[texts.index(note)] == raw[texts.index(note)]
    codes = cues.markup_codes(np.zeros(3, dtype=np.int32), np.array(
        [FLAG["footer"], FLAG["footer"] | FLAG["article"], FLAG["footer"] | FLAG["main"]]))
    assert codes.tolist() == [cues.CAPPED, 0, 0]


def test_hidden_lines_are_dropped(tiny_models):
    ex = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=0.06)
    for hide in ("<div style='display:none'>{}</div>", "<div hidden>{}</div>", "<section style='color: red; display : none'>{}</section>"):
        page = _blog("class='thread'").replace(f"<p>{PARAS[2]}</p>", hide.format(f"<p>{PARAS[2]}</p>"))
        r = ex.classify(page, "html")
        line = next(ln for ln in r.lines if ln.text == PARAS[2])
        assert line.score <= CAP and PARAS[2] not in r.text, hide
        assert PARAS[0] in r.text and PARAS[1] in r.text
    assert PARAS[2] in ex.extract(_blog("class='thread'"), "html")  # shown, the model keeps it


def test_a_page_that_hides_most_of_its_text_keeps_it_to_the_model(tiny_models):
    """A product page whose description a script reveals sits in a display:none
    block: when hidden lines hold most of the page's text the hidden rule stands
    down (the lines go to the model); a page hiding only a pop-up keeps it capped."""
    from boilerclf import Extractor

    body = "".join(f"<p>The wool runner is made of soft merino wool that keeps feet dry and warm, "
                   f"and the sole is made of sugarcane foam, part {i}.</p>" for i in range(6))
    popup = "<div style='display: none'><p>Your email is being processed. Thank you for signing up!</p></div>"
    revealed = f"<html><body><nav><a href=/>Shop</a></nav><div class='defer' style='display: none'>{body}</div></body></html>"
    shown = f"<html><body><nav><a href=/>Shop</a></nav><div>{body}</div>{popup}</body></html>"
    ex = Extractor(model=tiny_models[0], threshold=0.1)  # above the rules' cap
    r = ex.classify(revealed)
    assert "part 3" in r.text and not any(s <= 0.05 for ln, s in zip(r.lines, r.scores) if "part" in ln.text)
    r = ex.classify(shown)
    assert "part 3" in r.text and "Your email is being processed" not in r.text
    codes = cues.markup_codes(ex.lines(revealed, "html").hints, ex.lines(revealed, "html").flags)
    assert set(codes.tolist()) == {0, cues.HIDDEN}


def test_auto_never_keeps_an_author_box_scored_under_the_cap():
    """When ``auto`` reaches below the cap, the lines it would add are searched for
    author boxes too (the batch's search covered only the lines above the cap)."""
    from boilerclf.decide import decision, keep

    texts = ["Mia Noles", "Mia Noles is a writer at the Harbour Gazette and covers the port.",
             "Short menu", "Another menu item"]
    s = np.array([0.045, 0.04, 0.03, 0.01])
    t = keep.auto_threshold(decision.parse("auto"), s, np.array([2.0, 13.0, 2.0, 3.0]), np.zeros(4, bool), texts)
    assert t > 0.045  # neither the name nor the biography is kept
    plain = ["Harbour news", "The council met on Monday to discuss the port.", "Short menu", "Another menu item"]
    assert keep.auto_threshold(decision.parse("auto"), s, np.array([2.0, 9.0, 2.0, 3.0]), np.zeros(4, bool),
                               plain) < 0.045


def test_bio_candidates_keep_only_short_lines_followed_by_a_longer_one():
    from boilerclf.decide.rules import bio_candidates

    # tokens per line: a name (2), its biography (12), a menu (2, 1, 2), a paragraph (40), a name at the end
    words = np.array([2.0, 12.0, 2.0, 1.0, 2.0, 40.0, 3.0])
    rows = np.arange(len(words))
    # row 0: a biography next; row 2: only short lines next; row 3: one token; row 4: a paragraph next;
    # row 6: nothing after it
    assert bio_candidates(rows, words).tolist() == [0, 4]
    assert bio_candidates(np.array([1, 5]), words).tolist() == []  # too long to be a name


def test_hidden_lines_of_a_page_that_shows_nothing_else_are_left_to_the_model():
    """A shop page that shows only its menus until a script reveals the product
    text (hidden lines under 60 % of the page's text): capping the hidden lines
    would leave the page empty, so they go to the model; a page whose visible
    article scores well keeps its hidden pop-up capped."""
    menu = "".join(f"<li><a href='/c/{i}'>{w} collection</a></li>" for i, w in enumerate(
        "Shoes Sneakers Slippers Sandals Boots Socks Laces Insoles Bags Hats Gloves Scarves Tees Sweats Sale "
        "Gifts Kids Women Men Outlet Stores Stories Materials Care Returns Shipping Help Contact Careers Press".split()))
    body = ("<h1>Wool Runner</h1>"
            "<p>A true original, our Wool Runner combines soft merino wool with cloud-like comfort, "
            "so you can walk all day without a second thought about your feet.</p>"
            "<p>Our responsibly sourced merino wool keeps a cosy fit that is soft and itch-free on the skin, "
            "and it regulates temperature in summer and in winter alike.</p>"
            "<p>The midsole is made of a foam derived from sugarcane, both sturdy and soft, "
            "and the insole can be washed in a machine with the rest of the shoe.</p>")
    page = (f"<html><head><title>Wool Runner</title></head><body><nav><ul>{menu}</ul></nav>"
            f"<div class='product' style='display: none'>{body}</div><footer><ul>{menu}</ul></footer></body></html>")
    lines = boilerclf.Extractor().lines(page, "html")
    hidden = (cues.markup_codes(lines.hints, lines.flags) & cues.HIDDEN) != 0
    chars = np.array([len(t) for t in lines.texts])
    assert 0.1 < chars[hidden].sum() / chars.sum() < cues.MOSTLY_HIDDEN  # the share rule alone would cap them
    text = boilerclf.extract(page)
    assert "responsibly sourced merino wool" in text and "machine with the rest" in text
    assert "Sneakers collection" not in text
    # with scores known, the rule trusts such a page's hidden lines; with a visible article it does not
    codes = np.array([cues.HIDDEN, cues.HIDDEN, 0, 0], dtype=np.uint8)
    chars = np.array([100, 100, 200, 200])
    starts = np.array([0, 4])
    assert cues.markup_caps(codes, chars, starts).tolist() == [True, True, False, False]
    assert cues.markup_caps(codes, chars, starts, np.array([0.9, 0.2, 0.1, 0.05])).tolist() == [False] * 4
    assert cues.markup_caps(codes, chars, starts, np.array([0.9, 0.2, 0.6, 0.05])).tolist() == [True, True, False, False]
    assert cues.markup_caps(codes, chars, starts, np.array([0.02, 0.01, 0.1, 0.05])).tolist() == [True, True, False, False]


# Readers' comment sections of plain-text pages: their heading, after the article.
LONG_COMMENTS = [
    "I grew up in that town and the pier was already falling apart in the nineties. My father fished "
    "from it every Sunday, and he always said the council would wait until it fell into the sea before "
    "doing anything about it. I am glad they finally listened to the people who use it.",
    "Four million euros is a lot of money for a pier while the school roof still leaks and the bus to "
    "the hospital runs twice a day. The council should explain how they chose this project over the "
    "others, and publish the engineers' report so that we can all read it.",
]


@pytest.mark.parametrize("heading", ["12 Comments", "Comments (3)", "Comments:", "One response",
                                     "5 Responses to “Pier to be rebuilt”", "3 thoughts on “Pier to be rebuilt”",
                                     "Discussion", "Reader comments", "Kommentare", "  COMMENTS  "])
def test_a_comment_heading_after_the_article_caps_the_rest_of_the_page(heading):
    story = [*PARAS, *MORE]
    texts = ["Home", "Pier to be rebuilt", *story, heading, "Reader 0 says:", *COMMENTS, "© Harbour News"]
    scores = np.array([0.1, 0.7] + [0.9] * len(story) + [0.4, 0.3, 0.8, 0.8, 0.1])
    got = comment_tail_mask(texts, scores, np.array([0, len(texts)]))
    assert got.tolist() == [False] * (2 + len(story)) + [True] * 5


@pytest.mark.parametrize("heading", ["Comment", "Read all comments", "View 12 comments",
                                     "Comments on the plan were due by the end of May.", "Discussions"])
def test_buttons_and_prose_about_comments_are_not_a_heading(heading):
    texts = [*PARAS, *MORE, heading, *COMMENTS]
    scores = np.full(len(texts), 0.9)
    assert not comment_tail_mask(texts, scores, np.array([0, len(texts)])).any()


def test_a_comment_heading_needs_the_article_above_it():
    """A "Comments (3)" link over the headline is not where the comments start;
    the content above a heading is counted on its own page of the batch."""
    story = [*PARAS, *MORE]
    top = ["Pier to be rebuilt", "Comments (3)", *story]
    below = ["Pier to be rebuilt", *story, "Comments (3)", *COMMENTS]
    weak = ["Pier to be rebuilt", *story, "Comments (3)", *COMMENTS]  # the story scored as boilerplate
    texts = top + below + weak
    scores = np.r_[np.full(len(top) + len(below), 0.9), np.full(len(weak), 0.2)]
    starts = np.array([0, len(top), len(top) + len(below), len(texts)])
    got = comment_tail_mask(texts, scores, starts)
    assert not got[:len(top)].any() and not got[len(top) + len(below):].any()
    assert got[len(top):len(top) + len(below)].tolist() == [False] * (1 + len(story)) + [True] * 3
    assert comment_tail_mask([], np.zeros(0), np.zeros(1, dtype=np.int64)).shape == (0,)


def test_a_page_with_a_comment_count_under_each_item_is_not_cut():
    """A Q&A page's "6 Comments" under each answer, a listing's "0 comments"
    under each post: the answers and posts after the first count are content."""
    answers = [*PARAS, *MORE]
    texts = ["How do I rebuild a pier?", *answers, "6 Comments", COMMENTS[0], *answers, "2 Comments", COMMENTS[1]]
    scores = np.full(len(texts), 0.9)
    assert not comment_tail_mask(texts, scores, np.array([0, len(texts)])).any()
    one = texts[:len(answers) + 3]  # the same page with one answer: its comments go
    assert comment_tail_mask(one, scores[:len(one)], np.array([0, len(one)])).tolist()[-2:] == [True, True]


def test_text_comment_thread_is_capped_unless_comments_are_asked_for(tiny_models):
    dump = blog_dump()
    drop = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=0.1)
    keep = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=0.1, comments=True)
    r_drop, r_keep = drop.classify(dump, "text"), keep.classify(dump, "text")
    texts = [ln.text for ln in r_keep.lines]
    first = texts.index("2 Responses to “Pier to be rebuilt”")
    in_thread = np.arange(len(texts)) >= first
    assert sum(len(t) for t, s in zip(texts[:first], r_keep.scores[:first]) if s > cues.CONTENT_SCORE) \
        >= cues.COMMENT_TAIL_CONTENT  # the tiny model finds the story above the heading
    np.testing.assert_array_equal(r_drop.scores, np.where(in_thread, np.minimum(r_keep.scores, CAP), r_keep.scores))
    assert any(c in keep.extract(dump, "text") for c in COMMENTS)
    text = drop.extract(dump, "text")
    assert not any(c in text for c in COMMENTS) and all(p in text for p in PARAS + MORE)


def test_shipped_extract_text_drops_a_thread_of_long_comments():
    thread = ["12 Comments"]
    for i, t in enumerate(LONG_COMMENTS):
        thread += [f"Reader {i} says:", f"May {i + 3}, 2024 at 10:1{i} am", t, "Reply"]
    dump = "\n\n".join(["Home", "Pier to be rebuilt", *PARAS, *MORE, *thread, "© Harbour News"])
    text = boilerclf.extract_text(dump)
    assert all(p in text for p in PARAS + MORE) and not any(c in text for c in LONG_COMMENTS)
    ex = boilerclf.Extractor()
    kept = boilerclf.Extractor(comments=True).classify(dump, "text")
    dropped = ex.classify(dump, "text")
    n = len(kept.lines) - len(thread) - 1
    assert (dropped.scores[n:] <= CAP).all() and (kept.scores[n:-1] > CAP).any()
    mask = cues.rule_mask(ex.lines(dump, "text"), scores=kept.scores)  # the rules' own account
    assert mask[n:].all() and not mask[:n].any()
    assert not cues.rule_mask(ex.lines(dump, "text"), scores=kept.scores, comments=True)[n:].any()
    assert boilerclf.extract_text(dump, comments=True) == boilerclf.Extractor(comments=True).extract(dump, "text")
