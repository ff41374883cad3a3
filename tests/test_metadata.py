"""``build --metadata FILE``: users' names, groups and colours of their epigenomes, and where they show."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import build_fixture, invoke, one_error_line

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.io.metadata import describe, read_epigenome_metadata

METADATA = ("epigenome\tname\tgroup\tcolour\n"
            "E901\tPatient one liver\tPatients\t#1b9e77\n"
            "E902\tPatient two liver\tPatients\t\n"
            "E903\t\tControls\t#D95F02\n")


def _tsv(tmp_path: Path, text: str, name="meta.tsv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the reader -------------------------------------------------------------------------------
def test_reader_aliases_and_empty_cells(tmp_path):
    got = read_epigenome_metadata(_tsv(tmp_path, METADATA))
    assert got == {"E901": {"name": "Patient one liver", "group": "Patients", "color": "#1B9E77"},
                   "E902": {"name": "Patient two liver", "group": "Patients"},
                   "E903": {"group": "Controls", "color": "#D95F02"}}
    assert read_epigenome_metadata(_tsv(tmp_path, "epigenome\ttissue\nE066\tMy liver\n")) == {
        "E066": {"name": "My liver"}}


@pytest.mark.parametrize("text, line, words", [
    ("epigenome\tname\nE901\tok\nbad id!\tx\n", 3, "not a valid name"),
    ("epigenome\tname\nE901\ta\nE901\tb\n", 3, "listed twice (lines 2 and 3)"),
    ("epigenome\tcolor\nE901\tred\n", 2, "is not #RRGGBB"),
    ("epigenome\tcolor\nE901\t#12345\n", 2, "is not #RRGGBB"),
    ("epigenome\tname\nE901\t" + "x" * 81 + "\n", 2, "more than 80"),
    ("epigenome\tgroup\nE901\t" + "g" * 41 + "\n", 2, "more than 40"),
    ('epigenome\tname\nE901\t"two\nlines"\n', 2, "line break"),
    ("epigenome\tname\tgroup\tother\nE901\ta\x07b\tg\tz\n", 2, "control character"),
    ("epigenome\tshoe\nE901\tx\n", 1, "no name, group or color column"),
    ("epigenome\tname\ttissue\nE901\tx\ty\n", 1, "both give the name"),
    ("id\tname\nE901\tx\n", 1, "lacks column(s) epigenome"),
])
def test_reader_errors_name_file_line_and_fix(tmp_path, text, line, words):
    path = _tsv(tmp_path, text)
    with pytest.raises(InputError) as info:
        read_epigenome_metadata(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert words in message and "; fix: " in message and "\n" not in message, message


def test_describe_recorded_over_roadmap():
    assert describe("E066") == {"name": "Liver", "group": "Other", "color": "#999999"}
    assert describe("E100") == {"name": "Psoas Muscle", "group": "Muscle", "color": "#C2655D"}
    assert describe("E100", {"tissue": "My_psoas", "group": "Mine"}) == {
        "name": "My psoas", "group": "Mine", "color": "#999999"}
    assert describe("E100", {"group": "ESC"})["color"] == "#924965"  # a Roadmap group keeps its colour
    assert describe("X1", {"color": "#ABCDEF"}) == {"name": "", "group": "Other", "color": "#ABCDEF"}
    assert describe("X1", {"color": "red\" onload=\""})["color"] == "#999999"  # never into a style attribute


def test_bad_metadata_is_one_line_exit_2_before_anything_is_written(tmp_path):
    path = _tsv(tmp_path, "epigenome\tcolor\nE901\tred\n")
    out = tmp_path / "ws"
    line = one_error_line(invoke(*_build_argv(out, "--metadata", path)))
    assert f"{path}:2: colour 'red' of E901 is not #RRGGBB; fix:" in line
    assert not out.exists()


def _build_argv(out, *extra):
    from helpers import build_args

    return build_args(out, *extra)


# --- a build with metadata, and where it shows ------------------------------------------------
@pytest.fixture(scope="module")
def meta_ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("meta")
    out = build_fixture(root / "ws", "--metadata", _tsv(root, METADATA))
    return out


@pytest.fixture(scope="module")
def meta_client(meta_ws):
    from shallowchrome.server.web.app import create_app

    app = create_app(meta_ws, {"REPORTS_WARMUP": False, "GENES_WARMUP": False})
    app.testing = True
    return app.test_client()


def test_workspace_json_records_name_group_colour(meta_ws):
    epis = json.loads((meta_ws / "workspace.json").read_text())["epigenomes"]
    assert epis["E901"]["tissue"] == "Patient one liver" and epis["E901"]["group"] == "Patients"
    assert epis["E901"]["color"] == "#1B9E77" and "color" not in epis["E902"]
    assert epis["E903"]["tissue"] == "" and epis["E903"]["group"] == "Controls"
    evaluation = (meta_ws / "evaluation.tsv").read_text()
    assert "Patient one liver" in evaluation


def test_home_page_shows_names_and_groups(meta_client):
    html = meta_client.get("/").get_data(as_text=True)
    assert "Patient one liver" in html and "Patients" in html and "Controls" in html
    assert "#1B9E77" in html and "#D95F02" in html
    assert html.index("Controls") < html.index("Patients")  # users' groups by name


def test_api_epigenomes(meta_client):
    recs = {r["id"]: r for r in meta_client.get("/api/epigenomes").get_json()["epigenomes"]}
    assert recs["E901"]["tissue"] == "Patient one liver"
    assert (recs["E901"]["group"], recs["E901"]["color"]) == ("Patients", "#1B9E77")
    assert (recs["E902"]["group"], recs["E902"]["color"]) == ("Patients", "#999999")
    assert (recs["E903"]["group"], recs["E903"]["color"]) == ("Controls", "#D95F02")


def test_gene_page_groups(meta_ws, meta_client):
    from shallowchrome.server.web.pages import epigenome_groups
    from shallowchrome.server.web.state import WorkspaceData

    groups = epigenome_groups(WorkspaceData(meta_ws))
    assert [(g["group"], [i["id"] for i in g["epigenomes"]]) for g in groups] == [
        ("Controls", ["E903"]), ("Patients", ["E901", "E902"])]
    header, first = (meta_ws / "genes.tsv").read_text().splitlines()[:2]
    gene_id = dict(zip(header.split("\t"), first.split("\t")))["gene_id"]
    resp = meta_client.get(f"/genes/{gene_id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Patients" in html and "Controls" in html and "Patient two liver" in html


def test_browser_picker(meta_client):
    html = meta_client.get("/browser").get_data(as_text=True)
    assert "Patient one liver" in html and "Patients" in html and "Controls" in html


def test_trackdb_subgroups(meta_ws):
    trackdb = next((meta_ws / "hub").glob("*/trackDb.txt")).read_text()
    assert "group Roadmap_group Controls=Controls Patients=Patients" in trackdb
    assert "tissue Tissue Patient_one_liver=Patient_one_liver" in trackdb


def test_a_rebuild_changing_only_metadata_refreshes_what_shows_it(meta_ws, tmp_path):
    import shutil

    ws = Path(shutil.copytree(meta_ws, tmp_path / "ws", symlinks=True))
    before = {p.name: os.stat(p).st_mtime_ns for p in (ws / "epigenomes" / "E901").iterdir()}
    meta = _tsv(tmp_path, METADATA.replace("Patient one liver", "Donor A").replace("Controls", "Healthy"))
    build_fixture(ws, "--metadata", meta)
    after = {p.name: os.stat(p).st_mtime_ns for p in (ws / "epigenomes" / "E901").iterdir()}
    assert after == before  # the models are reused
    epis = json.loads((ws / "workspace.json").read_text())["epigenomes"]
    assert epis["E901"]["tissue"] == "Donor A" and epis["E903"]["group"] == "Healthy"
    trackdb = next((ws / "hub").glob("*/trackDb.txt")).read_text()
    assert "Healthy" in trackdb and "Donor_A" in trackdb and "Controls" not in trackdb
    tracks = json.loads((ws / "hub" / "tracks.json").read_text())
    assert {t["tissue"] for t in tracks["tracks"] if t["epigenome"] == "E901"} == {"Donor A"}


def test_explain_and_weights_name_the_epigenomes_as_recorded(meta_ws):
    from shallowchrome.tracks.analysis.explain import explain, weights_table
    from shallowchrome.tracks.workspace.layout import Workspace

    ws = Workspace.open(meta_ws)
    gene_id = ws.genes()["gene_id"].iloc[0]
    tissues = {e["epigenome"]: e["tissue"] for e in explain(ws, [gene_id], ["E901", "E902"])["explanations"]}
    assert tissues == {"E901": "Patient one liver", "E902": "Patient two liver"}
    assert set(weights_table(ws, ["E901"])["tissue"]) == {"Patient one liver"}
