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
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable

from ..system import die_with_parent, event_loop_factory, raise_open_files_limit
from .args import Behaviour

#: 1000+ clients connecting at once overflow a small accept queue; the overflow waits
#: for SYN retransmits (1 s, then 3 s), which would show up as fake latency.
BACKLOG = 4096
SHUTDOWN_S = 0.1
READY = re.compile(rb"(https?://\S+)")
#: The certificate files a TLS fixture server announces: its CA, and a client certificate.
CA = re.compile(rb"; CA (\S+?)[,)]")
CLIENT = re.compile(rb"client certificate (\S+?)\)")


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


async def _serve(sock: socket.socket, app, stop: asyncio.Event, ssl_context=None) -> None:
    from aiohttp import web

    # No access log: formatting a line per request would cost the server more than the request.
    # Handler cancellation: a client that gives up on /fault/hang frees its handler at once.
    # A short shutdown: the fixture server has nothing to drain, and a client waiting for it
    # to stop (after Ctrl-C, say) should not wait on requests that hang on purpose.
    runner = web.AppRunner(app, access_log=None, handle_signals=False, handler_cancellation=True,
                           shutdown_timeout=SHUTDOWN_S)
    await runner.setup()
    if ssl_context is not None and ssl_context.verify_mode == ssl.CERT_REQUIRED:
        # A client certificate required: TLS is ended by a front that fails handshakes as real
        # servers do (server.tlsfront); the app listens on a private loopback socket behind it.
        from .tlsfront import serve_front

        private = listening_socket("127.0.0.1", 0)
        await web.SockSite(runner, private, backlog=BACKLOG).start()
        serve_front(sock, ssl_context, private.getsockname()[:2])
    else:
        await web.SockSite(runner, sock, backlog=BACKLOG, ssl_context=ssl_context).start()
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
          files_root: str | None = None, workers: int = 1, tls: bool = False, client_cert: bool = False,
          http: str = "1.1", behaviour: Behaviour = Behaviour()) -> None:
    """Serve the fixture site until SIGINT/SIGTERM (or, with ``exit_with_parent``, stdin EOF).

    With ``workers`` > 1, that many processes serve the same port, each with its own
    SO_REUSEPORT socket, so the kernel spreads connections over them and the server is
    not what limits a client's benchmark. With ``tls``, over https with a certificate
    from a throwaway CA (its file is announced), asking clients for a certificate of
    theirs with ``client_cert``. ``http`` "2" (h2 over TLS, h2c without) and "3" (QUIC,
    which is TLS) serve the core endpoints with hypercorn (``server.asgi``).
    """
    from .app import build_app
    from .asgi import make_app
    from .certs import make_certs

    raise_open_files_limit(65536)
    sock = listening_socket(host, port, reuse_port=workers > 1)
    bound_host, bound_port = sock.getsockname()[:2]
    with tempfile.TemporaryDirectory(prefix="loadtool-certs-") as directory:
        certs = make_certs(directory) if tls or http == "3" else None
        secure = None if certs is None else server_context(certs, client_cert)
        if http != "1.1":
            app, run = None, _asgi_server(sock, make_app(seed, profile), exit_with_parent, certs, client_cert, http)
        else:
            app = build_app(seed, profile, files_root, behaviour)
            run = lambda: _run_worker(sock, app, exit_with_parent, secure)  # noqa: E731
        children = [_fork_worker(host, bound_port, app, sock, secure) for _ in range(workers - 1)] if app else []
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        extra = "" if certs is None else f"; CA {certs.ca}" + (f", client certificate {certs.client}" if client_cert else "")
        announce(f"loadtool fixture server on {'https' if certs else 'http'}://{shown}:{bound_port} "
                 f"(seed {seed}, profile {profile}, HTTP/{http}, {workers} worker{'s' if workers > 1 else ''}, "
                 f"pid {os.getpid()}{extra})")
        try:
            run()
        finally:
            _stop_children(children)


def _stop_children(children: list[int]) -> None:
    for child in children:
        try:
            os.kill(child, signal.SIGTERM)
            os.waitpid(child, 0)
        except (ChildProcessError, ProcessLookupError):
            pass


