"""The requests engine: one blocking HTTP attempt with a requests Session (sync strategies).

Each worker (a thread, a process) keeps its own Session, so connections are kept
alive and reused. Bodies are read in chunks and counted, not kept, so memory does not
grow with response size times concurrency.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from requests.adapters import HTTPAdapter

from .. import __version__
from .policy import Limits, Outcome

USER_AGENT = f"loadtool/{__version__}"
MAX_REDIRECTS = 10
CHUNK = 64 * 1024


class TotalTimeout(TimeoutError):
    """The attempt took longer than what was left of --timeout."""


class RequestsEngine:
    style = "sync"

    def __init__(self, job) -> None:
        self.fetch = job.fetch

    @contextmanager
    def session(self) -> Iterator[requests.Session]:
        """A Session for one worker: keep-alive, no urllib3 retries of its own."""
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=4, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.max_redirects = MAX_REDIRECTS
        session.headers["User-Agent"] = USER_AGENT
        session.headers.update(dict(self.fetch.headers))
        try:
            yield session
        finally:
            session.close()

    def attempt(self, session: requests.Session, url: str, limits: Limits) -> Outcome:
        fetch = self.fetch
        give_up = time.perf_counter() + limits.total_s
        try:
            with session.request(fetch.method, url, data=fetch.body, stream=True, allow_redirects=True,
                                 timeout=(limits.connect_s, limits.total_s)) as response:
                size = 0
                for chunk in response.raw.stream(CHUNK, decode_content=False):
                    size += len(chunk)
                    if time.perf_counter() > give_up:
                        raise TotalTimeout(f"no full answer within the time left ({limits.total_s:g}s)")
                return Outcome(response.status_code, size)
        except Exception as exc:  # noqa: BLE001 - every failure is an outcome for the policy
            return Outcome(error=exc)
