"""``shallowchrome report``: per-gene HTML report pages. Thin: parse, call
:func:`shallowchrome.tracks.reports.write.write_reports`, report."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from shallowchrome.model.errors import InputError
from shallowchrome.server.cli.options import cluster, comma_list, scheduler_option


def read_gene_list(path) -> list[str]:
    """Genes from a text file: one or more per line (separated by commas, tabs or blanks); ``#`` starts a comment."""
    from shallowchrome.tracks.io.textio import read_text

    genes = []
    for line in read_text(path).splitlines():
        line = line.split("#", 1)[0]
        genes += [g for g in line.replace(",", " ").split() if g]
    if not genes:
        raise InputError(path, "lists no genes", fix="write one gene symbol or Ensembl id per line")
    return genes


@click.command(epilog="""\b
Examples:
  shallowchrome report ws/ --genes ALB,APOA1
  shallowchrome report ws/ --genes ALB --epigenomes E066,E100 --flank 20000
  shallowchrome report ws/ --genes-file genes.txt --jobs 2 --out alb_reports/
  shallowchrome report ws/ --genes ALB --no-embed      # for `shallowchrome serve ws/`
  shallowchrome report ws/ --genes ALB --show E066,E071   # also explain and show these
  shallowchrome report ws/ --genes-file genes.txt --scheduler tcp://headnode:8786

\b
Writes OUT/GENE.html per gene and OUT/index.html (OUT: WORKSPACE/reports/ by
default). Pages are self-contained: they open from disk, offline, and can be
e-mailed (about 1.6 MB each, most of it igv.js). --no-embed pages load igv.js
from /static/igv/igv.min.js instead (about 0.15 MB): view them through
`shallowchrome serve WORKSPACE`, e.g. http://127.0.0.1:8000/reports/ALB.
Unknown genes are skipped with a warning while at least one gene is known;
the exit code is 2 only when no page could be made.
""")
@click.argument("workspace", type=click.Path(file_okay=False))
@click.option("--genes", "genes", callback=comma_list, help="Comma-separated symbols or Ensembl ids.")
@click.option("--genes-file", type=click.Path(dir_okay=False), help="Text file of genes, one per line (# comments).")
@click.option("--epigenomes", callback=comma_list, help="Comma-separated epigenome ids (default: all).")
@click.option("--flank", default=10_000, show_default=True, type=click.IntRange(min=1, max=1_000_000),
              help="bp shown either side of the TSS.")
@click.option("--out", type=click.Path(file_okay=False), help="Folder of the pages (default: WORKSPACE/reports/).")
@click.option("--no-embed", "no_embed", is_flag=True,
              help="Load igv.js from the server (/static/igv/igv.min.js) instead of inlining it: smaller pages.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(min=1), help="Pages made in parallel.")
@click.option("--show", callback=comma_list,
              help="Comma-separated epigenomes each page also explains and shows (besides the best-modelled ones).")
@scheduler_option("Make the pages")
def report(workspace, genes, genes_file, epigenomes, flank, out, no_embed, jobs, show, scheduler):
    """Write an HTML report page per gene: genome view, pattern, numbers.

    Each page shows the gene's TSS ± flank in igv.js (per epigenome: the
    prediction, the input peaks per mark, the contribution of each mark and
    the ChromHMM segments when recorded), the regulative-pattern chart and a
    table of per-epigenome probability, logit, measured RPKM, contributions
    and p-values. GENE is a symbol or an Ensembl id.
    """
    from shallowchrome.tracks.reports.write import unknown_message, write_reports

    queries = list(genes or []) + (read_gene_list(genes_file) if genes_file else [])
    if not queries:
        raise click.UsageError("give genes with --genes ALB,APOA1 and/or --genes-file genes.txt")
    with cluster(scheduler) as client:  # connected (or refused) before any page is made
        result = write_reports(workspace, queries, epigenomes=epigenomes, flank=flank, out=out, embed=not no_embed,
                               jobs=jobs, progress=sys.stderr.isatty(), show=show, scheduler=client)
    for path in result.pages[:20]:
        click.echo(f"wrote {path}")
    if len(result.pages) > 20:
        click.echo(f"... and {len(result.pages) - 20} more page(s) in {result.out_dir}")
    if result.unknown:
        click.echo(f"shallowchrome: warning: skipped {len(result.unknown)} unknown gene(s): "
                   f"{unknown_message(result.unknown)}", err=True)
    click.echo(f"index: {Path(result.index)}")
