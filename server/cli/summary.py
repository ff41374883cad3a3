"""The per-epigenome summary lines ``build`` and ``demo`` print (one wording, tissue names aligned)."""
from __future__ import annotations

import pandas as pd

from shallowchrome.tracks.numbers import num


def evaluation_lines(evaluation: pd.DataFrame) -> list[str]:
    """One line per epigenome of ``evaluation.tsv``: id, tissue, test AUROC mean ± sd, AUPR, F1, marks,
    DeepChrome's published AUROC where known; or why it was skipped."""
    tissues = [str(t).replace("_", " ") if isinstance(t, str) else "" for t in evaluation.get("tissue", [])]
    width = max((len(t) for t in tissues), default=0)
    lines = []
    for row, tissue in zip(evaluation.itertuples(), tissues):
        head = f"{row.epigenome}  {tissue:<{width}}" if width else row.epigenome
        if row.status == "transfer":  # no expression data: predicted by the reference model
            lines.append(f"{head}  no test AUROC: {row.reason}  [{row.marks}]")
            continue
        if row.status != "ok":
            lines.append(f"{head}  skipped: {row.reason}")
            continue
        pearson = getattr(row, "pearson_mean", float("nan"))
        if pearson == pearson:  # the regression task (build --task regression): correlations, no AUROC
            lines.append(f"{head}  test Pearson r {num(pearson, 3)} ± {num(row.pearson_sd, 3)}  "
                         f"Spearman {num(row.spearman_mean, 3)}  R² {num(row.r2_mean, 3)}  [{row.marks}]")
            continue
        dc = getattr(row, "deepchrome_auroc", float("nan"))
        dc = "" if dc != dc else f"  (DeepChrome {num(dc)})"
        lines.append(f"{head}  test AUROC {num(row.auroc_mean, 3)} ± {num(row.auroc_sd, 3)}  "
                     f"AUPR {num(row.aupr_mean, 3)}  F1 {num(row.f1_mean, 3)}  [{row.marks}]{dc}")
    return lines
