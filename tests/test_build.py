"""End-to-end `shallowchrome build`: workspace content, golden model, errors, atomicity, parallelism."""
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import approx_equal, build_args, one_error_line

from shallowchrome.server.cli import main
from shallowchrome.tracks.workspace.layout import Workspace

GOLDEN = Path(__file__).parent / "data" / "golden"


def args(fx: Path, out: Path, *extra, **options):
    """The fixture's `build` command line (helpers.build_args) on the data set in ``fx`` (the fixture or a copy)."""
    return build_args(out, *extra, fixture=fx, **options)


def run(argv):
    result = CliRunner().invoke(main, argv, catch_exceptions=False)
    return result.exit_code, result.output, result.stderr if hasattr(result, "stderr") else ""


@pytest.fixture(scope="module")
def built(fixture_build):
    """``(workspace, output)`` of `build` with `args(fixture, out)`: the session's read-only fixture_ws (conftest)."""
    return fixture_build


def test_console_script_end_to_end(tmp_path, fixture_dir):
    """The installed `shallowchrome` command, as a user runs it."""
    exe = Path(sys.executable).parent / "shallowchrome"
    assert exe.exists(), "the shallowchrome console script is not installed"
    out = tmp_path / "ws"
    res = subprocess.run([str(exe), "build", *args(fixture_dir, out)[1:], "--jobs", "2"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "E901  test AUROC" in res.stdout and f"workspace: {out}" in res.stdout
    assert "E903 has no peaks for H3K27me3" in res.stderr  # epigenomes missing a mark: warned, still modelled
    assert (out / "workspace.json").is_file() and (out / "epigenomes" / "E903" / "model.json").is_file()


def test_workspace_layout_and_content(built):
    out, output = built
    ws = Workspace.open(out)
    info = ws.info
    assert info["parameters"]["window"] == 5000 and info["parameters"]["splits"] == 3
    assert info["inputs"]["splits"].endswith("splits.tsv.gz")
    assert ws.epigenomes() == ["E901", "E902", "E903"]
    ev = ws.evaluation()
    assert ev.status.tolist() == ["ok"] * 3
    assert ev.n_genes.tolist() == [120] * 3 and ev.n_splits.tolist() == [3] * 3
    assert ((ev.auroc_mean > 0.5) & (ev.auroc_mean <= 1)).all()
    png = (out / "evaluation.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    pred = ws.predictions("E901")
    assert len(pred) == 120
    assert {"gene_id", "symbol", "chrom", "tss", "strand", "rpkm", "label", "part", "fold", "logit", "probability",
            "predicted", "contrib_H3K4me3", "contrib_H3K27me3"} <= set(pred.columns)
    model = ws.model("E901")
    # each gene's row is its cross-fitting fold model's: logit = that model's bias + the contributions;
    # contribution = its weight x the gene's feature (features.tsv's mark columns); probability = sigmoid(logit)
    folds = {str(r["fold"]): r for r in model["crossfit"]["models"]}
    bias = pred.fold.astype(str).map(lambda f: folds[f]["bias"])
    assert (bias + pred.contrib_H3K4me3 + pred.contrib_H3K27me3 - pred.logit).abs().max() < 1e-6
    assert ((1 / (1 + (-pred.logit).map(math.exp)) - pred.probability).abs() < 1e-7).all()
    feats = ws.features("E901")
    for m in ("H3K4me3", "H3K27me3"):
        w = pred.fold.astype(str).map(lambda f: folds[f]["weights"][m])
        assert ((feats[m] * w - pred[f"contrib_{m}"]).abs() < 1e-6).all()
    # every gene of the fixture has expression: each is in the test part of its fold, 12 genes a fold
    assert pred.part.eq("test").all() and pred.fold.value_counts().tolist() == [12] * 10
    # E901 has three formats per mark: all six configurations were tried
    assert len(model["configurations_tried"]) == 6 and len(model["splits"]) == 3
    assert model["configuration"] in {c["name"] for c in model["configurations_tried"]}
    assert set(model["p_values"]) == {"bias", "H3K4me3", "H3K27me3"}
    # E903: H3K4me3 narrowPeak + DNase BED4 presence
    assert ws.model("E903")["marks"] == ["H3K4me3", "DNase"]
    assert set(ws.features("E903").DNase.unique()) <= {0.0, 1.0}


def _normalise(doc):
    for f in doc.get("peak_files", []):
        f["path"] = Path(f["path"]).name
    return doc



def test_golden_model_json(built):
    out, _ = built
    got = _normalise(json.loads((out / "epigenomes" / "E901" / "model.json").read_text()))
    golden_path = GOLDEN / "E901.model.json"
    if os.environ.get("SHALLOWCHROME_UPDATE_GOLDEN"):  # regenerate deliberately, then review the diff
        golden_path.parent.mkdir(parents=True, exist_ok=True)
        golden_path.write_text(json.dumps(got, indent=2) + "\n")
    approx_equal(json.loads(golden_path.read_text()), got)


def test_parallel_build_equals_serial_and_is_deterministic(built, tmp_path, fixture_dir):
    out, _ = built
    out2 = tmp_path / "ws2"
    code, output, _ = run(args(fixture_dir, out2, "--jobs", "2"))
    assert code == 0, output
    per_epigenome = [f"epigenomes/{eid}/{name}" for eid in ("E901", "E902", "E903")
                     for name in ("predictions.tsv", "features.tsv", "model.json")]
    for rel in ("evaluation.tsv", "genes.tsv", "splits.tsv.gz", *per_epigenome, "evaluation.png"):
        assert (out / rel).read_bytes() == (out2 / rel).read_bytes(), rel


def test_random_splits_without_a_splits_file(tmp_path, fixture_dir):
    argv = args(fixture_dir, tmp_path / "r1", splits_file=None)
    code, output, _ = run(argv + ["--seed", "5", "--epigenomes", "E902", "--marks", "H3K4me3,H3K27me3"])
    assert code == 0, output
    ws = Workspace.open(tmp_path / "r1")
    assert ws.info["parameters"]["seed"] == 5 and ws.epigenomes() == ["E902"]
    splits = pd.read_csv(tmp_path / "r1" / "splits.tsv.gz", sep="\t")
    assert sorted(splits.split.unique()) == [0, 1, 2, 3]
    assert splits[splits.split == 1].part.value_counts().to_dict() == {"train": 40, "validation": 40, "test": 40}


def test_valley_threshold_option(tmp_path, fixture_dir):
    code, output, _ = run(args(fixture_dir, tmp_path / "v", "--threshold", "valley", "--epigenomes", "E901"))
    assert code == 0, output
    model = Workspace.open(tmp_path / "v").model("E901")
    assert model["threshold"]["method"] == "valley" and model["threshold"]["rpkm"] > 0


def _bad_run(tmp_path, argv):
    return one_error_line(CliRunner().invoke(main, argv))


def test_bad_peak_file_is_one_line_exit_2_and_writes_nothing(tmp_path, copy_fixture):
    bad = copy_fixture / "peaks" / "E902-H3K4me3.broadPeak"
    lines = bad.read_text().splitlines()
    lines[4] = "\t".join(lines[4].split("\t")[:5])  # truncate line 5
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "ws"
    msg = _bad_run(tmp_path, args(copy_fixture, out))
    assert f"{bad}:5: truncated or malformed line: 5 tab-separated columns, broadPeak has 9" in msg
    assert not out.exists() or not any(out.rglob("*"))


def test_failed_rebuild_keeps_the_existing_workspace(tmp_path, copy_fixture):
    out = tmp_path / "ws"
    code, output, _ = run(args(copy_fixture, out))
    assert code == 0, output
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (copy_fixture / "peaks" / "E903-H3K4me3.narrowPeak.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    msg = _bad_run(tmp_path, args(copy_fixture, out))
    assert "corrupt or truncated gzip" in msg and "E903-H3K4me3.narrowPeak.gz" in msg
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # nothing lost, nothing half-written, no temp files left


@pytest.mark.parametrize("case", ["missing_column", "absent_genes", "duplicate_gene", "empty_peaks", "unknown_epi"])
def test_input_problems(tmp_path, copy_fixture, case):
    fx = copy_fixture
    out = tmp_path / "ws"
    if case == "missing_column":
        msg = _bad_run(tmp_path, args(fx, out, "--epigenomes", "E901,E999"))
        assert "no peak files for E999" in msg
        # an epigenome with peaks but no expression column: an error when asked for by name ...
        shutil.copy(fx / "peaks" / "E903-H3K4me3.narrowPeak.gz", fx / "peaks" / "E904-H3K4me3.narrowPeak.gz")
        msg = _bad_run(tmp_path, args(fx, out, "--epigenomes", "E904"))
        assert "rpkm.tsv.gz:1: no column for epigenome E904" in msg
        # ... and, when implied by the peaks folder, predicted by the labelled epigenomes' model (test_transfer.py)
        code, output, _ = run(args(fx, out))
        assert code == 0, output
        ev = pd.read_csv(out / "evaluation.tsv", sep="\t").set_index("epigenome")
        assert ev.loc["E904", "status"] == "transfer"
        assert ev.loc["E904", "reason"] == "no expression data: model from E901,E902,E903"
    elif case == "absent_genes":
        text = (fx / "genes.tsv").read_text() + "chr1\t5000\tENSG_NOT_IN_RPKM\tNEW\t+\n"
        (fx / "genes.tsv").write_text(text)
        result = CliRunner().invoke(main, args(fx, out, "--epigenomes", "E901"))
        assert result.exit_code == 0
        assert "1 genes of the gene table are not in it (e.g. ENSG_NOT_IN_RPKM)" in result.output
        pred = Workspace.open(out).predictions("E901")
        row = pred[pred.gene_id == "ENSG_NOT_IN_RPKM"].iloc[0]
        assert row.part == "none" and pd.isna(row.label) and 0 <= row.probability <= 1
    elif case == "duplicate_gene":
        text = (fx / "genes.tsv").read_text() + "chr2\t777\tENSG00000900005\tDUP\t+\n"
        (fx / "genes.tsv").write_text(text)
        msg = _bad_run(tmp_path, args(fx, out))
        assert "genes.tsv:122: duplicate gene_id 'ENSG00000900005' with different values (also on line 7)" in msg
    elif case == "empty_peaks":
        (fx / "peaks" / "E901-H3K4me3.broadPeak").write_text("track name=empty\n")
        msg = _bad_run(tmp_path, args(fx, out))
        assert "E901-H3K4me3.broadPeak: contains no peaks" in msg
    elif case == "unknown_epi":
        msg = _bad_run(tmp_path, args(fx, out, "--marks", "H3K9me3"))
        assert "no peak files for mark(s) H3K9me3" in msg
    assert not (out / "workspace.json").exists() or case in ("missing_column", "absent_genes")


def test_out_must_not_clobber_an_unrelated_folder(tmp_path, fixture_dir):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("x")
    msg = _bad_run(tmp_path, args(fixture_dir, out))
    assert "is a non-empty folder that is not a workspace" in msg


# --- cross-fitting: one leak-free explanation per gene ----------------------------------------
def _fold_view(ws: Workspace, eid: str):
    """(model.json, predictions, features, labels as int, each gene's fold as text) of one epigenome."""
    pred = ws.predictions(eid)
    return ws.model(eid), pred, ws.features(eid), pred.label, pred.fold.astype(str).to_numpy()


def _file_features(model: dict, feats: pd.DataFrame, record: dict):
    return feats[[f"{m}.{record['formats'][m]}" for m in model["marks"]]].to_numpy(dtype=float)


@pytest.mark.parametrize("eid", ["E901", "E902", "E903"])
def test_every_row_is_its_held_out_fold_models_prediction(built, eid):
    """Recomputed from model.json's fold weights and the MARK.FORMAT feature columns: each row of predictions.tsv
    is the prediction of the model of the gene's fold, under that fold's configuration."""
    import numpy as np

    model, pred, feats, label, fold = _fold_view(Workspace.open(built[0]), eid)
    cf = model["crossfit"]
    assert cf["folds"] == 10 and cf["seed"] == 0 and [r["fold"] for r in cf["models"]] == [*range(10), "all"]
    marks = model["marks"]
    for rec in cf["models"]:
        rows = fold == str(rec["fold"])
        if not rows.any():
            assert rec["fold"] == "all"  # every fixture gene is labelled: the all model explains none
            continue
        X = _file_features(model, feats, rec)[rows]
        w = np.array([rec["weights"][m] for m in marks])
        np.testing.assert_allclose(pred.logit[rows], rec["bias"] + X @ w, rtol=1e-7, atol=1e-7)
        np.testing.assert_allclose(pred[[f"contrib_{m}" for m in marks]].to_numpy()[rows], X * w, rtol=1e-7, atol=1e-7)
        np.testing.assert_allclose(feats[marks].to_numpy()[rows], X)  # the mark columns: the explaining features
        assert (pred.predicted[rows] == (pred.logit[rows] > 0)).all()
        assert set(pred.part[rows]) == {"test"}


@pytest.mark.parametrize("eid", ["E901", "E902"])
def test_no_gene_is_explained_by_a_model_trained_on_its_label(built, eid):
    """Each fold model is the maximum-likelihood fit on exactly the labelled genes outside its fold (refitted here
    with statsmodels): the fold's genes, whose rows it gives, were not in its training data; and its configuration
    is the one its validation fold (another fold) chooses, so not even the selection saw them."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from shallowchrome.model.estimator import ShallowChromeClassifier
    from shallowchrome.model.interpret import fit_wald, fold_training

    model, pred, feats, label, fold = _fold_view(Workspace.open(built[0]), eid)
    labelled = label.notna().to_numpy()
    y = label.fillna(-1).astype(int).to_numpy()
    configs = {c["name"]: c["formats"] for c in model["configurations_tried"]}
    chosen = set()
    for rec in model["crossfit"]["models"][:-1]:
        k = rec["fold"]
        train = fold_training(fold, labelled, k)
        held_out = fold == str(k)
        assert held_out.sum() == 12 and not (train & held_out).any() and train.sum() == rec["n_train"] == 108
        X = _file_features(model, feats, rec)
        fit = fit_wald(X[train], y[train])
        np.testing.assert_allclose(fit.params, [rec["bias"], *rec["weights"].values()], rtol=1e-6, atol=1e-8)
        leaky = fit_wald(X[labelled], y[labelled])  # with the fold's own genes the weights would differ
        assert np.abs(leaky.params - fit.params).max() > 1e-3
        # the configuration: best AUROC on the validation fold v (k's partner: 0-1, 2-3, ...) of the fits on the
        # other 8 folds
        v = rec["validation_fold"]
        assert v == k ^ 1 and v != k
        inner = train & (fold != str(v))
        val = fold == str(v)
        auc = {}
        for name, formats in configs.items():
            Xc = feats[[f"{m}.{formats[m]}" for m in model["marks"]]].to_numpy(dtype=float)
            m = ShallowChromeClassifier().fit(Xc[inner], y[inner])
            auc[name] = roc_auc_score(y[val], m.decision_function(Xc[val]))
        assert auc == pytest.approx(rec["validation_auroc"])
        assert rec["configuration"] == max(configs, key=lambda n: (auc[n], -list(configs).index(n)))
        chosen.add(rec["configuration"])
    if eid == "E901":
        assert len(chosen) > 1  # the fixture's folds chose differently: each gene under its own fold's configuration


def test_genes_without_expression_get_the_all_genes_model(tmp_path, copy_fixture):
    import numpy as np

    fx = copy_fixture
    (fx / "genes.tsv").write_text((fx / "genes.tsv").read_text() + "chr1\t5000\tENSG_NOT_IN_RPKM\tNEW\t+\n")
    code, output, _ = run(args(fx, tmp_path / "ws", "--epigenomes", "E902", "--no-tracks"))
    assert code == 0, output
    ws = Workspace.open(tmp_path / "ws")
    model, pred, feats, label, fold = _fold_view(ws, "E902")
    row = pred.index[pred.gene_id == "ENSG_NOT_IN_RPKM"][0]
    assert fold[row] == "all" and pred.part[row] == "none" and pd.isna(label[row])
    everything = model["crossfit"]["models"][-1]
    assert everything["fold"] == "all" and everything["n_train"] == 120
    X = _file_features(model, feats, everything)[row]
    assert pred.logit[row] == pytest.approx(everything["bias"] + X @ np.array(list(everything["weights"].values())))
    assert (fold[pred.index != row] != "all").all()
    # explain says so, with the same numbers
    from shallowchrome.tracks.analysis.explain import explain

    (e,) = explain(ws, ["ENSG_NOT_IN_RPKM"], ["E902"])["explanations"]
    assert (e["model"], e["fold"], e["split"], e["part"], e["measured"]) == ("all labelled genes", "all", None, "none",
                                                                              None)
    assert e["logit"] == pytest.approx(pred.logit[row], abs=1e-7) and e["statistics"]["n_train"] == 120


def test_crossfit_metrics_in_the_evaluation_and_model(built):
    import numpy as np
    from sklearn.metrics import roc_auc_score

    ws = Workspace.open(built[0])
    ev = ws.evaluation().set_index("epigenome")
    for eid in ws.epigenomes():
        model, pred, *_ = _fold_view(ws, eid)
        oof = roc_auc_score(pred.label.astype(int), pred.probability)  # every labelled gene, out of fold
        assert model["crossfit"]["metrics"]["auroc"] == pytest.approx(oof, abs=1e-6)
        assert ev.loc[eid, "crossfit_auroc"] == pytest.approx(oof, abs=1e-4)
        # the benchmark figure is untouched: the mean test AUROC of the evaluation splits
        assert ev.loc[eid, "auroc_mean"] == pytest.approx(np.mean([s["test"]["auroc"] for s in model["splits"]]),
                                                          abs=1e-4)


def test_cross_fitting_settings_key_the_incremental_rebuild(tmp_path, fixture_dir):
    """Same settings: every epigenome reused (files untouched); other folds or seed: recomputed, as from scratch."""
    from shallowchrome.tracks.workspace.build import BuildOptions, build_workspace

    def build(out, **opts):
        return build_workspace(fixture_dir / "genes.tsv", fixture_dir / "rpkm.tsv.gz", fixture_dir / "peaks", out,
                               epigenomes=["E902", "E903"], splits_path=fixture_dir / "splits.tsv.gz",
                               options=BuildOptions(n_splits=3, **opts))

    out = tmp_path / "ws"
    build(out)
    pred = out / "epigenomes" / "E902" / "predictions.tsv"
    first = pred.read_bytes()
    os.utime(pred, ns=(10**18, 10**18))
    build(out)  # unchanged: reused, not rewritten
    assert pred.stat().st_mtime_ns == 10**18 and pred.read_bytes() == first
    for opts in ({"folds": 5}, {"seed": 3}):
        build(out, **opts)
        info = json.loads((out / "workspace.json").read_text())
        assert info["epigenomes"]["E902"]["inputs"]["parameters"]["crossfit"] == \
            {"folds": opts.get("folds", 10), "seed": opts.get("seed", 0), "version": 1}
        assert pred.read_bytes() != first  # recomputed with the new folds
        scratch = build(tmp_path / f"scratch-{'-'.join(opts)}", **opts)
        assert pred.read_bytes() == scratch.predictions_path("E902").read_bytes()
    assert Workspace.open(out).model("E902")["crossfit"]["seed"] == 3


def test_bad_fold_count_is_an_input_error(tmp_path, fixture_dir):
    from shallowchrome.model.errors import InputError
    from shallowchrome.tracks.workspace.build import BuildOptions, build_workspace

    with pytest.raises(InputError, match="at least 3 are needed"):
        build_workspace(fixture_dir / "genes.tsv", fixture_dir / "rpkm.tsv.gz", fixture_dir / "peaks",
                        tmp_path / "ws", splits_path=fixture_dir / "splits.tsv.gz", options=BuildOptions(folds=2))
    assert not (tmp_path / "ws").exists()
