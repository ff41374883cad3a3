"""`shallowchrome tracks`: bigBed/bigWig/BED tracks, goldens, independent readers, sessions, errors, atomicity."""
import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import bbi
import numpy as np
import pandas as pd
import pyBigWig
import pysam
import pytest
from click.testing import CliRunner
from helpers import build_fixture

from shallowchrome.model.errors import InputError
from shallowchrome.model.interpret import fold_record
from shallowchrome.server.cli import main
from shallowchrome.tracks.hub import bbifile, bigbed
from shallowchrome.tracks.hub.territories import nearest_tss_territories
from shallowchrome.tracks.hub.write import write_tracks
from shallowchrome.tracks.io.chromsizes import load_chrom_sizes
from shallowchrome.tracks.workspace.layout import Workspace

GOLDEN = Path(__file__).parent / "data" / "golden"
WINDOW = 5000


@pytest.fixture(scope="module")
def ws(fixture_build) -> Workspace:
    """The fixture workspace, built with tracks (build runs `tracks` at its end): the session's read-only
    one (conftest); tests that write take ``ws_copy``."""
    out, output = fixture_build
    assert f"hub: {out / 'hub' / 'hub.txt'}" in output
    return Workspace.open(out)


@pytest.fixture
def ws_copy(fixture_ws_copy) -> Workspace:
    return Workspace.open(fixture_ws_copy)  # tmp_path / "ws"


def compare_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SHALLOWCHROME_UPDATE_GOLDEN"):  # regenerate deliberately, then review the diff
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.read_text() == text, f"{name} differs from its golden file (SHALLOWCHROME_UPDATE_GOLDEN=1 regenerates)"


def test_hub_layout(ws):
    hub = ws.hub_dir
    for rel in ("hub.txt", "genomes.txt", "hub.html", "igv_session.json", "igv_session.xml", "tracks.json",
                "hg19/trackDb.txt", "hg19/chrom.sizes", "hg19/predictions.html", "hg19/outcome.html",
                "hg19/contribution_H3K4me3.html", "hg19/feature_DNase.html"):
        assert (hub / rel).is_file(), rel
    for eid, marks in (("E901", ["H3K4me3", "H3K27me3"]), ("E903", ["H3K4me3", "DNase"])):
        names = {f"{eid}.{n}" for n in ("predictions.bb", "outcome.bb", "predictions.as", "predictions.bed",
                                         "predictions.bed.gz", "predictions.bed.gz.tbi")}
        names |= {f"{eid}.{m}.{k}.bw" for m in marks for k in ("contribution", "feature")}
        assert {p.name for p in ws.track_dir(eid).iterdir()} == names
    assert not list(hub.rglob("*.tmp*")) and not list(hub.rglob(".*"))  # no temporary files left
    assert (hub / "hub.txt").read_text().splitlines()[:2] == ["hub ShallowChrome", "shortLabel ShallowChrome"]
    assert (hub / "genomes.txt").read_text() == "genome hg19\ntrackDb hg19/trackDb.txt\n"
    assert (hub / "hg19" / "chrom.sizes").read_text().startswith("chr1\t249250621\n")


def test_golden_trackdb_and_autosql(ws):
    compare_golden("trackDb.txt", ws.hub_genome_dir().joinpath("trackDb.txt").read_text())
    compare_golden("E901.predictions.as", ws.track_file("E901", "schema").read_text())
    trackdb = ws.hub_genome_dir().joinpath("trackDb.txt").read_text()
    assert str(ws.root) not in trackdb and "bigDataUrl E901/E901.predictions.bb" in trackdb


