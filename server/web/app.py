"""The Flask application factory.

``create_app(workspace)`` serves one built workspace: the track hub and its
files (HTTP Range, ETag, CORS), a JSON API, and HTML pages with an igv.js
browser, and per-gene report pages. The app never writes to the workspace
except the report-page cache (WS/reports/cache/pages/). Blueprints reach the
workspace through :func:`shallowchrome.server.web.state.data`.
"""
from __future__ import annotations

from flask import Flask
from flask.json.provider import DefaultJSONProvider

from shallowchrome import templates
from shallowchrome.server.web import security
from shallowchrome.server.web.api import bp as api
from shallowchrome.server.web.compare import bp as compare
from shallowchrome.server.web.files import bp as files
from shallowchrome.server.web.pages import bp as pages
from shallowchrome.server.web.reports import bp as reports
from shallowchrome.server.web.state import EXTENSION, GENES_WARMUP, ServedWorkspace


class _JSON(DefaultJSONProvider):
    """Every JSON answer (API, igv.js configs, ``|tojson`` in pages) with its floats as
    :func:`shallowchrome.tracks.numbers.tidy` makes them: 10 significant digits, no ``-0.0``."""

    def dumps(self, obj, **kwargs) -> str:
        from shallowchrome.tracks.numbers import tidy

        return super().dumps(tidy(obj), **kwargs)


class _App(Flask):
    json_provider_class = _JSON
    #: the same Jinja options as the hub and report pages (one configuration for every page)
    jinja_options = {**Flask.jinja_options, **templates.OPTIONS}

    def create_global_jinja_loader(self):
        return templates.loader()


def create_app(workspace, config: dict | None = None) -> Flask:
    """Build the app for the workspace folder ``workspace``."""
    app = _App(__name__, static_folder=templates.static_folder(), static_url_path="/static")
    app.config.update(JSON_SORT_KEYS=False, SEND_FILE_MAX_AGE_DEFAULT=0)
    app.config.update(config or {})
    # GENES_WARMUP (default on): warm the gene pages' caches up in a thread, like REPORTS_WARMUP for reports
    app.extensions[EXTENSION] = ServedWorkspace(workspace, warm=bool(app.config.get(GENES_WARMUP, True)))
    app.json.sort_keys = False
    templates.add_filters(app.jinja_env)
    for bp in (files, api, pages, reports, compare):
        app.register_blueprint(bp)
    security.install(app)
    return app
