"""The JBrowse 2 configuration beside the hub (WS/hub/jbrowse/config.json), read as JBrowse 2 reads it.

``tests/js/read_jbrowse_config.mjs`` resolves every URI of the config against the config file (as JBrowse
Web does) and opens the files with the libraries JBrowse's adapters use (@gmod/bbi, @gmod/tabix,
@gmod/bed; colour callbacks with @jbrowse/jexl); these tests compare what it reads with what pybbi,
pyBigWig and pysam read from the same files. They skip when Node or the npm packages are absent
(``.ci/run`` installs them: ``npm ci --prefix tests/js``).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import bbi
import pyBigWig
import pysam
import pytest

from shallowchrome.model.errors import InputError
from shallowchrome.tracks import style
from shallowchrome.tracks.hub.jbrowse import (
    BedFile,
    gene_track_files,
    jbrowse_config,
    parse_locus,
    write_jbrowse_config,
)
from shallowchrome.tracks.io.chromsizes import load_chrom_sizes
from shallowchrome.tracks.workspace.layout import Workspace

JS = Path(__file__).parent / "js"
SCRIPT = JS / "read_jbrowse_config.mjs"
PACKAGES = ("@gmod/bbi", "@gmod/bed", "@gmod/tabix", "@jbrowse/jexl", "generic-filehandle2")


def _node_missing() -> str | None:
    """Why the JavaScript readers cannot run here (None when they can)."""
    if shutil.which("node") is None:
        return "node is not installed (apt-get install nodejs npm, then npm ci --prefix tests/js; .ci/run does both)"
    absent = [p for p in PACKAGES if not (JS / "node_modules" / p / "package.json").is_file()]
    if absent:
        return f"npm packages {', '.join(absent)} are not installed: run `npm ci --prefix tests/js`"
    return None


def _read_with_node(config: Path, regions, names, tmp_path: Path) -> dict:
    reason = _node_missing()
    if reason:
        pytest.skip(reason)
    query = tmp_path / "query.json"
    query.write_text(json.dumps({"regions": [list(r) for r in regions], "names": list(names)}))
    res = subprocess.run(["node", str(SCRIPT), str(config), str(query)], capture_output=True, text=True,
                         timeout=300, cwd=JS)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def _uris(doc):
    """Every ``{"uri": ...}`` location object of a config."""
    if isinstance(doc, dict):
        if "uri" in doc:
            yield doc
        for value in doc.values():
            yield from _uris(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from _uris(value)


@pytest.fixture(scope="module")
def ws(fixture_ws) -> Workspace:
    return Workspace.open(fixture_ws)


@pytest.fixture(scope="module")
def config(ws) -> dict:
    return json.loads(ws.jbrowse_config_path.read_text())


@pytest.fixture(scope="module")
def regions(ws):
    """Every chromosome of the workspace's genes, whole (0-based, half-open)."""
    sizes = load_chrom_sizes("hg19").sizes
    return [(c, 0, sizes[c]) for c in dict.fromkeys(ws.genes()["chrom"])]


@pytest.fixture(scope="module")
def names(ws):
    genes = ws.genes()
    return [genes["symbol"].iloc[0], genes["gene_id"].iloc[1]]


@pytest.fixture(scope="module")
def read(ws, regions, names, tmp_path_factory) -> dict:
    """What JBrowse's readers make of the fixture workspace's config."""
    return _read_with_node(ws.jbrowse_config_path, regions, names, tmp_path_factory.mktemp("jbrowse"))


def _by_id(read_doc) -> dict:
    return {t["trackId"]: t for t in read_doc["tracks"]}


def _features(track: dict) -> list[dict]:
    return [f for r in track["regions"] for f in r["features"]]


# --- the config itself -----------------------------------------------------------------------------------

