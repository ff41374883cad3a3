"""igv-reports, used offline: a sequence-less genome, a Namespace for ``create_report``, captured output.

igv-reports (1.17) has no Python API: :func:`igv_reports.report.create_report`
takes the ``argparse.Namespace`` its ``main()`` builds, always reads the
reference sequence of the region (± 500 bp) through ``FastaReader`` (a pysam
FASTA) and writes gzip data URIs stamped with the current time. Here:

- :func:`report_args` builds the Namespace with every option ``main()``
  defines (defaults as in igv-reports 1.17);
- :func:`sequence_less` substitutes, while a report is created, a reader
  backed by chromosome sizes (``N`` × length; the chromosome length from the
  sizes) for ``FastaReader``, and a gzip with a fixed time stamp for the data
  URIs (so the same inputs give the same page); a lock serialises it, as the
  substitution is process-wide and a server creates reports from threads;
- :func:`create_igv_report` writes the sites and track-config files, runs
  ``create_report`` with its progress output captured, and returns the page.

Nothing is downloaded: no ``--genome`` (that fetches igv.org), no
``--standalone`` (that fetches the template's scripts). The template's igv.js
is the caller's business (see :mod:`shallowchrome.tracks.reports.page`).
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import gzip
import io
import json
import logging
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: Options of ``igv-reports``' command line (``create_report``'s Namespace) with their defaults, version 1.17.
IGV_REPORT_DEFAULTS = {
    "sites": None, "fasta_": None, "fasta": None, "twobit": None, "genome": None, "type": None, "ideogram": None,
    "tracks": None, "track_config": None, "roi": None, "sort": None, "template": None,
    "output": "igvjs_viewer.html", "info_columns": None, "info_columns_prefixes": None, "sampleinfo": None,
    "samples": None, "sample_columns": None, "flanking": 1000, "window": None, "standalone": False, "title": None,
    "header": None, "footer": None, "sequence": None, "begin": None, "end": None, "zero_based": None, "idlink": None,
    "exclude_flags": 1536, "no_embed": False, "subsample": None, "maxlen": 10000, "translate_sequence_track": False,
    "tabulator": False, "filter_config": None, "merge_overlaps": False,
}
#: What ``--fasta`` says while :func:`sequence_less` is active (never opened).
SEQUENCE_LESS = "sequence-less-genome"
_LOCK = threading.RLock()


def report_args(**options) -> argparse.Namespace:
    """A Namespace as igv-reports' ``main()`` would parse it, with ``options`` overriding the defaults."""
    unknown = set(options) - set(IGV_REPORT_DEFAULTS)
    if unknown:
        raise TypeError(f"not igv-reports options: {', '.join(sorted(unknown))}")
    return argparse.Namespace(**{**IGV_REPORT_DEFAULTS, **options})


class SequenceLessReader:
    """Stands in for ``igv_reports.fasta.FastaReader``: the sequence of a region is ``N`` × its length.

    Regions are igv-reports' (1-based, closed); the end is clipped to the
    chromosome's size. A chromosome absent from ``sizes`` is a ``KeyError``,
    as with a FASTA that lacks it.
    """

    def __init__(self, sizes: dict):
        self.sizes = sizes

    def slice(self, region=None) -> str:
        if region is None:
            raise ValueError("a sequence-less genome has no whole-file sequence")
        size = self.get_reference_length(region["chr"])
        start = max(1, int(region["start"] or 1))
        end = min(size, int(region["end"] or size))
        return "N" * max(0, end - start + 1)

    def get_reference_length(self, chrom: str) -> int:
        return int(self.sizes[chrom])


@contextlib.contextmanager
def sequence_less(sizes: dict):
    """While active, igv-reports reads sequence from :class:`SequenceLessReader` and gzips with mtime 0.

    Process-wide substitution, so guarded by a (re-entrant) lock; the previous
    objects are restored on exit, even after an error.
    """
    from igv_reports import datauri, report

    with _LOCK:
        saved = report.FastaReader, datauri.compress
        report.FastaReader = lambda _path: SequenceLessReader(sizes)
        datauri.compress = functools.partial(gzip.compress, mtime=0)
        try:
            yield
        finally:
            report.FastaReader, datauri.compress = saved


def data_uri(text: str) -> str:
    """``text`` as igv-reports embeds a track (a gzip data URI), without a time stamp: the same text, the same URI."""
    return "data:application/gzip;base64," + base64.b64encode(gzip.compress(text.encode("utf-8"), mtime=0)).decode("ascii")


@dataclass
class IgvTrack:
    """One igv.js track: its config (name, format, type, display settings) and its text data for the region."""

    config: dict
    text: str
    suffix: str = "bed"  # file suffix igv-reports infers the format from


def create_igv_report(template: str, site_bed_line: str, tracks: list[IgvTrack], sizes: dict) -> str:
    """Run igv-reports' ``create_report`` on one site; return the page (the template with its placeholders filled).

    ``template`` must be ASCII (igv-reports reads and writes with the locale's
    encoding) and contain ``"@TABLE_JSON@"`` and ``"@SESSION_DICTIONARY@"``;
    ``site_bed_line`` is one BED line (0-based, half-open) whose interval is the
    whole region shown (no extra flank is added). Each track is written to a
    temporary file that igv-reports slices to the region and embeds as a data URI.
    """
    from igv_reports.report import create_report

    template.encode("ascii")  # UnicodeEncodeError: a bug of the caller, not of the user
    with tempfile.TemporaryDirectory(prefix="shallowchrome-igv-") as tmp:
        tmp = Path(tmp)
        (tmp / "template.html").write_text(template, encoding="ascii")
        (tmp / "site.bed").write_text(site_bed_line.rstrip("\n") + "\n", encoding="utf-8")
        configs = []
        for i, track in enumerate(tracks):
            path = tmp / f"track{i:03d}.{track.suffix}"
            path.write_text(track.text, encoding="utf-8")
            configs.append({**track.config, "url": str(path)})
        (tmp / "track_config.json").write_text(json.dumps(configs), encoding="utf-8")
        args = report_args(sites=str(tmp / "site.bed"), fasta=SEQUENCE_LESS, track_config=[str(tmp / "track_config.json")],
                           template=str(tmp / "template.html"), output=str(tmp / "report.html"), flanking=0)
        captured = io.StringIO()
        with sequence_less(sizes), contextlib.redirect_stdout(captured):
            create_report(args)
        for line in captured.getvalue().splitlines():
            log.debug("igv-reports: %s", line)
        return (tmp / "report.html").read_text(encoding="ascii")
