"""TLS that requires a client certificate, ended the way real servers end it.

When a client sends no certificate (or one the CA did not sign), an OpenSSL server such as
Apache or ``openssl s_server`` fails the handshake with an alert — TLS 1.3's
``certificate_required`` — which the client reads as a TLS error. The event loop's TLS
(asyncio's and uvloop's) drops the connection at once instead, without flushing that
alert, and the client saw a bare close: a ``reset``, where every other server says
``tls``. So with --client-cert, the fixture server's TLS is ended here, on blocking
sockets (which send the alert before closing), and each connection's plain bytes are
piped to the fixture app on a private loopback socket. One thread per connection: this
serves tests of client certificates, not load.
"""

from __future__ import annotations

import socket
import ssl
import threading

CHUNK = 64 * 1024


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(CHUNK):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _linger(conn: socket.socket) -> None:
    """Close as web servers do after an error: stop sending, then read what the client had
    already sent (its request, right behind its half of the handshake) for a moment before
    closing. Closed with unread bytes, the socket would answer with a reset, and the client
    might read that instead of the alert."""
    try:
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(5.0)
        while conn.recv(CHUNK):
            pass
    except OSError:
        pass
    finally:
        conn.close()


def _connection(conn: socket.socket, context: ssl.SSLContext, backend: tuple[str, int]) -> None:
    conn.setblocking(True)
    conn.settimeout(30)
    # The handshake by hand: wrap_socket's own would close the socket as it fails, and a request
    # arriving then is answered with a reset (which the client may read before the alert).
    secure = context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
    try:
        secure.do_handshake()  # a failed handshake sends its alert
    except (ssl.SSLError, OSError):
        _linger(socket.socket(fileno=secure.detach()))
        return
    secure.settimeout(None)
    with secure, socket.create_connection(backend) as plain:
        upstream = threading.Thread(target=_pipe, args=(plain, secure), daemon=True)
        upstream.start()
        _pipe(secure, plain)
        upstream.join()


def serve_front(listener: socket.socket, context: ssl.SSLContext, backend: tuple[str, int]) -> threading.Thread:
    """Accept TLS connections on ``listener`` (from a thread of its own, until it is closed) and
    hand each one's plain bytes to ``backend``."""
    listener.setblocking(True)

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # closed: the server is stopping
            threading.Thread(target=_connection, args=(conn, context, backend), daemon=True).start()

    thread = threading.Thread(target=accept, name="tls-front", daemon=True)
    thread.start()
    return thread
