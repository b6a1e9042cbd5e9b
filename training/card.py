"""Write ``models/MODEL_CARD.md`` and ``models/digests.json`` from a training report."""
from __future__ import annotations

import itertools
import json
from pathlib import Path

from boilerclf.decide import decision
from boilerclf.model.classifier import LineClassifier
from boilerclf.model.files import load, sha256
from boilerclf.pipeline import PRESETS

from .datasets import LICENCES, headline_kept
from .dumps import in_order
from .train import MIN_PAGES_FOR_THRESHOLD


def _cell(m: dict | None) -> str:
    if not m:
        return "– | – | –"
    return " | ".join("–" if m.get(k) is None or m[k] != m[k] else f"{m[k]:.3f}" for k in ("precision", "recall", "f1"))


def _git_commit() -> str:
    import subprocess

    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _file_header(path: Path) -> dict:
    """The header of a shipped model file (for a card rebuilt from a slim report)."""
    if not path.exists():
        return {}
    return load(path)[1]


#: The sets of today's pages whose macro decides (with trafilatura_eval's snippets).
MODERN_SETS = ("wcxb_dev", "tiptopjaw_wceb2026_llm", "webmainbench_sample")


def _modern_section(report: dict, lodo: dict) -> list[str]:
    """The card's table of modern pages: k-fold where the shipped model trains
    on the set, LODO otherwise, and their macro against trafilatura's."""
    kfold = report.get("kfold") or {}
    rows, ours, traf = [], [], []
    for s in MODERN_SETS:
        v = lodo.get(s) or {}
        k = (kfold.get(s) or {}).get("html")
        m = k or v.get("html")
        if m is None:
            continue
        how = (f"{kfold[s]['folds']['k']}-fold by {kfold[s]['folds']['group']}" if k else "LODO")
        rows.append(f"| {s} | {how} | {_cell(m)} | {_cell(v.get('trafilatura'))} |")
        if v.get("trafilatura"):
            ours.append(m["f1"])
            traf.append(v["trafilatura"]["f1"])
    if not rows:
        return []
    out = ["", "## Modern pages", "",
           "Pages of 2019-2026 (wcxb_dev: seven page types), HTML model at its threshold; where the "
           "shipped model trains on a set, each fold of its sites is scored by a model trained on every "
           "other set and the other folds (sites never split across folds).", "",
           "| set | held out by | P | R | F1 | trafilatura P | R | F1 |", "|---|---|---|---|---|---|---|---|",
           *rows]
    if ours:
        out.append(f"| **modern macro** | | | | **{sum(ours) / len(ours):.3f}** | | | "
                   f"**{sum(traf) / len(traf):.3f}** |")
    return out


