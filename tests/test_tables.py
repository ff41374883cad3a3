"""Gene tables (TSV, GTF, GFF3, BED6), expression tables, peak manifests and splits files."""
import numpy as np
import pytest

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.io.expression import epigenome_rpkm, read_expression
from shallowchrome.tracks.io.genes import read_genes
from shallowchrome.tracks.io.manifest import read_peaks_manifest
from shallowchrome.tracks.io.splits import read_splits, splits_frame

GTF = """##description: test
chr1\tHAVANA\tgene\t11869\t14409\t.\t+\t.\tgene_id "ENSG00000223972.5"; gene_type "transcribed_unprocessed_pseudogene"; gene_name "DDX11L1";
chr1\tHAVANA\ttranscript\t11869\t14409\t.\t+\t.\tgene_id "ENSG00000223972.5"; transcript_id "ENST1";
1\tHAVANA\tgene\t65419\t71585\t.\t-\t.\tgene_id "ENSG00000186092.6"; gene_type "protein_coding"; gene_name "OR4F5";
"""
GFF3 = """##gff-version 3
chr1\tensembl\tgene\t11869\t14409\t.\t+\t.\tID=gene:ENSG00000223972;Name=DDX11L1;biotype=transcribed_unprocessed_pseudogene
chr1\tensembl\tmRNA\t11869\t14409\t.\t+\t.\tID=transcript:ENST1;Parent=gene:ENSG00000223972
chr2\tensembl\tgene\t100\t900\t.\t-\t.\tID=gene:ENSG00000000002;gene_id=ENSG00000000002;Name=ABC;biotype=protein_coding
"""


def test_tsv_genes(fixture_dir):
    genes = read_genes(fixture_dir / "genes.tsv")
    assert list(genes.columns) == ["gene_id", "symbol", "chrom", "tss", "strand"]
    assert len(genes) == 120 and genes.symbol[0] == "ALB" and genes.tss.dtype == np.int64


def test_gtf_genes_tss_by_strand(tmp_path, write):
    genes = read_genes(write(tmp_path / "g.gtf.gz", GTF, gz=True))
    assert genes.gene_id.tolist() == ["ENSG00000223972", "ENSG00000186092"]  # versions stripped
    assert genes.symbol.tolist() == ["DDX11L1", "OR4F5"]
    assert genes.chrom.tolist() == ["chr1", "chr1"]
    assert genes.tss.tolist() == [11868, 71584]  # 1-based start on +, end on -, as 0-based positions
    pc = read_genes(write(tmp_path / "g2.gtf", GTF), protein_coding_only=True)
    assert pc.gene_id.tolist() == ["ENSG00000186092"]


def test_gff3_genes(tmp_path, write):
    genes = read_genes(write(tmp_path / "g.gff3", GFF3))
    assert genes.gene_id.tolist() == ["ENSG00000223972", "ENSG00000000002"]
    assert genes.tss.tolist() == [11868, 899] and genes.strand.tolist() == ["+", "-"]


def test_bed6_genes(tmp_path, write):
    genes = read_genes(write(tmp_path / "g.bed", "chr1\t100\t500\tG1\t0\t+\nchr1\t100\t500\tG2\t0\t-\n"))
    assert genes.tss.tolist() == [100, 499] and genes.gene_id.tolist() == ["G1", "G2"]
    with pytest.raises(InputError, match="BED6"):
        read_genes(write(tmp_path / "g3.bed", "chr1\t100\t500\tG1\n"))
    with pytest.raises(InputError, match=r"g4\.bed:3: empty chrom, name or strand field"):
        read_genes(write(tmp_path / "g4.bed", "track name=genes\nchr1\t100\t500\tG1\t0\t+\nchr1\t100\t500\t\t0\t+\n"))
    with pytest.raises(InputError, match=r"g5\.bed:2: start/end are not integers"):
        read_genes(write(tmp_path / "g5.bed", "chr1\t100\t500\tG1\t0\t+\nchr1\tx\t500\tG2\t0\t+\n"))


def test_gene_table_errors(tmp_path, write):
    with pytest.raises(InputError, match=r"g\.tsv:1: gene table lacks column\(s\) tss"):
        read_genes(write(tmp_path / "g.tsv", "chrom\tstart\tgene_id\nchr1\t5\tA\n"))
    with pytest.raises(InputError, match=r"g\.tsv:3: duplicate gene_id 'A' with different values \(also on line 2\)"):
        read_genes(write(tmp_path / "g.tsv", "chrom\ttss\tgene_id\nchr1\t5\tA\nchr1\t9\tA\n"))
    with pytest.raises(InputError, match=r"g\.tsv:2: tss 'x5' is not a non-negative integer"):
        read_genes(write(tmp_path / "g.tsv", "chrom\ttss\tgene_id\nchr1\tx5\tA\n"))
    with pytest.raises(InputError, match=r"g\.tsv:3: malformed gene table"):
        read_genes(write(tmp_path / "g.tsv", "chrom\ttss\tgene_id\nchr1\t5\tA\nchr1\t5\tB\textra\n"))


