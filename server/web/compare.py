"""Two epigenomes compared: why is a gene ON in A but OFF in B? (:mod:`shallowchrome.tracks.analysis.compare`)

- ``/compare?a=E066&b=E100[&top=25]``: pickers, the genome-wide numbers, the scatter of Δlogit against the
  measured Δ log-expression (inline SVG, made here) and a sortable table of the top genes each way, linked
  to their gene pages. Without ``a`` and ``b``: the pickers alone. A missing, unknown or repeated
  epigenome is a 400 page saying which epigenomes the workspace has.
- ``/compare.tsv?a=&b=``: every gene (the ``shallowchrome compare --out`` table); ``/compare.svg?a=&b=``:
  the chart alone.
- ``/api/compare?a=&b=[&limit=10]``: JSON (the sides, the marks, the summary, the top ``limit`` genes each
  way); errors are JSON 400.

Comparisons are made from the served generation's predictions (the columns the server holds in memory,
the same values as predictions.tsv) and kept (at most :data:`COMPARISONS` per generation); a new generation
starts afresh. The home page's form (:func:`default_pair`, :func:`choices`) and the gene pages' "why ON in A
but OFF in B?" (:func:`comparison`) use them too.
"""
from __future__ import annotations

import threading
import weakref

from flask import Blueprint, current_app, jsonify, render_template, request
from markupsafe import Markup

from shallowchrome.model.errors import InputError, ShallowChromeError
from shallowchrome.server.web.state import BoundedCache, data, public_message

bp = Blueprint("compare", __name__)

#: Comparisons kept in memory per served generation (a 20,000-gene comparison is ~5 MB).
COMPARISONS = 16
#: Genes each way: the page's default and largest ``top``; the API's default and largest ``limit``.
PAGE_TOP, PAGE_MAX = 25, 500
API_LIMIT, API_MAX = 10, 1000
#: Epigenomes preselected by the pickers when the workspace has them (the README's example).
DEFAULT_PAIR = ("E066", "E100")

_caches: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


class CompareError(Exception):
    """A bad request: ``status`` and a message for the user (no server path)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _integer(name: str, default: int, largest: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not 1 <= value <= largest:
        shown = raw if len(raw) <= 20 else raw[:20] + "…"
        raise CompareError(400, f"{name} must be an integer between 1 and {largest}, got {shown!r}")
    return value


def comparison(a, b):
    """The served workspace's comparison of ``a`` with ``b`` (cached); bad epigenomes are a 400."""
    from shallowchrome.tracks.analysis.compare import Side, check_pair, compare_frames, tissue_of

    d = data()
    try:
        a, b = check_pair(d.epigenomes, a, b)
    except InputError as exc:
        raise CompareError(400, exc.detail + (f"; {exc.fix}" if exc.fix else "")) from None
    with _lock:
        cache = _caches.get(d)
        if cache is None:
            cache = _caches[d] = BoundedCache(COMPARISONS)
    found = cache.get((a, b))
    if found is None:
        try:
            sides = [Side(e, tissue_of(d.ws, e), tuple(d.models[e]["marks"])) for e in (a, b)]
            found = compare_frames(d.genes, _predictions(d, a), _predictions(d, b), *sides, where=d.ws.root)
        except ShallowChromeError as exc:  # the workspace's files disagree: the server's problem
            raise CompareError(500, public_message(exc)) from None
        cache[(a, b)] = found
    return found


def _predictions(d, eid: str):
    """The columns of an epigenome's predictions.tsv that a comparison reads, from the served data already in
    memory (what :func:`~shallowchrome.tracks.analysis.compare.compare` reads from the file: the same
    comparison, without reading two files per new pair)."""
    import numpy as np
    import pandas as pd

    col = d.columns[eid]

    def floats(values):
        return np.asarray(values, dtype=np.float64)

    label = np.array([np.nan if v is None else v for v in col["label"]], dtype=np.float64)
    return pd.DataFrame({"logit": floats(col["logit"]), "probability": floats(col["probability"]),
                         "predicted": floats(col["predicted"]), "rpkm": floats(col["rpkm"]), "label": label,
                         "part": np.asarray(col["part"], dtype=object),
                         **{f"contrib_{m}": floats(v) for m, v in col["contributions"].items()}})


