"""Peak readers: every format, headers, naming, gz; every bad-input case names file and line."""
import gzip

import numpy as np
import pytest

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.io.peaks import infer_format, read_peaks

NARROW = "chr1\t100\t200\tp1\t500\t.\t7.5\t3.1\t2.0\t50\n1\t300\t450\tp2\t500\t.\t2.25\t3.1\t2.0\t50\n"


@pytest.mark.parametrize("name, fmt", [
    ("E066-H3K4me3.narrowPeak.gz", "narrowPeak"), ("x.broadPeak", "broadPeak"), ("x.gappedPeak.bgz", "gappedPeak"),
    ("E066-DNase.imputed.bed4.gz", "bed"), ("x.bed", "bed"), ("x.bb", "bigBed"), ("x.bigBed", "bigBed"),
    ("x.txt", None),
])
def test_infer_format(name, fmt):
    assert infer_format(name) == fmt


def test_narrowpeak_plain_and_gz_with_headers_and_bare_chromosomes(tmp_path, write):
    header = 'track type=narrowPeak name="x"\nbrowser position chr1:1-1000\n# a comment\n'
    for gz in (False, True):
        path = write(tmp_path / f"a{gz}.narrowPeak{'.gz' if gz else ''}", header + NARROW, gz=gz)
        peaks = read_peaks(path)
        assert peaks.chrom.tolist() == ["chr1", "chr1"]  # "1" became "chr1"
        assert peaks.start.tolist() == [100, 300] and peaks.end.tolist() == [200, 450]
        assert peaks.signal.tolist() == [7.5, 2.25]


def test_broadpeak_with_column_name_header_like_encode(tmp_path, write):
    text = "chrom\tchromStart\tchromEnd\tname\tscore\tstrand\tsignalValue\tpValue\tqValue\n" \
           "chr2\t10\t20\t.\t0\t.\t4.5\t-1\t-1\n"
    peaks = read_peaks(write(tmp_path / "x.broadPeak", text))
    assert peaks.to_dict("list") == {"chrom": ["chr2"], "start": [10], "end": [20], "signal": [4.5]}


def test_gappedpeak_signal_is_column_13(tmp_path, write):
    text = "chr1\t0\t1000\tg\t0\t.\t0\t1000\t0\t2\t100,100\t0,900\t6.5\t2\t1\n"
    peaks = read_peaks(write(tmp_path / "x.gappedPeak", text))
    assert peaks.signal.tolist() == [6.5]


def test_bed3_and_bed4_give_presence(tmp_path, write):
    assert read_peaks(write(tmp_path / "a.bed", "chr1\t5\t10\nchr1\t20\t30\n")).signal.tolist() == [1.0, 1.0]
    assert read_peaks(write(tmp_path / "b.bed4.gz", "chr1\t5\t10\tnPk\n", gz=True)).signal.tolist() == [1.0]


def test_real_encode_broadpeak_with_header(remc):
    peaks = read_peaks(remc.parent / "encode" / "GM12878-H3K9me3.GSM733664.broadPeak.gz")
    assert len(peaks) > 1000 and set(peaks.chrom) <= {"chr1", "chr2", "chrX"}
    assert (peaks.end >= peaks.start).all() and np.isfinite(peaks.signal).all()


