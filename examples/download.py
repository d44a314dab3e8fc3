"""The tutorial's lesson as loadtool operations: download a site, one page an operation.

The same download four ways, as the tutorial writes them — with requests one at a time
(sequential), in a thread pool (threads), in a process pool (processes), and with aiohttp
on one event loop, the downloads gathered (async):

    loadtool compare examples/download.py:Download examples/download.py:AsyncDownload --fixture -n 100

``Download`` (a plain def, each worker with its own requests Session) runs in sequential,
threads and processes: a thread blocks while its page comes. ``AsyncDownload`` (an async
def, one aiohttp ClientSession for the event loop) runs in async and hybrid: the loop
runs the others while one waits. ``download_site`` is the plainest form, a function with
a connection of its own each call.
"""

import os

import aiohttp
import requests

SERVER = os.environ.get("LOADTOOL_SERVER", "http://127.0.0.1:8080")
#: Each page takes the fixture server 50 ms to answer: the wait the strategies overlap.
PAGE = "/delay/50"


def download_site(i):
    """Page i with requests, a connection of its own: the thread waits while the page comes."""
    with requests.get(f"{SERVER}{PAGE}", timeout=10) as answer:
        answer.raise_for_status()


class Download:
    """Page i with the worker's own requests Session (its connection kept alive)."""

    def __enter__(self):
        self.session = requests.Session()
        return self

    def __exit__(self, *exc_info):
        self.session.close()

    def __call__(self, i):
        with self.session.get(f"{SERVER}{PAGE}", timeout=10) as answer:
            answer.raise_for_status()


class AsyncDownload:
    """Page i with the loop's aiohttp ClientSession: loadtool gathers C of these at once."""

    async def __aenter__(self):
        self.session = aiohttp.ClientSession(raise_for_status=True)
        return self

    async def __aexit__(self, *exc_info):
        await self.session.close()

    async def __call__(self, i):
        async with self.session.get(f"{SERVER}{PAGE}") as answer:
            await answer.read()
