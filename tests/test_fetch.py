"""`shallowchrome fetch`: REMC downloads against a scripted HTTP server on 127.0.0.1, and gene conversion.

The server serves a tree laid out like https://egg2.wustl.edu/roadmap/data,
built from the fixture data set (E901/E902/E903 renamed E003/E116/E123), and
can be told, per path, to answer 404 or 503, truncate a response, serve a
corrupt gzip or ignore Range. It binds to 127.0.0.1 only and is shut down at
the end of each test.
"""
from __future__ import annotations

import gzip
import re
import shlex
import shutil
import threading
from collections import defaultdict
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from shallowchrome.model.errors import InputError
from shallowchrome.server.cli import main
from shallowchrome.tracks.fetch import remc
from shallowchrome.tracks.fetch.download import DownloadError, RetryPolicy, download, part_path, sidecar_path
from shallowchrome.tracks.fetch.inputs import fetch_remc
from shallowchrome.tracks.io.genes import read_genes

FIXTURE = Path(__file__).parent / "data" / "fixture"
RENAME = {"E901": "E003", "E902": "E116", "E903": "E123"}
PEAKS = "byFileType/peaks/consolidated"
RNA = "byDataType/rna/expression"
FAST = RetryPolicy(tries=4, backoff=0.0, timeout=10)


# --- the fixture tree --------------------------------------------------------------------------------------

def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _gene_info_lines(genes: pd.DataFrame) -> list[str]:
    """REMC gene_info lines (id, chrom w/o chr, 1-based start, end, 1/-1, biotype, symbol, description)."""
    lines = []
    for g in genes.itertuples():
        length = 3000 + 7 * g.Index
        if g.strand == "+":
            start, end = g.tss + 1, g.tss + length
        else:
            start, end = g.tss + 1 - length + 1, g.tss + 1
        lines.append(f"{g.gene_id}\t{g.chrom.removeprefix('chr')}\t{start}\t{end}\t{1 if g.strand == '+' else -1}"
                     f"\tprotein_coding\t{g.symbol}\t{g.symbol} fixture gene [Source:HGNC Symbol;Acc:{g.Index}]")
    return lines


def make_tree(root: Path) -> Path:
    """Write the REMC-like tree served by :class:`Remote` and return ``root``."""
    for src in sorted((FIXTURE / "peaks").iterdir()):
        eid, rest = src.name.split("-", 1)
        mark, fmt = rest.split(".")[:2]
        if eid not in RENAME or fmt not in remc.PEAK_FORMATS:
            continue
        raw = src.read_bytes()
        data = raw if raw[:2] == b"\x1f\x8b" else _gz(raw)
        dest = root / PEAKS / fmt / f"{RENAME[eid]}-{mark}.{fmt}.gz"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    rna = root / RNA
    rna.mkdir(parents=True, exist_ok=True)
    rpkm = pd.read_csv(FIXTURE / "rpkm.tsv.gz", sep="\t", dtype=str).rename(columns=RENAME)
    rpkm.insert(1, "E000", "1.5")
    (rna / "57epigenomes.RPKM.pc.gz").write_bytes(_gz(rpkm.to_csv(sep="\t", index=False).encode()))
    genes = pd.read_csv(FIXTURE / "genes.tsv", sep="\t", dtype={"tss": int})
    extra = ["ENSG00000990001\t1\t5001\t9000\t1\tlincRNA\tLINC0001\tnon-coding fixture gene",
             "ENSG00000990002\tHG1_PATCH\t100\t900\t-1\tprotein_coding\tPATCHY\ton an alternative contig"]
    (rna / "Ensembl_v65.Gencode_v10.ENSG.gene_info").write_text("\n".join(_gene_info_lines(genes) + extra) + "\n")
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return make_tree(tmp_path_factory.mktemp("remc") / "roadmap" / "data")


# --- the scripted server -----------------------------------------------------------------------------------

class Remote:
    """Serves ``root`` on 127.0.0.1; ``script(path, 'truncate', '503', ...)`` queues misbehaviour per GET."""

    def __init__(self, root: Path):
        self.root = root
        self.requests: list[tuple[str, str, str | None]] = []
        self.scripts: dict[str, list[str]] = defaultdict(list)
        self.ignore_range: set[str] = set()
        self.lock = threading.Lock()
        self.sent: dict[str, int] = {}

    def script(self, relpath: str, *behaviours: str) -> None:
        self.scripts["/" + relpath.lstrip("/")].extend(behaviours)

    def gets(self, relpath: str | None = None) -> list[tuple[str, str, str | None]]:
        want = None if relpath is None else "/" + relpath.lstrip("/")
        return [r for r in self.requests if r[0] == "GET" and (want is None or r[1].endswith(want))]

    def next_behaviour(self, method: str, path: str, range_header: str | None) -> str:
        with self.lock:
            self.requests.append((method, path, range_header))
            queue = self.scripts.get(path.removeprefix(self.prefix))
            return queue.pop(0) if method == "GET" and queue else "ok"

    prefix = "/roadmap/data"


