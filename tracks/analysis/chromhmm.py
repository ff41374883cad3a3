"""``shallowchrome chromhmm``: validate a workspace's patterns against ChromHMM.

For each epigenome, the regulative patterns of the interpretation split's
test genes (``contrib_<mark>`` in ``predictions.tsv``) are matched to the
emission vectors of a ChromHMM model (see :mod:`shallowchrome.model.chromhmm`),
states and state groups are ranked by the mean logit of their genes, and,
given the epigenome's ChromHMM segmentation, each gene's state at its TSS is
recorded and compared with its pattern-matched group.

Everything is computed before anything is written. Outputs (each written
atomically)::

    WS/interpretation/chromhmm.tsv            epigenome × state: group, genes matched, mean/sd logit, rank
    WS/interpretation/chromhmm_groups.tsv     epigenome × group: genes matched, mean/sd logit, rank
    WS/interpretation/chromhmm_ranks.png/.svg the group-rank histogram across epigenomes (Figure 4)
    WS/interpretation/chromhmm_agreement.tsv  epigenome × pattern group × segmentation group: test genes
    WS/interpretation/chromhmm.json           settings (emissions, groups, null state, marks) and a summary
    WS/epigenomes/EID/predictions.tsv         + column chromhmm_state (the state at each gene's TSS)
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from shallowchrome.model.chromhmm import (
    agreement,
    agreement_rate,
    common_marks,
    default_grouping,
    group_order,
    group_ranks,
    match_states,
    null_state,
    state_number,
    state_ranks,
)
from shallowchrome.model.errors import InputError, ModelError
from shallowchrome.model.estimator import finite_or_none
from shallowchrome.tracks.analysis.explain import check_epigenomes
from shallowchrome.tracks.analysis.pattern_charts import ranks_chart
from shallowchrome.tracks.io.segmentation import (
    DEFAULT_EMISSIONS,
    read_emissions,
    read_groups,
    read_segmentation,
    states_at,
)
from shallowchrome.tracks.io.textio import write_bytes_atomic, write_table_atomic
from shallowchrome.tracks.numbers import tidy
from shallowchrome.tracks.workspace.layout import Workspace, write_json_atomic

log = logging.getLogger(__name__)

STATE_COLUMN = "chromhmm_state"
MATCHING = ("Pearson correlation between |psi| (over the marks common to the model and the emission table) and each "
            "state's emissions; ties broken by cosine similarity; all-zero or constant patterns go to the null state")


@dataclass
class ChromHMMResult:
    """Everything ``chromhmm`` computed, ready to be written."""

    states: pd.DataFrame
    groups: pd.DataFrame
    agreement: pd.DataFrame | None
    tss_states: dict = field(default_factory=dict)  # eid → object array aligned with predictions.tsv rows
    summary: dict = field(default_factory=dict)


def validate(ws: Workspace, emissions_path=None, groups_path=None, segmentations: dict | None = None,
             epigenomes=None) -> ChromHMMResult:
    """Match patterns to states, rank states and groups, and compare with segmentations (nothing written).

    Epigenomes whose model shares fewer than two marks with the emission
    table, or without labelled test genes (no expression data), are skipped
    with a note, or are an error when named in ``epigenomes`` (or when none
    is left).
    """
    emissions = read_emissions(emissions_path)
    states = list(emissions.index)
    grouping = read_groups(groups_path, states) if groups_path else default_grouping(states)
    order = group_order(grouping)
    null = null_state(emissions)
    state_groups = np.array([grouping[s] for s in states], dtype=object)
    eids = check_epigenomes(ws, epigenomes)
    segmentations = _check_segmentations(ws, segmentations or {}, eids)
    summary = {"emissions": str(Path(emissions_path).resolve()) if emissions_path else f"packaged {DEFAULT_EMISSIONS}",
               "groups": str(Path(groups_path).resolve()) if groups_path else "default (Frasca et al. 2022)",
               "grouping": grouping, "null_state": states[null], "matching": MATCHING, "epigenomes": {}, "skipped": {}}
    state_tables, group_tables, agreement_tables, tss = [], [], [], {}
    for eid in eids:
        pairs = common_marks(ws.model(eid)["marks"], list(emissions.columns))
        if len(pairs) < 2:
            reason = (f"its model and the emission table share {len(pairs)} mark(s) "
                      f"({', '.join(m for m, _ in pairs) or 'none'}); matching needs at least two")
            if epigenomes:
                raise ModelError(f"{eid}: {reason}", fix=f"give an emission table with the model's marks "
                                 f"({', '.join(ws.model(eid)['marks'])}) or leave {eid} out of --epigenomes")
            log.warning("%s: skipped, %s", eid, reason)
            summary["skipped"][eid] = reason
            continue
        pred = ws.predictions(eid)
        test = (pred["part"] == "test").to_numpy()
        if not test.any():  # no expression data (predicted by a reference model): nothing to rank states by
            reason = "it has no labelled test genes (no expression data); the ranking needs them"
            if epigenomes:
                raise ModelError(f"{eid}: {reason}", fix=f"leave {eid} out of --epigenomes")
            log.info("%s: not validated, %s", eid, reason)
            summary["skipped"][eid] = reason
            continue
        patterns = pred.loc[test, [f"contrib_{m}" for m, _ in pairs]].to_numpy(dtype=np.float64)
        logits = pred.loc[test, "logit"].to_numpy(dtype=np.float64)
        matched = match_states(patterns, emissions[[c for _, c in pairs]].to_numpy(), null)
        matched_groups = state_groups[matched]
        state_tables.append(state_ranks(matched, logits, states, grouping).assign(epigenome=eid))
        group_tables.append(group_ranks(matched_groups, logits, order).assign(epigenome=eid))
        info = {"marks": [m for m, _ in pairs], "test_genes": int(test.sum()),
                "group_ranks": _ranks(group_tables[-1]), "segmentation": None, "agreement": None}
        if eid in segmentations:
            path = segmentations[eid]
            tss[eid] = states_at(read_segmentation(path), pred["chrom"], pred["tss"])
            seg_groups = segmentation_groups(tss[eid], grouping, path)
            table = agreement(matched_groups, seg_groups[test], order)
            agreement_tables.append(table.assign(epigenome=eid))
            info.update(segmentation=str(Path(path).resolve()), agreement=finite_or_none(agreement_rate(table)),
                        tss_without_state=int(pd.isna(tss[eid]).sum()))
        summary["epigenomes"][eid] = info
    if not state_tables:
        raise ModelError(f"no epigenome shares two marks with the emission table ({', '.join(emissions.columns)})",
                         fix="give --emissions with the marks the models use")
    return ChromHMMResult(
        states=_first(pd.concat(state_tables, ignore_index=True), "epigenome"),
        groups=_first(pd.concat(group_tables, ignore_index=True), "epigenome"),
        agreement=_first(pd.concat(agreement_tables, ignore_index=True), "epigenome") if agreement_tables else None,
        tss_states=tss, summary=summary)


def _check_segmentations(ws: Workspace, segmentations: dict, eids: list[str]) -> dict:
    """Segmentations of the epigenomes analysed; one for an epigenome the workspace lacks is an error."""
    unknown = [e for e in segmentations if e not in ws.epigenomes()]
    if unknown:
        raise InputError(segmentations[unknown[0]], f"segmentation given for {unknown[0]}, which has no model in "
                         f"workspace {ws.root} (has {', '.join(ws.epigenomes())})", fix="check the epigenome id")
    for eid, path in segmentations.items():
        if not Path(path).is_file():
            raise InputError(path, f"segmentation of {eid} not found", fix="check the path")
    return {e: Path(p) for e, p in segmentations.items() if e in eids}


def segmentation_groups(tss_states: np.ndarray, grouping: dict, source) -> np.ndarray:
    """Group of each TSS state (None where no state); a state the grouping lacks is an :class:`InputError`."""
    by_number = {state_number(s): g for s, g in grouping.items()}
    names = pd.unique(pd.Series(tss_states).dropna())
    lookup = {}
    for name in names:
        group = grouping.get(name, by_number.get(state_number(name)))
        if group is None:
            raise InputError(source, f"state {name!r} is not a state of the emission table "
                             f"({', '.join(list(grouping)[:3])}, …)",
                             fix="give the segmentation made with the same ChromHMM model as --emissions, or --groups "
                                 "covering its states")
        lookup[name] = group
    return pd.Series(tss_states, dtype=object).map(lookup).to_numpy(dtype=object)


def _ranks(groups: pd.DataFrame) -> dict:
    return {g: (None if pd.isna(r) else int(r)) for g, r in zip(groups["group"], groups["rank"])}


def _first(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame[[column, *[c for c in frame.columns if c != column]]]


def add_state_column(path, states: np.ndarray) -> None:
    """Rewrite a predictions.tsv with ``chromhmm_state`` (replaced in place if present, else appended).

    Every other column is kept byte for byte (read as text); missing states
    are written ``NA``. Atomic.
    """
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    if len(frame) != len(states):
        raise ModelError(f"{path}: {len(frame)} rows but {len(states)} TSS states; rebuild the workspace")
    frame[STATE_COLUMN] = pd.Series(states, dtype=object).fillna("NA").to_numpy()
    write_table_atomic(path, frame)


def write_results(ws: Workspace, result: ChromHMMResult) -> list[Path]:
    """Write the tables, charts, summary and TSS states; returns the files written."""
    written = []
    for eid, states in result.tss_states.items():
        add_state_column(ws.predictions_path(eid), states)
        written.append(ws.predictions_path(eid))
    tables = {"chromhmm.tsv": result.states, "chromhmm_groups.tsv": result.groups}
    stale = ws.interpretation_path("chromhmm_agreement.tsv")
    if result.agreement is not None:
        tables["chromhmm_agreement.tsv"] = result.agreement
    elif stale.exists():
        stale.unlink()  # it compared patterns matched by an earlier run
    for name, frame in tables.items():
        write_table_atomic(ws.interpretation_path(name), frame, float_format="%.6g")
        written.append(ws.interpretation_path(name))
    for fmt in ("png", "svg"):
        path = ws.interpretation_path(f"chromhmm_ranks.{fmt}")
        write_bytes_atomic(path, ranks_chart(result.groups, fmt))
        written.append(path)
    write_json_atomic(ws.interpretation_path("chromhmm.json"), tidy(result.summary))  # no binary noise, no -0.0
    ws.link_entries()
    written.append(ws.interpretation_path("chromhmm.json"))
    return written
