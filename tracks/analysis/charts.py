"""Charts as PNG files (matplotlib, Agg backend, deterministic metadata)."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

from shallowchrome.tracks.io.textio import write_bytes_atomic


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def evaluation_chart(evaluation: pd.DataFrame, path) -> None:
    """Bar chart of mean ± sd test AUROC per epigenome, DeepChrome's published AUROC as markers."""
    plt = _pyplot()
    ok = evaluation[evaluation["status"] == "ok"]
    n = max(len(ok), 1)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * n + 2), 3.6), dpi=100)
    x = np.arange(len(ok))
    ax.bar(x, ok["auroc_mean"], yerr=ok["auroc_sd"], color="#4C72B0", capsize=3, label="ShallowChrome (mean ± sd)")
    dc = ok["deepchrome_auroc"].to_numpy(dtype=float)
    has = np.isfinite(dc)
    if has.any():
        ax.scatter(x[has], dc[has], marker="_", s=400, color="#C44E52", linewidths=2.5, zorder=3, label="DeepChrome (published)")
    labels = [f"{e}\n{t}" if isinstance(t, str) and t else e for e, t in zip(ok["epigenome"], ok["tissue"])]
    ax.set_xticks(x, labels, fontsize=7)
    ax.set_ylim(0.5, 1.0)
    ax.set_ylabel("test AUROC")
    ax.set_title("ShallowChrome per-epigenome test AUROC")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    write_bytes_atomic(path, buf.getvalue())
