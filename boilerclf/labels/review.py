"""The review and labelling page: ``boilerclf review``.

A local web server (stdlib :mod:`http.server`, bound to 127.0.0.1 by default)
serves one self-contained page (``review.html``: no external assets) that
shows each page's lines in order, coloured by label, with the model's score.
Clicking a line flips its label; the page's JavaScript posts the labels of
the page back and the server rewrites the labels file atomically
(:func:`boilerclf.labels.file.write_labels`).  Without a labels file (pages
given directly) the server is read-only and shows the model's predictions.

Endpoints (JSON)::

    GET  /                   the page (it carries the server's token)
    GET  /api/state          {"file", "readonly", "pages": [summary, ...]}
    GET  /api/page?i=N       page N: id, url, kind, model, reviewed, lines, version
    GET  /api/reasons?i=N&line=K
                             why line K of page N got its score: the model's
                             score and the inputs that moved it most
                             (:mod:`boilerclf.model.reasons`)
    POST /api/page?i=N       {"id": ..., "labels": [1, 0, null, ...], "version": ...}
                             -> summary and the new version; the page is marked
                             reviewed and the file saved

What a request must pass:

- every request: a ``Host`` header naming this server (the address it is bound
  to, or the address the connection came in on; ``localhost``, ``127.0.0.1``
  and ``[::1]`` too on loopback) and its port, so a DNS-rebinding page gets
  nothing;
- a save: an ``Origin`` (or, without one, a ``Referer``) of this server when
  the client sends one, the server's random token in the ``X-Boilerclf-Token``
  header (only the served page knows it), ``Content-Type: application/json``
  and a body of bounded size;
- a save carries the version of the page it started from; when the page was
  changed since (another tab, another server, another program), the save is
  refused with 409 and the page must be reloaded.  Saves of one file are
  serialised by a lock file beside it (``.NAME.lock``), re-read the file under
  the lock, replace only their own page and write atomically.

Connections are bounded: a connection idle for ``idle_timeout`` seconds is
closed, and at most ``max_connections`` are served at once (the others get 503).
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from boilerclf.labels.file import LabelsError, read_labels, source_lines, validate, write_labels
from boilerclf.model.files import ModelError

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: only one server per file is safe
    fcntl = None  # type: ignore[assignment]

MAX_BODY = 16 << 20        # bytes, whatever the page
BODY_SLACK = 64 << 10      # bytes of a save beyond its labels
BODY_PER_LINE = 32         # bytes per label of a save, generously
IDLE_TIMEOUT = 15.0        # seconds a connection may stay silent
MAX_CONNECTIONS = 64       # connections served at once
LOCK_WAIT = 10.0           # seconds a save waits for another one's file lock
TOKEN_HEADER = "X-Boilerclf-Token"
TOKEN_SLOT = b"{{boilerclf-token}}"  # in review.html
LOOPBACK_NAMES = frozenset({"localhost"})
LOOPBACK_IPS = frozenset({ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")})


class Conflict(RuntimeError):
    """The page (or the labels file) changed since the client read it."""


class Busy(RuntimeError):
    """Another save holds the labels file's lock for too long."""


class VersionMissing(ValueError):
    """A save that does not say which version of the page it started from."""


def summary(rec: dict[str, Any]) -> dict[str, Any]:
    """Counts of one record, as shown in the page list."""
    labels = [ln["label"] for ln in rec["lines"]]
    return {"id": rec["id"], "url": rec["url"], "kind": rec["kind"], "model": rec["model"],
            "reviewed": rec["reviewed"], "n": len(labels), "content": labels.count(1),
            "boilerplate": labels.count(0), "unlabelled": labels.count(None)}


