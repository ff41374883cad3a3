"""`shallowchrome hub check`: passes on what we write, catches broken hubs with the right messages."""
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import build_fixture

from shallowchrome.server.cli import main
from shallowchrome.tracks.hub import trackdb as hub
from shallowchrome.tracks.hub.check import check_hub, parse_stanzas
from shallowchrome.tracks.hub.write import write_tracks


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    # random splits (no splits file), 2 of them, tracks written afterwards: not the shared fixture_ws
    out = build_fixture(tmp_path_factory.mktemp("hub") / "ws", "--no-tracks", splits_file=None, splits=2)
    write_tracks(out)
    return out


@pytest.fixture
def broken(good, tmp_path) -> Path:
    dest = tmp_path / "ws"
    shutil.copytree(good, dest)
    return dest


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, count))


def run_check(target: Path):
    result = CliRunner().invoke(main, ["hub", "check", str(target)])
    return result.exit_code, result.output


def test_check_passes_on_the_hub_we_write(good):
    code, output = run_check(good)
    assert code == 0, output
    assert output.startswith(f"hub OK: {good / 'hub' / 'hub.txt'} (1 genome(s), 22 tracks, 18 track files opened, "
                             "9 visible by default)\n")
    # the hub folder and hub.txt are accepted too
    assert check_hub(good / "hub").ok and check_hub(good / "hub" / "hub.txt").ok


def test_wrong_field_name_in_mouseover_and_filter(broken):
    tdb = broken / "hub" / "hg19" / "trackDb.txt"
    edit(tdb, "$top_mark", "$top_marc")
    edit(tdb, "filterValues.part", "filterValues.split")
    edit(tdb, "filter.probability 0:1", "filter.predicted 0:1")
    code, output = run_check(broken)
    assert code == 2
    assert "hub check found" in output and "problem(s)" in output
    assert "trackDb.txt:14: track sc_pred_E901: mouseOver names field top_marc, which is not in the autoSql of " \
           "E901.predictions.bb" in output
    assert "track sc_pred_E902: filterValues.split names field split" in output
    assert "track sc_pred_E903: filter.predicted needs a numeric field, predicted is string" in output


def test_bad_defined_field_count(broken):
    bb = broken / "hub" / "hg19" / "E902" / "E902.predictions.bb"
    data = bytearray(bb.read_bytes())
    data[34:36] = (23).to_bytes(2, "little")  # what pybigtools writes unpatched: definedFieldCount = fieldCount
    bb.write_bytes(bytes(data))
    code, output = run_check(broken)
    assert code == 2
    assert "track sc_pred_E902: type says bigBed 9 but E902.predictions.bb has definedFieldCount 23" in output
    assert "sc_pred_E901" not in output


def test_missing_and_corrupt_files(broken):
    (broken / "hub" / "hg19" / "E901" / "E901.H3K27me3.feature.bw").unlink()
    (broken / "hub" / "hg19" / "E903" / "E903.DNase.contribution.bw").write_bytes(b"not a bigwig")
    (broken / "hub" / "hg19" / "outcome.html").unlink()
    code, output = run_check(broken)
    assert code == 2
    assert "track sc_max_H3K27me3_E901: bigDataUrl E901/E901.H3K27me3.feature.bw does not exist" in output
    assert "track sc_psi_DNase_E903: E903/E903.DNase.contribution.bw does not open as a bigWig/bigBed" in output
    assert "track sc_outcome: html page outcome.html does not exist" in output


def test_labels_parents_subgroups_and_required_settings(broken):
    tdb = broken / "hub" / "hg19" / "trackDb.txt"
    edit(tdb, "shortLabel E901 predicted", "shortLabel E901 predicted expression")
    edit(tdb, "track sc_psi_H3K4me3_E901\n    parent sc_psi on", "track sc_psi_H3K4me3_E901\n    parent sc_psi_H3K4me4 on")
    edit(tdb, "subGroups epigenome=E903", "subGroups epigenome=E999")
    edit(tdb, "    bigDataUrl E902/E902.outcome.bb\n", "")
    edit(tdb, "windowingFunction mean", "windowFunction mean")
    edit(broken / "hub" / "hub.txt", "email shallowchrome@example.org\n", "")
    code, output = run_check(broken)
    assert code == 2
    assert "hub.txt:1: hub.txt lacks the required setting email" in output
    assert "track sc_pred_E901: shortLabel 'E901 predicted expression' is longer than 17 characters" in output
    assert "track sc_psi_H3K4me3_E901: parent sc_psi_H3K4me4 is not defined" in output
    assert "track sc_pred_E903: subGroup epigenome=E999 is not a value sc_pred defines (E901, E902, E903)" in output
    assert "track sc_outcome_E902 lacks the required setting bigDataUrl" in output
    assert "unknown setting windowFunction (a typo?)" in output


def test_search_index_without_an_extra_index(broken):
    tdb = broken / "hub" / "hg19" / "trackDb.txt"
    edit(tdb, "searchIndex name,gene_id", "searchIndex name,gene_id,label", count=-1)
    code, output = run_check(broken)
    assert code == 2 and "track sc_pred_E901: searchIndex label but E901.predictions.bb has no extra index on it" in output


def test_no_hub_is_one_line_error(tmp_path):
    code, output = run_check(tmp_path)
    assert code == 2 and output.count("shallowchrome: error:") == 1
    assert "has no track hub (no hub/hub.txt); fix: write it with `shallowchrome tracks WORKSPACE`" in output


