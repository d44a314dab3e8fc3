#!/usr/bin/env python3
"""Finding a page's links: lxml's HTML parser (what the crawl uses) against selectolax's
lexbor, on the fixture web's pages (22 KiB at the median), best of --rounds, µs a page.

selectolax is not a loadtool dependency: pip install selectolax to compare (else only lxml
is measured, and the script says so).

    python scripts/bench_links.py [--pages 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write  # noqa: E402

from loadtool.crawl import links_of  # noqa: E402
from loadtool.server.run import FixtureServer  # noqa: E402


def per_page_us(find, bodies: list[bytes], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for body in bodies:
            find(body)
        best = min(best, time.perf_counter() - started)
    return best / len(bodies) * 1e6


def selectolax_links(body: bytes) -> list[str]:
    """The same links as ``links_of`` finds (what a browser navigates to), with lexbor."""
    from selectolax.lexbor import LexborHTMLParser

    hrefs = []
    for node in LexborHTMLParser(body).css("a, area, link, frame, iframe, base, meta"):
        attributes = node.attributes
        target = attributes.get("src" if node.tag in ("frame", "iframe") else "href")
        if node.tag in ("base", "meta") or not target:
            continue
        rel = (attributes.get("rel") or "").lower().split()
        if node.tag == "link" and not {"next", "prev", "previous", "alternate"}.intersection(rel):
            continue
        if "nofollow" not in rel:
            hrefs.append(target)
    return hrefs


def lxml_links(body: bytes) -> list[str]:
    return links_of(body, "http://127.0.0.1/").hrefs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with FixtureServer(profile="web") as server:
        bodies = []
        for i in range(args.pages):
            with urllib.request.urlopen(server.url(f"/web/{i % 16}/page/{i}"), timeout=30) as answer:
                bodies.append(answer.read())
    size_kib = sum(map(len, bodies)) / len(bodies) / 1024
    results = {"pages": len(bodies), "mean_kib": size_kib, "lxml_us": per_page_us(lxml_links, bodies, args.rounds)}
    print(f"{len(bodies)} pages of {size_kib:.1f} KiB on average: lxml {results['lxml_us']:.0f} µs a page")
    try:
        assert selectolax_links(bodies[0]) == lxml_links(bodies[0])
        results["selectolax_us"] = per_page_us(selectolax_links, bodies, args.rounds)
        print(f"selectolax (lexbor) {results['selectolax_us']:.0f} µs a page: "
              f"lxml is {results['selectolax_us'] / results['lxml_us']:.2f}x as fast")
    except ImportError:
        print("selectolax not installed (pip install selectolax): lxml only")
    write("links", results)


if __name__ == "__main__":
    main()
