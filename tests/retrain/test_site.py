"""Teaching a site: site profiles (boilerclf profile, --site-profile) and site
models (boilerclf train --base/--add) with their gate (written only when they
beat the base model on held-out labelled pages, or with --force), on a small
generated site.

The site's pages share a header menu, a "Most read" list, a footer and,
at the end of every article, a long "About the Harbour Gazette" paragraph;
each page has its own headline and article paragraphs.  The About paragraph is
prose inside the article, so a model keeps it on a single page; only the
site's other pages (or its labels) show that it is boilerplate.
"""
from __future__ import annotations

import json
import random
import re

import numpy as np
import pytest
from sklearn.base import clone
from typer.testing import CliRunner

import boilerclf
from boilerclf import SiteProfile, page_record, write_labels
from boilerclf.cli import app
from boilerclf.decide.profile import ProfileError, line_keys, normalise
from boilerclf.labels import gold as labels
from boilerclf.model.files import ModelError, load, save
from boilerclf.model.fitted import SitePredictor
from boilerclf.model.site import SiteModel
from boilerclf.parse import html as html_mod
from boilerclf.retrain import gate
from boilerclf.retrain.site import cross_validate, labelled_pages, stack_pages

runner = CliRunner()

ABOUT = ("About the Harbour Gazette: we have been reporting on the harbour, the town and the people "
         "who live by the sea since 1921, and we are funded by our readers.")
WORDS = ("the harbour council said on monday that a new plan for the old pier would be put to the "
         "town in the spring after fishermen and shop owners asked for repairs to the sea wall which "
         "was damaged by storms last winter and has been closed since then to walkers and boats").split()


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def site_page(k: int) -> tuple[str, str]:
    """Page ``k`` of the generated site: (html, gold text)."""
    rng = random.Random(k)
    title = f"Story {k}: " + _sentence(rng, 6)
    paras = [" ".join(_sentence(rng, rng.randint(12, 20)) for _ in range(3)) for _ in range(5)]
    menu = "".join(f'<li><a href="/{w}">{w.title()}</a></li>' for w in ("news", "sport", "weather", "jobs"))
    most = "".join(f'<li><a href="/s/{j}">Most read story number {j} about the harbour</a></li>'
                   for j in range(5))
    html = (f"<html><head><title>{title} - Harbour Gazette</title></head><body>"
            f'<header><a href="/">Harbour Gazette</a><nav><ul>{menu}</ul></nav></header>'
            f"<article><h1>{title}</h1>" + "".join(f"<p>{p}</p>" for p in paras) + f"<p>{ABOUT}</p></article>"
            f'<aside><h3>Most read</h3><ul>{most}</ul></aside>'
            f"<footer><p>Copyright 2024 Harbour Gazette. All rights reserved.</p></footer></body></html>")
    return html, "\n".join([title] + paras)


@pytest.fixture(scope="module")
def site():
    return [site_page(k) for k in range(6)]


@pytest.fixture(scope="module")
def base(tiny_html_model):
    """The base model to adapt: the suite's tiny model (independent of the shipped one)."""
    return tiny_html_model


def _record(pid: str, html: str, gold: str, reviewed: bool = True) -> dict:
    L = html_mod.html_lines(html)
    return page_record(pid, html, L.texts, labels=[int(v) for v in labels.labels(L.texts, gold)],
                       reviewed=reviewed)


# ------------------------------------------------------------------ profiles

def test_normalise_folds_case_digits_and_space():
    assert normalise("  Comments (12)\t NOW ") == normalise("comments (7) now") == "comments (0) now"
    assert line_keys(["A  b"]) == line_keys(["a b"]) != line_keys(["a c"])


