"""Every bigBed/bigWig header summary agrees with the file's data, read by UCSC's own code (pybbi)."""
from __future__ import annotations

import bbi
import numpy as np
import pyBigWig
import pytest


def _bed_depth_summary(path):
    """Coverage depth per base computed base by base from the items (independent of the writer's code)."""
    bb = pyBigWig.open(str(path))
    covered, total, squares, depths = 0, 0, 0, []
    for chrom, size in bb.chroms().items():
        items = bb.entries(chrom, 0, size) or []
        if not items:
            continue
        lo, hi = min(s for s, _, _ in items), max(e for _, e, _ in items)
        depth = np.zeros(hi - lo, dtype=np.int64)
        for s, e, _ in items:
            depth[s - lo:e - lo] += 1
        d = depth[depth > 0]
        covered += d.size
        total += int(d.sum())
        squares += int((d ** 2).sum())
        depths.append(d)
    bb.close()
    d = np.concatenate(depths)
    return covered, float(d.min()), float(d.max()), float(total), float(squares)


def test_bigbed_header_summaries_match_the_items(fixture_ws):
    for path in sorted((fixture_ws / "hub").rglob("*.bb")):
        covered, lo, hi, total, squares = _bed_depth_summary(path)
        s = bbi.info(str(path))["summary"]
        assert (s["basesCovered"], s["min"], s["max"], s["sum"]) == (covered, lo, hi, total), path
        assert s["std"] == pytest.approx(np.sqrt((squares - total ** 2 / covered) / (covered - 1)), rel=1e-9)


def test_bigwig_header_summaries_match_the_values(fixture_ws):
    for path in sorted((fixture_ws / "hub").rglob("*.bw")):
        bw = pyBigWig.open(str(path))
        rows = [iv for chrom in bw.chroms() for iv in (bw.intervals(chrom) or [])]
        bw.close()
        width = np.array([e - s for s, e, _ in rows], dtype=np.float64)
        value = np.array([v for _, _, v in rows], dtype=np.float64)
        s = bbi.info(str(path))["summary"]
        assert s["basesCovered"] == int(width.sum()), path
        assert (s["min"], s["max"]) == (value.min(), value.max()), path  # never DBL_MIN for a negative track
        assert s["sum"] == pytest.approx(float((width * value).sum()), rel=1e-9)


def test_an_all_negative_bigwig_claims_its_real_maximum(tmp_path):
    from shallowchrome.tracks.hub.bigwig import write_bigwig
    from shallowchrome.tracks.io.chromsizes import load_chrom_sizes

    path = tmp_path / "neg.bw"
    write_bigwig(path, ["chr1", "chr1", "chr2"], [0, 100, 50], [100, 300, 60], [-2.5, -0.5, -1.0],
                 load_chrom_sizes("hg19"))
    s = bbi.info(str(path))["summary"]
    assert (s["min"], s["max"], s["basesCovered"]) == (-2.5, -0.5, 310)  # pyBigWig alone says max 2.2e-308
    assert s["sum"] == pytest.approx(-2.5 * 100 - 0.5 * 200 - 1.0 * 10)


def test_numeric_autosql_fields_hold_numbers_in_every_item(fixture_ws):
    from shallowchrome.tracks.hub.bigbed import parse_autosql_names

    path = fixture_ws / "hub" / "hg19" / "E901" / "E901.predictions.bb"
    bb = pyBigWig.open(str(path))
    sql = bb.SQL().decode()
    types = [line.split()[0] for line in sql.splitlines()[3:] if line.strip() and line.strip()[0] not in "()\""]
    names = parse_autosql_names(sql)
    numeric = {n for n, t in zip(names, types) if t in ("double", "float", "int", "uint")} - {"chromStart", "chromEnd", "reserved"}  # reserved: itemRgb "r,g,b"
    assert "rpkm" in numeric
    rows = [r.split("\t") for c, n in bb.chroms().items() for _, _, r in (bb.entries(c, 0, n) or [])]
    bb.close()
    for name in numeric:
        column = [row[names.index(name) - 3] for row in rows]
        assert all(isinstance(float(v), float) for v in column), name  # "nan" for a missing RPKM