def test_bigbed_round_trip(tmp_path, write):
    pybigtools = pytest.importorskip("pybigtools")
    autosql = """table narrowPeak
"narrowPeak"
(
string chrom; "c"
uint chromStart; "s"
uint chromEnd; "e"
string name; "n"
uint score; "s"
char[1] strand; "s"
float signalValue; "v"
float pValue; "p"
float qValue; "q"
int peak; "k"
)"""
    path = tmp_path / "x.bb"
    bb = pybigtools.open(str(path), "w")
    items = [("chr1", 100, 200, "p1\t500\t.\t7.5\t3\t2\t50"), ("chr2", 10, 20, "p2\t500\t.\t1.25\t3\t2\t5")]
    bb.write({"chr1": 10_000, "chr2": 5000}, iter(items), autosql=autosql)
    peaks = read_peaks(path)
    assert peaks.to_dict("list") == {"chrom": ["chr1", "chr2"], "start": [100, 10], "end": [200, 20], "signal": [7.5, 1.25]}
    # a bigBed without signalValue gives presence
    path3 = tmp_path / "y.bb"
    bb = pybigtools.open(str(path3), "w")
    bb.write({"chr1": 10_000}, iter([("chr1", 5, 50, "")]))
    assert read_peaks(path3).signal.tolist() == [1.0]


BAD = [
    # (file name, content, expected line, message fragment)
    ("trunc.narrowPeak", NARROW + "chr1\t500\t600\tp3\t500\t.\t1.0\n", 3, "truncated or malformed line: 7"),
    ("cut.narrowPeak", NARROW + "chr1\t500\t6", 3, "truncated or malformed line: 3"),
    ("extra.narrowPeak", NARROW + "chr1\t5\t6\tp\t1\t.\t1\t1\t1\t1\t99\n", 3, "extra columns"),
    ("order.narrowPeak", "track x\n" + NARROW + "chr1\t600\t500\tp3\t500\t.\t1.0\t1\t1\t1\n", 4, "end 500 < start 600"),
    ("neg.narrowPeak", "chr1\t-5\t10\tp\t1\t.\t1\t1\t1\t1\n", 1, "negative start"),
    ("sig.narrowPeak", NARROW + "chr1\t5\t10\tp\t1\t.\tabc\t1\t1\t1\n", 3, "signalValue (column 7) is not a number"),
    ("nan.broadPeak", "chr1\t5\t10\tp\t1\t.\tnan\t1\t1\n", 1, "not a number"),
    ("coord.narrowPeak", NARROW + "chr1\t5x\t10\tp\t1\t.\t1\t1\t1\t1\n", 3, "start/end are not integers"),
    ("short.bed", "chr1\t5\t10\nchr1\t7\n", 2, "BED needs at least 3"),
    ("space.narrowPeak", "chr1 5 10 p 1 . 1 1 1 1\n", 1, "1 tab-separated columns"),
]


