"""`shallowchrome demo --no-serve`: the embedded Roadmap demo built end to end in a temporary folder.

With SHALLOWCHROME_UPDATE_SCREENSHOTS=1 (and Chromium) it also rewrites the README's screenshots
(tests/data/readme/), taken from the demo served by the real app.
"""
import gzip
import json
import os
import re
from pathlib import Path

import pytest
from helpers import invoke

from shallowchrome.server.web.app import create_app
from shallowchrome.tracks.hub.check import check_hub
from shallowchrome.tracks.workspace.layout import Workspace

README_IMAGES = Path(__file__).parent / "data" / "readme"
# Frasca et al. / ../shared/README.md reference AUROCs (H3K4me3 + H3K27me3, benchmark splits 1-10)
REFERENCE = {"E066": 0.834, "E079": 0.823, "E100": 0.868}
# E104 (right atrium) is in the demo without its RNA-seq: predicted by transfer. Its own-label model's
# reference AUROC (../shared/README.md), which the transferred predictions must reach within 0.02 (issue 12)
TRANSFERRED, OWN_LABEL_AUROC = "E104", 0.812
NOTE = "no expression data: model from E066,E079,E100"
README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "demo"
    res = invoke("demo", "--out", out, "--no-serve")
    assert res.exit_code == 0, res.output
    return Workspace.open(out), res.output


def test_demo_models_reproduce_the_reference(demo):
    ws, output = demo
    ev = ws.evaluation().set_index("epigenome")
    for eid, ref in REFERENCE.items():
        assert abs(ev.loc[eid, "auroc_mean"] - ref) <= 0.005, (eid, ev.loc[eid, "auroc_mean"])
        assert f"{eid} " in output
    # the case studies: ALB on in liver and off in muscle, predicted so; APOA1 ~6,000x higher in liver
    # (in muscle its 1.894 RPKM sits just above E100's median, 1.8905); ACTA1 and MYOD1 on in muscle only
    liver = ws.predictions("E066").set_index("symbol")
    muscle = ws.predictions("E100").set_index("symbol")
    assert (liver.loc["ALB", "label"], muscle.loc["ALB", "label"]) == (1, 0)
    # cross-fitted, ALB's P(ON) in liver is 0.45 (its benchmark TSS lies ~7 kb from the promoter peak), 0.20 in muscle
    assert liver.loc["ALB", "probability"] > muscle.loc["ALB", "probability"] + 0.2 and muscle.loc["ALB", "predicted"] == 0
    assert liver.loc["APOA1", "rpkm"] > 5000 * muscle.loc["APOA1", "rpkm"]
    assert liver.loc["APOA1", "probability"] > muscle.loc["APOA1", "probability"] + 0.3
    for gene in ("ACTA1", "MYOD1"):
        assert (liver.loc[gene, "label"], muscle.loc[gene, "label"]) == (0, 1)


def test_demo_has_tracks_interpretation_and_reports(demo):
    ws, output = demo
    report = check_hub(ws.root)
    assert report.ok and report.n_files > 0, report.problems
    states = ws.predictions("E066")["chromhmm_state"]
    assert states.notna().mean() > 0.99  # segmentations are embedded: every TSS has a state
    summary = json.loads(ws.interpretation_path("chromhmm.json").read_text())
    for eid in REFERENCE:
        ranks = summary["epigenomes"][eid]["group_ranks"]
        assert ranks["Active"] < ranks["Repressed"], (eid, ranks)
    pages = {p.name for p in (ws.root / "reports").glob("*.html")}
    assert {"ALB.html", "APOA1.html", "ACTA1.html", "MYOD1.html", "index.html"} <= pages
    assert "reports:" in output and "serve it with: shallowchrome serve" in output


def test_demo_rebuilds_in_place(demo):
    ws, _ = demo
    res = invoke("demo", "--out", ws.root, "--no-serve")
    assert res.exit_code == 0, res.output