def test_missing_symbols_become_empty(tmp_path, write):
    genes = read_genes(write(tmp_path / "g.tsv", "chrom\ttss\tgene_id\tsymbol\nchr1\t5\tA\tNA\nchr1\t6\tB\t.\n"
                                                 "chr1\t7\tC\tALB\nchr1\t8\tD\t\n"))
    assert genes.symbol.tolist() == ["", "", "ALB", ""]


def test_identical_duplicate_genes_warn_and_are_kept(tmp_path, caplog, write):
    genes = read_genes(write(tmp_path / "g.tsv", "chrom\ttss\tgene_id\tsymbol\nchr1\t5\tA\tX\nchr1\t5\tA\tY\n"))
    assert genes.symbol.tolist() == ["X", "Y"]
    assert "identical chrom/tss" in caplog.text


def test_expression(tmp_path, fixture_dir, write):
    expr = read_expression(fixture_dir / "rpkm.tsv.gz")
    assert list(expr.columns) == ["E901", "E902", "E903"]
    values = epigenome_rpkm(expr, "E901", ["ENSG00000900000", "NOT_THERE"])
    assert np.isfinite(values[0]) and np.isnan(values[1])
    bad = write(tmp_path / "r.tsv", "gene_id\tE1\tE2\nA\t1.5\t2\nB\tn/a\t3\n")
    expr = read_expression(bad)
    assert epigenome_rpkm(expr, "E2", ["A", "B"]).tolist() == [2.0, 3.0]  # a bad value elsewhere does not matter
    with pytest.raises(InputError, match=r"r\.tsv:3: RPKM 'n/a' for B in column E1 is not a non-negative number"):
        epigenome_rpkm(expr, "E1", ["A", "B"])
    with pytest.raises(InputError, match=r"r\.tsv:1: no column for epigenome E7 \(has E1, E2\)"):
        epigenome_rpkm(expr, "E7", ["A"])
    with pytest.raises(InputError, match=r"duplicate gene_id 'A' with different values"):
        read_expression(write(tmp_path / "d.tsv", "gene_id\tE1\nA\t1\nA\t2\n"))


def test_manifest_file_and_folder(tmp_path, fixture_dir, write):
    folder = read_peaks_manifest(fixture_dir / "peaks")
    assert len(folder) == 14
    dnase = folder[folder.mark == "DNase"].iloc[0]
    assert dnase.epigenome == "E903" and dnase.format == "bed"
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "p.np").write_text("chr1\t1\t2\t.\t0\t.\t1\t1\t1\t1\n")
    man = write(tmp_path / "m.tsv", "epigenome\tmark\tpath\tformat\nE1\tH3K4me3\tsub/p.np\tnarrowpeak\n")
    frame = read_peaks_manifest(man)
    assert frame.path[0] == str((tmp_path / "sub" / "p.np").resolve()) and frame.format[0] == "narrowPeak"
    with pytest.raises(InputError, match=r"m\.tsv:2: peak file .* does not exist"):
        read_peaks_manifest(write(man, "epigenome\tmark\tpath\nE1\tH3K4me3\tmissing.narrowPeak\n"))
    with pytest.raises(InputError, match=r"m\.tsv:2: cannot infer the format of p\.np"):
        read_peaks_manifest(write(man, "epigenome\tmark\tpath\nE1\tH3K4me3\tsub/p.np\n"))
    with pytest.raises(InputError, match=r"m\.tsv:2: unknown peak format 'wig'"):
        read_peaks_manifest(write(man, "epigenome\tmark\tpath\tformat\nE1\tH3K4me3\tsub/p.np\twig\n"))
    with pytest.raises(InputError, match="more than one narrowPeak file"):
        read_peaks_manifest(write(man, "epigenome\tmark\tpath\tformat\nE1\tH3K4me3\tsub/p.np\tnarrowPeak\n"
                                       "E1\tH3K4me3\tsub/p.np\tnarrowPeak\n"))


def test_splits_file(fixture_dir, tmp_path, write):
    genes = read_genes(fixture_dir / "genes.tsv")
    splits = read_splits(fixture_dir / "splits.tsv.gz", genes.gene_id)
    assert sorted(splits) == [0, 1, 2, 3]
    assert [(splits[0] == k).sum() for k in (0, 1, 2)] == [40, 40, 40]
    back = splits_frame(splits)
    assert len(back) == 480 and set(back.part) == {"train", "validation", "test"}
    by_id = write(tmp_path / "s.tsv", "split\tpart\tgene_id\n0\ttrain\tENSG00000900001\n0\ttest\tENSG00000900000\n")
    s = read_splits(by_id, genes.gene_id)
    assert s[0][:3].tolist() == [2, 0, -1]
    with pytest.raises(InputError, match=r"s\.tsv:3: row '999' is not a row of the gene table \(0..119\)"):
        read_splits(write(tmp_path / "s.tsv", "split\tpart\trow\n0\ttrain\t1\n0\ttest\t999\n"), genes.gene_id)
    with pytest.raises(InputError, match=r"s\.tsv:2: part 'dev' is not train"):
        read_splits(write(tmp_path / "s.tsv", "split\tpart\trow\n0\tdev\t1\n"), genes.gene_id)
    with pytest.raises(InputError, match=r"s\.tsv:3: part '' \(empty\) is not train"):  # an empty part, after good ones
        read_splits(write(tmp_path / "s.tsv", "split\tpart\trow\n0\t Test \t1\n0\t\t2\n"), genes.gene_id)
    with pytest.raises(InputError, match=r"s\.tsv:3: split '1.5' is not an integer"):
        read_splits(write(tmp_path / "s.tsv", "split\tpart\trow\n1\ttest\t1\n1.5\ttest\t2\n"), genes.gene_id)
    s = read_splits(write(tmp_path / "s.tsv", "split\tpart\trow\n1.0\tTRAINING\t0\n1\tval\t2.0\n"), genes.gene_id)
    assert s[1][:3].tolist() == [0, -1, 1]


