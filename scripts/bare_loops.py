#!/usr/bin/env python3
"""Each of loadtool's engines as a bare loop on the same library: the most that library
does for us from Python, with nothing of loadtool's (no policy, Sample, histogram,
phases, progress). ``scripts/bench`` runs them beside the engines, and the test suite's
speed guard (tests/test_speed.py) holds each engine to a share of its loop.

- ``fast``: asyncio.Protocol + httptools on uvloop, a future per request (the fast engine's
  libraries, as a plain program would use them);
- ``aiohttp``: one ClientSession, C workers each awaiting ``session.get`` and its body;
- ``curl``: a pycurl multi with C easy handles, a perform/select loop (``--http 2
  --streams S``: C/S connections of S streams each, as loadtool's curl engine runs them).

    python scripts/bare_loops.py fast|aiohttp|curl URL [-c 50] [-d 5] [--cacert CA.pem] [--http 1.1|2] [--streams 10]

Prints {"requests", "seconds", "rps", "cpu_s"} as JSON (cpu_s: this process's user +
system time during the loop, start-up not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import time
from urllib.parse import urlsplit


async def fast(url: str, connections: int, duration_s: float, cacert: str | None) -> int:
    import httptools

    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    context = ssl.create_default_context(cafile=cacert) if parts.scheme == "https" else None
    request = f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: bare\r\n\r\n".encode()
    loop = asyncio.get_running_loop()

    class Connection(asyncio.Protocol):
        def __init__(self) -> None:
            self.parser = httptools.HttpResponseParser(self)
            self.done: asyncio.Future | None = None
            self.transport = None

        def connection_made(self, transport) -> None:
            self.transport = transport

        def data_received(self, data: bytes) -> None:
            self.parser.feed_data(data)

        def on_message_complete(self) -> None:
            self.done.set_result(None)

        def connection_lost(self, exc) -> None:
            if self.done is not None and not self.done.done():
                self.done.set_exception(exc or ConnectionError("closed"))

    end = loop.time() + duration_s

    async def worker() -> int:
        _, connection = await loop.create_connection(Connection, host, port, ssl=context)
        done = 0
        while loop.time() < end:
            connection.done = loop.create_future()
            connection.transport.write(request)
            await connection.done
            done += 1
        connection.transport.close()
        return done

    return sum(await asyncio.gather(*(worker() for _ in range(connections))))


async def bare_aiohttp(url: str, connections: int, duration_s: float, cacert: str | None) -> int:
    import aiohttp

    context = ssl.create_default_context(cafile=cacert) if cacert else None
    loop = asyncio.get_running_loop()
    end = loop.time() + duration_s
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections, ssl=context)) as session:
        async def worker() -> int:
            done = 0
            while loop.time() < end:
                async with session.get(url) as response:
                    await response.read()
                done += 1
            return done

        return sum(await asyncio.gather(*(worker() for _ in range(connections))))


def curl(url: str, connections: int, duration_s: float, cacert: str | None, http: str, streams: int) -> int:
    import pycurl

    multi = pycurl.CurlMulti()
    multi.setopt(pycurl.M_MAXCONNECTS, connections)  # keep every connection (the default cache is smaller)
    if http == "2":
        multi.setopt(pycurl.M_PIPELINING, pycurl.PIPE_MULTIPLEX)
        multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, max(1, connections // streams))
        multi.setopt(pycurl.M_MAX_CONCURRENT_STREAMS, streams)
    handles = []
    for _ in range(connections):
        handle = pycurl.Curl()
        handle.setopt(pycurl.URL, url)
        handle.setopt(pycurl.WRITEFUNCTION, len)
        handle.setopt(pycurl.NOSIGNAL, 1)
        if cacert:
            handle.setopt(pycurl.CAINFO, cacert)
        if http == "2":
            handle.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2TLS)
            handle.setopt(pycurl.PIPEWAIT, 1)
        else:  # libcurl's default over https is HTTP/2 when the server offers it
            handle.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
        multi.add_handle(handle)
        handles.append(handle)
    end = time.monotonic() + duration_s
    done = 0
    while True:
        while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
            pass
        while True:
            queued, finished, failed = multi.info_read()
            for handle in finished + [each[0] for each in failed]:
                done += handle in finished
                multi.remove_handle(handle)
                if time.monotonic() < end:
                    multi.add_handle(handle)
            if not queued:
                break
        if time.monotonic() >= end and multi.perform()[1] == 0:
            break
        multi.select(0.1)
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("engine", choices=("fast", "aiohttp", "curl"))
    parser.add_argument("url")
    parser.add_argument("-c", "--connections", type=int, default=50)
    parser.add_argument("-d", "--duration", type=float, default=5.0, help="seconds")
    parser.add_argument("--cacert")
    parser.add_argument("--http", default="1.1", choices=("1.1", "2"))
    parser.add_argument("--streams", type=int, default=10)
    args = parser.parse_args()
    cpu, wall = time.process_time(), time.perf_counter()
    if args.engine == "curl":
        requests = curl(args.url, args.connections, args.duration, args.cacert, args.http, args.streams)
    else:
        import uvloop

        run = fast if args.engine == "fast" else bare_aiohttp
        requests = uvloop.run(run(args.url, args.connections, args.duration, args.cacert))
    seconds = time.perf_counter() - wall
    print(json.dumps({"requests": requests, "seconds": seconds, "rps": requests / seconds,
                      "cpu_s": time.process_time() - cpu}))


if __name__ == "__main__":
    main()