@pytest.mark.skipif(not os.environ.get("SHALLOWCHROME_UPDATE_SCREENSHOTS"), reason="set SHALLOWCHROME_UPDATE_SCREENSHOTS=1")
def test_readme_screenshots(demo, live_server, chromium):
    ws, _ = demo
    base = live_server(create_app(ws.root))
    README_IMAGES.mkdir(parents=True, exist_ok=True)
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)  # Playwright polls with eval
    try:
        page.goto(f"{base}/browser?locus=ALB")
        page.wait_for_function("document.getElementById('igv').dataset.ready === 'true'", timeout=30_000)
        page.wait_for_timeout(2500)
        page.screenshot(path=str(README_IMAGES / "browser.png"))
        page.goto(f"{base}/reports/ALB")
        page.wait_for_timeout(4000)
        page.screenshot(path=str(README_IMAGES / "report.png"), full_page=False)
        page.goto(f"{base}/genes/ALB")
        page.wait_for_timeout(2500)
        page.screenshot(path=str(README_IMAGES / "gene.png"), full_page=False)
        page.goto(f"{base}/")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(README_IMAGES / "home.png"), full_page=False)
    finally:
        page.close()


def test_demo_writes_the_weights_heatmap(demo):
    ws, _ = demo
    for fmt in ("tsv", "png", "svg"):
        assert ws.interpretation_path(f"weights.{fmt}").is_file()


def test_demo_predicts_right_atrium_without_its_rnaseq(demo):
    ws, output = demo
    eid = TRANSFERRED
    assert eid in ws.epigenomes() and ws.info["epigenomes"][eid]["transfer"]["note"] == NOTE
    assert ws.model(eid)["transfer"]["note"] == NOTE and ws.model(eid)["transfer"]["reference"] == list(REFERENCE)
    ev = ws.evaluation().set_index("epigenome")
    assert ev.loc[eid, "status"] == "transfer"
    assert re.search(rf"^{eid}\s+Right Atrium\s+no test AUROC: {NOTE}", output, re.M), output
    assert "cross-epigenome AUROC (3 labelled epigenomes" in output
    pred = ws.predictions(eid)
    assert pred["label"].isna().all() and pred["rpkm"].isna().all() and (pred["part"] == "none").all()
    assert pred["probability"].between(0, 1).all() and 0.3 < pred["predicted"].mean() < 0.7
    # every gene has a pattern; it lands where the labelled epigenomes' do: H3K4me3 activates, H3K27me3 represses
    assert (pred["contrib_H3K4me3"] >= 0).all() and (pred["contrib_H3K27me3"] <= 0).all()
    # its tracks are in the hub, beside the labelled epigenomes'
    tracks = [t for t in ws.hub_manifest()["tracks"] if t.get("epigenome") == eid]
    assert {t["kind"] for t in tracks} >= {"predictions", "contribution"}
    assert all((ws.hub_dir / t["path"]).is_file() for t in tracks)
    assert f"track sc_pred_{eid}\n" in (ws.hub_dir / "hg19" / "trackDb.txt").read_text()
    # no ChromHMM segmentation: validation ranks states over held-out test genes, which it has none of
    assert "chromhmm_state" not in pred.columns or pred["chromhmm_state"].isna().all()
    # the report pages list it with its prediction
    index = json.loads((ws.reports_dir / "index.json").read_text())
    assert eid in index["epigenomes"]
    alb = next(p for p in index["pages"] if p["symbol"] == "ALB")["epigenomes"][eid]
    assert alb["measured"] is None and 0 <= alb["probability"] <= 1
    html = (ws.reports_dir / "ALB.html").read_text()
    assert f'data-eid="{eid}"' in html and '<h2 id="why">' in html
    # the home page shows it, marked
    home = create_app(ws.root).test_client().get("/").get_data(as_text=True)
    assert f"{eid}</a> ({NOTE})" in home


def test_demo_transferred_auroc_against_its_withheld_rnaseq(demo, remc):
    """E104's RNA-seq is not in the demo; the shared data has it. The transferred predictions, scored against
    it (median rule) on the benchmark's test genes of splits 1-10, reach the own-label model's AUROC within 0.02.
    Measured: 0.8081 on all genes (../shared/README.md and the README: 0.8080), against 0.812 own-label."""
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    ws, _ = demo
    pred = ws.predictions(TRANSFERRED)
    rpkm = pd.read_csv(remc / "rpkm.56epigenomes.tsv.gz", sep="\t", usecols=["gene_id", TRANSFERRED])
    assert (rpkm["gene_id"].to_numpy() == pred["gene_id"].to_numpy()).all()
    labels = (rpkm[TRANSFERRED] >= rpkm[TRANSFERRED].median()).astype(int).to_numpy()
    splits = pd.read_csv(remc / "splits.tsv.gz", sep="\t")
    logit = pred["logit"].to_numpy()
    per_split = [roc_auc_score(labels[rows], logit[rows]) for _, rows in
                 splits[(splits["split"] >= 1) & (splits["part"] == "test")].groupby("split")["row"]]
    mean = sum(per_split) / len(per_split)
    overall = roc_auc_score(labels, logit)
    print(f"{TRANSFERRED} by transfer: test AUROC {mean:.4f} over {len(per_split)} splits, {overall:.4f} on all genes "
          f"(own-label reference {OWN_LABEL_AUROC})")
    assert len(per_split) == 10
    assert abs(mean - OWN_LABEL_AUROC) <= 0.02 and abs(overall - OWN_LABEL_AUROC) <= 0.02


