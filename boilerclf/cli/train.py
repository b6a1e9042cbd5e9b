"""``boilerclf train``: train the models, or adapt a model to a site."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from boilerclf_training.dumps import DUMPERS

from boilerclf.cli.common import app, fail_usage, note_slow_path
from boilerclf.model.files import ModelError


@app.command(short_help="Train the models, or adapt a model to a new site.")
def train(
    datasets_root: Optional[Path] = typer.Argument(None, metavar="DATASETS_ROOT", help="Full training: a folder "
                                                   "of dataset folders, each as for 'boilerclf eval'. Not with "
                                                   "--base/--add."),
    out: Optional[Path] = typer.Option(None, help="Full training: the folder to write the model files and the "
                                       "model card (MODEL_CARD.md) to (default: models). With --add: the site "
                                       "model file to write, e.g. site.npz."),
    base: Optional[Path] = typer.Option(None, help="Site retraining: the model file to adapt (default: the HTML "
                                        "model shipped with boilerclf)."),
    add: list[Path] = typer.Option([], "--add", help="Site retraining: a labels file of the new site's pages, "
                                   "made with 'boilerclf label' and corrected with 'boilerclf review' "
                                   "(repeatable)."),
    unreviewed: bool = typer.Option(False, "--unreviewed", help="With --add: also learn from the pages not "
                                    "marked as reviewed."),
    folds: int = typer.Option(5, help="With --add: the F1 before and after is measured by cross-validation: the "
                              "labelled pages are split into this many groups, each scored by a model adapted "
                              "on the others."),
    prior_pages: float = typer.Option(1.0, help="With --add: how many labelled pages the base model's opinion "
                                      "is worth (0: learn from the labelled pages alone)."),
    force: bool = typer.Option(False, "--force", help="With --add: write the site model even when "
                               "cross-validation over the labelled pages says it does not beat the base model "
                               "(or cannot say: one labelled page)."),
    site_profile: Optional[Path] = typer.Option(None, "--site-profile", help="With --add: also report the "
                                                "cross-validated F1 with this site profile (from 'boilerclf "
                                                "profile') applied."),
    cache: Path = typer.Option(Path(".cache/lines"), help="Folder for the parsed pages and features, reused by "
                               "later runs."),
    sets: Optional[str] = typer.Option(None, help="Comma-separated names of the dataset folders to train on "
                                       "(default: every folder with a ground-truth.json)."),
    snippet_sets: Optional[str] = typer.Option(
        None, "--snippet-sets", help="Comma-separated dataset folders labelled only by snippets (a snippets.json "
        "of texts each page's output must or must not contain) whose snippet lines also train the HTML model "
        "(default: every such folder; 'none' for none)."),
    snippet_weight: Optional[float] = typer.Option(None, help="Weight in training of a line labelled by a "
                                                   "snippet (default 20: a snippet-labelled page then weighs "
                                                   "about as much as a page with a full main text)."),
    pseudo_peer: str = typer.Option("trafilatura", "--pseudo-peer", help="Another extractor whose output labels "
                                    "the other lines of the snippet-labelled folders: read from --peers-cache, or "
                                    "trafilatura run here when it is installed (pip install trafilatura); 'none' "
                                    "for none."),
    pseudo_weight: Optional[float] = typer.Option(None, help="Weight in training of a line labelled by "
                                                  "--pseudo-peer (default 1, as a line of a page with a full "
                                                  "main text)."),
    lodo: bool = typer.Option(True, "--lodo/--no-lodo", help="Score the models leave-one-dataset-out: for each "
                              "dataset folder, a model trained without it is scored on it (the model card's "
                              "scores on unseen sites). --no-lodo skips this (faster)."),
    peers_cache: Optional[Path] = typer.Option(None, help="Folder of other extractors' outputs: "
                                               "EXTRACTOR/DATASET.json, each {ID: {\"articleBody\": text}}."),
    max_lines: int = typer.Option(0, help="Subsample pages down to about this many training lines (0: all)."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Processes for parsing pages."),
    text_threshold: Optional[float] = typer.Option(
        None, help="Threshold shipped with the plain-text model, from 0 to 1 (default: the threshold or 'auto' "
        "of best leave-one-dataset-out F1, averaged over the dataset folders and the text dumpers; the model "
        "card lists the scores at every threshold)."),
    card_notes: Optional[Path] = typer.Option(None, "--card-notes", help="A Markdown file appended to the model "
                                              "card (MODEL_CARD.md)."),
    modes: str = typer.Option("html,text", "--modes", help="Full training: the models to train, 'html', 'text' "
                              "or both (comma-separated)."),
    dumpers: str = typer.Option(",".join(DUMPERS), "--dumpers", help="Full training: the HTML-to-text "
                                "tools whose whole-page dumps train and score the plain-text model "
                                "(comma-separated; each needs its package: pip install -e '.[train]')."),
) -> None:
    """Train the HTML and plain-text models, or adapt a model to a new site.

    Full training (DATASETS_ROOT): train on folders of pages with known main
    texts, score the models leave-one-dataset-out (each folder scored by a
    model trained without it), and write the model files and the model card
    (MODEL_CARD.md, which reports those scores) to --out.

    Site retraining (--add, optionally --base): adapt a model to a new site
    from a few labelled pages.  Cross-validation over the labelled pages
    measures the F1 of the base model and of the site model on pages they
    did not learn from, chooses how much the site model's score weighs, and
    prints the gain with its standard error; a model file that loads
    anywhere a model loads (--model, boilerclf.load_model) is written only
    when the site model beats the base model, or with --force.  Exit code 1
    (nothing written) when it does not.
    """
    if base is not None or add:
        from boilerclf.labels.file import LabelsError

        try:
            from boilerclf.retrain.site import NoGain, train_site
        except ImportError as e:  # scikit-learn: the train extra
            fail_usage(str(e))

        if datasets_root is not None:
            fail_usage("give either DATASETS_ROOT (full training) or --base/--add (site retraining), not both")
        if not add:
            fail_usage("--base needs --add LABELS.jsonl (the new site's labelled pages)")
        if out is None or out.is_dir():
            fail_usage("with --base/--add, --out names the site model file to write, e.g. --out site.npz")
        if folds < 2:
            fail_usage("--folds must be at least 2")
        note_slow_path()
        for p in add:
            if not p.is_file():
                fail_usage(f"labels file not found: {p}")
        from boilerclf.decide.profile import SiteProfile

        try:
            prof = SiteProfile.load(site_profile) if site_profile is not None else None
            train_site(base, add, out, unreviewed=unreviewed, folds=folds, prior_pages=prior_pages,
                       profile=prof, force=force, log=lambda s: typer.echo(s, err=True))
        except NoGain as e:
            typer.echo(str(e), err=True)
            raise typer.Exit(1) from None
        except (ModelError, LabelsError, ValueError, OSError) as e:
            fail_usage(str(e))
        return
    if datasets_root is None:
        fail_usage("give DATASETS_ROOT (full training) or --base/--add (site retraining)")
    mode_list = [m.strip() for m in modes.split(",") if m.strip()]
    if not mode_list or set(mode_list) - {"html", "text"}:
        fail_usage(f"--modes must be html, text or html,text, not {modes!r}")
    if text_threshold is not None and not 0 <= text_threshold <= 1:  # also NaN
        fail_usage(f"--text-threshold must be a number from 0 to 1, not {text_threshold}")
    from boilerclf_training import dumps as dumps_mod

    dumper_list = [d.strip() for d in dumpers.split(",") if d.strip()]
    try:
        found = dumps_mod.available(dumper_list)
    except ValueError as e:
        fail_usage(f"--dumpers: {e}")
    if "text" in mode_list and (not dumper_list or found != dumper_list):
        missing = [d for d in dumper_list if d not in found]
        fail_usage(f"--dumpers: {', '.join(missing) or 'none given'}: "
                   + ("package not installed (pip install -e '.[train]')" if missing else "give at least one"))
    if card_notes is not None and not card_notes.is_file():
        fail_usage(f"--card-notes: file not found: {card_notes}")  # before, not after, a long training
    try:
        from boilerclf_training import card, datasets
        from boilerclf_training import train as tr
    except ImportError as e:  # scikit-learn: the train extra
        fail_usage(str(e))

    note_slow_path()
    out = out or Path("models")
    names = None if snippet_sets is None else [
        n for n in (x.strip() for x in snippet_sets.split(",")) if n and n.lower() != "none"]
    try:  # before, not after, a long training
        names = datasets.resolve_snippet_sets(datasets_root, names)
    except ValueError as e:
        fail_usage(f"--snippet-sets: {e}")
    peer = None if pseudo_peer.strip().lower() in ("", "none") else pseudo_peer.strip()
    why = tr.peer_output_missing(names, peers_cache, peer) if peer else None
    if why:  # before, not after, a long training
        fail_usage(f"--pseudo-peer {peer}: {why}; or --pseudo-peer none")
    report = tr.run(datasets_root, out, cache_dir=cache,
                    train_sets=sets.split(",") if sets else None, lodo=lodo,
                    snippet_sets=names, pseudo_peer=peer,
                    **({} if snippet_weight is None else {"snippet_weight": snippet_weight}),
                    **({} if pseudo_weight is None else {"pseudo_weight": pseudo_weight}),
                    peers_cache=peers_cache, max_lines=max_lines, n_jobs=jobs,
                    thresholds={"text": text_threshold} if text_threshold is not None else None,
                    log=lambda s: typer.echo(s, err=True), modes=tuple(mode_list), dumpers=tuple(dumper_list))
    if card_notes is not None:
        report["extra_md"] = card_notes.read_text(encoding="utf-8")
    card.write(out, report)
    typer.echo(f"wrote {out}/MODEL_CARD.md")
