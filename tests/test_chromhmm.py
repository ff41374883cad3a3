"""ChromHMM validation: matching, ranks, grouping, segmentation lookup, the ``chromhmm`` command."""
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import PNG_MAGIC, build_fixture, invoke, one_error_line

from shallowchrome.model.chromhmm import (
    agreement,
    agreement_rate,
    common_marks,
    default_grouping,
    group_order,
    group_ranks,
    match_states,
    null_state,
    rank_descending,
    state_number,
    state_ranks,
)
from shallowchrome.model.errors import InputError, ModelError
from shallowchrome.tracks.io.segmentation import (
    parse_segmentation_options,
    read_emissions,
    read_groups,
    read_segmentation,
    read_segmentation_manifest,
    states_at,
)
from shallowchrome.tracks.workspace.layout import Workspace


@pytest.fixture(scope="module")
def emissions():
    return read_emissions()  # the packaged 15-state core-mark table


# --- matching ------------------------------------------------------------------------------
def test_packaged_emissions_are_the_roadmap_table(emissions, remc):
    assert emissions.shape == (15, 5) and emissions.index[0] == "1_TssA" and emissions.index[-1] == "15_Quies"
    shared = read_emissions(remc / "chromhmm" / "emissions_15_coreMarks.tsv")
    pd.testing.assert_frame_equal(emissions, shared)


def test_a_pattern_equal_to_an_emission_vector_matches_it(emissions):
    E = emissions.to_numpy()
    assert match_states(E, E, null_state(emissions)).tolist() == list(range(15))
    # scaled, and with the sign of a repressive weight: magnitudes are compared
    signed = E * np.array([3.0, 1.0, 2.0, -4.0, -1.0])
    assert match_states(signed * 7, E * np.array([3.0, 1.0, 2.0, 4.0, 1.0]), 14).tolist() == list(range(15))


def test_zero_and_constant_patterns_go_to_the_smallest_emission_norm(emissions):
    null = null_state(emissions)
    assert emissions.index[null] == "15_Quies"
    got = match_states(np.array([[0.0] * 5, [2.0] * 5, [0.0, -0.0, 0, 0, 0]]), emissions.to_numpy(), null)
    assert got.tolist() == [null] * 3


def test_two_marks_ties_broken_by_cosine(emissions):
    """With two marks Pearson's r is ±1; the closest mark ratio (cosine) decides among the tied states."""
    E = emissions[["H3K4me3", "H3K27me3"]].to_numpy()
    names = emissions.index
    patterns = np.array([[3.0, -0.02],   # strong H3K4me3 only → 1_TssA
                         [0.003, -2.0],  # H3K27me3 only → 13_ReprPC
                         [2.0, -1.8],    # both → bivalent
                         [0.0, 0.0]])    # nothing → 15_Quies
    got = names[match_states(patterns, E, null_state(emissions))].tolist()
    assert got[0] == "1_TssA" and got[1] == "13_ReprPC" and got[2] in ("10_TssBiv", "11_BivFlnk")
    assert got[3] == "15_Quies"


def test_common_marks_case_insensitive_in_model_order():
    assert common_marks(["H3K27me3", "DNase", "h3k4me3"], ["H3K4me3", "H3K27me3"]) == [
        ("H3K27me3", "H3K27me3"), ("h3k4me3", "H3K4me3")]


# --- ranks and groups ------------------------------------------------------------------------
def test_ranks_highest_mean_logit_first_ties_share_na_for_empty():
    assert np.array_equal(rank_descending([0.5, 2.0, np.nan, 0.5]), [2, 1, np.nan, 2], equal_nan=True)
    states = ["1_A", "2_B", "3_C"]
    grouping = {"1_A": "Active", "2_B": "Active", "3_C": "Repressed"}
    table = state_ranks(np.array([0, 0, 2, 2, 2]), np.array([1.0, 3.0, -1.0, -2.0, -3.0]), states, grouping)
    assert table.n_genes.tolist() == [2, 0, 3]
    assert table.mean_logit.tolist()[0] == 2.0 and np.isnan(table.mean_logit[1]) and table.mean_logit[2] == -2.0
    assert table["rank"].tolist() == [1, pd.NA, 2]
    assert table.sd_logit[0] == pytest.approx(np.std([1.0, 3.0], ddof=1))
    groups = group_ranks(np.array(["Active", "Active", "Repressed"], dtype=object), np.array([1.0, 3.0, -1.0]),
                         ["Active", "Enhancers", "Repressed"])
    assert groups["rank"].tolist() == [1, pd.NA, 2] and groups.n_genes.tolist() == [2, 0, 1]


