"""``shallowchrome demo``: build the embedded Roadmap demo, then serve it."""
from __future__ import annotations

import sys

import click


@click.command(epilog="""\b
Examples:
  shallowchrome demo                       # build ./shallowchrome-demo and serve it on 127.0.0.1:8000
  shallowchrome demo --out /tmp/demo --no-serve
""")
@click.option("--out", default="shallowchrome-demo", show_default=True, type=click.Path(file_okay=False),
              help="Workspace folder to write (rebuilt if it is a workspace already).")
@click.option("--no-serve", is_flag=True, help="Build only; do not start the server.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to serve on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to serve on.")
@click.option("--jobs", default=2, show_default=True, type=click.IntRange(min=1), help="Parallel processes.")
@click.pass_context
def demo(ctx, out, no_serve, host, port, jobs):
    """Build the embedded demo (Roadmap E066 liver, E079 esophagus, E100 psoas muscle; H3K4me3 + H3K27me3)
    with models, evaluation, tracks and hub, ChromHMM validation and report pages, then serve it."""
    from shallowchrome.tracks.workspace.demo import REPORT_GENES, build_demo

    ws = build_demo(out, jobs=jobs, progress=sys.stderr.isatty())
    evaluation = ws.evaluation()
    for row in evaluation[evaluation.status == "ok"].itertuples():
        click.echo(f"{row.epigenome} {row.tissue:<14} test AUROC {row.auroc_mean:.3f} ± {row.auroc_sd:.3f} "
                   f"(DeepChrome {row.deepchrome_auroc:.2f})")
    click.echo(f"workspace: {ws.root}")
    click.echo(f"reports:   {ws.reports_dir / 'index.html'} ({', '.join(REPORT_GENES)})")
    if no_serve:
        click.echo(f"serve it with: shallowchrome serve {ws.root}")
        return
    from shallowchrome.server.cli.serve import serve

    ctx.invoke(serve, workspace=str(ws.root), host=host, port=port)
