"""Run the fixture server: in the foreground (``loadtool serve``) or as a child process.

``FixtureServer`` starts ``loadtool serve --port 0`` in a subprocess, reads the URL it
announces once it listens (so there is no race for a free port and no polling), and
stops it on exit. The child runs in its own session so a Ctrl-C at the terminal reaches
only the client, which then stops the server itself; and the child watches its stdin,
so it exits on its own if the client dies without stopping it.
"""

from __future__ import annotations

import asyncio
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable

from ..system import die_with_parent, event_loop_factory, raise_open_files_limit

#: 1000+ clients connecting at once overflow a small accept queue; the overflow waits
#: for SYN retransmits (1 s, then 3 s), which would show up as fake latency.
BACKLOG = 4096
SHUTDOWN_S = 0.5
READY = re.compile(rb"(https?://\S+)")


def listening_socket(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


async def _serve(sock: socket.socket, app, stop: asyncio.Event) -> None:
    from aiohttp import web

    # No access log: formatting a line per request would cost the server more than the request.
    # Handler cancellation: a client that gives up on /fault/hang frees its handler at once.
    # A short shutdown: the fixture server has nothing to drain, and a client waiting for it
    # to stop (after Ctrl-C, say) should not wait on requests that hang on purpose.
    runner = web.AppRunner(app, access_log=None, handle_signals=False, handler_cancellation=True,
                           shutdown_timeout=SHUTDOWN_S)
    await runner.setup()
    await web.SockSite(runner, sock, backlog=BACKLOG).start()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _watch_parent(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop when stdin reaches EOF: the process that started us has gone."""
    def wait_for_eof() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_for_eof, name="parent-watch", daemon=True).start()


def serve(host: str = "127.0.0.1", port: int = 8080, seed: int = 0, profile: str = "web",
          announce: Callable[[str], None] = print, exit_with_parent: bool = False,
          files_root: str | None = None, workers: int = 1) -> None:
    """Serve the fixture site until SIGINT/SIGTERM (or, with ``exit_with_parent``, stdin EOF).

    With ``workers`` > 1, that many processes serve the same port, each with its own
    SO_REUSEPORT socket, so the kernel spreads connections over them and the server is
    not what limits a client's benchmark.
    """
    from .app import build_app

    raise_open_files_limit(65536)
    app = build_app(seed, profile, files_root)
    sock = listening_socket(host, port, reuse_port=workers > 1)
    bound_host, bound_port = sock.getsockname()[:2]
    children = [_fork_worker(host, bound_port, app, sock) for _ in range(workers - 1)]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    announce(f"loadtool fixture server on http://{shown}:{bound_port} "
             f"(seed {seed}, profile {profile}, {workers} worker{'s' if workers > 1 else ''}, pid {os.getpid()})")
    try:
        _run_worker(sock, app, exit_with_parent)
    finally:
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
                os.waitpid(child, 0)
            except ChildProcessError:
                pass
            except ProcessLookupError:
                pass


def _run_worker(sock: socket.socket, app, exit_with_parent: bool) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        if exit_with_parent:
            _watch_parent(asyncio.get_running_loop(), stop)
        await _serve(sock, app, stop)

    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(main())


def _fork_worker(host: str, port: int, app, parent_sock: socket.socket) -> int:
    """A forked server process on its own SO_REUSEPORT socket; it dies with the first process."""
    pid = os.fork()
    if pid:
        return pid
    try:
        die_with_parent()
        parent_sock.close()
        _run_worker(listening_socket(host, port, reuse_port=True), app, exit_with_parent=False)
    finally:
        os._exit(0)


class FixtureServer:
    """The fixture server in a child process on a free loopback port.

    Use as a context manager, or call ``start()`` and ``stop()``::

        with FixtureServer(seed=1) as server:
            loadtool.run(urls=[server.url("/delay/100")], count=100)
    """

    def __init__(self, seed: int = 0, profile: str = "web", host: str = "127.0.0.1",
                 files_root: str | None = None, workers: int = 1, startup_timeout_s: float = 20.0) -> None:
        self.seed, self.profile, self.host, self.files_root = seed, profile, host, files_root
        self.workers = workers
        self.startup_timeout_s = startup_timeout_s
        self.base_url = ""
        self._process: subprocess.Popen | None = None

    def start(self) -> FixtureServer:
        command = [sys.executable, "-m", "loadtool", "serve", "--host", self.host, "--port", "0",
                   "--seed", str(self.seed), "--profile", self.profile, "--exit-with-parent"]
        if self.files_root is not None:
            command += ["--files", str(self.files_root)]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        self._stderr = tempfile.TemporaryFile()
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self._stderr, start_new_session=True)
        try:
            self.base_url = self._read_ready_line().rstrip("/")
        except BaseException:  # interrupted while waiting (Ctrl-C): stop what was started
            self.stop()
            raise
        return self

    def _read_ready_line(self) -> str:
        selector = selectors.DefaultSelector()
        selector.register(self._process.stdout, selectors.EVENT_READ)
        ready = selector.select(self.startup_timeout_s)
        selector.close()
        line = self._process.stdout.readline() if ready else b""
        match = READY.search(line)
        if not match:
            self.stop()
            self._stderr.seek(0)
            detail = self._stderr.read().decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"the fixture server did not start: {detail[0]}")
        return match.group(1).decode()

    def url(self, path: str = "/") -> str:
        """The full URL of ``path`` on this server."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            process.stdin.close()  # EOF: the server's own signal to shut down cleanly
        except OSError:
            pass
        for action in (None, process.terminate, process.kill):
            if action is not None:
                action()
            try:
                process.wait(timeout=3)
                break
            except subprocess.TimeoutExpired:
                continue
        process.stdout.close()
        self._stderr.close()

    def __enter__(self) -> FixtureServer:
        return self if self._process is not None else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def fixture_server(seed: int = 0, profile: str = "web", host: str = "127.0.0.1",
                   files_root: str | None = None) -> FixtureServer:
    """A started FixtureServer (stop it, or use it in a ``with`` block)."""
    return FixtureServer(seed=seed, profile=profile, host=host, files_root=files_root).start()
