"""What the server does for every response, as a public service: security headers, JSON errors under
/api/, and the public URL that absolute links are made from (never the request's Host header).

- ``Content-Security-Policy``: pages run only this server's scripts (the browser page's inline script
  carries a per-response nonce; report pages, static files made once, are allowed their inline
  scripts) and connect only to this server; ``X-Content-Type-Options: nosniff``;
  ``X-Frame-Options: SAMEORIGIN``; ``Referrer-Policy: same-origin``.
- Absolute URLs (the hub URL, the UCSC link, OpenAPI ``servers``) come from ``PUBLIC_URL`` (``serve``
  sets it from ``--base-url``, else from the address it listens on).
"""
from __future__ import annotations

import logging
import secrets
import time

from flask import Flask, current_app, g, request
from werkzeug.exceptions import HTTPException

_POLICY = ("default-src 'self'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data: blob:; connect-src 'self' data: blob:; font-src 'self' data:; "
           "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
           "frame-ancestors 'self'")
SITE_POLICY = _POLICY.format(scripts="'nonce-{nonce}'")
#: Report pages are made once and cached: their inline scripts (igv.js, the page's own) cannot carry a nonce.
REPORT_POLICY = _POLICY.format(scripts="'unsafe-inline'")


def csp_nonce() -> str:
    """This response's script nonce (for ``<script nonce="...">`` in templates)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def public_url() -> str:
    """The server's public base URL, ending in ``/``: ``PUBLIC_URL`` when configured (``serve`` always
    does), else the test client's own URL."""
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return configured.rstrip("/") + "/"
    return request.host_url


access_log = logging.getLogger("shallowchrome.access")


def _log(response):
    """One line per request, in the Common Log Format's order (``serve`` prints them; see --no-access-log)."""
    if access_log.isEnabledFor(logging.INFO):
        access_log.info('%s - - [%s] "%s %s %s" %s %s', request.remote_addr or "-",
                        time.strftime("%d/%b/%Y:%H:%M:%S %z"), request.method, request.full_path.rstrip("?"),
                        request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"), response.status_code,
                        response.content_length if response.content_length is not None else "-")
    return response


def _headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        report = request.path.startswith(("/reports/", "/files/"))
        policy = REPORT_POLICY if report else SITE_POLICY.format(nonce=csp_nonce())
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _api_http_error(exc: HTTPException):
    """Errors under /api/ (405 from routing included) are JSON, like the API's own."""
    if request.path.startswith("/api/"):
        methods = getattr(exc, "valid_methods", None)  # a 405 says which methods the URL takes
        return {"error": {"status": exc.code, "message": exc.description}}, exc.code, \
            ({"Allow": ", ".join(methods)} if methods else {})
    return exc


def install(app: Flask) -> None:
    app.after_request(_headers)
    app.after_request(_log)
    app.register_error_handler(405, _api_http_error)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
