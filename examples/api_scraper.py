"""An API scraper, as loadtool runs it: log in, page through the items with a cursor, and
fetch one item a page — three named steps — in two forms, the same journey each:

- ``Journey``: requests, with one Session per worker (a thread or a process), for
  sequential, threads and processes;
- ``AsyncJourney``: aiohttp, with one ClientSession per event loop, for async and hybrid.

The server is the one loadtool tells of (``--fixture`` starts the bundled one, whose /api/
serves this journey; ``--server URL`` names another):

    loadtool run examples/api_scraper.py:Journey --fixture -n 200 -c 20
    loadtool run examples/api_scraper.py:AsyncJourney --fixture -n 200 -c 20
    loadtool compare examples/api_scraper.py:Journey examples/api_scraper.py:AsyncJourney --fixture -n 100
"""

import os

import aiohttp
import requests

import loadtool

SERVER = os.environ.get("LOADTOOL_SERVER", "http://127.0.0.1:8080")


class Journey:
    """Operation i: user u{i} logs in, reads five pages of items and one item of each page."""

    def __enter__(self):
        self.session = requests.Session()  # one per worker: its connections are kept alive
        return self

    def __exit__(self, *exc_info):
        self.session.close()

    def __call__(self, i):
        with loadtool.step("login"):
            answer = self.session.post(f"{SERVER}/api/login", json={"user": f"u{i}"}, timeout=10)
            answer.raise_for_status()
        auth = {"Authorization": f"Bearer {answer.json()['token']}"}
        cursor = None
        while True:
            with loadtool.step("page"):
                page = self.session.get(f"{SERVER}/api/items", params={"cursor": cursor} if cursor else None,
                                        headers=auth, timeout=10)
                page.raise_for_status()
            listed = page.json()
            with loadtool.step("item"):
                item = self.session.get(f"{SERVER}/api/items/{listed['items'][0]}", headers=auth, timeout=10)
                item.raise_for_status()
            loadtool.check(item.json()["price"] >= 0, "price is not negative")
            cursor = listed["next"]
            if cursor is None:
                return


class AsyncJourney:
    """The same journey on an event loop: one ClientSession for the loop's coroutines."""

    async def __aenter__(self):
        self.session = aiohttp.ClientSession(raise_for_status=True, timeout=aiohttp.ClientTimeout(total=10))
        return self

    async def __aexit__(self, *exc_info):
        await self.session.close()

    async def __call__(self, i):
        async with loadtool.step("login"):
            async with self.session.post(f"{SERVER}/api/login", json={"user": f"u{i}"}) as answer:
                token = (await answer.json())["token"]
        auth = {"Authorization": f"Bearer {token}"}
        cursor = None
        while True:
            async with loadtool.step("page"):
                async with self.session.get(f"{SERVER}/api/items", params={"cursor": cursor} if cursor else None,
                                            headers=auth) as page:
                    listed = await page.json()
            async with loadtool.step("item"):
                async with self.session.get(f"{SERVER}/api/items/{listed['items'][0]}", headers=auth) as item:
                    price = (await item.json())["price"]
            loadtool.check(price >= 0, "price is not negative")
            cursor = listed["next"]
            if cursor is None:
                return
