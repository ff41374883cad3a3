"""Charts of the interpretation: regulative patterns (the paper's Figure 3), the weights heatmap, and the
ChromHMM group-rank histogram (Figure 4).

Each function returns the image as bytes, PNG or SVG, with deterministic
metadata (no software version or date, a fixed SVG id salt), so the same
inputs give the same bytes. Matplotlib's object API with the Agg canvas is
used (no pyplot state), so it is safe to call from a server.
"""
from __future__ import annotations

import io
import math
import textwrap
import threading

import numpy as np
import pandas as pd

from shallowchrome.model.interpret import SIGNIFICANCE, role
from shallowchrome.tracks import style
from shallowchrome.tracks.numbers import num
from shallowchrome.tracks.numbers import sig as significant_digits
from shallowchrome.tracks.style import hex_colour

FORMATS = ("png", "svg")
ACTIVATING, REPRESSING, NOT_SIGNIFICANT = (hex_colour(c) for c in (style.ACTIVATING, style.REPRESSING,
                                                                     style.NOT_SIGNIFICANT))
RANK_COLOURS = style.RANK_COLOURS


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


#: rc_context swaps matplotlib's global rcParams: renders from server threads take turns.
_RENDER_LOCK = threading.Lock()


def render(fig, fmt: str) -> bytes:
    """The figure as PNG or SVG bytes, deterministic."""
    import matplotlib

    if fmt not in FORMATS:
        raise ValueError(f"unknown image format {fmt!r}")
    buf = io.BytesIO()
    with _RENDER_LOCK, matplotlib.rc_context({"svg.hashsalt": "shallowchrome", "svg.fonttype": "path"}):
        if fmt == "png":
            fig.savefig(buf, format="png", metadata={"Software": None})
        else:
            fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def bar_colour(coef: float, significant) -> str:
    """Green for an activating term, red for a repressing one, grey when not significant (or undefined)."""
    return hex_colour(style.term_colour(role(coef), significant))


# --- Figure 3: regulative patterns -------------------------------------------------------
def _panel(ax, e: dict) -> None:
    """One gene × epigenome: a horizontal bar per mark and the bias, normalised to the largest |value|."""
    terms = [*e["marks"], {"mark": "bias", "weight": e["bias"]["value"], **e["bias"]}]
    labels = [t["mark"] for t in terms]
    values = np.array([t["normalised"] for t in terms], dtype=float)
    # a mark of several terms (extended features) has no one weight: coloured by its contribution's sign
    colours = [bar_colour(t["weight"] if t.get("weight") is not None else t.get("contribution"), t["significant"])
               for t in terms]
    y = np.arange(len(terms))[::-1]
    ax.barh(y, values, color=colours, height=0.65, edgecolor="#555555", linewidth=0.4)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_xlim(-1.15, 1.15)
    ax.set_yticks(y, labels, fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="x", alpha=0.25)
    for yi, t in zip(y, terms):
        x, ha, colour = _label_place(t["normalised"])
        ax.text(x, yi, _bar_label(t), fontsize=6.5, va="center", ha=ha, color=colour)
    measured = e["measured"] or "unknown"
    rpkm = "" if e["rpkm"] is None else f" (RPKM {significant_digits(e['rpkm'], 3)})"
    tissue = f" {e['tissue'].replace('_', ' ')}" if e.get("tissue") else ""
    title = ("\n".join(textwrap.wrap(f"{e['symbol'] or e['gene_id']} · {e['epigenome']}{tissue}", 48)) + "\n"
             f"P(ON) {num(e['probability'], 3)}, predicted {e['predicted']}\n"
             + "\n".join(textwrap.wrap(f"measured {measured}{rpkm} · {model_label(e)} ({e['part']})", 48)))
    ax.set_title(title, fontsize=7.5, loc="left")
    ax.set_xlabel("logit contribution / largest |value|", fontsize=7)


