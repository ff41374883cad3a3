"""Hub files, tracks and workspace downloads.

Range requests (206 + Content-Range), HEAD, ETag/If-None-Match and
Last-Modified come from Flask's ``send_file(conditional=True)``; Flask
answers OPTIONS preflights itself. Every response carries CORS headers so igv.js on another origin can read the
tracks, and binary tracks are never compressed. Only regular files inside the
workspace are served: path traversal, absolute paths, hidden files (e.g. the
temporary files of atomic writes) and symlinks that resolve outside the
workspace answer 404.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Blueprint, abort, send_file

from .app import data

bp = Blueprint("files", __name__)

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Range, If-None-Match, If-Modified-Since",
    "Access-Control-Expose-Headers": "Content-Length, Content-Range, Accept-Ranges, ETag",
}
_TYPES = {".bb": "application/octet-stream", ".bw": "application/octet-stream", ".tbi": "application/octet-stream",
          ".gz": "application/octet-stream", ".as": "text/plain", ".bed": "text/plain", ".tsv": "text/tab-separated-values",
          ".txt": "text/plain", ".sizes": "text/plain", ".json": "application/json", ".xml": "application/xml"}


def resolve_inside(root: Path, relative: str) -> Path:
    """The regular file ``root/relative``, or 404 when it is not one, or not inside ``root``."""
    root = root.resolve()
    if not relative or relative.startswith(("/", "\\")) or "\\" in relative or "\x00" in relative:
        abort(404)
    parts = Path(relative).parts
    if any(p in ("..", ".") or p.startswith(".") for p in parts):
        abort(404)
    path = (root / relative).resolve()
    if root not in path.parents or not path.is_file():
        abort(404)
    return path


def send_workspace_file(root: Path, relative: str):
    path = resolve_inside(root, relative)
    mimetype = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = send_file(path, mimetype=mimetype, conditional=True, etag=True, max_age=0)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.after_app_request
def add_cors(response):
    for key, value in CORS_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


@bp.route("/hub/<path:relative>", methods=["GET", "HEAD"])
def hub_file(relative):
    """Files of the track hub (hub.txt, genomes.txt, trackDb.txt, bigBed/bigWig tracks, descriptions)."""
    return send_workspace_file(data().ws.root / "hub", relative)


@bp.route("/files/<path:relative>", methods=["GET", "HEAD"])
def workspace_file(relative):
    """Any other file of the workspace (evaluation.tsv, predictions.tsv, model.json, charts)."""
    return send_workspace_file(data().ws.root, relative)


@bp.route("/genome/<genome>.chrom.sizes", methods=["GET", "HEAD"])
def chrom_sizes(genome):
    """Chromosome sizes for igv.js's sequence-less genome: the hub's copy, else the packaged table."""
    hub_copy = data().ws.root / "hub" / genome / "chrom.sizes"
    if hub_copy.is_file():
        return send_workspace_file(data().ws.root / "hub", f"{genome}/chrom.sizes")
    from importlib import resources

    packaged = resources.files("shallowchrome.tracks").joinpath("data", f"{genome}.chrom.sizes")
    if not packaged.is_file():
        abort(404)
    return send_file(str(packaged), mimetype="text/plain", conditional=True, max_age=0)

