"""The non-default build modes (issue 12): --task regression, --features extended, --split-by chromosome;
and the default method unchanged by them."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import build_args, build_fixture, invoke, one_error_line
from scipy import stats as sps

from shallowchrome.model.modes import (
    chromosome_splits,
    extended_terms,
    nearest_peak_distance,
    peak_counts,
)
from shallowchrome.tracks.workspace.layout import Workspace

GOLDEN = Path(__file__).parent / "data" / "golden"
PARTS = {"train": 0, "validation": 1, "test": 2}
#: Apps made here start no warm-up thread: one still rendering (matplotlib, C++) when the interpreter exits
#: aborts it (exit code 134, "terminate called without an active exception").
NO_WARM_UP = {"REPORTS_WARMUP": False, "GENES_WARMUP": False}


def _fold_records(model: dict) -> dict:
    return {str(r["fold"]): r for r in model["crossfit"]["models"]}


def _normalised_model(path: Path) -> str:
    doc = json.loads(path.read_text())
    for f in doc.get("peak_files", []):
        f["path"] = Path(f["path"]).name
    return json.dumps(doc, indent=2) + "\n"


# --- the default method, unchanged ---------------------------------------------------------------
def test_default_build_is_bit_identical_to_the_golden(fixture_ws):
    ws = Workspace.open(fixture_ws)
    assert _normalised_model(ws.model_path("E901")) == (GOLDEN / "E901.model.json").read_text()
    pred = ws.predictions("E901")
    assert "prediction" not in pred and "mode" not in ws.model("E901")
    params = json.loads(ws.info_path.read_text())["parameters"]
    assert not {"task", "features", "split_by"} & set(params)


# --- regression ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reg_ws(tmp_path_factory):
    return Workspace.open(build_fixture(tmp_path_factory.mktemp("reg") / "ws", "--task", "regression"))


def _split_features(ws, eid, record, marks):
    feats = ws.features(eid)
    return np.column_stack([feats[f"{m}.{record['formats'][m]}"] for m in marks])


def test_regression_metrics_recomputed_from_predictions_and_features(reg_ws):
    ev = reg_ws.evaluation().set_index("epigenome")
    assert ev["auroc_mean"].isna().all() and ev["pearson_mean"].notna().all()
    splits = pd.read_csv(reg_ws.splits_path, sep="\t")
    for eid in ("E901", "E902", "E903"):
        model, pred = reg_ws.model(eid), reg_ws.predictions(eid)
        assert model["mode"]["task"] == "regression"
        marks = model["marks"]
        y = np.log2(pred["rpkm"].to_numpy(dtype=float) + 1)
        lab = np.isfinite(y)
        assert np.allclose(pred["log_expression"].to_numpy(dtype=float)[lab], y[lab])
        assert np.array_equal(pred["logit"].to_numpy(), pred["prediction"].to_numpy())
        # probability = P(ON) under the OLS model's normal residuals
        sd = pred["fold"].astype(str).map(lambda f: _fold_records(model)[f]["residual_sd"]).to_numpy(dtype=float)
        thr = np.log2(model["threshold"]["rpkm"] + 1)
        p_on = sps.norm.cdf((pred["prediction"].to_numpy(dtype=float) - thr) / sd)
        assert np.allclose(pred["probability"].to_numpy(dtype=float), p_on, atol=1e-6)
        assert ((pred["probability"] >= 0.5) == (pred["predicted"] == 1)).all()
        # the cross-fitted metrics, independently (scipy / numpy) from predictions.tsv
        p = pred["prediction"].to_numpy(dtype=float)
        r = sps.pearsonr(y[lab], p[lab])[0]
        rho = sps.spearmanr(y[lab], p[lab])[0]
        r2 = 1 - np.sum((y[lab] - p[lab]) ** 2) / np.sum((y[lab] - y[lab].mean()) ** 2)
        cf = model["crossfit"]["metrics"]
        assert (cf["pearson"], cf["spearman"], cf["r2"]) == pytest.approx((r, rho, r2), abs=1e-6)  # predictions.tsv: 8 digits
        assert ev.loc[eid, "crossfit_pearson"] == pytest.approx(r, abs=1e-4)
        # each evaluation split: least squares by numpy on the training genes, metrics on the test genes
        vals = []
        for rec in model["splits"]:
            s = splits[splits["split"] == rec["split"]]
            part = np.full(len(pred), -1)
            part[s["row"].to_numpy()] = s["part"].map(PARTS).to_numpy()
            X = _split_features(reg_ws, eid, rec, marks)
            tr, te = (part == 0) & lab, (part == 2) & lab
            X1 = np.column_stack([np.ones(len(X)), X])
            beta = np.linalg.lstsq(X1[tr], y[tr], rcond=None)[0]
            assert beta == pytest.approx(np.r_[rec["bias"], [rec["weights"][m] for m in marks]], rel=1e-6, abs=1e-8)
            q = X1[te] @ beta
            assert rec["test"]["pearson"] == pytest.approx(np.corrcoef(y[te], q)[0, 1], abs=1e-8)
            assert rec["test"]["spearman"] == pytest.approx(sps.spearmanr(y[te], q)[0], abs=1e-8)
            assert rec["test"]["r2"] == pytest.approx(1 - np.sum((y[te] - q) ** 2) / np.sum((y[te] - y[te].mean()) ** 2),
                                                      abs=1e-8)
            vals.append(rec["test"]["pearson"])
        assert ev.loc[eid, "pearson_mean"] == pytest.approx(np.mean(vals), abs=1e-4)
        assert ev.loc[eid, "pearson_sd"] == pytest.approx(np.std(vals, ddof=1), abs=1e-4)


def test_regression_standard_errors_are_statsmodels_ols(reg_ws):
    import statsmodels.api as sm

    model, pred = reg_ws.model("E901"), reg_ws.predictions("E901")
    rec = _fold_records(model)["all"]
    y = np.log2(pred["rpkm"].to_numpy(dtype=float) + 1)
    lab = np.isfinite(y)
    X = _split_features(reg_ws, "E901", rec, model["marks"])[lab]
    res = sm.OLS(y[lab], sm.add_constant(X)).fit()
    names = ["bias", *model["marks"]]
    assert [rec["bias"], *[rec["weights"][m] for m in model["marks"]]] == pytest.approx(res.params, rel=1e-8)
    assert [rec["standard_errors"][n] for n in names] == pytest.approx(res.bse, rel=1e-8)
    assert [rec["z"][n] for n in names] == pytest.approx(res.tvalues, rel=1e-8)
    assert [rec["p_values"][n] for n in names] == pytest.approx(res.pvalues, rel=1e-6, abs=1e-300)


def test_regression_contributions_sum_to_the_prediction(reg_ws):
    for eid in ("E901", "E902", "E903"):
        model, pred = reg_ws.model(eid), reg_ws.predictions(eid)
        records = _fold_records(model)
        bias = pred["fold"].astype(str).map(lambda f: records[f]["bias"]).to_numpy(dtype=float)
        contrib = pred[[f"contrib_{m}" for m in model["marks"]]].to_numpy(dtype=float)
        assert np.allclose(bias + contrib.sum(axis=1), pred["prediction"].to_numpy(dtype=float), atol=1e-5)
        # psi = weight x feature, in log2(RPKM + 1) units
        feats = reg_ws.features(eid)
        for m in model["marks"]:
            w = pred["fold"].astype(str).map(lambda f: records[f]["weights"][m]).to_numpy(dtype=float)
            assert np.allclose(w * feats[m].to_numpy(dtype=float), pred[f"contrib_{m}"].to_numpy(dtype=float),
                               atol=1e-5)


def test_regression_explain_api_and_summary(reg_ws, tmp_path):
    res = invoke("explain", reg_ws.root, "ALB", "--out", tmp_path / "e.json")
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "e.json").read_text())
    pred = reg_ws.predictions("E901").set_index("symbol").loc["ALB"]
    e = next(x for x in doc["explanations"] if x["epigenome"] == "E901")
    assert e["logit"] == pytest.approx(pred["prediction"], abs=1e-5)
    assert e["probability"] == pytest.approx(pred["probability"], abs=1e-6)
    assert e["statistics"]["source"] == "model.json Wald statistics"
    from shallowchrome.server.web import create_app

    app = create_app(reg_ws.root, NO_WARM_UP)
    app.testing = True
    client = app.test_client()
    for url in ("/", "/api/epigenomes", "/api/genes/ALB", "/api/epigenomes/E901/model", "/genes/ALB"):
        assert client.get(url).status_code == 200, url
    from shallowchrome.server.cli.summary import evaluation_lines

    lines = evaluation_lines(reg_ws.evaluation())
    assert all("Pearson r" in line for line in lines)
    assert (reg_ws.root / "hub" / "hub.txt").is_file()  # the tracks show P(ON) = Phi((prediction - t) / sd)


# --- extended features --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ext_ws(tmp_path_factory):
    return Workspace.open(build_fixture(tmp_path_factory.mktemp("ext") / "ws", "--features", "extended"))


def test_extended_mark_contribution_is_the_sum_of_its_terms(ext_ws):
    for eid in ("E901", "E902", "E903"):
        model, pred, feats = ext_ws.model(eid), ext_ws.predictions(eid), ext_ws.features(eid)
        terms = model["mode"]["terms"]
        assert list(terms) == model["marks"] and model["feature_names"] == [t for g in terms.values() for t in g]
        records = _fold_records(model)
        folds = pred["fold"].astype(str)
        logit = folds.map(lambda f: records[f]["bias"]).to_numpy(dtype=float)
        for m, group in terms.items():
            psi = sum(folds.map(lambda f, t=t: records[f]["weights"][t]).to_numpy(dtype=float)
                      * feats[t].to_numpy(dtype=float) for t in group)
            assert np.allclose(psi, pred[f"contrib_{m}"].to_numpy(dtype=float), atol=1e-5)
            logit = logit + psi
        assert np.allclose(logit, pred["logit"].to_numpy(dtype=float), atol=1e-5)
    # DNase (BED4, presence only): no raw-max term (it would repeat the presence of the log-max term)
    assert "DNase:max5k" not in ext_ws.model("E903")["mode"]["terms"]["DNase"]
    # the tracks' pvalue_MARK: the mark's likelihood-ratio test in its gene's fold model
    from shallowchrome.tracks.hub.items import prediction_items

    model, pred = ext_ws.model("E901"), ext_ws.predictions("E901")
    sizes = {c: int(pred["tss"].max()) + 20_000 for c in pred["chrom"].unique()}
    items = prediction_items(pred, model, 5000, sizes).set_index("gene_id")
    gene = pred.iloc[0]
    want = _fold_records(model)[str(gene["fold"])]["mark_tests"]["H3K4me3"]["p_value"]
    assert float(items.loc[gene["gene_id"], "pvalue_H3K4me3"]) == pytest.approx(want, rel=1e-2)


def test_extended_likelihood_ratio_test_matches_statsmodels(ext_ws):
    import statsmodels.api as sm

    model, pred, feats = ext_ws.model("E903"), ext_ws.predictions("E903"), ext_ws.features("E903")
    assert model["configuration"] == "single"  # every gene's features are the all model's
    rec = _fold_records(model)["all"]
    lab = pred["label"].notna().to_numpy()
    y = pred["label"].to_numpy(dtype=float)[lab]
    terms = model["mode"]["terms"]
    X = feats[model["feature_names"]].to_numpy(dtype=float)[lab]
    full = sm.Logit(y, sm.add_constant(X)).fit(method="newton", disp=0, tol=1e-12, maxiter=100)
    for m, group in terms.items():
        keep = [j for j, t in enumerate(model["feature_names"]) if t not in group]
        red = sm.Logit(y, sm.add_constant(X[:, keep])).fit(method="newton", disp=0, tol=1e-12, maxiter=100)
        lr = 2 * (full.llf - red.llf)
        got = rec["mark_tests"][m]
        assert got["df"] == len(group)
        assert got["lr"] == pytest.approx(lr, rel=1e-5, abs=1e-6)
        assert got["p_value"] == pytest.approx(sps.chi2.sf(lr, len(group)), rel=1e-4, abs=1e-12)
    # the Wald tests per term
    assert set(rec["p_values"]) == {"bias", *model["feature_names"]}
    assert set(model["mode"]["mark_tests"]) == set(terms)


def test_extended_explain_sums_each_mark_s_terms_as_every_view(ext_ws, tmp_path):
    from shallowchrome.server.web.app import create_app
    from shallowchrome.tracks.analysis.explain import explain, explanations_table

    genes = ext_ws.genes()["gene_id"].tolist()
    doc = explain(ext_ws, genes)
    assert len(doc["explanations"]) == 3 * len(genes)
    by = {}
    for eid in ("E901", "E902", "E903"):
        model = ext_ws.model(eid)
        by[eid] = (model, ext_ws.predictions(eid).set_index("gene_id"), ext_ws.features(eid).set_index("gene_id"),
                   _fold_records(model))
    for e in doc["explanations"]:
        model, pred, feats, records = by[e["epigenome"]]
        p, f = pred.loc[e["gene_id"]], feats.loc[e["gene_id"]]
        rec = records[str(p["fold"])]
        assert e["model"] == ("all labelled genes" if str(p["fold"]) == "all" else f"fold {p['fold']}")
        assert e["logit"] == pytest.approx(p["logit"], abs=2e-6)
        assert e["bias"]["value"] == rec["bias"]
        assert [m["mark"] for m in e["marks"]] == list(model["mode"]["terms"])
        for m in e["marks"]:
            group = model["mode"]["terms"][m["mark"]]
            assert m["contribution"] == pytest.approx(p[f"contrib_{m['mark']}"], abs=2e-6)
            assert m["weight"] is None and m["feature"] == pytest.approx(f[m["mark"]])
            assert m["p_value"] == pytest.approx(rec["mark_tests"][m["mark"]]["p_value"], rel=1e-9)
            assert [t["term"] for t in m["terms"]] == group
            for t in m["terms"]:
                assert t["weight"] == rec["weights"][t["term"]] and t["feature"] == pytest.approx(f[t["term"]])
                assert t["contribution"] == pytest.approx(t["weight"] * t["feature"], abs=1e-12)
                assert t["p_value"] == pytest.approx(rec["p_values"][t["term"]], rel=1e-9)
            assert sum(t["contribution"] for t in m["terms"]) == pytest.approx(m["contribution"], abs=1e-9)
        assert e["statistics"]["source"] == "model.json Wald statistics"
    # the gene API shows the same contributions
    client = create_app(ext_ws.root, NO_WARM_UP).test_client()
    per = client.get("/api/genes/ALB").get_json()["matches"][0]["epigenomes"]
    alb = {x["epigenome"]: x for x in explain(ext_ws, ["ALB"])["explanations"]}
    for rec in per:
        for m in alb[rec["epigenome"]]["marks"]:
            assert rec["contributions"][m["mark"]] == pytest.approx(m["contribution"], abs=2e-6)
        assert rec["logit"] == pytest.approx(alb[rec["epigenome"]]["logit"], abs=2e-6)
    table = explanations_table({"explanations": [alb["E901"]]})
    assert table["term"].tolist()[:2] == ["H3K4me3", "H3K4me3:logmax1k"] and table["term"].iloc[-1] == "bias"
    # the command: tsv, json and a chart
    res = invoke("explain", ext_ws.root, "ALB", "--epigenomes", "E901", "--format", "tsv")
    assert res.exit_code == 0 and "\tH3K27me3:logdist\t" in res.output, res.output
    res = invoke("explain", ext_ws.root, "ALB", "--out", tmp_path / "alb.png")
    assert res.exit_code == 0 and (tmp_path / "alb.png").read_bytes()[:4] == b"\x89PNG"
    # a split's model explains where its configuration is the gene's fold model's (E903: one configuration)
    model, pred, feats, _ = by["E903"]
    splits = ext_ws.splits()
    gene = pred.index[(splits[0] == PARTS["test"]) & pred["label"].notna().to_numpy()][0]
    (e,) = explain(ext_ws, [gene], ["E903"], split=0)["explanations"]
    names = model["feature_names"]
    want = model["bias"] + sum(model["weights"][t] * feats.loc[gene, t] for t in names)
    assert e["model"] == "split 0" and e["logit"] == pytest.approx(want, abs=1e-9)
    assert e["marks"][0]["p_value"] == pytest.approx(model["mode"]["mark_tests"]["H3K4me3"]["p_value"])
    # ... and refuses, naming the fix, where features.tsv holds the gene's terms in another configuration
    model, pred, _, records = by["E901"]
    other = pred["fold"].astype(str).map(lambda f: records[f]["configuration"] != model["configuration"]).to_numpy()
    gene = pred.index[other & (splits[0] == PARTS["test"]) & pred["label"].notna().to_numpy()][0]
    line = one_error_line(invoke("explain", ext_ws.root, gene, "--epigenomes", "E901", "--split", "0"))
    assert "built with --features extended" in line and "fix: omit --split" in line


def test_extended_workspace_gene_api_and_page(ext_ws):
    from shallowchrome.server.web.app import create_app

    client = create_app(ext_ws.root, NO_WARM_UP).test_client()
    res = client.get("/api/genes/ALB")
    assert res.status_code == 200, res.get_data(as_text=True)
    per = res.get_json()["matches"][0]["epigenomes"]
    pred = ext_ws.predictions("E901").set_index("symbol").loc["ALB"]
    e901 = next(e for e in per if e["epigenome"] == "E901")
    # a mark of several terms has no single weight; its contribution is the sum of its terms' psi
    assert e901["weights"]["H3K4me3"] is None
    assert e901["contributions"]["H3K4me3"] == pytest.approx(pred["contrib_H3K4me3"])
    # its p-value is the likelihood-ratio test of its terms, from the gene's fold model
    from shallowchrome.model.interpret import fold_record

    record = fold_record(ext_ws.model("E901"), pred["fold"])
    for mark in ("H3K4me3", "H3K27me3"):
        want = record["mark_tests"][mark]["p_value"]
        assert e901["p_values"][mark] == pytest.approx(want, rel=1e-9) and e901["p_values"][mark] is not None
        assert e901["significant"][mark] == (want <= 1e-4)
    page = client.get("/genes/ALB")
    assert page.status_code == 200
    # the pattern heatmap explains it now: a mark's psi is the sum of its terms' (no single w x phi)
    assert "H3K4me3: ψ = Σ w × φ of its terms = " in page.get_data(as_text=True)


def test_extended_terms_against_brute_force():
    rng = np.random.default_rng(3)
    gchrom = np.array(["chr1"] * 40 + ["chr2"] * 10, dtype=object)
    tss = rng.integers(0, 200_000, 50)
    n = 300
    pchrom = np.array(rng.choice(["chr1", "chr2", "chrX"], n), dtype=object)
    start = rng.integers(0, 200_000, n)
    end = start + rng.integers(1, 3000, n)
    sig = rng.random(n) * 10
    counts = peak_counts(gchrom, tss, pchrom, start, end, 5000)
    dist = nearest_peak_distance(gchrom, tss, pchrom, start, end, 100_000)
    for i in range(50):
        on = pchrom == gchrom[i]
        over = on & (start < tss[i] + 5000) & (end > tss[i] - 5000)
        assert counts[i] == over.sum()
        d = np.where((start[on] <= tss[i]) & (end[on] > tss[i]), 0,
                     np.minimum(np.abs(start[on] - tss[i]), np.abs(end[on] - 1 - tss[i])))
        assert dist[i] == min(d.min() if len(d) else 100_000, 100_000)
    T = extended_terms(gchrom, tss, pchrom, start, end, sig)
    assert T.shape == (50, 7) and np.allclose(T[:, 5], np.log1p(counts)) and np.allclose(T[:, 6], np.log1p(dist))


# --- chromosome splits --------------------------------------------------------------------------
def test_chromosome_splits_hold_out_whole_chromosomes():
    rng = np.random.default_rng(0)
    chrom = np.array(rng.choice([f"chr{i}" for i in range(1, 23)], 2000), dtype=object)
    usable = rng.random(2000) > 0.05
    splits = chromosome_splits(chrom, usable, 10, seed=1)
    assert sorted(splits) == list(range(11))
    for part in splits.values():
        assert (part[~usable] == -1).all()
        sets = [set(chrom[part == p]) for p in (0, 1, 2)]
        assert all(sets) and not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
        sizes = np.bincount(part[usable], minlength=3)
        assert sizes.min() > 0.2 * usable.sum()
    again = chromosome_splits(chrom, usable, 10, seed=1)  # deterministic
    assert all(np.array_equal(splits[k], again[k]) for k in splits)


def test_build_split_by_chromosome(tmp_path):
    ws = Workspace.open(build_fixture(tmp_path / "ws", "--split-by", "chromosome", "--no-tracks", splits_file=None))
    genes = ws.genes()
    splits = pd.read_csv(ws.splits_path, sep="\t")
    for k, s in splits.groupby("split"):
        chroms = {p: set(genes["chrom"].to_numpy()[s.loc[s["part"] == p, "row"].to_numpy()]) for p in PARTS}
        assert chroms["train"] and chroms["test"]
        assert not chroms["train"] & chroms["test"] and not chroms["train"] & chroms["validation"]
        assert not chroms["validation"] & chroms["test"]
    assert json.loads(ws.info_path.read_text())["parameters"]["split_by"] == "chromosome"
    assert ws.evaluation()["auroc_mean"].notna().all()


def test_split_by_chromosome_refuses_a_splits_file(tmp_path):
    line = one_error_line(invoke(*build_args(tmp_path / "ws", "--split-by", "chromosome")))
    assert "splits file" in line


# --- the shared Roadmap data (skipped without ../shared) ---------------------------------------
REMC_EPIGENOMES = ["E065", "E066", "E079", "E100", "E104"]


def _remc_build(remc, out, **options):
    from shallowchrome.tracks.workspace.build import BuildOptions, build_workspace

    return build_workspace(remc / "genes.hg19.tsv", remc / "rpkm.56epigenomes.tsv.gz", remc / "peaks", out,
                           epigenomes=REMC_EPIGENOMES, splits_path=remc / "splits.tsv.gz",
                           options=BuildOptions(n_splits=10, jobs=2, **options), marks=["H3K4me3", "H3K27me3"])


#: Measured test Pearson r (mean over the benchmark's splits 1-10; H3K4me3 + H3K27me3, log2(RPKM + 1), OLS).
REGRESSION_PEARSON = {"E065": 0.5079, "E066": 0.5563, "E079": 0.5693, "E100": 0.6120, "E104": 0.5252}


def test_remc_regression_pearson(remc, tmp_path):
    ev = _remc_build(remc, tmp_path / "ws", task="regression").evaluation().set_index("epigenome")
    for eid, r in REGRESSION_PEARSON.items():
        assert abs(ev.loc[eid, "pearson_mean"] - r) < 0.005, (eid, ev.loc[eid, "pearson_mean"])
        assert 0.4 < ev.loc[eid, "pearson_mean"] < 0.8
        assert ev.loc[eid, "r2_mean"] == pytest.approx(ev.loc[eid, "r2_mean"]) and ev.loc[eid, "r2_mean"] > 0.15


def test_remc_extended_auroc_gain(remc, remc_ws, tmp_path):
    exact = remc_ws.evaluation().set_index("epigenome")["auroc_mean"]
    ext = _remc_build(remc, tmp_path / "ws", features="extended").evaluation().set_index("epigenome")["auroc_mean"]
    gain = (ext - exact)[REMC_EPIGENOMES]
    assert (gain > 0.005).all(), gain.to_dict()
    assert gain.mean() >= 0.015, gain.to_dict()


def test_extended_workspace_report_page_names_a_mark_s_terms(ext_ws):
    from shallowchrome.server.web.app import create_app

    client = create_app(ext_ws.root, NO_WARM_UP).test_client()
    res = client.get("/reports/ALB")
    assert res.status_code == 200, res.get_data(as_text=True)[:500]
    html = res.get_data(as_text=True)
    assert "the sum of its terms&#39; w &#215; &#966;" in html and "weight w = NA" not in html
