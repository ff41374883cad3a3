"""Why is this gene ON in epigenome A but OFF in B? Every gene ranked by the difference of its predicted logits.

A gene's logit in an epigenome is ``bias + Σ_marks ψ`` (ψ = weight × feature). Between two epigenomes
A and B the difference splits the same way::

    Δlogit = logit_A − logit_B = Σ_marks Δψ + Δbias

- a mark of both models: ``Δψ = ψ_A − ψ_B``;
- a mark of one model only (e.g. DNase in A's model, not in B's): its term is that model's own ψ
  (``ψ_A``, or ``−ψ_B`` for a mark of B only) — :attr:`Comparison.only_a` / :attr:`Comparison.only_b`
  name them and every output says so;
- ``Δbias`` is the rest, ``Δlogit − Σ Δψ``: the difference of the bias terms of the models that made the
  two predictions (``logit − Σψ`` of each side, so the terms add up to Δlogit exactly, whichever model —
  the interpretation split's or a cross-fitted one — wrote the gene's row of ``predictions.tsv``).

Everything is read from the two epigenomes' ``predictions.tsv`` (:meth:`Workspace.predictions`:
logit, probability, predicted class, RPKM, label, part, ``contrib_MARK``) and ``genes.tsv``; nothing is
recomputed from the models. Genes are ranked by Δlogit, largest first (the genes most "more ON in A"
first, the most "more ON in B" last); ties keep the genes.tsv order. Beside the prediction, each side's
measured class (label) and, when both epigenomes have the gene's expression, the measured
``Δ log2(RPKM + 1)``.

The outputs: :func:`compare` (a :class:`Comparison` holding the ranked table), :meth:`Comparison.top`,
:meth:`Comparison.summary`, :func:`gene_attribution` (one gene, for gene and report pages; :func:`extreme_pair` picks their default
A and B),
:func:`write_comparison` / :func:`read_comparison` (the TSV, columns :func:`columns`) and
:func:`scatter_svg` (Δlogit against the measured Δ log-expression, a self-contained SVG).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.reference import tissues

#: The bias's name among the terms of an attribution (a mark cannot be called so: marks are histone marks).
BIAS = "bias"
#: Columns of the ranked table before the per-term ones, and after them.
HEAD_COLUMNS = ["epigenome_a", "epigenome_b", "rank", "gene_id", "symbol", "chrom", "tss", "strand", "delta_logit"]
TAIL_COLUMNS = ["delta_bias", "driver", "logit_a", "logit_b", "probability_a", "probability_b",
                "predicted_a", "predicted_b", "measured_a", "measured_b", "rpkm_a", "rpkm_b",
                "delta_log2_rpkm", "part_a", "part_b"]
#: Directions of :meth:`Comparison.top`.
MORE_ON_IN_A, MORE_ON_IN_B = "a", "b"


def delta_column(mark: str) -> str:
    """The ranked table's column of a mark's term: ``delta_psi_H3K4me3``."""
    return f"delta_psi_{mark}"


def columns(marks) -> list[str]:
    """The ranked table's (and the TSV's) columns for the marks ``marks`` (common, then A's, then B's)."""
    return [*HEAD_COLUMNS, *(delta_column(m) for m in marks), *TAIL_COLUMNS]


@dataclass(frozen=True)
class Side:
    """One of the two epigenomes: its id, tissue and the marks of its model."""

    eid: str
    tissue: str
    marks: tuple


@dataclass
class Comparison:
    """Epigenome A against B: the ranked table (one row per gene, index = genes.tsv row) and its terms."""

    a: Side
    b: Side
    table: pd.DataFrame
    common: list = field(default_factory=list)
    only_a: list = field(default_factory=list)
    only_b: list = field(default_factory=list)

    @property
    def marks(self) -> list[str]:
        """Every mark with a term: those of both models, then A's only, then B's only."""
        return [*self.common, *self.only_a, *self.only_b]

    @property
    def terms(self) -> list[str]:
        """The attribution's terms: the marks, then the bias."""
        return [*self.marks, BIAS]

    def term_column(self, term: str) -> str:
        return "delta_bias" if term == BIAS else delta_column(term)

    def term_note(self, term: str) -> str | None:
        """Why a term is not a difference (a mark of one model only), None when it is one."""
        if term in self.only_a:
            return f"{term} is only in {self.a.eid}'s model: its term is {self.a.eid}'s own ψ"
        if term in self.only_b:
            return f"{term} is only in {self.b.eid}'s model: its term is −ψ of {self.b.eid}"
        return None

    def top(self, n: int, direction: str = MORE_ON_IN_A) -> pd.DataFrame:
        """The ``n`` genes most ON in A relative to B (``direction="a"``: largest Δlogit > 0 first) or
        in B relative to A (``"b"``: most negative Δlogit first)."""
        t = self.table
        if direction == MORE_ON_IN_A:
            return t[t["delta_logit"] > 0].head(n)
        if direction == MORE_ON_IN_B:
            return t[t["delta_logit"] < 0].iloc[::-1].head(n)
        raise ValueError(f"direction is 'a' or 'b', not {direction!r}")

    def record(self, row: int) -> dict:
        """One gene (by genes.tsv row) as a JSON-ready dict: rank, gene, Δlogit, attribution per term,
        driver, each side's logit, probability, predicted and measured class, RPKM and part."""
        r = self.table.loc[row]
        side = {}
        for s in ("a", "b"):
            side[s] = {"epigenome": getattr(self, s).eid, "logit": _num(r[f"logit_{s}"]),
                       "probability": _num(r[f"probability_{s}"]), "predicted": _text(r[f"predicted_{s}"]),
                       "measured": _text(r[f"measured_{s}"]), "rpkm": _num(r[f"rpkm_{s}"]),
                       "part": _text(r[f"part_{s}"])}
        return {
            "rank": None if pd.isna(r["rank"]) else int(r["rank"]), "n_genes": len(self.table),
            "gene": {"gene_id": r["gene_id"], "symbol": r["symbol"], "chrom": r["chrom"], "tss": int(r["tss"]),
                     "strand": r["strand"]},
            "delta_logit": _num(r["delta_logit"]),
            "attribution": {t: _num(r[self.term_column(t)]) for t in self.terms},
            "driver": _text(r["driver"]),
            "a": side["a"], "b": side["b"],
            "delta_log2_rpkm": _num(r["delta_log2_rpkm"]),
        }

    def records(self, frame: pd.DataFrame) -> list[dict]:
        return [self.record(row) for row in frame.index]

    def describe(self) -> dict:
        """The two sides and the marks (JSON-ready)."""
        notes = {t: self.term_note(t) for t in self.marks if self.term_note(t)}
        return {"a": {"epigenome": self.a.eid, "tissue": self.a.tissue, "marks": list(self.a.marks)},
                "b": {"epigenome": self.b.eid, "tissue": self.b.tissue, "marks": list(self.b.marks)},
                "marks": {"common": list(self.common), "only_a": list(self.only_a), "only_b": list(self.only_b),
                          "notes": notes}}

    def summary(self) -> dict:
        """Genome-wide numbers: genes, class changes (predicted and measured), the mean |term| per term
        (which terms move logits between A and B), and how Δlogit follows the measured Δ log-expression
        (Pearson and Spearman correlation over the genes with expression on both sides)."""
        t = self.table
        both = t["delta_log2_rpkm"].notna() & t["delta_logit"].notna()
        x, y = t.loc[both, "delta_logit"].to_numpy(float), t.loc[both, "delta_log2_rpkm"].to_numpy(float)
        measured = t["measured_a"].notna() & t["measured_b"].notna()
        return {
            "n_genes": int(len(t)),
            "n_with_expression": int(both.sum()),
            "predicted": {"on_in_a_off_in_b": int(((t["predicted_a"] == "ON") & (t["predicted_b"] == "OFF")).sum()),
                          "off_in_a_on_in_b": int(((t["predicted_a"] == "OFF") & (t["predicted_b"] == "ON")).sum())},
            "measured": {"on_in_a_off_in_b": int((measured & (t["measured_a"] == "ON") & (t["measured_b"] == "OFF")).sum()),
                         "off_in_a_on_in_b": int((measured & (t["measured_a"] == "OFF") & (t["measured_b"] == "ON")).sum())},
            "mean_abs_term": {term: _num(t[self.term_column(term)].abs().mean()) for term in self.terms},
            "pearson": _correlation(x, y), "spearman": _correlation(_ranks(x), _ranks(y)),
        }

    def document(self, limit: int) -> dict:
        """The JSON answer of ``/api/compare``: the sides, the summary and the top ``limit`` genes each way."""
        return {**self.describe(), "summary": self.summary(),
                "more_on_in_a": self.records(self.top(limit, MORE_ON_IN_A)),
                "more_on_in_b": self.records(self.top(limit, MORE_ON_IN_B))}


