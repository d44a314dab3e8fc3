"""--parse functions that cost a fixed CPU time a page, for measuring crawls whose parsing is
CPU-bound (the README's `compare --crawl --parse scripts/parse_cpu.py:parse_10ms`):

    loadtool compare --crawl -n 1000 --parse scripts/parse_cpu.py:parse_10ms
"""

import time


def _spend(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def parse_5ms(url, status, headers, body):
    _spend(0.005)


def parse_10ms(url, status, headers, body):
    _spend(0.010)


def parse_20ms(url, status, headers, body):
    _spend(0.020)