def test_bigbed_reads_back_with_pybigwig_and_pybbi(ws):
    path = ws.track_file("E901", "predictions")
    header = bbifile.read_header_of(path)
    assert (header.magic, header.defined_field_count, header.field_count) == (bbifile.BIGBED_MAGIC, 9, 23)
    pred = ws.predictions("E901").set_index("gene_id")
    model = ws.model("E901")
    # pyBigWig: every item, exactly the BED file's lines
    bb = pyBigWig.open(str(path))
    assert bb.isBigBed() and "contrib_H3K27me3" in bb.SQL().decode()
    lines = [line.split("\t") for line in ws.track_file("E901", "bed").read_text().splitlines()[1:]]
    got = [[c, str(s), str(e), *rest.split("\t")] for c in ("chr1", "chr2", "chr3")
           for s, e, rest in bb.entries(c, 0, bb.chroms(c))]
    bb.close()
    assert got == lines and len(got) == 120
    # pybbi (UCSC's own C reader): the autoSql-typed table
    frames = [bbi.fetch_intervals(str(path), c, 0, -1, iterator=False) for c in ("chr1", "chr2", "chr3")]
    with bbi.open(str(path)) as f:
        schema = f.schema
    assert schema["columns"][9:12] == ["gene_id", "probability", "logit"]
    # every field parses as its autoSql type (pybbi leaves the extra fields as text with pandas 3)
    df = pd.concat(frames, ignore_index=True).astype(schema["dtypes"]).set_index("gene_id")
    assert len(df) == 120 and df["logit"].dtype == np.float64 and df["score"].dtype == np.uint32
    p = pred.loc[df.index]
    np.testing.assert_allclose(df["probability"], p["probability"], atol=1e-6)
    np.testing.assert_allclose(df["logit"], p["logit"], atol=1e-5)
    for mark in ("H3K4me3", "H3K27me3"):
        np.testing.assert_allclose(df[f"contrib_{mark}"], p[f"contrib_{mark}"], atol=1e-5)
        # each gene's p-value is its own fold model's (predictions.tsv names the fold)
        want = [fold_record(model, fold)["p_values"][mark] for fold in p["fold"]]
        np.testing.assert_allclose(df[f"pvalue_{mark}"], want, rtol=1e-2)
    assert (df["score"] == np.rint(p["probability"] * 1000)).all()
    assert (df["start"] == np.maximum(p["tss"] - WINDOW, 0)).all() and (df["end"] == p["tss"] + WINDOW).all()
    assert (df["thickStart"] == p["tss"] - 500).all() and (df["thickEnd"] == p["tss"] + 500).all()
    assert (df["name"] == p["symbol"]).all() and (df["strand"] == p["strand"]).all()
    assert (df["predicted"] == np.where(p["predicted"] == 1, "ON", "OFF")).all()
    assert (df["reserved"] == np.where(p["predicted"] == 1, "0,158,115", "213,94,0")).all()
    assert (df["label"] == p["label"].map({1: "ON", 0: "OFF"})).all() and (df["part"] == p["part"]).all()
    np.testing.assert_allclose(df["rpkm"].astype(float), p["rpkm"], rtol=1e-5)
    contrib = p[["contrib_H3K4me3", "contrib_H3K27me3"]].to_numpy()
    top = np.array(["H3K4me3", "H3K27me3"])[np.argmax(np.abs(contrib), axis=1)]
    top[(contrib == 0).all(axis=1)] = "none"
    assert (df["top_mark"] == top).all()


def test_outcome_bigbed_colours_correct_vs_wrong(ws):
    path = str(ws.track_file("E902", "outcome"))
    df = pd.concat([bbi.fetch_intervals(path, c, 0, -1, iterator=False) for c in ("chr1", "chr2", "chr3")])
    assert len(df) == 120
    expected = df["outcome"].map({"correct": "0,114,178", "wrong": "230,159,0", "unlabelled": "153,153,153"})
    assert (df["reserved"] == expected).all() and set(df["outcome"]) == {"correct", "wrong"}
    assert ((df["predicted"] == df["label"]) == (df["outcome"] == "correct")).all()


def test_name_index_finds_every_gene(ws):
    data = ws.track_file("E901", "predictions").read_bytes()
    header = bbifile.read_header(data)
    indexes = bbifile.extra_index_fields(data, header)
    assert set(indexes) == {3, 9}  # name, gene_id
    genes = ws.genes()
    for field_id, column in ((3, "symbol"), (9, "gene_id")):
        for value in genes[column]:
            hits = bbifile.bpt_find(data, indexes[field_id], value.encode())
            items = [i for h in hits for i in bbifile.block_items(data, header, *h)
                     if i[3].split(b"\t")[field_id - 3] == value.encode()]
            assert len(items) >= 1, value
    assert bbifile.bpt_find(data, indexes[3], b"NOT_A_GENE") == []


