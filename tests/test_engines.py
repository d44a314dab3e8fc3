"""The fast engine against the fixture server, hybrid processes, and the server's workers."""

import asyncio
from dataclasses import replace
import socket
import threading

import pytest
import requests

from loadtool.server.profiles import page


def _fetch(loadtool_cli, *args):
    out = loadtool_cli("fetch", *args, "--format", "json")
    return out.json()


def test_fast_engine_counts_bodies_exactly(loadtool_cli, server):
    result = _fetch(loadtool_cli, "/bytes/0", "/bytes/1", "/bytes/1000", "/bytes/300000", "--server",
                    server.base_url, "-e", "fast", "-n", "40", "-c", "4")
    assert result["ok"] == 40 and result["bytes"] == 10 * (0 + 1 + 1000 + 300_000)


def test_fast_engine_reads_chunked_bodies(loadtool_cli, server):
    chunked = requests.get(server.url("/stream/20")).content
    result = _fetch(loadtool_cli, "/stream/20", "--server", server.base_url, "-e", "fast", "-n", "6")
    assert result["ok"] == 6 and result["bytes"] == 6 * len(chunked)


def test_fast_engine_counts_statuses_and_follows_redirects_like_the_others(loadtool_cli, server):
    job = ["/status/404", "/status/204", "/redirect/2", "/redirect/10", "/redirect/11", "--server", server.base_url,
           "-n", "10", "--ok-status", "200-299"]
    fast = _fetch(loadtool_cli, *job, "-e", "fast")
    assert fast["status"] == {"404": 2, "204": 2, "200": 4} and fast["errors"] == {"too_many_redirects": 2}
    assert fast["ok"] == 6
    assert _comparable(_fetch(loadtool_cli, *job, "-e", "aiohttp")) == _comparable(fast)


def test_fast_engine_sends_head_and_post(loadtool_cli, server):
    head = _fetch(loadtool_cli, "/health", "--server", server.base_url, "-e", "fast", "-n", "5", "-m", "HEAD")
    assert head["status"] == {"200": 5} and head["bytes"] == 0
    post = _fetch(loadtool_cli, "/delay/1", "--server", server.base_url, "-e", "fast", "-n", "5", "-m", "POST",
                  "--body", "x" * 5000)
    assert post["status"] == {"200": 5}


@pytest.mark.parametrize("path, kind", [("/fault/reset", "reset"), ("/fault/truncate", "truncated"),
                                        ("/fault/bad-chunked", "protocol"), ("/fault/garbage", "protocol"),
                                        ("/fault/hang", "read_timeout")])
def test_fast_engine_names_faults_like_the_others(loadtool_cli, server, path, kind):
    result = _fetch(loadtool_cli, path, "--server", server.base_url, "-e", "fast", "-n", "4", "-c", "2",
                    "--timeout", "300ms")
    assert result["errors"] == {kind: 4}


def test_fast_engine_counts_a_refused_connection(loadtool_cli):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = loadtool_cli("fetch", f"http://127.0.0.1:{port}/", "-e", "fast", "-n", "3", "--format", "json")
    assert out.exit_code == 3 and out.json()["errors"] == {"connect_refused": 3}


def test_fast_engine_counts_a_url_it_cannot_fetch_as_invalid(loadtool_cli, server, tmp_path):
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{server.url('/health')}\nftp://example.org/\n")
    result = _fetch(loadtool_cli, "-f", str(urls), "-e", "fast")
    assert result["ok"] == 1 and result["errors"] == {"invalid_url": 1}


def test_fast_engine_retries_5xx_and_resets(loadtool_cli):
    result = _fetch(loadtool_cli, "/fault/flaky?p=0.5", "-e", "fast", "-n", "60", "-c", "1", "--retries", "5")
    assert result["attempts"] > 60 and result["ok"] >= 55


