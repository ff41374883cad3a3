"""``shallowchrome build``: fit and evaluate one model per epigenome, write a workspace (and its tracks)."""
from __future__ import annotations

import sys

import click

from shallowchrome.server.cli.options import comma_list
from shallowchrome.server.cli.summary import evaluation_lines


@click.command(epilog="""\b
Examples:
  shallowchrome build --genes genes.tsv --expression rpkm.tsv.gz \\
      --peaks peaks/ --out ws/
  shallowchrome build --genes genes.tsv --expression rpkm.tsv.gz \\
      --peaks manifest.tsv --epigenomes E066,E100 --splits-file splits.tsv.gz --out ws/ --jobs 2
  shallowchrome build ... --out ws/ --scheduler tcp://headnode:8786      # on a Dask cluster
  shallowchrome build ... --out ws/ --scheduler ~/scheduler.json        # (dask scheduler --scheduler-file)
  shallowchrome build ... --out ws/ --metadata epigenomes.tsv           # names, groups, colours
  shallowchrome build ... --out ws/ --task regression     # log2(RPKM + 1) by least squares: Pearson r, R^2
  shallowchrome build ... --out ws/ --features extended   # multi-scale, log, count, distance terms per mark
  shallowchrome build ... --out ws/ --split-by chromosome # whole chromosomes per part (no --splits-file)
  shallowchrome build --genes genes.tsv --peaks new_sample/ --reference-workspace roadmap_ws/ \\
      --out new_ws/        # no RNA-seq at all: predicted by roadmap_ws's recorded reference model

\b
A rebuild into an existing workspace reuses the epigenomes whose peak files,
expression column, genes, splits and parameters did not change (--force
recomputes them all).
""")
@click.option("--genes", "genes", required=True, type=click.Path(dir_okay=False),
              help="Gene table: TSV (chrom, tss, gene_id[, symbol, strand]), GTF, GFF3 or BED6.")
@click.option("--expression", type=click.Path(dir_okay=False),
              help="RPKM table: gene_id + one column per epigenome (TSV, gz or plain). Required unless "
                   "--reference-workspace predicts every epigenome.")
@click.option("--peaks", required=True, type=click.Path(),
              help="Manifest TSV (epigenome, mark, path[, format]) or a folder of EID-MARK.FORMAT[.gz] files.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Workspace folder to write.")
@click.option("--epigenomes", callback=comma_list, help="Comma-separated epigenome ids (default: all in --peaks).")
@click.option("--marks", callback=comma_list, help="Comma-separated marks to use (default: all in --peaks).")
@click.option("--window", default=5000, show_default=True, type=click.IntRange(min=1),
              help="Half-width of the TSS window in bp.")
@click.option("--splits", "n_splits", default=10, show_default=True, type=click.IntRange(min=1),
              help="Number of evaluation splits.")
@click.option("--splits-file", type=click.Path(dir_okay=False),
              help="Splits TSV (split, part, row|gene_id); split 0 interprets, the others evaluate.")
@click.option("--threshold", type=click.Choice(["median", "valley"]), default="median", show_default=True,
              help="ON/OFF labelling: RPKM >= median, or the valley of the log-expression distribution.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the random splits.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(min=1), help="Epigenomes fitted in parallel.")
@click.option("--scheduler", metavar="ADDRESS",
              help="Fit the epigenomes on a Dask cluster: its scheduler's address (tcp://host:8786) or the JSON file "
                   "of `dask scheduler --scheduler-file`. The workers must see the input paths (shared filesystem); "
                   "needs pip install 'shallowchrome[dask]'.")
@click.option("--force", is_flag=True, help="Recompute every epigenome, even those whose inputs did not change.")
@click.option("--metadata", type=click.Path(dir_okay=False),
              help="TSV naming the epigenomes: epigenome + any of name (or tissue), group, color (#RRGGBB); shown "
                   "by the pages, hub and reports instead of the Roadmap table's.")
@click.option("--task", type=click.Choice(["classification", "regression"]), default="classification",
              show_default=True, help="classification: ON/OFF by logistic regression (the paper's); regression: "
                                      "log2(RPKM + 1) by least squares (Pearson r, Spearman rho, R^2).")
@click.option("--features", "feature_set", type=click.Choice(["exact", "extended"]), default="exact",
              show_default=True, help="exact: max signal in TSS +- window (the paper's); extended: per mark the "
                                      "log max in +-1/2.5/5/10 kb, the max in +-5 kb, log peak count, log distance.")
@click.option("--split-by", type=click.Choice(["random", "chromosome"]), default="random", show_default=True,
              help="Evaluation splits: random genes (or --splits-file), or whole chromosomes per part.")
@click.option("--reference", callback=comma_list, metavar="E066[,E100]",
              help="Epigenomes without an expression column are predicted by a model of these labelled epigenomes, "
                   "pooled (default: every labelled epigenome of the build).")
@click.option("--reference-workspace", type=click.Path(file_okay=False), metavar="WS",
              help="Epigenomes without an expression column are predicted by the reference model recorded in this "
                   "other workspace (its reference_model.json: log1p features, the same marks) instead of one "
                   "fitted here; the build then needs no labelled epigenome. Not with --reference.")
@click.option("--no-tracks", is_flag=True, help="Skip writing the browser tracks and hub (`shallowchrome tracks`).")
def build(genes, expression, peaks, out, epigenomes, marks, window, n_splits, splits_file, threshold, seed, jobs,
          scheduler, force, metadata, task, feature_set, split_by, reference, reference_workspace, no_tracks):
    """Fit and evaluate one model per epigenome; write a workspace."""
    from shallowchrome.model.errors import InputError
    from shallowchrome.tracks.io.metadata import read_epigenome_metadata
    from shallowchrome.tracks.workspace.build import BuildOptions
    from shallowchrome.tracks.workspace.layout import Workspace
    from shallowchrome.tracks.workspace.pipeline import BuildInputs, Steps, TracksNotWritten, run_pipeline

    if reference and reference_workspace:
        raise InputError(None, "--reference and --reference-workspace both name the reference model",
                         fix="give one of them")
    opts = BuildOptions(window=window, threshold=threshold, n_splits=n_splits, seed=seed, jobs=jobs,
                        scheduler=scheduler, force=force, task=task, features=feature_set, split_by=split_by,
                        metadata=read_epigenome_metadata(metadata) if metadata else None, reference=reference,
                        reference_workspace=reference_workspace)
    inputs = BuildInputs(genes, expression, peaks, splits=splits_file, epigenomes=epigenomes, marks=marks)
    try:
        ws = run_pipeline(inputs, out, opts, Steps(tracks=not no_tracks), progress=sys.stderr.isatty())
    except TracksNotWritten:
        _summary(Workspace.open(out))  # the models stand: show them, then the error
        raise
    _summary(ws)
    if not no_tracks:
        click.echo(f"hub: {ws.shown(ws.hub_txt)}")


def _summary(ws) -> None:
    for line in evaluation_lines(ws.evaluation()):
        click.echo(line)
    from shallowchrome.tracks.workspace.transfer import summary_lines

    for line in summary_lines(ws):  # the cross-epigenome evaluation, samples predicted without expression
        click.echo(line)
    click.echo(f"workspace: {ws.root}")
