"""loadtool files make: a deterministic file tree, with a manifest, for `loadtool read`."""

from __future__ import annotations

import click

from ..names import EXIT_FAILED, EXIT_OK
from .flags import CONTEXT


@click.group("files", context_settings=CONTEXT)
def command() -> None:
    """Make deterministic file trees for `loadtool read`."""


@command.command("make", context_settings=CONTEXT)
@click.argument("directory", metavar="DIR")
@click.option("--count", "-n", metavar="N", default="1010", show_default=True, help="Files to write (10k, 1M work).")
@click.option("--size", metavar="SIZE", default="4KiB", show_default=True, help="Size of every file (512, 4KiB, 1MiB).")
@click.option("--sizes", metavar="DIST",
              help="Seeded sizes instead of one: lognormal:median=4KiB[,sigma=1].")
@click.option("--seed", metavar="S", default="0", show_default=True,
              help="Seed of sizes and bytes: the same arguments give byte-identical trees.")
def make(directory, count, size, sizes, seed) -> int:
    """Write a tree of files under DIR, with a manifest of sizes and SHA-256s.

    Files spread over two levels of subdirectories, at most 256 per directory. DIR
    must be new, empty, or a tree made before (which is then rewritten).
    """
    import time

    from ..targets.tree import make_tree, parse_sizes
    from ..job.parse import whole_number
    from ..units import format_bytes, format_duration

    spec = parse_sizes(size, sizes)
    total_files, seed_value = whole_number("count", count, 1), whole_number("seed", seed, 0)
    started = time.perf_counter()
    try:
        made = make_tree(directory, total_files, spec, seed_value)
    except OSError as exc:
        click.echo(f"loadtool files make: error: {exc.strerror or exc}: {exc.filename or directory}", err=True)
        return EXIT_FAILED
    click.echo(f"wrote {made.files:,} files, {format_bytes(made.bytes)}, under {directory} in "
               f"{format_duration(time.perf_counter() - started)}; manifest {made.manifest}")
    return EXIT_OK