def test_default_grouping_is_the_papers(emissions):
    grouping = default_grouping(list(emissions.index))
    by_group = {}
    for state, group in grouping.items():
        by_group.setdefault(group, []).append(state_number(state))
    assert by_group == {"Active": [1, 2, 3, 4, 5], "Enhancers": [6, 7], "Repressed": [8, 9, 13, 14, 15],
                        "Bivalent": [10, 11, 12]}
    assert group_order(grouping) == ["Active", "Enhancers", "Bivalent", "Repressed"]
    with pytest.raises(ModelError, match="need a groups table"):
        default_grouping(["1_A", "2_B", "3_C"])


def test_groups_table_by_name_or_number(tmp_path, write):
    states = ["1_TssA", "2_Enh", "3_Quies"]
    path = write(tmp_path / "g.tsv", "state\tgroup\n1_TssA\tPromoter\n2\tEnhancer\n3\tQuiet\n")
    grouping = read_groups(path, states)
    assert grouping == {"1_TssA": "Promoter", "2_Enh": "Enhancer", "3_Quies": "Quiet"}
    assert group_order(grouping) == ["Promoter", "Enhancer", "Quiet"]
    bad = write(tmp_path / "bad.tsv", "state\tgroup\n1_TssA\tPromoter\n")
    with pytest.raises(InputError, match="state '2_Enh' of the emission table has no group"):
        read_groups(bad, states)


def test_agreement_table_lists_every_pair():
    table = agreement(["Active", "Active", "Repressed", "Active"], ["Active", "Repressed", "Repressed", None],
                      ["Active", "Repressed"])
    assert table.to_dict("list") == {"pattern_group": ["Active", "Active", "Repressed", "Repressed"],
                                     "segmentation_group": ["Active", "Repressed", "Active", "Repressed"],
                                     "n_genes": [1, 1, 0, 1]}
    assert agreement_rate(table) == pytest.approx(2 / 3)


# --- files -------------------------------------------------------------------------------
SEGMENTS = """track name=test description="tiny segmentation"
1\t0\t1000\t15_Quies
1\t1000\t1200\t1_TssA
chr1\t1200\t5000\t5_TxWk
2\t100\t300\t13_ReprPC
"""


def test_state_at_tss(tmp_path, write):
    path = write(tmp_path / "E1_15_coreMarks_mnemonics.bed.gz", SEGMENTS, gz=True)
    seg = read_segmentation(path)
    assert seg.chrom.tolist() == ["chr1", "chr1", "chr1", "chr2"]  # normalised, sorted
    chrom = ["chr1", "1", "chr1", "chr1", "chr2", "chr2", "chrX", "chr1"]
    tss = [999, 1000, 1199, 1200, 99, 299, 500, 5000]
    got = states_at(seg, chrom, tss).tolist()
    assert got == ["15_Quies", "1_TssA", "1_TssA", "5_TxWk", None, "13_ReprPC", None, None]


def test_bad_segmentation_names_the_line(tmp_path, write):
    path = write(tmp_path / "bad.bed", "chr1\t0\t100\t1_TssA\nchr1\t100\tx\t2_TssAFlnk\n")
    with pytest.raises(InputError, match=r"bad.bed:2: start/end are not integers"):
        read_segmentation(path)
    path = write(tmp_path / "short.bed", "chr1\t0\t100\t1_TssA\nchr1\t100\t200\n")
    with pytest.raises(InputError, match=r"short.bed:2: 3 tab-separated column"):
        read_segmentation(path)


def test_bad_emission_table(tmp_path, write):
    path = write(tmp_path / "em.tsv", "state\tH3K4me3\tH3K27me3\n1_TssA\t0.9\t0.01\n2_Biv\tx\t0.7\n")
    with pytest.raises(InputError, match=r"em.tsv:3: emission 'x' of state 2_Biv for H3K4me3"):
        read_emissions(path)


def test_segmentation_options_and_manifest(tmp_path, write):
    assert parse_segmentation_options(["E066=a.bed.gz"]) == {"E066": Path("a.bed.gz")}
    with pytest.raises(InputError, match="is not EID=PATH"):
        parse_segmentation_options(["E066"])
    manifest = write(tmp_path / "m.tsv", "epigenome\tpath\nE066\tsegs/E066.bed.gz\nE100\t/abs/E100.bed\n")
    assert read_segmentation_manifest(manifest) == {"E066": tmp_path / "segs" / "E066.bed.gz",
                                                    "E100": Path("/abs/E100.bed")}


# --- the command on the fixture workspace --------------------------------------------------------
@pytest.fixture(scope="module")
def fx_ws(fixture_ws, tmp_path_factory):
    """A copy of the session's fixture workspace (conftest), for this module: `chromhmm` writes into it."""
    return Workspace.open(shutil.copytree(fixture_ws, tmp_path_factory.mktemp("chromhmm") / "ws"))


