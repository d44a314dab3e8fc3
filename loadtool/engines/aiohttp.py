"""The aiohttp engine: one HTTP attempt as a coroutine (the async twin of the requests engine).

One ClientSession serves a whole event loop, with at most C connections. Bodies are
counted, not kept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from .policy import Limits, Outcome
from .fast import MAX_HEADERS, MAX_LINE
from .requests import MAX_REDIRECTS, USER_AGENT


class AiohttpEngine:
    style = "async"

    def __init__(self, job) -> None:
        self.fetch = job.fetch
        self.timeout_s = job.timeout_s

    @asynccontextmanager
    async def session(self, limit: int) -> AsyncIterator[aiohttp.ClientSession]:
        """One session for the loop, at most ``limit`` connections open."""
        connector = aiohttp.TCPConnector(limit=limit, limit_per_host=0, ttl_dns_cache=300)
        timeout = aiohttp.ClientTimeout(total=self.timeout_s, sock_connect=self.fetch.connect_timeout_s)
        async with aiohttp.ClientSession(
                connector=connector, timeout=timeout, auto_decompress=False,
                # Cookies would make request i depend on the answers before it.
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": USER_AGENT, **dict(self.fetch.headers)},
                # The limits of an answer's head as http.client holds them, so every engine agrees.
                max_line_size=MAX_LINE, max_field_size=MAX_LINE, max_headers=MAX_HEADERS) as session:
            yield session

    async def attempt(self, session: aiohttp.ClientSession, url: str, limits: Limits) -> Outcome:
        fetch = self.fetch
        timeout = aiohttp.ClientTimeout(total=limits.total_s, sock_connect=limits.connect_s)
        try:
            # aiohttp stops at max_redirects - 1 redirects; requests and the fast engine follow
            # MAX_REDIRECTS.
            async with session.request(fetch.method, url, data=fetch.body, allow_redirects=True,
                                       max_redirects=MAX_REDIRECTS + 1, timeout=timeout) as response:
                size = 0
                while chunk := await response.content.readany():
                    size += len(chunk)
                return Outcome(response.status, size)
        except Exception as exc:  # noqa: BLE001 - every failure is an outcome for the policy
            return Outcome(error=exc)