def test_config_is_written_with_the_hub_over_every_manifest_file(ws, config):
    manifest = ws.hub_manifest()
    assert ws.jbrowse_config_path == ws.hub_dir / "jbrowse" / "config.json"
    locations = list(_uris(config))
    assert locations and all(loc["locationType"] == "UriLocation" for loc in locations)
    # relative to the config file (so the folder can be served or copied): no scheme, no absolute path
    assert all(not loc["uri"].startswith("/") and "://" not in loc["uri"] for loc in locations)
    uris = {loc["uri"] for loc in locations}
    for record in manifest["tracks"]:
        assert f"../{record['path']}" in uris, record
    for eid in manifest["epigenomes"]:
        bed = ws.track_file(eid, "bed.gz").relative_to(ws.hub_dir).as_posix()
        assert {f"../{bed}", f"../{bed}.tbi"} <= uris
    if manifest.get("genes"):  # the hub's gene track, when the hub has one
        assert {f"../{p}" for p in gene_track_files(manifest)} <= uris
        assert all((ws.hub_dir / p).is_file() for p in gene_track_files(manifest))
    ids = [t["trackId"] for t in config["tracks"]]
    assert len(ids) == len(set(ids))
    display_ids = [d["displayId"] for t in config["tracks"] for d in t["displays"]]
    assert len(display_ids) == len(set(display_ids))
    assert all(t["assemblyNames"] == [manifest["genome"]] for t in config["tracks"])
    assert config["assemblies"][0]["name"] == manifest["genome"]


def test_tracks_have_the_right_adapters_categories_and_colours(ws, config):
    manifest = ws.hub_manifest()
    by_path = {t["path"]: t for t in manifest["tracks"]}
    adapters = {"predictions": ("FeatureTrack", "BigBedAdapter", "bigBedLocation"),
                "outcome": ("FeatureTrack", "BigBedAdapter", "bigBedLocation"),
                "contribution": ("QuantitativeTrack", "BigWigAdapter", "bigWigLocation"),
                "feature": ("QuantitativeTrack", "BigWigAdapter", "bigWigLocation")}
    seen = set()
    for track in config["tracks"]:
        adapter = track["adapter"]
        if adapter["type"] == "BedTabixAdapter":
            assert track["type"] == "FeatureTrack" and adapter["index"]["indexType"] == "TBI"
            assert adapter["index"]["location"]["uri"] == adapter["bedGzLocation"]["uri"] + ".tbi"
            continue
        key = next(k for k in ("bigBedLocation", "bigWigLocation") if k in adapter)
        record = by_path[adapter[key]["uri"][len("../"):]]
        seen.add(record["path"])
        assert (track["type"], adapter["type"], key) == adapters[record["kind"]]
        display = track["displays"][0]
        assert track["category"][0].split()[0] == record["epigenome"]
        if record["mark"]:
            assert track["category"][1] == record["mark"]
        if record["kind"] in ("predictions", "outcome"):
            assert display["type"] == "LinearBasicDisplay"
            assert display["renderer"]["type"] == "SvgFeatureRenderer"
            assert display["renderer"]["color1"].startswith("jexl:") and "reserved" in display["renderer"]["color1"]
        else:
            assert display["type"] == "LinearWiggleDisplay"
            for renderer in ("XYPlotRenderer", "DensityRenderer", "LinePlotRenderer"):
                conf = display["renderers"][renderer]
                assert conf["type"] == renderer
                if record["kind"] == "contribution":
                    assert conf["posColor"] == style.css_rgb(style.ACTIVATING)
                    assert conf["negColor"] == style.css_rgb(style.REPRESSING)
                    assert "color" not in conf  # color overrides posColor/negColor in JBrowse
                else:
                    assert conf["color"] == style.css_rgb(style.FEATURE)
    assert seen == set(by_path)


