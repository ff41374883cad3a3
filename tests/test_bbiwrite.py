"""The bigBed writer (tracks/hub/bbiwrite.py), read back by independent readers: pyBigWig and pybbi (kent's C)."""
import struct

import bbi
import numpy as np
import pyBigWig
import pytest

from shallowchrome.tracks.hub import bbifile, bbiwrite
from shallowchrome.tracks.hub.bigbed import bed_sort_order

SIZES = [("chr1", 2_000_000), ("chr10", 1_500_000), ("chr2", 1_000_000), ("chrX", 50_000)]
AUTOSQL = """table t
"test items"
    (
    string chrom;      "Chromosome"
    uint   chromStart; "Start"
    uint   chromEnd;   "End"
    string name;       "Name"
    uint   score;      "Score"
    char[1] strand;    "Strand"
    string gene_id;    "Gene"
    )
"""


def _items(n: int, seed: int = 0):
    """Random overlapping items on three of the chromosomes (none on chrX), sorted as bigBed needs."""
    rng = np.random.default_rng(seed)
    names = np.array(["chr1", "chr10", "chr2"], dtype=object)
    sizes = dict(SIZES)
    chrom = names[rng.integers(0, 3, n)]
    length = rng.integers(1, 20_000, n)
    start = np.array([rng.integers(0, sizes[c] - 20_000) for c in chrom])
    end = start + length
    order = bed_sort_order(chrom, start, end)
    chrom, start, end = chrom[order], start[order], end[order]
    rest = [f"g{i}\t{i % 1000}\t{'+-'[i % 2]}\tENSG{i:011d}" for i in range(n)]
    return chrom.tolist(), start, end, rest


def _write(tmp_path, chrom, start, end, rest, name="t.bb"):
    data = bbiwrite.bigbed_bytes(SIZES, chrom, start, end, rest, AUTOSQL, 7, 6, index_fields=[3, 6])
    path = tmp_path / name
    path.write_bytes(data)
    return path, data


@pytest.fixture(params=["default", "tiny blocks"])
def layout(request, monkeypatch):
    if request.param == "tiny blocks":  # many blocks and several R-tree / B+ tree levels
        monkeypatch.setattr(bbiwrite, "ITEMS_PER_SLOT", 3)
        monkeypatch.setattr(bbiwrite, "BLOCK_SIZE", 4)
    return request.param


def test_items_read_back_by_region_in_pybigwig_and_pybbi(tmp_path, layout):
    chrom, start, end, rest = _items(3000)
    path, data = _write(tmp_path, chrom, start, end, rest)
    header = bbifile.read_header(data)
    assert (header.version, header.field_count, header.defined_field_count) == (4, 7, 6)
    bb = pyBigWig.open(str(path))
    assert bb.isBigBed() and bb.chroms() == dict(SIZES)
    chrom_arr = np.array(chrom, dtype=object)
    rng = np.random.default_rng(1)
    for _ in range(60):
        c = ["chr1", "chr10", "chr2", "chrX"][rng.integers(0, 4)]
        lo = int(rng.integers(0, dict(SIZES)[c] - 1))
        hi = int(min(dict(SIZES)[c], lo + rng.integers(1, 300_000)))
        want = [(int(s), int(e), r) for cc, s, e, r in zip(chrom_arr, start, end, rest) if cc == c and s < hi and e > lo]
        assert (bb.entries(c, lo, hi) or []) == want
        got = [(int(t[1]), int(t[2]), t[3]) for t in bbi.fetch_intervals(str(path), c, lo, hi)]
        assert got == [(s, e, r.split("\t")[0]) for s, e, r in want]
    bb.close()


def test_name_indexes_point_at_each_items_block(tmp_path, layout):
    chrom, start, end, rest = _items(1000, seed=2)
    _, data = _write(tmp_path, chrom, start, end, rest)
    header = bbifile.read_header(data)
    trees = bbifile.extra_index_fields(data, header)
    assert sorted(trees) == [3, 6]
    for i in range(0, 1000, 37):
        for fid, key in ((3, f"g{i}"), (6, f"ENSG{i:011d}")):
            blocks = bbifile.bpt_find(data, trees[fid], key.encode())
            assert len(blocks) == 1
            items = list(bbifile.block_items(data, header, *blocks[0]))
            assert (int(start[i]), int(end[i]), rest[i].encode()) in [(s, e, r) for _, s, e, r in items]
    assert bbifile.bpt_find(data, trees[3], b"no-such-gene") == []


def test_summary_and_zoom_levels_agree_with_the_items(tmp_path, layout):
    chrom, start, end, rest = _items(2000, seed=3)
    path, _ = _write(tmp_path, chrom, start, end, rest)
    assert bbifile.read_summary(path) == bbifile.bed_summary(chrom, start, end)
    info = bbi.info(str(path))
    assert info["zoomLevels"] >= 2
    chrom_arr = np.array(chrom, dtype=object)
    for c, size in SIZES[:3]:
        depth = np.zeros(size, np.int64)
        for s, e in zip(start[chrom_arr == c], end[chrom_arr == c]):
            depth[s:e] += 1
        covered = depth[depth > 0]
        # pybbi reads a whole chromosome's summary from the zoom records (its exact=True mode counts otherwise)
        for summary, want in (("max", covered.max()), ("min", covered.min()), ("mean", covered.mean())):
            assert bbi.fetch(str(path), c, 0, size, bins=1, summary=summary)[0] == pytest.approx(want, rel=1e-6)


def test_empty_and_single_item_files(tmp_path):
    path, data = _write(tmp_path, [], np.zeros(0, np.int64), np.zeros(0, np.int64), [], name="empty.bb")
    bb = pyBigWig.open(str(path))
    assert bb.isBigBed() and not bb.entries("chr1", 0, 1000)
    bb.close()
    assert bbifile.read_summary(path).bases_covered == 0
    assert data[-4:] == struct.pack("<I", bbifile.BIGBED_MAGIC)
    path, _ = _write(tmp_path, ["chr2"], np.array([10]), np.array([20]), ["a\t0\t+\tb"], name="one.bb")
    bb = pyBigWig.open(str(path))
    assert bb.entries("chr2", 0, 1_000_000) == [(10, 20, "a\t0\t+\tb")]
    assert [t[3] for t in bbi.fetch_intervals(str(path), "chr2", 0, 100)] == ["a"]
