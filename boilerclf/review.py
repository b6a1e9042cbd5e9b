"""The review and labelling page: ``boilerclf review``.

A local web server (stdlib :mod:`http.server`, bound to 127.0.0.1 by default)
serves one self-contained page (``review.html``: no external assets) that
shows each page's lines in order, coloured by label, with the model's score.
Clicking a line flips its label; the page's JavaScript posts the labels of
the page back and the server rewrites the labels file atomically
(:func:`boilerclf.labelsfile.write_labels`).  Without a labels file (pages
given directly) the server is read-only and shows the model's predictions.

Endpoints (JSON)::

    GET  /                   the page
    GET  /api/state          {"file", "readonly", "pages": [summary, ...]}
    GET  /api/page?i=N       page N: id, url, kind, model, reviewed, lines
    POST /api/page?i=N       {"id": ..., "labels": [1, 0, null, ...]} -> summary;
                             the page is marked reviewed and the file saved

Requests whose Host header is not the server's own are refused (no DNS
rebinding), and a save needs ``Content-Type: application/json`` (so another
web site cannot post to it without a CORS preflight, which is never granted).
A save refuses (409) when the file was changed on disk by someone else since
it was read.
"""
from __future__ import annotations

import copy
import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .labelsfile import LabelsError, read_labels, validate, write_labels

MAX_BODY = 16 << 20
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Conflict(RuntimeError):
    """The labels file changed on disk since the review read it."""


def _stat_key(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def summary(rec: dict[str, Any]) -> dict[str, Any]:
    """Counts of one record, as shown in the page list."""
    labels = [ln["label"] for ln in rec["lines"]]
    return {"id": rec["id"], "url": rec["url"], "kind": rec["kind"], "model": rec["model"],
            "reviewed": rec["reviewed"], "n": len(labels), "content": labels.count(1),
            "boilerplate": labels.count(0), "unlabelled": labels.count(None)}


class Review:
    """The records under review and where they are saved (``path`` None: read-only)."""

    def __init__(self, records: list[dict[str, Any]], path: str | Path | None = None,
                 readonly: bool = False):
        self.records = records
        self.path = Path(path) if path is not None else None
        self.readonly = readonly or self.path is None
        self._lock = threading.Lock()
        self._disk = _stat_key(self.path) if self.path is not None and self.path.exists() else None

    @classmethod
    def open(cls, path: str | Path, readonly: bool = False) -> Review:
        """Review a labels file (raises :class:`LabelsError` / :class:`OSError`)."""
        return cls(read_labels(path), path, readonly)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"file": self.path.name if self.path else None, "readonly": self.readonly,
                    "pages": [summary(r) for r in self.records]}

    def page(self, i: int) -> dict[str, Any]:
        with self._lock:
            rec = self.records[i]
            out = {k: rec[k] for k in ("id", "url", "kind", "model", "reviewed", "lines")}
            out["index"] = i
            return copy.deepcopy(out)

    def save(self, i: int, page_id: str, labels: list) -> dict[str, Any]:
        """Set page ``i``'s labels, mark it reviewed and rewrite the file atomically.

        Raises :class:`PermissionError` when read-only, :class:`LabelsError` for
        labels that do not fit the page, :class:`Conflict` when the file changed on disk.
        """
        if self.readonly:
            raise PermissionError("read-only review: nothing is saved")
        with self._lock:
            rec = self.records[i]
            if page_id != rec["id"]:
                raise LabelsError(f"page {i} is {rec['id']!r}, not {page_id!r}")
            if not isinstance(labels, list) or len(labels) != len(rec["lines"]):
                raise LabelsError(f"page {rec['id']!r} has {len(rec['lines'])} lines; "
                                  f"got {len(labels) if isinstance(labels, list) else 'no'} labels")
            new = copy.deepcopy(rec)
            for ln, lab in zip(new["lines"], labels):
                ln["label"] = lab
            new["reviewed"] = True
            validate(new)
            assert self.path is not None
            if self._disk is not None and self.path.exists() and _stat_key(self.path) != self._disk:
                raise Conflict(f"{self.path} was changed on disk since the review read it; "
                               "restart boilerclf review to see the new file")
            records = self.records[:i] + [new] + self.records[i + 1:]
            write_labels(self.path, records)
            self.records = records
            self._disk = _stat_key(self.path)
            return summary(new)


