"""Samples without RNA-seq (issue 12 part 2): the reference model's predictions and the cross-epigenome
evaluation, recomputed independently with scikit-learn."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest
from helpers import build_args, invoke, one_error_line
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from shallowchrome.tracks.workspace.layout import Workspace

NOTE = "no expression data: model from E901"
#: Apps made here start no warm-up thread: one still rendering (matplotlib, C++) when the interpreter exits
#: aborts it (exit code 134, "terminate called without an active exception").
NO_WARM_UP = {"REPORTS_WARMUP": False, "GENES_WARMUP": False}


def _drop_column(src, dest, eid):
    table = pd.read_csv(src, sep="\t")
    table.drop(columns=[eid]).to_csv(dest, sep="\t", index=False)
    return dest


@pytest.fixture(scope="module")
def moved_ws(tmp_path_factory):
    """The fixture data set with E902's expression column dropped (its peak files kept), built with tracks."""
    from helpers import FIXTURE

    tmp = tmp_path_factory.mktemp("transfer")
    rpkm = _drop_column(FIXTURE / "rpkm.tsv.gz", tmp / "rpkm_no902.tsv", "E902")
    res = invoke(*build_args(tmp / "ws", expression=rpkm))
    assert res.exit_code == 0, res.output
    assert "E902" in res.output and NOTE in res.output
    assert "cross-epigenome AUROC" in res.output
    return Workspace.open(tmp / "ws")


def _fit(X, y):
    return LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-10, max_iter=200).fit(X, y)


