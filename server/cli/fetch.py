"""``shallowchrome fetch remc`` and ``shallowchrome fetch genes``: public data to ``build`` inputs."""
from __future__ import annotations

import click

from shallowchrome.server.cli.options import comma_list
from shallowchrome.tracks.fetch.remc import CORE_MARKS, DEFAULT_BASE_URL


def _policy(retries: int):
    from shallowchrome.tracks.fetch.download import RetryPolicy

    return RetryPolicy(tries=retries + 1)


RETRIES_OPTION = click.option("--retries", default=3, show_default=True, type=click.IntRange(min=0),
                              help="Retries per file after a connection error, truncated response or HTTP 5xx "
                                   "(exponential backoff).")


@click.group()
def fetch():
    """Download public data and write the inputs of `shallowchrome build`."""


@fetch.command(epilog=f"""\b
Examples:
  shallowchrome fetch remc --epigenomes E003,E116,E123 --out remc/
  shallowchrome fetch remc --epigenomes E066,E100 --marks H3K4me3,H3K27me3 \\
      --formats narrowPeak,broadPeak,gappedPeak --out remc/
  shallowchrome fetch remc --epigenomes E066 --base-url http://mirror.example.org/roadmap/data --out remc/

\b
Writes OUT/genes.tsv, OUT/expression.tsv.gz and OUT/peaks.tsv (+ OUT/peaks/, OUT/rna/)
and prints the `shallowchrome build` command to run on them. Run it again to
resume: complete files are skipped, partial ones continued.
Default base URL: {DEFAULT_BASE_URL}
""")
@click.option("--epigenomes", required=True, callback=comma_list,
              help="Comma-separated REMC epigenome ids (E001-E129 except E060, E064).")
@click.option("--marks", callback=comma_list,
              help=f"Comma-separated marks [default: the core marks {','.join(CORE_MARKS)}].")
@click.option("--formats", default="narrowPeak", show_default=True, callback=comma_list,
              help="Comma-separated peak formats: narrowPeak, broadPeak, gappedPeak.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder to write.")
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True,
              help="REMC data root (holding byFileType/ and byDataType/), e.g. a mirror.")
@RETRIES_OPTION
@click.option("--all-biotypes", is_flag=True,
              help="Keep every gene of the annotation in genes.tsv, not only protein-coding ones.")
def remc(epigenomes, marks, formats, out, base_url, retries, all_biotypes):
    """Download REMC peaks, RPKM and gene annotation; write genes, expression and peaks manifest."""
    from shallowchrome.tracks.fetch.inputs import fetch_remc

    result = fetch_remc(out, epigenomes, marks=marks, formats=formats, base_url=base_url,
                        protein_coding_only=not all_biotypes, policy=_policy(retries))
    counts = result.counts()
    click.echo(f"fetched {len(result.files)} files: {counts['downloaded']} downloaded, {counts['resumed']} resumed, "
               f"{counts['skipped']} already complete")
    click.echo(f"genes: {result.genes} ({result.n_genes} genes)")
    click.echo(f"expression: {result.expression}")
    click.echo(f"peaks: {result.manifest}")
    click.echo("next:")
    click.echo(f"  {result.build_command()}")


@fetch.command(epilog="""\b
Examples:
  shallowchrome fetch genes --gtf gencode.v19.annotation.gtf.gz --out genes.tsv --protein-coding
  shallowchrome fetch genes --gtf https://ftp.ebi.ac.uk/pub/databases/gencode/Gencode_human/release_19/gencode.v19.annotation.gtf.gz --out genes.tsv
  shallowchrome fetch genes --gene-info Ensembl_v65.Gencode_v10.ENSG.gene_info --out genes.tsv --protein-coding
""")
@click.option("--gtf", "gtf", metavar="FILE_OR_URL", help="GENCODE/Ensembl GTF (or GFF3), gz or plain.")
@click.option("--gene-info", "gene_info", metavar="FILE_OR_URL", help="REMC's Ensembl_v65.Gencode_v10.ENSG.gene_info.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Genes table to write (TSV).")
@click.option("--protein-coding", is_flag=True, help="Keep only genes of biotype protein_coding.")
@RETRIES_OPTION
def genes(gtf, gene_info, out, protein_coding, retries):
    """Convert a GTF or REMC gene_info (file or URL) into the genes table `build` takes (5' TSS, 0-based)."""
    from shallowchrome.tracks.fetch.inputs import convert_genes

    if (gtf is None) == (gene_info is None):
        raise click.UsageError("give exactly one of --gtf and --gene-info")
    kind, source = ("gtf", gtf) if gtf is not None else ("gene_info", gene_info)
    table = convert_genes(source, out, kind=kind, protein_coding_only=protein_coding, policy=_policy(retries))
    click.echo(f"genes: {out} ({len(table)} genes{', protein-coding' if protein_coding else ''})")
