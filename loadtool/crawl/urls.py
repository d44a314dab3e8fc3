"""URLs as a crawl keeps them: absolute and normalized, the links of a page, where robots.txt is.

Every URL a page links to is made absolute and normalized (scheme and host lower-cased,
default port and fragment dropped, the path resolved) before it is compared with those
already met. Links are read with lxml's HTML parser (84 µs for a 41 KiB fixture page here,
against 88 µs for selectolax's lexbor: scripts/bench_links.py).
"""

from __future__ import annotations

from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

from ..politeness import host_of

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize(base: str, href: str) -> str | None:
    """The absolute, normalized URL ``href`` on page ``base`` leads to, or None when it is
    not a web page address (mailto:, javascript:, a malformed URL)."""
    try:
        url = urldefrag(urljoin(base, href.strip()))[0]
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def links_of(body: bytes) -> list[str]:
    """The hrefs of a page's <a> elements, in order."""
    import lxml.etree
    import lxml.html

    try:
        root = lxml.html.fromstring(body)
    except (lxml.etree.ParserError, ValueError):
        return []
    return [href for element in root.iter("a") if (href := element.get("href"))]


def robots_url(url: str) -> str:
    """Where the robots.txt of ``url``'s host is: ``scheme://host[:port]/robots.txt``, never with
    the page's query (RFC 9309 2.3: a seed's session token must not reach it) — or, on the
    fixture web, whose ``/web/{h}/`` stands for host h, that host's own, the web's query kept
    (it says which web: its size, and the test's run)."""
    parts = urlsplit(url)
    root = host_of(url)[len(parts.netloc):]
    return urlunsplit((parts.scheme, parts.netloc, f"{root}/robots.txt", parts.query if root else "", ""))
