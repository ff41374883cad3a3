"""Incremental rebuilds: unchanged epigenomes are reused (files untouched), changed ones recomputed, and the
result always equals a build from scratch of the same inputs."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from helpers import invoke, published_files

FIXTURE = Path(__file__).parent / "data" / "fixture"
OLD = 1_000_000_000_000_000_000  # an mtime (ns) long past: any rewrite shows


@pytest.fixture
def data(tmp_path) -> Path:
    """A writable copy of the fixture data set (3 epigenomes)."""
    dest = tmp_path / "data"
    shutil.copytree(FIXTURE, dest)
    return dest


def build(data: Path, out: Path, *extra):
    res = invoke("-v", "build", "--genes", data / "genes.tsv", "--expression", data / "rpkm.tsv.gz",
                 "--peaks", data / "peaks", "--splits-file", data / "splits.tsv.gz", "--splits", "3",
                 "--out", out, *extra)
    assert res.exit_code == 0, res.output
    return res.output


def age(root: Path):
    """Set every file's mtime far into the past."""
    for p in published_files(root):
        if p.is_file():
            os.utime(p, ns=(OLD, OLD))


def rewritten(root: Path) -> set:
    """Files (relative) rewritten since :func:`age`."""
    return {p.relative_to(root).as_posix() for p in published_files(root) if p.is_file() and p.stat().st_mtime_ns != OLD}


def model_files(eid):
    return {f"epigenomes/{eid}/{name}" for name in ("model.json", "predictions.tsv", "features.tsv")}


def track_files(root: Path, eid):
    return {p.relative_to(root).as_posix() for p in (root / "hub" / "hg19" / eid).iterdir()}


def assert_same_as_scratch(out: Path, scratch: Path):
    mine = {p.relative_to(out).as_posix() for p in published_files(out) if p.is_file()}
    theirs = {p.relative_to(scratch).as_posix() for p in published_files(scratch) if p.is_file()}
    assert mine == theirs
    for rel in sorted(mine):
        assert (out / rel).read_bytes() == (scratch / rel).read_bytes(), rel


def test_adding_an_epigenome_reuses_the_others(data, tmp_path):
    out = tmp_path / "ws"
    build(data, out, "--epigenomes", "E901,E902")
    before = {p: p.read_bytes() for p in published_files(out) if p.is_file()}
    age(out)
    log = build(data, out)  # all three now
    assert "2 of 3 epigenomes reused" in log and "tracks of 2 of 3 epigenomes are unchanged" in log
    changed = rewritten(out)
    for eid in ("E901", "E902"):
        untouched = model_files(eid) | track_files(out, eid)
        assert not untouched & changed, untouched & changed  # not rewritten: same mtime ...
        for rel in untouched:
            assert (out / rel).read_bytes() == before[out / rel]  # ... same bytes
    assert model_files("E903") <= changed and track_files(out, "E903") <= changed
    assert {"workspace.json", "evaluation.tsv", "hub/hg19/trackDb.txt", "hub/tracks.json", "hub/hub.txt"} <= changed
    # the same splits and genes: their files are linked, not written again
    assert not {"splits.tsv.gz", "hub/hg19/genes.bed", "hub/hg19/genes.bed.gz", "hub/hg19/genes.bed.gz.tbi"} & changed
    info = json.loads((out / "workspace.json").read_text())
    assert list(info["epigenomes"]) == ["E901", "E902", "E903"]
    scratch = tmp_path / "scratch"
    build(data, scratch)
    assert_same_as_scratch(out, scratch)
    check = invoke("hub", "check", out)
    assert check.exit_code == 0, check.output


def test_what_reuse_is_keyed_on_is_recorded(data, tmp_path):
    out = tmp_path / "ws"
    build(data, out)
    rec = json.loads((out / "workspace.json").read_text())["epigenomes"]["E901"]
    peaks = rec["inputs"]["peaks"]
    assert len(peaks) == len(list((data / "peaks").glob("E901-*"))) and {v["mark"] for v in peaks.values()} == {"H3K4me3", "H3K27me3"}
    for path, entry in peaks.items():
        assert entry["sha256"] == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    assert set(rec["inputs"]) == {"peaks", "expression", "genes", "splits", "parameters"}
    assert rec["inputs"]["parameters"]["window"] == 5000 and rec["inputs"]["parameters"]["splits"] == 3
    for name, digest in rec["outputs"].items():
        assert digest == hashlib.sha256((out / "epigenomes" / "E901" / name).read_bytes()).hexdigest()
    keys = json.loads((out / "hub" / "tracks.json").read_text())["epigenome_keys"]
    assert set(keys) == {"E901", "E902", "E903"} and keys["E901"]["files"]["E901.predictions.bb"] > 0


def test_changing_one_peak_file_recomputes_only_its_epigenome(data, tmp_path):
    out = tmp_path / "ws"
    build(data, out)
    age(out)
    peak = data / "peaks" / "E902-H3K4me3.narrowPeak.gz"
    lines = gzip.decompress(peak.read_bytes()).decode().splitlines()
    fields = lines[0].split("\t")
    fields[6] = str(float(fields[6]) * 10 + 1)  # a stronger first peak
    lines[0] = "\t".join(fields)
    peak.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))
    log = build(data, out)
    assert "2 of 3 epigenomes reused" in log
    changed = rewritten(out)
    assert model_files("E902") <= changed
    for eid in ("E901", "E903"):
        assert not (model_files(eid) | track_files(out, eid)) & changed
    scratch = tmp_path / "scratch"
    build(data, scratch)
    assert_same_as_scratch(out, scratch)


def test_changing_the_expression_column_recomputes_its_epigenome(data, tmp_path):
    import pandas as pd

    out = tmp_path / "ws"
    build(data, out)
    age(out)
    rpkm = pd.read_csv(data / "rpkm.tsv.gz", sep="\t")
    rpkm.loc[0, "E901"] = rpkm["E901"].max() + 100.0
    rpkm.to_csv(data / "rpkm.tsv.gz", sep="\t", index=False)
    assert "2 of 3 epigenomes reused" in build(data, out)
    changed = rewritten(out)
    assert model_files("E901") <= changed and not (model_files("E902") | model_files("E903")) & changed


@pytest.mark.parametrize("how", [("--window", "4000"), ("--force",)], ids=["window", "force"])
def test_a_parameter_change_or_force_recomputes_everything(data, tmp_path, how):
    out = tmp_path / "ws"
    build(data, out)
    age(out)
    before = {p: p.read_bytes() for p in published_files(out) if p.is_file()}
    log = build(data, out, *how)
    assert "epigenomes reused" not in log
    changed = rewritten(out)
    for eid in ("E901", "E902", "E903"):
        assert model_files(eid) <= changed
    if how == ("--force",):  # recomputed, the same bytes
        assert {p: p.read_bytes() for p in published_files(out) if p.is_file()} == before
    else:
        scratch = tmp_path / "scratch"
        build(data, scratch, *how)
        assert_same_as_scratch(out, scratch)


def test_a_model_file_changed_since_the_build_is_recomputed(data, tmp_path):
    out = tmp_path / "ws"
    build(data, out)
    pred = out / "epigenomes" / "E903" / "predictions.tsv"
    original = pred.read_bytes()
    pred.write_text("gene_id\nedited by hand\n")
    track = out / "hub" / "hg19" / "E902" / "E902.predictions.bb"
    track.unlink()  # a missing track file is written again
    log = build(data, out)
    assert "2 of 3 epigenomes reused" in log
    assert pred.read_bytes() == original and track.is_file()
