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


def scheduler_option(what: str):
    """``--scheduler ADDRESS`` (``tracks``, ``report``): do ``what`` ("Make the pages") on a Dask cluster."""
    return click.option("--scheduler", metavar="ADDRESS",
                        help=f"{what} on a Dask cluster: its scheduler's address (tcp://host:8786) or the JSON "
                             "file of `dask scheduler --scheduler-file`. The workers must see the workspace at the "
                             "same path (shared filesystem); needs pip install 'shallowchrome[dask]'.")


def cluster(scheduler):
    """``with cluster(address) as client``: connected once for the whole command (one line and exit code 2
    when the scheduler cannot be reached), or None without ``--scheduler``."""
    from contextlib import nullcontext

    if scheduler is None:
        return nullcontext(None)
    from shallowchrome.tracks.workspace.executor import cluster_client

    return cluster_client(scheduler)
