"""scikit-learn, the training extra: imported only by the modules that fit models.

Prediction with a model file needs numpy and boilerclf's compiled code only;
fitting (:class:`~boilerclf.model.classifier.LineClassifier`, site models,
``boilerclf train``) needs scikit-learn, installed with ``boilerclf[train]``.
"""
from __future__ import annotations

#: How to install what fitting needs.
TRAIN_EXTRA = "pip install 'boilerclf[train]'"


def needs_sklearn(what: str, exc: ImportError) -> ImportError:
    """The error to raise (``from None``) when ``what`` cannot import scikit-learn:
    one line that names what needs it and how to install it."""
    err = ImportError(f"{what} needs scikit-learn, which cannot be imported here ({exc}): {TRAIN_EXTRA}")
    err.name = exc.name
    return err
