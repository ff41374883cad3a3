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

from shallowchrome.tracks.hub.igv import TrackFile, desktop_colours, igv_tracks, shown_tracks
from shallowchrome.tracks.workspace.layout import CHROM_SIZES

__all__ = ["TrackFile", "igv_desktop_session", "igv_js_session"]


def _url(base_url: str | None, path: str) -> str:
    return f"{base_url.rstrip('/')}/{path}" if base_url else path


def igv_js_session(files: list[TrackFile], genome: str, locus: str, base_url: str | None = None) -> str:
    """The igv.js session document (``browser.loadSession({url})`` or the igv.js app's Session menu)."""
    doc = {
        "reference": {"id": genome, "name": genome, "format": "chromsizes",
                      "fastaURL": _url(base_url, f"{genome}/{CHROM_SIZES}")},
        "locus": locus,
        "tracks": igv_tracks(files, lambda path: _url(base_url, path)),
    }
    return json.dumps(doc, indent=2) + "\n"


def igv_desktop_session(files: list[TrackFile], genome: str, locus: str, base_url: str | None = None) -> str:
    """The IGV desktop session document (File > Open Session)."""
    chosen = shown_tracks(files)
    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
             f'<Session genome={quoteattr(genome)} hasGeneTrack="false" hasSequenceTrack="false" '
             f'locus={quoteattr(locus)} version="8">',
             "    <Resources>"]
    for f in chosen:
        path = _url(base_url, f.path)
        lines.append(f"        <Resource name={quoteattr(f.label)} path={quoteattr(path)} "
                     f"type={quoteattr('bb' if f.path.endswith('.bb') else 'bw')}/>")
    lines += ["    </Resources>", '    <Panel name="DataPanel">']
    for f in chosen:
        path = _url(base_url, f.path)
        if f.kind == "predictions":
            lines.append(f'        <Track attributeKey={quoteattr(f.label)} clazz="org.broad.igv.track.FeatureTrack" '
                         f'displayMode="EXPANDED" id={quoteattr(path)} name={quoteattr(f.label)} visible="true"/>')
        else:
            color, alt_color = desktop_colours(f)
            alt = f' altColor="{alt_color}"' if alt_color else ""
            lines.append(f'        <Track attributeKey={quoteattr(f.label)} autoScale="true" '
                         f'clazz="org.broad.igv.track.DataSourceTrack" color="{color}"{alt} height="40" '
                         f'id={quoteattr(path)} name={quoteattr(f.label)} renderer="BAR_CHART" visible="true"/>')
    lines += ["    </Panel>", "</Session>"]
    return "\n".join(lines) + "\n"
