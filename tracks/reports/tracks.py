"""The igv.js tracks of a report page, as text sliced to the page's region (BED, bedGraph; 0-based, half-open).

Per epigenome, in this order: the hub's prediction items (BED9, details as
gffTags for igv.js popups), the input peaks of each mark (BED4, name = the
peak's signalValue; coloured green / red / grey as the mark's weight is
activating, repressing or not significant), the contribution ψ of each mark
(bedGraph from the hub's bigWig; positive green, negative red) and the
ChromHMM segments when a segmentation is recorded (BED9, Roadmap colours).
A region of interest marks the model's input field, TSS ± window.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from shallowchrome.model.chromhmm import state_number
from shallowchrome.tracks import style
from shallowchrome.tracks.hub.igv import TrackFile, igv_track
from shallowchrome.tracks.reports.igv import IgvTrack
from shallowchrome.tracks.reports.regions import bigwig_bedgraph, fetch_lines, tabix_header

if TYPE_CHECKING:
    from shallowchrome.tracks.reports.context import EpigenomeSources, Region, ReportContext

CHROMHMM_RGB, OTHER_STATE_RGB = style.CHROMHMM_RGB, style.OTHER_STATE_RGB
_TAG_UNSAFE = re.compile(r"[;=\s]+")
ROI_COLOUR = style.ROI
#: Fields of the hub's prediction items shown in igv.js popups (gffTags), with their labels.
POPUP_FIELDS = (("gene_id", "gene_id"), ("probability", "P(ON)"), ("logit", "logit"), ("predicted", "predicted"),
                ("label", "measured"), ("rpkm", "RPKM"), ("outcome", "outcome"), ("part", "part"),
                ("top_mark", "top_mark"), ("chromhmm_state", "ChromHMM"))


def mark_colour(role: str | None, significant) -> str:
    """Green for an activating mark, red for a repressing one, grey when not significant (as in the chart)."""
    return style.css_rgb(style.term_colour(role, significant))


def _hub_track(src: "EpigenomeSources", kind: str, mark: str | None = None) -> dict:
    """The igv.js config every client gives this hub track (:mod:`shallowchrome.tracks.hub.igv`), without a URL."""
    return igv_track(TrackFile(src.eid, src.tissue, kind, mark, ""), None, client="report")


def prediction_track(src: "EpigenomeSources", region: "Region") -> IgvTrack:
    """The hub's prediction items overlapping the region, BED9 with the details as gffTags."""
    names = tabix_header(src.predictions_bed)[-1].lstrip("#").split("\t")
    lines = ["track gffTags=on"]
    for line in fetch_lines(src.predictions_bed, region.chrom, region.start, region.end):
        rec = dict(zip(names, line.split("\t")))
        tags = [("Name", rec["name"])] + [(label, rec[k]) for k, label in POPUP_FIELDS if rec.get(k)]
        tags += [(f"psi_{k.removeprefix('contrib_')}", v) for k, v in rec.items() if k.startswith("contrib_")]
        name = ";".join(f"{k}={_tag_value(v)}" for k, v in tags)
        lines.append("\t".join([rec["chrom"], rec["chromStart"], rec["chromEnd"], name, rec["score"], rec["strand"],
                                rec["thickStart"], rec["thickEnd"], rec["reserved"]]))
    config = {**_hub_track(src, "predictions"), "format": "bed", "autoHeight": True, "minHeight": 30,
              "maxHeight": 200}
    config.pop("visibilityWindow")
    return IgvTrack(config, "\n".join(lines) + "\n")


def _tag_value(value) -> str:
    """A gffTags value: no ``;`` or ``=`` (separators) and no blanks (igv.js splits BED lines on whitespace)."""
    return _TAG_UNSAFE.sub("_", str(value))