def _text_section(lodo: dict, text_thr, kfold: dict | None = None) -> list[str]:
    """The card's table of the plain-text model on whole-page dumps, per set
    and dumper, against keeping every line and the HTML model on the same pages
    (and the rows of the sets also scored by site-grouped k-fold, ``kfold``)."""
    sets = [s for s, v in sorted(lodo.items()) if v.get("text_dumpers")]
    if not sets:
        return []
    dumpers = in_order(lodo[sets[0]]["text_dumpers"])
    out = ["", "## Plain text: whole-page dumps", "",
           "The plain-text model is trained on whole-page text dumps of the same pages, each page dumped by "
           "one of the tools below chosen at random (`training/dumps.py`), and scored leave-one-dataset-out "
           f"on every tool's dump of the held-out set, at its threshold {text_thr}: shingle F1, with keeping "
           "every line of the dump in brackets, and the HTML model on the same pages (LODO, the headline "
           "left to the model in text mode).", "",
           "| set | " + " | ".join(dumpers) + " | HTML model |", "|---|" + "---|" * (len(dumpers) + 1)]
    cols: dict[str, list[float]] = {d: [] for d in dumpers + ["html"]}
    for s in sets:
        v = lodo[s]
        cells = []
        for d in dumpers:
            m, a = v["text_dumpers"].get(d), (v.get("text_keep_all") or {}).get(d)
            cells.append(f"{m['f1']:.3f} ({a['f1']:.3f})" if m and a else "–")
            if m:
                cols[d].append(m["f1"])
        h = v.get("html")
        if h:
            cols["html"].append(h["f1"])
        out.append(f"| {s} | " + " | ".join(cells) + (f" | {h['f1']:.3f} |" if h else " | – |"))
    out.append("| **macro** | " + " | ".join(f"**{sum(cols[d]) / len(cols[d]):.3f}**" if cols[d] else "–"
                                           for d in dumpers + ["html"]) + " |")
    for s, v in sorted((kfold or {}).items()):
        if not v.get("text_dumpers"):
            continue
        cells = []
        for d in dumpers:
            m, a = v["text_dumpers"].get(d), (v.get("text_keep_all") or {}).get(d)
            cells.append(f"{m['f1']:.3f} ({a['f1']:.3f})" if m and a else "–")
        h = v.get("html")
        how = f"{v['folds']['k']}-fold by {v['folds']['group']}" if v.get("folds") else "k-fold"
        out.append(f"| {s} ({how}) | " + " | ".join(cells) + (f" | {h['f1']:.3f} |" if h else " | – |"))
    if any((v or {}).get("text_dumpers") for v in (kfold or {}).values()):
        out += ["", "The k-fold rows: the shipped models train on that set, so it is scored as it is for HTML, "
                "each fold by models trained on every other set and the set's other folds (sites never split)."]
    return out


def merge(base: dict, new: dict, mode: str) -> dict:
    """A report of two training runs: ``base``'s, with everything of ``mode``
    (per-set scores, threshold, header, k-fold) taken from ``new``, the run that
    retrained that mode only; ``commits`` records each mode's commit."""
    out = json.loads(json.dumps(base, default=str))
    for part in ("lodo", "kfold"):
        for s, v in (new.get(part) or {}).items():
            row = out.setdefault(part, {}).setdefault(s, {})
            for k in [k for k in row if k == mode or k.startswith(mode + "_")]:
                del row[k]
            row.update({k: x for k, x in v.items() if k == mode or k.startswith(mode + "_") or k == "folds"})
    if (new.get("thresholds") or {}).get(mode):
        out.setdefault("thresholds", {})[mode] = new["thresholds"][mode]
    if new.get(f"{mode}_header"):
        out[f"{mode}_header"] = new[f"{mode}_header"]
    commits = out.setdefault("commits", {})
    commits.setdefault("html" if mode == "text" else "text", base.get("commit"))
    commits[mode] = new.get("commit")
    out.pop("note", None)
    return out


def metadata_section(out_dir: Path) -> list[str]:
    """The page-metadata section: the first table of ``benchmarks/METADATA.md``
    (``benchmarks/metadata.py``), when it is beside the models directory."""
    path = out_dir.resolve().parent / "benchmarks" / "METADATA.md"
    if not path.is_file():
        return []
    text = path.read_text().splitlines()
    table = [ln for ln in itertools.takewhile(lambda ln: ln.startswith("|"),
                                              itertools.dropwhile(lambda ln: not ln.startswith("| field"), text))]
    if not table:
        return []
    return ["", "## Page metadata", "",
            "`Result.metadata` (title, author, date, site name, language, address; "
            "`boilerclf/parse/metadata.py`) against wcxb_dev's gold, beside trafilatura's metadata: the share "
            "of pages with a gold value where the prediction matches (`benchmarks/METADATA.md` has the "
            "matching rules, per page type, and where it is behind; these rules were written on this set).",
            "", *table]


