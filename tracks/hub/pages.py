"""The hub's HTML description pages, rendered from the ``hub/*.html`` Jinja templates.

The pages are fragments (no ``<html>``/``<body>``): UCSC inserts a track's
description into its own page, and the hub's ``descriptionUrl`` page works
the same way.
"""
from __future__ import annotations

from shallowchrome.templates import render


def prediction_page(kind: str, fields, **context) -> str:
    """``kind`` = ``predictions`` or ``outcome``; ``fields`` = the autoSql (type, name, description) triples."""
    return render("hub/predictions.html", kind=kind, fields=fields, **context)


def mark_page(kind: str, mark: str, **context) -> str:
    """``kind`` = ``contribution`` or ``feature``."""
    return render("hub/mark.html", kind=kind, mark=mark, **context)


def index_page(**context) -> str:
    return render("hub/index.html", **context)
