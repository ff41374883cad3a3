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

import json
import mimetypes
import os
import re
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
    try:
        if path is None or not path.is_file():
            abort(404)
    except OSError:  # e.g. a path component the file system refuses
        abort(404)
    return path


#: Longest request path served (a longer one cannot name a workspace file: 404, not the OS's "name too long").
MAX_PATH, MAX_PART = 1024, 255


def _resolve(root: str, relative: str) -> Path | None:
    """``root/relative`` with symlinks resolved, or None when it escapes ``root``.

    Resolved on every request (a few ``lstat`` calls, microseconds): a file
    replaced by a symlink pointing out of the workspace is refused the next
    time it is asked for, not served from a stale cache.
    """
    if not relative or len(relative) > MAX_PATH or relative.startswith(("/", "\\")) or "\\" in relative \
            or "\x00" in relative:
        return None
    parts = Path(relative).parts
    if any(p in ("..", ".") or p.startswith(".") or len(p.encode()) > MAX_PART for p in parts):
        return None
    base = os.path.realpath(root)
    path = Path(os.path.realpath(os.path.join(base, relative)))
    return path if Path(base) in path.parents else None


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


#: Workspace files that record the absolute paths of the build's inputs: served with file names only.
_REDACTED = re.compile(r"^(workspace\.json|peaks\.tsv|epigenomes/[^/]+/model\.json|interpretation/chromhmm\.json)$")
#: Never served: the report cache (indexed copies of the inputs and their source records).
_PRIVATE = re.compile(r"^reports/cache(/|$)")


@bp.route("/files/<path:relative>", methods=["GET", "HEAD"])
def workspace_file(relative):
    """Any other file of the workspace (evaluation.tsv, predictions.tsv, model.json, charts); files that
    record the server's paths are served with those paths cut to file names."""
    root = data().ws.root
    if _PRIVATE.match(relative):
        abort(404)
    if _REDACTED.match(relative):
        path = resolve_inside(root, relative)
        body = redact(path.read_text(encoding="utf-8"), path.suffix)
        return current_app.response_class(body, mimetype=_TYPES.get(path.suffix, "text/plain"),
                                          headers={"Cache-Control": "no-cache"})
    return send_workspace_file(root, relative)


def redact(text: str, suffix: str) -> str:
    """Absolute paths in a JSON document or TSV table → their file names (what the user named)."""
    if suffix == ".json":
        def walk(value):
            if isinstance(value, dict):
                return {k: walk(v) for k, v in value.items()}
            if isinstance(value, list):
                return [walk(v) for v in value]
            if isinstance(value, str) and value.startswith("/"):
                return Path(value).name
            return value

        return json.dumps(walk(json.loads(text)), indent=2) + "\n"
    return re.sub(r"(?m)(^|\t)/[^\t\n]*/([^/\t\n]+)(?=\t|$)", r"\1\2", text)


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