def test_the_unlabelled_epigenome_is_predicted_by_the_reference_model(moved_ws):
    ws = moved_ws
    ev = ws.evaluation().set_index("epigenome")
    assert ev.loc["E902", "status"] == "transfer" and ev.loc["E902", "reason"] == NOTE
    assert ev.loc["E902", "n_genes"] == 0 and np.isnan(ev.loc["E902", "auroc_mean"])
    assert set(ev.loc[["E901", "E903"], "status"]) == {"ok"}
    info = ws.info["epigenomes"]["E902"]
    assert info["status"] == "ok" and info["transfer"] == {"note": NOTE, "reference": ["E901"]}
    assert "E902" in ws.epigenomes()
    model = ws.model("E902")
    assert model["transfer"]["note"] == NOTE and model["transfer"]["scale"] == "log1p"
    assert model["marks"] == ["H3K4me3", "H3K27me3"]

    pred, feats = ws.predictions("E902"), ws.features("E902")
    assert pred["label"].isna().all() and pred["rpkm"].isna().all()
    assert set(pred["part"]) == {"none"} and set(pred["fold"].astype(str)) == {"all"}
    # the reference model, refitted independently: E901's labelled genes, log1p of its narrowPeak max signal
    ref_f, ref_p = ws.features("E901"), ws.predictions("E901")
    cols = ["H3K4me3.narrowPeak", "H3K27me3.narrowPeak"]
    lab = ref_p["label"].notna().to_numpy()
    lr = _fit(np.log1p(ref_f[cols].to_numpy(float))[lab], ref_p["label"][lab].astype(int))
    assert model["bias"] == pytest.approx(lr.intercept_[0], rel=1e-6, abs=1e-8)
    assert [model["weights"][m] for m in model["marks"]] == pytest.approx(lr.coef_[0], rel=1e-6, abs=1e-8)
    X = np.log1p(feats[cols].to_numpy(float))
    np.testing.assert_allclose(feats[["H3K4me3", "H3K27me3"]].to_numpy(float), X, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(pred["logit"], lr.decision_function(X), rtol=1e-6, atol=1e-8)
    psi = pred[["contrib_H3K4me3", "contrib_H3K27me3"]].to_numpy(float)
    np.testing.assert_allclose(pred["logit"], model["bias"] + psi.sum(axis=1), rtol=1e-6, atol=1e-8)
    record = model["crossfit"]["models"][0]
    assert record["fold"] == "all" and record["n_train"] == int(lab.sum())


def test_pages_api_hub_and_explain_show_it(moved_ws, tmp_path):
    from shallowchrome.server.web.app import create_app

    app = create_app(moved_ws.root, NO_WARM_UP)
    app.testing = True
    client = app.test_client()
    home = client.get("/")
    assert home.status_code == 200
    html = home.get_data(as_text=True)
    assert 'id="transfer"' in html and NOTE in html and "/files/evaluation_transfer.png" in html
    api = client.get("/api/epigenomes").get_json()
    rec = next(e for e in (api["epigenomes"] if isinstance(api, dict) else api) if e["id"] == "E902")
    assert rec["status"] == "ok" and rec["auroc"]["mean"] is None and rec["transfer"] == NOTE
    row = html.split('data-epigenome="E902"', 1)[1].split("</tr>", 1)[0]  # its row in the epigenome table
    assert f'title="{NOTE}"' in row and "no expression data<br><small>model from E901</small>" in row
    assert "± —" not in row
    assert client.get("/api/epigenomes/E902/model").get_json()["transfer"]["note"] == NOTE
    gene = moved_ws.genes()["gene_id"].iloc[0]
    for url in (f"/genes/{gene}", f"/api/genes/{gene}", f"/genes/{gene}/pattern.svg", "/browser",
                "/compare?a=E901&b=E902", "/files/evaluation_transfer.tsv", "/files/evaluation_transfer.png"):
        assert client.get(url).status_code == 200, url
    assert (moved_ws.track_file("E902", "predictions")).is_file()
    res = invoke("hub", "check", moved_ws.root)
    assert res.exit_code == 0, res.output
    res = invoke("explain", moved_ws.root, gene, "--epigenomes", "E902", "--format", "tsv")
    assert res.exit_code == 0 and "\tE902\t" in res.output, res.output
    # explain names the reference model and gives the numbers of predictions.tsv (log1p features)
    res = invoke("explain", moved_ws.root, gene, "--epigenomes", "E902", "--out", tmp_path / "e.json")
    assert res.exit_code == 0, res.output
    (e,) = json.loads((tmp_path / "e.json").read_text())["explanations"]
    assert e["model"] == "reference model learnt on E901 (log1p features)" and e["part"] == "none"
    assert e["fold"] == "all" and e["split"] is None
    pred = moved_ws.predictions("E902").set_index("gene_id").loc[gene]
    feats = moved_ws.features("E902").set_index("gene_id").loc[gene]
    assert e["logit"] == pytest.approx(pred["logit"], abs=1e-7)
    for m in e["marks"]:
        assert m["feature"] == pytest.approx(np.log1p(feats[f"{m['mark']}.narrowPeak"]), abs=1e-9)
        assert m["contribution"] == pytest.approx(pred[f"contrib_{m['mark']}"], abs=1e-7)
    assert e["statistics"]["source"] == "model.json Wald statistics of the reference model learnt on E901 " \
                                        "(log1p features)"
    assert e["statistics"]["n_train"] == moved_ws.model("E902")["crossfit"]["models"][0]["n_train"]
    line = one_error_line(invoke("explain", moved_ws.root, gene, "--epigenomes", "E902", "--split", "1"))
    assert "no expression data: model from E901" in line and "omit --split" in line


def _independent_evaluation(ws, eids, mark_cols):
    """Pairs, leave-one-out and the average-label baseline, recomputed from the workspace's own files."""
    splits = ws.splits()
    X = {e: np.log1p(ws.features(e)[mark_cols].to_numpy(float)) for e in eids}
    Y = {e: ws.predictions(e)["label"].to_numpy(float) for e in eids}
    Ym = np.column_stack([Y[e] for e in eids])
    varying = np.isfinite(Ym).all(axis=1) & (np.nanmax(Ym, axis=1) != np.nanmin(Ym, axis=1))
    pair, loo, base, base_var = {}, {}, {}, {}
    for k in sorted(s for s in splits if s != 0):
        tr, te = splits[k] == 0, splits[k] == 2
        for b in eids:
            t = te & np.isfinite(Y[b])
            for a in eids:
                m = tr & np.isfinite(Y[a])
                pair.setdefault((a, b), []).append(
                    roc_auc_score(Y[b][t], _fit(X[a][m], Y[a][m].astype(int)).decision_function(X[b][t])))
            others = [a for a in eids if a != b]
            Xp = np.vstack([X[a][tr & np.isfinite(Y[a])] for a in others])
            yp = np.concatenate([Y[a][tr & np.isfinite(Y[a])] for a in others]).astype(int)
            loo.setdefault(b, []).append(roc_auc_score(Y[b][t], _fit(Xp, yp).decision_function(X[b][t])))
            avg = np.nanmean(np.column_stack([Y[a] for a in others]), axis=1)
            base.setdefault(b, []).append(roc_auc_score(Y[b][t], avg[t]))
            base_var.setdefault(b, []).append(roc_auc_score(Y[b][t & varying], avg[t & varying]))
    return pair, loo, base, base_var


def test_cross_epigenome_matrix_and_baseline_recomputed(fixture_ws):
    ws = Workspace.open(fixture_ws)
    table = pd.read_csv(ws.transfer_evaluation_path, sep="\t", dtype={"train": str, "test": str})
    assert ws.transfer_chart_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # E903 has H3K4me3 and DNase, E901/E902 H3K4me3 and H3K27me3: compared on their common mark
    assert set(table["marks"]) == {"H3K4me3"} and set(table["scale"]) == {"log1p"}
    eids = ["E901", "E902", "E903"]
    pair, loo, base, base_var = _independent_evaluation(ws, eids, ["H3K4me3.narrowPeak"])
    got = table.set_index(["evaluation", "train", "test", "genes"])["auroc_mean"]
    for (a, b), v in pair.items():
        assert got[("pair", a, b, "held_out")] == pytest.approx(np.mean(v), abs=6e-5)  # 4 decimals in the TSV
    for b in eids:
        others = ",".join(e for e in eids if e != b)
        assert got[("leave_one_out", others, b, "held_out")] == pytest.approx(np.mean(loo[b]), abs=6e-5)
        assert got[("average_label", others, b, "held_out")] == pytest.approx(np.mean(base[b]), abs=6e-5)
        assert got[("average_label", others, b, "held_out_varying")] == pytest.approx(np.mean(base_var[b]), abs=6e-5)
    # the test genes are those of the split's test part only: none was in the training part
    splits = ws.splits()
    for k in (1, 2, 3):
        assert not ((splits[k] == 0) & (splits[k] == 2)).any()


def test_many_epigenomes_are_compared_on_a_spread_sample(tmp_path, monkeypatch):
    from shallowchrome.tracks.workspace import transfer

    monkeypatch.setattr(transfer, "MAX_COMPARED", 2)  # as 16 of 56: the first and the last of the order
    res = invoke(*build_args(tmp_path / "ws", "--no-tracks"))
    assert res.exit_code == 0, res.output
    table = pd.read_csv(Workspace.open(tmp_path / "ws").transfer_evaluation_path, sep="\t", dtype=str)
    pairs = table[table["evaluation"] == "pair"]
    assert set(pairs["train"]) == set(pairs["test"]) == {"E901", "E903"}


def test_default_build_keeps_every_epigenome_labelled(fixture_ws):
    ev = Workspace.open(fixture_ws).evaluation()
    assert set(ev["status"]) == {"ok"}
    info = json.loads(Workspace.open(fixture_ws).info_path.read_text())
    assert not any("transfer" in r for r in info["epigenomes"].values())


def test_reference_option(tmp_path, copy_fixture):
    rpkm = _drop_column(copy_fixture / "rpkm.tsv.gz", tmp_path / "r.tsv", "E902")
    res = invoke(*build_args(tmp_path / "ws", "--reference", "E901,E903", "--no-tracks", fixture=copy_fixture,
                             expression=rpkm))
    assert res.exit_code == 0, res.output
    ws = Workspace.open(tmp_path / "ws")
    model = ws.model("E902")
    assert model["transfer"]["reference"] == ["E901", "E903"] and model["marks"] == ["H3K4me3"]
    assert ws.evaluation().set_index("epigenome").loc["E902", "reason"] == "no expression data: model from E901,E903"


@pytest.mark.parametrize("ref, words", [("E999", "not an epigenome of this build"),
                                        ("E902", "has no expression column")])
def test_bad_reference_is_one_line(tmp_path, copy_fixture, ref, words):
    rpkm = _drop_column(copy_fixture / "rpkm.tsv.gz", tmp_path / "r.tsv", "E902")
    res = invoke(*build_args(tmp_path / "ws", "--reference", ref, "--no-tracks", fixture=copy_fixture,
                             expression=rpkm))
    line = one_error_line(res)
    assert f"--reference {ref}" in line and words in line
    assert not (tmp_path / "ws").exists()


def test_shared_data_sample_without_rna_seq_within_002_of_its_own_model(remc, remc_ws, tmp_path):
    from shallowchrome.tracks.workspace.build import BuildOptions, build_workspace

    with gzip.open(remc / "rpkm.56epigenomes.tsv.gz", "rt") as fh:
        table = pd.read_csv(fh, sep="\t")
    rpkm = tmp_path / "rpkm_noE100.tsv"
    table.drop(columns=["E100"]).to_csv(rpkm, sep="\t", index=False)
    ws = build_workspace(remc / "genes.hg19.tsv", rpkm, remc / "peaks", tmp_path / "ws",
                         epigenomes=["E065", "E066", "E079", "E100", "E104"], splits_path=remc / "splits.tsv.gz",
                         options=BuildOptions(n_splits=10, jobs=2), marks=["H3K4me3", "H3K27me3"])
    assert ws.model("E100")["transfer"]["note"] == "no expression data: model from E065,E066,E079,E104"
    own = Workspace.open(remc_ws.root) if hasattr(remc_ws, "root") else Workspace.open(remc_ws)
    labels = own.predictions("E100")["label"]
    m = labels.notna()
    transferred = roc_auc_score(labels[m].astype(int), ws.predictions("E100")["logit"][m])
    own_auroc = float(own.evaluation().set_index("epigenome").loc["E100", "crossfit_auroc"])
    assert abs(transferred - own_auroc) <= 0.02, (transferred, own_auroc)
    # the matrix on the other four: off-diagonal close to the diagonal
    t = pd.read_csv(ws.transfer_evaluation_path, sep="\t", dtype={"train": str, "test": str})
    pairs = t[t["evaluation"] == "pair"]
    diag = pairs[pairs["train"] == pairs["test"]]["auroc_mean"].mean()
    off = pairs[pairs["train"] != pairs["test"]]["auroc_mean"].mean()
    assert abs(diag - off) < 0.01


# --- reusing another workspace's reference model (--reference-workspace) -------------------------
REUSED_NOTE = "no expression data: model from labelled (E901)"


@pytest.fixture(scope="module")
def reused(tmp_path_factory):
    """``labelled``: E901 with its labels; ``new``: E902 alone, without its expression column, predicted by
    ``labelled``'s recorded reference model (a build with no labelled epigenome), with tracks."""
    from helpers import FIXTURE

    tmp = tmp_path_factory.mktemp("reused")
    res = invoke(*build_args(tmp / "labelled", "--epigenomes", "E901", "--no-tracks"))
    assert res.exit_code == 0, res.output
    rpkm = _drop_column(FIXTURE / "rpkm.tsv.gz", tmp / "rpkm_no902.tsv", "E902")
    res = invoke(*build_args(tmp / "new", "--epigenomes", "E902", "--reference-workspace", tmp / "labelled",
                             expression=rpkm))
    assert res.exit_code == 0, res.output
    assert REUSED_NOTE in res.output
    return Workspace.open(tmp / "labelled"), Workspace.open(tmp / "new"), rpkm


def test_a_labelled_build_records_its_pooled_reference_model(reused, fixture_ws):
    labelled, _, _ = reused
    doc = json.loads((labelled.root / "reference_model.json").read_text())
    assert doc["kind"] == "shallowchrome pooled reference model" and doc["scale"] == "log1p"
    assert doc["reference"] == ["E901"] and doc["marks"] == ["H3K4me3", "H3K27me3"] and doc["window"] == 5000
    assert doc["formats"] == {"E901": {"H3K4me3": "narrowPeak", "H3K27me3": "narrowPeak"}}
    feats, pred = labelled.features("E901"), labelled.predictions("E901")
    lab = pred["label"].notna().to_numpy()
    lr = _fit(np.log1p(feats[["H3K4me3.narrowPeak", "H3K27me3.narrowPeak"]].to_numpy(float))[lab],
              pred["label"][lab].astype(int))
    assert doc["bias"] == pytest.approx(lr.intercept_[0], rel=1e-6, abs=1e-8)
    assert [doc["weights"][m] for m in doc["marks"]] == pytest.approx(lr.coef_[0], rel=1e-6, abs=1e-8)
    assert doc["n_train"] == int(lab.sum())
    # the three-epigenome fixture: no epigenome has every mark, so all three on the mark they share
    fx = json.loads((Workspace.open(fixture_ws).data / "reference_model.json").read_text())
    assert fx["reference"] == ["E901", "E902", "E903"] and fx["marks"] == ["H3K4me3"]


def test_reference_workspace_predictions_are_its_recorded_model(reused):
    labelled, new, _ = reused
    doc = json.loads((labelled.root / "reference_model.json").read_text())
    assert new.epigenomes() == ["E902"] and not (new.data / "reference_model.json").exists()
    feats, pred = new.features("E902"), new.predictions("E902")
    raw = feats[["H3K4me3.narrowPeak", "H3K27me3.narrowPeak"]].to_numpy(float)
    w = np.array([doc["weights"]["H3K4me3"], doc["weights"]["H3K27me3"]])
    logit = doc["bias"] + np.log1p(raw) @ w  # independently: the recorded weights on log1p of E902's peaks
    np.testing.assert_allclose(pred["logit"], logit, rtol=1e-7, atol=1e-7)  # predictions.tsv: 8 digits
    np.testing.assert_allclose(pred["contrib_H3K27me3"], np.log1p(raw[:, 1]) * w[1], rtol=1e-7, atol=1e-7)
    assert ((pred["logit"] > 0) == (pred["predicted"] == 1)).all()
    assert pred["label"].isna().all() and set(pred["fold"].astype(str)) == {"all"}
    model = new.model("E902")
    assert model["transfer"]["note"] == REUSED_NOTE and model["transfer"]["workspace"] == "labelled"
    assert model["transfer"]["reference_model"] == str(labelled.root / "reference_model.json")
    assert model["bias"] == doc["bias"] and model["weights"] == doc["weights"]
    assert model["crossfit"]["models"][0]["n_train"] == doc["n_train"]
    ev = new.evaluation().set_index("epigenome")
    assert ev.loc["E902", "status"] == "transfer" and ev.loc["E902", "reason"] == REUSED_NOTE
    assert new.info["epigenomes"]["E902"]["transfer"] == {"note": REUSED_NOTE, "reference": ["E901"],
                                                           "workspace": "labelled"}


def test_reference_workspace_pages_hub_and_explain(reused, tmp_path):
    from shallowchrome.server.web.app import create_app

    _, new, _ = reused
    client = create_app(new.root, NO_WARM_UP).test_client()
    html = client.get("/").get_data(as_text=True)
    assert REUSED_NOTE in html
    gene = new.genes()["gene_id"].iloc[3]
    for url in (f"/genes/{gene}", f"/api/genes/{gene}", "/api/epigenomes/E902/model"):
        assert client.get(url).status_code == 200, url
    assert invoke("hub", "check", new.root).exit_code == 0
    res = invoke("explain", new.root, gene, "--out", tmp_path / "e.json")
    assert res.exit_code == 0, res.output
    (e,) = json.loads((tmp_path / "e.json").read_text())["explanations"]
    assert e["model"] == "reference model of workspace labelled learnt on E901 (log1p features)"
    pred = new.predictions("E902").set_index("gene_id").loc[gene]
    assert e["logit"] == pytest.approx(pred["logit"], abs=1e-7)
    for m in e["marks"]:
        assert m["contribution"] == pytest.approx(pred[f"contrib_{m['mark']}"], abs=1e-7)


@pytest.mark.parametrize("case", ["both", "not_a_workspace", "no_file", "regression", "extra_mark",
                                  "missing_mark", "window", "itself"])
def test_reference_workspace_errors_are_one_line(reused, tmp_path, case):
    import shutil

    from helpers import FIXTURE

    labelled, _, rpkm = reused
    ref, extra, words = labelled.root, ["--epigenomes", "E902"], ""
    if case == "both":
        extra += ["--reference", "E901"]
        words = "--reference and --reference-workspace"
    elif case == "not_a_workspace":
        ref = tmp_path / "empty"
        ref.mkdir()
        words = "is not a ShallowChrome workspace"
    elif case == "no_file":
        ref = shutil.copytree(labelled.root, tmp_path / "old", symlinks=True)
        (Workspace.open(ref).data / "reference_model.json").unlink()  # as a workspace of an older version
        words = "has no reference model (reference_model.json)"
    elif case == "regression":
        ref = tmp_path / "reg"
        assert invoke(*build_args(ref, "--epigenomes", "E901", "--task", "regression", "--no-tracks")).exit_code == 0
        words = "built with --task regression"
    elif case == "extra_mark":  # E903 has DNase, which the reference model lacks
        extra = ["--epigenomes", "E903"]
        rpkm = _drop_column(FIXTURE / "rpkm.tsv.gz", tmp_path / "r.tsv", "E903")
        words = "has no weight for DNase, which E903 has"
    elif case == "missing_mark":
        extra += ["--marks", "H3K4me3"]
        words = "E902 has no peak file for H3K27me3, a mark of the reference model of labelled"
    elif case == "window":
        extra += ["--window", "2000"]
        words = "TSS ± 5000 bp, this build's in TSS ± 2000 bp; fix: build with --window 5000"
    else:
        ref = tmp_path / "ws"
        shutil.copytree(labelled.root, ref, symlinks=True)
        words = "is the workspace this build writes"
    out = ref if case == "itself" else tmp_path / "ws"
    res = invoke(*build_args(out, *extra, "--reference-workspace", ref, "--no-tracks", expression=rpkm))
    line = one_error_line(res)
    assert words in line, line
    if case != "itself":
        assert not out.exists()


def test_weights_heatmap_leaves_out_the_reference_model_scale(moved_ws, tmp_path):
    import shutil

    from shallowchrome.tracks.analysis.explain import weights_table
    from shallowchrome.tracks.analysis.pattern_charts import weights_chart, weights_heatmap_rows

    table = weights_table(moved_ws)
    by = table.drop_duplicates("epigenome").set_index("epigenome")
    assert by.loc["E902", "scale"] == "log1p" and by.loc["E902", "model"] == \
        "reference model learnt on E901 (log1p features)"
    assert set(by.loc[["E901", "E903"], "scale"]) == {"raw"} and set(by.loc[["E901", "E903"], "model"]) == {"split 0"}
    e902 = table[table.epigenome == "E902"].set_index("term")
    model = moved_ws.model("E902")
    assert e902.at["H3K27me3", "weight"] == model["weights"]["H3K27me3"]
    assert e902.at["H3K27me3", "p_value"] == pytest.approx(model["p_values"]["H3K27me3"])
    shown, footnote, title = weights_heatmap_rows(table)
    assert set(shown["epigenome"]) == {"E901", "E903"} and title == ""
    assert footnote.endswith("E902, reference model learnt on E901 (log1p features)")
    only, none, title = weights_heatmap_rows(table[table.epigenome == "E902"])
    assert len(only) == 3 and none == "" and title == " (log1p features)"
    assert weights_chart(table, "png")[:8] == b"\x89PNG\r\n\x1a\n"
    copy = shutil.copytree(moved_ws.root, tmp_path / "ws", symlinks=True)
    res = invoke("weights", copy)
    assert res.exit_code == 0, res.output
    assert "E902  H3K27me3" in res.output and "[reference model learnt on E901 (log1p features)]" in res.output


def test_reference_workspace_beside_labelled_epigenomes(reused, tmp_path):
    labelled, _, rpkm = reused
    res = invoke(*build_args(tmp_path / "ws", "--epigenomes", "E901,E902", "--reference-workspace", labelled.root,
                             "--no-tracks", expression=rpkm))
    assert res.exit_code == 0, res.output
    ws = Workspace.open(tmp_path / "ws")
    ev = ws.evaluation().set_index("epigenome")
    assert ev.loc["E901", "status"] == "ok" and ev.loc["E902", "reason"] == REUSED_NOTE
    recorded = json.loads((labelled.root / "reference_model.json").read_text())
    assert ws.model("E902")["weights"] == recorded["weights"]  # the other workspace's model, not one fitted here
    assert "crossfit" in ws.model("E901") and "transfer" not in ws.model("E901")  # its own labels, as always
    assert json.loads((ws.root / "reference_model.json").read_text())["reference"] == ["E901"]


def test_reference_workspace_needs_no_expression_table(reused, tmp_path):
    from helpers import FIXTURE

    labelled, new, _ = reused
    base = ["build", "--genes", FIXTURE / "genes.tsv", "--peaks", FIXTURE / "peaks", "--splits-file",
            FIXTURE / "splits.tsv.gz", "--splits", "3", "--epigenomes", "E902", "--no-tracks"]
    res = invoke(*base, "--reference-workspace", labelled.root, "--out", tmp_path / "ws")
    assert res.exit_code == 0, res.output
    ws = Workspace.open(tmp_path / "ws")
    assert ws.info["inputs"]["expression"] is None
    pd.testing.assert_frame_equal(ws.predictions("E902"), new.predictions("E902"))
    line = one_error_line(invoke(*base, "--out", tmp_path / "ws2"))
    assert "no expression table" in line and "--reference-workspace" in line
    assert not (tmp_path / "ws2").exists()


def test_shared_data_reference_workspace_within_002_of_its_own_model(remc, remc_ws, tmp_path):
    from shallowchrome.tracks.workspace.build import BuildOptions, build_workspace

    common = {"splits_path": remc / "splits.tsv.gz", "marks": ["H3K4me3", "H3K27me3"]}
    others = build_workspace(remc / "genes.hg19.tsv", remc / "rpkm.56epigenomes.tsv.gz", remc / "peaks",
                             tmp_path / "others", epigenomes=["E065", "E066", "E079", "E104"],
                             options=BuildOptions(n_splits=10, jobs=2), **common)
    ws = build_workspace(remc / "genes.hg19.tsv", None, remc / "peaks", tmp_path / "e100", epigenomes=["E100"],
                         options=BuildOptions(n_splits=10, reference_workspace=str(others.root)), **common)
    assert ws.model("E100")["transfer"]["note"] == "no expression data: model from others (E065,E066,E079,E104)"
    own = Workspace.open(remc_ws.root) if hasattr(remc_ws, "root") else Workspace.open(remc_ws)
    labels = own.predictions("E100")["label"]
    m = labels.notna()
    transferred = roc_auc_score(labels[m].astype(int), ws.predictions("E100")["logit"][m])
    own_auroc = float(own.evaluation().set_index("epigenome").loc["E100", "crossfit_auroc"])
    assert abs(transferred - own_auroc) <= 0.02, (transferred, own_auroc)  # measured 0.8686 vs 0.8674


def test_cross_evaluation_in_worker_processes_is_the_same_table():
    """The build runs the cross-epigenome evaluation's tasks (split x group of test epigenomes) in its
    worker processes: the table is exactly the serial one."""
    from functools import partial

    from shallowchrome.model.transfer import cross_evaluation
    from shallowchrome.tracks.workspace.executor import map_jobs

    rng = np.random.default_rng(5)
    n, eids = 600, ["A", "B", "C", "D", "E"]
    base = rng.normal(size=(n, 2))
    feats = {e: np.abs(base + rng.normal(scale=0.5, size=(n, 2))) * 10 for e in eids}
    labels = {e: ((feats[e][:, 0] - feats[e][:, 1] + rng.normal(size=n)) > 0).astype(float) for e in eids}
    labels["C"][:50] = np.nan
    splits = {k: rng.choice([0, 1, 2], size=n, p=[0.6, 0.2, 0.2]).astype(np.int8) for k in range(1, 4)}
    serial = cross_evaluation(feats, labels, splits, [1, 2, 3], ["m1", "m2"])
    pooled = cross_evaluation(feats, labels, splits, [1, 2, 3], ["m1", "m2"], mapper=partial(map_jobs, jobs=2))
    pd.testing.assert_frame_equal(serial, pooled, check_exact=True)
    assert len(serial) == 25 + 2 * 2 * 5 and serial["n_splits"].eq(3).all()
