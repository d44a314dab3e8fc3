"""URLs as a crawl keeps them, the links of a page as a browser reads them, where robots.txt is.

Three forms of a URL:

- ``normalize``: the URL a link leads to, as it is fetched — absolute (resolved against the
  page's base URL), its fragment dropped, scheme and host lower-cased, an IDN host in
  punycode, the default port dropped; otherwise as the page wrote it.
- ``canonical``: the key of the seen set, so one resource is fetched once however it is
  written — w3lib's ``canonicalize_url`` (Scrapy's): percent-escapes in one case and
  unreserved characters unescaped (``%7e`` and ``%7E`` are ``~``), dot segments resolved,
  an empty query dropped. The query's order is kept unless asked (``sort_query``): a site may
  read ``?a=1&b=2`` and ``?b=2&a=1`` differently.
- ``robots_url``: where a URL's host keeps its robots.txt.

``links_of`` reads a page with lxml's HTML parser (80 µs for a 41 KiB fixture page here,
against 107 µs for selectolax's lexbor: scripts/bench_links.py) and follows what a browser
navigates to: ``<a>`` and ``<area>`` hrefs, ``<frame>`` and ``<iframe>`` sources (they are
pages shown in the page), ``<link rel="next|prev|alternate">`` (the site's own pagination
and translations); not stylesheets, icons, scripts or images, which are not pages. All are
resolved against ``<base href>`` when the page has one. ``<meta http-equiv="refresh">`` is a
redirect: its URL is queued like a 301's Location. Links with ``rel="nofollow"``, and every
link of a page whose ``<meta name="robots">`` or ``X-Robots-Tag`` header says ``nofollow``
(or ``none``), are not followed unless asked (``follow_nofollow``): the site asked crawlers
not to, and a load tester that sizes a polite crawl should crawl what one would. Scrapy
follows them by default.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

from ..strategies.politeness import host_of

_DEFAULT_PORTS = {"http": 80, "https": 443}
#: A URL of these characters only, with no dot segment, is already canonical (nothing to
#: unescape, escape or resolve): the common case, kept off w3lib's slower path.
_PLAIN = re.compile(r"[A-Za-z0-9\-._~:/?@!$&'()*+,;=]*\Z")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
#: What each element a browser navigates to keeps its URL in.
_TARGET = {"a": "href", "area": "href", "link": "href", "frame": "src", "iframe": "src"}
#: <link> relations that lead to another page of the site.
_PAGE_RELS = frozenset({"next", "prev", "previous", "alternate"})
#: <meta http-equiv="refresh" content="5; url=/next">: the delay, then the URL (quoted or not).
_REFRESH = re.compile(r"\s*[\d.]*\s*[;,\s]\s*(?:url\s*=\s*)?(['\"]?)(.+?)\1\s*\Z", re.IGNORECASE | re.DOTALL)
#: Robots directives that carry a colon themselves, not a user agent's name.
_COLON_DIRECTIVES = frozenset({"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"})


def normalize(base: str, href: str) -> str | None:
    """The absolute, normalized URL ``href`` on a page whose base URL is ``base`` leads to, or
    None when it is not a web page address (mailto:, javascript:, a malformed URL)."""
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
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def canonical(url: str, sort_query: bool = False) -> str:
    """The seen set's key of a ``normalize``d URL: one resource, one key (see the module)."""
    path, mark, query = url.partition("?")
    if _PLAIN.match(url) and "/." not in path and not (mark and (sort_query or not query)):
        return url
    from w3lib.url import canonicalize_url

    if sort_query or not query:
        return canonicalize_url(url)
    # w3lib sorts every query: the path by w3lib, the query's escapes as it writes them.
    return f"{canonicalize_url(path)}?{_ESCAPE.sub(_unescape, _safe_query(query))}"


def _safe_query(query: str) -> str:
    """The query with what may not stand in a URL percent-encoded (UTF-8), as w3lib does."""
    from w3lib.url import safe_url_string

    return safe_url_string(f"http://h/?{query}").partition("?")[2]


def _unescape(match: re.Match) -> str:
    character = chr(int(match[1], 16))
    return character if character in _UNRESERVED else f"%{match[1].upper()}"


class Links(NamedTuple):
    """What a page leads to, as written (resolve them against ``base``)."""

    #: The document's base URL: its <base href>, resolved, or the page's own URL.
    base: str
    hrefs: list[str]
    #: The URL of its <meta http-equiv="refresh">: a redirect.
    refresh: str | None = None
    #: Links not followed: rel="nofollow", or the page's robots directives said nofollow.
    nofollow: int = 0


def links_of(body: bytes, url: str, headers: dict | None = None, follow_nofollow: bool = False) -> Links:
    """The links of the page at ``url`` a browser would navigate to (see the module), its
    base URL and meta refresh; with ``headers`` (lower-case names), its X-Robots-Tag obeyed."""
    import lxml.etree
    import lxml.html

    try:
        root = lxml.html.fromstring(body)
    except (lxml.etree.ParserError, ValueError):
        return Links(url, [])
    base, refresh, nofollow, hrefs = None, None, 0, []
    page_nofollow = not follow_nofollow and headers is not None and _says_nofollow(headers.get("x-robots-tag", ""))
    for element in root.iter("a", "area", "link", "frame", "iframe", "base", "meta"):
        tag = element.tag
        if tag == "base":
            if base is None and (href := element.get("href")):
                base = urljoin(url, href.strip())
        elif tag == "meta":
            if refresh is None and (element.get("http-equiv") or "").lower() == "refresh":
                refresh = _refresh_url(element.get("content") or "")
            elif not follow_nofollow and (element.get("name") or "").lower() in ("robots", "loadtool"):
                page_nofollow = page_nofollow or _says_nofollow(element.get("content") or "")
        elif target := element.get(_TARGET[tag]):
            rel = (element.get("rel") or "").lower().split()
            if tag == "link" and (not _PAGE_RELS.intersection(rel) or "stylesheet" in rel):
                continue
            if "nofollow" in rel and not follow_nofollow:
                nofollow += 1
                continue
            hrefs.append(target)
    if page_nofollow:
        return Links(base or url, [], refresh, nofollow + len(hrefs))
    return Links(base or url, hrefs, refresh, nofollow)


def _refresh_url(content: str) -> str | None:
    match = _REFRESH.match(content)
    return match[2] if match else None


def _says_nofollow(directives: str) -> bool:
    """Whether robots directives (a meta tag's content, or X-Robots-Tag) say nofollow to us:
    ``nofollow`` or ``none``, unless addressed to another crawler (``otherbot: nofollow``)."""
    text = directives.lower()
    name, colon, rest = text.partition(":")
    if colon and name.strip() not in _COLON_DIRECTIVES:
        if name.strip() != "loadtool":
            return False
        text = rest
    return any(token.strip() in ("nofollow", "none") for token in text.split(","))


def robots_url(url: str) -> str:
    """Where the robots.txt of ``url``'s host is: ``scheme://host[:port]/robots.txt``, never with
    the page's query (RFC 9309 2.3: a seed's session token must not reach it) — or, on the
    fixture web, whose ``/web/{h}/`` stands for host h, that host's own, the web's query kept
    (it says which web: its size, and the test's run)."""
    parts = urlsplit(url)
    root = host_of(url)[len(parts.netloc):]
    return urlunsplit((parts.scheme, parts.netloc, f"{root}/robots.txt", parts.query if root else "", ""))
