"""A JBrowse 2 configuration over the hub's files: ``WS/hub/jbrowse/config.json``.

JBrowse 2 can connect to the UCSC hub itself, but its hub parser
(@gmod/ucsc-hub) only adds the tracks to an assembly that is already loaded
under the hub's genome name, and it drops the display settings (colours,
scaling). This module writes a complete JBrowse 2 ``config.json`` instead,
from the hub manifest (``WS/hub/tracks.json``), so nothing but the hub folder
is needed. Keys follow the JBrowse 2 configuration schemas (the
jbrowse-components sources of plugin-sequence, plugin-config, plugin-bed,
plugin-wiggle, plugin-linear-genome-view), checked against the released
npm packages of JBrowse 2.18, 3.6 and 4.1/4.2:

- **assembly**: named after the hub's genome, with a ``ReferenceSequenceTrack``
  on a ``ChromSizesAdapter`` reading the hub's ``GENOME/chrom.sizes``. JBrowse's
  assembly guide lists it as a supported sequence adapter ("chromosome names
  only, no sequence"): a sequence-less genome, like the igv.js session's. An
  all-N FASTA or 2bit would be the alternative and is not worth its size (a
  2bit stores 2 bits for every base, N or not: ~750 MB for hg19).
  ``refNameAliases`` (an inline ``FromConfigAdapter``) make ``1`` and ``chr1``
  (``M`` and ``chrM``) name the same chromosome.
- **tracks**, in hub order, every file of the manifest and each epigenome's
  tabix-indexed BED: ``FeatureTrack`` + ``BigBedAdapter`` (predictions,
  right/wrong), ``FeatureTrack`` + ``BedTabixAdapter`` (the same items as
  ``.bed.gz`` + ``.tbi``), ``QuantitativeTrack`` + ``BigWigAdapter``
  (contribution ψ and feature), and the hub's gene track when the manifest
  names one. Categories: epigenome, then mark.
- **colours** (:mod:`shallowchrome.tracks.style`): a ``LinearBasicDisplay``
  whose renderer's ``color1`` is a jexl callback reading the item's itemRgb
  field (its name taken from the items' autoSql: ``reserved``, as UCSC names
  it), so predictions are green ON / vermillion OFF and right/wrong items blue
  / orange / grey exactly as in the hub; ψ wiggles with ``posColor`` green
  (activating) and ``negColor`` red (repressing) on every renderer of a
  ``LinearWiggleDisplay``; features sky blue. The renderer type is
  ``SvgFeatureRenderer``: JBrowse 2 and 3 have it, JBrowse 4 keeps the name as
  an alias of its canvas renderer (same slots).
- **default session**: one linear genome view at the hub's locus (the
  sessions' opening gene) showing the gene track and the first epigenomes'
  predictions and ψ tracks. It is written twice over, as an exported session
  (``displayedRegions``/``bpPerPx``/``offsetPx``/``tracks``, which every JBrowse 2
  version reads) and as an ``init`` block (JBrowse >= 3.6), which navigates
  to the locus exactly, whatever the window width.

Every URI is relative to ``config.json`` with ``locationType: UriLocation``:
JBrowse Web resolves a config's relative URIs against the config's own URL, so
the folder works served (``/hub/jbrowse/config.json``) and copied.

Text search: released JBrowse 2 (up to @jbrowse/plugin-bed 4.1.13, the newest
the npm registry here offers) searches only trix indexes
(``TrixTextSearchAdapter``, made by ``jbrowse text-index``) and JBrowse 1 name
stores. The bigBed's own name index (``name``, ``gene_id``) is read by a
``BigBedTextSearchAdapter`` (slots ``bigBedLocation``, optional
``ixFilePath``/``ixxFilePath``, ``assemblyNames``) that exists only in
jbrowse-components' development sources, and an adapter type a JBrowse does
not know stops the whole config from loading. So no text search is
configured (a trix index is out of scope); genes are found by coordinates.

Coordinates are 0-based, half-open (BED) everywhere in the config except the
``loc`` string, which JBrowse reads 1-based, closed, as browsers display loci.
"""
from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from shallowchrome.model.errors import InputError
from shallowchrome.tracks import style
from shallowchrome.tracks.hub.bigbed import parse_autosql_names
from shallowchrome.tracks.hub.igv import TrackFile, from_manifest
from shallowchrome.tracks.io.chromsizes import load_chrom_sizes
from shallowchrome.tracks.workspace.layout import Workspace, write_json_atomic