def record_version(rec: dict[str, Any]) -> str:
    """A digest of the record's content: equal versions, equal records."""
    text = json.dumps(rec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def relabelled(rec: dict[str, Any], labels: Any) -> dict[str, Any]:
    """A copy of ``rec`` with these labels, marked reviewed (raises :class:`LabelsError`)."""
    if not isinstance(labels, list) or len(labels) != len(rec["lines"]):
        raise LabelsError(f"page {rec['id']!r} has {len(rec['lines'])} lines; "
                          f"got {len(labels) if isinstance(labels, list) else 'no'} labels")
    new = copy.deepcopy(rec)
    for ln, lab in zip(new["lines"], labels):
        ln["label"] = lab
    new["reviewed"] = True
    validate(new)
    return new


def stat_key(path: Path) -> tuple[int, int, int] | None:
    """What tells a rewritten file from the last one read (None: no file, or no access)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def lock_path(path: Path) -> Path:
    """The lock file that serialises the saves of a labels file."""
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def file_lock(path: Path, wait: float) -> Iterator[None]:
    """Hold the exclusive lock of ``path``'s lock file (raises :class:`Busy` after ``wait`` s)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Busy(f"{path.name} is being saved by another program; try again") from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # releases the lock


#: Reasons given per line (the strongest first).
N_REASONS = 6


def shipped_model(kind: str):
    """The model shipped with boilerclf for ``kind`` (what reasons are computed with by default)."""
    from boilerclf.model.files import load_model

    return load_model(None, kind)[0]


class Review:
    """The records under review and where they are saved (``path`` None: read-only).

    ``model_for(kind)`` gives the model whose reasons are shown for a page of
    that kind (default: the shipped models).
    """

    def __init__(self, records: list[dict[str, Any]], path: str | Path | None = None,
                 readonly: bool = False, model_for=None):
        self.model_for = model_for or shipped_model
        self.models: dict[str, Any] = {}
        self.explained: dict[str, Any] = {}  # record version -> LineReasons, for the last pages asked
        self.records = records
        self.path = Path(path) if path is not None else None
        self.readonly = readonly or self.path is None
        self.lock_wait = LOCK_WAIT
        self.lock = threading.Lock()
        self.disk = stat_key(self.path) if self.path is not None else None

    @classmethod
    def open(cls, path: str | Path, readonly: bool = False, model_for=None) -> Review:
        """Review a labels file (raises :class:`LabelsError` / :class:`OSError`)."""
        return cls(read_labels(path), path, readonly, model_for)

    def reasons(self, i: int, j: int, n: int = N_REASONS) -> dict[str, Any]:
        """Why line ``j`` of page ``i`` got its score: ``{"i", "score", "stage", "bias",
        "reasons": [{"feature", "value", "effect"}, ...]}``, the strongest first
        (raises :class:`LookupError`, :class:`LabelsError` when the page's lines
        cannot be recomputed, :class:`ValueError` for a model without flat trees)."""
        from boilerclf.features.table import page_features
        from boilerclf.model.reasons import line_reasons

        with self.lock:
            self.refresh()
            rec = self.record(i)
            if not 0 <= j < len(rec["lines"]):
                raise LookupError("no such line")
            version = record_version(rec)
            got = self.explained.get(version)
            if got is None:
                kind = rec["kind"]
                if kind not in self.models:
                    self.models[kind] = self.model_for(kind)
                got = line_reasons(self.models[kind], page_features(source_lines(rec), 0))
                if len(self.explained) >= 8:
                    self.explained.pop(next(iter(self.explained)))
                self.explained[version] = got
        return {"i": j, "score": round(float(got.scores[j]), 4), "stage": got.stage[j],
                "bias": round(float(got.bias[j]), 4),
                "reasons": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}
                            for d in got.top(j, n)]}

    def state(self) -> dict[str, Any]:
        with self.lock:
            self.refresh()
            return {"file": self.path.name if self.path else None, "readonly": self.readonly,
                    "pages": [summary(r) for r in self.records]}

    def page(self, i: int) -> dict[str, Any]:
        """Page ``i`` with its version (raises :class:`LookupError`)."""
        with self.lock:
            self.refresh()
            rec = self.record(i)
            out = {k: rec[k] for k in ("id", "url", "kind", "model", "reviewed", "lines")}
            out["index"] = i
            out["version"] = record_version(rec)
            return copy.deepcopy(out)

    def record(self, i: int) -> dict[str, Any]:
        if not 0 <= i < len(self.records):
            raise LookupError("no such page")
        return self.records[i]

    def max_body(self, i: int) -> int:
        """The largest save of page ``i`` that is accepted, in bytes."""
        with self.lock:
            n = len(self.record(i)["lines"])
        return min(MAX_BODY, BODY_SLACK + BODY_PER_LINE * n)

    def refresh(self) -> None:
        """Take the file's records when it was rewritten since it was read (keep them when unreadable)."""
        if self.path is None or stat_key(self.path) == self.disk:
            return
        with contextlib.suppress(LabelsError, OSError):
            self.adopt(read_labels(self.path))

    def adopt(self, records: list[dict[str, Any]]) -> None:
        assert self.path is not None
        self.records = records
        self.disk = stat_key(self.path)

    def read_disk(self) -> list[dict[str, Any]]:
        """The file's records now (raises :class:`Conflict` when it is gone or broken)."""
        assert self.path is not None
        try:
            return read_labels(self.path)
        except FileNotFoundError:
            raise Conflict(f"{self.path.name} was removed or renamed; nothing was saved") from None
        except LabelsError as e:
            raise Conflict(f"{self.path.name} on disk is not a valid labels file now ({e}); "
                           "nothing was saved") from None

    def save(self, i: int, page_id: Any, labels: Any, version: Any) -> dict[str, Any]:
        """Set page ``i``'s labels, mark it reviewed and rewrite the file atomically.

        ``version`` is the page's version when the client loaded it.  Raises
        :class:`PermissionError` when read-only, :class:`LookupError` for no
        such page, :class:`LabelsError` for labels that do not fit the page,
        :class:`VersionMissing`, :class:`Conflict` when the page changed since
        (or the file is gone), :class:`Busy` when another save holds the file.
        Returns the page's summary and its new ``version``.
        """
        if self.readonly:
            raise PermissionError("read-only review: nothing is saved")
        with self.lock:
            rec = self.record(i)
            if page_id != rec["id"]:
                raise LabelsError(f"page {i} is {rec['id']!r}, not {page_id!r}")
            relabelled(rec, labels)  # refuse bad labels before touching the file
            if not isinstance(version, str):
                raise VersionMissing("the save does not say which version of the page it changes; reload the page")
            assert self.path is not None
            with file_lock(self.path, self.lock_wait):
                records = self.read_disk()
                self.adopt(records)
                j = self.current_index(records, page_id, version)
                new = relabelled(records[j], labels)
                records = records[:j] + [new] + records[j + 1:]
                write_labels(self.path, records)
                self.adopt(records)
        return {**summary(new), "version": record_version(new)}

    def current_index(self, records: list[dict[str, Any]], page_id: str, version: str) -> int:
        """Where page ``page_id`` is in ``records``; :class:`Conflict` unless it is still at ``version``."""
        name = self.path.name if self.path else "the file"
        for j, rec in enumerate(records):
            if rec["id"] == page_id:
                if record_version(rec) != version:
                    raise Conflict(f"page {page_id!r} was changed in {name} (another tab, server or program) "
                                   "since this page was loaded; nothing was saved: reload the page")
                return j
        raise Conflict(f"page {page_id!r} is no longer in {name}; nothing was saved: reload the page")


