"""Numbers as a scientist reads them, the same on every page, in the CLI and in JSON.

- :func:`num`: a measured or fitted value with ``digits`` decimals (AUROC 0.834, ψ +0.97 with
  ``signed``); never ``-0.00`` (a value that rounds to zero is ``0.00``); NaN/None/inf → ``NA``.
- :func:`sig`: ``digits`` significant digits for values of any size (weights, RPKM: 2.39, 0.0123,
  1.2e+04 → ``12,300`` style is :func:`count`'s job).
- :func:`pvalue`: 3 significant digits (``0.0123``, ``2.1e-201``); a p-value that underflowed to 0
  is ``< 1e-300`` (the smallest double the Wald test resolves), not ``0``.
- :func:`count`: an integer with thousands separators (``102,156``).
- :func:`json_number`: a float for JSON documents, rounded to 10 significant digits so binary
  noise (``2.3920000000000003``) does not show, ``-0.0`` → ``0.0``, non-finite → ``None``.
- :func:`strand`: ``+``/``-``, and ``""`` for an unknown strand (``.``), which pages do not print.
"""
from __future__ import annotations

import math

NA = "NA"
#: Below this a p-value is printed as "< P_FLOOR" (0 means it underflowed).
P_FLOOR = 1e-300


def _finite(value) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def num(value, digits: int = 2, signed: bool = False) -> str:
    """``value`` with ``digits`` decimals; ``signed`` puts ``+`` before positive values."""
    x = _finite(value)
    if x is None:
        return NA
    text = f"{x:{'+' if signed else ''}.{digits}f}"
    if float(text) == 0:  # -0.00 and +0.00 read as 0.00
        text = f"{0:.{digits}f}"
    return text


def sig(value, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits (``%g``); no ``-0``."""
    x = _finite(value)
    if x is None:
        return NA
    text = f"{x:.{digits}g}"
    return "0" if float(text) == 0 else text


def pvalue(value) -> str:
    """A p-value: 3 significant digits, ``< 1e-300`` when it underflowed."""
    x = _finite(value)
    if x is None:
        return NA
    if x < P_FLOOR:
        return f"< {P_FLOOR:.0e}".replace("e-0", "e-")
    return f"{x:.3g}"


def count(value) -> str:
    """An integer count with thousands separators."""
    x = _finite(value)
    return NA if x is None else f"{int(round(x)):,}"


def json_number(value, digits: int = 10):
    """A JSON-ready float: ``digits`` significant digits, no ``-0.0``, ``None`` when not finite."""
    x = _finite(value)
    if x is None:
        return None
    x = float(f"{x:.{digits}g}")
    return 0.0 if x == 0 else x


def strand(value) -> str:
    """``+`` or ``-``; an unknown strand (``.``, empty, None) is ``""``."""
    return value if value in ("+", "-") else ""


#: Jinja filters (registered in :mod:`shallowchrome.templates`): ``{{ x|num }}``, ``{{ x|num(3) }}``,
#: ``{{ p|pvalue }}``, ``{{ n|count }}``, ``{{ s|strand }}``, ``{{ x|sig }}``.
FILTERS = {"num": num, "sig": sig, "pvalue": pvalue, "count": count, "strand": strand}
