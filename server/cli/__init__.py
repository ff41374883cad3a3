"""The ``shallowchrome`` command line: the group, its error handling and logging; one module per command.

Thin: parse, call the library, report.

Every :class:`~shallowchrome.model.errors.ShallowChromeError` becomes one line
on stderr and exit code 2; usage errors are click's (also exit code 2).
"""
from __future__ import annotations

import logging
import sys

import click

from shallowchrome.model.errors import ShallowChromeError

log = logging.getLogger("shallowchrome")


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ShallowChromeError as exc:
            click.echo(f"shallowchrome: error: {exc}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("shallowchrome: interrupted", err=True)
            ctx.exit(130)


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("shallowchrome: %(levelname)s: %(message)s"))
    root = logging.getLogger("shallowchrome")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False



@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.version_option(package_name="shallowchrome")
def main(verbose):
    """ShallowChrome: why is this gene on in this tissue?

    Interpretable per-epigenome models of gene expression from histone-mark
    peaks (Frasca et al., BMC Bioinformatics 2022), published as genome-browser
    tracks.
    """
    _setup_logging(verbose)


# Each command lives in its own module and is registered here, one line each.
# --- command registration ---
from shallowchrome.server.cli.build import build  # noqa: E402
from shallowchrome.server.cli.compare import compare  # noqa: E402
from shallowchrome.server.cli.demo import demo  # noqa: E402
from shallowchrome.server.cli.fetch import fetch  # noqa: E402
from shallowchrome.server.cli.interpret import chromhmm, explain, weights  # noqa: E402
from shallowchrome.server.cli.report import report  # noqa: E402
from shallowchrome.server.cli.serve import serve  # noqa: E402
from shallowchrome.server.cli.tracks import hub, tracks  # noqa: E402

for _command in (build, fetch, tracks, hub, explain, weights, chromhmm, compare, serve, demo, report):
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main()
