"""An exact, vectorised stand-in for scikit-learn's weighted bin thresholds (benchmark speed only).

scikit-learn 1.9's ``HistGradientBoostingClassifier`` bins each feature of
a weighted fit with one ``_weighted_percentile`` call per bin edge (254 per
feature, each sorting the column): about 90 % of the time of a site model's
fit on a few labelled pages (a :class:`~boilerclf.model.site.SiteModel` fits
with per-page weights).  :func:`patch` swaps that loop for one vectorised
pass that computes the same thresholds (same sort, same cumulative sums,
same comparisons; :func:`self_check` compares them on random columns and
the patch is refused if one differs), so the models and every F1 are the
same, about 5 times faster in ``benchmarks/retrain.py``.
"""
import inspect

import numpy as np
from sklearn.ensemble._hist_gradient_boosting import binning as _binning
from sklearn.utils._array_api import _find_matching_floating_dtype, get_namespace_and_device


def weighted_percentiles(array, sample_weight, percentile_rank):
    """sklearn.utils.stats._weighted_percentile(array, sample_weight, ranks, average=True)
    for a 1D array and a 1D array of ranks, the loop over the ranks vectorised."""
    xp, _, device = get_namespace_and_device(array)
    dt = _find_matching_floating_dtype(array, xp=xp)
    a = np.asarray(xp.asarray(array, dtype=dt, device=device))
    w = np.asarray(xp.asarray(sample_weight, dtype=dt, device=device))
    ranks = np.asarray(xp.asarray(percentile_rank, dtype=dt, device=device))
    if np.all(w == 0):
        return np.nan
    sorted_idx = np.asarray(xp.argsort(xp.reshape(xp.asarray(a), (-1, 1)), axis=0, stable=False))[:, 0]
    sw = w[sorted_idx]
    if np.isnan(a[sorted_idx[-1]]):
        sw[np.isnan(a[sorted_idx])] = 0
    cdf = np.asarray(xp.cumulative_sum(xp.asarray(sw.reshape(1, -1)), axis=1))[0]
    adj = ranks / 100 * cdf[-1]
    zero = adj == 0
    adj[zero] = np.nextafter(adj[zero], adj[zero] + 1)
    idx = np.clip(np.searchsorted(cdf, adj), 0, len(a) - 1)
    pin = sorted_idx[idx]
    above = (cdf[idx] - adj) > np.finfo(dt).eps
    plus = sorted_idx[np.clip(idx + 1, 0, len(a) - 1)]
    for j in np.flatnonzero(w[plus] == 0):
        nxt = np.searchsorted(cdf, cdf[idx[j]], side="right")
        plus[j] = sorted_idx[idx[j] if nxt > len(a) - 1 else nxt]
    return np.where(above, a[pin], (a[pin] + a[plus]) / 2)


_SLOW = """        bin_thresholds = np.array(
            [
                _weighted_percentile(col_data, sample_weight, percentile, average=True)
                for percentile in percentiles
            ]
        )"""
_FAST = "        bin_thresholds = np.asarray(_fast_weighted_percentiles(col_data, sample_weight, percentiles))"


def self_check(fast, slow, trials: int = 24) -> bool:
    """Whether ``fast`` gives exactly ``slow``'s thresholds on random weighted columns
    (continuous, integer, rounded, few distinct values; NaNs and zero weights)."""
    rng = np.random.default_rng(0)
    for t in range(trials):
        n = int(rng.integers(300, 4000))
        x = (rng.normal(size=n), rng.integers(0, 300 + t, n).astype(float),
             np.round(rng.exponential(size=n), 2), rng.choice(rng.normal(size=400), n))[t % 4]
        if t % 5 == 0:
            x[rng.random(n) < 0.1] = np.nan
        w = rng.choice([0.0, 1 / 3, 0.1, 1.0, 2.5, 1 / 7], size=n)
        a, b = slow(x, 255, w), fast(x, 255, w)
        if a.shape != b.shape or not np.array_equal(a, b):
            return False
    return True


def patch() -> bool:
    """Make sklearn's weighted binning use :func:`weighted_percentiles`; False (and
    nothing changed) if its code is not the one known or the self-check fails."""
    slow = _binning._find_binning_thresholds
    src = inspect.getsource(slow)
    if _SLOW not in src:
        return False
    ns = dict(vars(_binning), _fast_weighted_percentiles=weighted_percentiles)
    exec(compile(src.replace(_SLOW, _FAST), _binning.__file__, "exec"), ns)
    fast = ns["_find_binning_thresholds"]
    if not self_check(fast, slow):
        return False
    _binning._find_binning_thresholds = fast
    return True
