"""igv.js (an independent reader) loads the hub's igv.js session, reads the bigBed's autoSql fields and
finds genes through the bigBed name index. Skips when Chromium, Playwright or the vendored igv.js is absent."""
import functools
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import build_fixture

IGV_JS = Path(__file__).resolve().parents[1] / "templates" / "static" / "igv" / "igv.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FIXTURE = Path(__file__).parent / "data" / "fixture"


class RangeHandler(SimpleHTTPRequestHandler):
    """Static files with single-range requests (igv.js reads bigBed/bigWig by range)."""

    def log_message(self, *args):
        pass

    def send_head(self):
        header = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not header or not path.is_file():
            return super().send_head()
        first, _, last = header.removeprefix("bytes=").partition("-")
        size = path.stat().st_size
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
        fh = open(path, "rb")
        fh.seek(start)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        self._remaining = end - start + 1
        return fh

    def copyfile(self, source, outputfile):
        remaining = getattr(self, "_remaining", None)
        if remaining is None:
            return super().copyfile(source, outputfile)
        outputfile.write(source.read(remaining))


@pytest.fixture
def served_hub(tmp_path):
    if not (CHROMIUM and IGV_JS.is_file()):
        pytest.skip("Chromium or the vendored igv.js is not present")
    pytest.importorskip("playwright.sync_api")
    # E901 only, 2 random splits (no splits file): not the shared fixture_ws
    out = build_fixture(tmp_path / "ws", "--epigenomes", "E901", splits_file=None, splits=2)
    shutil.copy(IGV_JS, out / "hub" / "igv.min.js")
    (out / "hub" / "page.html").write_text("<html><body><div id='igv'></div></body></html>")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(RangeHandler, directory=str(out / "hub")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_igv_js_reads_the_session_fields_and_name_index(served_hub, chromium):
    # one Playwright session per test run: the shared `chromium` fixture (conftest)
    page = chromium.new_page()
    try:
        page.goto(f"{served_hub}/page.html")
        page.add_script_tag(url="igv.min.js")
        result = page.evaluate("""async () => {
            const session = await (await fetch('igv_session.json')).json();
            const b = await igv.createBrowser(document.getElementById('igv'), {loadDefaultGenomes: false, ...session});
            const track = b.findTracks(t => t.type === 'annotation' && (t.name || '').endsWith('predicted'))[0];
            const features = await track.featureSource.getFeatures({chr: 'chr1', start: 50000, end: 56000});
            const byName = await track.featureSource.reader.search('MYOD1');
            const byId = await track.featureSource.reader.search('ENSG00000900002');
            await b.search('GENE7');
            return {names: b.findTracks(t => t.type === 'wig').map(t => t.name),
                    features: features.map(f => [f.name, f.start, f.end, f.cdStart, f.color, f.gene_id, f.top_mark]),
                    byName: [byName.chr, byName.start, byName.gene_id], byId: byId.name, locus: b.currentLoci()};
        }""")
    finally:
        page.close()
    genes = {line.split("\t")[3]: line.split("\t") for line in (FIXTURE / "genes.tsv").read_text().splitlines()[1:]}
    assert result["names"] == ["E901 H3K4me3 psi", "E901 H3K27me3 psi", "E901 H3K4me3 max", "E901 H3K27me3 max"]
    alb = next(f for f in result["features"] if f[0] == "ALB")
    # the 10th column is read as gene_id, not blockCount: definedFieldCount is 9
    assert alb[1:4] == [48000, 58000, 52500] and alb[5] == "ENSG00000900000" and alb[4].startswith("rgb(")
    assert result["byName"] == ["chr1", 53000, genes["MYOD1"][2]] and result["byId"] == "GENE2"
    chrom, tss = genes["GENE7"][0], int(genes["GENE7"][1])
    assert result["locus"] == f"{chrom}:{tss - 5000 - 999}-{tss + 5000 + 1000}"  # the item's window + igv.js flank