def test_profile_counts_pages_and_damps_repeated_lines(site, tmp_path):
    pages = [html_mod.html_lines(h) for h, _ in site]
    prof = SiteProfile.from_pages(pages)
    assert prof.n_pages == 6
    texts = pages[0].texts
    share = prof.share(texts)
    i_about, i_title = texts.index(ABOUT), 1 + texts.index("Jobs")
    assert share[i_about] == 1.0 and texts[i_title].startswith("Story 0")
    assert share[i_title] == 0.0  # the headline is on one page only
    scores = np.full(len(texts), 0.9)
    out = prof.apply(scores, texts)
    assert out[i_about] == 0.0 and out[i_title] == 0.9
    # a line on one page never counts, however few pages the profile has
    two = SiteProfile.from_pages([["a", "shared"], ["b", "shared"]])
    assert two.share(["a", "shared", "unseen"]).tolist() == [0.0, 1.0, 0.0]
    p = tmp_path / "site.json"
    prof.save(p)
    again = SiteProfile.load(p)
    assert again == prof and json.loads(p.read_text())["format"] == "boilerclf-site-profile/1"


def test_profile_file_errors(tmp_path):
    with pytest.raises(ProfileError, match="not found"):
        SiteProfile.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    with pytest.raises(ProfileError, match="not a boilerclf site profile"):
        SiteProfile.load(bad)
    bad.write_text('{"format": "boilerclf-site-profile/1", "n_pages": 3, "counts": [1, 2]}')
    with pytest.raises(ProfileError, match="malformed"):
        SiteProfile.load(bad)


def test_extract_with_site_profile_drops_the_repeated_prose(site, tiny_models, tmp_path, monkeypatch):
    html = site[0][0]
    ex = boilerclf.Extractor(model=tiny_models[0])
    assert ABOUT in ex.extract(html)  # one page alone: the About paragraph looks like content
    prof = SiteProfile.from_pages([html_mod.html_lines(h) for h, _ in site[1:]])  # the page itself unseen
    text = boilerclf.Extractor(model=tiny_models[0], site_profile=prof).extract(html)
    assert ABOUT not in text and "Most read story number 1" not in text
    assert site[0][1].splitlines()[1][:60] in text
    res = boilerclf.Extractor(model=tiny_models[0], site_profile=prof).classify(html)
    assert [ln.score for ln in res.lines if ln.text == ABOUT] == [0.0]
    # the module-level API takes a profile (object or file) as well (its default
    # extractor here on the tiny model, so the test does not depend on the shipped one)
    monkeypatch.setattr(boilerclf, "_default", ex)
    prof.save(tmp_path / "site.json")
    for p in (prof, tmp_path / "site.json"):
        assert ABOUT not in boilerclf.extract(html, site_profile=p)
        assert [ln.score for ln in boilerclf.classify(html, site_profile=p).lines if ln.text == ABOUT] == [0.0]


def test_cli_profile_then_clean_with_it(site, tmp_path, tiny_models):
    model = ["--model", str(tiny_models[0]), "--text-model", str(tiny_models[1])]
    d = tmp_path / "pages"
    d.mkdir()
    for k, (h, _) in enumerate(site):
        (d / f"p{k}.html").write_text(h, encoding="utf-8")
    prof = tmp_path / "site.json"
    r = runner.invoke(app, ["profile", str(d), "--out", str(prof)])
    assert r.exit_code == 0, r.output
    assert "6 pages" in r.output and SiteProfile.load(prof).n_pages == 6
    r = runner.invoke(app, ["clean", str(d / "p2.html"), "-q", "-j", "1", "--site-profile", str(prof),
                            "--include-title"] + model)
    assert r.exit_code == 0, r.output
    assert ABOUT not in r.output and "Story 2" in r.output
    r = runner.invoke(app, ["clean", str(d / "p2.html"), "-q", "-j", "1"] + model)
    assert ABOUT in r.output
    r = runner.invoke(app, ["clean", str(d / "p2.html"), "--site-profile", str(tmp_path / "nope.json")] + model)
    assert r.exit_code == 2 and "site profile not found" in r.output
    r = runner.invoke(app, ["profile", str(d / "p1.html"), "--out", str(tmp_path / "one.json")])
    assert r.exit_code == 2 and "at least 2 pages" in r.output


# ------------------------------------------------------------------ site models

