"""`shallowchrome hub check`: passes on what we write, catches broken hubs with the right messages."""
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
    assert output.startswith(f"hub OK: {good / 'hub' / 'hub.txt'} (1 genome(s), 26 tracks, 18 track files opened)")
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
    assert "trackDb.txt:11: track sc_pred_E901: mouseOver names field top_marc, which is not in the autoSql of " \
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
    edit(tdb, "parent sc_psi_H3K4me3 on", "parent sc_psi_H3K4me4 on")
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