def test_demo_compares_liver_with_psoas_muscle(demo):
    from shallowchrome.tracks.analysis import compare as cmp

    ws, output = demo
    assert "compare:   /compare?a=E066&b=E100 (liver vs psoas muscle" in output
    client = create_app(ws.root).test_client()
    home = client.get("/").get_data(as_text=True)
    form = home[home.index('id="home-compare"'):home.index("</form>", home.index('id="home-compare"'))]
    assert re.findall(r'<option value="(E\d+)" selected>', form) == ["E066", "E100"]  # liver vs muscle by default
    assert 'href="/compare?a=E066&amp;b=E100" id="home-compare-link"' in home
    page = client.get("/compare?a=E066&b=E100")
    assert page.status_code == 200 and 'href="/genes/MAT1A"' in page.get_data(as_text=True)
    assert client.get(f"/compare?a=E066&b={TRANSFERRED}").status_code == 200  # the transferred one compares too
    # the gene page: ALB more ON in liver, through H3K4me3
    section = client.get("/genes/ALB?a=E066&b=E100").get_data(as_text=True)
    section = section[section.index('<section class="why"'):]
    (rec,) = cmp.compare_gene(ws, "E066", "E100", "ALB")
    assert rec["driver"] == "H3K4me3" and (rec["a"]["measured"], rec["b"]["measured"]) == ("ON", "OFF")
    shown = re.search(r'data-term="delta_logit" data-value="([^"]+)"><strong>([^<]+)</strong>', section)
    assert float(shown.group(1)) == rec["delta_logit"] and shown.group(2) == cmp.signed(rec["delta_logit"])
    assert f"ranks {rec['rank']:,} of 19,802 genes" in section


def test_readme_compare_example_is_the_demos_output(demo):
    """The README's worked example (liver vs psoas muscle on the demo) is what the command prints."""
    ws, _ = demo
    text = README.read_text()
    command = "shallowchrome compare shallowchrome-demo E066 E100 --top 5 --genes ALB,APOA1"
    assert command in text
    block = text[text.index(command):].split("```")[1].strip("\n").splitlines()
    res = invoke(*command.split()[1:2], ws.root, *command.split()[3:])
    assert res.exit_code == 0, res.output
    printed = [line.rstrip() for line in res.output.splitlines()]
    shown = [line.rstrip() for line in block if line.strip() != "..."]
    assert len(shown) >= 8 and all(line in printed for line in shown), [x for x in shown if x not in printed]


def test_demo_data_is_what_make_demo_writes(remc, tmp_path):
    """The packaged demo data regenerate byte for byte from the shared data (gzip mtime 0, sorted input)."""
    import importlib.util

    from shallowchrome.tracks.workspace.demo import demo_data

    data = demo_data()  # the installed package's data; make_demo.py is a developer script of the repository
    script = Path(__file__).resolve().parents[1] / "tracks" / "data" / "demo" / "make_demo.py"
    spec = importlib.util.spec_from_file_location("make_demo", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make(remc, tmp_path)
    made = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.gz"))
    packaged = sorted(p.relative_to(data).as_posix() for p in data.rglob("*.gz"))
    assert made == packaged and "peaks/E104-H3K4me3.narrowPeak.gz" in made
    assert "chromhmm/E104_15_coreMarks_mnemonics.bed.gz" not in made
    for name in made:
        assert (tmp_path / name).read_bytes() == (data / name).read_bytes(), name
    with gzip.open(data / "rpkm.tsv.gz", "rt") as fh:  # E104's RNA-seq is withheld
        assert fh.readline().rstrip("\n").split("\t") == ["gene_id", "E066", "E079", "E100"]