def test_site_model_learns_the_site_convention(site, base, tmp_path):
    # this site's convention: the About paragraph is boilerplate, even on a page alone
    recs = [_record(f"p{k}", h, g) for k, (h, g) in enumerate(site)]
    data, skipped = labelled_pages(recs[:4])
    assert skipped == [] and data.ids == ["p0", "p1", "p2", "p3"]
    about_rows = np.array([t == ABOUT for ts in data.texts for t in ts])
    assert (data.y[about_rows] == 0).all()
    m = SiteModel(base, threshold=base.threshold).fit(data.X, data.y)
    L5 = html_mod.html_lines(site[5][0])
    test = stack_pages([("p5", L5, np.zeros(len(L5), np.int64))])
    i = test.texts[0].index(ABOUT)
    assert base.decision_scores(test.X)[i] >= base.threshold  # the base keeps it
    assert m.decision_scores(test.X)[i] < m.threshold               # the site model drops it
    assert m.weight_ == pytest.approx(4 / 5)  # 4 labelled pages, prior_pages=1
    p = tmp_path / "site.npz"
    save(m, p, kind="html", site={"pages": data.ids})
    loaded, head = load(p)
    assert isinstance(loaded, SitePredictor) and head["site"]["pages"] == data.ids
    np.testing.assert_allclose(loaded.decision_scores(test.X), m.decision_scores(test.X))
    assert isinstance(boilerclf.load_model(p), SitePredictor)
    ex = boilerclf.Extractor(model=p, include_title=True)  # the site's gold starts with the headline
    assert ABOUT not in ex.extract(site[5][0]) and "Story 5" in ex.extract(site[5][0])


def _rewrite_header(src, dst, change) -> None:
    """Copy the model file ``src`` to ``dst`` with its JSON header changed by ``change(head)``."""
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "header.json":
                head = json.loads(data)
                change(head)
                data = json.dumps(head).encode()
            zout.writestr(info, data)


def test_site_model_file_is_arrays_and_checked(site, base, tmp_path):
    import zipfile

    recs = [_record(f"p{k}", h, g) for k, (h, g) in enumerate(site)]
    data, _ = labelled_pages(recs[:3])
    m = SiteModel(base, threshold=0.4, prior_pages=2.0).fit(data.X, data.y)
    p = tmp_path / "site.npz"
    head = save(m, p, kind="html")
    names = zipfile.ZipFile(p).namelist()
    # base stages and the site layer as .npy arrays, no pickle anywhere
    assert {n.split("_")[0] for n in names if n.endswith(".npy")} == {"s1", "s2", "site"}
    assert head["estimator"]["class"] == "SiteModel" and head["estimator"]["weight"] == pytest.approx(0.6)
    loaded, _ = load(p)
    assert loaded.threshold == 0.4 and loaded.prior_pages == 2.0 and loaded.weight_ == pytest.approx(0.6)
    np.testing.assert_array_equal(loaded.decision_scores(data.X), m.decision_scores(data.X))
    # a site model cannot be the base of another one
    with pytest.raises(ValueError, match="already a site model"):
        from boilerclf.retrain.site import train_site
        train_site(p, [], tmp_path / "x.npz")
    # headers that do not match the arrays are refused
    bad = tmp_path / "bad.npz"
    for change, msg in ((lambda h: h["estimator"].update(weight=3.0), "weight"),
                        (lambda h: h["estimator"].update(weight="x"), "weight"),
                        (lambda h: h.update(estimator=h["estimator"]["base"]), "not a site model")):
        _rewrite_header(p, bad, change)
        with pytest.raises(ModelError, match=msg):
            load(bad)


def test_site_model_ignores_unlabelled_lines_and_needs_both_classes(site, base):
    data, _ = labelled_pages([_record("p0", *site[0])])
    i_about = data.texts[0].index(ABOUT)
    y = np.full(len(data.X), -1)
    y[[i_about, i_about - 1]] = [0, 1]  # two labelled lines: enough, -1 is no class
    m = SiteModel(base).fit(data.X, y)
    assert m.classes_.tolist() == [0, 1] and m.weight_ == 0.5
    y[i_about] = -1
    with pytest.raises(ValueError, match="both content"):
        SiteModel(base).fit(data.X, y)
    with pytest.raises(ValueError, match="both content"):
        SiteModel(base).fit(data.X, np.zeros(len(data.X), np.int64))
    with pytest.raises(ValueError, match="fitted base"):
        SiteModel().fit(data.X, data.y)


