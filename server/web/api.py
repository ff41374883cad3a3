"""The JSON API. Errors are JSON too: ``{"error": {"status": 404, "message": "..."}}``."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException

from shallowchrome.server.web.security import public_url
from shallowchrome.server.web.state import data, public_message
from shallowchrome.tracks.workspace.layout import UnknownGeneError

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_LIMIT = 100


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra):
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return jsonify({"error": {"status": exc.status, "message": exc.message, **exc.extra}}), exc.status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return jsonify({"error": {"status": exc.code, "message": exc.description}}), exc.code


def _gene_rows(query: str) -> list[int]:
    try:
        return data().ws.find_gene_rows(query)
    except UnknownGeneError as exc:
        raise ApiError(404, public_message(exc), suggestions=exc.suggestions) from None


def _epigenome(eid: str) -> str:
    if eid not in data().epigenomes:
        known = ", ".join(data().epigenomes)
        raise ApiError(404, f"unknown or unfitted epigenome {eid!r}; known: {known}")
    return eid


@bp.get("/epigenomes")
def epigenomes():
    """Every epigenome of the build with its status, marks and test metrics."""
    return jsonify({"epigenomes": data().epigenome_summaries()})


@bp.get("/epigenomes/<eid>/model")
def model(eid):
    """The epigenome's model.json: weights, bias, standard errors, p-values, configuration, per-split metrics."""
    return jsonify(data().models[_epigenome(eid)])


@bp.get("/genes")
def genes():
    """Genes whose symbol or Ensembl id starts with ``q``."""
    q = request.args.get("q", "").strip()
    if not q:
        raise ApiError(400, "parameter q (a gene symbol or Ensembl id prefix) is required")
    raw_limit = request.args.get("limit", "10")
    try:
        limit = int(raw_limit)
    except ValueError:
        raise ApiError(400, f"limit must be an integer between 1 and {MAX_LIMIT}, got {raw_limit!r}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"limit must be an integer between 1 and {MAX_LIMIT}, got {limit}")
    hits = data().ws.suggest_genes(q, limit)
    return jsonify({"query": q, "genes": [data().gene_record(int(r)) for r in hits["row"]]})


@bp.get("/genes/<path:query>")
def gene(query):
    """Per epigenome: features, contributions, logit, probability, p-values and label of a gene."""
    rows = _gene_rows(query)
    return jsonify({"query": query, "matches": [data().payload(r) for r in rows]})


@bp.get("/locus")
def locus():
    """igv.js search service: the TSS window of a gene (0-based start)."""
    q = request.args.get("q", "").strip()
    if not q:
        raise ApiError(400, "parameter q is required")
    if request.args.get("missing") == "empty":  # igv.js: an unknown name is an empty answer, not an error
        try:
            rows = data().ws.find_gene_rows(q)
        except UnknownGeneError:
            return jsonify([])
    else:
        rows = _gene_rows(q)
    out = []
    for r in rows:
        g = data().gene_record(r)
        w = int(data().info["parameters"]["window"])
        out.append({"chromosome": g["chrom"], "start": max(0, g["tss"] - w), "end": g["tss"] + w,
                    "gene": g["symbol"] or g["gene_id"]})
    return jsonify(out)


@bp.get("/openapi.json")
def openapi():
    """This API's OpenAPI 3 description."""
    from shallowchrome.server.web.openapi import document

    return jsonify(document(public_url().rstrip("/")))
