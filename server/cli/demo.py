"""``shallowchrome demo``: build the embedded Roadmap demo, then serve it."""
from __future__ import annotations

import sys

import click

from shallowchrome.server.cli.serve import check_listen, public_url, run_server, server_options
from shallowchrome.server.cli.summary import evaluation_lines


@click.command(epilog="""\b
Examples:
  shallowchrome demo                       # build ./shallowchrome-demo and serve it on 127.0.0.1:8000
  shallowchrome demo --out /tmp/demo --no-serve
  shallowchrome compare shallowchrome-demo E066 E100 --genes ALB,APOA1   # then: liver vs psoas muscle
""")
@click.option("--out", default="shallowchrome-demo", show_default=True, type=click.Path(file_okay=False),
              help="Workspace folder to write (rebuilt if it is a workspace already).")
@click.option("--no-serve", is_flag=True, help="Build only; do not start the server.")
@server_options
@click.option("--jobs", default=2, show_default=True, type=click.IntRange(min=1), help="Parallel processes.")
def demo(out, no_serve, host, port, base_url, threads, connection_limit, channel_timeout, access_log, jobs):
    """Build the embedded demo (Roadmap E066 liver, E079 esophagus, E100 psoas muscle; H3K4me3 + H3K27me3;
    and E104 right atrium without its RNA-seq, predicted by transfer) with models, evaluation, tracks and
    hub, ChromHMM validation, report pages and a liver-vs-muscle comparison, then serve it."""
    from shallowchrome.tracks.workspace.demo import COMPARE_PAIR, REPORT_GENES, build_demo, compare_path
    from shallowchrome.tracks.workspace.transfer import summary_lines

    if not no_serve:  # a busy port or a bad host is said before the build, not after it
        check_listen(host, port, base_url=base_url)

    ws = build_demo(out, jobs=jobs, progress=sys.stderr.isatty())
    for line in [*evaluation_lines(ws.evaluation()), *summary_lines(ws)]:  # + the cross-epigenome evaluation
        click.echo(line)
    click.echo(f"workspace: {ws.root}")
    click.echo(f"reports:   {ws.reports_dir / 'index.html'} ({', '.join(REPORT_GENES)})")
    a, b = COMPARE_PAIR
    where = compare_path() if no_serve or (port == 0 and not base_url) else public_url(host, port, base_url) + compare_path()
    click.echo(f"compare:   {where} (liver vs psoas muscle; or: shallowchrome compare {ws.root} {a} {b})")
    if no_serve:
        click.echo(f"serve it with: shallowchrome serve {ws.root}")
        return
    run_server(str(ws.root), host, port, base_url, threads, connection_limit, channel_timeout, access_log=access_log)
