"""Ratios measured side by side in one test, with wide margins; never absolute times."""

import loadtool


def test_async_is_at_least_5x_faster_than_sequential_on_a_delay_endpoint(server):
    options = {"urls": ["/delay/50"], "server": server.base_url, "count": 50, "concurrency": 50}
    sequential = loadtool.run(strategy="sequential", **options)
    concurrent = loadtool.run(strategy="async", **options)
    assert sequential.ok == concurrent.ok == 50
    assert sequential.wall_s / concurrent.wall_s >= 5


def test_threads_overlap_waits_too(server):
    options = {"urls": ["/delay/50"], "server": server.base_url, "count": 40, "concurrency": 20}
    sequential = loadtool.run(strategy="sequential", **options)
    threaded = loadtool.run(strategy="threads", **options)
    assert sequential.wall_s / threaded.wall_s >= 3