def model_label(e: dict) -> str:
    """Which model explains: ``fold 3``, ``all labelled genes``, ``split 1`` (older explanations: the split)."""
    return e.get("model") or f"split {e.get('split')}"


def _label_place(x: float) -> tuple[float, str, str]:
    """(x, alignment, colour) of a bar's label: inside the end of a long bar, just beyond a short one."""
    if abs(x) > 0.45:
        return x - math.copysign(0.03, x), ("right" if x > 0 else "left"), "white"
    return (x + 0.03, "left", "#333333") if x >= 0 else (x - 0.03, "right", "#333333")


def _bar_label(term: dict) -> str:
    if term["mark"] == "bias":
        return num(term["value"], 2, signed=True)
    return "0 (no peak)" if term["feature"] == 0 else num(term["contribution"], 2, signed=True)


def _legend(fig, alpha: float, y: float) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(color=ACTIVATING, label="activating"), Patch(color=REPRESSING, label="repressing"),
               Patch(color=NOT_SIGNIFICANT, label=f"not significant (p > {alpha:g})")]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False, bbox_to_anchor=(0.5, y))


def patterns_chart(doc: dict, fmt: str = "png", columns: int | None = None) -> bytes:
    """Figure 3: one panel per gene × epigenome (a row per gene, a column per epigenome).

    ``columns``: for a single gene, at most this many panels per row (the epigenomes wrap onto more
    rows, so that a handful stays readable on a page); default one row.
    """
    explanations = doc["explanations"]
    alpha = doc.get("significance", SIGNIFICANCE)
    genes = list(dict.fromkeys(e["gene_id"] for e in explanations))
    eids = list(dict.fromkeys(e["epigenome"] for e in explanations))
    by_key = {(e["gene_id"], e["epigenome"]): e for e in explanations}
    if len(genes) == 1 and columns and len(eids) > columns:  # one gene: wrap its epigenomes
        n_cols = columns
        cells = [[by_key[(genes[0], eid)] for eid in eids[k:k + n_cols]] for k in range(0, len(eids), n_cols)]
    else:
        n_cols = max(len(eids), 1)
        cells = [[by_key.get((g, eid)) for eid in eids] for g in genes]
    n_rows = max(len(cells), 1)
    fig = _figure(3.3 * n_cols, 2.5 * n_rows + 0.5)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for i in range(n_rows):
        for j in range(n_cols):
            e = cells[i][j] if i < len(cells) and j < len(cells[i]) else None
            if e is None:
                axes[i][j].set_axis_off()
            else:
                _panel(axes[i][j], e)
    fig.tight_layout(rect=(0, 0.45 / (2.5 * n_rows + 0.5), 1, 1))
    _legend(fig, alpha, 0.0)
    return render(fig, fmt)


# --- Figure 3 for many epigenomes: the regulative-pattern heatmap ------------------------
#: How many epigenomes get Figure-3 bars by default: those with the highest and the lowest P(ON).
DEFAULT_BARS = 6


def diverging_colour(value: float | None, scale: float) -> str:
    """The colour of ``value`` on the diverging scale centred at 0: white at 0, :data:`style.ACTIVATING`
    at ``+scale`` (and beyond), :data:`style.REPRESSING` at ``-scale``, linear in RGB in between;
    ``#F2F2F2`` for no value."""
    if value is None or not math.isfinite(value):
        return "#F2F2F2"
    t = max(-1.0, min(1.0, value / scale)) if scale > 0 else 0.0
    end = style.ACTIVATING if t >= 0 else style.REPRESSING
    rgb = [round(255 + (int(c) - 255) * abs(t)) for c in end.split(",")]
    return "#" + "".join(f"{c:02X}" for c in rgb)


def _text_colour(value: float | None, scale: float) -> str:
    """Dark text on pale cells, white on saturated ones."""
    return "#FFFFFF" if value is not None and scale > 0 and abs(value) / scale > 0.6 else "#222222"