def _pagetype_section(out_dir: Path) -> list[str]:
    """The page-type model's section, from ``pagetype_report.json`` beside it."""
    path = out_dir / "pagetype_report.json"
    if not path.is_file():
        return []
    r = json.loads(path.read_text())
    out = ["", "## Page type", "",
           f"`pagetype.npz` (`boilerclf/model/pagetype.py`, made by `python -m boilerclf_training.pagetype "
           f"DATASETS --out models`): a logistic regression over page vectors "
           f"(`boilerclf/features/page.py`: the page's mean line features, its `og:type`, JSON-LD types and "
           f"address words), trained on the {r['pages']} typed pages of {', '.join(r['sets'])}. "
           f"{r['k']}-fold by site: accuracy {r['accuracy']:.3f} (the most frequent type alone: "
           f"{r['majority']:.3f}).", "",
           "| type | pages | recall | precision |", "|---|---|---|---|"]
    for t, v in sorted(r["per_type"].items(), key=lambda kv: -kv[1]["pages"]):
        out.append(f"| {t} | {v['pages']} | {v['recall']:.2f} | {v['precision']:.2f} |")
    return out


def write(out_dir: str | Path, report: dict) -> None:
    out_dir = Path(out_dir)
    digests = {p.name: sha256(p) for p in sorted(out_dir.glob("*.npz"))}
    slim = {k: v for k, v in report.items() if not k.endswith("_header") and k != "extra_md"}
    (out_dir / "training_report.json").write_text(json.dumps(slim, indent=1, sort_keys=True, default=str) + "\n")
    (out_dir / "digests.json").write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n")
    head = report.get("html_header") or _file_header(out_dir / "boilerclf-html.npz")
    text_head = report.get("text_header") or _file_header(out_dir / "boilerclf-text.npz")
    # the code that trained the models: recorded in the report, else this checkout's
    commit = report.get("commit") or _git_commit()
    if report.get("commits"):
        commit = ", ".join(f"{c} ({m} model)" for m, c in sorted(report["commits"].items()))
    lines = [
        "# boilerclf model card",
        "",
        f"Generated by `boilerclf train` (code: `training/` at commit {commit}, features schema "
        f"{head.get('schema_version')}, scikit-learn {head.get('sklearn_version')}, "
        f"trained {head.get('trained')}).",
        "",
        "## Models",
        "",
        "| file | input | size | sha256 |",
        "|---|---|---|---|",
    ]
    for name, dig in digests.items():
        size = (out_dir / name).stat().st_size / 1e6
        kind = "HTML" if "html" in name else "page type" if "pagetype" in name else "plain text"
        lines.append(f"| `{name}` | {kind} | {size:.1f} MB | `{dig[:16]}…` |")
    lines += [
        "",
        "Two-stage `LineClassifier`: stage 1 HistGradientBoosting over the line features "
        "(`boilerclf/features/table.py`), stage 2 the same over stage-1 scores of neighbours and "
        "container votes, trained on out-of-fold stage-1 scores. Pages are balanced by "
        f"fitting on at most {LineClassifier().max_lines_per_page} random lines per page "
        "(`max_lines_per_page`).",
        "",
        f"Parameters: `{json.dumps(report.get('params') or {})}`" if report.get("params")
        else "Parameters: the defaults of `LineClassifier` (`boilerclf/model/classifier.py`).",
        "",
        "## Training data",
        "",
        "| set | licence as stated |",
        "|---|---|",
    ]
    for s in report.get("train_sets", []):
        lines.append(f"| {s} | {LICENCES.get(s, 'see SOURCE.md')} |")
    snip = report.get("snippet_sets") or {}
    for s in snip.get("sets", []):
        lines.append(f"| {s} (snippets, HTML model only) | {LICENCES.get(s, 'see SOURCE.md')} |")
    pseudo = snip.get("pseudo_labels")
    if snip.get("sets"):
        others = ("give context only" if not pseudo else
                  f"are labelled by {pseudo['peer']}'s output on the page (pseudo labels: a line is content "
                  f"when that output covers half its words or more, as a gold text does; "
                  f"`training/build.py:pseudo_labelled`), at weight {pseudo['weight']} per line ("
                  + ", ".join(f"{n}: {k} lines" for n, k in pseudo["lines"].items()) + ")")
        lines += [
            "",
            f"The lines of {', '.join(snip['sets'])} that hold a snippet (text a page's output must or "
            "must not contain) train the HTML model too, as content or boilerplate, at weight "
            f"{snip.get('weight')} per line (`boilerclf/labels/gold.py:snippet_labels`); the other lines of "
            f"those pages {others}. They are in every LODO fold below; they are not scored "
            "with the shingle metric (no full gold).",
        ]
    for s, v in sorted((report.get("snippets") or {}).items()):
        lines += ["", f"Snippet accuracy on {s}, {v['mode'].upper()} model trained without it (the "
                  f"gold sets and any other snippet set): {v['snippet_accuracy']:.4f} "
                  f"over {v['n_snippets']} snippets."]
    lodo = report.get("lodo") or {}
    if lodo:
        lines += [
            "",
            "## Leave-one-dataset-out scores",
            "",
            "Each row: a model trained on the other sets only, scored on this set with the "
            "benchmark's shingle metric (`boilerclf.metrics`), html columns at the HTML model's "
            f"threshold {head.get('params', {}).get('threshold', 0.5)}, text columns (text renderings of "
            f"the same pages) at the text model's threshold "
            f"{text_head.get('params', {}).get('threshold', 0.5)}; trafilatura "
            "2.3.1 (default settings) on the same pages beside it.",
            "",
            "| set | html P | html R | html F1 | text P | text R | text F1 | trafilatura P | R | F1 |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        f_ours, f_traf = [], []
        for s, v in sorted(lodo.items()):
            lines.append(f"| {s} | {_cell(v.get('html'))} | {_cell(v.get('text'))} | "
                         f"{_cell(v.get('trafilatura'))} |")
            if v.get("html") and v.get("trafilatura"):
                f_ours.append(v["html"]["f1"])
                f_traf.append(v["trafilatura"]["f1"])
        if f_ours:
            lines.append(f"| **macro** | | | **{sum(f_ours) / len(f_ours):.3f}** | | | | | | "
                         f"**{sum(f_traf) / len(f_traf):.3f}** |")
        lines += ["", "Each set is scored with its gold's headline convention: the sets whose gold starts "
                  "with the page's headline (" + ", ".join(sorted(s for s in lodo if headline_kept(s)))
                  + ") with `include_title=True`, the others with the library's default, the body "
                  "without it (`training/datasets.py:HEADLINE_IN_GOLD`)."]
    lines += _modern_section(report, lodo)
    lines += _text_section(lodo, text_head.get("params", {}).get("threshold", 0.5), report.get("kfold"))
    if report.get("note"):
        lines += ["", f"Note: {report['note']}."]
    thr = (report.get("thresholds") or {}).get("html")
    if thr and thr.get("macro_f1"):
        lines += [
            "",
            f"The HTML model's threshold, {thr['best']}, is the one with the best macro LODO F1 "
            f"over the sets of at least {MIN_PAGES_FOR_THRESHOLD} pages "
            f"({', '.join(thr.get('voters') or lodo)}; one rule for all sets; per-set scores "
            "above are at it). A number is a fixed score threshold; `auto` chooses each page's "
            "threshold from the page's own scores (`boilerclf/decide/decision.py`).",
            "",
            "## Thresholds and presets (HTML model, LODO, macro over the sets above)",
            "",
            "| threshold | preset | macro precision | macro recall | macro F1 |",
            "|---|---|---|---|---|",
        ]
        preset = {str(d): name for name, d in PRESETS.items()}

        def order(t: str) -> tuple:  # numbers first, then "auto:K" by K
            d = decision.parse(t)
            return (1, d.recall_weight) if isinstance(d, decision.Auto) else (0, d)

        for t, f1 in sorted(thr["macro_f1"].items(), key=lambda kv: order(str(kv[0]))):
            per = [v["html_by_threshold"][str(t)] for v in lodo.values() if "html_by_threshold" in v]
            p = sum(m["precision"] for m in per) / len(per)
            r = sum(m["recall"] for m in per) / len(per)
            lines.append(f"| {t} | {preset.get(str(t), '')} | {p:.3f} | {r:.3f} | {f1:.3f} |")
    lines += _pagetype_section(out_dir)
    lines += metadata_section(out_dir)
    if report.get("extra_md"):
        lines += ["", report["extra_md"].strip()]
    (out_dir / "MODEL_CARD.md").write_text("\n".join(lines) + "\n")