def test_cross_validate_reports_before_and_after(site, base):
    data, _ = labelled_pages([_record(f"p{k}", h, g) for k, (h, g) in enumerate(site)])
    cv = cross_validate(base, data, k=3)
    assert cv["k"] == 3 and cv["n_pages"] == 6
    assert cv["after"]["f1"] > cv["before"]["f1"]  # the About paragraph is learned
    assert cv["after"]["n_pages"] == 6 and "before_profile" not in cv
    prof = SiteProfile.from_pages(data.texts)
    cvp = cross_validate(base, data, k=3, profile=prof)
    assert cvp["before"] == cv["before"] and cvp["after"] == cv["after"]
    assert cvp["before_profile"]["f1"] > cv["before"]["f1"]  # the profile drops it too


def test_cli_train_base_add_then_clean(site, tmp_path, tiny_models):
    lab = tmp_path / "labels.jsonl"
    write_labels(lab, [_record(f"p{k}", h, g) for k, (h, g) in enumerate(site[:4])]
                 + [_record("unreviewed", *site[4], reviewed=False)])
    out = tmp_path / "site.npz"
    prof = tmp_path / "site.json"
    SiteProfile.from_pages([html_mod.html_lines(h) for h, _ in site]).save(prof)
    r = runner.invoke(app, ["train", "--base", str(tiny_models[0]), "--add", str(lab), "--out", str(out),
                            "--folds", "2", "--site-profile", str(prof)])
    assert r.exit_code == 0, r.output
    assert "with the site profile, base model: F1" in r.output and "with the site profile, site model" in r.output
    assert "skipped unreviewed (not reviewed)" in r.output
    m = re.search(r"gate: held-out F1 over 4 pages \(2 folds by page\): base model (\d\.\d+), "
                  r"site model \(blend ([\d.]+)\) (\d\.\d+); mean paired difference ([+-]\d\.\d+) ± (\d\.\d+)",
                  r.output)
    assert m and float(m.group(3)) > float(m.group(1)), r.output
    assert float(m.group(4)) == pytest.approx(float(m.group(3)) - float(m.group(1)), abs=0.0015)
    assert "the site model beats the base model; blend weight" in r.output
    head = load(out)[1]
    assert head["site"]["pages"] == ["p0", "p1", "p2", "p3"] and head["site"]["gate"]["k"] == 2
    assert head["site"]["gate"]["weight"] == float(m.group(2)) == head["estimator"]["weight"]
    assert head["site"]["gate"]["forced"] is False
    assert head["site"]["base"]["file"] == tiny_models[0].name
    page = tmp_path / "p5.html"
    page.write_text(site[5][0], encoding="utf-8")
    r = runner.invoke(app, ["clean", str(page), "-q", "-j", "1", "--model", str(out),
                            "--text-model", str(tiny_models[1]), "--include-title"])
    assert r.exit_code == 0 and ABOUT not in r.output and "Story 5" in r.output
    # a site model is not a base
    r = runner.invoke(app, ["train", "--base", str(out), "--add", str(lab), "--out", str(tmp_path / "x.npz")])
    assert r.exit_code == 2 and "already a site model" in r.output


