"""What every HTTP engine agrees on, so the same server gets the same answer from each.

The conformance suite (tests/test_conformance.py) holds them to it.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from .. import __version__

USER_AGENT = f"loadtool/{__version__}"
#: Headers that carry a client's credentials: never sent to an origin other than the one
#: they were given for (RFC 9110 §15.4; curl, requests and browsers do the same).
CREDENTIALS = frozenset({"authorization", "cookie", "proxy-authorization"})
#: The limits of an answer's head, as http.client holds them: at most 100 header lines,
#: none over 64 KiB. A head beyond them is a ``protocol`` error.
MAX_HEADERS = 100
MAX_LINE = 64 * 1024


def request_of(target, fetch) -> tuple[str, str, tuple[tuple[str, str], ...], bytes | None]:
    """(method, url, headers of its own, body) of a fetch target: a URL goes with the job's
    method and body; a Request (targets.Request, from a targets file) brings its own, and
    the job's body stands in only where it has none."""
    if type(target) is str:
        return fetch.method, target, (), fetch.body
    return target.method, target.url, target.headers, fetch.body if target.body is None else target.body


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL: where credentials given for it may go."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def elsewhere(asked: str, answered: str) -> bool:
    """Whether redirects took a request for ``asked`` to another origin, ``answered``."""
    return asked != answered and origin(asked) != origin(answered)


def without_credentials(headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """``headers`` less those that carry credentials (for a redirect to another origin)."""
    return tuple((name, value) for name, value in headers if name.lower() not in CREDENTIALS)


@lru_cache(maxsize=1024)
def is_address(host: str) -> bool:
    """Whether ``host`` is an IP address (no name to look up) rather than a name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