def _num(value):
    """A finite float, else None (JSON-safe)."""
    if value is None or value is pd.NA:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _text(value):
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _ranks(values: np.ndarray) -> np.ndarray:
    return pd.Series(values).rank(method="average").to_numpy(float)


def _correlation(x: np.ndarray, y: np.ndarray):
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


# --- the epigenomes ------------------------------------------------------------------------------------------
def resolve_epigenome(available, name, which: str, where=None, example: str | None = None) -> str:
    """``name`` among the fitted epigenomes ``available`` (exact, else case-insensitive); an unknown one is an
    :class:`InputError` naming them. ``which``: "A" or "B" (for the message); ``where``: the workspace."""
    name = "" if name is None else str(name).strip()
    listed = ", ".join(available) or "none"
    if not name:
        raise InputError(where, f"epigenome {which} is missing; this workspace has {listed}",
                         fix=f"give epigenome {which}, e.g. {example or (available[0] if available else 'E066')}")
    if name in available:
        return name
    folded = [e for e in available if e.upper() == name.upper()]
    if len(folded) == 1:
        return folded[0]
    shown = name if len(name) <= 40 else name[:40] + "…"
    raise InputError(where, f"no fitted epigenome {shown!r} ({which}); this workspace has {listed}",
                     fix=f"pick {which} among those")


