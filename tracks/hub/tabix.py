"""BED text written twice: plain, and bgzipped + tabix-indexed (``.bed.gz`` + ``.bed.gz.tbi``).

igv.js, IGV and ``tabix`` read the indexed copy by region. Lines must be sorted
by chromosome and start (0-based, half-open BED); ``#`` lines are headers.
Both copies are written atomically: the index is built beside the target in a
temporary folder, re-opened with pysam and checked, then moved into place.
"""
from __future__ import annotations

import os
import tempfile
from collections import Counter
from pathlib import Path

from shallowchrome.tracks.hub.bigbed import TrackWriteError
from shallowchrome.tracks.io.bgzf import bgzf_bytes
from shallowchrome.tracks.io.textio import write_text_atomic


def write_bed_with_tabix(path, text: str) -> None:
    """Write ``path`` (plain BED) and ``path.gz`` + ``path.gz.tbi`` (bgzip + tabix)."""
    import pysam

    path = Path(path)
    write_text_atomic(path, text)
    want = Counter(line.split("\t", 1)[0] for line in text.splitlines() if line and not line.startswith("#"))
    with tempfile.TemporaryDirectory(prefix=f".{path.name}.", dir=path.parent) as tmpdir:
        gz = Path(tmpdir) / f"{path.name}.gz"
        gz.write_bytes(bgzf_bytes(text.encode("utf-8")))
        pysam.tabix_index(str(gz), preset="bed", force=True)
        tbx = pysam.TabixFile(str(gz), encoding="utf-8")  # gene symbols may be any UTF-8 text
        try:
            got = Counter({c: sum(1 for _ in tbx.fetch(c)) for c in tbx.contigs})
        finally:
            tbx.close()
        if got != want:
            raise TrackWriteError(f"{path}.gz: the tabix index does not return the items written")
        os.chmod(gz, 0o644)
        os.chmod(f"{gz}.tbi", 0o644)
        os.replace(gz, f"{path}.gz")
        os.replace(f"{gz}.tbi", f"{path}.gz.tbi")
