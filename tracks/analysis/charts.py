"""The evaluation chart (PNG, matplotlib's object API on the Agg canvas, deterministic metadata) and the
Roadmap grouping of epigenomes that the chart, the home page and the gene pages share.

Epigenomes are shown in the Roadmap's groups (ESC, Digestive, Brain ...: the group column of the
packaged table of the 127 consolidated epigenomes, in the table's order), each with the group's colour
and the epigenome's standard name; an epigenome the table does not know (a user's own id) goes to the
Roadmap's own "Other" group, after the Roadmap ones, with its workspace tissue as its name.
"""
from __future__ import annotations

import io
import re
from functools import lru_cache

import numpy as np
import pandas as pd

from shallowchrome.tracks.io.textio import write_bytes_atomic
from shallowchrome.tracks.numbers import num
from shallowchrome.tracks.reference import roadmap_epigenomes

#: The group of epigenomes the Roadmap table does not hold.
OTHER_GROUP = "Other"
#: Its colour when the packaged table has no "Other" row (it has: Roadmap's grey).
OTHER_COLOUR = "#999999"
#: ShallowChrome's bars and DeepChrome's markers in the evaluation chart.
SHALLOWCHROME_COLOUR, DEEPCHROME_COLOUR = "#0072B2", "#D55E00"


@lru_cache(maxsize=1)
def _roadmap_order() -> tuple[dict, dict]:
    """(epigenome id → position in the Roadmap table, group → (rank, colour)) in the table's order."""
    table = roadmap_epigenomes()
    position = {eid: i for i, eid in enumerate(table)}
    groups: dict = {}
    for info in table.values():  # a colour goes into pages' style attributes: #RRGGBB or Other's grey
        colour = info["color"] if re.fullmatch(r"#[0-9A-Fa-f]{6}", info.get("color") or "") else OTHER_COLOUR
        groups.setdefault(info["group"], (len(groups), colour))
    groups.setdefault(OTHER_GROUP, (len(groups), OTHER_COLOUR))
    return position, groups


def epigenome_info(eid: str, tissue: str | dict = "") -> dict:
    """How pages and charts show one epigenome: ``id``, ``name``, ``label`` ("E066 Liver"), ``group``,
    ``color`` and ``group_rank`` (the group's position in the Roadmap table's order; a user's own group
    after the Roadmap ones). ``tissue``: the epigenome's ``workspace.json`` record (``tissue``, ``group``,
    ``color`` as ``build --metadata`` recorded them) or just its tissue; see
    :func:`~shallowchrome.tracks.io.metadata.describe` (recorded values over the Roadmap table's)."""
    from shallowchrome.tracks.io.metadata import describe

    position, groups = _roadmap_order()
    rec = roadmap_epigenomes().get(eid)
    shown = describe(eid, tissue if isinstance(tissue, dict) else {"tissue": tissue})
    group = shown["group"]
    rank = groups[group][0] if group in groups else len(groups)
    return {"id": eid, "name": shown["name"], "label": f"{eid} {shown['name']}".strip(), "group": group,
            "color": shown["color"], "group_rank": rank, "roadmap": rec is not None}


def grouped_epigenomes(eids, tissues: dict | None = None) -> list[dict]:
    """The epigenomes by group: ``[{"group", "color", "rank", "epigenomes": [epigenome_info ...]}]``,
    groups in the Roadmap table's order (users' own groups after them, by name), epigenomes in the
    table's order within a group (ids the table does not know after, in the order given). ``tissues``:
    epigenome → its workspace record (or tissue), as :func:`epigenome_info` takes."""
    position, _ = _roadmap_order()
    tissues = tissues or {}
    infos = [epigenome_info(e, tissues.get(e, "")) for e in dict.fromkeys(eids)]
    given = {info["id"]: i for i, info in enumerate(infos)}
    infos.sort(key=lambda i: (i["group_rank"], i["group"] if i["group_rank"] >= len(_) else "",
                              position.get(i["id"], len(position) + given[i["id"]])))
    out: list[dict] = []
    for info in infos:
        if not out or out[-1]["group"] != info["group"]:
            out.append({"group": info["group"], "color": info["color"], "rank": info["group_rank"],
                        "epigenomes": []})
        out[-1]["epigenomes"].append(info)
    return out


def grouped_order(eids, tissues: dict | None = None) -> list[str]:
    """The epigenome ids in :func:`grouped_epigenomes` order."""
    return [info["id"] for g in grouped_epigenomes(eids, tissues) for info in g["epigenomes"]]


# --- the evaluation chart ----------------------------------------------------------------
#: Height of one chart row (an epigenome or a group heading), inches.
ROW_HEIGHT = 0.24


