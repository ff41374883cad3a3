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
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from shallowchrome.tracks.hub.trackdb import FEATURE_COLOR, PSI_ALT_COLOR, PSI_COLOR


@dataclass(frozen=True)
class TrackFile:
    """One track file of the hub. ``path`` is POSIX and relative to the hub folder."""

    epigenome: str
    tissue: str
    kind: str  # predictions | outcome | contribution | feature
    mark: str | None
    path: str

    @property
    def label(self) -> str:
        what = {"predictions": "predicted", "outcome": "right/wrong", "contribution": f"{self.mark} psi",
                "feature": f"{self.mark} max"}[self.kind]
        tissue = f" {self.tissue.replace('_', ' ')}" if self.tissue and self.kind in ("predictions", "outcome") else ""
        return f"{self.epigenome}{tissue} {what}"


SESSION_KINDS = ("predictions", "contribution", "feature")


def session_tracks(files: list[TrackFile]) -> list[TrackFile]:
    rank = {k: i for i, k in enumerate(SESSION_KINDS)}
    chosen = [f for f in files if f.kind in rank]
    epi_order = list(dict.fromkeys(f.epigenome for f in files))
    return sorted(chosen, key=lambda f: (epi_order.index(f.epigenome), rank[f.kind]))  # stable: marks keep their order


def _url(base_url: str | None, path: str) -> str:
    return f"{base_url.rstrip('/')}/{path}" if base_url else path


def _rgb(triple: str) -> str:
    return f"rgb({triple})"


def igv_js_session(files: list[TrackFile], genome: str, locus: str, base_url: str | None = None) -> str:
    """The igv.js session document (``browser.loadSession({url})`` or the igv.js app's Session menu)."""
    tracks = []
    for f in session_tracks(files):
        url = _url(base_url, f.path)
        if f.kind == "predictions":
            tracks.append({"name": f.label, "type": "annotation", "format": "bigbed", "url": url,
                           "displayMode": "EXPANDED", "visibilityWindow": 5_000_000})
        elif f.kind == "contribution":
            tracks.append({"name": f.label, "type": "wig", "format": "bigwig", "url": url, "height": 40,
                           "autoscale": True, "color": _rgb(PSI_COLOR), "altColor": _rgb(PSI_ALT_COLOR)})
        else:
            tracks.append({"name": f.label, "type": "wig", "format": "bigwig", "url": url, "height": 40,
                           "autoscale": True, "color": _rgb(FEATURE_COLOR), "windowFunction": "max"})
    doc = {
        "reference": {"id": genome, "name": genome, "format": "chromsizes",
                      "fastaURL": _url(base_url, f"{genome}/chrom.sizes")},
        "locus": locus,
        "tracks": tracks,
    }
    return json.dumps(doc, indent=2) + "\n"


def igv_desktop_session(files: list[TrackFile], genome: str, locus: str, base_url: str | None = None) -> str:
    """The IGV desktop session document (File > Open Session)."""
    chosen = session_tracks(files)
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
            color = PSI_COLOR if f.kind == "contribution" else FEATURE_COLOR
            alt = f' altColor="{PSI_ALT_COLOR}"' if f.kind == "contribution" else ""
            lines.append(f'        <Track attributeKey={quoteattr(f.label)} autoScale="true" '
                         f'clazz="org.broad.igv.track.DataSourceTrack" color="{color}"{alt} height="40" '
                         f'id={quoteattr(path)} name={quoteattr(f.label)} renderer="BAR_CHART" visible="true"/>')
    lines += ["    </Panel>", "</Session>"]
    return "\n".join(lines) + "\n"
