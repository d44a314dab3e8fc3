import errno
import socket
import ssl

import aiohttp
import pytest
import requests

from loadtool.errors import classify


@pytest.mark.parametrize("exc, kind", [
    (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "connect_refused"),
    (ConnectionResetError(errno.ECONNRESET, "reset"), "reset"),
    (socket.gaierror(-2, "Name or service not known"), "dns"),
    (ssl.SSLError("bad handshake"), "tls"),
    (TimeoutError(), "read_timeout"),
    (FileNotFoundError(2, "missing"), "file_not_found"),
    (PermissionError(13, "denied"), "permission_denied"),
    (IsADirectoryError(21, "dir"), "is_a_directory"),
    (requests.exceptions.ConnectTimeout(), "connect_timeout"),
    (requests.exceptions.ReadTimeout(), "read_timeout"),
    (requests.exceptions.TooManyRedirects(), "too_many_redirects"),
    (requests.exceptions.InvalidSchema(), "invalid_url"),
    (aiohttp.TooManyRedirects(None, ()), "too_many_redirects"),
    (aiohttp.ServerDisconnectedError(), "reset"),
    (aiohttp.InvalidURL("x"), "invalid_url"),
    (ValueError("something else"), "other"),
])
def test_exceptions_map_to_error_kinds(exc, kind):
    assert classify(exc) == kind


def test_the_cause_chain_is_followed():
    try:
        try:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "refused")
        except OSError as inner:
            raise requests.exceptions.ConnectionError("wrapped") from inner
    except requests.exceptions.ConnectionError as outer:
        assert classify(outer) == "connect_refused"
