"""Real-looking pages built in code, shared by tests of several packages
(a blog post with a readers' comment thread)."""

PARAS = [
    "The harbour council said on Monday that the old pier will be rebuilt next spring, after two "
    "winters of storms left the sea wall cracked and the walkway closed to the public.",
    "Fishermen had asked for the repairs for years. The council's plan puts the cost at four "
    "million euros, most of it from a regional fund for coastal towns.",
    "Work is to start in March and to last eighteen months, during which boats will moor at the "
    "new jetty on the north side of the bay, the council said.",
]

COMMENTS = [
    "I grew up in that town and the pier was already falling apart in the nineties, so this is "
    "good news for everyone who still fishes there on weekends.",
    "Four million euros for a pier while the school roof leaks? The council should explain how "
    "they chose this project over the others on the list.",
]


def blog(section_attr: str, in_article: bool = False) -> str:
    thread = (f"<div {section_attr}><h3>2 Responses to “Pier to be rebuilt”</h3><ol class='thread'>"
              + "".join(f"<li><div class='author'>Reader {i} says:</div><div class='when'>May {i + 3}, 2024 "
                        f"at 10:1{i} am</div><p>{t}</p><a href='#reply'>Reply</a></li>"
                        for i, t in enumerate(COMMENTS))
              + "</ol></div>")
    story = "".join(f"<p>{t}</p>" for t in PARAS)
    if in_article:
        body = f"<article><h1>Pier to be rebuilt</h1>{story}{thread}</article>"
    else:
        body = f"<article><h1>Pier to be rebuilt</h1>{story}</article>{thread}"
    return (f"<html><head><title>Pier to be rebuilt</title></head><body><nav><a href='/'>Home</a></nav>"
            f"{body}<footer>© Harbour News</footer></body></html>")


#: More of the story, for pages whose rules look at how much article comes first.
MORE = [
    "The regional fund approved the money in January, after engineers found that two of the "
    "pier's twelve pillars had lost a third of their concrete to the sea since the last survey.",
    "Shop owners on the promenade welcomed the plan but asked the council to keep the walkway "
    "open during the summer months, when most of the town's visitors come to see the harbour.",
    "The council will publish the builders' timetable next month and hold a public meeting in "
    "the town hall, where residents can ask questions about noise, traffic and the new jetty.",
]


def blog_dump(heading: str = "2 Responses to “Pier to be rebuilt”") -> str:
    """The blog post as a whole-page text dump: menu, headline, story, then a
    readers' comment thread under ``heading``, then the footer."""
    thread = [heading]
    for i, t in enumerate(COMMENTS):
        thread += [f"Reader {i} says:", f"May {i + 3}, 2024 at 10:1{i} am", t, "Reply"]
    return "\n\n".join(["Home", "Pier to be rebuilt", *PARAS, *MORE, *thread, "© Harbour News"])