def page_html(token: str = "") -> bytes:
    """The review page (HTML, CSS and JavaScript in one file), carrying ``token``."""
    try:
        raw = (files("boilerclf.labels") / "review.html").read_bytes()
    except (FileNotFoundError, ModuleNotFoundError):  # pragma: no cover - checkout without install
        raw = (Path(__file__).with_name("review.html")).read_bytes()
    return raw.replace(TOKEN_SLOT, token.encode("ascii"))


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address written in ``text`` (IPv4-mapped IPv6 as IPv4), or None for a name."""
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0].strip("[]"))
    except ValueError:
        return None
    return getattr(ip, "ipv4_mapped", None) or ip


def split_authority(value: str) -> tuple[str, int | None] | None:
    """(host, port) of a ``Host`` header or URL authority, lower case; None when malformed."""
    if not value or any(c in value for c in "@/?#\\ \t"):
        return None
    try:
        url = urlsplit("//" + value)
        return (url.hostname or "", url.port)
    except ValueError:
        return None


class _Handler(BaseHTTPRequestHandler):
    server: ReviewServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout  # the socket timeout of this connection
        super().setup()

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
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass"),
                   "application/json; charset=utf-8")

    def _error(self, status: int, msg: str) -> None:
        self._json(status, {"error": msg})

    def _is_own(self, authority: str) -> bool:
        return self.server.is_own(authority, self.connection.getsockname()[0])

    def _host_ok(self) -> bool:
        return self._is_own(self.headers.get("Host") or "")

    def _origin_ok(self) -> bool:
        """A browser's request comes from a page of this server (no header: not a browser)."""
        origin = self.headers.get("Origin", self.headers.get("Referer"))
        if origin is None:
            return True
        try:
            url = urlsplit(origin)
        except ValueError:
            return False
        return url.scheme == "http" and self._is_own(url.netloc)

    def _token_ok(self) -> bool:
        sent = (self.headers.get(TOKEN_HEADER) or "").encode("utf-8", "surrogateescape")
        return hmac.compare_digest(sent, self.server.token.encode("ascii"))

    def _post_refusal(self) -> tuple[int, str] | None:
        """Why this POST is refused before its body is read (None: it is not)."""
        if not self._host_ok():
            return HTTPStatus.FORBIDDEN, "unexpected Host header"
        if not self._origin_ok():
            return HTTPStatus.FORBIDDEN, "cross-site request refused: the Origin is not this server"
        if not self._token_ok():
            return HTTPStatus.FORBIDDEN, f"missing or wrong {TOKEN_HEADER}: reload the page"
        if (self.headers.get("Content-Type") or "").split(";")[0].strip().lower() != "application/json":
            return HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send application/json"
        if self.headers.get("Transfer-Encoding") or self.headers.get("Content-Length") is None:
            return HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length"
        return None

    def _index(self, query: dict) -> int | None:
        try:
            return int(query["i"][0])
        except (KeyError, ValueError, IndexError):
            return None

    def _body(self, i: int) -> bytes | tuple[int, str]:
        """The request's body, or why it is refused."""
        try:
            length = int(self.headers["Content-Length"])
            limit = self.server.review.max_body(i)
        except ValueError:
            return HTTPStatus.BAD_REQUEST, "bad Content-Length"
        except LookupError:
            return HTTPStatus.NOT_FOUND, "no such page"
        if length < 0:
            return HTTPStatus.BAD_REQUEST, "bad Content-Length"
        if length > limit:
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body too large (at most {limit} bytes for this page)"
        return self.rfile.read(length)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if not self._host_ok():
            return self._error(HTTPStatus.FORBIDDEN, "unexpected Host header")
        url = urlsplit(self.path)
        if url.path in ("/", "/index.html"):
            return self._send(HTTPStatus.OK, page_html(self.server.token), "text/html; charset=utf-8")
        if url.path == "/api/state":
            return self._json(HTTPStatus.OK, self.server.review.state())
        if url.path == "/api/page":
            i = self._index(parse_qs(url.query))
            try:
                page = self.server.review.page(-1 if i is None else i)
            except LookupError:
                return self._error(HTTPStatus.NOT_FOUND, "no such page")
            return self._json(HTTPStatus.OK, page)
        if url.path == "/api/reasons":
            return self._reasons(parse_qs(url.query))
        return self._error(HTTPStatus.NOT_FOUND, "not found")

    def _reasons(self, query: dict) -> None:
        i = self._index(query)
        try:
            j = int(query["line"][0])
        except (KeyError, ValueError, IndexError):
            j = -1
        try:
            got = self.server.review.reasons(-1 if i is None else i, j)
        except LookupError as e:
            return self._error(HTTPStatus.NOT_FOUND, str(e))
        except (ValueError, OSError, ModelError) as e:  # LabelsError: lines that cannot be recomputed
            return self._error(HTTPStatus.CONFLICT, f"no reasons: {e}")
        return self._json(HTTPStatus.OK, got)

    def do_POST(self) -> None:  # noqa: N802
        target = self._post_refusal() or self._target(urlsplit(self.path))
        body = target if isinstance(target, tuple) else self._body(target)
        if isinstance(body, tuple):
            self.close_connection = True  # the body is left unread
            return self._error(*body)
        return self._json(*self._save(target, body))

    def _target(self, url) -> int | tuple[int, str]:
        """The page a POST saves, or why there is none."""
        if url.path != "/api/page":
            return HTTPStatus.NOT_FOUND, "not found"
        i = self._index(parse_qs(url.query))
        return (HTTPStatus.NOT_FOUND, "no such page") if i is None else i

    def _save(self, i: int, raw: bytes) -> tuple[int, Any]:
        try:
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
            return HTTPStatus.OK, self.server.review.save(i, body.get("id"), body.get("labels"),
                                                          body.get("version"))
        except PermissionError as e:
            return HTTPStatus.FORBIDDEN, {"error": str(e)}
        except LookupError as e:
            return HTTPStatus.NOT_FOUND, {"error": str(e)}
        except Conflict as e:
            return HTTPStatus.CONFLICT, {"error": str(e)}
        except VersionMissing as e:
            return HTTPStatus.PRECONDITION_REQUIRED, {"error": str(e)}
        except Busy as e:
            return HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(e)}
        except (ValueError, LabelsError) as e:
            return HTTPStatus.BAD_REQUEST, {"error": str(e)}
        except OSError as e:
            return HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"could not save: {e}"}


