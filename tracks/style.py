"""The one colour scheme of every output: hub tracks, igv.js and IGV sessions, report pages and charts.

Okabe-Ito colours (distinguishable with the common colour-vision
deficiencies), as ``"r,g,b"`` strings (the trackDb and BED itemRgb form);
:func:`hex_colour` and :func:`css_rgb` give the other spellings clients want.

- predicted class: ON bluish green, OFF vermillion; outcome: correct blue, wrong orange, unlabelled grey
- a mark's term: activating (w > 0) green, repressing (w < 0) red, not significant grey — the same in
  the ψ bigWigs (positive / negative), the pattern charts and the report's peak tracks
- features (max peak signal): sky blue; ChromHMM states: Roadmap's colours (15_Quies light grey, not white)
"""
from __future__ import annotations

#: Predicted class → itemRgb.
CLASS_RGB = {1: "0,158,115", 0: "213,94,0"}
OUTCOME_RGB = {"correct": "0,114,178", "wrong": "230,159,0", "unlabelled": "153,153,153"}
#: A term's role → colour; ψ bigWigs use ACTIVATING for positive and REPRESSING (altColor) for negative values.
ACTIVATING, REPRESSING, NOT_SIGNIFICANT = "0,158,115", "213,94,0", "179,179,179"
FEATURE = "86,180,233"
#: The gene track (TSS, name, strand).
GENE = "51,51,51"
#: The model's input field (TSS ± window) in report pages.
ROI = "rgba(68,136,204,0.12)"
#: Ranks of the ChromHMM group histogram (1st … 4th, then "no gene matched").
RANK_COLOURS = ("#08519C", "#4A8FCB", "#9CC3E4", "#DCE9F5", "#EEEEEE")
#: Roadmap colours of the 15 core-mark ChromHMM states by state number (15_Quies light grey instead of white).
CHROMHMM_RGB = {1: "255,0,0", 2: "255,69,0", 3: "50,205,50", 4: "0,128,0", 5: "0,100,0", 6: "194,225,5",
                7: "255,255,0", 8: "102,205,170", 9: "138,145,208", 10: "205,92,92", 11: "233,150,122",
                12: "189,183,107", 13: "128,128,128", 14: "192,192,192", 15: "235,235,235"}
OTHER_STATE_RGB = "170,170,170"


def hex_colour(rgb: str) -> str:
    """``"0,158,115"`` → ``"#009E73"`` (matplotlib, CSS)."""
    return "#" + "".join(f"{int(c):02X}" for c in rgb.split(","))


def css_rgb(rgb: str) -> str:
    """``"0,158,115"`` → ``"rgb(0,158,115)"`` (igv.js)."""
    return f"rgb({rgb})"


def term_colour(role: str | None, significant) -> str:
    """The colour of a mark's term: its role's when significant, else grey (unknown significance is grey)."""
    if not significant:
        return NOT_SIGNIFICANT
    return {"activating": ACTIVATING, "repressing": REPRESSING}.get(role or "", NOT_SIGNIFICANT)
