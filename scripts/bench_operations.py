"""Operations for scripts/bench: what loadtool costs around an operation of the user's own.

- ``noop``: an async def that does nothing — loadtool's own cost per operation.
- ``OneGet``: one GET with aiohttp, a ClientSession per event loop, of LOADTOOL_SERVER (the
  whole URL, as --server gives it) — against ``loadtool fetch -e aiohttp`` on the same URL.
"""

import os

import aiohttp


async def noop(i):
    pass


class OneGet:
    async def __aenter__(self):
        self.url = os.environ["LOADTOOL_SERVER"]
        self.session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc_info):
        await self.session.close()

    async def __call__(self, i):
        async with self.session.get(self.url) as answer:
            await answer.read()