def test_packaged_roadmap_metadata_names_every_benchmark_epigenome(remc):
    import pandas as pd

    from shallowchrome.tracks.reference import roadmap_epigenomes, tissues

    table = roadmap_epigenomes()
    assert len(table) == 127 and table["E066"]["name"] == "Liver" and table["E100"]["group"] == "Muscle"
    assert all(info["color"].startswith("#") for info in table.values())
    benchmark = pd.read_csv(remc / "rpkm.56epigenomes.tsv.gz", sep="\t", nrows=1).columns[1:]
    assert all(tissues().get(e) for e in benchmark)  # no blank tissue for any of the 56


def _pandas_tsv(frame, float_format="%.8g") -> bytes:
    import io

    buf = io.StringIO()
    frame.to_csv(buf, sep="\t", index=False, float_format=float_format, na_rep="NA", lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def test_table_bytes_are_pandas_bytes_on_every_workspace_table(fixture_ws):
    """The fast TSV writer gives to_csv's bytes: the workspace's own tables, read back and written again."""
    import numpy as np
    import pandas as pd

    from shallowchrome.tracks.io.textio import table_bytes
    from shallowchrome.tracks.workspace.layout import Workspace

    ws = Workspace.open(fixture_ws)
    frames = [ws.genes(), ws.evaluation()]
    for eid in ws.epigenomes():
        pred = ws.predictions(eid)
        pred["label"] = pred["label"].astype("Int8")
        frames += [pred, ws.features(eid)]
    rng = np.random.default_rng(1)
    odd = pd.DataFrame({"a": rng.normal(size=50) * 10.0 ** rng.integers(-300, 300, 50), "b": rng.integers(-5, 5, 50),
                        "c": pd.array([None if i % 7 == 0 else i for i in range(50)], dtype="Int64"),
                        "d": ["" if i % 3 else ("x y" if i % 2 else None) for i in range(50)],
                        "e": rng.random(50) < 0.5, "f": np.where(rng.random(50) < 0.2, np.nan, rng.random(50))})
    odd.loc[3, "a"], odd.loc[4, "a"], odd.loc[5, "a"] = np.inf, -0.0, np.nan
    frames += [odd, odd.iloc[:0], odd[["a", "d"]]]
    for frame in frames:
        for fmt in ("%.8g", "%.4f"):
            assert table_bytes(frame, fmt) == _pandas_tsv(frame, fmt)
    # text pandas would quote, and single-column frames, go through pandas itself
    quoted = pd.DataFrame({"g": ['a"b', "c\td"], "h": [1.0, 2.0]})
    assert table_bytes(quoted) == _pandas_tsv(quoted)
    single = pd.DataFrame({"g": ["", "x"]})
    assert table_bytes(single) == _pandas_tsv(single)


def test_bgzf_is_gzip_that_tabix_indexes(tmp_path):
    """BGZF written by tracks/io/bgzf.py: plain gzip to zcat, members < 64 KiB with their BSIZE, the EOF
    member last, and pysam indexes and fetches it by region."""
    import gzip
    import struct

    import pysam

    from shallowchrome.tracks.io.bgzf import BLOCK_DATA, EOF_BLOCK, bgzf_bytes

    lines = [f"chr{1 + i // 4000}\t{(i % 4000) * 100}\t{(i % 4000) * 100 + 50}\tname{i}\n" for i in range(12000)]
    data = "".join(lines).encode()
    assert len(data) > 3 * BLOCK_DATA
    blob = bgzf_bytes(data)
    assert gzip.decompress(blob) == data and blob.endswith(EOF_BLOCK)
    pos, members = 0, 0
    while pos < len(blob):
        assert blob[pos:pos + 4] == b"\x1f\x8b\x08\x04" and blob[pos + 12:pos + 14] == b"BC"
        pos += struct.unpack_from("<H", blob, pos + 16)[0] + 1
        members += 1
    assert pos == len(blob) and members == -(-len(data) // BLOCK_DATA) + 1
    path = tmp_path / "x.bed.gz"
    path.write_bytes(blob)
    pysam.tabix_index(str(path), preset="bed", force=True)
    tbx = pysam.TabixFile(str(path))
    assert [r.split("\t")[3] for r in tbx.fetch("chr2", 1000, 1200)] == ["name4010", "name4011"]
    assert bgzf_bytes(b"") == EOF_BLOCK