def test_bpt_multilevel_tree_with_duplicates():
    keys = sorted([f"K{i:03d}".encode() for i in range(300)] + [b"K150", b"K150"])
    values = [i.to_bytes(8, "little") * 2 for i in range(len(keys))]
    tree = bbifile.bpt_bytes(keys, values, start=100, block_size=4)  # 4 slots: several index levels
    data = b"\0" * 100 + tree
    for k in (b"K000", b"K299", b"K007"):
        assert bbifile.bpt_find(data, 100, k) == [(keys.index(k), keys.index(k))]
    assert sorted(bbifile.bpt_find(data, 100, b"K150")) == [(i, i) for i in range(150, 153)]
    assert bbifile.bpt_find(data, 100, b"K300") == [] and bbifile.bpt_find(data, 100, b"A") == []


def _bw_value(path, chrom, pos):
    bw = pyBigWig.open(str(path))
    try:
        return bw.values(chrom, pos, pos + 1)[0]
    finally:
        bw.close()


def test_bigwig_values_at_genes(ws):
    """ALB (chr1:53000) and MYOD1 (chr1:58000) have overlapping windows: split after the midpoint."""
    pred = ws.predictions("E901").set_index("symbol")
    feats = ws.features("E901").set_index("symbol")
    contrib = ws.track_file("E901", "contribution", "H3K4me3")
    feature = ws.track_file("E901", "feature", "H3K4me3")
    alb, myod1, gene2 = pred.loc["ALB"], pred.loc["MYOD1"], pred.loc["GENE2"]
    assert (alb.tss, myod1.tss) == (53000, 58000)
    cut = (53000 + 58000) // 2 + 1  # 55501: base 55500 is 2500 from both, a tie that goes to ALB
    for pos in (48000, 53000, cut - 1):
        assert _bw_value(contrib, "chr1", pos) == pytest.approx(alb.contrib_H3K4me3, abs=1e-5)
        assert _bw_value(feature, "chr1", pos) == pytest.approx(feats.loc["ALB", "H3K4me3"], abs=1e-4)
    for pos in (cut, 58000, 62999):
        assert _bw_value(contrib, "chr1", pos) == pytest.approx(myod1.contrib_H3K4me3, abs=1e-5)
    assert np.isnan(_bw_value(contrib, "chr1", 47999)) and np.isnan(_bw_value(contrib, "chr1", 63000))
    # a gene owns its window up to the midpoint to the next TSS (GENE3's, 4 kb downstream: 187,000); pybbi (UCSC's
    # reader) agrees with pyBigWig
    values = bbi.fetch(str(contrib), "chr1", gene2.tss - WINDOW, gene2.tss + 2000, bins=7)
    np.testing.assert_allclose(values, gene2.contrib_H3K4me3, atol=1e-5)
    info = bbi.info(str(feature))
    assert info["summary"]["max"] == pytest.approx(ws.features("E901")["H3K4me3"].max(), rel=1e-6)


def test_territories_nearest_tss_ties_duplicates_and_clipping():
    sizes = {"chr1": 1000, "chr2": 100}
    t = nearest_tss_territories(["chr1", "chr1", "chr1", "chr2", "chr1"], [100, 103, 100, 95, 990],
                                ["B", "C", "A", "D", "E"], 10, sizes)
    rows = {r.row: (r.chrom, r.start, r.end) for r in t.itertuples()}
    # A and B share TSS 100: A (earlier gene_id) owns it, B owns nothing
    assert 0 not in rows
    assert rows[2] == ("chr1", 90, 102)  # bases 100, 101 nearer to 100 (101: 1 vs 2); 102 nearer to 103
    assert rows[1] == ("chr1", 102, 113)
    assert rows[4] == ("chr1", 980, 1000)  # clipped at the chromosome end
    assert rows[3] == ("chr2", 85, 100)
    even = nearest_tss_territories(["chr1", "chr1"], [100, 104], ["X", "Y"], 10, sizes)
    assert even[["start", "end"]].values.tolist() == [[90, 103], [103, 114]]  # base 102: a tie, to X


def test_tabix_copy_reads_by_region(ws):
    gz = ws.track_file("E901", "bed.gz")
    with pysam.TabixFile(str(gz)) as tbx:
        rows = [r.split("\t") for r in tbx.fetch("chr1", 53000, 53001)]
        assert tbx.header[0].startswith("#chrom\tchromStart")
    assert {r[3] for r in rows} == {"ALB", "MYOD1"}


