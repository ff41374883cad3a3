"""The Flask application factory.

``create_app(workspace)`` serves one built workspace: the track hub and its
files (HTTP Range, ETag, CORS), a JSON API, and HTML pages with an igv.js
browser, and per-gene report pages. The app never writes to the workspace
except the report-page cache (WS/reports/cache/pages/).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from flask import Flask

from .data import WorkspaceData


def create_app(workspace, config: dict | None = None) -> Flask:
    """Build the app for the workspace folder ``workspace``."""
    templates = resources.files("shallowchrome.templates")
    app = Flask(__name__, template_folder=str(templates), static_folder=str(Path(__file__).parent / "static"),
                static_url_path="/static")
    app.config.update(JSON_SORT_KEYS=False, SEND_FILE_MAX_AGE_DEFAULT=0)
    app.config.update(config or {})
    app.extensions["shallowchrome"] = WorkspaceData(workspace)
    app.json.sort_keys = False

    from .api_bp import bp as api
    from .files_bp import bp as files
    from .pages_bp import bp as pages
    from .reports_bp import bp as reports

    app.register_blueprint(files)
    app.register_blueprint(api)
    app.register_blueprint(pages)
    app.register_blueprint(reports)
    return app


def data(app=None) -> WorkspaceData:
    """The workspace data of the current (or given) app."""
    from flask import current_app

    return (app or current_app).extensions["shallowchrome"]