def test_the_pure_function_takes_every_name_from_the_manifest():
    manifest = {"genome": "myGenome", "epigenomes": ["X1"], "locus": "chrA:11-30", "genes": "g/genes.bed.gz",
                "tracks": [
                    {"epigenome": "X1", "tissue": "Some_Tissue", "kind": "predictions", "mark": None,
                     "path": "myGenome/X1/any-name.bb"},
                    {"epigenome": "X1", "tissue": "Some_Tissue", "kind": "contribution", "mark": "M1",
                     "path": "myGenome/X1/psi of M1.bw"}]}
    sizes = {"chrA": 1000, "2": 500, "chr2": 500}
    autosql = 'table t\n"t"\n(\nstring chrom; "c"\nuint chromStart; "s"\nuint chromEnd; "e"\nstring name; "n"\n' \
              'uint score; "s"\nchar[1] strand; "s"\nuint thickStart; "t"\nuint thickEnd; "t"\nuint itemRgb; "rgb"\n)\n'
    doc = jbrowse_config(manifest, sizes, "myGenome/sizes.txt", bed_files=[BedFile("X1", "b/x.bed.gz", "b/x.tbi",
                                                                                   autosql)], to_hub="../..")
    uris = [loc["uri"] for loc in _uris(doc)]
    assert uris[0] == "../../myGenome/sizes.txt"
    assert {"../../myGenome/X1/any-name.bb", "../../myGenome/X1/psi of M1.bw", "../../b/x.bed.gz",
            "../../b/x.tbi", "../../g/genes.bed.gz", "../../g/genes.bed.gz.tbi"} <= set(uris)
    aliases = {f["refName"]: f["aliases"] for f in doc["assemblies"][0]["refNameAliases"]["adapter"]["features"]}
    assert aliases == {"chrA": ["A"]}  # "2" and "chr2" are both chromosomes: neither is an alias
    tracks = {t["trackId"]: t for t in doc["tracks"]}
    assert tracks["X1.predictions"]["category"] == ["X1 Some Tissue"]
    assert tracks["X1.M1.contribution"]["category"] == ["X1 Some Tissue", "M1"]
    # the colour callbacks read the itemRgb column the epigenome's autoSql names (UCSC's "reserved" here)
    for track_id in ("X1.predictions", "X1.bed"):
        assert "get(feature,'itemRgb')" in tracks[track_id]["displays"][0]["renderer"]["color1"]
    assert "'reserved'" in jbrowse_config(manifest, sizes, "s")["tracks"][1]["displays"][0]["renderer"]["color1"]
    view = doc["defaultSession"]["views"][0]
    assert view["init"] == {"assembly": "myGenome", "loc": "chrA:11-30",
                            "tracks": ["genes", "X1.predictions", "X1.M1.contribution"]}
    assert view["offsetPx"] * view["bpPerPx"] == pytest.approx(10, abs=view["bpPerPx"])
    assert parse_locus("chrA:11-30", sizes) == ("chrA", 10, 30) and parse_locus("chrZ:1-2", sizes) is None


def test_writer_is_deterministic_and_needs_a_hub(tmp_path, fixture_ws):
    shutil.copytree(fixture_ws, tmp_path / "ws", symlinks=True)
    ws = Workspace.open(tmp_path / "ws")
    before = ws.jbrowse_config_path.read_bytes()
    assert write_jbrowse_config(ws) == ws.jbrowse_config_path
    assert ws.jbrowse_config_path.read_bytes() == before  # deterministic: the same hub, the same bytes
    ws.hub_manifest_path.unlink()
    with pytest.raises(InputError, match="tracks.json.*no hub.*shallowchrome tracks"):
        write_jbrowse_config(ws)


