"""The cross-epigenome AUROC heatmap (PNG; matplotlib's object API on the Agg canvas, deterministic metadata)."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

from shallowchrome.tracks.io.textio import write_bytes_atomic


def transfer_figure(table: pd.DataFrame):
    """Train (rows) x test (columns) mean AUROC on the test epigenome's held-out genes, the value in each cell,
    plus a last row: leave-one-epigenome-out (pooled) and, below it, the average-label baseline."""
    from matplotlib.figure import Figure

    from shallowchrome.model.transfer import BASELINE, HELD_OUT, LOO, auroc_matrix

    m = auroc_matrix(table)
    eids = list(m.columns)
    extra = {}
    for kind, label in ((LOO, "leave one out"), (BASELINE, "average label")):
        rows = table[(table["evaluation"] == kind) & (table["genes"] == HELD_OUT)].set_index("test")["auroc_mean"]
        extra[label] = [rows.get(e, np.nan) for e in eids]
    values = np.vstack([m.to_numpy(dtype=float), *[np.array(v, dtype=float) for v in extra.values()]])
    labels = [f"train {e}" for e in eids] + list(extra)
    n = len(eids)
    fig = Figure(figsize=(1.6 + 0.75 * n, 1.2 + 0.42 * len(labels)), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    finite = values[np.isfinite(values)]
    lo = float(finite.min()) if finite.size else 0.5
    hi = float(finite.max()) if finite.size else 1.0
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", vmin=min(lo, hi - 0.01), vmax=hi, aspect="auto")
    for i in range(values.shape[0]):
        for j in range(n):
            v = values[i, j]
            if np.isfinite(v):
                ax.text(j, i, f"{v:.3f}", ha="center", va="center", fontsize=8,
                        color="white" if v < (lo + hi) / 2 else "black")
    ax.axhline(n - 0.5, color="white", linewidth=2)
    ax.set_xticks(range(n), [f"test {e}" for e in eids], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_title("Cross-epigenome AUROC (held-out genes)", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.05, pad=0.03).ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def transfer_heatmap(table: pd.DataFrame, path) -> None:
    """:func:`transfer_figure` written to ``path`` as PNG, atomically (the same table gives the same bytes)."""
    fig = transfer_figure(table)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    write_bytes_atomic(path, buf.getvalue())