def test_cli_train_base_add_refusals(site, tmp_path, tiny_models):
    base = ["--base", str(tiny_models[0])]
    lab = tmp_path / "labels.jsonl"
    write_labels(lab, [_record("p0", *site[0], reviewed=False)])
    r = runner.invoke(app, ["train", "--add", str(lab), "--out", str(tmp_path / "s.npz")] + base)
    assert r.exit_code == 2 and "only reviewed pages are used" in r.output
    # one labelled page: the gain cannot be measured, nothing is written without --force
    r = runner.invoke(app, ["train", "--add", str(lab), "--out", str(tmp_path / "s.npz"), "--unreviewed"] + base)
    assert r.exit_code == 1 and "no model written: one labelled page" in r.output
    assert not (tmp_path / "s.npz").exists()
    r = runner.invoke(app, ["train", "--add", str(lab), "--out", str(tmp_path / "s.npz"), "--unreviewed",
                            "--force"] + base)
    assert r.exit_code == 0 and "written anyway (--force): one labelled page" in r.output
    assert load(tmp_path / "s.npz")[1]["site"]["gate"] is None
    r = runner.invoke(app, ["train", "--add", str(lab)])
    assert r.exit_code == 2 and "--out names the site model file" in r.output
    r = runner.invoke(app, ["train", "--add", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "s.npz")])
    assert r.exit_code == 2 and "labels file not found" in r.output
    # lines that no longer match the source: a clear error, no model
    rec = _record("p1", *site[1])
    rec["lines"][2]["text"] = "edited by hand"
    write_labels(lab, [rec])
    r = runner.invoke(app, ["train", "--add", str(lab), "--out", str(tmp_path / "t.npz")] + base)
    assert r.exit_code == 2 and "differ" in r.output and not (tmp_path / "t.npz").exists()


def test_load_refuses_other_objects(tmp_path):
    import joblib

    p = tmp_path / "x.joblib"  # a legacy pickled model file, loaded as trusted
    head = {"schema_version": boilerclf.features.table.SCHEMA_VERSION,
            "sklearn_version": boilerclf.model.files.sklearn_version()}
    joblib.dump({"header": head, "model": {"not": "a model"}}, p)
    with pytest.raises(ModelError, match="LineClassifier or a SiteModel"):
        load(p, trusted=True)


def test_cli_eval_and_label_take_a_site_profile(site, tmp_path, tiny_models):
    import gzip

    ds = tmp_path / "harbour"
    (ds / "html").mkdir(parents=True)
    for k, (h, _) in enumerate(site):
        (ds / "html" / f"p{k}.html.gz").write_bytes(gzip.compress(h.encode()))
    (ds / "ground-truth.json").write_text(json.dumps({f"p{k}": {"articleBody": g} for k, (_, g) in enumerate(site)}))
    prof = tmp_path / "site.json"
    SiteProfile.from_pages([html_mod.html_lines(h) for h, _ in site]).save(prof)
    model = ["--model", str(tiny_models[0])]
    plain = runner.invoke(app, ["eval", str(ds)] + model)
    damped = runner.invoke(app, ["eval", str(ds), "--site-profile", str(prof)] + model)
    assert plain.exit_code == 0 and damped.exit_code == 0, plain.output + damped.output
    p_plain, p_damped = (float(re.search(r"precision (\d\.\d+)", r.output).group(1)) for r in (plain, damped))
    assert p_damped > p_plain  # the About paragraph is not in the gold
    lab = tmp_path / "labels.jsonl"
    r = runner.invoke(app, ["label", str(ds / "html" / "p0.html.gz"), "--out", str(lab), "-q",
                            "--site-profile", str(prof), "--text-model", str(tiny_models[1])] + model)
    assert r.exit_code == 0, r.output
    (rec,) = boilerclf.read_labels(lab)
    assert [ln["label"] for ln in rec["lines"] if ln["text"] == ABOUT] == [0]


def test_site_model_of_an_auto_base_gets_a_fixed_threshold(site, base, tmp_path, tiny_fitted):
    from boilerclf.model.site import SITE_THRESHOLD, default_threshold

    assert default_threshold(base) == base.threshold  # a number stays
    auto_base = clone(tiny_fitted[0])
    auto_base.__dict__.update({k: v for k, v in tiny_fitted[0].__dict__.items() if k.endswith("_")})
    auto_base.set_params(threshold="auto")
    assert default_threshold(auto_base) == SITE_THRESHOLD
    path = tmp_path / "auto-base.npz"
    save(auto_base, path, kind="html")
    lab = tmp_path / "labels.jsonl"
    write_labels(lab, [_record(f"p{k}", h, g) for k, (h, g) in enumerate(site[:4])])
    out = tmp_path / "site.npz"
    r = runner.invoke(app, ["train", "--base", str(path), "--add", str(lab), "--out", str(out), "--folds", "2"])
    assert r.exit_code == 0, r.output
    m, head = load(out)
    assert m.threshold == SITE_THRESHOLD and m.base_.threshold == "auto"
    assert head["params"]["threshold"] == SITE_THRESHOLD