def test_default_session_opens_at_the_hub_sessions_locus(ws, config):
    igv = json.loads(ws.hub_path("igv_session.json").read_text())
    sizes = load_chrom_sizes("hg19").sizes
    chrom, start, end = parse_locus(igv["locus"], sizes)
    view = config["defaultSession"]["views"][0]
    assert view["type"] == "LinearGenomeView"
    assert view["init"]["loc"] == igv["locus"] and view["init"]["assembly"] == config["assemblies"][0]["name"]
    assert view["displayedRegions"] == [{"refName": chrom, "start": 0, "end": sizes[chrom], "reversed": False,
                                         "assemblyName": "hg19"}]
    assert view["offsetPx"] * view["bpPerPx"] == pytest.approx(start, abs=view["bpPerPx"])
    assert (end - start) / view["bpPerPx"] == pytest.approx(800)
    tracks = {t["trackId"]: t for t in config["tracks"]}
    assert view["init"]["tracks"] == [t["configuration"] for t in view["tracks"]]
    kinds = set()
    for shown in view["tracks"]:
        track = tracks[shown["configuration"]]
        assert shown["type"] == track["type"]
        assert shown["displays"][0]["configuration"] == track["displays"][0]["displayId"]
        kinds.add(track["metadata"].get("kind"))
    assert {"predictions", "contribution"} <= kinds


# --- read as JBrowse reads it ---------------------------------------------------------------------------

def test_assembly_covers_the_chrom_sizes_and_aliases_1_and_chr1(read, ws):
    assembly = read["assemblies"][0]
    assert assembly["sequenceAdapter"] == "ChromSizesAdapter"
    assert Path(assembly["files"]["chromSizes"]["path"]) == ws.chrom_sizes_path().resolve()
    sizes = load_chrom_sizes("hg19").sizes
    assert {r["refName"]: r["end"] for r in assembly["regions"]} == sizes
    assert all(r["start"] == 0 for r in assembly["regions"])
    assert set(ws.genes()["chrom"]) <= {r["refName"] for r in assembly["regions"]}
    aliases = {a["refName"]: a["aliases"] for a in assembly["aliases"]}
    assert aliases["chr1"] == ["1"] and aliases["chrX"] == ["X"] and aliases["chrM"] == ["M"]


def test_bigbed_tracks_match_pybbi(read, regions, names):
    bigbeds = [t for t in read["tracks"] if t["adapterType"] == "BigBedAdapter"]
    assert bigbeds
    for track in bigbeds:
        path = track["files"]["bigBed"]["path"]
        header = track["header"]
        with bbi.open(path) as f:
            schema = f.schema["columns"]
            expected = [row for c, s, e in regions for row in f.fetch_intervals(c, s, e).to_dict("records")]
        assert header["fileType"] == "bigbed" and header["definedFieldCount"] == 9
        assert header["autoSqlFields"][3:] == schema[3:]
        got = _features(track)
        assert len(got) == len(expected) > 0
        for g, e in zip(got, expected):
            assert (g["refName"], g["start"], g["end"]) == (e["chrom"], e["start"], e["end"])
            assert (g["name"], g["gene_id"], g["reserved"]) == (e["name"], e["gene_id"], e["reserved"])
            assert float(g["probability"]) == pytest.approx(float(e["probability"]), rel=1e-6)
            assert g["score"] == int(e["score"]) and g["strand"] == {"+": 1, "-": -1}.get(e["strand"], 0)
            assert g["color"] == f"rgb({e['reserved']})"
            assert g["mouseover"].startswith(f"{e['name']} ({e['gene_id']}) P(ON) ")
            if track["trackId"].endswith(".outcome"):
                assert e["reserved"] == style.OUTCOME_RGB[e["outcome"]]
            else:
                assert e["reserved"] == style.CLASS_RGB[1 if e["predicted"] == "ON" else 0]
        # the name index (name, gene_id) answers through @gmod/bbi, the reader JBrowse uses; only the
        # prediction bigBeds have one (the right/wrong copy is not searchable: no duplicate hits in UCSC)
        for name in names:
            if track["trackId"].endswith(".outcome"):
                assert track["search"][name] is None
                continue
            hits = [(h["start"], h["end"]) for h in track["search"][name]]
            rows = [(g["start"], g["end"]) for g in got if name in (g["name"], g["gene_id"])]
            assert hits and sorted(hits) == sorted(rows)