class _Handler(BaseHTTPRequestHandler):
    timeout = 10

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_HEAD(self):
        self._serve(head=True)

    def do_GET(self):
        self._serve(head=False)

    def _serve(self, head: bool):
        remote: Remote = self.server.remote
        behaviour = remote.next_behaviour(self.command, self.path, self.headers.get("Range"))
        rel = self.path.removeprefix(remote.prefix)
        target = remote.root / rel.lstrip("/")
        if behaviour == "404" or not self.path.startswith(remote.prefix) or not target.is_file():
            self.send_error(404, "Not Found")
            return
        if behaviour == "503":
            self.send_error(503, "Service Unavailable")
            return
        data = target.read_bytes()
        if behaviour == "corrupt":
            data = data[: len(data) // 2] + b"\x00" * (len(data) - len(data) // 2)
        start = self._range_start()
        if start is not None and rel not in remote.ignore_range and behaviour != "ignore_range":
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            body = data[start:]
        else:
            self.send_response(200)
            body = data
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{len(data)}"')
        self.end_headers()
        if head:
            return
        if behaviour in ("truncate", "hangup"):  # announce everything, send a third (or nothing), hang up
            body = body[: len(body) // 3] if behaviour == "truncate" else b""
            remote.sent[rel] = len(body)
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True

    def _range_start(self):
        value = self.headers.get("Range")
        if not value or not value.startswith("bytes=") or not value.endswith("-"):
            return None
        return int(value[len("bytes="):-1])


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """Never route the loopback requests through a proxy from the environment."""
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@contextmanager
def serving(root: Path):
    """Run a :class:`Remote` over ``root`` on 127.0.0.1 (port chosen by the OS); always shut down on exit."""
    state = Remote(root)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.remote = state
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}{Remote.prefix}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def remote(tree):
    """The fixture tree, served for one test."""
    with serving(tree) as state:
        yield state


def cli(*argv):
    return CliRunner().invoke(main, [str(a) for a in argv])


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith((".part", ".tmp")))


# --- fetch remc end to end ---------------------------------------------------------------------------------

def test_fetch_then_build_then_nothing_to_do(remote, tmp_path):
    out = tmp_path / "remc"
    res = cli("fetch", "remc", "--epigenomes", "E003,E116", "--marks", "H3K4me3,h3k27me3",
              "--formats", "narrowPeak,broadPeak,gappedPeak", "--out", out, "--base-url", remote.base_url)
    assert res.exit_code == 0, res.output
    assert "fetched 14 files: 14 downloaded, 0 resumed, 0 already complete" in res.stdout
    assert leftovers(out) == []

    genes = pd.read_csv(out / "genes.tsv", sep="\t", dtype={"tss": int})
    assert list(genes.columns) == ["chrom", "tss", "gene_id", "symbol", "strand"]
    expected = pd.read_csv(FIXTURE / "genes.tsv", sep="\t", dtype={"tss": int})
    pd.testing.assert_frame_equal(genes, expected[genes.columns])  # strand-aware TSS; lincRNA and patch gene out
    rpkm = pd.read_csv(out / "expression.tsv.gz", sep="\t", dtype=str)
    assert list(rpkm.columns) == ["gene_id", "E003", "E116"]  # requested only, E000 left out
    src = pd.read_csv(FIXTURE / "rpkm.tsv.gz", sep="\t", dtype=str)
    assert rpkm["E116"].tolist() == src["E902"].tolist()
    manifest = pd.read_csv(out / "peaks.tsv", sep="\t")
    assert list(manifest.columns) == ["epigenome", "mark", "format", "path"]
    assert len(manifest) == 12 and set(manifest["mark"]) == {"H3K4me3", "H3K27me3"}
    assert all(not Path(p).is_absolute() and (out / p).is_file() for p in manifest["path"])
    assert (out / "peaks" / "E116-H3K27me3.gappedPeak.gz").read_bytes() == \
        (remote.root / PEAKS / "gappedPeak" / "E116-H3K27me3.gappedPeak.gz").read_bytes()

    command = res.stdout.strip().splitlines()[-1].strip()
    assert command == (f"shallowchrome build --genes {out / 'genes.tsv'} --expression {out / 'expression.tsv.gz'} "
                       f"--peaks {out / 'peaks.tsv'} --out {out / 'ws'}")
    built = cli(*shlex.split(command)[1:], "--no-tracks", "--splits", "2")
    assert built.exit_code == 0, built.output
    # the summary names each epigenome's tissue (the packaged Roadmap table), aligned
    assert re.search(r"^E003  H1 Cells +test AUROC 0\.\d{3} ± ", built.stdout, re.M), built.stdout
    assert re.search(r"^E116  GM12878 Lymphoblastoid Cells  test AUROC ", built.stdout, re.M), built.stdout

    before = len(remote.requests)
    again = cli("fetch", "remc", "--epigenomes", "E003,E116", "--marks", "H3K4me3,H3K27me3",
                "--formats", "narrowPeak,broadPeak,gappedPeak", "--out", out, "--base-url", remote.base_url)
    assert again.exit_code == 0, again.output
    assert "14 already complete" in again.stdout
    assert remote.requests[before:] == []  # complete files are recognised without asking the server


