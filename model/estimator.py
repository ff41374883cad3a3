"""The ShallowChrome estimator: an unpenalised logistic regression with Wald statistics.

Follows scikit-learn conventions: ``__init__`` only stores parameters, fitted
attributes end in ``_``. The fit is ``LogisticRegression(C=np.inf)`` with the
Newton-Cholesky solver, which converges to the maximum-likelihood estimate
(the same numbers as statsmodels ``Logit``, to ~1e-10). Standard errors come
from the inverse Fisher information at the optimum (Wald Z-test), as in
statsmodels.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.linalg import LinAlgWarning
from scipy.special import expit, ndtr
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from .errors import ModelError


def wald_statistics(X: np.ndarray, coef: np.ndarray, intercept: float):
    """Standard errors, z scores and two-sided p-values of ``[intercept, *coef]``.

    Covariance = (X1ᵀ W X1)⁻¹ with X1 = [1, X] and W = diag(p(1-p)). Where the
    information matrix is singular (e.g. a feature that is constant zero) the
    affected entries are NaN.
    """
    X1 = np.column_stack([np.ones(len(X)), X])
    p = expit(X1 @ np.r_[intercept, coef])
    info = (X1 * (p * (1 - p))[:, None]).T @ X1
    try:
        if np.linalg.cond(info) > 1e14:
            raise np.linalg.LinAlgError
        cov = np.linalg.inv(info)
        se = np.sqrt(np.diag(cov))
    except np.linalg.LinAlgError:
        se = np.full(X1.shape[1], np.nan)
    params = np.r_[intercept, coef]
    with np.errstate(invalid="ignore", divide="ignore"):
        z = params / se
    pvals = 2 * ndtr(-np.abs(z))
    return se, z, pvals


class ShallowChromeClassifier(ClassifierMixin, BaseEstimator):
    """Unpenalised logistic regression over per-mark features, with Wald tests.

    Parameters
    ----------
    max_iter : int
        Newton iterations allowed.
    tol : float
        Solver tolerance.
    warm_start : bool
        Start Newton from this estimator's previous solution (scikit-learn's
        convention: fit once, then ``copy.deepcopy`` or refit the same
        instance on nearby data, e.g. cross-fitting folds). The optimum is
        the same maximum-likelihood estimate (to the solver's tolerance); it
        takes fewer iterations.

    Fitted attributes
    -----------------
    coef_ : (n_features,) weights w
    intercept_ : float, the bias b
    se_, z_, pvalues_ : (n_features + 1,) Wald statistics for [bias, *w]
    classes_ : the two labels (``np.unique(y)``); ``decision_function`` > 0 means ``classes_[1]``
    n_features_in_, feature_names_in_ : set by scikit-learn's ``validate_data``
    n_iter_ : solver iterations
    """

    def __init__(self, max_iter: int = 200, tol: float = 1e-10, warm_start: bool = False):
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Two classes only: a multiclass y is a ModelError (a ValueError), never a one-vs-rest fit.
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X, y):
        """Fit the maximum-likelihood weights and their Wald statistics.

        Raises :class:`ModelError` (a ``ValueError``) unless ``y`` holds
        exactly two classes.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y")
        if y_type != "binary":
            raise ModelError(f"Only binary classification is supported. The type of the target is {y_type} "
                             f"({len(np.unique(y))} classes)",
                             fix="give ON/OFF labels (two classes)")
        classes = np.unique(y)
        if len(classes) != 2:
            raise ModelError(f"labels must have two classes, got 1 class (every label is {classes[0]})",
                             fix="give samples of both classes")
        lr = LogisticRegression(C=np.inf, solver="newton-cholesky", max_iter=self.max_iter, tol=self.tol,
                                warm_start=self.warm_start)
        if self.warm_start and getattr(self, "coef_", None) is not None and len(self.coef_) == X.shape[1] \
                and np.array_equal(getattr(self, "classes_", None), classes):
            lr.coef_ = self.coef_[None, :].copy()
            lr.intercept_ = np.array([self.intercept_])
        with warnings.catch_warnings():
            # A constant feature makes the Hessian singular: sklearn falls back to lbfgs
            # and the Wald statistics below report NaN for it.
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", LinAlgWarning)
            lr.fit(X, y)
        self.classes_ = classes
        self.coef_ = lr.coef_[0].copy()
        self.intercept_ = float(lr.intercept_[0])
        self.n_iter_ = int(lr.n_iter_[0])
        self.se_, self.z_, self.pvalues_ = wald_statistics(X, self.coef_, self.intercept_)
        return self

    def __sklearn_is_fitted__(self):
        # Not fitted until the weights exist: a fit that raised ModelError leaves n_features_in_ behind.
        return hasattr(self, "coef_")

    def _features(self, X):
        """``X`` as float64, checked against the fit: NotFittedError before fit, ValueError on a feature mismatch."""
        check_is_fitted(self)
        return validate_data(self, X, dtype=np.float64, reset=False)

    def decision_function(self, X):
        """The logit y = b + Σ w·φ; positive for ``classes_[1]``."""
        X = self._features(X)
        return self.intercept_ + X @ self.coef_

    def predict_proba(self, X):
        """Probabilities of ``classes_[0]`` and ``classes_[1]``, one row per sample."""
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        """``classes_[1]`` where the logit is positive, else ``classes_[0]``."""
        positive = self.decision_function(X) > 0  # checks the fit before classes_ is read
        return self.classes_[positive.astype(int)]

    def contributions(self, X):
        """The regulative pattern ψ = φ ⊙ w, one column per feature."""
        return self._features(X) * self.coef_


def finite_or_none(value):
    """The one JSON-safe float: None, missing (NaN, pandas NA) and infinities become None; numpy scalars a float."""
    if value is None:
        return None
    try:
        value = float(value)
    except TypeError:  # pandas.NA and other missing markers
        return None
    return value if math.isfinite(value) else None
