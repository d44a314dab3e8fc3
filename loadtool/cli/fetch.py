"""loadtool fetch: fetch URLs with one strategy; report latency, throughput, statuses, errors."""

from __future__ import annotations

import click

from .flags import (amount_options, cluster_options, concurrency_option, fixture_options, group, grouped_command,
                      histogram_option, http_options, limit_options, output_options, processes_option, raw_option,
                      stdin_targets, strategy_option)


@grouped_command("fetch")
@click.argument("urls", nargs=-1, metavar="[URL|/PATH]...")
@group("Strategy", strategy_option, concurrency_option("fetch"), processes_option)
@amount_options("fetch")
@http_options()
@fixture_options()
@limit_options
@cluster_options
@output_options(raw_option, histogram_option)
def command(urls, body, max_body, headers, **options) -> int:
    """Fetch URLs with one strategy; report latency, throughput, statuses and errors.

    URLs are http(s) URLs, or paths such as /delay/100 on the bundled fixture server,
    which is then started on a free loopback port. URL - (or no URL with a list piped
    in) reads URLs, or requests as vegeta writes them, from standard input. With no
    URL: /page/{i}, a seeded scraping-like site. {i} in a URL or path becomes the operation's index.
    """
    from ..job import Job
    from ..job.parse import body_from
    from .deliver import Delivery, run_and_report

    delivery = Delivery.from_options(options)
    urls = stdin_targets(urls, options)
    job = Job.build(kind="fetch", urls=urls, headers=headers, body=body_from(body, max_body), max_body=max_body,
                    **options)
    return run_and_report(job, delivery)