def test_missing_expression_column_is_warned_and_left_out_of_build(tree, tmp_path, caplog):
    own = shutil.copytree(tree, tmp_path / "tree")
    rpkm_path = own / RNA / "57epigenomes.RPKM.pc.gz"
    table = pd.read_csv(rpkm_path, sep="\t", dtype=str).drop(columns=["E123"])
    rpkm_path.write_bytes(_gz(table.to_csv(sep="\t", index=False).encode()))
    with serving(own) as server:  # E123 has H3K4me3 peaks but, here, no RPKM column
        result = fetch_remc(tmp_path / "o", ["E003", "E123", "E000"], marks=["H3K4me3"],
                            base_url=server.base_url, policy=FAST)
    assert result.without_expression == ["E123"] and result.epigenomes == ["E003"]
    assert "no RPKM column for E123" in caplog.text
    assert "--epigenomes E003 " in result.build_command()
    rpkm = pd.read_csv(result.expression, sep="\t", dtype=str)
    assert list(rpkm.columns) == ["gene_id", "E003", "E000"]  # E000 only because it was asked for
    assert pd.read_csv(result.manifest, sep="\t")["epigenome"].tolist() == ["E003", "E123"]


def test_no_epigenome_with_expression_is_an_error(remote, tmp_path):
    with pytest.raises(InputError, match="no RPKM column for E004"):
        fetch_remc(tmp_path / "o", ["E004"], marks=["H3K4me3"], base_url=remote.base_url, policy=FAST)
    assert remote.gets("E004-H3K4me3.narrowPeak.gz") == []  # stopped before downloading peaks


def test_all_biotypes_keeps_non_coding_genes(remote, tmp_path):
    res = cli("fetch", "remc", "--epigenomes", "E123", "--marks", "H3K4me3", "--out", tmp_path / "o",
              "--base-url", remote.base_url, "--all-biotypes")
    assert res.exit_code == 0, res.output
    genes = pd.read_csv(tmp_path / "o" / "genes.tsv", sep="\t")
    assert "LINC0001" in set(genes["symbol"]) and "PATCHY" not in set(genes["symbol"])
    assert genes.loc[genes.symbol == "LINC0001", "tss"].item() == 5000


# --- download mechanics ------------------------------------------------------------------------------------

def _peak(name="E003-H3K4me3.narrowPeak.gz"):
    return f"{PEAKS}/narrowPeak/{name}"


def test_partial_file_is_resumed_with_a_range_request(remote, tmp_path):
    source = (remote.root / _peak()).read_bytes()
    dest = tmp_path / "E003-H3K4me3.narrowPeak.gz"
    part_path(dest).write_bytes(source[:1000])
    got = download(f"{remote.base_url}/{_peak()}", dest, policy=FAST, progress=False)
    assert got.status == "resumed" and dest.read_bytes() == source
    assert [r[2] for r in remote.gets(_peak())] == ["bytes=1000-"]
    assert not part_path(dest).exists() and sidecar_path(dest).is_file()


