"""Epigenome metadata (``build --metadata FILE``): the names, groups and colours users give their epigenomes.

A TSV with a header line naming ``epigenome`` and any of ``name`` (alias
``tissue``), ``group`` and ``color`` (alias ``colour``; ``#RRGGBB``), one
line per epigenome; an empty cell leaves that field to the packaged Roadmap
table (:func:`~shallowchrome.tracks.reference.roadmap_epigenomes`), whose
names, groups and colours every Roadmap id (E001–E129) has anyway::

    epigenome   name            group       color
    E066        Adult liver     Digestive
    LIVER_P1    Patient 1 liver Patients    #1B9E77

``build`` records what the file gives in ``workspace.json`` (per epigenome:
``tissue`` = the name, and ``group``/``color`` when given); :func:`describe`
is how every page, chart, hub and report shows an epigenome: the recorded
values over the Roadmap table's, epigenomes the table does not know in the
group ``Other`` with Roadmap's grey.
"""
from __future__ import annotations

import re
from functools import lru_cache

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.io.names import RULE, is_name
from shallowchrome.tracks.io.tables import read_tsv

#: Column aliases → the field they fill.
COLUMNS = {"name": "name", "tissue": "name", "group": "group", "color": "color", "colour": "color"}
#: Longest name / group accepted (they become labels in pages, trackDb subGroups and chart rows).
MAX_LENGTH = {"name": 80, "group": 40}
COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
#: The group (and its colour) of an epigenome neither the file nor the Roadmap table places.
OTHER_GROUP, OTHER_COLOUR = "Other", "#999999"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def read_epigenome_metadata(path) -> dict[str, dict]:
    """Epigenome id → ``{"name", "group", "color"}`` (only the fields the file gives), in file order.

    Errors (:class:`InputError`, one line naming the file and line and the fix): a header without
    ``epigenome`` or without any of name/tissue, group, color/colour; an id that is not a valid name
    (:data:`~shallowchrome.tracks.io.names.RULE`); an id listed twice; a colour that is not ``#RRGGBB``;
    a name over 80 or group over 40 characters, or one holding a line break or control character.
    """
    frame = read_tsv(path, "epigenome metadata file", required=("epigenome",))
    fields: dict[str, str] = {}  # field → column
    for column in frame.columns:
        field = COLUMNS.get(column.lower())
        if field is None:
            continue
        if field in fields:
            raise InputError(path, f"columns {fields[field]!r} and {column!r} both give the {field}", line=1,
                             fix=f"keep one of them ({', '.join(k for k, v in COLUMNS.items() if v == field)})")
        fields[field] = column
    if not fields:
        raise InputError(path, f"has no name, group or color column (has {', '.join(frame.columns)})", line=1,
                         fix="name the columns epigenome and any of name (or tissue), group, color (#RRGGBB)")
    out: dict[str, dict] = {}
    first_line: dict[str, int] = {}
    for i, row in enumerate(frame.to_dict("records")):
        line = i + 2
        eid = row["epigenome"]
        eid = eid.strip() if isinstance(eid, str) else eid
        if not is_name(eid):
            raise InputError(path, f"epigenome id {eid!r} is not a valid name" if eid else "no epigenome id",
                             line=line, fix=f"use only {RULE}, as in the peaks and expression tables")
        if eid in first_line:
            raise InputError(path, f"epigenome {eid} is listed twice (lines {first_line[eid]} and {line})",
                             line=line, fix="give one line per epigenome")
        first_line[eid] = line
        rec = {}
        for field, column in fields.items():
            value = row.get(column)
            if not isinstance(value, str) or not value.strip():
                continue
            rec[field] = _check_value(path, line, eid, field, column, value)
        out[eid] = rec
    return out


def _check_value(path, line: int, eid: str, field: str, column: str, value: str) -> str:
    if _CONTROL.search(value):
        what = "a line break" if re.search(r"[\r\n\u2028\u2029]", value) else "a control character"
        raise InputError(path, f"the {column} of {eid} holds {what}", line=line,
                         fix=f"write the {column} on one line, as plain text")
    value = " ".join(value.split())
    if field == "color":
        if not COLOUR.fullmatch(value):
            raise InputError(path, f"colour {value!r} of {eid} is not #RRGGBB", line=line,
                             fix="write the colour as # and six hex digits, e.g. #1B9E77 (or leave it empty)")
        return value.upper()
    limit = MAX_LENGTH[field]
    if len(value) > limit:
        raise InputError(path, f"the {column} of {eid} has {len(value)} characters, more than {limit}", line=line,
                         fix=f"shorten it to at most {limit} characters")
    return value


@lru_cache(maxsize=1)
def _roadmap_colours() -> dict:
    from shallowchrome.tracks.reference import roadmap_epigenomes

    colours: dict = {}
    for info in roadmap_epigenomes().values():
        colour = info.get("color") or ""
        colours.setdefault(info.get("group") or OTHER_GROUP, colour if COLOUR.fullmatch(colour) else OTHER_COLOUR)
    colours.setdefault(OTHER_GROUP, OTHER_COLOUR)
    return colours


def describe(eid: str, recorded: dict | None = None) -> dict:
    """How an epigenome is shown: ``{"name", "group", "color"}``.

    ``recorded``: its entry in ``workspace.json`` (``tissue`` — or ``name`` — ``group``, ``color``, as
    ``build --metadata`` records them); each field falls back to the packaged Roadmap table (the standard
    name, the group and the group's colour), then to "" / ``Other`` / the colour of the group (a Roadmap
    group's own colour, else Roadmap's grey). Names are shown with spaces for underscores; a recorded
    colour that is not ``#RRGGBB`` is not used (colours go into style attributes).
    """
    from shallowchrome.tracks.reference import roadmap_epigenomes

    recorded = recorded or {}
    roadmap = roadmap_epigenomes().get(eid) or {}

    def text(value) -> str:
        return " ".join(value.replace("_", " ").split()) if isinstance(value, str) else ""

    name = text(recorded.get("name")) or text(recorded.get("tissue")) or text(roadmap.get("name"))
    given = recorded.get("group")
    group = " ".join(given.split()) if isinstance(given, str) else ""
    group = group or roadmap.get("group") or OTHER_GROUP
    colour = recorded.get("color")
    if not (isinstance(colour, str) and COLOUR.fullmatch(colour)):
        colour = _roadmap_colours().get(group, OTHER_COLOUR)
    return {"name": name, "group": group, "color": colour}


def workspace_record(eid: str, metadata: dict | None = None) -> dict:
    """What ``build`` records in ``workspace.json`` about how ``eid`` is shown: ``tissue`` (the metadata
    file's name, else the Roadmap standard name, else ""), and ``group``/``color`` only when the file
    (``metadata``, from :func:`read_epigenome_metadata`) gives them."""
    from shallowchrome.tracks.reference import tissues

    given = (metadata or {}).get(eid) or {}
    out = {"tissue": given.get("name") or tissues().get(eid, "")}
    out.update({k: given[k] for k in ("group", "color") if given.get(k)})
    return out
