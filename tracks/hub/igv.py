"""The one igv.js / IGV track list: hub track records → igv.js track configs, for every client.

A :class:`TrackFile` is one record of the hub manifest (``WS/hub/tracks.json``).
Every client shows the same tracks in the same order (per epigenome: the
prediction bigBed, then per mark the contribution ψ and the feature bigWig;
the correct/wrong variant stays in the hub), with the same types and colours
(:mod:`shallowchrome.tracks.style`):

- the igv.js and IGV desktop sessions (:mod:`.sessions`),
- the server's browser page (``/browser``; a few epigenomes at a time, each wig track on its mark's shared
  y scale: ``igv_tracks(..., shared_scale=True)``, see :func:`scale_group`),
- the report pages (which embed the same tracks' data, sliced to the page's region).

Only the names differ by client (:data:`NAMES`): IGV desktop and sessions
keep ASCII short names (``E066 H3K4me3 psi``), the browser page says what a
track is in words, report pages use ψ.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from shallowchrome.tracks import style

#: Kinds of track each client shows, in their order within an epigenome.
SHOWN_KINDS = ("predictions", "contribution", "feature")
#: Track name suffix by client and kind (``{mark}`` is the mark).
NAMES = {
    "session": {"predictions": "predicted", "outcome": "right/wrong", "contribution": "{mark} psi",
                "feature": "{mark} max"},
    "browser": {"predictions": "predictions", "outcome": "right/wrong", "contribution": "{mark} contribution",
                "feature": "{mark} max signal"},
    "report": {"predictions": "prediction", "outcome": "right/wrong", "contribution": "{mark} \u03c8",
               "feature": "{mark} max"},
}
WIG_HEIGHT = 40


@dataclass(frozen=True)
class TrackFile:
    """One track file of the hub. ``path`` is POSIX and relative to the hub folder."""

    epigenome: str
    tissue: str
    kind: str  # predictions | outcome | contribution | feature
    mark: str | None
    path: str

    def name(self, client: str = "session") -> str:
        """The track's name in ``client`` (see :data:`NAMES`); the tissue is named on prediction tracks.

        Plain text: igv.js writes names as HTML, so :func:`igv_track` escapes them."""
        what = NAMES[client][self.kind].format(mark=self.mark)
        tissue = self.tissue.replace("_", " ").strip()
        if tissue and self.kind in ("predictions", "outcome"):
            return f"{self.epigenome} {tissue} {what}"
        return f"{self.epigenome} {what}"

    @property
    def label(self) -> str:
        return self.name("session")

    def record(self) -> dict:
        """The hub manifest's record of this file."""
        return {"epigenome": self.epigenome, "tissue": self.tissue, "kind": self.kind, "mark": self.mark,
                "path": self.path}


def from_manifest(manifest: dict | None) -> list[TrackFile]:
    """The track records of a hub manifest (none without a hub)."""
    return [TrackFile(t["epigenome"], t.get("tissue") or "", t["kind"], t.get("mark"), t["path"])
            for t in (manifest or {}).get("tracks", [])]


def shown_tracks(files: list[TrackFile], epigenomes=None) -> list[TrackFile]:
    """The tracks clients show, grouped by epigenome (in ``epigenomes`` order, default the files'),
    kinds in :data:`SHOWN_KINDS` order, marks in their recorded order."""
    rank = {k: i for i, k in enumerate(SHOWN_KINDS)}
    order = list(epigenomes) if epigenomes is not None else list(dict.fromkeys(f.epigenome for f in files))
    chosen = [f for f in files if f.kind in rank and f.epigenome in order]
    return sorted(chosen, key=lambda f: (order.index(f.epigenome), rank[f.kind]))  # stable: marks keep their order


def igv_track(f: TrackFile, url: str | None, client: str = "session") -> dict:
    """The igv.js config of one track (``url`` None: the caller supplies the data, as report pages do)."""
    source = {} if url is None else {"url": url}
    if f.kind in ("predictions", "outcome"):
        return {"name": html.escape(f.name(client), quote=False), "type": "annotation", "format": "bigbed", **source,
                "displayMode": "EXPANDED", "visibilityWindow": 5_000_000}
    if f.kind == "contribution":
        return {"name": html.escape(f.name(client), quote=False), "type": "wig", "format": "bigwig", **source, "height": WIG_HEIGHT,
                "autoscale": True, "color": style.css_rgb(style.ACTIVATING), "altColor": style.css_rgb(style.REPRESSING)}
    return {"name": html.escape(f.name(client), quote=False), "type": "wig", "format": "bigwig", **source, "height": WIG_HEIGHT,
            "autoscale": True, "color": style.css_rgb(style.FEATURE), "windowFunction": "max"}


#: Name of the gene track (TSS, name and strand of every gene) in every client.
GENE_TRACK_NAME = "Genes"


def gene_track(url: str, indexed: bool = False) -> dict:
    """igv.js config of the hub's gene track: ``url`` of ``WS/hub/GENOME/genes.bed`` (loaded whole and
    searchable by name), or with ``indexed`` of its bgzip + tabix copy ``genes.bed.gz`` (read by region)."""
    index = {"indexURL": f"{url}.tbi"} if indexed else {"searchable": True}
    return {"name": GENE_TRACK_NAME, "type": "annotation", "format": "bed", "url": url, **index,
            "displayMode": "COLLAPSED", "color": style.css_rgb(style.GENE)}


def scale_group(f: TrackFile) -> str | None:
    """The igv.js ``autoscaleGroup`` of a wig track (``contribution:H3K4me3``, ``feature:H3K4me3``): one per
    kind and mark, so the shown epigenomes' tracks of a mark share one y scale; None for other tracks."""
    return f"{f.kind}:{f.mark}" if f.kind in ("contribution", "feature") else None


def igv_tracks(files: list[TrackFile], url_of, client: str = "session", epigenomes=None, *,
               shared_scale: bool = False) -> list[dict]:
    """igv.js configs of the shown tracks; ``url_of(path)`` turns a hub-relative path into the URL to load.

    ``shared_scale``: each wig track joins its :func:`scale_group` (igv.js autoscales a group to the
    range of all its tracks over the region in view) instead of autoscaling alone."""
    configs = []
    for f in shown_tracks(files, epigenomes):
        config = igv_track(f, url_of(f.path), client)
        group = scale_group(f) if shared_scale else None
        if group:
            config["autoscaleGroup"] = group
        configs.append(config)
    return configs


def desktop_colours(f: TrackFile) -> tuple[str, str | None]:
    """(color, altColor) of a wig track in an IGV desktop session (``r,g,b``)."""
    if f.kind == "contribution":
        return style.ACTIVATING, style.REPRESSING
    return style.FEATURE, None