def test_truncated_response_is_completed_by_resuming(remote, tmp_path):
    source = (remote.root / _peak()).read_bytes()
    remote.script(_peak(), "truncate")
    dest = tmp_path / "peak.narrowPeak.gz"
    got = download(f"{remote.base_url}/{_peak()}", dest, policy=FAST, progress=False)
    assert dest.read_bytes() == source and got.size == len(source)
    sent = remote.sent["/" + _peak()]
    assert 0 < sent < len(source)
    assert [r[2] for r in remote.gets(_peak())] == [None, f"bytes={sent}-"]


def test_truncation_that_cannot_be_completed_is_an_error_then_resumes(remote, tmp_path):
    source = (remote.root / _peak()).read_bytes()
    remote.script(_peak(), "truncate", "hangup", "hangup", "hangup")
    dest = tmp_path / "peak.narrowPeak.gz"
    url = f"{remote.base_url}/{_peak()}"
    kept = len(source) // 3
    with pytest.raises(DownloadError, match=rf"truncated response: {kept} of {len(source)} bytes "
                                            rf"\(3 attempts in a row, {kept} bytes kept\); fix: .*resumes"):
        download(url, dest, policy=RetryPolicy(tries=3, backoff=0), progress=False)
    assert not dest.exists() and part_path(dest).stat().st_size == kept
    got = download(url, dest, policy=FAST, progress=False)  # the next run picks up where it stopped
    assert got.status == "resumed" and dest.read_bytes() == source
    assert remote.gets(_peak())[-1][2] == f"bytes={kept}-"


def test_server_ignoring_range_gets_a_clean_full_download(remote, tmp_path):
    source = (remote.root / _peak()).read_bytes()
    remote.ignore_range.add("/" + _peak())
    dest = tmp_path / "peak.narrowPeak.gz"
    part_path(dest).write_bytes(b"stale bytes from some other file")
    got = download(f"{remote.base_url}/{_peak()}", dest, policy=FAST, progress=False)
    assert dest.read_bytes() == source and got.status == "downloaded"
    assert len(remote.gets(_peak())) == 1


def test_5xx_is_retried_with_exponential_backoff(remote, tmp_path):
    remote.script(_peak(), "503", "503")
    sleeps = []
    policy = RetryPolicy(tries=4, backoff=0.5, max_sleep=0.75, sleep=sleeps.append)
    dest = tmp_path / "peak.narrowPeak.gz"
    download(f"{remote.base_url}/{_peak()}", dest, policy=policy, progress=False)
    assert dest.read_bytes() == (remote.root / _peak()).read_bytes()
    assert len(remote.gets(_peak())) == 3 and sleeps == [0.5, 0.75]  # 0.5, then 1.0 capped at 0.75


def test_retries_are_bounded(remote, tmp_path):
    remote.script(_peak(), "503", "503", "503")
    dest = tmp_path / "peak.narrowPeak.gz"
    with pytest.raises(DownloadError, match=r"HTTP 503 .*3 attempts in a row.*fix: .*run the same command again"):
        download(f"{remote.base_url}/{_peak()}", dest, policy=RetryPolicy(tries=3, backoff=0), progress=False)
    assert len(remote.gets(_peak())) == 3 and not dest.exists()


def test_corrupt_gzip_is_downloaded_again_once(remote, tmp_path):
    remote.script(_peak(), "corrupt")
    dest = tmp_path / "peak.narrowPeak.gz"
    download(f"{remote.base_url}/{_peak()}", dest, policy=FAST, progress=False)
    assert dest.read_bytes() == (remote.root / _peak()).read_bytes()
    assert len(remote.gets(_peak())) == 2


def test_existing_file_without_record_is_checked_with_head(remote, tmp_path):
    dest = tmp_path / "peak.narrowPeak.gz"
    shutil.copy(remote.root / _peak(), dest)
    got = download(f"{remote.base_url}/{_peak()}", dest, policy=FAST, progress=False)
    assert got.status == "skipped" and remote.gets() == []
    assert [r[0] for r in remote.requests] == ["HEAD"] and sidecar_path(dest).is_file()


def test_changed_file_is_downloaded_again(remote, tmp_path):
    dest = tmp_path / "peak.narrowPeak.gz"
    download(f"{remote.base_url}/{_peak()}", dest, policy=FAST, progress=False)
    dest.write_bytes(b"damaged")
    got = download(f"{remote.base_url}/{_peak()}", dest, policy=FAST, progress=False)
    assert got.status == "downloaded" and dest.read_bytes() == (remote.root / _peak()).read_bytes()


# --- errors through the command line -----------------------------------------------------------------------

