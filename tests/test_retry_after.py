"""Retry-After read by its value, as seconds and as an HTTP date, on a 429 and on a 503, in
the crawl and in ``fetch --retry-after`` — checked on the server's side: how long after
telling a host's client to wait it was asked again.

Four hosts (127.0.0.1 to 127.0.0.4, a server each), one way of saying "wait" each. A host
answers its first page with the limit, then 200s, and notes the gap before the next
request. The waits asked for are short (about 1-2 s) and unlike the 5 s a bare 429 waits,
so a client that ignores the value, or does not take a 503 with Retry-After as a limit,
is told apart from one that honours it."""

from __future__ import annotations

import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from loadtool.crawl.ratelimit import DEFAULT_WAIT_S

#: (status, how the wait is said, the wait it asks for at least, at most).
WAYS = {
    "429-seconds": (429, lambda: "1", 1.0, 1.0),
    "503-seconds": (503, lambda: "1", 1.0, 1.0),
    # An HTTP date has whole seconds: two seconds from now is a wait of one to two.
    "429-date": (429, lambda: formatdate(time.time() + 2, usegmt=True), 1.0, 2.0),
    "503-date": (503, lambda: formatdate(time.time() + 2, usegmt=True), 1.0, 2.0),
}
#: How much later than asked a client may come back (its scheduling, a loaded machine);
#: less than the 5 s a 429 without a value waits, so that wait is told apart.
LATE_S = 1.5


class Hosts:
    """A server per way on its own loopback address; ``gaps[way]``: seconds between the
    limit answer and the next request to that host."""

    def __init__(self) -> None:
        self.gaps: dict[str, list[float]] = {way: [] for way in WAYS}
        self.told: dict[str, float] = {}
        self.lock = threading.Lock()
        self.servers = [self._server(f"127.0.0.{number}", way) for number, way in enumerate(WAYS, 1)]
        self.origins = {way: f"http://127.0.0.{number}:{server.server_port}"
                        for (number, way), server in zip(enumerate(WAYS, 1), self.servers)}

    def _server(self, address: str, way: str) -> ThreadingHTTPServer:
        hosts = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path == "/robots.txt":
                    return self._answer(404, b"")
                with hosts.lock:
                    told = hosts.told.get(way)
                    if told is None:
                        hosts.told[way] = time.monotonic()
                        status, said, _, _ = WAYS[way]
                        return self._answer(status, b"wait\n", {"Retry-After": said()})
                    if len(hosts.gaps[way]) == 0:
                        hosts.gaps[way].append(time.monotonic() - told)
                page = int(self.path.rsplit("/", 1)[-1] or 0)
                links = "".join(f'<a href="/{way}/page/{page + step}">next</a>' for step in (1, 2))
                self._answer(200, f"<html><title>{way}</title><body>{links}</body></html>".encode(),
                             {"Content-Type": "text/html"})

            def _answer(self, status: int, body: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        server = ThreadingHTTPServer((address, 0), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return server

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def hosts():
    started = Hosts()
    yield started
    started.close()


def _waited_as_asked(hosts: Hosts) -> None:
    for way, (_, _, least, most) in WAYS.items():
        assert hosts.gaps[way], f"{way}: the host was never asked again"
        gap = hosts.gaps[way][0]
        assert least - 0.05 <= gap < most + LATE_S, f"{way}: asked again after {gap:.2f}s"
        assert gap < DEFAULT_WAIT_S  # the value read, not the wait of a 429 that gave none


@pytest.mark.parametrize("strategy", ["async", "threads"])
def test_the_crawl_waits_as_long_as_each_host_asked(loadtool_cli, hosts, strategy):
    seeds = [f"{origin}/{way}/page/0" for way, origin in hosts.origins.items()]
    out = loadtool_cli("crawl", *seeds, "-s", strategy, "-n", "8", "-c", "4", "--format", "json")
    assert out.exit_code in (0, 1), out.stderr
    _waited_as_asked(hosts)


def test_fetch_with_retry_after_waits_as_long_as_each_host_asked(loadtool_cli, hosts):
    urls = [f"{origin}/{way}/page/{{i}}" for way, origin in hosts.origins.items()]
    # A page a host at a time: a second page sent before the first's 429 came back would be
    # asked of the host "at once", and rightly.
    out = loadtool_cli("fetch", *urls, "--retry-after", "--per-host", "1", "-n", "16", "-c", "4", "--format", "json")
    assert out.exit_code in (0, 1), out.stderr
    assert out.json()["details"]["retry_after"]["hosts"] == 4
    _waited_as_asked(hosts)