# ------------------------------------------------------------ the gate

def _as_the_base_keeps(site_pages, base) -> list[dict]:
    """The site's pages labelled with what the base model keeps: the base is right on
    every page, so a site model can at best tie with it."""
    recs = [_record(f"p{k}", h, g) for k, (h, g) in enumerate(site_pages)]
    data, _ = labelled_pages(recs)
    pred = data.texts_at(base.decision_scores(data.X), base.threshold)
    for rec in recs:
        kept = set(pred[rec["id"]].split("\n"))
        for ln in rec["lines"]:
            if ln["label"] is not None:
                ln["label"] = int(ln["text"] in kept)
    return recs


def test_estimate_finds_the_gain_of_consistent_labels(site, base):
    data, _ = labelled_pages([_record(f"p{k}", h, g) for k, (h, g) in enumerate(site)])
    est = gate.estimate(base, data, k=6)
    assert est.k == 6 and est.n_pages == 6 and est.blend_f1.shape == (6, len(gate.BLENDS))
    assert est.beats_base and est.weight == est.weights[est.best] > 0
    # the About paragraph is boilerplate on every page: every held-out page gets better
    assert (est.diffs() > 0).all() and est.gain() > 0.02
    assert est.stderr() == pytest.approx(est.diffs().std(ddof=1) / np.sqrt(6))
    assert est.gain() == pytest.approx(est.blend_f1[:, est.best].mean() - est.base_f1.mean())
    d = est.as_dict()
    assert d["weight"] == est.weight and len(d["base_f1"]) == 6 and d["pages"] == data.ids
    assert "mean paired difference +" in est.summary()


def test_estimate_refuses_when_the_base_is_already_right(site, base):
    data, _ = labelled_pages(_as_the_base_keeps(site, base))
    est = gate.estimate(base, data, k=6)
    assert (est.base_f1 == 1.0).all()
    assert not est.beats_base and est.weight == 0.0 and est.gain() <= 0
    # a demanding margin refuses even a real gain
    ok, _ = labelled_pages([_record(f"p{k}", h, g) for k, (h, g) in enumerate(site)])
    assert not gate.estimate(base, ok, k=3, min_gain=1.0).beats_base


def test_estimate_needs_two_pages(site, base):
    data, _ = labelled_pages([_record("p0", *site[0])])
    with pytest.raises(ValueError, match="at least 2 labelled pages"):
        gate.estimate(base, data)


def test_cli_refuses_a_site_model_that_does_not_beat_the_base_unless_forced(site, base, tmp_path, tiny_models):
    lab = tmp_path / "labels.jsonl"
    write_labels(lab, _as_the_base_keeps(site, base))
    out = tmp_path / "site.npz"
    args = ["train", "--base", str(tiny_models[0]), "--add", str(lab), "--out", str(out), "--folds", "6"]
    r = runner.invoke(app, args)
    assert r.exit_code == 1, r.output
    last = r.output.strip().splitlines()[-1]
    assert last.startswith("no model written: the site model does not beat the base model") and "--force" in last
    assert "mean paired difference" in r.output and not out.exists()
    r = runner.invoke(app, args + ["--force"])
    assert r.exit_code == 0, r.output
    assert "written anyway (--force)" in r.output and out.exists()
    head = load(out)[1]
    assert head["site"]["gate"]["forced"] is True and head["site"]["gate"]["weight"] == 0.0
    assert head["estimator"]["weight"] == pytest.approx(6 / 7)  # the prior's blend, as asked