class ReviewServer(ThreadingHTTPServer):
    """The HTTP server of a :class:`Review` (``port`` 0: a free port).

    ``idle_timeout``: seconds a connection may stay silent before it is
    closed; ``max_connections``: connections served at once (each has a
    thread; the ones beyond get 503 and are closed).
    """

    daemon_threads = True
    block_on_close = False  # stopping does not wait for idle keep-alive connections
    request_queue_size = 128  # connections the kernel holds until they are accepted (or refused)

    def __init__(self, review: Review, host: str = "127.0.0.1", port: int = 0, verbose: bool = False,
                 idle_timeout: float = IDLE_TIMEOUT, max_connections: int = MAX_CONNECTIONS):
        self.review = review
        self.verbose = verbose
        self.idle_timeout = idle_timeout
        self.slots = threading.BoundedSemaphore(max_connections)
        self.token = secrets.token_urlsafe(32)
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)
        self.port = self.server_address[1]
        self.host = host.lower().strip("[]")
        ip = parse_ip(self.host)
        self.loopback = self.host in LOOPBACK_NAMES or bool(ip and ip.is_loopback)

    def server_close(self) -> None:
        super().server_close()
        with self.review.lock:  # a save in progress finishes first
            pass

    @property
    def allowed_hosts(self) -> frozenset[str] | None:
        """The ``Host`` headers of a loopback server; None when other machines can reach it.

        Every server checks the Host header (:meth:`is_own`); this only tells
        whether it listens beyond this machine.
        """
        if not self.loopback:
            return None
        names = ("127.0.0.1", "localhost", "::1", self.host)
        return frozenset(f"[{h}]:{self.port}" if ":" in h else f"{h}:{self.port}" for h in names)

    def is_own(self, authority: str, local_address: str) -> bool:
        """Whether ``authority`` (a Host header, or an origin's host[:port]) names this server.

        It must name the port and either the bound address (or name), or the
        address the connection came in on; on loopback also ``localhost``,
        127.0.0.1 or ::1.  A name that merely resolves here (DNS rebinding) does not.
        """
        parts = split_authority(authority)
        if parts is None or (80 if parts[1] is None else parts[1]) != self.port:
            return False
        host, ip = parts[0], parse_ip(parts[0])
        if not host:
            return False
        local = parse_ip(local_address)
        loopback = self.loopback or bool(local and local.is_loopback)
        if ip is None:
            return host == self.host or (loopback and host in LOOPBACK_NAMES)
        if loopback and ip in LOOPBACK_IPS:
            return True
        return not ip.is_unspecified and ip in (local, parse_ip(self.host))

    def process_request(self, request, client_address) -> None:
        """Serve the connection in a thread if a slot is free; else answer 503 and close it.

        The slot is given back exactly once, by the thread or, if the thread
        could not start (an interrupt here), by this method.
        """
        if not self.slots.acquire(blocking=False):
            self.refuse(request)
            return
        give_back = _Once(self.slots.release)
        try:
            threading.Thread(target=self.serve_connection, args=(request, client_address, give_back),
                             daemon=True).start()
        except BaseException:
            give_back()
            raise

    def serve_connection(self, request, client_address, give_back) -> None:
        """One connection, in its own thread; its slot is given back at the end."""
        try:
            self.process_request_thread(request, client_address)
        finally:
            give_back()

    def stop_soon(self) -> None:
        """Make ``serve_forever`` return (safe from a signal handler: it does not wait)."""
        threading.Thread(target=self.shutdown, daemon=True).start()

    def handle_error(self, request, client_address) -> None:
        """A client that went away is not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def refuse(self, request) -> None:
        with contextlib.suppress(OSError):
            request.settimeout(1.0)
            request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                            b"Connection: close\r\n\r\n")
        self.shutdown_request(request)

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


class _Once:
    """Calls ``fn`` on the first call only (thread-safe)."""

    def __init__(self, fn):
        self.fn = fn
        self.lock = threading.Lock()
        self.done = False

    def __call__(self) -> None:
        with self.lock:
            if self.done:
                return
            self.done = True
        self.fn()