def server_context(certs, client_cert: bool) -> ssl.SSLContext:
    """The server side of TLS: its certificate, and with ``client_cert`` a client's required."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.server)
    if client_cert:
        context.load_verify_locations(certs.ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def _asgi_server(sock: socket.socket, app, exit_with_parent: bool, certs, client_cert: bool,
                 http: str) -> Callable[[], None]:
    """What serves the ASGI twin with hypercorn: h2 (and HTTP/1.1) on the TCP socket, QUIC on
    UDP. Its sockets are bound now; the returned function serves until stopped."""
    try:
        from hypercorn.asyncio import serve as hypercorn_serve
        from hypercorn.config import Config
    except ImportError:
        raise RuntimeError(f"serving HTTP/{http} needs hypercorn: pip install 'loadtool[http2]'") from None

    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    sockets = [sock]  # held for as long as the server runs: a socket collected is a closed fd
    config.accesslog = config.errorlog = None
    if certs is not None:
        config.certfile = config.keyfile = certs.server
        if client_cert:
            config.ca_certs, config.verify_mode = certs.ca, ssl.CERT_REQUIRED
    if http == "3":
        # Bound here, before the server announces itself: a client may send at once.
        family = socket.AF_INET6 if ":" in sock.getsockname()[0] else socket.AF_INET
        quic = socket.socket(family, socket.SOCK_DGRAM)
        quic.bind(sock.getsockname()[:2])
        sockets.append(quic)
        config.quic_bind = [f"fd://{quic.fileno()}"]

    async def main() -> None:
        stop = asyncio.Event()
        if exit_with_parent:
            _watch_parent(asyncio.get_running_loop(), stop)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await hypercorn_serve(app, config, shutdown_trigger=stop.wait)

    def run() -> None:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(main())
        for held in sockets:
            held.close()
    return run


def _run_worker(sock: socket.socket, app, exit_with_parent: bool, ssl_context=None) -> None:
    async def main() -> None:
        stop = asyncio.Event()
        if exit_with_parent:
            _watch_parent(asyncio.get_running_loop(), stop)
        await _serve(sock, app, stop, ssl_context)

    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(main())


def _fork_worker(host: str, port: int, app, parent_sock: socket.socket, ssl_context=None) -> int:
    """A forked server process on its own SO_REUSEPORT socket; it dies with the first process."""
    pid = os.fork()
    if pid:
        return pid
    try:
        die_with_parent()
        parent_sock.close()
        _run_worker(listening_socket(host, port, reuse_port=True), app, exit_with_parent=False, ssl_context=ssl_context)
    finally:
        os._exit(0)


class FixtureServer:
    """The fixture server in a child process on a free loopback port.

    Use as a context manager, or call ``start()`` and ``stop()``::

        with FixtureServer(seed=1) as server:
            loadtool.run(urls=[server.url("/delay/100")], count=100)
    """

    def __init__(self, seed: int = 0, profile: str = "web", host: str = "127.0.0.1",
                 files_root: str | None = None, workers: int = 1, startup_timeout_s: float = 20.0,
                 tls: bool = False, client_cert: bool = False, http: str = "1.1",
                 behaviour: Behaviour = Behaviour()) -> None:
        self.seed, self.profile, self.host, self.files_root = seed, profile, host, files_root
        #: How real it is: compression (and its other Behaviour settings).
        self.behaviour = behaviour
        self.workers = workers
        self.tls, self.client_cert, self.http = tls, client_cert, http
        #: With TLS: the CA file to trust (--cacert), and a client certificate (--cert) when asked for.
        self.cacert: str | None = None
        self.client_certificate: str | None = None
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
        if self.tls:
            command += ["--tls"] + (["--client-cert"] if self.client_cert else [])
        if self.http != "1.1":
            command += ["--http", self.http]
        command += self.behaviour.arguments()
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
        ca, client = CA.search(line), CLIENT.search(line)
        self.cacert = ca.group(1).decode() if ca else None
        self.client_certificate = client.group(1).decode() if client else None
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
