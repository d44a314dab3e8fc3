"""Memory is part of correctness: peak RSS must not grow with the number of operations."""

import json
import subprocess
import sys

PEAK_RSS = """
import json, resource, sys, loadtool
result = loadtool.run(urls=["/bytes/16"], server=sys.argv[1], count=int(sys.argv[2]), concurrency=50)
print(json.dumps({"ok": result.ok, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _peak_rss_kb(server, count: int) -> int:
    run = subprocess.run([sys.executable, "-c", PEAK_RSS, server.base_url, str(count)],
                         capture_output=True, text=True, timeout=240, check=True)
    measured = json.loads(run.stdout)
    assert measured["ok"] == count
    return measured["rss_kb"]


def test_async_peak_memory_is_flat_in_count(server):
    small, large = _peak_rss_kb(server, 1000), _peak_rss_kb(server, 30_000)
    assert large <= small * 1.25, f"peak RSS {small} KB at 1000 ops, {large} KB at 30000"