def fixture_segmentation(ws: Workspace, path: Path) -> Path:
    """A segmentation covering each fixture gene's TSS with 1_TssA (ON genes) or 13_ReprPC, chr3 left out."""
    genes = ws.genes()
    label = ws.predictions("E901")["label"].fillna(0).to_numpy()
    lines = [f"{c}\t{t - 100}\t{t + 100}\t{'1_TssA' if on else '13_ReprPC'}"
             for c, t, on in zip(genes.chrom, genes.tss, label) if c != "chr3"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_chromhmm_command_end_to_end(fx_ws, tmp_path):
    before = {e: fx_ws.predictions_path(e).read_text() for e in ("E901", "E902")}
    seg = fixture_segmentation(fx_ws, tmp_path / "E901.bed")
    res = invoke("chromhmm", fx_ws.root, "--segmentation", f"E901={seg}")
    assert res.exit_code == 0, res.output
    assert "E901  group ranks: Active 2, Enhancers 1, Bivalent 3, Repressed 4" in res.output  # cross-fitted patterns
    assert "agreement with the segmentation" in res.output
    assert "E903  skipped: its model and the emission table share 1 mark(s) (H3K4me3)" in res.output
    out = fx_ws.interpretation_dir
    states = pd.read_csv(out / "chromhmm.tsv", sep="\t")
    assert states.columns.tolist() == ["epigenome", "state", "group", "n_genes", "mean_logit", "sd_logit", "rank"]
    assert sorted(states.epigenome.unique()) == ["E901", "E902"] and len(states) == 30
    assert states.groupby("epigenome").n_genes.sum().tolist() == [120, 120]  # every labelled gene, each out of fold
    groups = pd.read_csv(out / "chromhmm_groups.tsv", sep="\t")
    assert groups[groups.epigenome == "E901"].group.tolist() == ["Active", "Enhancers", "Bivalent", "Repressed"]
    png = (out / "chromhmm_ranks.png").read_bytes()
    assert png[:8] == PNG_MAGIC and len(png) > 10_000 and (out / "chromhmm_ranks.svg").is_file()
    agree = pd.read_csv(out / "chromhmm_agreement.tsv", sep="\t")
    assert set(agree.epigenome) == {"E901"} and len(agree) == 16
    assert agree.n_genes.sum() == 120 - (fx_ws.predictions("E901").query("part == 'test'").chrom == "chr3").sum()
    # the TSS state is the last column of E901's predictions; the other columns are untouched; E902 unchanged
    after = fx_ws.predictions_path("E901").read_text().splitlines()
    assert after[0].endswith("\tchromhmm_state")
    assert ["\t".join(l.split("\t")[:-1]) for l in after] == before["E901"].splitlines()
    assert fx_ws.predictions_path("E902").read_text() == before["E902"]
    pred = fx_ws.predictions("E901")
    assert set(pred.chromhmm_state.dropna()) == {"1_TssA", "13_ReprPC"} and pred.chromhmm_state[pred.chrom == "chr3"].isna().all()
    # a second run replaces the column rather than adding one
    res = invoke("chromhmm", fx_ws.root, "--segmentation", f"E901={seg}", "--epigenomes", "E901")
    assert res.exit_code == 0, res.output
    assert fx_ws.predictions_path("E901").read_text().splitlines() == after


@pytest.mark.parametrize("case", ["one_mark", "bad_state", "unknown_epigenome", "custom_states"])
def test_chromhmm_errors_are_one_line(fx_ws, tmp_path, write, case):
    if case == "one_mark":
        line = one_error_line(invoke("chromhmm", fx_ws.root, "--epigenomes", "E903"))
        assert "E903: its model and the emission table share 1 mark(s) (H3K4me3); matching needs at least two" in line
        em = write(tmp_path / "em.tsv", "state\tH3K4me3\tH3K9me3\n1\t0.9\t0.1\n2\t0.1\t0.9\n")
        line = one_error_line(invoke("chromhmm", fx_ws.root, "--emissions", em, "--groups",
                                     write(tmp_path / "g.tsv", "state\tgroup\n1\tA\n2\tB\n")))
        assert "no epigenome shares two marks with the emission table" in line
    elif case == "bad_state":
        seg = write(tmp_path / "s.bed", "chr1\t0\t5000000\t99_Unknown\n")
        line = one_error_line(invoke("chromhmm", fx_ws.root, "--segmentation", f"E901={seg}"))
        assert "s.bed: state '99_Unknown' is not a state of the emission table" in line
    elif case == "unknown_epigenome":
        line = one_error_line(invoke("chromhmm", fx_ws.root, "--segmentation", "E999=x.bed"))
        assert "segmentation given for E999, which has no model" in line
    else:
        em = write(tmp_path / "em.tsv", "state\tH3K4me3\tH3K27me3\nA\t0.9\t0.01\nB\t0.01\t0.8\n")
        line = one_error_line(invoke("chromhmm", fx_ws.root, "--emissions", em))
        assert "need a groups table" in line and "--groups" in line


# --- the shared real data ------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_result(remc_ws, remc, tmp_path_factory):
    """A copy of the five REMC epigenomes (conftest), then `chromhmm` with their real segmentations."""
    out = tmp_path_factory.mktemp("remc_chromhmm") / "ws"
    shutil.copytree(remc_ws.root, out)
    manifest = out.parent / "segmentations.tsv"
    manifest.write_text("epigenome\tpath\n" + "".join(
        f"{e}\t{remc / 'chromhmm' / f'{e}_15_coreMarks_mnemonics.bed.gz'}\n"
        for e in ("E065", "E066", "E079", "E100", "E104")))
    res = invoke("chromhmm", out, "--segmentations", manifest)
    assert res.exit_code == 0, res.output
    return Workspace.open(out)


def test_real_active_ranks_above_repressed(real_result):
    groups = pd.read_csv(real_result.interpretation_path("chromhmm_groups.tsv"), sep="\t")
    ranks = groups.pivot(index="epigenome", columns="group", values="rank")
    for eid in ("E066", "E100"):
        assert ranks.at[eid, "Active"] < ranks.at[eid, "Repressed"], ranks
    assert (ranks["Active"] < ranks["Repressed"]).all()
    means = groups.pivot(index="epigenome", columns="group", values="mean_logit")
    assert (means["Active"] > 0).all() and (means["Repressed"] < 0).all()


def test_real_agreement_with_segmentations(real_result):
    agree = pd.read_csv(real_result.interpretation_path("chromhmm_agreement.tsv"), sep="\t")
    assert sorted(agree.epigenome.unique()) == ["E065", "E066", "E079", "E100", "E104"]
    per_epi = agree.groupby("epigenome").apply(agreement_rate, include_groups=False)
    assert (per_epi > 0.6).all(), per_epi
    assert (agree.groupby("epigenome").n_genes.sum() == 19802).all()  # every labelled gene, each out of fold
    pred = real_result.predictions("E066")
    assert pred.chromhmm_state.notna().all()
    alb = pred.set_index("symbol").loc["ALB"]
    assert alb.chromhmm_state in read_emissions().index


def test_segmentation_states_reach_the_hub_and_missing_states_do_not_crash(tmp_path_factory, write):
    out = build_fixture(tmp_path_factory.mktemp("chromhmm_hub") / "ws", "--epigenomes", "E901")
    ws = Workspace.open(out)
    # a segmentation that covers no gene's TSS: no state anywhere, agreement undefined (null), no crash
    empty = write(tmp_path_factory.mktemp("seg") / "E901.bed", "chrX\t0\t200\t15_Quies\n")
    res = invoke("chromhmm", out, "--segmentation", f"E901={empty}")
    assert res.exit_code == 0, res.output
    summary = json.loads(ws.interpretation_path("chromhmm.json").read_text())
    assert summary["epigenomes"]["E901"]["agreement"] is None
    assert summary["epigenomes"]["E901"]["tss_without_state"] == 120
    # a real one: the states land in predictions.tsv and, refreshed, in the hub's bigBed autoSql
    seg = fixture_segmentation(ws, tmp_path_factory.mktemp("seg2") / "E901.bed")
    res = invoke("chromhmm", out, "--segmentation", f"E901={seg}")
    assert res.exit_code == 0, res.output
    assert "hub refreshed with the ChromHMM states" in res.output
    import pyBigWig

    bb = pyBigWig.open(str(ws.track_file("E901", "predictions")))
    sql = bb.SQL()
    bb.close()
    assert b"chromhmm_state" in (sql if isinstance(sql, bytes) else sql.encode())


def test_an_epigenome_without_expression_is_not_validated(tmp_path):
    """A sample predicted by the reference model (no RNA-seq) has no labelled test genes to rank states by:
    it is skipped with its reason, or is a one-line error when asked for."""
    from helpers import FIXTURE, build_args

    table = pd.read_csv(FIXTURE / "rpkm.tsv.gz", sep="\t")
    table.drop(columns=["E902"]).to_csv(tmp_path / "rpkm.tsv", sep="\t", index=False)
    res = invoke(*build_args(tmp_path / "ws", "--no-tracks", expression=tmp_path / "rpkm.tsv"))
    assert res.exit_code == 0, res.output
    res = invoke("chromhmm", tmp_path / "ws")
    assert res.exit_code == 0, res.output
    assert "E902  skipped: it has no labelled test genes (no expression data)" in res.output
    states = pd.read_csv(Workspace.open(tmp_path / "ws").interpretation_dir / "chromhmm.tsv", sep="\t")
    assert set(states.epigenome) == {"E901"}
    res = invoke("chromhmm", tmp_path / "ws", "--epigenomes", "E902")
    assert "E902: it has no labelled test genes" in one_error_line(res)
