"""The review server against other web sites, DNS rebinding, racing saves and slow clients."""
from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest

from boilerclf.labels import file as labelsfile
from boilerclf.labels.review import (
    TOKEN_HEADER,
    Review,
    ReviewServer,
    lock_path,
)


@pytest.fixture
def many_pages(tmp_path):
    """A labels file of ten pages of four lines, all boilerplate."""
    path = tmp_path / "many.jsonl"
    labelsfile.write_labels(path, [labelsfile.page_record(f"p{k}", "a\nb\nc\nd", list("abcd"), kind="text",
                                                          labels=[0] * 4) for k in range(10)])
    return path


def request(server, method: str, path: str, body=None, headers=None, address: str = "127.0.0.1"):
    """(status, JSON or bytes) of one request; a POST carries the server's token unless headers override it."""
    conn = http.client.HTTPConnection(address, server.port, timeout=10)
    h = {}
    if method == "POST":
        h = {"Content-Type": "application/json", TOKEN_HEADER: server.token}
    h.update(headers or {})
    h = {k: v for k, v in h.items() if v is not None}
    conn.request(method, path, body=None if body is None else
                 (body if isinstance(body, bytes) else json.dumps(body).encode()), headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, (json.loads(data) if r.getheader("Content-Type", "").startswith("application/json") else data)


def loaded(server, i: int) -> dict:
    status, page = request(server, "GET", f"/api/page?i={i}")
    assert status == 200, page
    return page


def save_body(page: dict, labels: list) -> dict:
    return {"id": page["id"], "labels": labels, "version": page["version"]}


def labels_on_disk(path, i: int) -> list:
    return [ln["label"] for ln in labelsfile.read_labels(path)[i]["lines"]]


# ------------------------------------------------------------- other web sites

@pytest.mark.parametrize("headers", [
    {"Origin": "http://attacker.example"},
    {"Origin": "null"},                                   # a sandboxed frame or a file:// page
    {"Origin": "http://127.0.0.1:1"},                     # another port is another origin
    {"Origin": "https://127.0.0.1:{port}"},               # another scheme too
    {"Origin": "http://rebound.example:{port}"},
    {"Referer": "http://attacker.example/page.html"},     # no Origin: the Referer is checked
    {"Origin": "http://attacker.example", "Referer": "http://127.0.0.1:{port}/"},
])
def test_cross_site_save_is_refused(serve, labels_file, headers):
    server = serve(Review.open(labels_file))
    page = loaded(server, 0)
    before = labels_file.read_bytes()
    headers = {k: v.format(port=server.port) for k, v in headers.items()}
    status, err = request(server, "POST", "/api/page?i=0", save_body(page, [1] * len(page["lines"])), headers)
    assert status == 403 and "cross-site" in err["error"]
    assert labels_file.read_bytes() == before


@pytest.mark.parametrize("headers", [
    {"Origin": "http://127.0.0.1:{port}"},
    {"Origin": "http://localhost:{port}"},
    {"Referer": "http://127.0.0.1:{port}/#2"},
    {},                                                   # not a browser: the token still has to match
])
def test_own_origin_saves(serve, labels_file, headers):
    server = serve(Review.open(labels_file))
    page = loaded(server, 0)
    headers = {k: v.format(port=server.port) for k, v in headers.items()}
    status, summ = request(server, "POST", "/api/page?i=0", save_body(page, [1] * len(page["lines"])), headers)
    assert status == 200, summ
    assert set(labels_on_disk(labels_file, 0)) == {1}


@pytest.mark.parametrize("token", [None, "", "guess", "x" * 43])
def test_save_needs_the_page_token(serve, labels_file, token):
    server = serve(Review.open(labels_file))
    page = loaded(server, 0)
    before = labels_file.read_bytes()
    status, err = request(server, "POST", "/api/page?i=0", save_body(page, [1] * len(page["lines"])),
                          {TOKEN_HEADER: token})
    assert status == 403 and TOKEN_HEADER in err["error"]
    assert labels_file.read_bytes() == before


def test_the_token_is_in_the_page_and_differs_per_server(serve, labels_file):
    a, b = serve(Review.open(labels_file)), serve(Review.open(labels_file))
    tokens = []
    for server in (a, b):
        status, html = request(server, "GET", "/")
        m = re.search(rb'<meta name="boilerclf-token" content="([A-Za-z0-9_-]{40,})">', html)
        assert status == 200 and m and m.group(1).decode() == server.token
        tokens.append(server.token)
    assert tokens[0] != tokens[1]
    page = loaded(a, 0)
    status, _ = request(a, "POST", "/api/page?i=0", save_body(page, [1] * len(page["lines"])),
                        {TOKEN_HEADER: b.token})
    assert status == 403


def test_save_needs_json(serve, labels_file):
    server = serve(Review.open(labels_file))
    page = loaded(server, 0)
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        status, _ = request(server, "POST", "/api/page?i=0", save_body(page, [1] * len(page["lines"])),
                            {"Content-Type": ctype})
        assert status == 415
    assert set(labels_on_disk(labels_file, 0)) == {0, 1}


# ------------------------------------------------------------- DNS rebinding

def can_bind(address: str) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family) as s:
            s.bind((address, 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize("bind, connect, own", [
    ("127.0.0.1", "127.0.0.1", ["127.0.0.1", "localhost", "[::1]"]),
    ("127.0.0.2", "127.0.0.2", ["127.0.0.2", "localhost", "127.0.0.1"]),
    ("localhost", "127.0.0.1", ["localhost", "127.0.0.1"]),
    ("0.0.0.0", "127.0.0.1", ["127.0.0.1", "localhost"]),   # the address the connection came in on
    ("::1", "::1", ["[::1]", "localhost", "127.0.0.1"]),
])
def test_host_header_is_checked_for_any_bind_address(serve, labels_file, bind, connect, own):
    if not can_bind(bind if bind != "localhost" else "127.0.0.1"):
        pytest.skip(f"cannot bind {bind} here")
    server = serve(Review.open(labels_file), bind)
    port = server.port
    for name in own:
        assert request(server, "GET", "/api/state", headers={"Host": f"{name}:{port}"}, address=connect)[0] == 200
    page = request(server, "GET", "/api/page?i=0", address=connect)[1]
    for host in (f"rebound.example:{port}", "rebound.example", f"{own[0]}:{port + 1}", own[0],
                 f"0.0.0.0:{port}", f"user@{own[0]}:{port}", f"{own[0]}:{port}/x", ""):
        assert request(server, "GET", "/api/state", headers={"Host": host}, address=connect)[0] == 403, host
        status, err = request(server, "POST", "/api/page?i=0", save_body(page, [1] * len(page["lines"])),
                              {"Host": host}, address=connect)
        assert status == 403 and "Host" in err["error"], host
    assert set(labels_on_disk(labels_file, 0)) == {0, 1}


def test_only_loopback_servers_report_loopback_hosts(labels_file):
    review = Review.open(labels_file)
    for bind, loopback in (("127.0.0.2", True), ("localhost", True), ("0.0.0.0", False)):
        server = ReviewServer(review, bind, 0)
        try:
            assert server.loopback is loopback
            assert (server.allowed_hosts is None) is not loopback
        finally:
            server.server_close()


# ------------------------------------------------------------- racing saves

def test_stale_page_is_a_conflict(serve, labels_file):
    """Two tabs open on one page: the second save is refused, not silently lost."""
    server = serve(Review.open(labels_file))
    tab_a, tab_b, other = loaded(server, 0), loaded(server, 0), loaded(server, 1)
    n = len(tab_a["lines"])
    status, summ = request(server, "POST", "/api/page?i=0", save_body(tab_a, [1] * n))
    assert status == 200, summ
    status, err = request(server, "POST", "/api/page?i=0", save_body(tab_b, [0] * n))
    assert status == 409 and "reload the page" in err["error"] and "nothing was saved" in err["error"]
    assert labels_on_disk(labels_file, 0) == [1] * n
    status, _ = request(server, "POST", "/api/page?i=0", save_body(loaded(server, 0), [0] * n))  # after a reload
    assert status == 200 and labels_on_disk(labels_file, 0) == [0] * n
    # a page loaded before those saves is still current: versions are per page
    status, _ = request(server, "POST", "/api/page?i=1", save_body(other, [0] * len(other["lines"])))
    assert status == 200 and labels_on_disk(labels_file, 0) == [0] * n


def test_save_without_version_is_refused(serve, labels_file):
    server = serve(Review.open(labels_file))
    n = len(loaded(server, 0)["lines"])
    for version in (None, 3):
        status, err = request(server, "POST", "/api/page?i=0", {"id": "lighthouse", "labels": [1] * n,
                                                                "version": version})
        assert status == 428 and "reload" in err["error"]
    assert set(labels_on_disk(labels_file, 0)) == {0, 1}


def race(servers: list, saves: list[tuple[int, int, dict]]) -> list[int]:
    """Run the saves (server index, page index, body) at once; their statuses."""
    statuses = [0] * len(saves)
    start = threading.Barrier(len(saves))

    def go(k: int) -> None:
        s, i, body = saves[k]
        start.wait()
        statuses[k] = request(servers[s], "POST", f"/api/page?i={i}", body)[0]
    threads = [threading.Thread(target=go, args=(k,)) for k in range(len(saves))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return statuses


def distinct_labels(k: int) -> list[int]:
    return [int(b) for b in format(k + 1, "04b")]


@pytest.mark.parametrize("n_servers", [1, 2])
def test_racing_saves_of_one_page_one_lands_the_rest_conflict(serve, many_pages, n_servers):
    servers = [serve(Review.open(many_pages)) for _ in range(n_servers)]
    saves = [(k % n_servers, 0, save_body(loaded(servers[k % n_servers], 0), distinct_labels(k)))
             for k in range(10)]
    statuses = race(servers, saves)
    assert sorted(statuses) == [200] + [409] * 9
    assert labels_on_disk(many_pages, 0) == saves[statuses.index(200)][2]["labels"]


def test_racing_saves_of_two_servers_all_land(serve, many_pages):
    """Two servers on one file, ten pages saved at once: the file lock and the re-read keep every save."""
    servers = [serve(Review.open(many_pages)) for _ in range(2)]
    saves = [(k % 2, k, save_body(loaded(servers[k % 2], k), distinct_labels(k))) for k in range(10)]
    assert race(servers, saves) == [200] * 10
    on_disk = labelsfile.read_labels(many_pages)
    assert [[ln["label"] for ln in rec["lines"]] for rec in on_disk] == [distinct_labels(k) for k in range(10)]
    assert all(rec["reviewed"] for rec in on_disk)
    assert sorted(os.listdir(many_pages.parent)) == [".many.jsonl.lock", "many.jsonl"]


def hold_lock(path, seconds: float) -> subprocess.Popen:
    """Another process holding the labels file's lock for ``seconds``."""
    code = ("import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(float(sys.argv[2]))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(lock_path(path)), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_save_waits_for_another_process_lock(serve, many_pages):
    server = serve(Review.open(many_pages))
    page = loaded(server, 3)
    proc = hold_lock(many_pages, 1.0)
    t0 = time.monotonic()
    status, _ = request(server, "POST", "/api/page?i=3", save_body(page, [1, 1, 1, 1]))
    waited = time.monotonic() - t0
    proc.wait(10)
    proc.stdout.close()
    assert status == 200 and waited > 0.5
    assert labels_on_disk(many_pages, 3) == [1, 1, 1, 1]


def test_save_gives_up_on_a_lock_held_too_long(serve, many_pages):
    review = Review.open(many_pages)
    review.lock_wait = 0.2
    server = serve(review)
    page = loaded(server, 3)
    before = many_pages.read_bytes()
    proc = hold_lock(many_pages, 3.0)
    try:
        status, err = request(server, "POST", "/api/page?i=3", save_body(page, [1, 1, 1, 1]))
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()
    assert status == 503 and "another program" in err["error"]
    assert many_pages.read_bytes() == before


# ------------------------------------------------------------- slow and greedy clients

def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``sock`` within ``seconds`` (whatever it sends first)."""
    sock.settimeout(seconds)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return False


@pytest.mark.parametrize("sent", [
    b"POST /api/page?i=0 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n",                  # headers cut short
    b"POST /api/page?i=0 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
    b"X-Boilerclf-Token: {token}\r\nContent-Length: 100\r\n\r\n{{\"id\": ",           # body cut short
    b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n",                   # then idle keep-alive
    b"",                                                                            # nothing at all
])
def test_half_sent_request_is_timed_out(serve, labels_file, sent):
    server = serve(Review.open(labels_file), idle_timeout=0.5)
    before = labels_file.read_bytes()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(sent.replace(b"{port}", str(server.port).encode())
                     .replace(b"{token}", server.token.encode()).replace(b"{{", b"{"))
        t0 = time.monotonic()
        assert closed_within(sock, 5.0)
        assert time.monotonic() - t0 < 3.0
    assert labels_file.read_bytes() == before


def test_idle_connections_do_not_grow_threads(serve, labels_file):
    server = serve(Review.open(labels_file), idle_timeout=30.0, max_connections=4)
    before = threading.active_count()
    socks = []
    try:
        for _ in range(60):
            s = socket.create_connection(("127.0.0.1", server.port))
            s.sendall(f"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n".encode())
            socks.append(s)
        time.sleep(0.5)
        assert threading.active_count() - before <= 4
        refused = 0
        for s in socks[4:]:
            s.settimeout(5)
            refused += s.recv(100).startswith(b"HTTP/1.1 503")
        assert refused == 56
    finally:
        for s in socks:
            s.close()
    deadline = time.monotonic() + 10  # the slots come back once the idle clients are gone
    while request(server, "GET", "/api/state")[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.parametrize("headers, status", [
    ({"Content-Length": str(1 << 40)}, 413),
    ({"Content-Length": "-1"}, 400),
    ({"Content-Length": "x"}, 400),
    ({"Transfer-Encoding": "chunked"}, 411),
    ({}, 411),
])
def test_body_size_is_bounded(serve, labels_file, headers, status):
    server = serve(Review.open(labels_file))
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("POST", "/api/page?i=0")
    for k, v in {"Content-Type": "application/json", TOKEN_HEADER: server.token, **headers}.items():
        conn.putheader(k, v)
    conn.endheaders()
    r = conn.getresponse()
    assert r.status == status and r.getheader("Connection") == "close"
    r.read()
    conn.close()


def test_save_is_bounded_by_the_page_size(serve, labels_file):
    """A save is at most 64 KiB plus 32 bytes per line of its page, read or not."""
    server = serve(Review.open(labels_file))
    page = loaded(server, 0)
    body = json.dumps(save_body(page, [1] * len(page["lines"]))).encode()
    limit = 64 * 1024 + 32 * len(page["lines"])
    status, err = request(server, "POST", "/api/page?i=0", body + b" " * (limit + 1 - len(body)))
    assert status == 413 and "too large" in err["error"]
    status, _ = request(server, "POST", "/api/page?i=0", body + b" " * (limit - len(body)))
    assert status == 200
