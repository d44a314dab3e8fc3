"""Real services: TLS, HTTP/2, HTTP/3 and proxies, against servers the tests start on loopback.

The fixture server serves TLS with a throwaway CA (trustme), HTTP/2 and HTTP/3 through
hypercorn (aioquic for QUIC); a small forward proxy counts what passes through it.
"""

from __future__ import annotations

import pytest

import loadtool
from forward_proxy import ForwardProxy
from loadtool.server.run import FixtureServer

ENGINES = [("threads", None), ("async", "aiohttp"), ("async", "fast"), ("async", "curl")]
IDS = ["requests", "aiohttp", "fast", "curl"]


def _run(strategy, engine, **options):
    if engine:
        options["engine"] = engine
    return loadtool.run(strategy=strategy, **options)


@pytest.fixture(scope="module")
def tls_server():
    with FixtureServer(tls=True) as server:
        yield server


@pytest.mark.parametrize("strategy, engine", ENGINES, ids=IDS)
def test_an_untrusted_certificate_is_a_tls_error(tls_server, strategy, engine):
    result = _run(strategy, engine, urls=[tls_server.url("/health")], count=3)
    assert dict(result.stats.errors) == {"tls": 3}


@pytest.mark.parametrize("strategy, engine", ENGINES, ids=IDS)
def test_cacert_trusts_the_servers_ca_and_insecure_trusts_anything(tls_server, strategy, engine):
    trusted = _run(strategy, engine, urls=[tls_server.url("/health")], count=3, cacert=tls_server.cacert)
    assert trusted.ok == 3 and trusted.stats.protocols == {"HTTP/1.1": 3}
    insecure = _run(strategy, engine, urls=[tls_server.url("/health")], count=3, insecure=True)
    assert insecure.ok == 3
    # -k wins over --cacert, whichever engine: a CA that does not sign this server is then ignored.
    import trustme

    other = trustme.CA()
    with other.cert_pem.tempfile() as foreign:
        both = _run(strategy, engine, urls=[tls_server.url("/health")], count=3, insecure=True, cacert=foreign)
    assert both.ok == 3


@pytest.mark.parametrize("strategy, engine", ENGINES, ids=IDS)
def test_over_tls_an_answer_longer_than_one_read_arrives_whole(tls_server, strategy, engine):
    """Answers of 200 KiB over TLS: many records, and more than the fast engine decrypts into
    at one read (DECRYPT_BYTES), each counted whole on a connection kept alive."""
    from loadtool.engines.fast import DECRYPT_BYTES

    size = 200 * 1024
    assert size > 3 * DECRYPT_BYTES
    result = _run(strategy, engine, urls=[tls_server.url(f"/bytes/{size}")], count=6, concurrency=2,
                  cacert=tls_server.cacert)
    assert result.ok == 6 and result.stats.bytes == 6 * size
    assert result.stats.connections["reused"] == 4


#: requests over TLS reads a reset after part of a body as the end of the stream: Python's ssl
#: sockets suppress an EOF without close_notify (suppress_ragged_eofs), and urllib3 then finds
#: the body short. The other engines see the reset. (Not strict: which the client reads first,
#: the bytes or the reset, is the kernel's race.)
_RAGGED = pytest.mark.xfail(strict=False, reason="requests over TLS reads a reset as a truncated body")


@pytest.mark.parametrize("fault, kind", [("truncate", "truncated"), ("reset", "reset"), ("bad-chunked", "protocol")])
@pytest.mark.parametrize("strategy, engine", ENGINES, ids=IDS)
def test_over_tls_a_misbehaving_server_gets_the_same_answer_from_every_engine(tls_server, strategy, engine, fault,
                                                                               kind, request):
    """The conformance suite's faults, behind TLS: the fast engine reads through a buffer of
    its own there (_Decrypted), and a cut or broken answer must still be what it is."""
    if engine is None and fault == "reset":
        request.applymarker(_RAGGED)
    result = _run(strategy, engine, urls=[tls_server.url(f"/fault/{fault}")], count=3, concurrency=2,
                  cacert=tls_server.cacert, timeout=5)
    assert dict(result.stats.errors) == {kind: 3}


