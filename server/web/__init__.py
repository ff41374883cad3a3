"""The Flask track server: ``create_app`` (:mod:`.app`), the app's workspace state and its accessor
(:mod:`.state`), one blueprint per job (:mod:`.files` hub and workspace files, :mod:`.api` JSON API,
:mod:`.pages` HTML pages, :mod:`.reports` report pages) and the OpenAPI document (:mod:`.openapi`)."""
from shallowchrome.server.web.app import create_app

__all__ = ["create_app"]
