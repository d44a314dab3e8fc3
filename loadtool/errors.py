"""Error kinds: what went wrong with one operation, as a name users can count.

A failed operation is never an exception that escapes a strategy: ``classify`` turns
whatever requests, urllib3, aiohttp, aiofiles or the OS raised into one of ``KINDS``,
and the operation becomes a counted Sample.
"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
from collections.abc import Iterator

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
    "file_not_found",
    "permission_denied",
    "is_a_directory",
    "verify_failed",       # file content does not match its manifest checksum
    "other",
)


class UsageError(ValueError):
    """Bad input from the user: shown as one line, exit code 2."""


class RunFailed(RuntimeError):
    """The run could not do its work at all (every operation failed): exit code 3."""


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


def _by_name(exc: BaseException) -> str | None:
    """Kinds told apart by the class names of requests, urllib3 and aiohttp.

    Matching names rather than importing keeps this module free of heavy imports and
    works the same for both HTTP stacks.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {"InvalidURL", "MissingSchema", "InvalidSchema", "URLRequired", "InvalidUrlClientError",
                "NonHttpUrlClientError", "LocationParseError", "InvalidHeader", "InvalidUrlRedirectClientError"}:
        return "invalid_url"
    if names & {"TooManyRedirects"}:
        return "too_many_redirects"
    if names & {"ConnectTimeout", "ConnectTimeoutError", "ConnectionTimeoutError"}:
        return "connect_timeout"
    if names & {"ReadTimeout", "ReadTimeoutError", "SocketTimeoutError"}:
        return "read_timeout"
    if names & {"NameResolutionError", "ClientConnectorDNSError"}:
        return "dns"
    if names & {"SSLError", "ClientSSLError", "ServerFingerprintMismatch"}:
        return "tls"
    if names & {"ContentLengthError", "IncompleteRead"}:
        return "truncated"
    if names & {"TransferEncodingError", "InvalidChunkLength", "BadStatusLine", "LineTooLong",
                "BadHttpMessage", "HttpProcessingError", "InvalidHeader", "HeaderParsingError",
                "ResponsePayloadError"}:
        return "protocol"
    if names & {"ServerDisconnectedError", "RemoteDisconnected"}:
        return "reset"
    return None


def _by_os_error(exc: BaseException) -> str | None:
    if isinstance(exc, ConnectionRefusedError):
        return "connect_refused"
    if isinstance(exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return "reset"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, ssl.SSLError):
        return "tls"
    if isinstance(exc, FileNotFoundError):
        return "file_not_found"
    if isinstance(exc, PermissionError):
        return "permission_denied"
    if isinstance(exc, IsADirectoryError):
        return "is_a_directory"
    if isinstance(exc, http.client.IncompleteRead):
        return "truncated"
    if isinstance(exc, http.client.HTTPException):
        return "protocol"
    if isinstance(exc, OSError) and exc.errno in (errno.ECONNRESET, errno.EPIPE):
        return "reset"
    if isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED:
        return "connect_refused"
    return None


def classify(exc: BaseException) -> str:
    """The error kind of an exception raised by one operation (one of ``KINDS``)."""
    chain = list(_chain(exc))
    for item in chain:
        kind = _by_name(item)
        if kind:
            return kind
    for item in chain:
        kind = _by_os_error(item)
        if kind:
            return kind
    if any(isinstance(item, (TimeoutError, socket.timeout)) for item in chain):
        return "read_timeout"
    return "other"


def describe(exc: BaseException) -> str:
    """One line naming an exception for a user: its kind and its message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{classify(exc)}: {text}"
