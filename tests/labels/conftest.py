"""Fixtures of the labelling tests: a labels file of two real-looking pages, and
review servers started in threads and stopped after the test."""
from __future__ import annotations

import pytest

from boilerclf.labels import file as labelsfile
from boilerclf.labels.review import Review, ReviewServer, serve_in_thread


@pytest.fixture
def labels_file(tmp_path, labels_records, lighthouse_html, rail_text):
    path = tmp_path / "labels.jsonl"
    labelsfile.write_labels(path, labels_records(lighthouse_html, rail_text))
    return path


@pytest.fixture
def serve():
    """``serve(review, host="127.0.0.1", **server_args)``: a running :class:`ReviewServer`."""
    servers = []

    def start(review: Review, host: str = "127.0.0.1", **kw) -> ReviewServer:
        server = ReviewServer(review, host, 0, **kw)
        serve_in_thread(server)
        servers.append(server)
        return server
    yield start
    for s in servers:
        s.shutdown()
        s.server_close()