def page_html() -> bytes:
    """The review page (HTML, CSS and JavaScript in one file)."""
    try:
        return (files("boilerclf") / "review.html").read_bytes()
    except (FileNotFoundError, ModuleNotFoundError):  # pragma: no cover - checkout without install
        return (Path(__file__).with_name("review.html")).read_bytes()


class _Handler(BaseHTTPRequestHandler):
    server: ReviewServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy",
                         "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                         "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass"),
                   "application/json; charset=utf-8")

    def _error(self, status: int, msg: str) -> None:
        self._json(status, {"error": msg})

    def _host_ok(self) -> bool:
        allowed = self.server.allowed_hosts
        return allowed is None or (self.headers.get("Host") or "").lower() in allowed

    def _index(self, query: dict) -> int | None:
        try:
            i = int(query["i"][0])
        except (KeyError, ValueError, IndexError):
            return None
        return i if 0 <= i < len(self.server.review.records) else None

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if not self._host_ok():
            return self._error(HTTPStatus.FORBIDDEN, "unexpected Host header")
        url = urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            return self._send(HTTPStatus.OK, page_html(), "text/html; charset=utf-8")
        if url.path == "/api/state":
            return self._json(HTTPStatus.OK, self.server.review.state())
        if url.path == "/api/page":
            i = self._index(parse_qs(url.query))
            if i is None:
                return self._error(HTTPStatus.NOT_FOUND, "no such page")
            return self._json(HTTPStatus.OK, self.server.review.page(i))
        return self._error(HTTPStatus.NOT_FOUND, "not found")

    def do_POST(self) -> None:  # noqa: N802
        if not self._host_ok():
            return self._error(HTTPStatus.FORBIDDEN, "unexpected Host header")
        url = urlsplit(self.path)
        if url.path != "/api/page":
            return self._error(HTTPStatus.NOT_FOUND, "not found")
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            return self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/json")
        try:
            length = int(self.headers.get("Content-Length") or -1)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            return self._error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "missing or too large body")
        raw = self.rfile.read(length)
        i = self._index(parse_qs(url.query))
        if i is None:
            return self._error(HTTPStatus.NOT_FOUND, "no such page")
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
            return self._json(HTTPStatus.OK, self.server.review.save(i, body.get("id"), body.get("labels")))
        except PermissionError as e:
            return self._error(HTTPStatus.FORBIDDEN, str(e))
        except Conflict as e:
            return self._error(HTTPStatus.CONFLICT, str(e))
        except (ValueError, LabelsError) as e:
            return self._error(HTTPStatus.BAD_REQUEST, str(e))
        except OSError as e:
            return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"could not save: {e}")


class ReviewServer(ThreadingHTTPServer):
    """The HTTP server of a :class:`Review` (``port`` 0: a free port)."""

    daemon_threads = True

    def __init__(self, review: Review, host: str = "127.0.0.1", port: int = 0, verbose: bool = False):
        self.review = review
        self.verbose = verbose
        if ":" in host:
            import socket

            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)
        self.port = self.server_address[1]
        # on a loopback address only these Host headers are served (no DNS rebinding)
        names = [f"{h}:{self.port}" for h in ("127.0.0.1", "localhost", "[::1]")]
        self.allowed_hosts = frozenset(names) if host in LOOPBACK else None

    @property
    def url(self) -> str:
        host = self.server_address[0]
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}/"


def serve_in_thread(server: ReviewServer) -> threading.Thread:
    """Run ``server`` in a daemon thread (stop it with ``server.shutdown()``)."""
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         name="boilerclf-review", daemon=True)
    t.start()
    return t


def is_labels_file(path: str | Path) -> bool:
    """True when ``path`` is a file whose first record says ``"format": "boilerclf-labels/..."``."""
    p = Path(path)
    if not p.is_file():
        return False
    try:
        with open(p, "rb") as f:
            for raw in f:
                if raw.strip():
                    head = json.loads(raw)
                    return isinstance(head, dict) and str(head.get("format", "")).startswith("boilerclf-labels/")
    except (OSError, ValueError):
        return False
    return False
