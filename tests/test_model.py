"""The estimator, Wald statistics, labels, configurations and splits."""
import numpy as np
import pytest
import statsmodels.api as sm

from shallowchrome.model.errors import ModelError
from shallowchrome.model.estimator import ShallowChromeClassifier
from shallowchrome.model.labels import binarize, threshold_value
from shallowchrome.model.selection import (TEST, TRAIN, VALIDATION, interpretation_and_evaluation,
                                           random_splits, resolve_configurations)


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
