"""Error kinds: what went wrong with one operation, as a name users can count.

A failed operation is never an exception that escapes a strategy: ``classify`` turns
whatever requests, urllib3, aiohttp, aiofiles or the OS raised into one of ``KINDS``,
and the operation becomes a counted Sample.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from functools import cache

KINDS = (
    "connect_refused",     # nothing listens on the port
    "connect_timeout",     # no TCP connection within --connect-timeout
    "read_timeout",        # connected, but the answer did not come within --timeout
    "reset",               # the peer reset or closed the connection before answering in full
    "truncated",           # the body ended before its Content-Length
    "protocol",            # the peer answered with something that is not valid HTTP
    "invalid_url",         # not an http(s) URL we can send
    "dns",                 # the host name did not resolve
    "tls",                 # TLS handshake or certificate failure
    "too_many_redirects",  # a redirect chain longer than the limit
    "too_large",           # a body that decodes to more than --max-decoded (a compression bomb)
    "open_files",          # the client ran out of file descriptors (ulimit -n): no socket or file to open
    "timeout",             # an operation of the user's own ran past --timeout
    "file_not_found",
    "permission_denied",
    "is_a_directory",
    "not_a_file",          # a FIFO, socket or device: never opened, so a read cannot hang on it
    "symlink_loop",        # symbolic links that point round in a circle
    "verify_failed",       # file content does not match its manifest checksum
    "other",
)


class UsageError(ValueError):
    """Bad input from the user: shown as one line, exit code 2."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and exceptions carried in its args."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        item = todo.pop(0)
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo.extend(arg for arg in getattr(item, "args", ()) if isinstance(arg, BaseException))
        for linked in (item.__cause__, item.__context__, getattr(item, "os_error", None)):
            if isinstance(linked, BaseException):
                todo.append(linked)


#: Class names from requests, urllib3 and aiohttp, by the kind they signal. Matching
#: names rather than importing keeps this module light and treats both stacks alike.
#: (urllib3's NewConnectionError is absent on purpose: it subclasses ConnectTimeoutError
#: for history's sake, and its cause in the chain says what really happened.)
_NAMES = {
    "invalid_url": {"InvalidURL", "MissingSchema", "InvalidSchema", "URLRequired", "InvalidUrlClientError",
                    "NonHttpUrlClientError", "LocationParseError", "InvalidUrlRedirectClientError",
                    "NonHttpUrlRedirectClientError"},
    "too_many_redirects": {"TooManyRedirects"},
    "too_large": {"TooLarge"},
    "tls": {"SSLError", "ClientSSLError", "ClientConnectorSSLError", "ClientConnectorCertificateError",
            "ServerFingerprintMismatch"},
    "dns": {"NameResolutionError", "ClientConnectorDNSError"},
    "connect_timeout": {"ConnectTimeout", "ConnectTimeoutError", "ConnectionTimeoutError"},
    "read_timeout": {"ReadTimeout", "ReadTimeoutError", "SocketTimeoutError", "WriteTimeout", "PoolTimeout"},
    "truncated": {"ContentLengthError", "IncompleteRead", "CutHead"},
    "protocol": {"TransferEncodingError", "InvalidChunkLength", "BadStatusLine", "LineTooLong",
                 "BadHttpMessage", "HttpProcessingError", "InvalidHeader", "HeaderParsingError", "BadEncoding"},
    "reset": {"ServerDisconnectedError", "RemoteDisconnected", "RemoteProtocolError"},
}

#: Exceptions whose kind only their message tells, as (class name, words in the message):
#: a chunked body that ended before its last chunk, in urllib3's words and aiohttp's.
_MESSAGES = {
    ("ProtocolError", "ended prematurely"): "truncated",
    ("TransferEncodingError", "Not enough data"): "truncated",
}

#: When a chain suggests several kinds, the first here wins: the most specific cause
#: (the connection was refused) outranks generic ones found beside it (a timeout).
PRECEDENCE = ("invalid_url", "too_many_redirects", "too_large", "open_files", "tls", "dns", "file_not_found",
              "permission_denied",
              "is_a_directory", "not_a_file", "symlink_loop", "connect_refused", "protocol", "reset", "truncated", "connect_timeout",
              "read_timeout", "other")