def evaluation_figure(evaluation: pd.DataFrame, recorded: dict | None = None):
    """Horizontal bars of mean ± sd test AUROC, one per fitted epigenome (``E066 Liver``), grouped by
    Roadmap group (a heading row and the group's colour strip at the left), DeepChrome's published
    AUROC as a marker where the benchmark has one; the values in a column at the right.

    Returns the matplotlib ``Figure`` (its bars are the ``"ShallowChrome"`` container of the main axes).
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ok = evaluation[evaluation["status"] == "ok"].set_index("epigenome")
    n_skipped = int((evaluation["status"] != "ok").sum())
    tissues = {e: t for e, t in zip(ok.index, ok["tissue"]) if isinstance(t, str)}
    if recorded:  # workspace.json's records (groups and colours of `build --metadata`)
        tissues = {e: {"tissue": t, **(recorded.get(e) or {})} for e, t in tissues.items()}
    groups = grouped_epigenomes(list(ok.index), tissues)
    # rows top to bottom: a heading per group, then its epigenomes
    labels, colours, kinds = [], [], []
    for g in groups:
        labels.append(g["group"])
        colours.append(g["color"])
        kinds.append(None)
        for info in g["epigenomes"]:
            labels.append(info["label"])
            colours.append(g["color"])
            kinds.append(info["id"])
    n_rows = max(len(labels), 1)
    y = np.arange(n_rows)[::-1].astype(float)  # the first row at the top
    bar_rows = [i for i, k in enumerate(kinds) if k is not None]
    eids = [kinds[i] for i in bar_rows]
    mean = ok.loc[eids, "auroc_mean"].to_numpy(dtype=float) if eids else np.array([])
    sd = ok.loc[eids, "auroc_sd"].to_numpy(dtype=float) if eids else np.array([])
    dc = ok.loc[eids, "deepchrome_auroc"].to_numpy(dtype=float) if eids else np.array([])

    height = ROW_HEIGHT * n_rows + 1.45
    fig = Figure(figsize=(9.0, height), dpi=100)
    grid = fig.add_gridspec(1, 2, width_ratios=(0.12, 6.0), wspace=0.0)
    strip, ax = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    from matplotlib.colors import to_rgb

    if colours:  # none when no epigenome has test AUROCs (every one predicted without expression)
        strip.imshow(np.array([[to_rgb(c)] for c in colours]), aspect="auto",
                     extent=(0, 1, -0.5, n_rows - 0.5), interpolation="nearest")
    strip.set_ylim(-0.5, n_rows - 0.5)
    strip.set_xticks([])
    strip.set_yticks(y, labels, fontsize=7.5)
    for tick, kind in zip(strip.get_yticklabels(), kinds):
        if kind is None:
            tick.set_fontweight("bold")
    for side in ("top", "right", "bottom"):
        strip.spines[side].set_visible(False)

    yb = y[bar_rows]
    ax.barh(yb, mean, xerr=sd, height=0.7, color=SHALLOWCHROME_COLOUR, error_kw={"elinewidth": 0.8, "capsize": 2},
            label="ShallowChrome")
    has = np.isfinite(dc)
    if has.any():
        ax.scatter(dc[has], yb[has], marker="|", s=90, linewidths=2.2, color=DEEPCHROME_COLOUR, zorder=3,
                   label="DeepChrome")
    for yi, m, s, d in zip(yb, mean, sd, dc):
        text = f"{num(m, 3)} ± {num(s, 3)}" + (f"   {num(d, 2)}" if np.isfinite(d) else "")
        ax.text(1.01, yi, text, transform=ax.get_yaxis_transform(), fontsize=7, va="center", family="monospace")
    ax.text(1.01, 1.0, "mean ± sd" + ("   DeepChrome" if has.any() else ""), transform=ax.transAxes,
            fontsize=7, va="bottom", family="monospace", fontweight="bold")
    low = np.nanmin(np.concatenate([mean - np.nan_to_num(sd), dc[has]])) if len(mean) else 0.5
    ax.set_xlim(min(0.5, np.floor(low * 20) / 20), 1.0)
    ax.set_ylim(-0.5, n_rows - 0.5)
    ax.set_yticks([])
    ax.tick_params(axis="x", labelsize=7.5)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    skipped = f"; {n_skipped} epigenome{'s' if n_skipped != 1 else ''} skipped" if n_skipped else ""
    ax.set_xlabel(f"test AUROC (mean ± sd over the evaluation splits{skipped})", fontsize=8)
    handles = [Patch(color=SHALLOWCHROME_COLOUR, label="ShallowChrome (this workspace, mean ± sd)")]
    if has.any():
        handles.append(Line2D([], [], color=DEEPCHROME_COLOUR, marker="|", linestyle="none", markersize=9,
                              markeredgewidth=2.2, label="DeepChrome (published)"))
    fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.62, 1 - 0.42 / height), ncol=2,
               fontsize=7.5, frameon=False)
    fig.suptitle(f"Test AUROC per epigenome ({len(eids)} fitted), by Roadmap group", fontsize=9.5,
                 y=1 - 0.08 / height, va="top")
    _fit_left_margin(fig, strip, height)
    return fig


def _fit_left_margin(fig, strip, height: float) -> None:
    """Leave room at the left for the longest row label (measured), the values column at the right."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    renderer = fig.canvas.get_renderer()
    widest = max((t.get_window_extent(renderer).width for t in strip.get_yticklabels()), default=0.0)
    width_px = fig.get_figwidth() * fig.dpi
    fig.subplots_adjust(left=min(0.6, (widest + 14) / width_px), right=1 - 175 / width_px,
                        top=1 - 0.95 / height, bottom=0.55 / height)


def evaluation_chart(evaluation: pd.DataFrame, path, recorded: dict | None = None) -> None:
    """:func:`evaluation_figure` written to ``path`` as PNG (atomically; the same table gives the same bytes)."""
    fig = evaluation_figure(evaluation, recorded)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    write_bytes_atomic(path, buf.getvalue())
