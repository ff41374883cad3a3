"""``shallowchrome compare``: why is a gene ON in one epigenome and OFF in another, genome-wide. Thin: parse,
call :mod:`shallowchrome.tracks.analysis.compare`, print and write."""
from __future__ import annotations

import click

from shallowchrome.model.errors import InputError
from shallowchrome.server.cli.options import comma_list

#: Longest gene name printed (longer ones are cut with "…").
NAME_WIDTH = 18
TSV_SUFFIXES = (".tsv", ".tsv.gz", ".txt", ".txt.gz")


def _printable(text: str, width: int = NAME_WIDTH) -> str:
    """A gene name safe for a terminal (control characters → ``?``), cut to ``width`` characters."""
    text = "".join(c if c.isprintable() else "?" for c in str(text))
    return text if len(text) <= width else text[: width - 1] + "…"


def _pair(x, y) -> str:
    return f"{x or 'NA'}/{y or 'NA'}"


def gene_rows(comparison, frame) -> list[list[str]]:
    """The printed cells of each gene of ``frame`` (rows of the ranked table)."""
    import pandas as pd

    from shallowchrome.tracks.analysis.compare import probability, signed

    rows = []
    for _, r in frame.iterrows():
        cells = ["NA" if pd.isna(r["rank"]) else f"{int(r['rank']):,}",
                 _printable(r["symbol"] or r["gene_id"]), signed(r["delta_logit"])]
        cells += [signed(r[comparison.term_column(t)]) for t in comparison.terms]
        cells += [r["driver"] or "-", probability(r["probability_a"]), probability(r["probability_b"]),
                  _pair(r["predicted_a"], r["predicted_b"]), _pair(r["measured_a"], r["measured_b"]),
                  signed(r["delta_log2_rpkm"])]
        rows.append(cells)
    return rows


def header(comparison) -> list[str]:
    a, b = comparison.a.eid, comparison.b.eid
    terms = [f"Δ{t}" for t in comparison.terms]
    return ["rank", "gene", "Δlogit", *terms, "driver", f"P(ON) {a}", f"P(ON) {b}", "predicted", "measured",
            "Δlog2(RPKM+1)"]


def aligned(head: list[str], rows: list[list[str]]) -> list[str]:
    """Columns padded to their widest cell: the gene and driver columns left-aligned, numbers right-aligned."""
    left = {1, len(head) - 6}
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) if rows else len(head[i]) for i in range(len(head))]

    def line(cells):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(head), *(line(r) for r in rows)]


def _count(n: int) -> str:
    return f"{n:,}"


def summary_lines(comparison) -> list[str]:
    from shallowchrome.tracks.analysis.compare import plain

    a, b = comparison.a, comparison.b
    s = comparison.summary()
    name = lambda side: f"{side.eid} {side.tissue}".strip()  # noqa: E731
    terms = " + ".join(f"Δ{t}" for t in comparison.terms)
    lines = [f"{name(a)} vs {name(b)}: {_count(s['n_genes'])} genes ranked by "
             f"Δlogit = logit({a.eid}) − logit({b.eid}) = {terms}"]
    if comparison.common:
        lines.append(f"marks of both models: {', '.join(comparison.common)}")
    for mark in [*comparison.only_a, *comparison.only_b]:
        lines.append(f"note: {comparison.term_note(mark)}")
    p, m = s["predicted"], s["measured"]
    lines.append(f"predicted ON in {a.eid} and OFF in {b.eid}: {_count(p['on_in_a_off_in_b'])} genes, the reverse: "
                 f"{_count(p['off_in_a_on_in_b'])} (measured: {_count(m['on_in_a_off_in_b'])} and "
                 f"{_count(m['off_in_a_on_in_b'])})")
    if s["pearson"] is not None:
        lines.append(f"Δlogit against the measured Δlog2(RPKM+1): Pearson r = {plain(s['pearson'])}, "
                     f"Spearman rho = {plain(s['spearman'])} ({_count(s['n_with_expression'])} genes with "
                     f"expression in both)")
    return lines


@click.command(epilog="""\b
Examples:
  shallowchrome compare ws/ E066 E100
  shallowchrome compare ws/ E066 E100 --top 25 --out E066_vs_E100.tsv
  shallowchrome compare ws/ E066 E100 --genes ALB,APOA1

\b
Every gene is ranked by Δlogit = logit(A) − logit(B), read from the two
epigenomes' predictions.tsv, and split into one term per mark (Δψ = ψ_A − ψ_B;
a mark in one model only contributes that model's own ψ, and the output says
so) plus Δbias, so that the terms add up to Δlogit. Beside them: P(ON) in A
and B, the predicted and the measured class (A/B) and the measured
Δlog2(RPKM+1). --out writes every gene (TSV, .gz compresses).
""")
@click.argument("workspace", type=click.Path(file_okay=False))
@click.argument("a")
@click.argument("b")
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True,
              help="Genes printed each way (more ON in A, more ON in B).")
@click.option("--genes", callback=comma_list, help="Also print these genes (comma-separated symbols or Ensembl ids).")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the full ranked table here (TSV).")
def compare(workspace, a, b, top, genes, out):
    """Compare two epigenomes: why is a gene ON in A but OFF in B?

    Ranks every gene by the difference of its predicted logits in epigenomes
    A and B and attributes the difference to the marks and the bias.
    """
    from shallowchrome.tracks.analysis.compare import MORE_ON_IN_A, MORE_ON_IN_B, write_comparison
    from shallowchrome.tracks.analysis.compare import compare as compare_epigenomes
    from shallowchrome.tracks.workspace.layout import Workspace

    if out and not out.lower().endswith(TSV_SUFFIXES):
        raise InputError(out, "--out writes a TSV table", fix="name the file .tsv (or .tsv.gz)")
    ws = Workspace.open(workspace)
    comparison = compare_epigenomes(ws, a, b)
    picked = None
    if genes:
        rows = list(dict.fromkeys(r for g in genes for r in ws.find_gene_rows(g)))
        picked = comparison.table.loc[rows].sort_values("rank", kind="stable")
    head = header(comparison)
    for line in summary_lines(comparison):
        click.echo(line)
    n = len(comparison.table)
    ea, eb = comparison.a.eid, comparison.b.eid
    sections = []
    if top:
        sections += [(f"More ON in {ea} than in {eb} (top {top} of {n:,}):", comparison.top(top, MORE_ON_IN_A)),
                     (f"More ON in {eb} than in {ea} (top {top} of {n:,}):", comparison.top(top, MORE_ON_IN_B))]
    if picked is not None:
        sections.append((f"Genes asked for (rank of {n:,}):", picked))
    for title, frame in sections:
        click.echo("")
        click.echo(title)
        for line in aligned(head, gene_rows(comparison, frame)) if len(frame) else ["(none)"]:
            click.echo(line)
    if out:
        write_comparison(comparison, out)
        click.echo("")
        click.echo(f"wrote {out} ({n:,} genes)")