def _pair_args():
    return request.args.get("a", ""), request.args.get("b", "")


def default_pair(epigenomes) -> tuple[str, str]:
    """The pickers' preselected A and B: :data:`DEFAULT_PAIR` when the workspace has both, else its first two
    epigenomes ("" for a missing one)."""
    epigenomes = list(epigenomes)
    if all(e in epigenomes for e in DEFAULT_PAIR):
        return DEFAULT_PAIR
    return (epigenomes + ["", ""])[0], (epigenomes[1:] + [""])[0]


def choices(d) -> list[dict]:
    """The pickers' options: every fitted epigenome with its tissue (the compare, home and gene pages)."""
    return [{"id": e, "tissue": (d.tissue(e) or "").replace("_", " ")} for e in d.epigenomes]


@bp.get("/compare")
def page():
    """Pickers; with ``a`` and ``b``: the summary, the scatter and the table of the top genes each way."""
    from shallowchrome.tracks.analysis import compare as cmp

    d = data()
    a, b = _pair_args()
    context = {"choices": choices(d), "a": a, "b": b, "top": PAGE_TOP, "c": None, "error": None,
               "fmt": {"signed": cmp.signed, "plain": cmp.plain, "probability": cmp.probability}}
    if not a.strip() and not b.strip() and "top" not in request.args:
        context["a"], context["b"] = default_pair(d.epigenomes)
        if len(d.epigenomes) < 2:
            context["error"] = (f"comparing needs two fitted epigenomes; this workspace has "
                                f"{', '.join(d.epigenomes) or 'none'}")
        return render_template("site/compare.html", **context)
    try:
        top = context["top"] = _integer("top", PAGE_TOP, PAGE_MAX)
        c = comparison(a, b)
    except CompareError as exc:
        context["error"] = exc.message
        return render_template("site/compare.html", **context), exc.status
    rows = [*c.records(c.top(top, cmp.MORE_ON_IN_A)), *reversed(c.records(c.top(top, cmp.MORE_ON_IN_B)))]
    svg = Markup(cmp.scatter_svg(c, highlight=min(top, 25)))  # every user text in it is escaped
    context.update(a=c.a.eid, b=c.b.eid, c=c, rows=rows, summary=c.summary(), svg=svg,
                   notes=[c.term_note(m) for m in [*c.only_a, *c.only_b]])
    return render_template("site/compare.html", **context)


def _plain_error(exc: CompareError):
    return current_app.response_class(exc.message + "\n", status=exc.status, mimetype="text/plain")


@bp.get("/compare.tsv")
def table():
    """Every gene of the comparison, ranked (the columns of ``shallowchrome compare --out``)."""
    from shallowchrome.tracks.analysis.compare import comparison_bytes

    try:
        c = comparison(*_pair_args())
    except CompareError as exc:
        return _plain_error(exc)
    name = f"compare_{c.a.eid}_vs_{c.b.eid}.tsv"
    return current_app.response_class(comparison_bytes(c), mimetype="text/tab-separated-values",
                                      headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/compare.svg")
def chart():
    """The comparison's scatter as an SVG file."""
    from shallowchrome.tracks.analysis.compare import scatter_svg

    try:
        top = _integer("top", PAGE_TOP, PAGE_MAX)
        c = comparison(*_pair_args())
    except CompareError as exc:
        return _plain_error(exc)
    svg = '<?xml version="1.0" encoding="UTF-8"?>\n' + scatter_svg(c, highlight=min(top, 25))
    return current_app.response_class(svg, mimetype="image/svg+xml")


@bp.get("/api/compare")
def api():
    """JSON: the two sides, the marks, the genome-wide summary and the top ``limit`` genes each way."""
    try:
        limit = _integer("limit", API_LIMIT, API_MAX)
        c = comparison(*_pair_args())
    except CompareError as exc:
        return jsonify({"error": {"status": exc.status, "message": exc.message}}), exc.status
    return jsonify({"limit": limit, **c.document(limit)})