@pytest.mark.parametrize("strategy, engine", ENGINES, ids=IDS)
def test_new_tls_handshakes_are_counted_where_the_engine_tells(tls_server, strategy, engine):
    result = _run(strategy, engine, urls=[tls_server.url("/health")], count=20, concurrency=2,
                  cacert=tls_server.cacert)
    connections = result.stats.connections
    assert connections["tls_handshakes"] == connections["new"] == 2 and connections["reused"] == 18


@pytest.mark.parametrize("strategy, engine", ENGINES, ids=IDS)
def test_a_server_that_requires_a_client_certificate(strategy, engine):
    with FixtureServer(tls=True, client_cert=True) as server:
        without = _run(strategy, engine, urls=[server.url("/health")], count=2, cacert=server.cacert)
        with_cert = _run(strategy, engine, urls=[server.url("/health")], count=2, cacert=server.cacert,
                         cert=server.client_certificate)
    assert dict(without.stats.errors) == {"tls": 2}  # refused in the handshake: tls, in every engine
    assert with_cert.ok == 2


def test_the_command_line_loads_the_systems_cas_when_https_is_first_spoken(tls_server):
    """The command line defers aiohttp's import-time loading of the system's CAs (39 ms of a
    one-request run) to the first https connection: not loaded before it, and trusted then.
    Here the system's bundle is the fixture's CA (SSL_CERT_FILE), so only a bundle that was
    loaded lets the default engine verify the server."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "SSL_CERT_FILE": tls_server.cacert}
    deferred = subprocess.run(
        [sys.executable, "-c", "from loadtool.engines.cas import defer_aiohttp_cas; defer_aiohttp_cas(); "
                               "import aiohttp.connector as c; print(c._SSL_CONTEXT_VERIFIED.cert_store_stats())"],
        capture_output=True, text=True, env=env, timeout=60, check=True)
    assert "'x509_ca': 0" in deferred.stdout
    run = subprocess.run([sys.executable, "-m", "loadtool", "fetch", tls_server.url("/health"), "-n", "2",
                          "--no-progress", "--format", "json"], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0 and '"ok": 2' in run.stdout, run.stderr
    untrusted = subprocess.run([sys.executable, "-m", "loadtool", "fetch", tls_server.url("/health"), "-n", "1",
                                "--no-progress", "--format", "json"], capture_output=True, text=True, timeout=60,
                               env={**os.environ, "SSL_CERT_FILE": os.devnull})
    assert '"tls": 1' in untrusted.stdout


def test_a_bad_cacert_is_a_usage_error(tmp_path):
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(ValueError, match="--cacert"):
        loadtool.Job.build(urls=["https://127.0.0.1/"], cacert=str(bogus))


@pytest.mark.parametrize("tls", [True, False], ids=["h2-over-tls", "h2c"])
def test_http2_is_negotiated_and_counted(tls):
    with FixtureServer(tls=tls, http="2") as server:
        result = loadtool.run(urls=[server.url("/bytes/1000")], count=40, concurrency=8, engine="curl", http="2",
                              streams=4, cacert=server.cacert)
    assert result.ok == 40 and result.stats.bytes == 40_000
    assert result.stats.protocols == {"HTTP/2": 40}
    assert result.layout.connections == 2 and result.layout.streams == 4  # 8 in flight, 4 streams each


def test_http3_is_negotiated_and_counted():
    with FixtureServer(tls=True, http="3") as server:
        result = loadtool.run(urls=[server.url("/page/{i}")], count=30, concurrency=6, engine="curl", http="3",
                              cacert=server.cacert)
    assert result.ok == 30 and result.stats.protocols == {"HTTP/3": 30}
    # libcurl opens connections as it needs them: the first line says so, the report counts them.
    assert str(result.layout).startswith("up to 6 connections")
    assert 1 <= result.stats.connections["new"] <= 6


def test_a_server_without_http2_is_an_error_not_a_silent_downgrade(tls_server):
    result = loadtool.run(urls=[tls_server.url("/health")], count=3, engine="curl", http="2",
                          cacert=tls_server.cacert)
    assert dict(result.stats.errors) == {"wrong_protocol": 3}
    assert "asked for HTTP/2" in result.stats.first_error


@pytest.mark.parametrize("engine", ["aiohttp", "fast"])
def test_engines_without_http2_refuse_it_naming_curl(engine):
    with pytest.raises(ValueError, match="--engine curl"):
        loadtool.Job.build(urls=["https://127.0.0.1/"], engine=engine, http="2")


def test_threads_with_the_fast_engine_names_the_pairs_that_exist(loadtool_cli):
    out = loadtool_cli("fetch", "/health", "-s", "threads", "-e", "fast")
    assert out.exit_code == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "async, hybrid, cluster with aiohttp or fast or curl" in out.stderr


PROXIED = [("sequential", None), ("threads", None), ("processes", None), ("async", "aiohttp"), ("async", "curl"),
           ("hybrid", "curl")]


@pytest.mark.parametrize("strategy, engine", PROXIED, ids=[f"{s}-{e or 'requests'}" for s, e in PROXIED])
def test_every_strategy_goes_through_the_proxy(server, tls_server, strategy, engine):
    with ForwardProxy() as proxy:
        plain = _run(strategy, engine, urls=[server.url("/health")], count=6, concurrency=2, proxy=proxy.url)
        secure = _run(strategy, engine, urls=[tls_server.url("/health")], count=6, concurrency=2, proxy=proxy.url,
                      cacert=tls_server.cacert)
    assert plain.ok == 6 and secure.ok == 6
    assert proxy.requests == 6  # each http request relayed
    assert 1 <= proxy.tunnels <= 6  # https through CONNECT tunnels, kept alive


@pytest.mark.parametrize("strategy, engine", PROXIED[1:2] + PROXIED[3:5], ids=["requests", "aiohttp", "curl"])
def test_the_environments_proxy_is_honoured_the_same_way_and_can_be_ignored(server, monkeypatch, strategy, engine):
    with ForwardProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        _run(strategy, engine, urls=[server.url("/health")], count=2)  # loopback, NO_PROXY unset: direct
        direct = proxy.requests
        monkeypatch.setenv("NO_PROXY", "elsewhere.example")  # set: it alone decides, loopback included
        through = _run(strategy, engine, urls=[server.url("/health")], count=3)
        proxied = proxy.requests
        _run(strategy, engine, urls=[server.url("/health")], count=2, no_proxy_env=True)
    assert direct == 0 and through.ok == 3 and proxied == 3 and proxy.requests == 3


def test_the_fast_engine_refuses_a_proxy():
    with pytest.raises(ValueError, match="connects directly"):
        loadtool.Job.build(urls=["http://127.0.0.1/"], engine="fast", proxy="http://127.0.0.1:3128")


@pytest.mark.parametrize("strategy, engine", [("threads", None), ("async", "aiohttp"), ("async", "curl")],
                         ids=["requests", "aiohttp", "curl"])
def test_cookies_are_off_unless_asked_for_and_then_kept_per_worker(strategy, engine):
    from cookie_server import CookieServer

    with CookieServer() as cookies:
        _run(strategy, engine, urls=[cookies.url], count=10, concurrency=2)
        without = cookies.with_cookie
        _run(strategy, engine, urls=[cookies.url], count=10, concurrency=2, cookies=True)
    assert without == 0
    assert cookies.with_cookie == 10 - 2  # every request but each worker's first sends the cookie back


def test_an_aiohttp_that_names_its_contexts_otherwise_still_verifies(tmp_path, monkeypatch):
    """The CA deferral depends on aiohttp's private names: when they are not there, aiohttp's
    verifying contexts get the system's CAs at once, never a context that trusts nothing.
    (The system's bundle here: one throwaway CA, through SSL_CERT_FILE.)"""
    import ssl
    import types

    import trustme

    from loadtool.engines.cas import _patch

    bundle = tmp_path / "system.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    empty = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifying, made while the CAs were skipped
    loose = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    loose.check_hostname, loose.verify_mode = False, ssl.CERT_NONE
    _patch(types.SimpleNamespace(_VERIFIED_CONTEXT=empty, _LOOSE=loose))  # a module without aiohttp's names
    assert empty.cert_store_stats()["x509_ca"] == 1
    assert loose.cert_store_stats()["x509_ca"] == 0