def peak_track(ctx: "ReportContext", src: "EpigenomeSources", mark: str, fmt: str | None, region: "Region",
               colour: str) -> tuple[IgvTrack | None, int | None, str]:
    """(track, number of peaks in the model's input field, why there is no track) of one mark's input peaks."""
    copy, note = ctx.peak_copy(src.eid, mark, fmt)
    if copy is None:
        return None, None, note
    lines = fetch_lines(copy, region.chrom, region.start, region.end)
    lo, hi = region.tss - ctx.window, region.tss + ctx.window
    in_window = sum(1 for line in lines if _overlaps(line, lo, hi))
    track = IgvTrack({"name": f"{src.eid} {mark} {fmt}", "format": "bed", "type": "annotation",
                      "displayMode": "COLLAPSED", "height": 22, "color": colour}, "".join(f"{x}\n" for x in lines))
    return track, in_window, ""


def _overlaps(line: str, lo: int, hi: int) -> bool:
    fields = line.split("\t", 3)
    return int(fields[1]) < hi and int(fields[2]) > lo


def contribution_track(src: "EpigenomeSources", mark: str, region: "Region") -> IgvTrack | None:
    """ψ of one mark over the region (the hub's bigWig as bedGraph); None without the bigWig."""
    path = src.contributions.get(mark)
    if path is None or not path.is_file():
        return None
    values = bigwig_bedgraph(path, region.chrom, region.start, region.end)
    text = "".join(f"{region.chrom}\t{s}\t{e}\t{v:.6g}\n" for s, e, v in values)
    config = {**_hub_track(src, "contribution", mark), "format": "bedgraph", "height": 34}
    return IgvTrack(config, text, suffix="bedgraph")


def chromhmm_track(ctx: "ReportContext", src: "EpigenomeSources", region: "Region") -> IgvTrack | None:
    """The ChromHMM segments over the region; None without a recorded segmentation."""
    copy = ctx.segmentation_copy(src.eid)
    if copy is None:
        return None
    out = []
    for line in fetch_lines(copy, region.chrom, region.start, region.end):
        chrom, start, end, state = line.split("\t")[:4]
        rgb = CHROMHMM_RGB.get(state_number(state), OTHER_STATE_RGB)
        out.append(f"{chrom}\t{start}\t{end}\t{state}\t0\t.\t{start}\t{end}\t{rgb}\n")
    return IgvTrack({"name": f"{src.eid} ChromHMM", "format": "bed", "type": "annotation", "displayMode": "COLLAPSED",
                     "height": 22}, "".join(out))


def window_roi(ctx: "ReportContext", gene: dict, region: "Region") -> IgvTrack:
    """The model's input field, TSS ± window, as a region of interest."""
    lo, hi = max(region.start, region.tss - ctx.window), min(region.end, region.tss + ctx.window)
    return IgvTrack({"name": "model input", "format": "bed", "type": "roi", "color": ROI_COLOUR},
                    f"{region.chrom}\t{lo}\t{hi}\tmodel input: TSS \u00b1 {ctx.window} bp\n")


def gene_tracks(ctx: "ReportContext", gene: dict, region: "Region", rows: list[dict]) -> list[IgvTrack]:
    """Every track of a page; sets each table row's ``peaks`` (peaks per mark in TSS ± window) and ``track_notes``."""
    tracks = [window_roi(ctx, gene, region)]
    for row in rows:
        src = ctx.sources[row["eid"]]
        tracks.append(prediction_track(src, region))
        row["peaks"], row["track_notes"] = {}, []
        for mark in src.marks:
            term = row["marks"].get(mark, {})
            fmt = term.get("format") or src.format_of(mark)
            colour = mark_colour(term.get("role"), term.get("significant"))
            track, count, note = peak_track(ctx, src, mark, fmt, region, colour)
            row["peaks"][mark] = count
            if track is None:
                row["track_notes"].append(f"{mark} peaks not shown: {note}")
            else:
                tracks.append(track)
        tracks += [t for t in (contribution_track(src, m, region) for m in src.marks) if t is not None]
        segments = chromhmm_track(ctx, src, region)
        if segments is not None:
            tracks.append(segments)
    return tracks
