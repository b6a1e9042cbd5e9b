"""A model file's JSON header, checked before it is trusted: its text is
scanned for size, nesting and values before it is parsed, then every setting
is checked for type and range, so a hostile header is refused with the
setting named instead of loading a model that keeps nothing."""
from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

from boilerclf.decide import decision

#: Most bytes ``header.json`` may unpack to (the shipped headers are about 2 KB).
MAX_HEADER_BYTES = 1 << 20
#: Deepest nesting of lists and objects in a header (the shipped headers: 3).
MAX_HEADER_DEPTH = 32
#: Most values (about: containers plus commas) in a header.
MAX_HEADER_ITEMS = 100_000

_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.S)
_OPEN, _CLOSE = np.frombuffer(b"[{", np.uint8), np.frombuffer(b"]}", np.uint8)


def parse_header(raw: bytes) -> Any:
    """JSON text of a model header, checked before it is parsed: at most
    :data:`MAX_HEADER_BYTES` bytes, :data:`MAX_HEADER_DEPTH` levels of lists
    and objects, :data:`MAX_HEADER_ITEMS` values and 100-digit integers
    (``ValueError`` otherwise)."""
    if len(raw) > MAX_HEADER_BYTES:
        raise ValueError(f"more than {MAX_HEADER_BYTES} bytes")
    text = raw.decode("utf-8")
    shape = np.frombuffer(_JSON_STRING.sub("", text).encode("utf-8"), np.uint8)
    step = np.isin(shape, _OPEN).astype(np.int32) - np.isin(shape, _CLOSE)
    depth = int(np.cumsum(step).max(initial=0))
    if depth > MAX_HEADER_DEPTH:
        raise ValueError(f"nested {depth} levels deep (at most {MAX_HEADER_DEPTH})")
    items = int((step > 0).sum() + (shape == ord(",")).sum())
    if items > MAX_HEADER_ITEMS:
        raise ValueError(f"about {items} values (at most {MAX_HEADER_ITEMS})")
    return json.loads(text, parse_int=_parse_int)


def _parse_int(s: str) -> int:
    if len(s) > 100:
        raise ValueError(f"an integer of {len(s)} digits")
    return int(s)


# checks of the header's settings: each returns what a valid value is, or None when it is one
_MAX_INT = 2**31 - 1


def _number(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)


def unit(v: Any) -> str | None:
    return None if _number(v) and 0.0 <= v <= 1.0 else "a number in [0, 1]"


def _non_negative(v: Any) -> str | None:
    return None if _number(v) and 0.0 <= v <= 1e12 else "a finite number >= 0"


def _int_in(lo: int, hi: int = _MAX_INT, optional: bool = False):
    def check(v: Any) -> str | None:
        if optional and v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            return f"an integer in [{lo}, {hi}]" + (" or null" if optional else "")
        return None
    return check


def _flag(v: Any) -> str | None:
    return None if isinstance(v, bool) else "true or false"


def _threshold_spec(v: Any) -> str | None:
    try:
        d = decision.parse(v)
    except (ValueError, TypeError):
        d = None
    if d is None or (isinstance(d, float) and not 0.0 <= d <= 1.0):
        return 'a number in [0, 1], "auto" or "auto:<positive number>"'
    return None


LINE_CHECKS = {"context": _flag, "n_folds": _int_in(1), "max_lines_per_page": _int_in(0, optional=True),
                "threshold": _threshold_spec, "random_state": _int_in(0, 2**32 - 1, optional=True),
                "exit_trees": _int_in(0), "exit_score": unit, "cascade": unit, "max_iter": _int_in(1)}
def _unit_or_none(v: Any) -> str | None:
    return None if v is None or unit(v) is None else "a number in [0, 1] or null"


_SITE_CHECKS = {"threshold": _threshold_spec, "prior_pages": _non_negative, "weight": _unit_or_none,
                "balance_pages": _flag,
                "random_state": _int_in(0, 2**32 - 1, optional=True)}


def shown(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


def params_problem(where: str, params: Any, checks: dict) -> str | None:
    if params is None:
        return None
    if not isinstance(params, dict):
        return f"{where} must be an object, not {shown(params)}"
    for k, check in checks.items():
        if k in params:
            want = check(params[k])
            if want:
                return f"{where}.{k} must be {want}, not {shown(params[k])}"
    return None


def _estimator_problem(where: str, rec: Any) -> str | None:
    """A recorded stage estimator (used by ``clone``): null, unrecorded, or
    HistGradientBoostingClassifier parameters that scikit-learn accepts (checked
    by scikit-learn, imported for a header that records such parameters only;
    without scikit-learn they are not checked here, and nothing can use them)."""
    if rec is None:
        return None
    if not isinstance(rec, dict):
        return f"{where} must be an object or null, not {shown(rec)}"
    params = rec.get("HistGradientBoostingClassifier")
    if params is None:
        return None
    if not isinstance(params, dict):
        return f"{where}.HistGradientBoostingClassifier must be an object, not {shown(params)}"
    for k, v in params.items():
        if isinstance(v, float) and not math.isfinite(v):
            return f"{where}.HistGradientBoostingClassifier.{k} must be finite, not {v!r}"
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError:
        return None
    try:
        HistGradientBoostingClassifier(**params)._validate_params()
    except (TypeError, ValueError) as exc:
        return f"{where}.HistGradientBoostingClassifier: {str(exc).splitlines()[0]}"
    return None


def _line_problem(where: str, rec: Any) -> str | None:
    if not isinstance(rec, dict) or rec.get("class") != "LineClassifier":
        return f'{where}.class must be "LineClassifier"'
    return (params_problem(f"{where}.params", rec.get("params"), LINE_CHECKS)
            or _estimator_problem(f"{where}.estimator", rec.get("estimator"))
            or _estimator_problem(f"{where}.context_estimator", rec.get("context_estimator")))


def header_problem(head: dict) -> str | None:
    """What is wrong with the settings in a model header (a phrase naming
    the field), or None: every number a model uses must be finite and in its
    range (probabilities and score cut-offs in [0, 1], counts integers, the
    threshold a number in [0, 1] or "auto[:<positive number>]")."""
    for k in ("format_version", "schema_version", "n_features"):
        if k in head and (isinstance(head[k], bool) or not isinstance(head[k], int)):
            return f"{k} must be an integer, not {shown(head[k])}"
    rec = head.get("estimator")
    if not isinstance(rec, dict):
        return f"estimator must be an object, not {shown(rec)}"
    if rec.get("class") == "SiteModel":
        problem = (params_problem("estimator.params", rec.get("params"), _SITE_CHECKS)
                   or _estimator_problem("estimator.estimator", rec.get("estimator"))
                   or _line_problem("estimator.base", rec.get("base")))
        if problem:
            return problem
        if unit(rec.get("weight")):
            return f"estimator.weight (the site-model weight) must be a number in [0, 1], " \
                   f"not {shown(rec.get('weight'))}"
    elif rec.get("class") == "LineClassifier":
        problem = _line_problem("estimator", rec)
        if problem:
            return problem
    else:
        return f'estimator.class must be "LineClassifier" or "SiteModel", not {shown(rec.get("class"))}'
    # the training settings recorded beside the model (boilerclf train, train_site)
    return params_problem("params", head.get("params"), {**LINE_CHECKS, **_SITE_CHECKS})
