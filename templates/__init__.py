"""Jinja templates and static files, shared by the server pages, the hub description pages and the reports.

Layout (package data)::

    site/     the server's pages (base.html and the pages extending it)
    hub/      the track hub's description pages (HTML fragments: UCSC inserts them into its own page)
    report/   the per-gene report page and the index of report pages
    static/   style.css, suggest.js and the vendored igv.js (static/igv/), served by the server under
              /static/ and inlined into self-contained report pages

:func:`environment` renders outside a request (hub pages, reports); the Flask
app uses the same loader, :data:`OPTIONS` and filters (:func:`add_filters`), so a
template renders the same either way.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import jinja2

#: Jinja options of every environment (hub pages, reports and the server's pages).
OPTIONS = {"autoescape": True, "trim_blocks": True, "lstrip_blocks": True, "keep_trailing_newline": True}


def _load(name: str):
    try:
        return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def loader() -> jinja2.BaseLoader:
    return jinja2.FunctionLoader(_load)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The environment of the offline pages: undefined variables are errors (a page never renders half)."""
    env = jinja2.Environment(loader=loader(), undefined=jinja2.StrictUndefined, **OPTIONS)
    env.globals["favicon"] = favicon_data_uri()  # offline pages carry their icon
    add_filters(env)
    return env


def add_filters(env: jinja2.Environment) -> None:
    """The number filters of every page (``num``, ``pvalue``, ``count``, ...: :mod:`shallowchrome.tracks.numbers`)."""
    from shallowchrome.tracks.numbers import FILTERS

    env.filters.update(FILTERS)


def favicon_data_uri() -> str:
    """``static/favicon.svg`` as a data URI (report pages are self-contained)."""
    from urllib.parse import quote

    return "data:image/svg+xml," + quote(static_text("favicon.svg").strip(), safe=" =:/")


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


def static_folder() -> str:
    """The folder of the static files (a real path: the package is installed as files)."""
    return str(resources.files(__name__).joinpath("static"))


def static_text(name: str) -> str:
    """A static file's text, e.g. ``static_text("igv/igv.min.js")``."""
    return resources.files(__name__).joinpath("static", name).read_text(encoding="utf-8")