class CountingServer:
    """A minimal HTTP/1.1 server on loopback that counts the connections it accepts."""

    def __init__(self, close_after_each: bool = False) -> None:
        self.connections = 0
        self.close_after_each = close_after_each
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    async def _serve(self, reader, writer):
        self.connections += 1
        while True:
            head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
            if not head:
                break
            connection = b"Connection: close\r\n" if self.close_after_each else b""
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" + connection + b"\r\nok")
            await writer.drain()
            if self.close_after_each:
                break
        writer.close()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._guarded, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _guarded(self, reader, writer):
        try:
            await self._serve(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def __enter__(self):
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.mark.parametrize("engine", ["fast", "aiohttp"])
def test_connections_are_kept_alive_and_reused(loadtool_cli, engine):
    with CountingServer() as counting:
        result = _fetch(loadtool_cli, f"http://127.0.0.1:{counting.port}/", "-e", engine, "-n", "60", "-c", "3")
    assert result["ok"] == 60
    assert counting.connections == 3


@pytest.mark.parametrize("engine", ["fast", "aiohttp"])
def test_a_server_closing_each_connection_is_not_an_error(loadtool_cli, engine):
    with CountingServer(close_after_each=True) as counting:
        result = _fetch(loadtool_cli, f"http://127.0.0.1:{counting.port}/", "-e", engine, "-n", "20", "-c", "2")
    assert result["ok"] == 20 and result["errors"] == {}
    assert counting.connections == 20


def _comparable(result):
    return {key: result[key] for key in ("ops", "ok", "bytes", "bytes_decoded", "compressed", "status", "errors")}


def test_both_engines_measure_the_same_deterministic_job(loadtool_cli, server):
    job = ["/page/{i}", "/status/500", "/fault/reset", "/bytes/777", "--server", server.base_url, "-n", "120",
           "-c", "8"]
    fast = _fetch(loadtool_cli, *job, "-e", "fast")
    aiohttp = _fetch(loadtool_cli, *job, "-e", "aiohttp")
    assert _comparable(fast) == _comparable(aiohttp)
    assert fast["status"]["500"] == 30 and fast["errors"] == {"reset": 30}
    pages = sum(page(0, index, "web").size_bytes for index in range(0, 120, 4))
    status_bodies = 30 * len("status 500\n")
    # Pages come gzipped (as they decode, their sizes); the bytes do not, nor status texts of
    # a few bytes (as real servers skip them: nginx's gzip_min_length).
    assert fast["bytes_decoded"] == pages + status_bodies + 30 * 777 and fast["compressed"] == 30
    assert fast["bytes"] < pages / 2


@pytest.mark.parametrize("engine", ["fast", "aiohttp"])
def test_hybrid_processes_do_the_same_job_as_one_loop(loadtool_cli, server, engine):
    job = ["/page/{i}", "/bytes/100", "--server", server.base_url, "-n", "200", "-c", "8", "-e", engine]
    single = _fetch(loadtool_cli, *job)
    hybrid = _fetch(loadtool_cli, *job, "-s", "hybrid", "-p", "2")
    assert _comparable(hybrid) == _comparable(single)
    assert hybrid["strategy"] == "hybrid" and hybrid["client"]["cores"] == 2


def test_hybrid_splits_the_rate_over_its_processes(loadtool_cli, server):
    result = _fetch(loadtool_cli, "/health", "--server", server.base_url, "-s", "hybrid", "-p", "2", "-n", "41",
                    "--rate", "40/s", "-e", "fast")
    assert result["ok"] == 41 and result["wall_s"] >= 40 / 40
    assert result["sent_ops_s"] == pytest.approx(40, rel=0.25)  # the rate asked for is the rate sent


def test_hybrid_splits_operations_evenly():
    from loadtool.job import Job
    from loadtool.targets import ItemList

    from loadtool import strategies

    job = Job.build(targets=ItemList(("http://h/{i}",)), count=10, concurrency=5, strategy="hybrid", processes=2)
    layout = strategies.get("hybrid").layout(job)
    parts = [layout.part(job, index) for index in range(2)]
    assert [part.concurrency for part in parts] == [3, 2]
    assert [(part.share.index, part.share.of, part.share.by_host) for part in parts] == [(0, 2, False), (1, 2, False)]


def test_server_workers_share_the_port():
    from loadtool.server.run import FixtureServer

    with FixtureServer(workers=2) as served:
        pids = set()
        for _ in range(40):
            with requests.Session() as fresh:  # a new connection each time, for the kernel to spread
                pids.add(fresh.get(served.url("/health")).headers["X-Pid"])
        assert len(pids) == 2


def test_a_saturated_client_is_told_what_to_try(loadtool_cli, server):
    from loadtool.metrics import Stats
    from loadtool.report.text import summary_lines
    from loadtool.runner.result import Result
    from loadtool.job import Job

    job = Job.build(urls=["/health"], server=server.base_url, count=1)
    result = Result(job=job, strategy="async", concurrency=50, started_at="", wall_s=1.0, stats=Stats(),
                    ideal_s=None, cpu_s=0.97, cores=1)
    advice = dict(summary_lines(result))["client CPU"]
    assert "bottleneck" in advice and "--engine fast (about 6x" in advice and "--strategy hybrid" in advice
    near = replace(result, cpu_s=0.75)
    assert "near the client's limit" in dict(summary_lines(near))["client CPU"]
    assert "—" not in dict(summary_lines(replace(result, cpu_s=0.5)))["client CPU"]


@pytest.mark.parametrize("strategy, engine", [("sequential", "requests"), ("async", "aiohttp"), ("async", "fast"),
                                              ("async", "curl")])
def test_every_engine_asks_for_gzip_unless_told_and_then_for_identity(loadtool_cli, server, strategy, engine):
    """What the server saw (its /echo repeats the request's headers), and what came back."""
    def run(*flags):
        echoed = loadtool_cli("fetch", "/echo", "--server", server.base_url, "-s", strategy, "-e", engine, "-n", "3",
                              "--check", 'body contains "identity"', "--check", 'body contains "gzip"', *flags,
                              "--format", "json").json()
        pages = loadtool_cli("fetch", "/page/{i}", "--server", server.base_url, "-s", strategy, "-e", engine,
                             "-n", "3", *flags, "--format", "json").json()
        return {name: counts["passed"] for name, counts in echoed["checks"].items()}, pages["compressed"]

    asked, compressed = run()
    assert asked == {'body contains "identity"': 0, 'body contains "gzip"': 3} and compressed == 3
    asked, compressed = run("--no-compression")
    assert asked == {'body contains "identity"': 3, 'body contains "gzip"': 0} and compressed == 0
