"""loadtool serve: the fixture server in the foreground."""

from __future__ import annotations

import sys

import click

from ..names import EXIT_FAILED, EXIT_OK, PROFILE_NAMES
from ..options import default
from .flags import grouped_command


@grouped_command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback exposes the server to the network.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port, announced on stdout).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Seed of /page/{i}.")
@click.option("--profile", type=click.Choice(PROFILE_NAMES), default=default("profile"), show_default=True,
              help="Latency and size profile of /page/{i}.")
@click.option("--files", "files_root", metavar="DIR", type=click.Path(exists=True, file_okay=False),
              help="Serve the files under DIR at /files/PATH (nothing outside DIR is reachable).")
@click.option("--workers", "-w", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes sharing the port (SO_REUSEPORT), so the server is not the bottleneck.")
@click.option("--tls", is_flag=True,
              help="Serve https with a certificate from a throwaway CA (made with trustme); the CA file's path "
                   "is printed, for clients' --cacert.")
@click.option("--client-cert", is_flag=True,
              help="With --tls: require a client certificate (one from the same CA is made, its path printed).")
@click.option("--http", "http", type=click.Choice(("1.1", "2", "3")), default="1.1", show_default=True,
              help="HTTP version of the core endpoints: 2 is h2 over TLS or h2c without, 3 is QUIC (TLS on UDP, "
                   "the same port); both need hypercorn (pip install 'loadtool[http2]'). Faults stay HTTP/1.1.")
@click.option("--no-compress", is_flag=True,
              help="Never compress answers. By default text answers (HTML, JSON, XML) are gzipped or deflated "
                   "when the client asks, as real servers do.")
@click.option("--capacity", metavar="N", type=click.IntRange(1, 100_000),
              help="Be a site that saturates: each host answers at most N requests at once, the rest queue "
                   "(as for a server's pool of N workers). A host is /web/{h}/ or /site/{h}/; elsewhere, the "
                   "whole site. Per server process (--workers).")
@click.option("--rate-limit", metavar="R", help="Be a site that limits: each host accepts R requests a second "
                                                "(5/s, 300/m); beyond that, 429 with a Retry-After.")
@click.option("--exit-with-parent", is_flag=True, hidden=True)
def command(host, port, seed, profile, files_root, workers, tls, client_cert, http, no_compress, capacity,
            rate_limit, exit_with_parent) -> int:
    """Run the fixture server in the foreground until Ctrl-C.

    Endpoints: /health, /bytes/{n}, /delay/{ms}, /status/{code}, /echo, /stream/{n},
    /drip?duration=S&numbytes=N, /redirect/{n}, /page/{i}, /site/{h}/page/{i},
    /files/PATH (with --files), and faults: /fault/reset, /fault/truncate, /fault/hang,
    /fault/slow-headers, /fault/bad-chunked, /fault/garbage, /fault/flaky?p=0.2&i=N,
    /fault/stall?ms=300, and the hostile web /hostile/{h}/.
    """
    from ..job.parse import rate
    from ..server.args import Behaviour
    from ..server.run import serve
    from ..system import is_loopback

    if client_cert and not tls:
        raise click.UsageError("--client-cert goes with --tls")
    limit = rate(rate_limit, "rate-limit").per_s if rate_limit else None
    if not is_loopback(host):
        click.echo(f"loadtool serve: warning: listening on {host}, not loopback: anyone who can reach "
                   f"this machine can load it", err=True)

    def announce(line: str) -> None:
        click.echo(line if exit_with_parent else f"{line}; Ctrl-C stops it")
        sys.stdout.flush()

    try:
        serve(host, port, seed, profile, announce=announce, exit_with_parent=exit_with_parent,
              files_root=files_root, workers=workers, tls=tls, client_cert=client_cert, http=http,
              behaviour=Behaviour(compress=not no_compress, capacity=capacity, rate_limit=limit))
    except RuntimeError as exc:
        click.echo(f"loadtool serve: error: {exc}", err=True)
        return EXIT_FAILED
    except OSError as exc:
        click.echo(f"loadtool serve: error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        return EXIT_FAILED
    return EXIT_OK