def test_short_label_and_stanza_text(tmp_path):
    assert hub.short_label("E066", "H3K27me3", "psi") == "E066 H3K27me3 psi"
    label = hub.short_label("E066", "H3K4me3_imputed_signal", "psi")
    assert len(label) <= 17 and label.startswith("E066 H3K4me3") and label.endswith(" psi")
    stanza = hub.Stanza({"track": "a", "type": "bigWig"}, [hub.Stanza({"track": "b", "parent": "a"})])
    assert stanza.text() == "track a\ntype bigWig\n\n    track b\n    parent a\n"
    path = tmp_path / "trackDb.txt"
    path.write_text(stanza.text() + "\n# comment\ninclude other.txt\n")
    stanzas, problems = parse_stanzas(path)
    assert [s.settings["track"] for s in stanzas] == ["a", "b"] and stanzas[1].lines == {"track": 4, "parent": 5}
    assert problems == [f"{path}:8: include is not followed by `hub check`; inline the included file"]


# --- composites at scale: subGroups, the group x mark matrix, a few tracks on by default ---------------
def scale_trackdb(tmp_path, epis, marks):
    """The trackDb of ``epis`` (no files: URLs only), written and parsed as `hub check` reads it."""
    stanzas = hub.trackdb(epis, marks, lambda eid, kind, mark: f"{eid}/{eid}.{mark or ''}.{kind}.bb")
    path = tmp_path / "trackDb.txt"
    path.write_text(hub.trackdb_text(stanzas))
    parsed, problems = parse_stanzas(path)
    assert problems == []
    return {s.settings["track"]: s for s in parsed}


def test_127_roadmap_epigenomes_and_a_user_one_make_a_usable_hub(tmp_path):
    from shallowchrome.tracks.hub.check import _check_stanza, visible_by_default
    from shallowchrome.tracks.reference import roadmap_epigenomes

    roadmap = roadmap_epigenomes()
    marks = ["H3K4me3", "H3K4me1", "H3K36me3", "H3K27me3", "H3K9me3"]
    epis = [hub.EpigenomeEntry(eid, info["name"], marks, 0.5 + i / 1000) for i, (eid, info) in enumerate(roadmap.items())]
    epis.append(hub.EpigenomeEntry("MYCELL", "", marks[:2], None))  # a user epigenome: no group, no tissue
    by_name = scale_trackdb(tmp_path, epis, marks)
    problems = []
    for stanza in by_name.values():
        _check_stanza(stanza, by_name, problems)
    assert [p for p in problems if "html description" not in p] == []  # (no pages written here)
    pred, psi = by_name["sc_pred"].settings, by_name["sc_psi"].settings
    groups = pred["subGroup2"].split()
    assert groups[:2] == ["group", "Roadmap_group"] and groups[2] == "ESC=ESC" and groups[-1] == "Other=Other"
    assert "Blood_T_cell=Blood_and_T-cell" in groups and "Sm_Muscle=Sm._Muscle" in groups  # tags and titles
    assert len(groups) - 2 == len({i["group"] for i in roadmap.values()})  # the user's joins "Other"
    tissues = dict(v.split("=", 1) for v in pred["subGroup3"].split()[2:])
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", t) for t in tissues) and len(tissues) == len(set(tissues))
    assert tissues["Liver"] == "Liver" and "unknown" in tissues
    assert pred["dimensions"] == "dimX=group" and psi["dimensions"] == "dimX=mark dimY=group"
    assert psi["sortOrder"] == "group=+ tissue=+ epigenome=+ mark=+"
    assert by_name["sc_pred_MYCELL"].settings["subGroups"] == "epigenome=MYCELL group=Other tissue=unknown"
    assert by_name["sc_psi_H3K4me1_E066"].settings["subGroups"].endswith(" mark=H3K4me1")
    # at most 10 visible: the 3 best epigenomes' predictions, the best one's psi of every mark
    visible = sorted(n for n, s in by_name.items() if not s.is_container and visible_by_default(s, by_name))
    best = [e.eid for e in sorted(epis[:-1], key=lambda e: -e.auroc)[:3]]
    assert visible == sorted([f"sc_pred_{e}" for e in best] + [f"sc_psi_{m}_{best[0]}" for m in marks])
    assert len(visible) == 8 and len(by_name) == 4 + 2 * 128 + 2 * (127 * 5 + 2)
    assert by_name["sc_pred_E001"].settings["parent"] == "sc_pred off"  # present, one click away
    assert by_name[f"sc_max_H3K4me3_{best[0]}"].settings["parent"] == "sc_max on"  # the same, when shown


def test_three_epigenomes_are_all_shown(good):
    tdb = (good / "hub" / "hg19" / "trackDb.txt").read_text()
    assert all(f"track sc_pred_{e}\n    parent sc_pred on\n" in tdb for e in ("E901", "E902", "E903"))
    assert " off\n" not in tdb  # 3 predictions and 6 psi tracks: within the 10
    assert check_hub(good).n_visible == 9


def test_check_flags_subgroup_tags_parent_modes_and_dimensions(broken):
    tdb = broken / "hub" / "hg19" / "trackDb.txt"
    edit(tdb, "subGroup2 group Roadmap_group Other=Other", "subGroup2 group Roadmap_group Other-1=Other")
    edit(tdb, "parent sc_pred on", "parent sc_pred shown")
    edit(tdb, "dimensions dimX=group", "dimensions rows=group")
    edit(tdb, "visibility pack", "visibility packed")
    code, output = run_check(broken)
    assert code == 2
    assert "track sc_pred: subGroup2: 'Other-1' must be identifiers (letters, digits, _)" in output
    assert "track sc_pred_E901: parent must be 'NAME', 'NAME on' or 'NAME off', not 'sc_pred shown'" in output
    assert "track sc_pred: dimensions names rows; use dimX, dimY and dimA, dimB, ..." in output
    assert "track sc_pred: visibility 'packed' is not one of hide, dense, squish, pack, full" in output
