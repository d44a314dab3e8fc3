"""loadtool schema: the JSON schema of results."""

from __future__ import annotations

import click

from .flags import grouped_command


@grouped_command("schema")
def command() -> int:
    """Print the JSON schema of results (loadtool.result/1).

    Within loadtool.result/1, fields are only ever added: none is renamed, removed or
    given another meaning. A change that would break a reader gets loadtool.result/2.
    """
    from importlib import resources

    click.echo(resources.files("loadtool").joinpath("schema.json").read_text(encoding="utf-8"), nl=False)
    return 0