def check_pair(available, a, b, where=None) -> tuple[str, str]:
    """A and B resolved (:func:`resolve_epigenome`); the same epigenome twice is an :class:`InputError`."""
    a = resolve_epigenome(available, a, "A", where)
    b = resolve_epigenome(available, b, "B", where, example=next((e for e in available if e != a), a))
    if a == b:
        raise InputError(where, f"A and B are the same epigenome ({a})",
                         fix=f"compare two different epigenomes among {', '.join(available)}")
    return a, b


def tissue_of(ws, eid: str) -> str:
    """The epigenome's tissue as the build recorded it (workspace.json), else Roadmap's name, else ""."""
    recorded = (ws.info.get("epigenomes", {}).get(eid) or {}).get("tissue")
    return recorded or tissues().get(eid, "") or ""


# --- the comparison ------------------------------------------------------------------------------------------
def _contributions(pred: pd.DataFrame, marks, eid: str, where) -> dict:
    missing = [m for m in marks if f"contrib_{m}" not in pred.columns]
    if missing:
        raise InputError(where, f"predictions.tsv of {eid} has no column "
                         f"{', '.join('contrib_' + m for m in missing)}",
                         fix="rebuild the workspace with this version of shallowchrome build")
    return {m: pred[f"contrib_{m}"].to_numpy(dtype=np.float64) for m in marks}


def _classes(values) -> np.ndarray:
    """0/1 (possibly NA) → "OFF"/"ON"/None."""
    numbers = pd.to_numeric(pd.Series(values), errors="coerce").astype("Float64").to_numpy(dtype=np.float64,
                                                                                           na_value=np.nan)
    out = np.full(len(numbers), None, dtype=object)
    known = ~np.isnan(numbers)
    out[known] = np.where(np.trunc(numbers[known]) == 1, "ON", "OFF")  # int(v) == 1, as the labels are read
    return out