__all__ = ["BedFile", "gene_track_files", "jbrowse_config", "write_jbrowse_config"]

#: Epigenomes whose predictions and ψ tracks the default session shows (the others are in the track selector).
SESSION_EPIGENOMES = 3
#: Width (px) the default session's locus spans in the exported-session form.
SESSION_WIDTH_PX = 800
WIG_HEIGHT = 40
#: The itemRgb column's name in a BED9 autoSql (UCSC's name; it is column 9).
ITEM_RGB = "reserved"
#: Largest assembly (sequences) given inline chr1 <-> 1 aliases.
MAX_ALIASED = 2000
WIGGLE_RENDERERS = ("XYPlotRenderer", "DensityRenderer", "LinePlotRenderer")

_DESCRIPTIONS = {
    "predictions": "Predicted expression of each gene over TSS \u00b1 window (thick: TSS \u00b1 500 bp), "
                   "coloured by predicted class: ON bluish green, OFF vermillion",
    "outcome": "The prediction items coloured by the prediction against the measured class: "
               "correct blue, wrong orange, unlabelled grey",
    "bed": "The prediction items as a bgzipped, tabix-indexed BED (the same items as the bigBed)",
    "contribution": "Contribution \u03c8 = weight \u00d7 feature of {mark} to the gene's logit, over its window: "
                    "positive (activating) green, negative (repressing) red",
    "feature": "The model's input for {mark}: the maximum peak signalValue over TSS \u00b1 window",
    "genes": "Genes of the workspace at their TSS (name: symbol, else Ensembl id)",
}
_MOUSEOVER = ("jexl:get(feature,'name') + ' (' + get(feature,'gene_id') + ') P(ON) ' + get(feature,'probability')"
              " + ', logit ' + get(feature,'logit') + '; top: ' + get(feature,'top_mark')"
              " + ' (' + get(feature,'top_contrib') + ')'")


@dataclass(frozen=True)
class BedFile:
    """An epigenome's tabix-indexed BED of prediction items (not a manifest record).

    ``path`` (the ``.bed.gz``) and ``index`` (its ``.tbi``) are POSIX and relative to the hub folder;
    ``autosql`` is the items' autoSql text (the ``.as`` file), '' when unknown."""

    epigenome: str
    path: str
    index: str
    autosql: str = ""


def _location(uri: str) -> dict:
    return {"uri": uri, "locationType": "UriLocation"}


def _item_rgb_field(autosql: str) -> str:
    """Name of the itemRgb column (the 9th) of an autoSql text; UCSC's ``reserved`` when unknown."""
    names = parse_autosql_names(autosql) if autosql else []
    return names[8] if len(names) > 8 else ITEM_RGB


def item_colour_callback(field: str = ITEM_RGB) -> str:
    """The jexl colour callback of a BED item: its itemRgb ``r,g,b`` as ``rgb(r,g,b)``, grey without one."""
    get = f"get(feature,'{field}')"
    return f"jexl:{get} ? 'rgb(' + {get} + ')' : '{style.css_rgb(style.NOT_SIGNIFICANT)}'"


def _epigenome_label(f: TrackFile) -> str:
    tissue = f.tissue.replace("_", " ").strip()
    return f"{f.epigenome} {tissue}" if tissue else f.epigenome


def _track_id(f: TrackFile) -> str:
    return ".".join(p for p in (f.epigenome, f.mark, f.kind) if p)


