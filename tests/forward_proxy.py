"""A forward proxy for the tests: counts every request and tunnel that passes through it.

http URLs come as absolute-form requests (``GET http://host:port/path HTTP/1.1``), which
it sends on in origin form; https URLs come as ``CONNECT host:port`` tunnels, which it
pipes both ways. It runs on its own event loop in a thread, on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import asyncio
import threading
from urllib.parse import urlsplit


class ForwardProxy:
    def __init__(self) -> None:
        self.requests = 0  # absolute-form requests relayed
        self.tunnels = 0  # CONNECT tunnels opened
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="forward-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            head = await client_reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            client_writer.close()
            return
        method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
            self.tunnels += 1
            client_writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await asyncio.gather(self._pipe(client_reader, upstream_writer), self._pipe(upstream_reader, client_writer))
            return
        parts = urlsplit(target)
        upstream_reader, upstream_writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
        relay = asyncio.ensure_future(self._pipe(upstream_reader, client_writer))
        try:
            while head:
                # Each request of the connection in origin form; bodies pass through by Content-Length.
                line, rest = head.split(b"\r\n", 1)
                method, target, version = line.decode("latin-1").split(" ", 2)
                parts = urlsplit(target)
                path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                self.requests += 1
                upstream_writer.write(f"{method} {path} {version}\r\n".encode("latin-1") + rest)
                length = next((int(header.split(b":", 1)[1]) for header in rest.split(b"\r\n")
                               if header.lower().startswith(b"content-length:")), 0)
                if length:
                    upstream_writer.write(await client_reader.readexactly(length))
                await upstream_writer.drain()
                head = await client_reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            upstream_writer.close()
            relay.cancel()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()
        server.close()

    async def _shutdown(self) -> None:
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __enter__(self) -> ForwardProxy:
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("the forward proxy did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
