"""Low-level structure of bigBed files (UCSC BBI format, little-endian), as far as we write or check it.

The 64-byte common header::

    offset  type    field
    0       uint32  magic (0x8789F2EB bigBed, 0x888FFC26 bigWig)
    4       uint16  version
    6       uint16  zoomLevels
    8       uint64  chromosomeTreeOffset
    16      uint64  fullDataOffset
    24      uint64  fullIndexOffset         (the R tree of data blocks)
    32      uint16  fieldCount
    34      uint16  definedFieldCount       (the N of "bed N +")
    36      uint64  autoSqlOffset
    44      uint64  totalSummaryOffset
    52      uint32  uncompressBufSize       (0: blocks are not compressed)
    56      uint64  extensionOffset         (extended header, holds the extra indexes)

Extra indexes (``bedToBigBed -extraIndex``; the ``searchIndex`` of a track
hub) map a field's value to the data block holding the item: a B+ tree per
field whose keys are the values, zero-padded to the longest, sorted as
bytes, and whose values are (block file offset, block size) as two uint64.
They have the layout of kent's ``bedToBigBed`` (extension header 64 bytes,
one 20-byte entry per index, then ``bPlusTree`` blocks of ``blockSize``
slots); :mod:`~shallowchrome.tracks.hub.bbiwrite` writes them, this module
reads them (and the header, the summary and the data blocks) back.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

BIGBED_MAGIC = 0x8789F2EB
BIGWIG_MAGIC = 0x888FFC26
BPT_MAGIC = 0x78CA8C91
CIR_MAGIC = 0x2468ACE0
HEADER = struct.Struct("<IHHQQQHHQQIQ")
EXT_HEADER_SIZE = 64
BPT_BLOCK_SIZE = 256


@dataclass
class BBIHeader:
    magic: int
    version: int
    zoom_levels: int
    chrom_tree_offset: int
    full_data_offset: int
    full_index_offset: int
    field_count: int
    defined_field_count: int
    autosql_offset: int
    total_summary_offset: int
    uncompress_buf_size: int
    extension_offset: int

    @property
    def kind(self) -> str:
        return {BIGBED_MAGIC: "bigBed", BIGWIG_MAGIC: "bigWig"}.get(self.magic, "unknown")


def read_header(data: bytes) -> BBIHeader:
    """Parse the common header from the first 64 bytes of a BBI file."""
    if len(data) < HEADER.size:
        raise ValueError("file shorter than a BBI header (64 bytes)")
    return BBIHeader(*HEADER.unpack_from(data, 0))


def read_header_of(path) -> BBIHeader:
    with open(path, "rb") as fh:
        return read_header(fh.read(HEADER.size))


SUMMARY = struct.Struct("<Qdddd")  # validCount (basesCovered), minVal, maxVal, sumData, sumSquares


@dataclass(frozen=True)
class Summary:
    """A BBI file's totalSummary: bases with data, min/max/sum/sum of squares of the value per base
    (for a bigBed the value of a base is its coverage depth, as kent's bedToBigBed counts it)."""

    bases_covered: int
    min: float
    max: float
    sum: float
    sum_squares: float


def read_summary(path) -> Summary:
    header = read_header_of(path)
    with open(path, "rb") as fh:
        fh.seek(header.total_summary_offset)
        return Summary(*SUMMARY.unpack(fh.read(SUMMARY.size)))


def set_summary(path, summary: Summary) -> None:
    """Overwrite the totalSummary in place (pyBigWig writes a wrong maximum, see :func:`wig_summary`)."""
    header = read_header_of(path)
    if not header.total_summary_offset:
        raise ValueError(f"{path}: no totalSummary to patch")
    with open(path, "r+b") as fh:
        fh.seek(header.total_summary_offset)
        fh.write(SUMMARY.pack(summary.bases_covered, summary.min, summary.max, summary.sum, summary.sum_squares))


def coverage_segments(chrom, start, end) -> tuple:
    """The coverage depth of items as segments ``(chrom, start, end, depth)`` (numpy columns; depth ≥ 1,
    half-open, in the chromosomes' order of first appearance, then position)."""
    chrom = np.asarray(chrom)
    start, end = np.asarray(start, dtype=np.int64), np.asarray(end, dtype=np.int64)
    parts = []
    for name in dict.fromkeys(chrom.tolist()):
        sel = chrom == name
        pos = np.concatenate([start[sel], end[sel]])
        step = np.concatenate([np.ones(sel.sum(), np.int64), -np.ones(sel.sum(), np.int64)])
        order = np.lexsort((step, pos))  # at one position, ends (-1) before starts (+1): half-open
        pos, depth = pos[order], np.cumsum(step[order])
        keep = (np.diff(pos) > 0) & (depth[:-1] > 0)
        parts.append((np.full(int(keep.sum()), name, dtype=chrom.dtype), pos[:-1][keep], pos[1:][keep],
                      depth[:-1][keep]))
    if not parts:
        return (chrom[:0], start[:0], end[:0], np.zeros(0, np.int64))
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(4))