def _metadata(f: TrackFile, path: str) -> dict:
    meta = {"epigenome": f.epigenome, "tissue": f.tissue.replace("_", " "), "kind": f.kind}
    if f.mark:
        meta["mark"] = f.mark
    return {**meta, "file": path}


def _feature_track(track_id: str, name: str, genome: str, adapter: dict, category: list, description: str,
                   metadata: dict, colour: str | None, mouseover: str | None = None) -> dict:
    display = {"type": "LinearBasicDisplay", "displayId": f"{track_id}-LinearBasicDisplay"}
    if mouseover:
        display["mouseover"] = mouseover
    if colour:
        display["renderer"] = {"type": "SvgFeatureRenderer", "color1": colour}
    track = {"type": "FeatureTrack", "trackId": track_id, "name": name, "assemblyNames": [genome],
             "category": category, "description": description, "metadata": metadata, "adapter": adapter,
             "displays": [display]}
    if not category:
        del track["category"]
    return track


def _bed_tabix_adapter(uri_of, path: str, index: str, autosql: str = "") -> dict:
    adapter = {"type": "BedTabixAdapter", "bedGzLocation": _location(uri_of(path)),
               "index": {"indexType": "TBI", "location": _location(uri_of(index))}}
    if autosql:
        adapter["autoSql"] = autosql
    return adapter


def _wiggle_track(f: TrackFile, genome: str, uri: str) -> dict:
    track_id = _track_id(f)
    if f.kind == "contribution":
        colours = {"posColor": style.css_rgb(style.ACTIVATING), "negColor": style.css_rgb(style.REPRESSING)}
    else:
        colours = {"color": style.css_rgb(style.FEATURE)}
    renderers = {r: {"type": r, **colours} for r in WIGGLE_RENDERERS}
    if f.kind == "feature":  # the max over a zoomed-out bin, as the igv.js session's windowFunction
        renderers["XYPlotRenderer"]["summaryScoreMode"] = "max"
    return {"type": "QuantitativeTrack", "trackId": track_id, "name": f.name("browser"), "assemblyNames": [genome],
            "category": [_epigenome_label(f), f.mark], "description": _DESCRIPTIONS[f.kind].format(mark=f.mark),
            "metadata": _metadata(f, f.path),
            "adapter": {"type": "BigWigAdapter", "bigWigLocation": _location(uri)},
            "displays": [{"type": "LinearWiggleDisplay", "displayId": f"{track_id}-LinearWiggleDisplay",
                          "height": WIG_HEIGHT, "renderers": renderers}]}


def _aliases(sizes: dict) -> list[dict]:
    """``chr1`` ↔ ``1`` for every chromosome (an alias that is itself a chromosome name is left out);
    none for an assembly of more than :data:`MAX_ALIASED` sequences (inline, they would swell the config)."""
    out = []
    if len(sizes) > MAX_ALIASED:
        return out
    for name in sizes:
        alias = name[3:] if name.startswith("chr") and len(name) > 3 else f"chr{name}"
        if alias not in sizes:
            out.append({"uniqueId": f"alias-{name}", "refName": name, "aliases": [alias]})
    return out


_LOCUS = re.compile(r"^(?P<chrom>[^:\s]+):(?P<start>[\d,]+)-(?P<end>[\d,]+)$")


def parse_locus(locus: str, sizes: dict) -> tuple[str, int, int] | None:
    """``chr1:48001-68000`` (1-based, closed) → ("chr1", 48000, 68000) (0-based, half-open), clipped to the
    chromosome; None when it names no chromosome of ``sizes``."""
    m = _LOCUS.match(str(locus or "").strip())
    if not m or m["chrom"] not in sizes:
        return None
    length = sizes[m["chrom"]]
    start = min(max(0, int(m["start"].replace(",", "")) - 1), length - 1)
    end = min(max(start + 1, int(m["end"].replace(",", ""))), length)
    return m["chrom"], start, end


