"""ShallowChromeClassifier against scikit-learn's estimator checks, and the error family it raises."""
import pickle

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from shallowchrome.model.errors import InputError, ModelError, ShallowChromeError
from shallowchrome.model.estimator import ShallowChromeClassifier


# Every check applies to an unpenalised binary logistic regression; the binary-only
# limitation is declared with tags.classifier_tags.multi_class = False, so no check is waived.
@parametrize_with_checks([ShallowChromeClassifier()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X @ [1.0, -2.0, 0.5] + rng.normal(size=60) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function", "contributions"])
def test_not_fitted_error_before_fit(method, data):
    with pytest.raises(NotFittedError):
        getattr(ShallowChromeClassifier(), method)(data[0])


def test_failed_fit_leaves_the_estimator_unfitted():
    m = ShallowChromeClassifier()
    with pytest.raises(ModelError):
        m.fit(np.ones((10, 2)), np.zeros(10))
    with pytest.raises(NotFittedError):
        m.predict(np.ones((3, 2)))


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function", "contributions"])
def test_wrong_feature_count_is_a_value_error(method, data):
    X, y = data
    m = ShallowChromeClassifier().fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but ShallowChromeClassifier is expecting 3"):
        getattr(m, method)(X[:, :2])


def test_one_class_is_a_model_error_and_a_value_error():
    with pytest.raises(ModelError, match="two classes, got 1 class") as info:
        ShallowChromeClassifier().fit(np.ones((10, 1)), np.zeros(10))
    assert isinstance(info.value, ValueError) and isinstance(info.value, ShallowChromeError)
    assert info.value.fix


def test_more_than_two_classes_is_a_model_error(data):
    X, _ = data
    with pytest.raises(ModelError, match="Only binary classification is supported"):
        ShallowChromeClassifier().fit(X, np.arange(len(X)) % 3)


def test_continuous_target_is_rejected(data):
    X, _ = data
    with pytest.raises(ValueError, match="Unknown label type"):
        ShallowChromeClassifier().fit(X, np.linspace(0, 1, len(X)))


def test_string_labels_map_to_classes(data):
    X, y = data
    labels = np.where(y == 1, "ON", "OFF")
    m = ShallowChromeClassifier().fit(X, labels)
    assert list(m.classes_) == ["OFF", "ON"]
    numeric = ShallowChromeClassifier().fit(X, y)
    np.testing.assert_array_equal(m.coef_, numeric.coef_)
    np.testing.assert_array_equal(m.predict(X), np.where(numeric.predict(X) == 1, "ON", "OFF"))


def test_error_rendering_with_and_without_fix():
    assert str(ShallowChromeError("bad")) == "bad"
    assert str(ShallowChromeError("bad", fix="do this")) == "bad; fix: do this"
    e = ModelError("one class", fix="more genes")
    assert (e.detail, e.fix, str(e)) == ("one class", "more genes", "one class; fix: more genes")
    assert str(ModelError("one class")) == "one class" and ModelError("one class").fix is None
    assert str(InputError("genes.tsv", "bad row", line=12, fix="repair it")) == "genes.tsv:12: bad row; fix: repair it"
    assert str(InputError("genes.tsv", "bad row")) == "genes.tsv: bad row"
    assert str(InputError(None, "bad row", fix="repair it")) == "bad row; fix: repair it"


def test_one_argument_subclass_still_works():
    class Custom(ShallowChromeError):
        def __init__(self, query, message):
            super().__init__(message)
            self.query = query

    e = Custom("ALB", "no such gene")
    assert (str(e), e.detail, e.fix, e.query) == ("no such gene", "no such gene", None, "ALB")


@pytest.mark.parametrize("error", [
    ShallowChromeError("bad", fix="do this"),
    ModelError("one class", fix="more genes"),
    ModelError("no fix"),
    InputError("genes.tsv", "bad row", line=12, fix="repair it"),
    InputError("genes.tsv", "bad row"),
])
def test_errors_pickle_with_their_fix(error):
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert (str(back), back.detail, back.fix, back.args) == (str(error), error.detail, error.fix, error.args)
    if isinstance(error, InputError):
        assert (back.source, back.line) == (error.source, error.line)