def bed_summary(chrom, start, end) -> Summary:
    """The totalSummary of bigBed items: coverage depth per base (bases covered by ≥ 1 item, min/max
    depth over them, Σ depth = Σ item lengths, Σ depth²), as kent's bedToBigBed counts it."""
    _, a, b, d = coverage_segments(np.asarray(chrom, dtype=object), start, end)
    return summary_of_segments(a, b, d)


def summary_of_segments(start, end, depth) -> Summary:
    """The Summary of coverage segments (:func:`coverage_segments`)."""
    if not len(start):
        return Summary(0, 0.0, 0.0, 0.0, 0.0)
    width = (end - start).astype(np.float64)
    return Summary(int((end - start).sum()), float(depth.min()), float(depth.max()), float((width * depth).sum()),
                   float((width * depth.astype(np.float64) ** 2).sum()))


def wig_summary(start, end, value) -> Summary:
    """The totalSummary of non-overlapping bigWig intervals (values as stored, float32). pyBigWig starts
    its maximum at DBL_MIN, so an all-negative file claims max 2.2e-308."""
    width = np.asarray(end, dtype=np.int64) - np.asarray(start, dtype=np.int64)
    v = np.asarray(value, dtype=np.float32).astype(np.float64)
    if not len(v):
        return Summary(0, 0.0, 0.0, 0.0, 0.0)
    return Summary(int(width.sum()), float(v.min()), float(v.max()), float((width * v).sum()),
                   float((width * v * v).sum()))


# --- reading data blocks ---------------------------------------------------

def data_blocks(data: bytes, header: BBIHeader) -> list[tuple[int, int]]:
    """(file offset, size) of every data block, in file order, from the R tree's leaves."""
    magic, block_size = struct.unpack_from("<II", data, header.full_index_offset)
    if magic != CIR_MAGIC:
        raise ValueError("bad R-tree magic")
    blocks = []
    stack = [header.full_index_offset + 48]
    while stack:
        pos = stack.pop()
        is_leaf, _, count = struct.unpack_from("<BBH", data, pos)
        pos += 4
        if is_leaf:
            for k in range(count):
                blocks.append(struct.unpack_from("<QQ", data, pos + 32 * k + 16))
        else:
            stack.extend(struct.unpack_from("<Q", data, pos + 24 * k + 16)[0] for k in reversed(range(count)))
    return sorted(blocks)


def block_items(data: bytes, header: BBIHeader, offset: int, size: int):
    """Yield (chromId, start, end, rest bytes) of the bigBed items in one data block."""
    raw = data[offset: offset + size]
    if header.uncompress_buf_size:
        raw = zlib.decompress(raw)
    pos, n = 0, len(raw)
    while pos < n:
        chrom_id, start, end = struct.unpack_from("<III", raw, pos)
        stop = raw.index(b"\0", pos + 12)
        yield chrom_id, start, end, raw[pos + 12: stop]
        pos = stop + 1


# --- extra indexes ---------------------------------------------------------

def _tree_levels(block_size: int, count: int) -> int:
    levels = 1
    while count > block_size:
        count = (count + block_size - 1) // block_size
        levels += 1
    return levels


