"""The estimator, Wald statistics, labels, configurations and splits."""
import numpy as np
import pytest
import statsmodels.api as sm

from shallowchrome.model.errors import ModelError
from shallowchrome.model.estimator import ShallowChromeClassifier
from shallowchrome.model.labels import binarize, threshold_value
from shallowchrome.model.selection import (
    ALL_FOLDS,
    TEST,
    TRAIN,
    VALIDATION,
    Configuration,
    crossfit,
    crossfit_folds,
    interpretation_and_evaluation,
    random_splits,
    rank_auroc,
    resolve_configurations,
    validation_fold,
)


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    n = 3000
    X = rng.gamma(1.5, 8, size=(n, 3)) * (rng.random((n, 3)) < 0.6)
    logit = -0.5 + 0.12 * X[:, 0] - 0.07 * X[:, 1] + 0.0 * X[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def test_fit_equals_statsmodels_logit(data):
    X, y = data
    m = ShallowChromeClassifier().fit(X, y)
    ref = sm.Logit(y, sm.add_constant(X)).fit(disp=0)
    np.testing.assert_allclose(np.r_[m.intercept_, m.coef_], ref.params, atol=1e-8)
    np.testing.assert_allclose(m.se_, ref.bse, rtol=1e-6)
    np.testing.assert_allclose(m.pvalues_, ref.pvalues, rtol=1e-5, atol=1e-300)
    # the true zero weight is not significant, the others very much are
    assert m.pvalues_[3] > 1e-4 and m.pvalues_[1] < 1e-10 and m.pvalues_[2] < 1e-10


def test_logit_probability_and_contributions(data):
    X, y = data
    m = ShallowChromeClassifier().fit(X, y)
    psi = m.contributions(X)
    np.testing.assert_allclose(psi, X * m.coef_)
    np.testing.assert_allclose(m.decision_function(X), m.intercept_ + psi.sum(axis=1))
    p = m.predict_proba(X)[:, 1]
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-m.decision_function(X))))
    assert set(m.predict(X)) <= {0, 1}


def test_constant_feature_gives_nan_standard_error(data):
    X, y = data
    X = np.column_stack([X, np.zeros(len(X))])
    m = ShallowChromeClassifier().fit(X, y)
    assert np.isnan(m.se_).any()


def test_single_class_is_a_model_error():
    with pytest.raises(ModelError):
        ShallowChromeClassifier().fit(np.ones((10, 1)), np.zeros(10))


def test_median_threshold_uses_greater_or_equal():
    rpkm = np.array([0, 1, 2, 3, 4.0])
    t = threshold_value(rpkm, "median")
    assert t == 2.0
    assert binarize(rpkm, t).tolist() == [0, 0, 1, 1, 1]


def test_valley_threshold_sits_between_the_modes():
    rng = np.random.default_rng(0)
    # a low mode (with exact zeros) and a high mode in log2(RPKM + 1)
    low = np.r_[np.zeros(1500), 2 ** rng.normal(0.3, 0.3, 2500) - 1]
    high = 2 ** rng.normal(4.0, 1.0, 4000) - 1
    t = threshold_value(np.clip(np.r_[low, high], 0, None), "valley")
    assert 2 ** 1.0 - 1 < t < 2 ** 3.0 - 1
    with pytest.raises(ModelError, match="single mode"):
        threshold_value(2 ** rng.normal(4, 0.5, 3000), "valley")


def test_valley_threshold_on_real_remc_expression(remc):
    import pandas as pd

    rpkm = pd.read_csv(remc / "rpkm.56epigenomes.tsv.gz", sep="\t", usecols=["E066", "E100"])
    for eid in ("E066", "E100"):
        t = threshold_value(rpkm[eid].to_numpy(), "valley")
        assert 1.0 < t < 3.0, (eid, t)


def test_configurations_follow_the_available_files():
    # all six when both marks have the three formats
    three = ["narrowPeak", "broadPeak", "gappedPeak"]
    configs = resolve_configurations({"H3K4me3": three, "H3K27me3": three})
    assert [c.name for c in configs] == ["broadPeak/broadPeak", "narrowPeak/narrowPeak", "gappedPeak/gappedPeak",
                                         "broadPeak/narrowPeak", "gappedPeak/broadPeak", "gappedPeak/narrowPeak"]
    assert configs[3].format_of("H3K27me3") == "broadPeak" and configs[3].format_of("H3K4me3") == "narrowPeak"
    # only narrowPeak files (the REMC shared data): one configuration
    configs = resolve_configurations({"H3K4me3": ["narrowPeak"], "H3K27me3": ["narrowPeak"]})
    assert len(configs) == 1 and configs[0].name == "single"
    # a broad mark with two formats, a single-file DNase track: DNase is used by every configuration
    configs = resolve_configurations({"H3K27me3": ["narrowPeak", "broadPeak"], "DNase": ["bed"]})
    assert [c.name for c in configs] == ["broadPeak/broadPeak", "narrowPeak/narrowPeak"]
    assert all(c.format_of("DNase") == "bed" for c in configs)
    with pytest.raises(ModelError, match="no peak-format configuration"):
        resolve_configurations({"H3K4me3": ["bed", "bigBed"]})


