"""The order of the work on a workspace, in one place: build → chromhmm → tracks → peak index → reports.

Each step reads what the previous ones wrote: ``chromhmm`` adds the ChromHMM
state at each TSS to predictions.tsv, so the tracks come after it (their
items carry the state); the peak index (sorted, bgzipped, indexed copies of
the input peak files, which report pages slice) follows the tracks; report
pages show the tracks, so they come last. ``shallowchrome build`` runs build
(+ tracks + peak index), ``demo`` every step; the single commands
(``tracks``, ``chromhmm``, ``report``) run one step on a built workspace.
"""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.workspace.build import BuildOptions, build_workspace
from shallowchrome.tracks.workspace.layout import Workspace

log = logging.getLogger(__name__)


class TracksNotWritten(InputError):
    """The models are written (and published) but the tracks could not be made from them."""


@dataclass
class BuildInputs:
    """What ``build`` reads (paths as the user gave them)."""

    genes: object
    expression: object
    peaks: object
    splits: object = None
    epigenomes: list | None = None
    marks: list | None = None


@dataclass
class Steps:
    """The optional steps after the build: ChromHMM validation (with segmentations: epigenome → path),
    tracks and hub, report pages for ``report_genes``."""

    chromhmm: bool = False
    weights: bool = False
    segmentations: dict = field(default_factory=dict)
    tracks: bool = True
    peak_index: bool = True  # after the tracks (report pages read it)
    report_genes: tuple = ()


def run_pipeline(inputs: BuildInputs, out, options: BuildOptions | None = None, steps: Steps | None = None,
                 progress: bool = False) -> Workspace:
    """Build the workspace ``out`` and run the chosen steps on it, in order; returns the workspace.

    Build, ChromHMM and tracks go into one new generation, published once they are all written: the
    published workspace is never half-made (an interrupted run leaves the previous one, or none). When
    only the tracks fail on bad input (e.g. an assembly missing a chromosome), the models are published
    without a hub and the error says how to make it. The peak index (a cache outside the generations)
    and reports, which read the published workspace, come after.
    """
    options = options or BuildOptions()
    steps = steps or Steps()
    previous = Workspace(Path(out).absolute())
    ws = build_workspace(inputs.genes, inputs.expression, inputs.peaks, out, epigenomes=inputs.epigenomes,
                         splits_path=inputs.splits, options=options, progress=progress, marks=inputs.marks,
                         publish=False)
    try:
        if steps.chromhmm or steps.segmentations:
            chromhmm_step(ws, steps.segmentations)
        if steps.weights:
            weights_step(ws)
        if steps.tracks:
            link_previous_hub(previous, ws)  # unchanged epigenomes keep their track files (hard links)
            try:
                tracks_step(ws, jobs=options.jobs, progress=progress)
            except TracksNotWritten:
                shutil.rmtree(ws.hub_dir, ignore_errors=True)
                ws.publish()
                raise
    except BaseException:
        if ws.published is False:
            shutil.rmtree(ws.data, ignore_errors=True)  # nothing of this run becomes the workspace
        raise
    ws.publish()
    if steps.tracks and steps.peak_index:
        peak_index_step(ws, jobs=options.jobs, progress=progress)
    if steps.report_genes:
        reports_step(ws, steps.report_genes, jobs=options.jobs, progress=progress)
    return ws


def link_previous_hub(previous: Workspace, staged: Workspace) -> None:
    """Hard-link the published hub into a staged generation (writers replace files by rename)."""
    if previous.data == staged.data or not previous.hub_dir.is_dir() or staged.hub_dir.exists():
        return
    shutil.copytree(previous.hub_dir, staged.hub_dir, copy_function=os.link, symlinks=True)


def chromhmm_step(ws: Workspace, segmentations: dict | None = None):
    """ChromHMM validation with the default emission table (and the segmentations' TSS states)."""
    from shallowchrome.tracks.analysis.chromhmm import validate, write_results

    result = validate(ws, segmentations=segmentations or {})
    write_results(ws, result)
    return result


def weights_step(ws: Workspace, epigenomes=None) -> list:
    """WS/interpretation/weights.tsv, .png and .svg: the weights heatmap (``shallowchrome weights``)."""
    from shallowchrome.tracks.analysis.explain import weights_table
    from shallowchrome.tracks.analysis.pattern_charts import weights_chart
    from shallowchrome.tracks.io.textio import write_bytes_atomic, write_text_atomic

    table = weights_table(ws, epigenomes)
    written = [ws.interpretation_path(f"weights.{fmt}") for fmt in ("tsv", "png", "svg")]
    write_text_atomic(written[0], table.to_csv(sep="\t", index=False, na_rep="NA", float_format="%.8g",
                                               lineterminator="\n"))
    for path in written[1:]:
        write_bytes_atomic(path, weights_chart(table, path.suffix[1:]))
    return written


def tracks_step(ws: Workspace, jobs: int = 1, progress: bool = False):
    """The tracks and hub after a build; a failure says that the workspace stands and how to finish."""
    from shallowchrome.tracks.hub.write import write_tracks

    try:
        return write_tracks(ws, jobs=jobs, progress=progress)
    except InputError as exc:  # the workspace stands; say how to make the tracks
        raise TracksNotWritten(exc.source, f"the workspace is written but not its tracks: {exc.detail}",
                         fix=f"{exc.fix or 'see above'} in `shallowchrome tracks {ws.root} ...` "
                             "(or build with --no-tracks)") from None


def peak_index_step(ws: Workspace, jobs: int = 1, progress: bool = False, scheduler=None) -> tuple[int, dict]:
    """Index the input peak files for the report pages (WS/reports/cache/peaks/, see
    :mod:`shallowchrome.tracks.reports.regions`), by ``jobs`` processes; copies whose content checksum
    is unchanged are kept, and copies the workspace no longer reads are deleted (so a rebuild leaves
    the same index as a build from scratch; a server still reading an older generation makes what it
    misses on first use).

    Returns (copies in the index, {copy: error}); a copy that cannot be made is logged and left to the
    pages (which make it on first use, or say why its peaks are not shown): the workspace stands."""
    from shallowchrome.tracks.reports.regions import make_peak_index, prune_peak_index, workspace_peak_copies

    n, failed = make_peak_index(ws, jobs=jobs, progress=progress, scheduler=scheduler)
    deleted = prune_peak_index(ws, {c.copy for c in workspace_peak_copies(ws).values()})
    log.info("peak index: %d indexed cop(ies), %d not made, %d stale file(s) deleted", n, len(failed), len(deleted))
    return n, failed


def reports_step(ws: Workspace, genes, jobs: int = 1, progress: bool = False):
    from shallowchrome.tracks.reports.write import write_reports

    return write_reports(ws, list(genes), jobs=jobs, progress=progress)
