"""A server faster than any client under test: uvloop and asyncio.Protocol answering every
request with the same 1 KiB, keep-alive, nothing parsed but the end of each request head.

In its own process on a free loopback port, so that a client measured against it is the
bottleneck (the fixture server, aiohttp, is not fast enough for that). Run as a script,
it prints its port and serves until stdin closes.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

BODY = b"x" * 1024
ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: application/octet-stream\r\n\r\n"
          % len(BODY)) + BODY


class Answer(asyncio.Protocol):
    def connection_made(self, transport) -> None:
        self.transport, self.pending = transport, b""

    def data_received(self, data: bytes) -> None:
        data = self.pending + data
        heads = data.count(b"\r\n\r\n")
        self.pending = data[data.rfind(b"\r\n\r\n") + 4:] if heads else data
        if heads:
            self.transport.write(ANSWER * heads)


async def main() -> None:
    import uvloop  # noqa: F401 - the loop is uvloop's (see __main__)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(Answer, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # until the test closes our stdin


class RawServer:
    """The server in a subprocess: ``with RawServer() as server: server.url``."""

    def __enter__(self) -> RawServer:
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.url = f"http://127.0.0.1:{int(self.process.stdout.readline())}/1k"
        return self

    def __exit__(self, *exc) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
