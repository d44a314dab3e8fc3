"""A server that sets a cookie on every answer and counts the requests that send one back."""

from __future__ import annotations

import asyncio
import itertools
import threading

#: How long each answer takes.
ANSWER_S = 0.03


class CookieServer:
    def __init__(self) -> None:
        self.with_cookie = 0
        self._ids = itertools.count()
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="cookie-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if b"\ncookie:" in head.lower():
                    self.with_cookie += 1
                # Each answer takes a while, as a real one does: a worker that started late still
                # finds requests left to send (without it, one worker sent all ten on a busy machine).
                await asyncio.sleep(ANSWER_S)
                writer.write(b"HTTP/1.1 200 OK\r\nSet-Cookie: visit=%d; Path=/\r\nContent-Length: 2\r\n\r\nok"
                             % next(self._ids))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()
        server.close()

    async def _shutdown(self) -> None:
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __enter__(self) -> CookieServer:
        self.thread.start()
        self.ready.wait(10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
