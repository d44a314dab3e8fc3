"""Every fixture endpoint, in-process through pytest-aiohttp's test client."""

import time

import pytest

from loadtool.server.profiles import page
from loadtool.server.app import MAX_BYTES, PATTERN, build_app


@pytest.fixture
async def client(aiohttp_client):
    return await aiohttp_client(build_app(seed=7, profile="web"))


async def test_health_answers_ok(client):
    response = await client.get("/health")
    assert response.status == 200 and await response.text() == "ok\n"


@pytest.mark.parametrize("size", [0, 1, 1000, 65536, 200_000])
async def test_bytes_returns_exactly_n_deterministic_bytes(client, size):
    body = await (await client.get(f"/bytes/{size}")).read()
    assert len(body) == size
    assert body[:64] == PATTERN[:min(size, 64)]


@pytest.mark.parametrize("path", [f"/bytes/{MAX_BYTES + 1}", "/bytes/-1", "/bytes/lots",
                                  "/delay/60001", "/redirect/101", "/stream/100001", "/status/99",
                                  "/status/600", "/drip?duration=61"])
async def test_requests_beyond_a_cap_get_400(client, path):
    response = await client.get(path)
    assert response.status == 400
    assert "must be" in await response.text()


async def test_delay_answers_no_sooner_than_asked(client):
    started = time.perf_counter()
    response = await client.get("/delay/120")
    assert response.status == 200 and (await response.json()) == {"delay_ms": 120}
    assert time.perf_counter() - started >= 0.12


@pytest.mark.parametrize("code", [200, 201, 204, 301, 404, 500, 503])
async def test_status_returns_the_code(client, code):
    response = await client.get(f"/status/{code}", allow_redirects=False)
    assert response.status == code


async def test_stream_sends_n_json_lines_chunked(client):
    response = await client.get("/stream/25")
    assert response.headers.get("Transfer-Encoding") == "chunked"
    lines = (await response.text()).splitlines()
    assert len(lines) == 25 and lines[-1].startswith('{"id": 24')


async def test_drip_sends_numbytes_over_duration(client):
    started = time.perf_counter()
    body = await (await client.get("/drip?duration=0.2&numbytes=5")).read()
    assert body == b"*****"
    assert time.perf_counter() - started >= 0.15


async def test_redirect_chain_ends_in_200(client):
    response = await client.get("/redirect/3")
    assert response.status == 200
    assert len(response.history) == 3


async def test_pages_are_deterministic_in_seed_and_index(client):
    first = await (await client.get("/page/42")).read()
    again = await (await client.get("/page/42")).read()
    other = await (await client.get("/page/43")).read()
    assert first == again and first != other
    assert len(first) == page(7, 42, "web").size_bytes
    assert b'href="/page/' in first


async def test_site_pages_match_plain_pages(client):
    assert await (await client.get("/site/3/page/5")).read() == await (await client.get("/page/5")).read()


async def test_an_unknown_profile_is_a_400(client):
    response = await client.get("/page/1?profile=nope")
    assert response.status == 400


def test_page_latency_and_size_follow_the_seed():
    assert page(1, 10) == page(1, 10)
    assert page(1, 10) != page(2, 10)
    specs = [page(0, index, "web") for index in range(2000)]
    latencies = sorted(spec.latency_s for spec in specs)
    assert 0.03 < latencies[1000] < 0.05  # the web profile's median is 40 ms


async def test_files_are_served_and_nothing_outside_the_directory(aiohttp_client, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "a.txt").write_text("inside")
    (tmp_path / "secret.txt").write_text("outside")
    (served / "link").symlink_to(tmp_path / "secret.txt")
    client = await aiohttp_client(build_app(files_root=str(served)))
    assert await (await client.get("/files/a.txt")).text() == "inside"
    for path in ("/files/../secret.txt", "/files/%2e%2e/secret.txt", "/files/..%2fsecret.txt", "/files/link",
                 "/files/nothing", "/files/"):
        response = await client.get(path)
        assert response.status == 404, path
        assert "outside" not in await response.text()


async def test_without_a_directory_files_is_a_404(client):
    assert (await client.get("/files/a.txt")).status == 404


async def test_hanging_requests_are_capped(aiohttp_client):
    from loadtool.server.faults import HANGS, MAX_HANGS

    app = build_app()
    client = await aiohttp_client(app)
    app[HANGS].extend([object()] * MAX_HANGS)
    response = await client.get("/fault/hang")
    assert response.status == 503 and "at most" in await response.text()


async def test_the_stall_endpoint_blocks_the_whole_server(client):
    import asyncio

    started = time.perf_counter()
    stalled, health = await asyncio.gather(client.get("/fault/stall?ms=200"), client.get("/health"))
    assert stalled.status == health.status == 200
    assert time.perf_counter() - started >= 0.2


def test_serving_beyond_loopback_warns(loadtool_cli):
    taken = __import__("socket").socket()
    taken.bind(("0.0.0.0", 0))
    taken.listen(1)
    try:
        out = loadtool_cli("serve", "--host", "0.0.0.0", "--port", str(taken.getsockname()[1]))
    finally:
        taken.close()
    assert "not loopback" in out.stderr
    assert out.exit_code == 3 and "cannot listen" in out.stderr
