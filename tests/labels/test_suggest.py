"""Which pages to label (boilerclf.labels.suggest, boilerclf label --suggest N)."""
from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from boilerclf.cli import app
from boilerclf.labels import file as labelsfile
from boilerclf.labels.suggest import line_uncertainty, page_uncertainty, suggest, template_similarity, templates

runner = CliRunner()

MENU_A = ["Home", "News", "Sport", "Weather", "Contact us", "Copyright Harbour Gazette"]
MENU_B = ["Shop", "Basket", "Offers", "Delivery", "Returns", "Copyright Harbour Shop"]


def _page(pid: str, menu: list[str], body_score: float, n_body: int = 4) -> dict:
    """A page of a template (its menu lines, sure boilerplate) with its own body lines
    of ten words each, scored ``body_score``."""
    body = [f"{pid} paragraph {j} says " + " ".join(["word"] * 6) for j in range(n_body)]
    texts = menu + body
    scores = [0.02] * len(menu) + [body_score] * n_body
    return labelsfile.page_record(pid, "\n".join(texts), texts, kind="text", scores=scores)


def _crawl() -> list[dict]:
    # four pages of template A, the model unsure of them (0.5 to 0.6); two of B, less unsure
    return [_page("a1", MENU_A, 0.5), _page("a2", MENU_A, 0.55), _page("a3", MENU_A, 0.6, 3),
            _page("a4", MENU_A, 0.52), _page("b1", MENU_B, 0.8), _page("b2", MENU_B, 0.95)]


def test_line_and_page_uncertainty():
    np.testing.assert_allclose(line_uncertainty([0.5, 0.0, 1.0, 0.75, np.nan]), [1.0, 0.0, 0.0, 0.5, 0.0])
    unc, share = page_uncertainty([_page("x", MENU_A, 0.5), _page("y", MENU_A, 0.75)])
    menu_words = sum(len(t.split()) for t in MENU_A)
    # 4 body lines of 10 words: all uncertain at 0.5, half at 0.75; the menu (0.02) nearly sure
    np.testing.assert_allclose(unc, [40 + 0.04 * menu_words, 20 + 0.04 * menu_words])
    np.testing.assert_allclose(share, unc / (40 + menu_words))


def test_templates_come_from_the_repeated_lines():
    recs = _crawl()
    sim = template_similarity(recs)
    assert sim.shape == (6, 6) and (np.diag(sim) == 1).all()
    assert sim[0, 1] == pytest.approx(1.0) and sim[0, 4] == 0.0  # bodies never repeat, menus do
    assert templates(sim).tolist() == [0, 0, 0, 0, 1, 1]


def test_suggest_takes_uncertain_pages_of_different_templates():
    recs = _crawl()
    got = suggest(recs, 3)
    assert [s.id for s in got][:2] == ["a1", "b1"]  # b1 before a4 and a2: another template
    assert got[2].id == "a4" and [s.template for s in got] == [0, 1, 0]
    assert got[0].index == 0 and got[0].uncertainty > got[1].uncertainty
    assert [s.id for s in suggest(recs, 10)][:2] == ["a1", "b1"] and len(suggest(recs, 10)) == 6
    with pytest.raises(ValueError, match="at least 1"):
        suggest(recs, 0)


def test_cli_label_suggest(tmp_path, tiny_models):
    d = tmp_path / "crawl"
    d.mkdir()
    for rec in _crawl():
        (d / f"{rec['id']}.txt").write_text(rec["source"], encoding="utf-8")
    out = tmp_path / "labels.jsonl"
    args = ["label", str(d), "--out", str(out), "--model", str(tiny_models[0]), "--text-model", str(tiny_models[1])]
    r = runner.invoke(app, args + ["--suggest", "2"])
    assert r.exit_code == 0, r.output
    assert "suggested 2 pages of 6 to label (2 templates), best first:" in r.output
    listed = [ln.split(":")[0].strip() for ln in r.output.splitlines() if "uncertain words" in ln]
    recs = labelsfile.read_labels(out)
    assert [x["id"] for x in recs] == listed and len(listed) == 2
    assert {x["id"][0] for x in recs} == {"a", "b"}  # one page of each template
    r = runner.invoke(app, args + ["--suggest", "-1", "--force"])
    assert r.exit_code == 2 and "--suggest" in r.output


def test_public_name():
    import boilerclf

    assert boilerclf.suggest_pages(_crawl(), 1)[0].id == "a1"
