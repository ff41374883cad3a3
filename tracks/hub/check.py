"""``shallowchrome hub check``: validate a track hub the way UCSC's hubCheck would, offline.

Checks, each problem reported as ``file:line: message``:

- hub.txt has hub, shortLabel, longLabel, genomesFile, email; genomes.txt
  stanzas have genome and trackDb, and the files they name exist;
- every trackDb stanza starts with ``track``, has a unique, well-formed name,
  type, shortLabel (≤ 17 characters), longLabel (≤ 80), only known settings,
  and bigDataUrl unless it is a container (composite, superTrack, multiWig,
  view);
- parents exist and are containers (``parent NAME [on|off]``); subtracks of a
  composite carry a value for every subGroup of the composite, each defined
  there; subGroup tags and values are identifiers; sortOrder/dimensions name
  defined subGroups, dimensions as ``dimX``/``dimY``/``dimA``...;
- every bigDataUrl resolves to a local file (relative to the trackDb, or under
  the base URL recorded in tracks.json) that pyBigWig opens as the type says;
- for ``bigBed N``: N equals the file's definedFieldCount (header byte 34);
  the fields named by mouseOver (``$field``), filter.* settings (numeric
  fields for range filters) and searchIndex exist in its autoSql, and each
  searchIndex field has an extra index that finds the file's first item;
- every track has an html description page (its own or a parent's) that
  exists, and so does the hub's descriptionUrl.

The summary counts the tracks visible by default (a data track whose own or
inherited visibility is not ``hide`` and whose every parent is on and
visible); UCSC asks public hubs for at most :data:`MAX_VISIBLE`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.hub import bbifile
from shallowchrome.tracks.hub.bigbed import parse_autosql_names
from shallowchrome.tracks.hub.trackdb import LONG_LABEL_MAX, MAX_VISIBLE, SHORT_LABEL_MAX, UNSAFE_LABEL
from shallowchrome.tracks.workspace.layout import HUB_DIR, HUB_TXT, TRACKS_JSON

CONTAINER_KEYS = ("compositeTrack", "superTrack", "container", "view")
KNOWN = {
    "track", "type", "shortLabel", "longLabel", "bigDataUrl", "bigDataIndex", "parent", "compositeTrack",
    "superTrack", "container", "view", "subGroups", "dimensions", "sortOrder", "visibility", "priority", "html",
    "color", "altColor", "autoScale", "alwaysZero", "graphTypeDefault", "maxHeightPixels", "windowingFunction",
    "viewLimits", "viewLimitsMax", "itemRgb", "mouseOver", "mouseOverField", "searchIndex", "searchTrix", "group",
    "spectrum", "useScore", "scoreMin", "scoreMax", "labelFields", "defaultLabelFields", "url", "urlLabel",
    "boxedCfg", "dragAndDrop", "yLineOnOff", "yLineMark", "smoothingWindow", "transformFunc", "aggregate",
    "showSubtrackColorOnUi", "colorByStrand", "exonArrows", "exonNumbers", "maxItems", "maxWindowToDraw",
    "metadata", "configurable", "noInherit", "allButtonPair", "centerLabelsDense", "skipEmptyFields",
}
FILTER_PREFIXES = ("filter", "filterByRange", "filterLimits", "filterValues", "filterType", "filterLabel",
                   "filterText", "filterValuesDefault")
RANGE_PREFIXES = ("filter", "filterByRange", "filterLimits")
NUMERIC = {"int", "uint", "short", "ushort", "byte", "ubyte", "float", "double", "bigint"}
INHERITED = ("mouseOver", "searchIndex", "itemRgb", "html")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_TAG = re.compile(r"^[A-Za-z0-9_]+$")
_DIMENSION = re.compile(r"^dim[XYA-Z]$")
VISIBILITIES = ("hide", "dense", "squish", "pack", "full")
_FIELD_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_AS_TYPED = re.compile(r"^\s*([A-Za-z_]\w*)(?:\s*\[\s*\w*\s*\])?\s+([A-Za-z_]\w*)\s*;")


@dataclass
class Stanza:
    settings: dict
    lines: dict  # setting -> line number
    path: Path

    @property
    def name(self) -> str:
        return self.settings.get("track") or self.settings.get("genome") or self.settings.get("hub") or "?"

    def where(self, key: str | None = None) -> str:
        line = self.lines.get(key) if key else min(self.lines.values(), default=1)
        return f"{self.path}:{line or min(self.lines.values(), default=1)}"

    @property
    def is_container(self) -> bool:
        s = self.settings
        return (s.get("compositeTrack", "").startswith("on") or s.get("superTrack", "").startswith("on")
                or s.get("container", "") == "multiWig" or "view" in s)


@dataclass
class HubReport:
    hub_txt: Path
    problems: list = field(default_factory=list)
    n_genomes: int = 0
    n_tracks: int = 0
    n_files: int = 0
    n_visible: int = 0  # data tracks visible by default

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        crowded = f"; UCSC asks public hubs for at most {MAX_VISIBLE}" if self.n_visible > MAX_VISIBLE else ""
        return (f"hub OK: {self.hub_txt} ({self.n_genomes} genome(s), {self.n_tracks} tracks, "
                f"{self.n_files} track files opened, {self.n_visible} visible by default{crowded})")


def parse_stanzas(path: Path) -> tuple[list[Stanza], list[str]]:
    """Blank-line separated ``key value`` stanzas (indentation ignored, # comments skipped)."""
    stanzas, problems, current = [], [], None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            current = None
            continue
        if line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        if key == "include":
            problems.append(f"{path}:{number}: include is not followed by `hub check`; inline the included file")
            continue
        if current is None:
            current = Stanza({}, {}, path)
            stanzas.append(current)
        if key in current.settings:
            problems.append(f"{path}:{number}: setting {key} given twice in one stanza")
        current.settings[key] = value.strip()
        current.lines[key] = number
    return stanzas, problems


def find_hub_txt(target) -> Path:
    """hub.txt of a workspace (WS/hub/hub.txt), a hub folder, or the file itself."""
    target = Path(target)
    for candidate in (target / HUB_DIR / HUB_TXT, target / HUB_TXT, target):
        if candidate.is_file():
            return candidate
    raise InputError(target, "has no track hub (no hub/hub.txt)", fix="write it with `shallowchrome tracks WORKSPACE`")


def _require(stanza: Stanza, keys, problems, what: str) -> None:
    for key in keys:
        if not stanza.settings.get(key):
            problems.append(f"{stanza.where()}: {what} lacks the required setting {key}")


class _Resolver:
    """bigDataUrl/html → local path: relative to the trackDb, or under the base URL of tracks.json."""

    def __init__(self, hub_dir: Path):
        self.hub_dir = hub_dir
        manifest = hub_dir / TRACKS_JSON
        self.base = None
        if manifest.is_file():
            try:
                self.base = json.loads(manifest.read_text()).get("base_url")
            except (ValueError, AttributeError):
                self.base = None

    def __call__(self, url: str, relative_to: Path):
        if re.match(r"^[a-z]+://", url):
            if self.base and url.startswith(self.base.rstrip("/") + "/"):
                return self.hub_dir / url[len(self.base.rstrip("/")) + 1:]
            return None
        return relative_to / url


def check_hub(target) -> HubReport:
    """Validate the hub of a workspace (or a hub folder / hub.txt); see the module docstring."""
    hub_txt = find_hub_txt(target)
    report = HubReport(hub_txt)
    problems = report.problems
    stanzas, p = parse_stanzas(hub_txt)
    problems += p
    if not stanzas:
        problems.append(f"{hub_txt}:1: empty hub.txt")
        return report
    hub = stanzas[0]
    _require(hub, ("hub", "shortLabel", "longLabel", "genomesFile", "email"), problems, "hub.txt")
    if hub.settings.get("useOneFile", "") == "on":
        problems.append(f"{hub.where('useOneFile')}: useOneFile hubs are not supported by `hub check`")
        return report
    resolve = _Resolver(hub_txt.parent)
    desc = hub.settings.get("descriptionUrl")
    if desc:
        local = resolve(desc, hub_txt.parent)
        if local is not None and not local.is_file():
            problems.append(f"{hub.where('descriptionUrl')}: descriptionUrl {desc} does not exist")
    genomes_file = hub.settings.get("genomesFile")
    if not genomes_file:
        return report
    genomes_path = hub_txt.parent / genomes_file
    if not genomes_path.is_file():
        problems.append(f"{hub.where('genomesFile')}: genomesFile {genomes_file} does not exist")
        return report
    genomes, p = parse_stanzas(genomes_path)
    problems += p
    for g in genomes:
        _require(g, ("genome", "trackDb"), problems, f"genome stanza {g.name}")
        tdb = g.settings.get("trackDb")
        if not tdb:
            continue
        tdb_path = genomes_path.parent / tdb
        if not tdb_path.is_file():
            problems.append(f"{g.where('trackDb')}: trackDb {tdb} does not exist")
            continue
        report.n_genomes += 1
        _check_trackdb(tdb_path, resolve, report)
    if not genomes:
        problems.append(f"{genomes_path}:1: no genome stanza")
    return report


def _check_trackdb(path: Path, resolve, report: HubReport) -> None:
    problems = report.problems
    tracks, p = parse_stanzas(path)
    problems += p
    by_name: dict[str, Stanza] = {}
    for t in tracks:
        first = min(t.lines, key=t.lines.get)
        if first != "track":
            problems.append(f"{t.where(first)}: stanza does not start with a track line")
            continue
        name = t.settings["track"]
        if not _NAME.match(name):
            problems.append(f"{t.where('track')}: track name {name!r} must be letters, digits and _ (letter first)")
        if name in by_name:
            problems.append(f"{t.where('track')}: track {name} is defined twice (also line {by_name[name].lines['track']})")
        by_name[name] = t
    report.n_tracks += len(by_name)
    report.n_visible += sum(1 for t in by_name.values() if not t.is_container and visible_by_default(t, by_name))
    for t in by_name.values():
        _check_stanza(t, by_name, problems)
        _check_html(t, path.parent, resolve, problems)
        if not t.is_container and t.settings.get("bigDataUrl"):
            _check_data(t, by_name, path.parent, resolve, report)


def _check_stanza(t: Stanza, by_name: dict, problems: list) -> None:
    s, name = t.settings, t.settings["track"]
    for key in s:
        base = key.split(".", 1)[0]
        known = key in KNOWN or re.match(r"^subGroup\d+$", key) or ("." in key and base in FILTER_PREFIXES)
        if not known:
            problems.append(f"{t.where(key)}: track {name}: unknown setting {key} (a typo?)")
    required = ("shortLabel", "longLabel") if s.get("superTrack", "").startswith("on") else ("type", "shortLabel", "longLabel")
    _require(t, required, problems, f"track {name}")
    if len(s.get("shortLabel", "")) > SHORT_LABEL_MAX:
        problems.append(f"{t.where('shortLabel')}: track {name}: shortLabel {s['shortLabel']!r} is longer than "
                        f"{SHORT_LABEL_MAX} characters")
    for label in ("shortLabel", "longLabel"):
        if UNSAFE_LABEL.search(s.get(label, "")):
            problems.append(f"{t.where(label)}: track {name}: {label} holds markup or control characters "
                            f"({s[label]!r}); UCSC shows labels in its pages")
    if len(s.get("longLabel", "")) > LONG_LABEL_MAX:
        problems.append(f"{t.where('longLabel')}: track {name}: longLabel is longer than {LONG_LABEL_MAX} characters")
    if not t.is_container and not s.get("bigDataUrl"):
        problems.append(f"{t.where()}: track {name} lacks the required setting bigDataUrl")
    if "visibility" in s and s["visibility"] not in VISIBILITIES:
        problems.append(f"{t.where('visibility')}: track {name}: visibility {s['visibility']!r} is not one of "
                        f"{', '.join(VISIBILITIES)}")
    if "parent" in s:
        words = s["parent"].split()
        pname = words[0] if words else ""
        if len(words) > 2 or len(words) == 2 and words[1] not in ("on", "off"):
            problems.append(f"{t.where('parent')}: track {name}: parent must be 'NAME', 'NAME on' or 'NAME off', "
                            f"not {s['parent']!r}")
        parent = by_name.get(pname)
        if parent is None:
            problems.append(f"{t.where('parent')}: track {name}: parent {pname} is not defined")
        elif not parent.is_container:
            problems.append(f"{t.where('parent')}: track {name}: parent {pname} is not a container "
                            "(compositeTrack on, superTrack on, container multiWig or view)")
    groups = _subgroup_defs(t, problems)
    for key in ("sortOrder", "dimensions"):
        pairs = [p.split("=", 1) for p in s.get(key, "").split() if "=" in p]
        if key == "dimensions":
            for dim, _ in pairs:
                if not _DIMENSION.match(dim):
                    problems.append(f"{t.where(key)}: track {name}: dimensions names {dim}; use dimX, dimY "
                                    "and dimA, dimB, ...")
        for tag in (a if key == "sortOrder" else b for a, b in pairs):
            if groups is not None and tag not in groups:
                problems.append(f"{t.where(key)}: track {name}: {key} names subGroup {tag}, which is not defined")
    composite = _composite_of(t, by_name)
    if composite is not None:
        _check_membership(t, composite, problems)
    if not _inherited(t, by_name, "html"):
        problems.append(f"{t.where()}: track {name} has no html description page (own or a parent's)")


def _check_html(t: Stanza, tdb_dir: Path, resolve, problems: list) -> None:
    page = t.settings.get("html")
    if not page:
        return
    local = resolve(page, tdb_dir)
    if local is not None and not local.is_file() and not local.with_name(local.name + ".html").is_file():
        problems.append(f"{t.where('html')}: track {t.name}: html page {page} does not exist")


def _subgroup_defs(t: Stanza, problems: list):
    defs = {}
    for key, value in t.settings.items():
        if re.match(r"^subGroup\d+$", key):
            parts = value.split()
            if len(parts) < 3 or any("=" not in p for p in parts[2:]):
                problems.append(f"{t.where(key)}: track {t.name}: {key} must be 'tag Title value=Label ...'")
                continue
            values = [p.split("=", 1)[0] for p in parts[2:]]
            bad = [v for v in [parts[0], *values] if not _TAG.match(v)]
            if bad:
                problems.append(f"{t.where(key)}: track {t.name}: {key}: {', '.join(map(repr, bad))} must be "
                                "identifiers (letters, digits, _); the Label after = is what UCSC shows")
            if len(set(values)) != len(values):
                problems.append(f"{t.where(key)}: track {t.name}: {key} defines a value twice")
            defs[parts[0]] = set(values)
    return defs if defs else ({} if t.settings.get("compositeTrack", "").startswith("on") else None)


def _composite_of(t: Stanza, by_name: dict):
    """The composite above a subtrack (through a view), or None."""
    seen = set()
    node = t
    while "parent" in node.settings and node.settings["parent"].split():
        pname = node.settings["parent"].split()[0]
        if pname in seen:
            return None
        seen.add(pname)
        node = by_name.get(pname)
        if node is None:
            return None
        if node.settings.get("compositeTrack", "").startswith("on"):
            return node
    return None


def _check_membership(t: Stanza, composite: Stanza, problems: list) -> None:
    defs = {}
    for key, value in composite.settings.items():
        if re.match(r"^subGroup\d+$", key) and len(value.split()) >= 3:
            parts = value.split()
            defs[parts[0]] = {p.split("=", 1)[0] for p in parts[2:]}
    if "view" in t.settings:
        return
    given = dict(p.split("=", 1) for p in t.settings.get("subGroups", "").split() if "=" in p)
    name = t.settings["track"]
    if defs and "subGroups" not in t.settings:
        problems.append(f"{t.where()}: track {name}: subtrack of {composite.name} has no subGroups setting")
        return
    for tag, value in given.items():
        if tag not in defs:
            problems.append(f"{t.where('subGroups')}: track {name}: subGroup {tag} is not defined by {composite.name}")
        elif value not in defs[tag]:
            problems.append(f"{t.where('subGroups')}: track {name}: subGroup {tag}={value} is not a value "
                            f"{composite.name} defines ({', '.join(sorted(defs[tag]))})")
    for tag in defs:
        if tag not in given and tag != "view":
            problems.append(f"{t.where('subGroups')}: track {name}: no value for subGroup {tag} of {composite.name}")


def _chain(t: Stanza, by_name: dict) -> list[Stanza]:
    out, seen = [t], {t.name}
    while "parent" in out[-1].settings and out[-1].settings["parent"].split():
        pname = out[-1].settings["parent"].split()[0]
        if pname in seen or pname not in by_name:
            break
        seen.add(pname)
        out.append(by_name[pname])
    return out


def visible_by_default(t: Stanza, by_name: dict) -> bool:
    """Whether UCSC shows ``t`` when the hub is attached: no ``hide`` on it or above it (its own
    visibility, else the nearest parent's; none at all counts as shown) and every parent on."""
    chain = _chain(t, by_name)
    for node in chain[:-1]:  # a subtrack (or view) is off when its parent line says so
        if node.settings.get("parent", "").split()[1:2] == ["off"]:
            return False
    for node in chain[1:]:  # every container above must be visible
        if node.settings.get("visibility") == "hide":
            return False
    own = next((n.settings["visibility"] for n in chain if "visibility" in n.settings), None)
    return own != "hide"


def _inherited(t: Stanza, by_name: dict, key: str):
    for node in _chain(t, by_name):
        if key in node.settings:
            return node, node.settings[key]
    return None


def _effective(t: Stanza, by_name: dict) -> dict:
    """Settings a subtrack inherits from its parents (own settings win): (stanza, value) per key."""
    merged = {}
    for node in reversed(_chain(t, by_name)):
        for key, value in node.settings.items():
            if key in INHERITED or key.split(".", 1)[0] in FILTER_PREFIXES and "." in key:
                merged[key] = (node, value)
    return merged


def _check_data(t: Stanza, by_name: dict, tdb_dir: Path, resolve, report: HubReport) -> None:
    import pyBigWig

    problems, name = report.problems, t.settings["track"]
    url = t.settings["bigDataUrl"]
    local = resolve(url, tdb_dir)
    where = t.where("bigDataUrl")
    if local is None:
        problems.append(f"{where}: track {name}: bigDataUrl {url} is remote; `hub check` opens local files only")
        return
    if not local.is_file():
        problems.append(f"{where}: track {name}: bigDataUrl {url} does not exist ({local})")
        return
    kind = t.settings.get("type", "").split()[0] if t.settings.get("type") else ""
    with open(local, "rb") as fh:
        magic = int.from_bytes(fh.read(4).ljust(4, b"\0"), "little")
    handle = None
    if magic in (bbifile.BIGBED_MAGIC, bbifile.BIGWIG_MAGIC):
        try:
            handle = pyBigWig.open(str(local))
        except (RuntimeError, OSError):
            handle = None
    if handle is None:
        problems.append(f"{where}: track {name}: {url} does not open as a bigWig/bigBed")
        return
    try:
        is_bb = handle.isBigBed()
        sql = handle.SQL().decode() if is_bb else ""
    finally:
        handle.close()
    report.n_files += 1
    if kind == "bigBed" and not is_bb or kind == "bigWig" and is_bb:
        problems.append(f"{where}: track {name}: type is {kind} but {url} is a {'bigBed' if is_bb else 'bigWig'}")
        return
    if kind == "bigBed":
        _check_bigbed(t, by_name, local, sql, problems)


def _autosql_types(sql: str) -> dict:
    body = sql.split("(", 1)[1] if "(" in sql else ""
    return {m.group(2): m.group(1) for m in (_AS_TYPED.match(line) for line in body.splitlines()) if m}


def _check_bigbed(t: Stanza, by_name: dict, local: Path, sql: str, problems: list) -> None:
    name = t.settings["track"]
    data = local.read_bytes()
    header = bbifile.read_header(data)
    words = t.settings["type"].split()
    n = int(words[1]) if len(words) > 1 and words[1].isdigit() else 3
    if header.defined_field_count != n:
        problems.append(f"{t.where('type')}: track {name}: type says bigBed {n} but {local.name} has "
                        f"definedFieldCount {header.defined_field_count}")
    if header.field_count > n and (len(words) < 3 or words[2] not in "+."):
        problems.append(f"{t.where('type')}: track {name}: {local.name} has {header.field_count} fields; "
                        f"the type must be 'bigBed {n} +'")
    fields = parse_autosql_names(sql)
    types = _autosql_types(sql)
    if len(fields) != header.field_count:
        problems.append(f"{t.where('bigDataUrl')}: track {name}: autoSql has {len(fields)} fields, "
                        f"the file {header.field_count}")
    settings = _effective(t, by_name)
    item_rgb = settings.get("itemRgb")
    if item_rgb and item_rgb[1] == "on" and n < 9:
        problems.append(f"{item_rgb[0].where('itemRgb')}: track {name}: itemRgb on needs bigBed 9 or more")
    for key, (node, value) in settings.items():
        refs = []
        if key == "mouseOver":
            refs = _FIELD_REF.findall(value)
        elif "." in key:
            prefix, field_name = key.split(".", 1)
            refs = [field_name]
            if prefix in RANGE_PREFIXES and field_name in types and types[field_name] not in NUMERIC:
                problems.append(f"{node.where(key)}: track {name}: {key} needs a numeric field, "
                                f"{field_name} is {types[field_name]}")
        elif key == "searchIndex":
            refs = [f for f in value.split(",") if f]
        for ref in refs:
            if ref not in fields:
                problems.append(f"{node.where(key)}: track {name}: {key} names field {ref}, which is not in the "
                                f"autoSql of {local.name} ({', '.join(fields)})")
    if "searchIndex" in settings:
        node, value = settings["searchIndex"]
        _check_indexes(t, node, value.split(","), fields, data, header, local, problems)


def _check_indexes(t, node, wanted, fields, data, header, local, problems) -> None:
    indexes = bbifile.extra_index_fields(data, header)
    blocks = bbifile.data_blocks(data, header)
    first = next(bbifile.block_items(data, header, *blocks[0]), None) if blocks else None
    for f in wanted:
        if f not in fields:
            continue
        fid = fields.index(f)
        if fid not in indexes:
            problems.append(f"{node.where('searchIndex')}: track {t.name}: searchIndex {f} but {local.name} has "
                            "no extra index on it")
        elif first is not None:
            key = first[3].split(b"\t")[fid - 3]
            hits = bbifile.bpt_find(data, indexes[fid], key)
            if not any(any(item[3].split(b"\t")[fid - 3] == key for item in bbifile.block_items(data, header, *h))
                       for h in hits):
                problems.append(f"{node.where('searchIndex')}: track {t.name}: the {f} index of {local.name} "
                                f"does not find {key.decode(errors='replace')}")