def _scale(values) -> float:
    """The heatmap's colour scale: the largest |ψ| (bias included), rounded up to 2 significant digits."""
    top = max((abs(v) for v in values if v is not None and math.isfinite(v)), default=0.0)
    if top <= 0:
        return 1.0
    step = 10 ** (math.floor(math.log10(top)) - 1)
    return math.ceil(top / step - 1e-9) * step


def pattern_heatmap(doc: dict, missing: dict | None = None, *, groups: list[dict]) -> dict:
    """The regulative patterns of one gene in many epigenomes as a heatmap, epigenome × (marks, bias).

    ``doc``: :func:`~shallowchrome.tracks.analysis.explain.explain` of one gene; ``groups``: the
    epigenomes in display order, as :func:`~shallowchrome.tracks.analysis.charts.grouped_epigenomes`
    gives them; ``missing``: {epigenome: why it has no explanation} (a row with that ``note`` and empty
    cells; an epigenome neither explained nor missing is left out). A cell holds the contribution
    ψ = w·φ of a mark (the bias for the bias column) in logit units, coloured by
    :func:`diverging_colour` on one scale for the whole heatmap (``scale``: the largest |ψ|), so that
    colours compare across marks and epigenomes. Returns ``{"terms", "scale", "legend", "groups":
    [{group, color, rows: [{epigenome, name, label, cells, logit, probability, predicted, measured,
    rpkm, model (which model explains: "fold 3", "split 1"), part, note}]}], "n_rows", "significance"}``; a cell is ``{term, value, colour, text_colour,
    significant, feature, weight, p_value}`` or ``{term, value: None}`` for a mark the epigenome lacks.
    """
    by_eid = {e["epigenome"]: e for e in doc["explanations"]}
    missing = missing or {}
    marks = list(dict.fromkeys(m["mark"] for e in doc["explanations"] for m in e["marks"]))
    terms = [*marks, "bias"]
    scale = _scale([m["contribution"] for e in doc["explanations"] for m in e["marks"]]
                   + [e["bias"]["value"] for e in doc["explanations"]])
    out_groups = []
    for g in groups:
        rows = []
        for info in g["epigenomes"]:
            e = by_eid.get(info["id"])
            if e is None:
                if info["id"] in missing:
                    rows.append({"epigenome": info["id"], "name": info["name"], "label": info["label"],
                                 "group": g["group"], "color": g["color"], "group_rank": g["rank"],
                                 "cells": [{"term": t, "value": None, "colour": diverging_colour(None, scale)}
                                           for t in terms], "note": missing[info["id"]], "logit": None,
                                 "probability": None, "predicted": None, "measured": None, "rpkm": None,
                                 "model": None, "part": None})
                continue
            per_mark = {m["mark"]: m for m in e["marks"]}
            cells = []
            for term in terms:
                m = e["bias"] if term == "bias" else per_mark.get(term)
                if m is None:
                    cells.append({"term": term, "value": None, "colour": diverging_colour(None, scale)})
                    continue
                value = m["value"] if term == "bias" else m["contribution"]
                cells.append({"term": term, "value": value, "colour": diverging_colour(value, scale),
                              "text_colour": _text_colour(value, scale), "significant": m.get("significant"),
                              "feature": m.get("feature"), "weight": m.get("weight", value),
                              "p_value": m.get("p_value")})
            rows.append({"epigenome": info["id"], "name": info["name"], "label": info["label"],
                         "group": g["group"], "color": g["color"], "group_rank": g["rank"], "cells": cells,
                         "logit": e["logit"], "probability": e["probability"], "predicted": e["predicted"],
                         "measured": e["measured"], "rpkm": e["rpkm"], "model": model_label(e), "part": e["part"],
                         "note": None})
        if rows:
            out_groups.append({"group": g["group"], "color": g["color"], "rank": g["rank"], "rows": rows})
    legend = [{"value": v, "colour": diverging_colour(v, scale)} for v in (-scale, -scale / 2, 0.0, scale / 2, scale)]
    return {"terms": terms, "scale": scale, "legend": legend, "groups": out_groups,
            "n_rows": sum(len(g["rows"]) for g in out_groups),
            "significance": doc.get("significance", SIGNIFICANCE)}