def test_random_splits_have_benchmark_sizes_and_are_seeded():
    s = random_splits(19802, 10, seed=1)
    assert sorted(s) == list(range(11))
    for part in s.values():
        assert [(part == k).sum() for k in (TRAIN, VALIDATION, TEST)] == [6601, 6601, 6600]
    again = random_splits(19802, 10, seed=1)
    assert all((s[k] == again[k]).all() for k in s)
    assert not (random_splits(19802, 10, seed=2)[1] == s[1]).all()


def test_interpretation_split_is_zero_and_the_others_evaluate():
    assert interpretation_and_evaluation(range(11)) == (0, list(range(1, 11)))
    assert interpretation_and_evaluation(range(11), 3) == (0, [1, 2, 3])
    assert interpretation_and_evaluation([4, 5]) == (4, [5])
    assert interpretation_and_evaluation([0]) == (0, [0])


# --- cross-fitting ------------------------------------------------------------------------
def test_folds_are_stratified_seeded_and_cover_every_labelled_gene():
    rng = np.random.default_rng(0)
    y = (rng.random(1003) < 0.3).astype(np.int8)
    labelled = rng.random(1003) < 0.9
    folds = crossfit_folds(y, labelled, 10, seed=4)
    assert (folds[~labelled] == -1).all() and set(folds[labelled]) == set(range(10))
    sizes = np.bincount(folds[labelled])
    assert sizes.max() - sizes.min() <= 1  # balanced ...
    on = np.bincount(folds[labelled & (y == 1)], minlength=10)
    assert on.max() - on.min() <= 1  # ... and stratified by label
    assert (crossfit_folds(y, labelled, 10, seed=4) == folds).all()  # deterministic
    assert not (crossfit_folds(y, labelled, 10, seed=5) == folds).all()
    with pytest.raises(ModelError, match="at least 3 folds"):
        crossfit_folds(y, labelled, 2)
    with pytest.raises(ModelError, match="needs at least 10 ON and 10 OFF genes"):
        crossfit_folds(np.r_[np.ones(5), np.zeros(50)].astype(np.int8), np.ones(55, bool), 10)


def test_validation_folds_pair_up_and_never_are_the_fold_itself():
    assert [validation_fold(k, 10) for k in range(10)] == [1, 0, 3, 2, 5, 4, 7, 6, 9, 8]
    assert [validation_fold(k, 5) for k in range(5)] == [1, 0, 3, 2, 0]


def test_rank_auroc_is_roc_auc_score():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(2)
    for n in (12, 200, 5000):
        y = np.r_[0, 1, (rng.random(n - 2) < 0.4)].astype(int)
        score = np.round(rng.normal(size=n), 1)  # with ties
        assert rank_auroc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)


def test_crossfit_predicts_each_gene_with_the_model_that_held_it_out(data):
    X, y = data
    labelled = np.ones(len(y), bool)
    labelled[:50] = False  # "no expression": explained by the all model
    X2 = X * 1.5 + 0.3  # a second, noisier configuration
    configs = [Configuration("a/a", (("m", "a"),)), Configuration("b/b", (("m", "b"),))]
    cf = crossfit({"a/a": X, "b/b": X2}, configs, np.where(labelled, y, -1), labelled, n_folds=5, seed=1)
    assert [fm.fold for fm in cf.models] == [0, 1, 2, 3, 4, ALL_FOLDS]
    for fm in cf.models:
        rows = cf.folds == (-1 if fm.fold == ALL_FOLDS else fm.fold)
        train = labelled & (cf.folds != fm.fold) if fm.fold != ALL_FOLDS else labelled
        Xc = {"a/a": X, "b/b": X2}[fm.configuration.name]
        ref = ShallowChromeClassifier().fit(Xc[train], y[train])  # cold start, the fold's own training genes
        np.testing.assert_allclose(np.r_[fm.model.intercept_, fm.model.coef_], np.r_[ref.intercept_, ref.coef_],
                                   rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(cf.logit[rows], ref.decision_function(Xc[rows]), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(cf.contributions[rows], Xc[rows] * ref.coef_, rtol=1e-7, atol=1e-9)
        assert fm.n_train == train.sum() and not (train & rows & labelled).any()
        if fm.fold != ALL_FOLDS:
            assert fm.validation_fold == validation_fold(fm.fold, 5) and set(fm.validation_auroc) == {"a/a", "b/b"}
    assert (cf.folds[:50] == -1).all()
    assert 0.5 < cf.metrics["auroc"] <= 1
    again = crossfit({"a/a": X, "b/b": X2}, configs, np.where(labelled, y, -1), labelled, n_folds=5, seed=1)
    assert (again.logit == cf.logit).all()  # deterministic, to the bit


def test_warm_start_reaches_the_same_optimum_in_fewer_iterations(data):
    import copy

    X, y = data
    full = ShallowChromeClassifier(warm_start=True).fit(X, y)
    cold = ShallowChromeClassifier().fit(X[100:], y[100:])
    warm = copy.deepcopy(full).fit(X[100:], y[100:])
    np.testing.assert_allclose(np.r_[warm.intercept_, warm.coef_], np.r_[cold.intercept_, cold.coef_], rtol=1e-8)
    assert warm.n_iter_ < cold.n_iter_
    # a warm start with another number of features, or another pair of classes, starts cold
    assert ShallowChromeClassifier(warm_start=True).fit(X, y).fit(X[:, :2], y).coef_.shape == (2,)
