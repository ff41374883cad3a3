"""Option parsing shared by the command modules."""
from __future__ import annotations

import click


def comma_list(ctx, param, value):
    """click callback: ``"E066, E100"`` → ``["E066", "E100"]``; None stays None; an empty list is a usage error."""
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise click.BadParameter("give a comma-separated list, e.g. E066,E100")
    return items
