"""Sitemaps: the pages a host lists in the sitemaps its robots.txt names.

A sitemap is XML (gzipped or not) of <loc> URLs, or an index of other sitemaps; lxml
reads it with entity resolution and the network off, and a broken one gives what could
be read of it.
"""

from __future__ import annotations

#: Sitemap files read per host at most (an index and the sitemaps it lists).
SITEMAPS_PER_HOST = 50


def sitemap_locations(body: bytes) -> tuple[bool, list[str]]:
    """A sitemap's <loc> URLs, and whether it is an index (its locations are sitemaps).
    Gzipped sitemaps are unpacked; a broken one gives what could be read of it."""
    import gzip

    import lxml.etree

    if body[:2] == b"\x1f\x8b":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError):
            return False, []
    parser = lxml.etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
    try:
        root = lxml.etree.fromstring(body, parser)
    except lxml.etree.XMLSyntaxError:
        return False, []
    if root is None:
        return False, []
    locations = [element.text.strip() for element in root.iter("{*}loc") if element.text and element.text.strip()]
    return lxml.etree.QName(root).localname == "sitemapindex", locations
