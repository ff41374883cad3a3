"""Feature extraction: max signal of peaks overlapping TSS ± window (0-based half-open)."""
import shutil
import subprocess

import numpy as np
import pytest

from shallowchrome.model.features import max_signal_in_windows


def brute_force(gc, gt, pc, ps, pe, sig, w):
    out = np.zeros(len(gt))
    for i in range(len(gt)):
        lo, hi = gt[i] - w, gt[i] + w
        hits = [sig[j] for j in range(len(ps)) if pc[j] == gc[i] and ps[j] < hi and pe[j] > lo]
        out[i] = max(hits) if hits else 0.0
    return out


def test_boundaries_are_half_open():
    # window of gene at 10_000 with w=100 is [9900, 10100)
    gc = np.array(["chr1"])
    gt = np.array([10_000])
    cases = [
        ((9800, 9900), 0.0),   # ends exactly at window start: no overlap
        ((9800, 9901), 5.0),   # one base inside
        ((10_100, 10_200), 0.0),  # starts at window end: no overlap
        ((10_099, 10_200), 5.0),
        ((0, 1_000_000), 5.0),  # a peak covering the whole window
    ]
    for (s, e), expected in cases:
        got = max_signal_in_windows(gc, gt, np.array(["chr1"]), np.array([s]), np.array([e]), np.array([5.0]), 100)
        assert got[0] == expected, (s, e)


def test_max_over_overlapping_and_nested_peaks_and_missing_chromosomes():
    gc = np.array(["chr1", "chr1", "chr2", "chrUn"])
    gt = np.array([1000, 50_000, 1000, 500])
    pc = np.array(["chr1", "chr1", "chr1", "chr2", "chr9"])
    ps = np.array([900, 950, 0, 5000, 0])
    pe = np.array([1200, 1000, 100_000, 6000, 10])
    sig = np.array([3.0, 7.0, 1.5, 2.0, 9.0])
    got = max_signal_in_windows(gc, gt, pc, ps, pe, sig, 500)
    assert got.tolist() == [7.0, 1.5, 0.0, 0.0]


def test_matches_brute_force_on_random_intervals():
    rng = np.random.default_rng(7)
    n, m, w = 300, 2000, 700
    gc = rng.choice(["chr1", "chr2", "chr3"], n)
    gt = rng.integers(0, 100_000, n)
    pc = rng.choice(["chr1", "chr2", "chrX"], m)
    ps = rng.integers(0, 100_000, m)
    pe = ps + rng.integers(0, 5000, m) * (rng.random(m) < 0.95) + rng.integers(0, 60_000, m) * (rng.random(m) < 0.02)
    sig = rng.gamma(2, 3, m)
    expected = brute_force(gc, gt, pc, ps, pe, sig, w)
    got = max_signal_in_windows(gc, gt, pc, ps, pe, sig, w)
    np.testing.assert_array_equal(got, expected)
    assert (got > 0).sum() > 50  # the test exercises real overlaps


def test_smallest_window_and_empty_inputs():
    gc, gt = np.array(["chr1"]), np.array([100])
    assert max_signal_in_windows(gc, gt, np.array([], dtype=object), np.array([]), np.array([]), np.array([]))[0] == 0.0
    # window 1 is [99, 101): the peak [101, 150) misses it, [100, 101) hits it
    got = max_signal_in_windows(gc, gt, np.array(["chr1", "chr1"]), np.array([101, 100]), np.array([150, 101]),
                                np.array([2.0, 3.0]), 1)
    assert got[0] == 3.0
    with pytest.raises(ValueError):
        max_signal_in_windows(gc, gt, gc, gt, gt, gt, 0)


