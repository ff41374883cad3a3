"""Hub files, tracks and workspace downloads.

Range requests (206 + Content-Range), HEAD, ETag/If-None-Match/If-Range and
Last-Modified: single ranges are read with one ``os.pread``, everything else
goes through Flask's ``send_file(conditional=True)``; Flask answers OPTIONS
preflights itself. Every response carries CORS headers so igv.js on another origin can read the
tracks, and binary tracks are never compressed. Only regular files inside the
workspace are served: path traversal, absolute paths, hidden files (e.g. the
temporary files of atomic writes) and symlinks that resolve outside the
workspace answer 404.
"""
from __future__ import annotations

import mimetypes
import os
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, abort, current_app, request, send_file

from shallowchrome.server.web.state import data
from shallowchrome.tracks.io.chromsizes import packaged_path
from shallowchrome.tracks.io.names import is_name

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
    path = _resolve(str(root), relative)
    if path is None or not path.is_file():
        abort(404)
    return path


@lru_cache(maxsize=4096)
def _resolve(root: str, relative: str) -> Path | None:
    """``root/relative`` with symlinks resolved, or None when it escapes ``root`` (cached: a realpath costs
    a system call per path component, and the hub's files are few)."""
    base = Path(root).resolve()
    if not relative or relative.startswith(("/", "\\")) or "\\" in relative or "\x00" in relative:
        return None
    if any(p in ("..", ".") or p.startswith(".") for p in Path(relative).parts):
        return None
    path = (base / relative).resolve()
    return path if base in path.parents else None


def send_workspace_file(root: Path, relative: str):
    """A workspace file with conditional and Range support.

    A single satisfiable byte range (what igv.js and UCSC send for bigBed and
    bigWig) is answered 206 from one ``os.pread``; anything else goes through
    Flask's ``send_file`` with the same ETag.
    """
    path = resolve_inside(root, relative)
    st = path.stat()
    etag = f"{st.st_mtime_ns:x}-{st.st_size:x}"
    mimetype = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    ranges = request.range
    if request.if_none_match.contains(etag):  # RFC 9110 §13.2.2: before Range, also for ranged requests
        response = current_app.response_class(status=304)
        response.set_etag(etag)
    elif (request.method == "GET" and ranges is not None and len(ranges.ranges) == 1
            and (request.if_range.etag is None or request.if_range.etag == etag)):
        span = ranges.range_for_length(st.st_size)
        if span is None:
            response = current_app.response_class(status=416)
            response.headers["Content-Range"] = f"bytes */{st.st_size}"
        else:
            start, stop = span
            fd = os.open(path, os.O_RDONLY)
            try:
                body = os.pread(fd, stop - start, start)
            finally:
                os.close(fd)
            response = current_app.response_class(body, status=206, mimetype=mimetype)
            response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{st.st_size}"
        response.set_etag(etag)
        response.last_modified = st.st_mtime
    else:  # no Range, HEAD, or several ranges (ignored, as RFC 9110 allows: the whole file)
        several = ranges is not None and len(ranges.ranges) > 1
        response = send_file(path, mimetype=mimetype, conditional=not several, etag=etag, max_age=0)
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
    return send_workspace_file(data().ws.hub_dir, relative)


@bp.route("/files/<path:relative>", methods=["GET", "HEAD"])
def workspace_file(relative):
    """Any other file of the workspace (evaluation.tsv, predictions.tsv, model.json, charts)."""
    return send_workspace_file(data().ws.root, relative)


@bp.route("/genome/<genome>.chrom.sizes", methods=["GET", "HEAD"])
def chrom_sizes(genome):
    """Chromosome sizes for igv.js's sequence-less genome: the hub's copy, else the packaged table."""
    ws = data().ws
    if not is_name(genome):
        abort(404)
    hub_copy = ws.chrom_sizes_path(genome)
    if hub_copy.is_file():
        return send_workspace_file(ws.hub_dir, hub_copy.relative_to(ws.hub_dir).as_posix())
    packaged = packaged_path(genome)
    if not packaged.is_file():
        abort(404)
    return send_file(str(packaged), mimetype="text/plain", conditional=True, max_age=0)