def compare_frames(genes: pd.DataFrame, pred_a: pd.DataFrame, pred_b: pd.DataFrame, a: Side, b: Side,
                   where=None) -> Comparison:
    """The comparison of two epigenomes from their predictions (one row per genes.tsv row, in that order).

    ``genes``: genes.tsv (gene_id, symbol, chrom, tss, strand); ``pred_a`` / ``pred_b``: predictions.tsv of
    A and B (logit, probability, predicted, rpkm, label, part, ``contrib_MARK`` for the marks of
    ``a.marks`` / ``b.marks``). Pure: frames in, a :class:`Comparison` out.
    """
    n = len(genes)
    for side, pred in ((a, pred_a), (b, pred_b)):
        if len(pred) != n:
            raise InputError(where, f"predictions.tsv of {side.eid} has {len(pred)} rows, genes.tsv {n}",
                             fix="rebuild the workspace (its files disagree)")
        if "gene_id" in pred.columns and not np.array_equal(pred["gene_id"].astype(str).to_numpy(),
                                                            genes["gene_id"].astype(str).to_numpy()):
            raise InputError(where, f"predictions.tsv of {side.eid} does not list the genes of genes.tsv in order",
                             fix="rebuild the workspace (its files disagree)")
    common = [m for m in a.marks if m in b.marks]
    only_a = [m for m in a.marks if m not in b.marks]
    only_b = [m for m in b.marks if m not in a.marks]
    psi_a = _contributions(pred_a, a.marks, a.eid, where)
    psi_b = _contributions(pred_b, b.marks, b.eid, where)
    logit_a = pred_a["logit"].to_numpy(dtype=np.float64)
    logit_b = pred_b["logit"].to_numpy(dtype=np.float64)
    delta = logit_a - logit_b
    terms = {}
    for m in common:
        terms[m] = psi_a[m] - psi_b[m]
    for m in only_a:
        terms[m] = psi_a[m].copy()
    for m in only_b:
        terms[m] = -psi_b[m]
    marks = [*common, *only_a, *only_b]
    summed = np.zeros(n)
    for m in marks:
        summed = summed + terms[m]
    bias = delta - summed  # the bias terms' difference: (logit_A − Σψ_A) − (logit_B − Σψ_B)
    stacked = np.column_stack([terms[m] for m in marks] + [bias]) if n else np.zeros((0, len(marks) + 1))
    names = np.array([*marks, BIAS], dtype=object)
    # the driver: the term that moves the logit most in the direction of Δlogit (none when Δlogit is 0 or NA)
    moves = np.isfinite(delta) & (delta != 0)
    driver = np.full(n, None, dtype=object)
    if moves.any():
        pushed = np.nan_to_num(stacked[moves] * np.sign(delta[moves])[:, None], nan=-np.inf)
        driver[moves] = names[np.argmax(pushed, axis=1)]
    rpkm_a = pred_a["rpkm"].to_numpy(dtype=np.float64)
    rpkm_b = pred_b["rpkm"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        measured_delta = np.log2(rpkm_a + 1.0) - np.log2(rpkm_b + 1.0)
    index = pd.RangeIndex(n, name="row")

    def nullable(values) -> pd.Series:  # text with None for missing (pandas 3 would make it str with NaN)
        return pd.Series(np.asarray(values, dtype=object), index=index, dtype=object)

    table = pd.DataFrame({
        "epigenome_a": a.eid, "epigenome_b": b.eid, "rank": pd.array([pd.NA] * n, dtype="Int64"),
        "gene_id": genes["gene_id"].astype(str).to_numpy(), "symbol": genes["symbol"].astype(str).to_numpy(),
        "chrom": genes["chrom"].astype(str).to_numpy(), "tss": genes["tss"].astype(np.int64).to_numpy(),
        "strand": genes["strand"].astype(str).to_numpy(), "delta_logit": delta,
        **{delta_column(m): terms[m] for m in marks}, "delta_bias": bias, "driver": nullable(driver),
        "logit_a": logit_a, "logit_b": logit_b,
        "probability_a": pred_a["probability"].to_numpy(dtype=np.float64),
        "probability_b": pred_b["probability"].to_numpy(dtype=np.float64),
        "predicted_a": nullable(_classes(pred_a["predicted"])), "predicted_b": nullable(_classes(pred_b["predicted"])),
        "measured_a": nullable(_classes(pred_a["label"])), "measured_b": nullable(_classes(pred_b["label"])),
        "rpkm_a": rpkm_a, "rpkm_b": rpkm_b, "delta_log2_rpkm": measured_delta,
        "part_a": nullable([_text(v) for v in pred_a["part"]]), "part_b": nullable([_text(v) for v in pred_b["part"]]),
    }, index=index)
    # largest Δlogit first; ties in genes.tsv order (a stable sort); genes without a logit last, unranked
    order = np.argsort(-np.where(np.isfinite(delta), delta, -np.inf), kind="stable")
    table = table.iloc[order]
    ranked = np.isfinite(table["delta_logit"].to_numpy())
    rank = pd.array([pd.NA] * n, dtype="Int64")
    rank[ranked] = np.arange(1, int(ranked.sum()) + 1)
    table["rank"] = rank
    return Comparison(a=a, b=b, table=table, common=common, only_a=only_a, only_b=only_b)


def compare(ws, a: str, b: str) -> Comparison:
    """Epigenome ``a`` against ``b`` of the workspace ``ws``: every gene ranked by Δlogit, attributed to the
    marks and the bias (see the module docstring). Unknown or identical epigenomes are an
    :class:`InputError` naming the workspace's fitted epigenomes."""
    a, b = check_pair(ws.epigenomes(), a, b, where=ws.root)
    sides = [Side(e, tissue_of(ws, e), tuple(ws.model(e)["marks"])) for e in (a, b)]
    return compare_frames(ws.genes(), ws.predictions(a), ws.predictions(b), *sides, where=ws.root)


def gene_attribution(comparison: Comparison, rows) -> list[dict]:
    """One gene's A-vs-B attribution (:meth:`Comparison.record`) for each genes.tsv row in ``rows`` (e.g.
    ``ws.find_gene_rows("ALB")``), with the two sides and the marks: what a gene or report page shows."""
    head = comparison.describe()
    return [{**head, **comparison.record(int(r))} for r in ([rows] if np.isscalar(rows) else rows)]


def extreme_pair(probabilities) -> tuple[str, str] | None:
    """The default A and B of one gene's "why ON in A but OFF in B": of ``{epigenome: P(ON)}``, the epigenome
    with the highest P(ON) and, among the others, the one with the lowest (the first in the given order on
    ties); None when fewer than two have a finite P(ON)."""
    finite = [(e, v) for e, v in ((e, _num(p)) for e, p in dict(probabilities).items()) if v is not None]
    if len(finite) < 2:
        return None
    a = max(finite, key=lambda item: item[1])[0]  # max and min keep the first of equal values
    b = min((item for item in finite if item[0] != a), key=lambda item: item[1])[0]
    return a, b


def compare_gene(ws, a: str, b: str, query: str) -> list[dict]:
    """:func:`gene_attribution` of a gene (symbol or Ensembl id) between ``a`` and ``b`` of ``ws``."""
    rows = ws.find_gene_rows(query)
    return gene_attribution(compare(ws, a, b), rows)


# --- the TSV -------------------------------------------------------------------------------------------------
def comparison_table(comparison: Comparison) -> pd.DataFrame:
    """The ranked table as written to TSV (columns :func:`columns`, genes in rank order)."""
    return comparison.table.reset_index(drop=True)[columns(comparison.marks)]


def write_comparison(comparison: Comparison, path) -> None:
    """The full ranked table as TSV (gzip when the name ends in .gz), written atomically; NA for missing
    values (e.g. Δ log2(RPKM+1) of a gene without expression on one side)."""
    from shallowchrome.tracks.io.textio import write_table_atomic

    write_table_atomic(path, comparison_table(comparison), float_format="%.8g")


def comparison_bytes(comparison: Comparison) -> bytes:
    from shallowchrome.tracks.io.textio import table_bytes

    return table_bytes(comparison_table(comparison), float_format="%.8g")


def read_comparison(path) -> pd.DataFrame:
    """A TSV written by :func:`write_comparison`, with the column types of :func:`comparison_table`."""
    frame = pd.read_csv(path, sep="\t", keep_default_na=False, na_values={
        c: ["NA"] for c in ("rank", "driver", "measured_a", "measured_b", "rpkm_a", "rpkm_b",
                            "delta_log2_rpkm", "predicted_a", "predicted_b", "part_a", "part_b")},
        dtype={"epigenome_a": str, "epigenome_b": str, "gene_id": str, "symbol": str, "chrom": str,
               "strand": str, "rank": "Int64"})
    for c in ("driver", "measured_a", "measured_b", "predicted_a", "predicted_b", "part_a", "part_b"):
        frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    return frame


# --- numbers as a scientist reads them ---------------------------------------------------------------------
def signed(value, digits: int = 2) -> str:
    """``+1.23`` / ``-0.50`` / ``0.00`` (a value that rounds to zero has no sign); ``NA`` when missing."""
    from shallowchrome.tracks.numbers import num

    return num(_num(value), digits, signed=True)


def plain(value, digits: int = 2) -> str:
    """``1.23`` (never a negative zero); ``NA`` when missing."""
    from shallowchrome.tracks.numbers import num

    return num(_num(value), digits)


def probability(value) -> str:
    """A probability with three decimals, ``<0.001`` / ``>0.999`` at the ends; ``NA`` when missing."""
    v = _num(value)
    if v is None:
        return "NA"
    if v < 0.0005:
        return "<0.001"
    if v >= 0.9995:
        return ">0.999"
    return f"{v:.3f}"


# --- the chart -----------------------------------------------------------------------------------------------
def _nice_ticks(lo: float, hi: float, target: int = 6) -> list[float]:
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / target
    step = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * step:
            step *= mult
            break
    start = math.ceil(lo / step) * step
    ticks, v = [], start
    while v <= hi + 1e-9 * step:
        ticks.append(0.0 if abs(v) < 1e-12 * step else round(v, 10))
        v += step
    return ticks


def _tick_label(v: float) -> str:
    text = f"{v:g}"
    return "0" if text in ("-0", "0") else text.replace("-", "−")


def _esc(text) -> str:
    from markupsafe import escape

    return str(escape(str(text)))


def scatter_svg(comparison: Comparison, highlight: int = 10, labels: int = 5, width: int = 760,
                height: int = 500, bins: tuple = (120, 80)) -> str:
    """Δlogit (x) against the measured Δ log2(RPKM+1) (y) of the genes with expression on both sides, as a
    self-contained SVG (no script; every gene symbol escaped).

    The genes are drawn as a density (a grid of ``bins`` cells, shade = log count: 20,000 genes stay a
    small image); the top ``highlight`` genes each way are dots (green: more ON in A, vermillion: more ON
    in B) with their symbol as a tooltip, the first ``labels`` of each labelled.
    """
    from shallowchrome.tracks.style import CLASS_RGB, hex_colour

    t = comparison.table
    a, b = comparison.a.eid, comparison.b.eid
    both = t[t["delta_logit"].notna() & t["delta_log2_rpkm"].notna()]
    x = both["delta_logit"].to_numpy(float)
    y = both["delta_log2_rpkm"].to_numpy(float)
    left, right, top, bottom = 64, 18, 34, 52
    pw, ph = width - left - right, height - top - bottom
    xmax = max(float(np.abs(x).max()) if len(x) else 0.0, 1.0) * 1.05
    ymax = max(float(np.abs(y).max()) if len(y) else 0.0, 1.0) * 1.05

    def px(v):
        return left + (v + xmax) / (2 * xmax) * pw

    def py(v):
        return top + (ymax - v) / (2 * ymax) * ph

    green, red = hex_colour(CLASS_RGB[1]), hex_colour(CLASS_RGB[0])
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="compare-scatter" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="scatter-title">',
           f'<title id="scatter-title">Predicted against measured difference, {_esc(a)} − {_esc(b)}</title>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#bbb"/>']
    for v in _nice_ticks(-xmax, xmax):
        X = px(v)
        out.append(f'<line x1="{X:.1f}" y1="{top}" x2="{X:.1f}" y2="{top + ph}" stroke="#eee"/>')
        out.append(f'<text x="{X:.1f}" y="{top + ph + 15}" font-size="11" text-anchor="middle">{_tick_label(v)}</text>')
    for v in _nice_ticks(-ymax, ymax):
        Y = py(v)
        out.append(f'<line x1="{left}" y1="{Y:.1f}" x2="{left + pw}" y2="{Y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{Y + 4:.1f}" font-size="11" text-anchor="end">{_tick_label(v)}</text>')
    out.append(f'<line x1="{px(0):.1f}" y1="{top}" x2="{px(0):.1f}" y2="{top + ph}" stroke="#888"/>')
    out.append(f'<line x1="{left}" y1="{py(0):.1f}" x2="{left + pw}" y2="{py(0):.1f}" stroke="#888"/>')
    if len(x):
        counts, xe, ye = np.histogram2d(x, y, bins=bins, range=[[-xmax, xmax], [-ymax, ymax]])
        peak = math.log1p(counts.max())
        out.append('<g class="density" fill="#24384f">')
        for i, j in zip(*np.nonzero(counts)):
            c = counts[i, j]
            x0, x1, y0, y1 = px(xe[i]), px(xe[i + 1]), py(ye[j + 1]), py(ye[j])
            opacity = 0.12 + 0.88 * math.log1p(c) / peak
            out.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0 + 0.05:.2f}" height="{y1 - y0 + 0.05:.2f}" '
                       f'fill-opacity="{opacity:.2f}"><title>{int(c)} gene(s)</title></rect>')
        out.append('</g>')
    placed: list[tuple[float, float, float]] = []  # labels drawn: (x start, x end, baseline y)

    def free(x0: float, x1: float, y: float) -> bool:
        return all(x1 < p0 - 2 or x0 > p1 + 2 or abs(y - py_) > 11 for p0, p1, py_ in placed)

    for direction, colour, anchor, dx in ((MORE_ON_IN_A, green, "start", 5), (MORE_ON_IN_B, red, "end", -5)):
        top_genes = comparison.top(highlight, direction)
        top_genes = top_genes[top_genes["delta_log2_rpkm"].notna()]
        out.append(f'<g class="top-{direction}">')
        shown = 0
        for r in top_genes.itertuples():
            X, Y = px(r.delta_logit), py(r.delta_log2_rpkm)
            name = r.symbol or r.gene_id
            out.append(f'<circle cx="{X:.1f}" cy="{Y:.1f}" r="3.5" fill="{colour}" stroke="#fff" stroke-width="0.8">'
                       f'<title>{_esc(name)}: Δlogit {signed(r.delta_logit)}, measured Δlog2(RPKM+1) '
                       f'{signed(r.delta_log2_rpkm)}</title></circle>')
            label = name if len(name) <= 16 else name[:15] + "…"
            extent = 6.0 * len(label)  # ~ the width of a 10 px label
            x0, x1 = (X + dx, X + dx + extent) if dx > 0 else (X + dx - extent, X + dx)
            if shown < labels and free(x0, x1, Y - 4):  # a label that would overlap another is left to the tooltip
                placed.append((x0, x1, Y - 4))
                shown += 1
                out.append(f'<text x="{X + dx:.1f}" y="{Y - 4:.1f}" font-size="10" fill="{colour}" '
                           f'text-anchor="{anchor}">{_esc(label)}</text>')
        out.append('</g>')
    out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 12}" font-size="12" text-anchor="middle">'
               f'predicted Δlogit = logit({_esc(a)}) − logit({_esc(b)})</text>')
    out.append(f'<text transform="translate(16 {top + ph / 2:.1f}) rotate(-90)" font-size="12" text-anchor="middle">'
               f'measured Δ log2(RPKM+1), {_esc(a)} − {_esc(b)}</text>')
    out.append(f'<text x="{left + pw - 4}" y="{top + 14}" font-size="11" text-anchor="end" fill="{green}">'
               f'more ON in {_esc(a)} →</text>')
    out.append(f'<text x="{left + 4}" y="{top + ph - 6}" font-size="11" fill="{red}">← more ON in {_esc(b)}</text>')
    out.append(f'<text x="{left}" y="{top - 10}" font-size="11" fill="#555">{len(x):,} genes with expression in both '
               f'(shade: number of genes); dots: top {highlight} each way</text>')
    out.append('</svg>')
    return "\n".join(out) + "\n"
