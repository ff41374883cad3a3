"""``shallowchrome explain``, ``weights`` and ``chromhmm``: the interpretation commands. Thin: parse, call
the library (:mod:`shallowchrome.tracks.analysis.explain`, :mod:`shallowchrome.tracks.analysis.chromhmm`),
write or print."""
from __future__ import annotations

import json
import re
from pathlib import Path

import click

from shallowchrome.model.errors import InputError
from shallowchrome.server.cli.options import comma_list
from shallowchrome.tracks.numbers import no_negative_zero, num, tidy
from shallowchrome.tracks.numbers import sig as significant_digits

FORMATS = ("json", "tsv", "png", "svg")



def output_format(fmt: str | None, out: str | None, allowed=FORMATS, default: str = "json") -> str:
    """The format asked for: --format, else the --out suffix, else ``default``; a mismatch is an error."""
    suffix = Path(out).suffix.lower().lstrip(".") if out else ""
    if fmt and suffix in allowed and suffix != fmt:
        raise InputError(out, f"the file name says {suffix} but --format is {fmt}",
                         fix=f"name the file .{fmt} or drop --format")
    if fmt:
        return fmt
    if out and suffix not in allowed:
        raise InputError(out, f"cannot tell the format from the file name (.{suffix or '?'})",
                         fix=f"name it .{'/.'.join(allowed)} or give --format")
    return suffix or default


def default_chart_name(symbols, fmt: str) -> str:
    """``explain_ALB_APOA1.png``: the genes' symbols (first three), safe for a file name."""
    names = [re.sub(r"[^A-Za-z0-9._-]+", "-", s) for s in symbols]
    stem = "_".join(names[:3]) + ("_etc" if len(names) > 3 else "")
    return f"explain_{stem}.{fmt}"


def _write(out, data: bytes | str) -> None:
    from shallowchrome.tracks.io.textio import write_bytes_atomic

    write_bytes_atomic(out, data.encode("utf-8") if isinstance(data, str) else data)


@click.command(epilog="""\b
Examples:
  shallowchrome explain ws/ ALB --epigenomes E066,E100
  shallowchrome explain ws/ ALB APOA1 --format tsv
  shallowchrome explain ws/ ALB --epigenomes E066,E100 --out alb.png
  shallowchrome explain ws/ ENSG00000163631 --split 4 --format svg

\b
The explaining model is the gene's cross-fitting fold model: the build splits
the labelled genes into folds and fits each fold's model on the others, so the
gene's label was never used and the numbers are those of its row in
predictions.tsv (and of every page, track and report); genes without
expression are explained by the model fitted on every labelled gene. The
output says which model ("fold 3", "all labelled genes") and the gene's part
for it. --split K explains with a benchmark split's model instead, when the
gene is in its test part (or unused by it). An epigenome built without its
RNA-seq is explained by its reference model ("reference model learnt on
E066,E079 (log1p features)"), on the log1p features it multiplies. With
--features extended a mark's contribution is the sum of its terms', with the
likelihood-ratio test of the mark and each term's detail ("terms"; in TSV a
MARK:term row after the mark's). JSON and TSV go to stdout without --out; PNG
and SVG default to explain_GENE[_GENE...].png|svg in the current folder.
""")
@click.argument("workspace", type=click.Path(file_okay=False))
@click.argument("genes", nargs=-1, required=True)
@click.option("--epigenomes", callback=comma_list, help="Comma-separated epigenome ids (default: all).")
@click.option("--split", type=click.IntRange(min=0),
              help="Explain with this benchmark split's model instead of the gene's cross-fitting fold model "
                   "(the gene must be in its test part).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Output format (default: from --out, else json).")
@click.option("--out", type=click.Path(dir_okay=False), help="File to write (default: stdout for json/tsv).")
def explain(workspace, genes, epigenomes, split, fmt, out):
    """Explain genes: per-mark contributions and p-values.

    Why is GENE on or off in each epigenome? Its regulative pattern: per mark
    the feature, weight, contribution (feature × weight) and the weight's
    p-value (significant when p ≤ 1e-4), the bias, the logit, the predicted
    probability and the measured class. GENE is a symbol or an Ensembl id.
    """
    from shallowchrome.tracks.analysis.explain import explain as explain_genes
    from shallowchrome.tracks.analysis.explain import explanations_table
    from shallowchrome.tracks.analysis.pattern_charts import patterns_chart
    from shallowchrome.tracks.workspace.layout import Workspace

    fmt = output_format(fmt, out)
    doc = explain_genes(Workspace.open(workspace), genes, epigenomes=epigenomes, split=split)
    if fmt == "json":  # numbers.tidy: no binary noise (2.3920000000000003), no -0.0
        data = json.dumps(tidy(doc), indent=2, allow_nan=False) + "\n"
    elif fmt == "tsv":
        data = no_negative_zero(explanations_table(doc)).to_csv(sep="\t", index=False, na_rep="NA",
                                                                 float_format="%.8g", lineterminator="\n")
    else:
        data = patterns_chart(doc, fmt)
        symbols = list(dict.fromkeys(e["symbol"] or e["gene_id"] for e in doc["explanations"]))
        out = out or default_chart_name(symbols, fmt)
    if out:
        _write(out, data)
        click.echo(f"wrote {out}")
    else:
        click.echo(data, nl=False)


@click.command(epilog="""\b
Examples:
  shallowchrome weights ws/                 # ws/interpretation/weights.tsv, .png and .svg
  shallowchrome weights ws/ --out weights.svg
""")
@click.argument("workspace", type=click.Path(file_okay=False))
@click.option("--epigenomes", callback=comma_list, help="Comma-separated epigenome ids (default: all).")
@click.option("--out", type=click.Path(dir_okay=False),
              help="One file, .tsv, .png or .svg (default: all three under WORKSPACE/interpretation/).")
