"""Sitemaps: the pages a host lists in the sitemaps its robots.txt names, within the protocol's limits.

A sitemap is XML of <loc> URLs, or an index of other sitemaps, gzipped or not. The
sitemaps protocol caps a file at 50,000 URLs and 50 MB uncompressed; so does reading one
here, as it streams: a gzipped file is inflated a step at a time and parsed as it comes
(lxml's pull parser, entities unresolved, no network), elements dropped once read. A
sitemap bomb — 1 MB that inflates to gigabytes — stops at 50 MB and costs no memory; a
broken file gives what could be read of it.
"""

from __future__ import annotations

import zlib

#: Sitemap files read per host at most (an index and the sitemaps it lists).
SITEMAPS_PER_HOST = 50
#: The protocol's limits on one file: uncompressed bytes, and URLs.
MAX_BYTES = 50 * 1000 * 1000
MAX_URLS = 50_000
#: Bytes inflated and parsed per step.
STEP = 256 * 1024


def _pieces(body: bytes):
    """The file's bytes, inflated when it is gzipped, a step at a time, at most MAX_BYTES.
    (A plain file too: fed whole, the parser would build all of its tree and events before
    any was read and dropped — 500 MB for 30 MB of <url>s.)"""
    if body[:2] != b"\x1f\x8b":
        for start in range(0, min(len(body), MAX_BYTES), STEP):
            yield body[start:min(start + STEP, MAX_BYTES)]
        return
    inflate, left, data = zlib.decompressobj(16 + zlib.MAX_WBITS), MAX_BYTES, body
    while data and left > 0:
        try:
            piece = inflate.decompress(data, min(STEP, left))
        except zlib.error:
            return  # what was read so far stands
        data = inflate.unconsumed_tail
        if inflate.eof and inflate.unused_data:  # gzip members one after another are one file
            data, inflate = inflate.unused_data, zlib.decompressobj(16 + zlib.MAX_WBITS)
        left -= len(piece)
        yield piece


def sitemap_locations(body: bytes) -> tuple[bool, list[str]]:
    """A sitemap's <loc> URLs (at most MAX_URLS), and whether it is an index (its locations are
    sitemaps)."""
    import lxml.etree

    parser = lxml.etree.XMLPullParser(events=("start", "end"), recover=True, resolve_entities=False, no_network=True)
    index, locations = None, []
    for piece in _pieces(body):
        try:
            parser.feed(piece)
        except lxml.etree.XMLSyntaxError:
            break
        for event, element in parser.read_events():
            name = lxml.etree.QName(element).localname  # start and end come of elements only
            if index is None and event == "start":
                index = name == "sitemapindex"
            if event == "end" and name == "loc":
                text = (element.text or "").strip()
                if text:
                    locations.append(text)
                if len(locations) >= MAX_URLS:
                    return bool(index), locations
            if event == "end" and name in ("url", "sitemap"):
                element.clear()
                while element.getprevious() is not None:  # what was read before it, too
                    del element.getparent()[0]
    return bool(index), locations