@cache
def _os_errors() -> tuple:
    """Exception types by kind; built on first use so ``loadtool --help`` imports no ssl."""
    import http.client
    import socket
    import ssl

    return (
        (ConnectionRefusedError, "connect_refused"),
        ((ConnectionResetError, ConnectionAbortedError, BrokenPipeError), "reset"),
        (socket.gaierror, "dns"),
        (ssl.SSLError, "tls"),
        (FileNotFoundError, "file_not_found"),
        (PermissionError, "permission_denied"),
        (IsADirectoryError, "is_a_directory"),
        (http.client.IncompleteRead, "truncated"),
        (TimeoutError, "read_timeout"),
        # IncompleteRead is an HTTPException too, but a short body is not a protocol error.
        (http.client.HTTPException, "protocol"),
    )


def _text(exc: BaseException) -> str:
    """An exception's message (some libraries' messages fail when made by hand: then none)."""
    try:
        return str(exc)
    except Exception:  # noqa: BLE001
        return ""


def _kinds(exc: BaseException) -> set[str]:
    """Every kind one exception (not its chain) suggests.

    Library classes match by their exact name, not their bases: aiohttp's
    ContentLengthError (a truncated body) descends from BadHttpMessage (a protocol error),
    and http.client's RemoteDisconnected (no answer at all) from BadStatusLine.
    """
    name = type(exc).__name__
    # aiohttp says the server disconnected, and carries the head it had begun to parse (a
    # RawResponseMessage) when the close came mid-head: an answer cut short, not no answer.
    if name == "ServerDisconnectedError" and type(getattr(exc, "message", None)).__name__ == "RawResponseMessage":
        return {"truncated"}
    for (class_name, words), kind in _MESSAGES.items():
        if name == class_name and words in _text(exc):
            return {kind}
    kinds = {kind for kind, signals in _NAMES.items() if name in signals}
    if kinds:
        return kinds
    for types, kind in _os_errors():
        if isinstance(exc, types):
            kinds.add(kind)
            if kind == "truncated":
                break
    if isinstance(exc, OSError) and exc.errno in (errno.ECONNRESET, errno.EPIPE):
        kinds.add("reset")
    # aiohttp keeps the connection error behind a short body only in the message of its
    # ClientPayloadError (client_proto.connection_lost formats its repr in): a reset shows
    # there as ConnectionResetError, an orderly close leaves nothing.
    if name == "ClientPayloadError" and "ConnectionResetError" in _text(exc):
        kinds.add("reset")
    if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
        kinds.add("open_files")
    if isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED:
        kinds.add("connect_refused")
    if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
        kinds.add("symlink_loop")
    if (isinstance(exc, OSError) and exc.errno == errno.ENXIO) or name == "NotAFile":  # a socket file, a FIFO
        kinds.add("not_a_file")
    return kinds


def classify(exc: BaseException) -> str:
    """The error kind of an exception raised by one operation (one of ``KINDS``)."""
    found = set().union(*(_kinds(item) for item in _chain(exc)))
    return next((kind for kind in PRECEDENCE if kind in found), "other")


def kind_or_type(exc: BaseException) -> str:
    """The kind an exception from an operation of the user's own counts as: loadtool's where
    the library that raised it means one (requests', aiohttp's and httpx's refused connections,
    timeouts, resets...), else the exception's type (``ValueError``)."""
    kind = classify(exc)
    return kind if kind != "other" else type(exc).__name__


def message(exc: BaseException, limit: int = 200) -> str:
    """A short message for an exception: the root OS error's words when the chain has one
    ("Connection refused" rather than urllib3's "Max retries exceeded with url: …")."""
    if type(getattr(exc, "message", None)).__name__ == "RawResponseMessage":
        return "the connection closed before the answer's head ended"
    root = next((item for item in reversed(list(_chain(exc)))
                 if isinstance(item, OSError) and item.strerror), None)
    text = root.strerror if root is not None else " ".join(str(exc).split())
    return (text or type(exc).__name__)[:limit]