def weights(workspace, epigenomes, out):
    """Heatmap of the weights per epigenome and mark.

    The interpretation models side by side: each epigenome's weight per mark
    and bias, with significance (p ≤ 1e-4), as a table and a heatmap.
    """
    from shallowchrome.tracks.analysis.explain import weights_table
    from shallowchrome.tracks.analysis.pattern_charts import weights_chart
    from shallowchrome.tracks.workspace.layout import Workspace, revision

    ws = Workspace.open(workspace)
    table = weights_table(ws, epigenomes)
    render = {"tsv": lambda: no_negative_zero(table).to_csv(sep="\t", index=False, na_rep="NA", float_format="%.8g",
                                          lineterminator="\n"),
              "png": lambda: weights_chart(table, "png"), "svg": lambda: weights_chart(table, "svg")}
    if out:
        targets = {output_format(None, out, allowed=tuple(render)): Path(out)}
        for fmt, path in targets.items():
            _write(path, render[fmt]())
    else:
        from shallowchrome.tracks.workspace.pipeline import weights_step

        with revision(workspace) as staged:  # into the workspace: a new generation
            written = weights_step(staged, epigenomes)
        targets = {path.suffix[1:]: staged.shown(path) for path in written}
    for row in table.itertuples():
        sig = {"yes": "*", "no": " (n.s.)"}.get(row.significant, " (p n/a)")
        weight = num(row.weight, 2, signed=True) if row.term == "bias" else significant_digits(row.weight, 3, signed=True)
        scale = f"  [{row.model}]" if str(row.model).startswith("reference model") else ""
        click.echo(f"{row.epigenome}  {row.term:<10} {weight}{sig}{scale}")
    for path in targets.values():
        click.echo(f"wrote {path}")


@click.command(epilog="""\b
Examples:
  shallowchrome chromhmm ws/
  shallowchrome chromhmm ws/ --segmentation E066=E066_15_coreMarks_mnemonics.bed.gz \\
      --segmentation E100=E100_15_coreMarks_mnemonics.bed.gz
  shallowchrome chromhmm ws/ --segmentations segmentations.tsv --groups my_groups.tsv

\b
Writes WORKSPACE/interpretation/chromhmm.tsv (states), chromhmm_groups.tsv,
chromhmm_ranks.png/.svg, chromhmm.json and, with segmentations,
chromhmm_agreement.tsv and the column chromhmm_state of each epigenome's
predictions.tsv.
""")
@click.argument("workspace", type=click.Path(file_okay=False))
@click.option("--emissions", type=click.Path(dir_okay=False),
              help="Emission table TSV: state + one column per mark (default: Roadmap 15-state core marks).")
@click.option("--groups", type=click.Path(dir_okay=False),
              help="State groups TSV (state, group) "
                   "(default: Active 1-5, Enhancers 6-7, Bivalent 10-12, Repressed 8-9,13-15).")
@click.option("--segmentation", "segmentation", multiple=True, metavar="EID=PATH",
              help="ChromHMM segmentation BED of an epigenome (repeatable).")
@click.option("--segmentations", "manifest", type=click.Path(dir_okay=False),
              help="Segmentation manifest TSV (epigenome, path).")
@click.option("--epigenomes", callback=comma_list, help="Comma-separated epigenome ids (default: all).")
def chromhmm(workspace, emissions, groups, segmentation, manifest, epigenomes):
    """Rank ChromHMM states by the patterns they match.

    Validate the patterns against ChromHMM: match each test gene's pattern to
    the emission vector it correlates with best, rank the states and the state
    groups by the mean logit of their genes and, given segmentations, compare
    with the state at each gene's TSS. The test genes are every labelled gene,
    each with the cross-fitted pattern of the fold model that held it out.
    """
    from shallowchrome.tracks.analysis.chromhmm import validate, write_results
    from shallowchrome.tracks.io.segmentation import parse_segmentation_options, read_segmentation_manifest
    from shallowchrome.tracks.workspace.layout import Workspace, revision

    Workspace.open(workspace)  # not a workspace: one line before anything else
    segs = read_segmentation_manifest(manifest) if manifest else {}
    for eid, path in parse_segmentation_options(segmentation).items():
        segs[eid] = path  # the command line wins over the manifest
    refreshed = None
    with revision(workspace) as ws:  # predictions, interpretation and hub change together: a new generation
        result = validate(ws, emissions, groups, segs, epigenomes)
        write_results(ws, result)
        if segs:  # the TSS states are now in predictions.tsv: put them in the hub's prediction items too
            from shallowchrome.tracks.hub.write import refresh_tracks

            refreshed = refresh_tracks(ws)
    ws = Workspace.open(workspace)
    if refreshed is not None:
        click.echo(f"hub refreshed with the ChromHMM states: {ws.shown(ws.hub_txt)}")
    for eid, info in result.summary["epigenomes"].items():
        ranks = ", ".join(f"{g} {'-' if r is None else r}" for g, r in info["group_ranks"].items())
        line = f"{eid}  group ranks: {ranks}  [{','.join(info['marks'])}; {info['test_genes']} test genes]"
        if info["agreement"] is not None:
            line += f"  agreement with the segmentation: {100 * info['agreement']:.1f}%"
        click.echo(line)
    for eid, reason in result.summary["skipped"].items():
        click.echo(f"{eid}  skipped: {reason}")
    click.echo(f"wrote {ws.shown(ws.interpretation_dir)}")
