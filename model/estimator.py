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
from sklearn.utils.validation import check_is_fitted, check_X_y, check_array

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

    Fitted attributes
    -----------------
    coef_ : (n_features,) weights w
    intercept_ : float, the bias b
    se_, z_, pvalues_ : (n_features + 1,) Wald statistics for [bias, *w]
    classes_ : the two labels
    """

    def __init__(self, max_iter: int = 200, tol: float = 1e-10):
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X, y):
        X, y = check_X_y(X, y, dtype=np.float64)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ModelError(f"labels must have two classes, got {len(self.classes_)}")
        lr = LogisticRegression(C=np.inf, solver="newton-cholesky", max_iter=self.max_iter, tol=self.tol)
        with warnings.catch_warnings():
            # A constant feature makes the Hessian singular: sklearn falls back to lbfgs
            # and the Wald statistics below report NaN for it.
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", LinAlgWarning)
            lr.fit(X, y)
        self.coef_ = lr.coef_[0].copy()
        self.intercept_ = float(lr.intercept_[0])
        self.n_features_in_ = X.shape[1]
        self.n_iter_ = int(lr.n_iter_[0])
        self.se_, self.z_, self.pvalues_ = wald_statistics(X, self.coef_, self.intercept_)
        return self

    def decision_function(self, X):
        """The logit y = b + Σ w·φ."""
        check_is_fitted(self)
        X = check_array(X, dtype=np.float64)
        return self.intercept_ + X @ self.coef_

    def predict_proba(self, X):
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    def contributions(self, X):
        """The regulative pattern ψ = φ ⊙ w, one column per feature."""
        check_is_fitted(self)
        return check_array(X, dtype=np.float64) * self.coef_


def finite_or_none(value):
    """JSON-friendly float: NaN and infinities become None."""
    value = float(value)
    return value if math.isfinite(value) else None
