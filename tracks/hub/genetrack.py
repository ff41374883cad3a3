"""The hub's gene track: one BED8 item per gene over the model's input field (TSS ± window, clipped to
the chromosome), thick over TSS ± 500 bp as the prediction items; name = symbol, else gene id; strand.

Written as ``WS/hub/GENOME/genes.bed`` and its bgzip + tabix copy. With a
chrom-sizes genome neither IGV desktop nor igv.js has gene annotations of its
own: the sessions show this track on top, and IGV desktop (which loads a
plain BED whole and indexes its names) finds a gene by name with ``goto``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from shallowchrome.tracks.hub.items import THICK_HALF_WIDTH, text_field


def gene_track_text(genes: pd.DataFrame, window: int, sizes: dict) -> str:
    """BED8 text, sorted by chromosome and start, of ``genes`` (the workspace's gene table)."""
    symbol = genes["symbol"].fillna("").astype(str)
    name = text_field(symbol.where(symbol != "", genes["gene_id"].astype(str)))
    chrom = genes["chrom"].astype(str)
    tss = genes["tss"].to_numpy(dtype=np.int64)
    end_of = chrom.map(sizes).to_numpy(dtype=np.int64)
    start, end = np.maximum(tss - window, 0), np.minimum(tss + window, end_of)
    frame = pd.DataFrame({"chrom": chrom, "start": start, "end": end, "name": name, "score": 0,
                          "strand": genes["strand"].astype(str),
                          "thickStart": np.maximum(tss - THICK_HALF_WIDTH, start),
                          "thickEnd": np.minimum(tss + THICK_HALF_WIDTH, end)})
    frame = frame.sort_values(["chrom", "start", "name"], kind="stable")
    lines = ["\t".join(map(str, row)) for row in frame.itertuples(index=False)]
    return "#chrom\tstart\tend\tname\tscore\tstrand\tthickStart\tthickEnd\n" + "\n".join(lines) + "\n"
