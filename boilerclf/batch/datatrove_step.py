"""A datatrove pipeline step: boilerclf where datatrove's trafilatura step goes.

``Boilerclf`` takes the place of ``datatrove.pipeline.extractors.Trafilatura``
in a pipeline (reader -> extractor -> filters -> writer): it reads each
document's ``text`` (the page's HTML), replaces it with the main text, drops
documents that come out empty, and keeps the same statistics (``total``,
``extracted``, ``timeout``, ``clean_error``, ``forwarded``, ``dropped``).
Unlike datatrove's per-document extractors it sends the documents through the
model in batches of ``batch_size`` (:meth:`boilerclf.Extractor.classify_lines`),
so the batched predictor is not wasted there.  ``timeout`` is the library's
per-page time budget (:class:`boilerclf.PageTimeout`); a page over it is
dropped and counted as ``timeout``, as datatrove's own step counts it.

Needs ``pip install 'boilerclf[datatrove]'``.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from datatrove.pipeline.extractors.base import BaseExtractor
from datatrove.utils.typeshelper import StatHints

from boilerclf.pipeline import Extractor, PageTimeout


class Boilerclf(BaseExtractor):
    """boilerclf as a datatrove extractor step (see the module docstring).

    ``timeout`` is seconds per document (default 1, as datatrove's steps);
    ``batch_size`` documents go through the model in one call; the other
    keyword arguments make the :class:`~boilerclf.Extractor` (``model``,
    ``threshold``, ``site_profile``, ``comments``...).
    """

    name = "🧹 boilerclf"
    _requires_dependencies = ["boilerclf"]

    def __init__(self, timeout: float = 1, batch_size: int = 64, **extractor_args):
        super().__init__(timeout)
        self.batch_size = max(1, int(batch_size))
        self.extractor = Extractor(**extractor_args)

    def extract(self, text: str) -> str:
        """The main text of one page (datatrove's per-document interface)."""
        return self.extractor.extract(text, timeout=self.timeout)

    def run(self, data: Iterable, rank: int = 0, world_size: int = 1) -> Iterator:
        """The documents of ``data`` with their main text, in order, empty ones dropped."""
        batch = []
        for doc in data:
            self.stat_update(StatHints.total)
            batch.append(doc)
            if len(batch) >= self.batch_size:
                yield from self._clean(batch)
                batch = []
        if batch:
            yield from self._clean(batch)

    def _clean(self, docs: list) -> Iterator:
        split = []
        with self.track_time(unit="batch"):
            for doc in docs:
                try:
                    split.append((doc, self.extractor.lines(doc.text, timeout=self.timeout)))
                except PageTimeout:
                    self.stat_update("timeout")
                except Exception:  # noqa: BLE001 - a bad page is skipped, as datatrove's step skips it
                    self.stat_update("clean_error")
            results = self.extractor.classify_lines([lines for _, lines in split])
        for (doc, _), result in zip(split, results):
            self.stat_update("extracted")
            doc.text = result.text
            if doc.text:
                self.stat_update(StatHints.forwarded)
                self.update_doc_stats(doc)
                yield doc
            else:
                self.stat_update(StatHints.dropped)
