"""Site profiles: the lines that repeat across the pages of one site.

Menus, footers, "Most read" lists and share bars come back on every page of a
site, while an article's text appears on one page only.  A :class:`SiteProfile`
is learned from unlabelled pages of one site: for every normalised line text
(lower-cased, digits folded to ``0``, whitespace collapsed; stored as a 64-bit
hash) it counts the pages that contain it.  A line's *site share* is that count
over the number of pages.

The profile is applied after any model, as an override: a line seen on at
least ``min_share`` of the site's pages (and on at least two pages) has its
score multiplied by ``1 - share``, so a line on every page is dropped and a
line on half of them is damped.  A line the profile never saw keeps its score.

Profiles are small JSON files (only texts seen on two pages or more are kept)::

    {"format": "boilerclf-site-profile/1", "n_pages": 12, "min_share": 0.5,
     "counts": {"<16 hex digits>": 12, ...}}
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from boilerclf.parse.lines import Lines

FORMAT = "boilerclf-site-profile/1"
#: Default share of a site's pages a line must be on before the profile damps it.
MIN_SHARE = 0.5

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


class ProfileError(ValueError):
    """A site-profile file that cannot be used."""


def normalise(text: str) -> str:
    """The form under which lines are compared across pages."""
    return _SPACE.sub(" ", _DIGITS.sub("0", text.lower())).strip()


def line_keys(texts: Iterable[str]) -> list[str]:
    """64-bit hashes (16 hex digits) of the normalised line texts."""
    return [hashlib.blake2b(normalise(t).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
            for t in texts]


@dataclass
class SiteProfile:
    """Page counts of the repeated lines of one site (see module docstring).

    Parameters
    ----------
    n_pages : int
        Pages the profile was learned from.
    counts : dict
        Line hash (:func:`line_keys`) to the number of pages containing it.
    min_share : float
        Share of pages from which the override applies.
    """

    n_pages: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    min_share: float = MIN_SHARE

    @classmethod
    def from_pages(cls, pages: Iterable[Lines | list[str]], *, min_share: float = MIN_SHARE) -> SiteProfile:
        """Learn a profile from pages (:class:`~boilerclf.parse.lines.Lines` or lists of line texts)."""
        counts: Counter = Counter()
        n = 0
        for p in pages:
            texts = p.texts if isinstance(p, Lines) else p
            counts.update(set(line_keys(texts)))
            n += 1
        return cls(n, {k: c for k, c in counts.items() if c >= 2}, min_share)

    def share(self, texts: list[str]) -> np.ndarray:
        """Share of the site's pages holding each line (0 for lines seen on one page or none)."""
        if not self.n_pages:
            return np.zeros(len(texts))
        c = np.fromiter((self.counts.get(k, 0) for k in line_keys(texts)), dtype=np.float64,
                        count=len(texts))
        return np.minimum(c / self.n_pages, 1.0)

    def apply(self, scores: np.ndarray, texts: list[str]) -> np.ndarray:
        """Scores with the override applied: ``score * (1 - share)`` where the share
        is at least ``min_share``."""
        s = self.share(texts)
        hit = (s >= self.min_share) & (s > 0)
        out = np.asarray(scores, dtype=np.float64).copy()
        out[hit] *= 1.0 - s[hit]
        return out

    # -- files --------------------------------------------------------------
    def to_json(self) -> dict:
        return {"format": FORMAT, "n_pages": self.n_pages, "min_share": self.min_share,
                "counts": dict(sorted(self.counts.items()))}

    def save(self, path: str | Path) -> None:
        """Write the profile as JSON (atomically)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path) -> SiteProfile:
        """Read a profile file; raises :class:`ProfileError` with a clear message."""
        path = Path(path)
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ProfileError(f"site profile not found: {path}") from None
        except (OSError, ValueError) as e:
            raise ProfileError(f"cannot read site profile {path}: {e}") from None
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise ProfileError(f"{path} is not a boilerclf site profile ({FORMAT})")
        try:
            prof = cls(int(obj["n_pages"]), {str(k): int(v) for k, v in obj["counts"].items()},
                       float(obj.get("min_share", MIN_SHARE)))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ProfileError(f"malformed site profile {path}: {e!r}") from None
        if prof.n_pages < 0 or not 0 < prof.min_share <= 1:
            raise ProfileError(f"malformed site profile {path}: n_pages {prof.n_pages}, "
                               f"min_share {prof.min_share}")
        return prof


def load_profile(profile: str | Path | SiteProfile | None) -> SiteProfile | None:
    """A profile from a path, or the profile itself (None stays None)."""
    if profile is None or isinstance(profile, SiteProfile):
        return profile
    return SiteProfile.load(profile)
