"""Browser sessions over the hub's files: an igv.js session (JSON) and an IGV desktop session (XML).

Both reference the same files as the trackDb: per epigenome the prediction
bigBed, then per mark the contribution ψ and feature bigWigs (the
correct/wrong variant stays in the hub only). Paths are relative to the hub
folder, where the session files live, unless a base URL is given:

- IGV desktop resolves relative paths against the session file, so
  ``hub/igv_session.xml`` opens as it is (File > Open Session);
- igv.js resolves relative URLs against the *page*, so the JSON works as-is
  from a page served from the hub folder; elsewhere write absolute URLs
  with ``--base-url``.

igv.js gets a sequence-less reference from the hub's ``GENOME/chrom.sizes``
(so it never fetches a genome from igv.org).
"""
from __future__ import annotations

import json
from xml.sax.saxutils import quoteattr

from shallowchrome.tracks import style
from shallowchrome.tracks.hub.igv import (
    GENE_TRACK_NAME,
    WIG_HEIGHT,
    TrackFile,
    desktop_colours,
    gene_track,
    igv_tracks,
    shown_tracks,
)
from shallowchrome.tracks.workspace.layout import CHROM_SIZES

__all__ = ["TrackFile", "igv_desktop_session", "igv_js_session"]


def _url(base_url: str | None, path: str) -> str:
    return f"{base_url.rstrip('/')}/{path}" if base_url else path


def igv_js_session(files: list[TrackFile], genome: str, locus: str, base_url: str | None = None,
                   genes: str | None = None) -> str:
    """The igv.js session document (``browser.loadSession({url})`` or the igv.js app's Session menu);
    ``genes``: the hub-relative path of the gene track (plain BED: both clients load it whole and
    find genes by name in it), shown first."""
    tracks = [gene_track(_url(base_url, genes))] if genes else []
    doc = {
        "reference": {"id": genome, "name": genome, "format": "chromsizes",
                      "fastaURL": _url(base_url, f"{genome}/{CHROM_SIZES}")},
        "locus": locus,
        "tracks": tracks + igv_tracks(files, lambda path: _url(base_url, path)),
    }
    return json.dumps(doc, indent=2) + "\n"


def igv_desktop_session(files: list[TrackFile], genome: str, locus: str, base_url: str | None = None,
                        genes: str | None = None) -> str:
    """The IGV desktop session document (File > Open Session); ``genes`` as for :func:`igv_js_session`.

    ``genome``: the hub-relative path of a ``NAME.chrom.sizes`` file (a genome id would make IGV fetch
    that genome from igv.org).

    IGV desktop keys a session's local tracks by their bare file name, so every file named here
    has a name of its own (``EID.predictions.bb``, ...; see ``track_filename``)."""
    chosen = shown_tracks(files)
    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
             f'<Session genome={quoteattr(_url(base_url, genome))} hasGeneTrack="false" hasSequenceTrack="false" '
             f'locus={quoteattr(locus)} version="8">',
             "    <Resources>"]
    if genes:
        lines.append(f'        <Resource name="{GENE_TRACK_NAME}" path={quoteattr(_url(base_url, genes))} type="bed"/>')
    for f in chosen:
        path = _url(base_url, f.path)
        lines.append(f"        <Resource name={quoteattr(f.label)} path={quoteattr(path)} "
                     f"type={quoteattr('bb' if f.path.endswith('.bb') else 'bw')}/>")
    lines += ["    </Resources>", '    <Panel name="DataPanel">']
    if genes:
        lines.append(f'        <Track attributeKey="{GENE_TRACK_NAME}" clazz="org.broad.igv.track.FeatureTrack" color="{style.GENE}" '
                     f'displayMode="COLLAPSED" height="{WIG_HEIGHT}" id={quoteattr(_url(base_url, genes))} '
                     f'name="{GENE_TRACK_NAME}" visible="true"/>')
    for f in chosen:
        path = _url(base_url, f.path)
        if f.kind == "predictions":
            lines.append(f'        <Track attributeKey={quoteattr(f.label)} clazz="org.broad.igv.track.FeatureTrack" '
                         f'displayMode="EXPANDED" height="{WIG_HEIGHT}" id={quoteattr(path)} '
                         f'name={quoteattr(f.label)} visible="true"/>')
        else:
            color, alt_color = desktop_colours(f)
            alt = f' altColor="{alt_color}"' if alt_color else ""
            lines.append(f'        <Track attributeKey={quoteattr(f.label)} autoScale="true" '
                         f'clazz="org.broad.igv.track.DataSourceTrack" color="{color}"{alt} height="{WIG_HEIGHT}" '
                         f'id={quoteattr(path)} name={quoteattr(f.label)} renderer="BAR_CHART" visible="true"/>')
    lines += ["    </Panel>", "</Session>"]
    return "\n".join(lines) + "\n"