def test_bed_tabix_tracks_match_pysam(read, regions, config):
    adapters = {t["trackId"]: t["adapter"] for t in config["tracks"]}
    beds = [t for t in read["tracks"] if t["adapterType"] == "BedTabixAdapter"]
    assert beds
    for track in beds:
        path = track["files"]["bedGz"]["path"]
        assert track["files"]["index"]["path"] == path + ".tbi"
        with pysam.TabixFile(path) as f:
            header = list(f.header)
            contigs = set(f.contigs)
            lines = [line.split("\t") for c, s, e in regions if c in contigs for line in f.fetch(c, s, e)]
        names = header[-1].lstrip("#").split("\t")
        assert track["header"]["names"] == names
        schema = Path(path.replace(".bed.gz", ".as"))
        if schema.is_file():
            assert adapters[track["trackId"]]["autoSql"] == schema.read_text()
        got = _features(track)
        assert len(got) == len(lines) > 0
        for g, fields in zip(got, lines):
            row = dict(zip(names, fields))
            assert (g["refName"], g["start"], g["end"]) == (fields[0], int(fields[1]), int(fields[2]))
            assert g["name"] == row["name"]
            if track["trackId"] == "genes":  # the hub's gene track: JBrowse's default colour
                assert g.get("color") is None
                continue
            assert g["reserved"] == row["reserved"] and g["color"] == f"rgb({row['reserved']})"
            assert row["reserved"] == style.CLASS_RGB[1 if row["predicted"] == "ON" else 0]


def test_bigwig_tracks_match_pybigwig(read, regions):
    wigs = [t for t in read["tracks"] if t["adapterType"] == "BigWigAdapter"]
    assert wigs
    for track in wigs:
        path = track["files"]["bigWig"]["path"]
        bw = pyBigWig.open(path)
        try:
            expected = [(c, s, e, v) for c, start, end in regions if c in bw.chroms()
                        for s, e, v in (bw.intervals(c, start, end) or ())]
            levels = bw.header()["nLevels"]
        finally:
            bw.close()
        assert track["header"]["fileType"] == "bigwig" and track["header"]["zoomLevels"] == levels
        got = [(r["refName"], f["start"], f["end"], f["score"]) for r in track["regions"] for f in r["features"]]
        assert len(got) == len(expected) > 0
        for g, e in zip(got, expected):
            assert g[:3] == e[:3]
            assert g[3] == pytest.approx(e[3], rel=1e-6, abs=1e-9)


def test_the_jbrowse_folder_works_copied_with_the_hub(ws, read, regions, names, tmp_path):
    copy = tmp_path / "copied-hub"
    shutil.copytree(ws.hub_dir, copy)  # symlinks followed: a plain folder, elsewhere
    again = _read_with_node(copy / "jbrowse" / "config.json", regions, names, tmp_path)
    for track in again["tracks"]:
        for location in track["files"].values():
            assert Path(location["path"]).is_relative_to(copy)
    strip = {"files", "trackId"}
    assert [{k: v for k, v in t.items() if k not in strip} for t in again["tracks"]] == \
        [{k: v for k, v in t.items() if k not in strip} for t in read["tracks"]]
    assert again["assemblies"][0]["regions"] == read["assemblies"][0]["regions"]


def test_the_server_serves_the_config_and_every_file_it_names(client, config):
    """``shallowchrome serve``: /hub/jbrowse/config.json, and each URI resolved against that URL as JBrowse Web
    resolves it, answered with byte ranges and CORS (JBrowse Web on another origin reads them)."""
    from urllib.parse import urljoin, urlsplit

    url = "http://localhost/hub/jbrowse/config.json"
    res = client.get(urlsplit(url).path)
    assert res.status_code == 200 and res.get_json() == config
    assert res.headers["Access-Control-Allow-Origin"] == "*"
    for location in _uris(config):
        path = urlsplit(urljoin(url, location["uri"])).path
        res = client.get(path, headers={"Range": "bytes=0-15"})
        assert res.status_code == 206, path
        assert "Content-Range" in res.headers["Access-Control-Expose-Headers"]