def test_sessions_reference_the_hub_files(ws):
    hub = ws.hub_dir
    doc = json.loads((hub / "igv_session.json").read_text())
    assert doc["reference"] == {"id": "hg19", "name": "hg19", "format": "chromsizes", "fastaURL": "hg19/chrom.sizes"}
    urls = [t["url"] for t in doc["tracks"]]
    assert urls[:4] == ["hg19/genes.bed", "hg19/E901/E901.predictions.bb", "hg19/E901/E901.H3K4me3.contribution.bw",
                        "hg19/E901/E901.H3K27me3.contribution.bw"]
    assert len(urls) == 1 + 3 * 5 and all((hub / u).is_file() for u in urls)
    # the sessions open at the gene whose P(ON) differs most between the epigenomes, ± 2 windows
    p = pd.concat([ws.predictions(e)["probability"] for e in ws.epigenomes()], axis=1)
    gene = ws.genes().iloc[int((p.max(axis=1) - p.min(axis=1)).to_numpy().argmax())]
    assert doc["locus"] == f"{gene['chrom']}:{gene['tss'] - 10000 + 1}-{gene['tss'] + 10000}"
    manifest = json.loads((hub / "tracks.json").read_text())
    assert manifest["locus"] == doc["locus"] and manifest["genes"] == "hg19/genes.bed"
    root = ET.parse(hub / "igv_session.xml").getroot()
    assert root.get("locus") == doc["locus"]
    # IGV desktop loads a genome from a NAME.chrom.sizes file (an id would make it fetch hg19 from igv.org)
    assert root.tag == "Session" and root.get("genome") == "hg19/hg19.chrom.sizes"
    assert (hub / "hg19" / "hg19.chrom.sizes").read_text() == (hub / "hg19" / "chrom.sizes").read_text()
    paths = [r.get("path") for r in root.iter("Resource")]
    assert paths == urls and [t.get("id") for t in root.iter("Track")] == urls
    assert {t["path"] for t in manifest["tracks"]} >= set(urls[1:]) and manifest["base_url"] is None


def test_gene_track_has_every_gene_at_its_tss(ws):
    genes = ws.genes()
    with pysam.TabixFile(str(ws.hub_dir / "hg19" / "genes.bed.gz")) as tbx:
        rows = [r.split("\t") for c in tbx.contigs for r in tbx.fetch(c)]
    plain = [r.split("\t") for r in (ws.hub_dir / "hg19" / "genes.bed").read_text().splitlines()[1:]]
    assert rows == plain and len(rows) == len(genes)
    got = {r[3]: (r[0], int(r[1]), int(r[2]), r[5], int(r[6]), int(r[7])) for r in rows}
    names = genes["symbol"].where(genes["symbol"] != "", genes["gene_id"])
    # the model's input field (TSS ± 5 kb) with the TSS ± 500 bp thick, as the prediction items
    want = {n: (c, max(t - 5000, 0), t + 5000, s, max(t - 500, 0), t + 500)
            for n, c, t, s in zip(names, genes["chrom"], genes["tss"], genes["strand"])}
    assert got == want
    items = bbi.fetch_intervals(str(ws.track_file("E901", "predictions")), "chr1", 0, -1, iterator=False)
    for _, item in items.iterrows():
        assert got[item["name"]][1:3] == (item["start"], item["end"])


def test_base_url_makes_absolute_urls(ws_copy):
    write_tracks(ws_copy, base_url="https://example.org/ws/hub/")
    trackdb = ws_copy.hub_genome_dir().joinpath("trackDb.txt").read_text()
    assert "bigDataUrl https://example.org/ws/hub/hg19/E901/E901.predictions.bb" in trackdb
    doc = json.loads((ws_copy.hub_dir / "igv_session.json").read_text())
    assert [t["url"] for t in doc["tracks"][:2]] == ["https://example.org/ws/hub/hg19/genes.bed",
                                                     "https://example.org/ws/hub/hg19/E901/E901.predictions.bb"]
    assert doc["reference"]["fastaURL"] == "https://example.org/ws/hub/hg19/chrom.sizes"
    # hub check maps URLs under the recorded base URL back to the local files
    result = CliRunner().invoke(main, ["hub", "check", str(ws_copy.root)])
    assert result.exit_code == 0 and "18 track files opened" in result.output, result.output