def default_bars(heatmap: dict, n: int = DEFAULT_BARS) -> list[str]:
    """The epigenomes whose Figure-3 bars a gene page shows unless asked: all when there are at most ``n``,
    else the ``n // 2`` with the highest P(ON) and the ``n - n // 2`` with the lowest (the tissues where
    the model thinks the gene is most ON and most OFF), in heatmap order; rows without a pattern never."""
    rows = [r for g in heatmap["groups"] for r in g["rows"] if not r["note"]]  # those with a pattern
    if len(rows) <= n:
        return [r["epigenome"] for r in rows]
    ranked = sorted(rows, key=lambda r: (-(r["probability"] if r["probability"] is not None else -1.0),
                                         r["epigenome"]))
    chosen = {r["epigenome"] for r in ranked[:n // 2]} | {r["epigenome"] for r in ranked[len(ranked) - (n - n // 2):]}
    return [r["epigenome"] for r in rows if r["epigenome"] in chosen]


# --- weights heatmap ---------------------------------------------------------------------
def weights_heatmap_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, str, str]:
    """(the rows the weights heatmap shows, its footnote, a scale for its title).

    The weights of an epigenome without expression (``model`` "reference model ...") multiply log1p
    features: another scale than the raw signal values of the labelled epigenomes' weights, so those rows
    are left out and the footnote names each with its model. A table of such rows only is shown whole,
    its scale in the title (`` (log1p features)``).
    """
    reference = (table["model"].astype(str).str.startswith("reference model") if "model" in table.columns
                 else pd.Series(False, index=table.index))
    if not len(table) or not reference.any():
        return table, "", ""
    if reference.all():
        return table, "", f" ({', '.join(dict.fromkeys(table['scale'].astype(str)))} features)"
    left_out = table[reference].drop_duplicates("epigenome")
    footnote = ("Not shown (their weights multiply log1p features, another scale): "
                + "; ".join(f"{r.epigenome}, {r.model}" for r in left_out.itertuples()))
    return table[~reference], footnote, ""


def weights_chart(table: pd.DataFrame, fmt: str = "png", alpha: float = SIGNIFICANCE) -> bytes:
    """Heatmap epigenome × term (marks, then the bias) of the interpretation models' weights.

    Colour: the weight divided by the largest |weight| of its column (green
    activating, red repressing), so that one mark compares across
    epigenomes; the text gives the weight, ``*`` marks p ≤ ``alpha``; pale
    hatched cells are not significant, grey ones absent (a mark an epigenome lacks).

    Epigenomes without expression (``model`` "reference model ...": weights of log1p features, another scale
    than the others' raw signal values) are left out of the grid and named in a footnote with their model;
    when every epigenome is one, the grid shows them, titled with their scale.
    """
    from matplotlib.colors import LinearSegmentedColormap

    table, footnote, scale_name = weights_heatmap_rows(table)
    eids = list(dict.fromkeys(table["epigenome"]))
    marks = [t for t in dict.fromkeys(table["term"]) if t != "bias"]
    terms = [*marks, "bias"]
    grid = table.pivot(index="epigenome", columns="term", values="weight").reindex(index=eids, columns=terms)
    sig = table.pivot(index="epigenome", columns="term", values="significant").reindex(index=eids, columns=terms)
    tissue = dict(zip(table["epigenome"], table["tissue"]))
    values = grid.to_numpy(dtype=float)
    significant = (sig == "yes").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.nanmax(np.abs(values), axis=0)
        shade = values / np.where(scale > 0, scale, 1.0)
    shade = np.where(significant, shade, 0.35 * shade)  # not significant: paler, and hatched below
    cmap = LinearSegmentedColormap.from_list("shallowchrome", [REPRESSING, "#FFFFFF", ACTIVATING]).with_extremes(
        bad="#F2F2F2")
    fig = _figure(1.3 * len(terms) + 2.6, 0.45 * len(eids) + 1.9 + (0.35 if footnote else 0.0))
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(shade), cmap=cmap, vmin=-1, vmax=1, aspect="auto")
    box = {"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.75}
    for i in range(len(eids)):
        for j in range(len(terms)):
            if not np.isfinite(values[i, j]):
                ax.text(j, i, "absent", ha="center", va="center", fontsize=7, color="#999999")
                continue
            value = num(values[i, j], 2, signed=True) if terms[j] == "bias" else significant_digits(values[i, j], 3, signed=True)
            ax.text(j, i, f"{value}{'*' if significant[i, j] else ''}", ha="center", va="center",
                    fontsize=8, color="#111111" if significant[i, j] else "#555555", bbox=box)
            if not significant[i, j]:
                ax.add_patch(_hatch(j, i))
    ax.set_xticks(range(len(terms)), terms, fontsize=8)
    ax.set_yticks(range(len(eids)), [f"{e} {tissue.get(e, '')}".replace("_", " ").strip() for e in eids], fontsize=8)
    ax.set_title(f"Weights of the interpretation models{scale_name} (* p ≤ {alpha:g}; hatched: not significant)",
                 fontsize=9)
    cbar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.03)
    cbar.set_label("weight / largest |weight| of the column", fontsize=7)
    cbar.ax.tick_params(labelsize=7)
    if footnote:
        lines = textwrap.wrap(footnote, 110)
        fig.text(0.01, 0.01, "\n".join(lines), fontsize=6.5, color="#444444", ha="left", va="bottom")
        fig.tight_layout(rect=(0, min(0.4, (0.12 * len(lines) + 0.1) / fig.get_figheight()), 1, 1))
    else:
        fig.tight_layout()
    return render(fig, fmt)