def tree_nodes(count: int, block_size: int, offset: int, index_slot_size: int, leaf_slot_size: int,
               index_slot, leaf_slot) -> list[bytes]:
    """The nodes of a bulk-loaded tree over ``count`` leaf items, placed from file offset ``offset``: kent's
    ``bptFileBulkIndexToOpenFile`` (B+ tree) and ``cirTreeFileBulkIndexToOpenFile`` (R tree) lay them out
    alike. Index levels come root first, then the leaves; a node is ``isLeaf, reserved, count`` and
    ``block_size`` slots, the unused ones zero. ``index_slot(first, stop, child_offset)``: the bytes of the
    slot over leaf items ``[first, stop)``; ``leaf_slot(j)``: those of leaf item j. No item: one empty leaf."""
    index_node = 4 + block_size * index_slot_size
    leaf_node = 4 + block_size * leaf_slot_size
    out = []
    for level in range(_tree_levels(block_size, count) - 1, 0, -1):  # a slot of level L spans block_size**L items
        slot_per = block_size ** level
        node_per = slot_per * block_size
        n_nodes = (count + node_per - 1) // node_per
        next_child = offset + n_nodes * index_node
        child_size = leaf_node if level == 1 else index_node
        for i in range(0, count, node_per):
            firsts = range(i, min(i + node_per, count), slot_per)
            node = [struct.pack("<BBH", 0, 0, len(firsts))]
            for j in firsts:
                node.append(index_slot(j, min(j + slot_per, count), next_child))
                next_child += child_size
            node.append(b"\0" * ((block_size - len(firsts)) * index_slot_size))
            out.append(b"".join(node))
        offset += n_nodes * index_node
    for i in range(0, max(count, 1), block_size):
        chunk = range(i, min(i + block_size, count))
        node = [struct.pack("<BBH", 1, 0, len(chunk))]
        node.extend(leaf_slot(j) for j in chunk)
        node.append(b"\0" * ((block_size - len(chunk)) * leaf_slot_size))
        out.append(b"".join(node))
    return out


def bpt_bytes(keys: list[bytes], values: list[bytes], start: int, block_size: int = BPT_BLOCK_SIZE) -> bytes:
    """A B+ tree (kent's ``bptFileBulkIndexToOpenFile``) over sorted ``keys`` placed at file offset ``start``."""
    count = len(keys)
    key_size = max(1, max((len(k) for k in keys), default=1))
    val_size = len(values[0]) if values else 16
    pad = [k.ljust(key_size, b"\0") for k in keys]
    header = struct.pack("<IIIIQII", BPT_MAGIC, block_size, key_size, val_size, count, 0, 0)
    nodes = tree_nodes(count, block_size, start + len(header), key_size + 8, key_size + val_size,
                       lambda j, stop, child: pad[j] + struct.pack("<Q", child), lambda j: pad[j] + values[j])
    return header + b"".join(nodes)


def extra_index_fields(data: bytes, header: BBIHeader) -> dict[int, int]:
    """Field id → B+ tree offset of each extra index (empty when there is none)."""
    if not header.extension_offset:
        return {}
    _, count, list_pos = struct.unpack_from("<HHQ", data, header.extension_offset)
    out = {}
    for i in range(count):
        _, field_count, offset = struct.unpack_from("<HHQ", data, list_pos + 20 * i)
        if field_count >= 1:
            out[struct.unpack_from("<H", data, list_pos + 20 * i + 16)[0]] = offset
    return out


def bpt_find(data: bytes, tree_offset: int, key: bytes) -> list[tuple[int, int]]:
    """(offset, size) values stored under ``key`` in the B+ tree at ``tree_offset`` (all duplicates)."""
    magic, block_size, key_size, val_size, _count = struct.unpack_from("<IIIIQ", data, tree_offset)
    if magic != BPT_MAGIC or len(key) > key_size:
        return []
    want = key.ljust(key_size, b"\0")
    found = []

    def walk(pos):
        is_leaf, _, count = struct.unpack_from("<BBH", data, pos)
        pos += 4
        if is_leaf:
            for k in range(count):
                p = pos + k * (key_size + val_size)
                if data[p: p + key_size] == want:
                    found.append(struct.unpack_from("<QQ", data, p + key_size))
            return
        slot = key_size + 8
        keys = [data[pos + k * slot: pos + k * slot + key_size] for k in range(count)]
        for k in range(count):  # every child whose key range may hold ``want`` (duplicates can span nodes)
            nxt = keys[k + 1] if k + 1 < count else None
            if keys[k] <= want and (nxt is None or want <= nxt):
                walk(struct.unpack_from("<Q", data, pos + k * slot + key_size)[0])

    walk(tree_offset + 32)
    return found
