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
    colours = [bar_colour(t["weight"], t["significant"]) for t in terms]
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
    rpkm = "" if e["rpkm"] is None else f" (RPKM {_number(e['rpkm'])})"
    tissue = f" {e['tissue'].replace('_', ' ')}" if e.get("tissue") else ""
    title = (f"{e['symbol'] or e['gene_id']} · {e['epigenome']}{tissue}\n"
             f"P(ON) {e['probability']:.2f}, predicted {e['predicted']}\n"
             f"measured {measured}{rpkm} · split {e['split']} ({e['part']})")
    ax.set_title(title, fontsize=7.5, loc="left")
    ax.set_xlabel("logit contribution / largest |value|", fontsize=7)


def _label_place(x: float) -> tuple[float, str, str]:
    """(x, alignment, colour) of a bar's label: inside the end of a long bar, just beyond a short one."""
    if abs(x) > 0.45:
        return x - math.copysign(0.03, x), ("right" if x > 0 else "left"), "white"
    return (x + 0.03, "left", "#333333") if x >= 0 else (x - 0.03, "right", "#333333")


def _bar_label(term: dict) -> str:
    if term["mark"] == "bias":
        return f"{term['value']:+.2f}"
    return "0 (no peak)" if term["feature"] == 0 else f"{term['contribution']:+.2f}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:.3g}"


def _legend(fig, alpha: float, y: float) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(color=ACTIVATING, label="activating"), Patch(color=REPRESSING, label="repressing"),
               Patch(color=NOT_SIGNIFICANT, label=f"not significant (p > {alpha:g})")]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False, bbox_to_anchor=(0.5, y))


def patterns_chart(doc: dict, fmt: str = "png") -> bytes:
    """Figure 3: one panel per gene × epigenome (a row per gene, a column per epigenome)."""
    explanations = doc["explanations"]
    alpha = doc.get("significance", SIGNIFICANCE)
    genes = list(dict.fromkeys(e["gene_id"] for e in explanations))
    eids = list(dict.fromkeys(e["epigenome"] for e in explanations))
    n_rows, n_cols = max(len(genes), 1), max(len(eids), 1)
    fig = _figure(3.3 * n_cols, 2.5 * n_rows + 0.5)
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    by_key = {(e["gene_id"], e["epigenome"]): e for e in explanations}
    for i, g in enumerate(genes):
        for j, eid in enumerate(eids):
            e = by_key.get((g, eid))
            if e is None:
                axes[i][j].set_axis_off()
            else:
                _panel(axes[i][j], e)
    fig.tight_layout(rect=(0, 0.45 / (2.5 * n_rows + 0.5), 1, 1))
    _legend(fig, alpha, 0.0)
    return render(fig, fmt)


# --- weights heatmap ---------------------------------------------------------------------
def weights_chart(table: pd.DataFrame, fmt: str = "png", alpha: float = SIGNIFICANCE) -> bytes:
    """Heatmap epigenome × term (marks, then the bias) of the interpretation models' weights.

    Colour: the weight divided by the largest |weight| of its column (green
    activating, red repressing), so that one mark compares across
    epigenomes; the text gives the weight, ``*`` marks p ≤ ``alpha``; pale
    hatched cells are not significant, grey ones absent (a mark an epigenome lacks).
    """
    from matplotlib.colors import LinearSegmentedColormap

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
    fig = _figure(1.3 * len(terms) + 2.6, 0.45 * len(eids) + 1.9)
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(shade), cmap=cmap, vmin=-1, vmax=1, aspect="auto")
    box = {"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.75}
    for i in range(len(eids)):
        for j in range(len(terms)):
            if not np.isfinite(values[i, j]):
                ax.text(j, i, "absent", ha="center", va="center", fontsize=7, color="#999999")
                continue
            ax.text(j, i, f"{values[i, j]:.3g}{'*' if significant[i, j] else ''}", ha="center", va="center",
                    fontsize=8, color="#111111" if significant[i, j] else "#555555", bbox=box)
            if not significant[i, j]:
                ax.add_patch(_hatch(j, i))
    ax.set_xticks(range(len(terms)), terms, fontsize=8)
    ax.set_yticks(range(len(eids)), [f"{e} {tissue.get(e, '')}".replace("_", " ").strip() for e in eids], fontsize=8)
    ax.set_title(f"Weights of the interpretation models (* p ≤ {alpha:g}; hatched: not significant)", fontsize=9)
    cbar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.03)
    cbar.set_label("weight / largest |weight| of the column", fontsize=7)
    cbar.ax.tick_params(labelsize=7)
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
