"""Every file format in and out, and the commands' work on a workspace.

Sub-packages, one job each (the pure models are in :mod:`shallowchrome.model`)::

    io/         inputs, one module per format: peaks, genes, expression, manifest, splits,
                segmentation, chromosome names and sizes; textio (gz reading, atomic writes)
    workspace/  the Workspace (owner of every path), build, the executor, the pipeline, the demo
    analysis/   explain (regulative patterns, weights), ChromHMM validation, charts
    hub/        prediction items, bigBed/bigWig/tabix writers, trackDb, pages, igv track lists,
                sessions, hub check
    reports/    per-gene report pages: write, page, context, tracks, regions, igv-reports, cache
    fetch/      the REMC catalogue, resumable downloads, build inputs
    reference   packaged tables (data/): Roadmap epigenomes, DeepChrome AUROCs, emissions

The names below are the public API, importable from here (loaded on first use,
so ``import shallowchrome.tracks`` stays cheap for worker processes)::

    from shallowchrome.tracks import Workspace, build_workspace, write_tracks, explain
"""
from __future__ import annotations

import importlib

_API = {
    "Workspace": "workspace.layout", "UnknownGeneError": "workspace.layout",
    "BuildOptions": "workspace.build", "build_workspace": "workspace.build",
    "map_jobs": "workspace.executor", "build_demo": "workspace.demo",
    "read_peaks": "io.peaks", "read_genes": "io.genes", "read_expression": "io.expression",
    "read_peaks_manifest": "io.manifest", "read_splits": "io.splits", "read_segmentation": "io.segmentation",
    "load_chrom_sizes": "io.chromsizes",
    "explain": "analysis.explain", "weights_table": "analysis.explain",
    "validate": "analysis.chromhmm",
    "write_tracks": "hub.write", "refresh_tracks": "hub.write", "check_hub": "hub.check",
    "write_reports": "reports.write",
}
__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(f"{__name__}.{_API[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