@pytest.mark.parametrize("name, content, line, fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_lines_name_file_and_line(tmp_path, name, content, line, fragment, write):
    path = write(tmp_path / name, content)
    with pytest.raises(InputError) as err:
        read_peaks(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:{line}: "), msg
    assert fragment in msg and "fix:" in msg
    assert "\n" not in msg


def test_empty_and_header_only_files(tmp_path, write):
    for text in ("", "track name=x\n# nothing\n"):
        path = write(tmp_path / "e.narrowPeak", text)
        with pytest.raises(InputError, match="contains no peaks"):
            read_peaks(path)


def test_corrupt_and_truncated_gzip(tmp_path):
    data = gzip.compress((NARROW * 200).encode())
    path = tmp_path / "t.narrowPeak.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="corrupt or truncated gzip"):
        read_peaks(path)
    path.write_bytes(data[:10] + b"\x00" * 40 + data[50:])
    with pytest.raises(InputError, match="corrupt or truncated gzip"):
        read_peaks(path)


def test_missing_file_and_unknown_format(tmp_path, write):
    with pytest.raises(InputError, match="file not found"):
        read_peaks(tmp_path / "nope.narrowPeak")
    with pytest.raises(InputError, match="cannot tell the peak format"):
        read_peaks(write(tmp_path / "x.txt", NARROW))
    with pytest.raises(InputError, match="unknown peak format"):
        read_peaks(write(tmp_path / "x.txt", NARROW), "wig")


# The reader's fast path strips header lines from the top only and must give way to the careful
# path (headers stripped anywhere, parse again) whenever a header line could be further down.
@pytest.mark.parametrize("text, blocks, fast", [
    (NARROW + "track name=second\n" + NARROW, 2, False),          # a track line between two blocks
    (NARROW + "# a comment\t with a tab\n" + NARROW, 2, False),    # a comment line that has tabs
    (NARROW + "browser\n" + NARROW, 2, False),                      # a bare browser line
    ("\r\n\ntrack x\n\n# c\r\n" + NARROW, 1, True),                # blank lines between leading headers
    ("track x\nchrom\tchromStart\tchromEnd\tname\tscore\tstrand\tsignalValue\tp\tq\tpeak\n# after\n" + NARROW, 1, False),
    (NARROW.replace("\n", "\r\n") + "#end\r\n", 1, False),          # CRLF line ends, a trailing comment
    (NARROW + 'track name="quoted \t name"\n', 1, None),            # a quote: straight to the careful path
], ids=["mid-track", "mid-comment-tabs", "mid-browser", "blank-lines", "colnames-then-comment", "crlf", "quote"])
def test_header_lines_anywhere_are_skipped(tmp_path, write, text, blocks, fast):
    from shallowchrome.tracks.io import peaks as mod

    path = write(tmp_path / "h.narrowPeak", text)
    peaks = read_peaks(path)
    assert peaks.chrom.tolist() == ["chr1"] * 2 * blocks
    assert peaks.signal.tolist() == [7.5, 2.25] * blocks
    if fast is not None:  # which path gave the frame
        raw = path.read_bytes()
        got = mod._parse_body(path, raw, "narrowPeak", mod._skip_leading_headers(raw), fast=True)
        assert (got is not None) == fast


def test_chromosome_names_that_only_look_like_header_words(tmp_path, write):
    # not track/browser lines: the word must end at a space, a tab or the line end
    text = "trackX\t1\t5\tp\t0\t.\t1\t1\t1\t1\nbrowsers\t2\t6\tp\t0\t.\t2\t1\t1\t1\n"
    peaks = read_peaks(write(tmp_path / "w.narrowPeak", text))
    assert peaks.chrom.tolist() == ["trackX", "browsers"] and peaks.signal.tolist() == [1.0, 2.0]


def test_error_after_a_mid_file_header_names_the_original_line(tmp_path, write):
    text = NARROW + "track second\n" + "chr1\t5\t1\tp\t1\t.\t1\t1\t1\t1\n"
    path = write(tmp_path / "e.narrowPeak", text)
    with pytest.raises(InputError, match=r":4: end 1 < start 5"):
        read_peaks(path)


def test_fast_and_careful_paths_agree_on_real_files(remc):
    """The fast path's frame equals the careful path's (full header strip + parse) on shared REMC files."""
    from shallowchrome.tracks.io import peaks as mod
    from shallowchrome.tracks.io.textio import read_bytes, strip_header_lines

    for name in ("E066-H3K4me3.narrowPeak.gz", "E104-DNase.imputed.bed4.gz"):
        path = remc / "peaks" / name
        fmt = mod.infer_format(path)
        raw = read_bytes(path)
        fast = mod._parse_body(path, raw, fmt, mod._skip_leading_headers(raw), fast=True)
        careful = mod._parse_body(path, raw, fmt, strip_header_lines(raw))
        assert fast is not None
        assert fast.dtypes.equals(careful.dtypes)
        for col in fast:
            assert np.array_equal(fast[col].to_numpy(), careful[col].to_numpy()), col


def test_normalise_missing_and_mixed_names():
    from shallowchrome.tracks.io.chroms import normalise

    names = np.array(["1", None, "chr2", "MT", "X", np.nan, "1", "Un_gl000220"], dtype=object)
    assert normalise(names).tolist() == ["chr1", "None", "chr2", "chrM", "chrX", "nan", "chr1", "Un_gl000220"]
    assert normalise(np.array([], dtype=object)).tolist() == []
