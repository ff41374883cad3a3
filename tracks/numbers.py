"""Numbers as a scientist reads them, the same on every page, in the CLI and in JSON.

- :func:`num`: a measured or fitted value with ``digits`` decimals (AUROC 0.834, ψ +0.97 with
  ``signed``); never ``-0.00`` (a value that rounds to zero is ``0.00``); NaN/None/inf → ``NA``.
- :func:`sig`: ``digits`` significant digits (weights, RPKM, features: 2.39, 0.0123, 1.2e-05); a value of
  ``10**digits`` or more is written in full with thousands separators (``102,156``, never ``1.02e+05``).
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


def finite(value) -> float | None:
    """``value`` as a finite float; None when it is missing, not a number (text included) or infinite."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def num(value, digits: int = 2, signed: bool = False) -> str:
    """``value`` with ``digits`` decimals; ``signed`` puts ``+`` before positive values."""
    x = finite(value)
    if x is None:
        return NA
    text = f"{x:{'+' if signed else ''}.{digits}f}"
    if float(text) == 0:  # -0.00 and +0.00 read as 0.00
        text = f"{0:.{digits}f}"
    return text


def sig(value, digits: int = 3, signed: bool = False) -> str:
    """``value`` with ``digits`` significant digits (``%g``); no ``-0``; ``signed`` puts ``+`` before
    positive values (weights: ``+0.133``, ``-0.00768``)."""
    x = finite(value)
    if x is None:
        return NA
    text = f"{x:{'+' if signed else ''}.{digits}g}"
    if abs(float(text)) >= 10 ** digits:  # 102,156 (RPKM), not 1.02e+05: the integer part in full, as count()
        return f"{x:{'+' if signed else ''},.0f}"
    return "0" if float(text) == 0 else text


def pvalue(value) -> str:
    """A p-value: 3 significant digits, ``< 1e-300`` when it underflowed."""
    x = finite(value)
    if x is None:
        return NA
    if x < P_FLOOR:
        return f"< {P_FLOOR:.0e}".replace("e-0", "e-")
    return f"{x:.3g}"


def p_clause(value, name: str = "p") -> str:
    """``p = 0.0123``, ``p < 1e-300`` (underflowed), ``p = NA``: a p-value in a sentence."""
    text = pvalue(value)
    return f"{name} {text}" if text.startswith("<") else f"{name} = {text}"


def count(value) -> str:
    """An integer count with thousands separators."""
    x = finite(value)
    return NA if x is None else f"{int(round(x)):,}"


def json_number(value, digits: int = 10):
    """A JSON-ready float: ``digits`` significant digits, no ``-0.0``, ``None`` when not finite."""
    x = finite(value)
    if x is None:
        return None
    x = float(f"{x:.{digits}g}")
    return 0.0 if x == 0 else x


def strand(value) -> str:
    """``+`` or ``-``; an unknown strand (``.``, empty, None) is ``""``."""
    return value if value in ("+", "-") else ""


def data_value(value) -> str:
    """A number for a machine-read HTML attribute (``data-value`` of sortable tables): the float in full
    (sorting keeps every digit), ``""`` when missing or not finite; never ``-0.0``, never ``None``."""
    x = finite(value)
    return "" if x is None else repr(x + 0.0)


def tidy(doc):
    """``doc`` (dicts, lists, tuples, numbers, numpy scalars) with every float made :func:`json_number`
    (10 significant digits, no ``-0.0``, ``None`` when not finite); ints, bools and strings unchanged."""
    if isinstance(doc, dict):
        return {k: tidy(v) for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [tidy(v) for v in doc]
    if isinstance(doc, bool) or doc is None or isinstance(doc, (str, int)):
        return doc
    if isinstance(doc, float):
        return json_number(doc)
    kind = getattr(doc, "dtype", None)
    if kind is not None and getattr(doc, "shape", None) == ():  # a numpy scalar
        if kind.kind == "f":
            return json_number(float(doc))
        if kind.kind in "iu":
            return int(doc)
        if kind.kind == "b":
            return bool(doc)
    return doc


def no_negative_zero(frame):
    """A copy of a pandas table whose float columns have no ``-0.0`` (a TSV would print ``-0``)."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype.kind == "f":
            frame[column] = frame[column] + 0.0
    return frame


def top_mark(contributions: dict) -> str | None:
    """The mark with the largest non-zero absolute contribution; None when every contribution is 0 or
    missing (no peak at all: no mark drives the prediction, pages print "none")."""
    known = {m: abs(x) for m, v in contributions.items() if (x := finite(v))}
    return max(known, key=known.get) if known else None


#: Jinja filters (registered in :mod:`shallowchrome.templates`): ``{{ x|num }}``, ``{{ x|num(3) }}``,
#: ``{{ p|pvalue }}``, ``{{ n|count }}``, ``{{ s|strand }}``, ``{{ x|sig }}``, ``{{ x|data_value }}``.
FILTERS = {"num": num, "sig": sig, "pvalue": pvalue, "count": count, "strand": strand, "data_value": data_value,
           "p_clause": p_clause}
