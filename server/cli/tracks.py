"""``shallowchrome tracks`` and ``shallowchrome hub check``: the browser tracks and the track hub."""
from __future__ import annotations

import sys

import click

from shallowchrome.server.cli.options import cluster, scheduler_option
from shallowchrome.tracks.hub.trackdb import DEFAULT_EMAIL

GENOME_OPTION = click.option("--genome", default="hg19", show_default=True,
                             help="Assembly name; anything but hg19 needs --chrom-sizes.")
SIZES_OPTION = click.option("--chrom-sizes", "chrom_sizes", type=click.Path(dir_okay=False),
                            help="UCSC chrom.sizes of the assembly (default: the packaged hg19 table).")
BASE_URL_OPTION = click.option("--base-url", help="Write absolute bigDataUrls and session URLs under this URL "
                               "(where WS/hub/ is served); default: relative, so the hub works from any host.")


@click.command(epilog="""\b
Examples:
  shallowchrome tracks ws/
  shallowchrome tracks ws/ --base-url https://example.org/ws/hub
  shallowchrome tracks ws/ --genome hg38 --chrom-sizes hg38.chrom.sizes
  shallowchrome tracks ws/ --scheduler tcp://headnode:8786             # on a Dask cluster

\b
After the tracks, the input peak files are indexed for the report pages
(WS/reports/cache/peaks/; copies that are current are kept).
""")
@click.argument("workspace", type=click.Path(file_okay=False))
@GENOME_OPTION
@SIZES_OPTION
@BASE_URL_OPTION
@click.option("--email", default=DEFAULT_EMAIL, show_default=True, help="Contact e-mail written to hub.txt.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(min=1),
              help="Epigenomes written in parallel.")
@scheduler_option("Write the epigenomes' track files and index their peak files")
def tracks(workspace, genome, chrom_sizes, base_url, email, jobs, scheduler):
    """Write bigBed/bigWig tracks and a UCSC/IGV track hub into WORKSPACE/hub/."""
    from shallowchrome.tracks.hub.write import write_tracks
    from shallowchrome.tracks.workspace.layout import Workspace, revision
    from shallowchrome.tracks.workspace.pipeline import peak_index_step

    progress = sys.stderr.isatty()
    with cluster(scheduler) as client:  # connected (or refused) before anything is read
        with revision(workspace) as ws:  # a new generation: a server never sees half of the new hub
            result = write_tracks(ws, genome=genome, chrom_sizes=chrom_sizes, base_url=base_url, email=email,
                                  jobs=jobs, progress=progress, scheduler=client)
        click.echo(f"tracks: {len(result.epigenomes)} epigenome(s), {result.n_items} gene items, "
                   f"{len(result.files)} track files")
        ws = Workspace.open(workspace)
        n, failed = peak_index_step(ws, jobs=jobs, progress=progress, scheduler=client)
    click.echo(f"peak index: {n - len(failed)} of {n} peak file(s) indexed for the report pages")
    click.echo(f"hub: {ws.shown(ws.hub_txt)}")


@click.group()
def hub():
    """The track hub of a workspace."""


@hub.command(epilog="""\b
Examples:
  shallowchrome hub check ws/
  shallowchrome hub check ws/hub/hub.txt
""")
@click.argument("workspace", type=click.Path(exists=True))
@click.pass_context
def check(ctx, workspace):
    """Validate the hub as UCSC's hubCheck would: exit 0 when OK, 2 with the list of problems."""
    from shallowchrome.tracks.hub.check import check_hub

    report = check_hub(workspace)
    if report.ok:
        click.echo(report.summary())
        return
    click.echo(f"shallowchrome: error: hub check found {len(report.problems)} problem(s) in {report.hub_txt}:",
               err=True)
    for problem in report.problems:
        click.echo(f"  {problem}", err=True)
    ctx.exit(2)