def _hatch(x: float, y: float):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, hatch="///", edgecolor="#BBBBBB", linewidth=0)


# --- Figure 4: ChromHMM group ranks ------------------------------------------------------
def ranks_chart(groups: pd.DataFrame, fmt: str = "png") -> bytes:
    """Figure 4: for each state group, in how many epigenomes it ranks 1st, 2nd, ... by mean logit.

    ``groups`` has columns epigenome, group, rank (NA when no gene matched the group).
    """
    order = list(dict.fromkeys(groups["group"]))
    n_epi = groups["epigenome"].nunique()
    ranks = list(range(1, len(order) + 1))
    counts = (groups.assign(rank=groups["rank"].astype("float").fillna(0).astype(int))
              .pivot_table(index="group", columns="rank", values="epigenome", aggfunc="count", fill_value=0)
              .reindex(index=order, columns=[*ranks, 0], fill_value=0))
    fig = _figure(1.6 * len(order) + 2.2, 3.6)
    ax = fig.subplots()
    x = np.arange(len(order))
    columns = [*ranks, 0] if counts[0].sum() else ranks
    width = 0.8 / len(columns)
    for k, r in enumerate(columns):
        label = _ordinal(r) if r else "no gene matched"
        colour = RANK_COLOURS[min(k, len(RANK_COLOURS) - 2)] if r else RANK_COLOURS[-1]
        ax.bar(x - 0.4 + width * (k + 0.5), counts[r].to_numpy(), width=width, color=colour, label=label,
               edgecolor="#555555", linewidth=0.4)
    ax.set_xticks(x, order, fontsize=9)
    ax.set_ylim(0, max(n_epi, 1) * 1.08)
    ax.set_ylabel(f"epigenomes (of {n_epi})", fontsize=8)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title("\n".join(textwrap.wrap("ChromHMM state groups ranked by the mean logit of the test genes whose "
                                         "pattern matches them (1st = highest)", 70)), fontsize=9)
    ax.legend(title="rank", fontsize=7, title_fontsize=7, frameon=False, loc="upper right")
    ax.grid(axis="y", alpha=0.25)
    fig.tight_layout()
    return render(fig, fmt)


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
