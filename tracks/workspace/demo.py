"""The embedded demo: a real Roadmap subset shipped in the package, built end to end.

The data (``tracks/data/demo``, made by ``make_demo.py`` there) are E066 adult
liver, E079 esophagus and E100 psoas muscle, H3K4me3 + H3K27me3 narrowPeak
files, the benchmark's 19,802 genes, their RPKM, its splits, and the 15-state
ChromHMM segmentations, trimmed to TSS ± 20 kb (which changes no model); plus
E104 right atrium, peaks only: the expression table has no column for it, so the
build predicts it by transfer, with a model learnt on the three labelled ones
("no expression data: model from E066,E079,E100"). It has no ChromHMM
segmentation: the validation ranks states over an epigenome's held-out test
genes, which an epigenome without labels has not. :data:`COMPARE_PAIR` is the
liver-vs-muscle comparison the demo points to (``/compare?a=E066&b=E100``).
"""
from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from shallowchrome.tracks.workspace.build import BuildOptions
from shallowchrome.tracks.workspace.layout import Workspace
from shallowchrome.tracks.workspace.pipeline import BuildInputs, Steps, run_pipeline

log = logging.getLogger(__name__)

EPIGENOMES = ("E066", "E079", "E100")  # labelled: peaks, RPKM, ChromHMM segmentation
#: Peaks only (no RPKM column): predicted by transfer from a model of the labelled ones.
UNLABELLED = ("E104",)
#: Liver against psoas muscle: the README's "why ON in A but OFF in B" example.
COMPARE_PAIR = ("E066", "E100")
#: The README's case studies: on in liver (ALB, APOA1), on in muscle (ACTA1), muscle only (MYOD1). Their
#: pages list every epigenome, E104 (predicted by transfer) too.
REPORT_GENES = ("ALB", "APOA1", "ACTA1", "MYOD1")


def demo_data() -> Path:
    """The folder of the packaged demo data."""
    return Path(str(resources.files("shallowchrome.tracks").joinpath("data", "demo")))


def compare_path(pair=COMPARE_PAIR) -> str:
    """The server path of the demo's comparison page: ``/compare?a=E066&b=E100``."""
    return f"/compare?a={pair[0]}&b={pair[1]}"


def build_demo(out, jobs: int = 2, progress: bool = False, reports: bool = True) -> Workspace:
    """Build the demo workspace in ``out``: models of the labelled epigenomes and the transferred one's
    predictions, evaluation (and the cross-epigenome one), ChromHMM, tracks and hub, reports."""
    data = demo_data()
    inputs = BuildInputs(data / "genes.tsv.gz", data / "rpkm.tsv.gz", data / "peaks", splits=data / "splits.tsv.gz")
    segmentations = {eid: data / "chromhmm" / f"{eid}_15_coreMarks_mnemonics.bed.gz" for eid in EPIGENOMES}
    steps = Steps(chromhmm=True, segmentations=segmentations, weights=True, tracks=True,
                  report_genes=REPORT_GENES if reports else ())
    ws = run_pipeline(inputs, out, BuildOptions(n_splits=10, jobs=jobs), steps, progress=progress)
    log.info("demo workspace written to %s", ws.root)
    return ws
