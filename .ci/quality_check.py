"""Quality regression check for CI: the shipped HTML model on a fixed sample of
each shared dataset with full gold must stay at or above the pinned F1 floors
(.ci/quality_floors.json), and the text model with the "precision" preset must clean
shared/examples/*.txt (its default, auto, is shown beside it).
The shipped model was trained on these sets, so the
numbers are not LODO scores (see models/MODEL_CARD.md for those): they guard
against regressions in decoding, lines, features and the predictor.

    python .ci/quality_check.py ../shared/datasets [--update]
"""
import json
import sys
from pathlib import Path

from boilerclf_training import datasets

from boilerclf import Extractor, metrics

SAMPLE = 40  # first pages by id of each set
MARGIN = 0.02


def _reference(root: Path):
    """shared/tools/score.py as a module, if it is there."""
    path = root.parent / "tools" / "score.py"
    if not path.exists():
        return None
    import importlib.util

    spec = importlib.util.spec_from_file_location("score", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> int:
    root = Path(sys.argv[1])
    update = "--update" in sys.argv
    floors_path = Path(__file__).with_name("quality_floors.json")
    floors = json.loads(floors_path.read_text()) if floors_path.exists() else {}
    plain, titled = Extractor(), Extractor(include_title=True)
    failed = []
    new = {}
    for name in datasets.gold_sets(root):
        gold_all = datasets.load_gold(root / name)
        ids = [i for i in datasets.page_ids(root / name) if i in gold_all][:SAMPLE]
        ex = titled if datasets.headline_kept(name) else plain  # each set's gold convention
        pred = dict(zip(ids, ex.extract_many((datasets.read_html(root / name, i) for i in ids), kind="html")))
        gold = {i: gold_all[i].get("articleBody") or "" for i in ids}
        f1 = metrics.evaluate(gold, pred)["f1"]
        ref = _reference(root)
        if ref is not None:  # boilerclf's metric must agree with shared/tools/score.py
            r = ref.evaluate({k: {"articleBody": v} for k, v in gold.items()},
                             {k: {"articleBody": v} for k, v in pred.items()}, n_bootstrap=0)
            if abs(r["f1"] - f1) > 1e-9:
                print(f"metric disagrees with score.py on {name}: {f1} vs {r['f1']}")
                failed.append(name + " (metric)")
        new[name] = round(f1 - MARGIN, 3)
        floor = floors.get(name)
        status = "ok" if floor is None or f1 >= floor else "BELOW FLOOR"
        print(f"quality {name:28s} F1 {f1:.3f}  floor {floor}  {status}")
        if floor is not None and f1 < floor:
            failed.append(name)
    # the text model's default (auto) keeps the related headlines after "See also:" of one example:
    # shown, not failed; the precision preset must clean all four, the default the other three
    for name in check_examples(root.parent / "examples", plain, shown_only={"002_e2568c79fe3e25d2.txt"}):
        failed.append(name + " (default)")
    failed += check_examples(root.parent / "examples", Extractor(threshold="precision"))
    if update:
        floors_path.write_text(json.dumps(new, indent=2, sort_keys=True) + "\n")
        print(f"wrote {floors_path}")
    if failed:
        print(f"quality regression on: {', '.join(failed)}")
        return 1
    return 0


#: Boilerplate of shared/examples/*.txt that the text model must drop (issue "The core"):
#: "See also" lines, related stories, the author's name and bio, the comment form.
EXAMPLE_BOILERPLATE = {
    "002_e2568c79fe3e25d2.txt": ["See also", "Chinese solar panel maker shares rise", "Jim Pollard",
                                 "Leave a Reply", "Your email address will not be published"],
    "003_4cf5dc53a0aa51c5.txt": ["Mia Noles", "Please enter your comment", "Please enter your name",
                                 "uses Akismet"],
    "000_ae61234e9307ca4b.txt": ["Related Articles", "Newsletter", "Oil Prices Decline Amid Rising"],
}


def check_examples(examples: Path, ex, shown_only: frozenset | set = frozenset()) -> list[str]:
    """The examples where ``ex`` loses one of the five longest article lines or keeps listed boilerplate
    (those named in ``shown_only`` are printed, not returned)."""
    failed = []
    for path in sorted(examples.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        out = ex.extract(text, "text")
        marks = EXAMPLE_BOILERPLATE.get(path.name, [])
        kept = {" ".join(ln.split()) for ln in out.split("\n")}
        body = [" ".join(ln.split()) for ln in text.split("\n")]
        body = sorted((ln for ln in body if len(ln) > 200 and not any(m in ln for m in marks)), key=len)[-5:]
        lost = [ln[:50] for ln in body if ln not in kept]
        left = [m for m in marks if m in out]
        status = "ok" if not lost and not left else "shown, not failed" if path.name in shown_only else "FAILED"
        print(f"example {path.name:28s} ({ex.threshold or 'default'}) {len(kept)} lines kept; article lines lost: {lost or 0}; "
              f"boilerplate left: {left or 0}  {status}")
        if status == "FAILED":
            failed.append(path.name)
    return failed


if __name__ == "__main__":
    sys.exit(main())