@pytest.mark.skipif(shutil.which("bedtools") is None, reason="bedtools is not installed")
def test_agrees_with_bedtools_map(tmp_path, fixture_dir):
    """Independent check: bedtools map -c 7 -o max on the same windows and peaks."""
    from shallowchrome.tracks.io.genes import read_genes
    from shallowchrome.tracks.io.peaks import read_peaks

    genes = read_genes(fixture_dir / "genes.tsv")
    peaks = read_peaks(fixture_dir / "peaks" / "E901-H3K4me3.narrowPeak.gz")
    w = 5000
    ours = max_signal_in_windows(genes.chrom.to_numpy(), genes.tss.to_numpy(), peaks.chrom.to_numpy(),
                                 peaks.start.to_numpy(), peaks.end.to_numpy(), peaks.signal.to_numpy(), w)
    win = tmp_path / "win.bed"
    with open(win, "w") as fh:
        for i, g in genes.iterrows():
            fh.write(f"{g.chrom}\t{max(0, g.tss - w)}\t{g.tss + w}\t{i}\n")
    pk = tmp_path / "peaks.bed"
    peaks.assign(name=".", score=0, strand=".").iloc[:, [0, 1, 2, 4, 5, 6, 3]].to_csv(pk, sep="\t", header=False, index=False)
    sort = lambda p: subprocess.run(["sort", "-k1,1", "-k2,2n", str(p)], capture_output=True, text=True, check=True).stdout
    (tmp_path / "win.s.bed").write_text(sort(win))
    (tmp_path / "pk.s.bed").write_text(sort(pk))
    res = subprocess.run(["bedtools", "map", "-a", str(tmp_path / "win.s.bed"), "-b", str(tmp_path / "pk.s.bed"),
                          "-c", "7", "-o", "max"], capture_output=True, text=True, check=True).stdout
    theirs = np.zeros(len(genes))
    for line in res.splitlines():
        f = line.split("\t")
        theirs[int(f[3])] = 0.0 if f[4] == "." else float(f[4])
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    assert (ours > 0).sum() > 20


def _random_case(rng, n, m, span, w):
    gc = rng.choice(["chr1", "chr2", "chr3"], n)
    gt = rng.integers(0, span, n)
    pc = rng.choice(["chr1", "chr2", "chrX"], m)
    ps = rng.integers(0, span, m)
    pe = ps + rng.integers(0, max(2, span // 20), m)
    return gc, gt, pc, ps, pe, rng.gamma(2, 3, m), w


@pytest.mark.parametrize("bins_log2, max_per_bin", [(18, 32), (2, 32), (18, 0), (20, 10**9)],
                         ids=["default", "coarse-bins", "searchsorted-fallback", "fine-bins"])
def test_rank_strategies_match_brute_force(monkeypatch, bins_log2, max_per_bin):
    """The bin-table ranks and the np.searchsorted fallback give the same features."""
    from shallowchrome.model import features

    monkeypatch.setattr(features, "_BINS_LOG2", bins_log2)
    monkeypatch.setattr(features, "_MAX_PER_BIN", max_per_bin)
    rng = np.random.default_rng(11)
    for span, w in ((2_000, 3), (200_000, 700), (2**34, 5000)):
        case = _random_case(rng, 60, 250, span, w)
        np.testing.assert_array_equal(max_signal_in_windows(*case), brute_force(*case))


def test_dense_genes_use_the_searchsorted_fallback():
    # 200 genes at one position: a bin holds more than _MAX_PER_BIN genes
    gc, gt = np.array(["chr1"] * 200 + ["chr2"]), np.array([1000] * 200 + [5])
    got = max_signal_in_windows(gc, gt, np.array(["chr1", "chr2"]), np.array([900, 0]), np.array([950, 1]),
                                np.array([4.0, 2.0]), 100)
    assert got.tolist() == [4.0] * 200 + [2.0]


def test_peaks_with_end_before_start_follow_the_overlap_rule():
    # overlap is start < tss + w and end > tss - w, whatever the peak's own order
    gc, gt = np.array(["chr1"]), np.array([1000])
    got = [max_signal_in_windows(gc, gt, np.array(["chr1"]), np.array([s]), np.array([e]), np.array([3.0]), 100)[0]
           for s, e in ((1050, 950), (1200, 1150), (700, 600))]
    assert got == [3.0, 0.0, 0.0]


def test_missing_chromosome_names_match_nothing():
    gc = np.array(["chr1", None, np.nan], dtype=object)
    gt = np.array([1000, 1000, 1000])
    pc = np.array(["chr1", None, np.nan], dtype=object)
    got = max_signal_in_windows(gc, gt, pc, np.array([990, 990, 990]), np.array([1010] * 3), np.array([1.0, 2.0, 3.0]), 50)
    assert got.tolist() == [1.0, 0.0, 0.0]


def test_categorical_and_unicode_name_arrays():
    import pandas as pd

    gc, gt = np.array(["chr1", "chr2"]), np.array([100, 100])  # numpy unicode dtype
    pc = pd.Categorical(["chr2", "chr1", "chr2"])
    got = max_signal_in_windows(gc, gt, pc, np.array([90, 90, 95]), np.array([110, 110, 96]), np.array([1.0, 2.0, 5.0]), 10)
    assert got.tolist() == [2.0, 5.0]