def gene_track_files(manifest: dict) -> tuple[str, str] | None:
    """The hub's gene track (manifest ``genes``: the BED, or its ``.gz``) as (bgzipped BED, tabix index),
    relative to the hub folder; None when the manifest names none."""
    genes = manifest.get("genes")
    if not genes:
        return None
    gz = genes if genes.endswith(".gz") else f"{genes}.gz"
    return gz, f"{gz}.tbi"


def jbrowse_config(manifest: dict, sizes: dict, chrom_sizes: str, locus: str | None = None,
                   bed_files=(), to_hub: str = "..") -> dict:
    """The JBrowse 2 config (a JSON-able dict) of a hub; see the module docstring.

    ``manifest``: the hub manifest (``tracks.json``: genome, tracks, optional ``genes`` and ``locus``);
    ``sizes``: chromosome → length of the assembly; ``chrom_sizes``: its file, relative to the hub folder;
    ``locus``: where the default session opens (1-based, closed; default the manifest's, else the first
    chromosome); ``bed_files``: :class:`BedFile` records of the epigenomes' tabix-indexed BEDs; ``to_hub``:
    the hub folder relative to the config file's folder (every URI is ``to_hub/path``).
    """
    genome = manifest["genome"]

    def uri_of(path: str) -> str:
        return posixpath.join(to_hub, path) if to_hub else path

    files = from_manifest(manifest)
    beds = {b.epigenome: b for b in bed_files}
    colour_field = {eid: _item_rgb_field(b.autosql) for eid, b in beds.items()}
    tracks, shown = [], []
    genes = gene_track_files(manifest)
    if genes:
        tracks.append(_feature_track("genes", "Genes (TSS)", genome, _bed_tabix_adapter(uri_of, *genes), [],
                                     _DESCRIPTIONS["genes"], {"file": genes[0]}, None))
        shown.append(tracks[-1])
    order = list(dict.fromkeys(f.epigenome for f in files))
    session_epigenomes = set(order[:SESSION_EPIGENOMES])
    for f in files:
        if f.kind in ("predictions", "outcome"):
            field = colour_field.get(f.epigenome, ITEM_RGB)
            track = _feature_track(_track_id(f), f.name("browser"), genome,
                                   {"type": "BigBedAdapter", "bigBedLocation": _location(uri_of(f.path))},
                                   [_epigenome_label(f)], _DESCRIPTIONS[f.kind], _metadata(f, f.path),
                                   item_colour_callback(field), _MOUSEOVER)
            tracks.append(track)
            if f.kind == "predictions" and f.epigenome in session_epigenomes:
                shown.append(track)
            bed = beds.get(f.epigenome) if f.kind == "predictions" else None
            if bed is not None:  # the same items, tabix-indexed: right after their bigBed
                record = TrackFile(f.epigenome, f.tissue, "bed", None, bed.path)
                tracks.append(_feature_track(_track_id(record), f"{f.name('browser')} (BED)", genome,
                                             _bed_tabix_adapter(uri_of, bed.path, bed.index, bed.autosql),
                                             [_epigenome_label(f)], _DESCRIPTIONS["bed"], _metadata(record, bed.path),
                                             item_colour_callback(field), _MOUSEOVER))
        elif f.kind in ("contribution", "feature"):
            tracks.append(_wiggle_track(f, genome, uri_of(f.path)))
            if f.kind == "contribution" and f.epigenome in session_epigenomes:
                shown.append(tracks[-1])
    assembly = {
        "name": genome,
        "displayName": f"{genome} (chromosome sizes only)",
        "sequence": {"type": "ReferenceSequenceTrack", "trackId": f"{genome}-ReferenceSequenceTrack",
                     "adapter": {"type": "ChromSizesAdapter", "chromSizesLocation": _location(uri_of(chrom_sizes))}},
    }
    aliases = _aliases(sizes)
    if aliases:
        assembly["refNameAliases"] = {"adapter": {"type": "FromConfigAdapter", "features": aliases}}
    return {"assemblies": [assembly], "tracks": tracks,
            "defaultSession": _default_session(genome, sizes, locus or manifest.get("locus"), shown, order)}


