"""The reference figures of ../shared/README.md, reproduced on the real Roadmap data (skipped without it)."""
import pytest

REFERENCE = {"E065": 0.786, "E066": 0.834, "E079": 0.823, "E100": 0.868, "E104": 0.812}


def test_reference_auroc_within_0005(remc_ws):
    ws = remc_ws  # the five epigenomes, H3K4me3 + H3K27me3, benchmark splits 1-10 (conftest)
    ev = ws.evaluation().set_index("epigenome")
    for eid, ref in REFERENCE.items():
        assert ev.loc[eid, "n_splits"] == 10
        assert abs(ev.loc[eid, "auroc_mean"] - ref) <= 0.005, (eid, ev.loc[eid, "auroc_mean"], ref)
        assert ev.loc[eid, "n_genes"] == 19802
    # beside DeepChrome's published figure for the same epigenome
    assert ev.loc["E066", "deepchrome_auroc"] == pytest.approx(0.80)
    # case studies of the README: ALB on in liver (E066), off in psoas muscle (E100)
    for eid, on in (("E066", 1), ("E100", 0)):
        pred = ws.predictions(eid)
        alb = pred[pred.symbol == "ALB"].iloc[0]
        assert alb.label == on and alb.predicted == on, (eid, alb.to_dict())
    model = ws.model("E066")
    assert model["weights"]["H3K4me3"] > 0 and model["weights"]["H3K27me3"] < 0
    assert model["p_values"]["H3K4me3"] < 1e-4