def test_output_is_deterministic(ws, tmp_path):
    other = tmp_path / "again"
    shutil.copytree(ws.root, other)
    write_tracks(other, jobs=2)
    for path in ws.hub_dir.rglob("*"):
        if path.is_file():
            assert path.read_bytes() == (other / "hub" / path.relative_to(ws.hub_dir)).read_bytes(), path


def test_chromhmm_state_column_becomes_a_field(ws_copy):
    for eid in ws_copy.epigenomes():
        pred = ws_copy.predictions(eid)
        pred["chromhmm_state"] = np.where(pred["probability"] > 0.5, "1_TssA", "15_Quies")
        pred.to_csv(ws_copy.predictions_path(eid), sep="\t", index=False)
    write_tracks(ws_copy)
    assert ws_copy.track_file("E901", "schema").read_text().splitlines()[-2].split()[1] == "chromhmm_state;"
    assert "ChromHMM $chromhmm_state" in ws_copy.hub_genome_dir().joinpath("trackDb.txt").read_text()
    df = bbi.fetch_intervals(str(ws_copy.track_file("E901", "predictions")), "chr1", 0, -1, iterator=False)
    assert set(df["chromhmm_state"]) <= {"1_TssA", "15_Quies"}
    result = CliRunner().invoke(main, ["hub", "check", str(ws_copy.root)])
    assert result.exit_code == 0, result.output


def test_missing_chromosome_is_one_clear_error_and_writes_nothing(ws, tmp_path):
    copy = tmp_path / "ws"
    shutil.copytree(ws.root, copy, ignore=shutil.ignore_patterns("hub"))
    sizes = tmp_path / "toy.sizes"
    sizes.write_text("chr1\t3000000\nchr2\t3000000\n")
    result = CliRunner().invoke(main, ["tracks", str(copy), "--genome", "toy", "--chrom-sizes", str(sizes)])
    assert result.exit_code == 2
    lines = [l for l in result.output.splitlines() if l.startswith("shallowchrome: error:")]
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "20 gene(s) lie on chromosome(s) chr3, absent from the toy chromosome sizes" in lines[0]
    assert "fix: give the assembly the genes use with --genome NAME --chrom-sizes FILE" in lines[0]
    assert not (copy / "hub").exists()
    with pytest.raises(InputError, match="no packaged chromosome sizes for genome 'hg38'"):
        write_tracks(copy, genome="hg38")
    sizes.write_text("chr1\t100000\nchr2\t3000000\nchr3\t3000000\n")
    with pytest.raises(InputError, match=r"has its TSS at chr1:\d+, beyond the end of chr1"):
        write_tracks(copy, genome="toy", chrom_sizes=sizes)


def test_custom_assembly_with_chrom_sizes(ws, tmp_path):
    copy = tmp_path / "ws"
    shutil.copytree(ws.root, copy, ignore=shutil.ignore_patterns("hub"))
    sizes = tmp_path / "toy.sizes"
    sizes.write_text("chr1\t3000000\nchr2\t3000000\nchr3\t2500000\n")
    result = CliRunner().invoke(main, ["tracks", str(copy), "--genome", "toy", "--chrom-sizes", str(sizes)])
    assert result.exit_code == 0, result.output
    assert (copy / "hub" / "genomes.txt").read_text() == "genome toy\ntrackDb toy/trackDb.txt\n"
    assert pyBigWig.open(str(copy / "hub" / "toy" / "E901" / "E901.predictions.bb")).chroms() == \
        {"chr1": 3000000, "chr2": 3000000, "chr3": 2500000}
    assert CliRunner().invoke(main, ["hub", "check", str(copy)]).exit_code == 0