def _default_session(genome: str, sizes: dict, locus: str | None, shown: list[dict], epigenomes: list) -> dict:
    region = parse_locus(locus, sizes) if locus else None
    if region is None:
        chrom = next(iter(sizes))
        region = (chrom, 0, sizes[chrom])
    chrom, start, end = region
    bp_per_px = (end - start) / SESSION_WIDTH_PX
    session_tracks = [{"type": t["type"], "configuration": t["trackId"],
                       "displays": [{"type": t["displays"][0]["type"], "configuration": t["displays"][0]["displayId"]}]}
                      for t in shown]
    view = {
        "id": "shallowchrome-view",
        "type": "LinearGenomeView",
        "displayName": f"ShallowChrome {genome}",
        "bpPerPx": bp_per_px,
        "offsetPx": round(start / bp_per_px),
        "displayedRegions": [{"refName": chrom, "start": 0, "end": sizes[chrom], "reversed": False,
                              "assemblyName": genome}],
        "tracks": session_tracks,
        "init": {"assembly": genome, "loc": f"{chrom}:{start + 1}-{end}", "tracks": [t["trackId"] for t in shown]},
    }
    shown_epigenomes = ", ".join(epigenomes[:SESSION_EPIGENOMES])
    return {"name": f"ShallowChrome {shown_epigenomes}".strip(), "views": [view]}


def _first_gene_locus(ws: Workspace, window: int) -> str | None:
    """The first gene's TSS ± 2 windows (1-based, closed), as the hub's sessions open without a locus."""
    genes = ws.genes()
    if genes.empty:
        return None
    g = genes.iloc[0]
    return f"{g['chrom']}:{max(1, int(g['tss']) - 2 * window + 1)}-{int(g['tss']) + 2 * window}"


def write_jbrowse_config(workspace, genome: str | None = None, locus: str | None = None) -> Path:
    """Write ``WS/hub/jbrowse/config.json`` from the hub written before (manifest, chrom.sizes, BEDs)."""
    ws = workspace if isinstance(workspace, Workspace) else Workspace.open(workspace)
    manifest = ws.hub_manifest()
    if manifest is None:
        raise InputError(ws.shown(ws.hub_manifest_path), "does not exist: the workspace has no hub",
                         fix="run `shallowchrome tracks WS` first")
    genome = genome or manifest.get("genome")
    if genome != manifest.get("genome"):
        raise InputError(ws.shown(ws.hub_manifest_path), f"is the hub of genome {manifest.get('genome')!r}, "
                         f"not {genome!r}", fix=f"run `shallowchrome tracks WS --genome {genome}` first")
    genes = gene_track_files(manifest)
    if genes and not all((ws.hub_dir / p).is_file() for p in genes):
        manifest = {k: v for k, v in manifest.items() if k != "genes"}  # no indexed copy: no gene track
    sizes_path = ws.chrom_sizes_path(genome)
    sizes = load_chrom_sizes(genome, sizes_path).sizes
    beds = []
    for eid in manifest.get("epigenomes", []):
        path, schema = ws.track_file(eid, "bed.gz", genome=genome), ws.track_file(eid, "schema", genome=genome)
        index = path.with_name(path.name + ".tbi")
        if path.is_file() and index.is_file():
            rel = path.relative_to(ws.hub_dir).as_posix()
            beds.append(BedFile(eid, rel, f"{rel}.tbi", schema.read_text() if schema.is_file() else ""))
    if not locus and not manifest.get("locus"):
        locus = _first_gene_locus(ws, int(manifest.get("window") or 5000))
    target = ws.jbrowse_config_path
    to_hub = Path(os.path.relpath(ws.hub_dir, target.parent)).as_posix()
    doc = jbrowse_config(manifest, sizes, sizes_path.relative_to(ws.hub_dir).as_posix(), locus=locus,
                         bed_files=beds, to_hub=to_hub)
    write_json_atomic(target, doc)
    return target