def test_404_is_one_line_naming_the_url(remote, tmp_path):
    out = tmp_path / "o"
    res = cli("fetch", "remc", "--epigenomes", "E003", "--marks", "H3K9me3", "--out", out,
              "--base-url", remote.base_url)
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    url = f"{remote.base_url}/{PEAKS}/narrowPeak/E003-H3K9me3.narrowPeak.gz"
    assert lines[0].startswith(f"shallowchrome: error: {url}: HTTP 404")
    assert "fix: check that REMC has H3K9me3 narrowPeak peaks for E003" in lines[0]
    assert not (out / "peaks.tsv").exists() and not (out / "genes.tsv").exists()
    assert len(remote.gets("E003-H3K9me3.narrowPeak.gz")) == 1  # a 404 is not retried


def test_corrupt_gzip_twice_is_an_error_and_leaves_nothing(remote, tmp_path):
    remote.script(_peak(), "corrupt", "corrupt")
    out = tmp_path / "o"
    res = cli("fetch", "remc", "--epigenomes", "E003", "--marks", "H3K4me3", "--out", out,
              "--base-url", remote.base_url)
    assert res.exit_code == 2
    errors = [line for line in res.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "corrupt or truncated gzip data" in errors[0]
    assert "again after a fresh download" in errors[0] and "fix:" in errors[0]
    assert len(remote.gets(_peak())) == 2
    assert not (out / "peaks" / "E003-H3K4me3.narrowPeak.gz").exists() and leftovers(out) == []


@pytest.mark.parametrize("argv, message", [
    (["--marks", "H3K4me5"], "unknown mark H3K4me5; known: H3K4me3, H3K4me1, H3K36me3, H3K27me3, H3K9me3"),
    (["--epigenomes", "E060"], "unknown epigenome E060: it was withdrawn"),
    (["--epigenomes", "E130"], "unknown epigenome E130: it is outside E001–E129"),
    (["--epigenomes", "liver"], "unknown epigenome 'liver'"),
    (["--formats", "bigBed"], "unknown peak format bigBed; REMC publishes narrowPeak, broadPeak, gappedPeak"),
    (["--base-url", "ftp://example.org/x"], "is not an http(s) URL"),
])
def test_catalogue_errors(tmp_path, argv, message):
    base = {"--epigenomes": "E003", "--marks": "H3K4me3", "--out": str(tmp_path / "o")}
    for flag, value in zip(argv[::2], argv[1::2]):
        base[flag] = value
    res = cli("fetch", "remc", *[x for kv in base.items() for x in kv])
    assert res.exit_code == 2
    assert message in res.stderr and "fix:" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()  # checked before anything is written


# --- gene tables -------------------------------------------------------------------------------------------

GTF = """\
##description: tiny GENCODE-style GTF
chr1\tHAVANA\tgene\t11869\t14409\t.\t+\t.\tgene_id "ENSG00000223972.5"; gene_type "transcribed_unprocessed_pseudogene"; gene_name "DDX11L1";
chr1\tHAVANA\ttranscript\t11869\t14409\t.\t+\t.\tgene_id "ENSG00000223972.5"; transcript_id "ENST00000456328.2"; gene_type "transcribed_unprocessed_pseudogene"; gene_name "DDX11L1";
chr1\tHAVANA\tgene\t69091\t70008\t.\t+\t.\tgene_id "ENSG00000186092.6"; gene_type "protein_coding"; gene_name "OR4F5";
chr4\tHAVANA\tgene\t74269972\t74287129\t.\t+\t.\tgene_id "ENSG00000163631.16"; gene_type "protein_coding"; gene_name "ALB";
chr11\tHAVANA\tgene\t17741110\t17743678\t.\t+\t.\tgene_id "ENSG00000129152.3"; gene_type "protein_coding"; gene_name "MYOD1";
chr11\tHAVANA\tgene\t116706467\t116708338\t.\t-\t.\tgene_id "ENSG00000118137.9"; gene_type "protein_coding"; gene_name "APOA1";
chr1\tHAVANA\texon\t69091\t70008\t.\t+\t.\tgene_id "ENSG00000186092.6"; gene_type "protein_coding"; gene_name "OR4F5";
"""


def test_gtf_to_genes_table(tmp_path, write):
    gtf = write(tmp_path / "gencode.tiny.gtf.gz", GTF, gz=True)
    out = tmp_path / "genes.tsv"
    res = cli("fetch", "genes", "--gtf", gtf, "--out", out)
    assert res.exit_code == 0, res.output
    genes = pd.read_csv(out, sep="\t")
    assert list(genes.columns) == ["chrom", "tss", "gene_id", "symbol", "strand"]
    assert genes["gene_id"].tolist() == ["ENSG00000223972", "ENSG00000186092", "ENSG00000163631",
                                         "ENSG00000129152", "ENSG00000118137"]
    tss = dict(zip(genes["symbol"], genes["tss"]))
    assert tss["ALB"] == 74269971 and tss["APOA1"] == 116708337  # 0-based 5' end: start-1 on +, end-1 on -
    assert read_genes(out).equals(read_genes(gtf))  # the table reads back as the GTF did

    res = cli("fetch", "genes", "--gtf", gtf, "--out", out, "--protein-coding")
    assert res.exit_code == 0 and "4 genes, protein-coding" in res.stdout
    assert "DDX11L1" not in set(pd.read_csv(out, sep="\t")["symbol"])


def test_gtf_from_a_url(remote, tmp_path):
    (remote.root / "gencode.tiny.gtf").write_text(GTF)
    try:
        out = tmp_path / "g" / "genes.tsv"
        res = cli("fetch", "genes", "--gtf", f"{remote.base_url}/gencode.tiny.gtf", "--out", out, "--protein-coding")
    finally:
        (remote.root / "gencode.tiny.gtf").unlink()
    assert res.exit_code == 0, res.output
    assert (tmp_path / "g" / "gencode.tiny.gtf").is_file()  # kept beside the table, for a resumable re-run
    assert len(pd.read_csv(out, sep="\t")) == 4


def test_gene_info_to_genes_table(tree, tmp_path):
    out = tmp_path / "genes.tsv"
    res = cli("fetch", "genes", "--gene-info", tree / RNA / "Ensembl_v65.Gencode_v10.ENSG.gene_info", "--out", out)
    assert res.exit_code == 0, res.output
    genes = pd.read_csv(out, sep="\t")
    assert len(genes) == 121 and "LINC0001" in set(genes["symbol"])  # all biotypes unless --protein-coding


@pytest.mark.parametrize("line, message", [
    ("ENSG00000000003\tX\t99883667\t99894988\t-1", "5 tab-separated field(s); REMC gene_info lines have at least 6"),
    ("ENSG00000000003\tX\t99883667\t99894988\t+2\tprotein_coding\tTSPAN6", "strand '+2' is not 1 or -1"),
    ("ENSG00000000003\tX\t99894988\t99883667\t-1\tprotein_coding\tTSPAN6", "are not 1-based positions"),
])
def test_gene_info_layout_errors(tmp_path, write, line, message):
    good = "ENSG00000000005\tX\t99839799\t99854882\t1\tprotein_coding\tTNMD\ttenomodulin\n"
    path = write(tmp_path / "x.gene_info", good + line + "\n")
    with pytest.raises(InputError, match=re.escape(message)) as info:
        remc.read_gene_info(path)
    assert info.value.line == 2 and "fix:" in str(info.value)


def test_gene_info_tss_and_header(tmp_path, write):
    path = write(tmp_path / "x.gene_info",
                 "gene_id\tchrom\tstart\tend\tstrand\tbiotype\tsymbol\n"
                 "ENSG00000000003.10\tX\t99883667\t99894988\t-1\tprotein_coding\tTSPAN6\ttetraspanin 6\n"
                 "ENSG00000000005\tX\t99839799\t99854882\t1\tprotein_coding\tTNMD\ttenomodulin\n"
                 "ENSG00000000005\tX\t99839799\t99854882\t1\tprotein_coding\tTNMD\trepeated line\n")
    genes = remc.read_gene_info(path)
    assert genes.to_dict("records") == [
        {"gene_id": "ENSG00000000003", "symbol": "TSPAN6", "chrom": "chrX", "tss": 99894987, "strand": "-"},
        {"gene_id": "ENSG00000000005", "symbol": "TNMD", "chrom": "chrX", "tss": 99839798, "strand": "+"},
    ]


def test_gtf_option_wants_a_gtf_name(tmp_path, write):
    path = write(tmp_path / "annotation.txt", GTF)
    res = cli("fetch", "genes", "--gtf", path, "--out", tmp_path / "g.tsv")
    assert res.exit_code == 2 and "is not named like a GTF or GFF3 file" in res.stderr


def test_fetch_genes_needs_one_source(tmp_path):
    res = cli("fetch", "genes", "--out", tmp_path / "g.tsv")
    assert res.exit_code == 2 and "exactly one of --gtf and --gene-info" in res.stderr