def test_a_failed_write_leaves_no_half_written_file(ws_copy, monkeypatch):
    before = {p: p.read_bytes() for p in ws_copy.hub_dir.rglob("*") if p.is_file()}

    def broken(path, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(bigbed, "verify_bigbed", broken)  # fails inside the bigBed write, before the rename
    with pytest.raises(OSError, match="disk full"):
        write_tracks(ws_copy, force=True)  # unchanged epigenomes keep their files: force the writes
    after = {p: p.read_bytes() for p in ws_copy.hub_dir.rglob("*") if p.is_file()}
    assert set(after) == set(before)  # no temporary file left behind
    assert after[ws_copy.track_file("E901", "predictions")] == before[ws_copy.track_file("E901", "predictions")]


def test_tracks_command_and_build_no_tracks(ws_copy, tmp_path):
    result = CliRunner().invoke(main, ["tracks", str(ws_copy.root), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert "tracks: 3 epigenome(s), 360 gene items, 18 track files" in result.output
    out = build_fixture(tmp_path / "plain", "--no-tracks", "--epigenomes", "E902")  # asserts exit code 0
    assert not (out / "hub").exists()
    bad = CliRunner().invoke(main, ["tracks", str(tmp_path / "nothing")])
    assert bad.exit_code == 2 and "is not a ShallowChrome workspace" in bad.output
    bad = CliRunner().invoke(main, ["tracks", str(ws_copy.root), "--base-url", "example.org/hub"])
    assert bad.exit_code == 2 and "is not an http(s) URL" in bad.output


def test_packaged_hg19_sizes():
    sizes = load_chrom_sizes("hg19")
    assert sizes.sizes["chr1"] == 249250621 and len(sizes.sizes) == 93
    assert [c for c, _ in sizes.sorted_items()][:3] == ["chr1", "chr10", "chr11"]


def test_track_filenames():
    from shallowchrome.tracks.workspace import layout as tracks_mod  # file names live in the workspace layout

    assert tracks_mod.track_filename("E066", "contribution", "H3K4me3") == "E066.H3K4me3.contribution.bw"
    assert tracks_mod.track_filename("E066", "predictions") == "E066.predictions.bb"
    # names written before they carried the epigenome are still recognised (removed when an epigenome leaves)
    assert all(tracks_mod.TRACK_FILE.match(n) for n in ("predictions.bb", "H3K4me3.feature.bw", "E066.outcome.bb"))
    assert not tracks_mod.TRACK_FILE.match("notes.txt")
    with pytest.raises(InputError):
        tracks_mod.track_filename("../E066", "predictions")


def test_tracks_of_epigenomes_that_left_the_build_are_removed(fixture_ws_copy):
    out = fixture_ws_copy  # the fixture built with tracks (a copy: rebuilt below)
    ws = Workspace.open(out)
    assert ws.track_file("E902", "predictions").is_file()
    keep = ws.track_dir("E902") / "notes.txt"  # a user's own file is never deleted
    keep.write_text("mine")
    build_fixture(out, "--epigenomes", "E901,E903")  # rebuild with fewer epigenomes; build rewrites the tracks
    ws = Workspace.open(out)
    assert ws.track_file("E901", "predictions").is_file()
    assert sorted(p.name for p in ws.track_dir("E902").iterdir()) == ["notes.txt"]
    keep.unlink()
    write_tracks(ws)  # nothing left to remove: no error
    assert "E902" not in (ws.hub_genome_dir() / "trackDb.txt").read_text()


def test_fewer_epigenomes_than_jobs_split_each_epigenomes_files_into_two_tasks(ws_copy, monkeypatch):
    """With fewer epigenomes to write than worker processes (e.g. the one new epigenome of a rebuild), its items
    and its signals are two tasks; the files are those one task per epigenome writes."""
    from shallowchrome.tracks.hub import write as write_mod

    files = sorted(p for p in ws_copy.hub_dir.rglob("*") if p.is_file() and p.parent.name.startswith("E9"))
    before = {p: p.read_bytes() for p in files}
    seen = []
    real = write_mod.map_jobs

    def spy(func, items, jobs=1, **kw):
        seen.append(list(items))
        return real(func, items, jobs, **kw)

    monkeypatch.setattr(write_mod, "map_jobs", spy)
    write_tracks(ws_copy, force=True, jobs=4)
    assert sorted(seen[0]) == sorted((e, (part,)) for e in ("E901", "E902", "E903") for part in write_mod.PARTS)
    assert {p: p.read_bytes() for p in files} == before
    write_tracks(ws_copy, force=True, jobs=2)  # as many epigenomes as jobs or more: one task each
    assert sorted(seen[1]) == [(e, write_mod.PARTS) for e in ("E901", "E902", "E903")]
