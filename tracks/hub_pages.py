"""The hub's HTML description pages, rendered from the ``hub_*.html`` Jinja templates.

The pages are fragments (no ``<html>``/``<body>``): UCSC inserts a track's
description into its own page, and the hub's ``descriptionUrl`` page works
the same way.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import jinja2


def _load(name: str):
    try:
        return resources.files("shallowchrome.templates").joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FunctionLoader(_load), autoescape=True, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


def prediction_page(kind: str, fields, **context) -> str:
    """``kind`` = ``predictions`` or ``outcome``; ``fields`` = the autoSql (type, name, description) triples."""
    return render("hub_predictions.html", kind=kind, fields=fields, **context)


def mark_page(kind: str, mark: str, **context) -> str:
    """``kind`` = ``contribution`` or ``feature``."""
    return render("hub_mark.html", kind=kind, mark=mark, **context)


def index_page(**context) -> str:
    return render("hub_index.html", **context)
