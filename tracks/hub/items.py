"""The prediction track's items: one BED9+N row per gene over its TSS window.

Coordinates are BED: 0-based, half-open. Per gene:

- ``chromStart, chromEnd`` = TSS ± window clipped to the chromosome
  (the model's input field); ``thickStart, thickEnd`` = TSS ± 500 bp, clipped
  to the window;
- ``name`` = symbol (gene id when there is none); ``score`` =
  round(1000 × probability); ``strand`` when known, else ``.``;
- ``itemRgb`` by predicted class (ON / OFF), or, for the *outcome* variant,
  by agreement with the measured label (correct / wrong / unlabelled);
- extra fields (autoSql): gene_id, probability, logit, predicted, rpkm,
  label, outcome, part, one contribution ψ and one Wald p-value per mark,
  the top contributing mark (argmax |ψ|) and its ψ, and the ChromHMM TSS state
  when ``predictions.tsv`` has a ``chromhmm_state`` column.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from shallowchrome.tracks.hub.bigbed import BED9_FIELDS, AutoSql, bed_sort_order
from shallowchrome.tracks.style import CLASS_RGB, OUTCOME_RGB

THICK_HALF_WIDTH = 500
NONE_MARK = "none"


def field_name(prefix: str, mark: str) -> str:
    """An autoSql-safe field name for a per-mark column (``contrib_H3K4me3``)."""
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', mark)}"


def prediction_autosql(marks: list[str], with_chromhmm: bool) -> AutoSql:
    fields = list(BED9_FIELDS)
    fields[3] = ("string", "name", "Gene symbol (Ensembl gene id when there is none)")
    fields[4] = ("uint", "score", "round(1000 x probability ON)")
    fields[6] = ("uint", "thickStart", "TSS - 500 bp (0-based)")
    fields[7] = ("uint", "thickEnd", "TSS + 500 bp (exclusive)")
    fields[8] = ("uint", "reserved", "itemRgb: predicted ON bluish green, OFF vermillion (outcome track: "
                 "correct blue, wrong orange, unlabelled grey)")
    fields += [
        ("string", "gene_id", "Ensembl gene id"),
        ("double", "probability", "Predicted probability that the gene is ON (RPKM >= the epigenome's threshold)"),
        ("double", "logit", "Logit = bias + sum of the contributions"),
        ("string", "predicted", "Predicted class: ON or OFF"),
        ("double", "rpkm", "Measured expression, RPKM (nan when the gene is not in the expression table)"),
        ("string", "label", "Measured class: ON, OFF, or NA without expression"),
        ("string", "outcome", "Prediction vs measured class: correct, wrong or unlabelled"),
        ("string", "part", "Part of the gene for the model that explains it: test (held out by its cross-fitting "
                           "fold) or none (no expression)"),
    ]
    fields += [("double", field_name("contrib", m), f"Contribution psi = weight x feature of {m} to the logit")
               for m in marks]
    fields += [("double", field_name("pvalue", m), f"Wald-test p-value of the {m} weight of the gene's fold model")
               for m in marks]
    fields += [
        ("string", "top_mark", "Mark with the largest |contribution| (none when every contribution is 0)"),
        ("double", "top_contrib", "Contribution of top_mark"),
    ]
    if with_chromhmm:
        fields.append(("string", "chromhmm_state", "ChromHMM state at the TSS"))
    return AutoSql("shallowchromePrediction",
                   "ShallowChrome predicted expression of a gene and its explanation by histone marks",
                   tuple(fields))


#: What one BED field may hold (BED 1.0, hts-specs: printable ASCII, at most 255 characters).
_NOT_BED = re.compile(r"[^\x20-\x7e]|%")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
BED_FIELD_MAX = 255


def text_field(values) -> np.ndarray:
    """Free text (gene symbols) as a valid BED field: runs of control characters (TAB, CR, LF ...)
    become one space, other non-ASCII characters (and ``%``) are percent-encoded as UTF-8
    (``GÉNE`` → ``G%C3%89NE``), at most 255 characters. ASCII symbols are unchanged."""
    from urllib.parse import quote

    def field(text: str) -> str:
        if not _NOT_BED.search(text):
            return text
        text = _CONTROL.sub(" ", text).strip() or "?"
        return quote(text, safe="".join(chr(c) for c in range(0x20, 0x7f) if chr(c) != "%"))[:BED_FIELD_MAX]

    return np.array([field(str(v)) for v in values], dtype=object)


def _fmt(values, spec: str = "%.6g") -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64) + 0.0  # no negative zeros
    return np.array([spec % v for v in arr.tolist()], dtype=object)  # (np.char.mod: the same text, 2.5x slower)


def _classes(series: pd.Series) -> np.ndarray:
    """1/0/NA → ON/OFF/NA."""
    s = pd.to_numeric(series, errors="coerce").astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(s == 1, "ON", np.where(s == 0, "OFF", "NA")).astype(object)


def top_marks(contrib: np.ndarray, marks: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """argmax |ψ| per gene (ties: the first mark in model order); ``none`` when all ψ are 0."""
    if contrib.shape[1] == 0:
        return np.full(len(contrib), NONE_MARK, dtype=object), np.zeros(len(contrib))
    idx = np.argmax(np.abs(contrib), axis=1)
    value = contrib[np.arange(len(contrib)), idx]
    names = np.array(marks, dtype=object)[idx]
    names[np.all(contrib == 0, axis=1)] = NONE_MARK
    return names, value


def prediction_items(pred: pd.DataFrame, model: dict, window: int, chrom_sizes: dict) -> pd.DataFrame:
    """All BED9+N columns (as in :func:`prediction_autosql`) of one epigenome, sorted; plus ``outcome_rgb``."""
    marks = list(model["marks"])
    chrom = pred["chrom"].astype(str).to_numpy(dtype=object)
    tss = pred["tss"].to_numpy(dtype=np.int64)
    size = np.array([chrom_sizes[c] for c in chrom], dtype=np.int64)
    start = np.maximum(tss - window, 0)
    end = np.minimum(tss + window, size)
    symbol = pred["symbol"].fillna("").astype(str).to_numpy(dtype=object) if "symbol" in pred else None
    gene_id = pred["gene_id"].astype(str).to_numpy(dtype=object)
    name = gene_id if symbol is None else np.where(symbol != "", text_field(symbol), gene_id)
    prob = pred["probability"].to_numpy(dtype=np.float64)
    predicted = pred["predicted"].to_numpy() if "predicted" in pred else (pred["logit"].to_numpy() > 0).astype(int)
    label = _classes(pred["label"])
    pred_cls = np.where(predicted == 1, "ON", "OFF").astype(object)
    outcome = np.where(label == "NA", "unlabelled", np.where(label == pred_cls, "correct", "wrong")).astype(object)
    strand = pred["strand"].fillna(".").astype(str).to_numpy(dtype=object) if "strand" in pred else np.full(len(pred), ".")
    strand = np.where(np.isin(strand, ["+", "-"]), strand, ".").astype(object)
    contrib = np.column_stack([pred[f"contrib_{m}"].to_numpy(dtype=np.float64) for m in marks]) if marks \
        else np.zeros((len(pred), 0))
    top, top_value = top_marks(contrib, marks)
    rpkm = pd.to_numeric(pred["rpkm"], errors="coerce").to_numpy(dtype=np.float64)
    items = {
        "chrom": chrom, "chromStart": start, "chromEnd": end, "name": name,
        "score": np.clip(np.rint(prob * 1000), 0, 1000).astype(np.int64), "strand": strand,
        "thickStart": np.maximum(tss - THICK_HALF_WIDTH, start), "thickEnd": np.minimum(tss + THICK_HALF_WIDTH, end),
        "reserved": np.where(predicted == 1, CLASS_RGB[1], CLASS_RGB[0]).astype(object),
        "gene_id": gene_id, "probability": _fmt(prob), "logit": _fmt(pred["logit"]), "predicted": pred_cls,
        "rpkm": np.where(np.isnan(rpkm), "nan", _fmt(rpkm, "%.6g")).astype(object), "label": label,
        "outcome": outcome, "part": pred["part"].fillna("none").astype(str).to_numpy(dtype=object),
    }
    from shallowchrome.model.interpret import fold_record, has_crossfit, mark_p_value

    folds = pred["fold"].astype(str) if "fold" in pred and has_crossfit(model) else None
    for j, m in enumerate(marks):
        items[field_name("contrib", m)] = _fmt(contrib[:, j])
    for m in marks:
        if folds is None:  # a workspace built before cross-fitting: the interpretation model's, for every gene
            p = model.get("p_values", {}).get(m)
            items[field_name("pvalue", m)] = np.full(len(pred), "nan" if p is None else "%.3g" % p, dtype=object)
        else:
            text = {f: ("nan" if (p := mark_p_value(fold_record(model, f), m)) is None else "%.3g" % p)
                    for f in folds.unique()}
            items[field_name("pvalue", m)] = folds.map(text).to_numpy(dtype=object)
    items["top_mark"] = top
    items["top_contrib"] = _fmt(top_value)
    if "chromhmm_state" in pred:
        state = pred["chromhmm_state"]  # float NaN throughout when no TSS has a state
        items["chromhmm_state"] = state.astype(object).where(state.notna(), "NA").astype(str).to_numpy(dtype=object)
    frame = pd.DataFrame(items)
    frame["outcome_rgb"] = frame["outcome"].map(OUTCOME_RGB)
    order = bed_sort_order(chrom, start, end, np.arange(len(pred)))
    return frame.iloc[order].reset_index(drop=True)


def rest_strings(items: pd.DataFrame, fields: list[str], rgb_column: str = "reserved") -> list[str]:
    """Tab-joined fields after chromEnd for each item (the bigBed ``rest``), itemRgb from ``rgb_column``."""
    cols = [items[rgb_column if f == "reserved" else f].astype(str).tolist() for f in fields[3:]]
    return ["\t".join(t) for t in zip(*cols)]


def bed_text(items: pd.DataFrame, fields: list[str], rest: list[str] | None = None) -> str:
    """The items as a BED9+N text file with a ``#`` column-name header (0-based, half-open)."""
    rest = rest_strings(items, fields) if rest is None else rest
    lines = [f"{c}\t{s}\t{e}\t{r}" for c, s, e, r in
             zip(items["chrom"].tolist(), items["chromStart"].tolist(), items["chromEnd"].tolist(), rest)]
    return "#" + "\t".join(fields) + "\n" + "\n".join(lines) + "\n"
