"""loadtool fetch: fetch URLs with one strategy; report latency, throughput, statuses, errors."""

from __future__ import annotations

import click

from .flags import grouped_command, options_for, stdin_targets


@grouped_command("fetch")
@click.argument("urls", nargs=-1, metavar="[URL|/PATH]...")
@options_for("fetch")
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
