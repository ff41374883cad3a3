"""BGZF (blocked gzip, SAM/BAM spec §4.1): the compression of ``.bed.gz`` files that tabix indexes.

A BGZF file is a series of gzip members, each holding at most 64 KiB of the data, with an extra field
``BC`` giving the member's size (so readers can seek to a member), and ends with the fixed 28-byte empty
member. ``gzip``/``zcat`` read it as ordinary gzip; ``pysam.tabix_index`` indexes it as it is.

Why not ``pysam.tabix_compress``: htslib compresses at zlib's level 6, which costs 2.6x the time of level
1 for files 16 % smaller (a 20k-gene predictions BED: 0.107 s, 0.96 MB vs 0.041 s, 1.15 MB); the build
writes one such file per epigenome and per peak file.
"""
from __future__ import annotations

import struct
import zlib

#: Uncompressed bytes per member, as bgzip cuts them (0xff00: a member stays under 64 KiB even when the
#: data does not compress).
BLOCK_DATA = 0xFF00
#: The empty member every BGZF file ends with (SAM spec §4.1.2).
EOF_BLOCK = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
LEVEL = 1
_HEADER = struct.Struct("<BBBBIBBHBBHH")  # ID1 ID2 CM FLG MTIME XFL OS XLEN, then SI1 SI2 SLEN BSIZE


def bgzf_bytes(data: bytes, level: int = LEVEL) -> bytes:
    """``data`` as a whole BGZF file (members of at most :data:`BLOCK_DATA` bytes, then the EOF member)."""
    out = []
    for i in range(0, len(data), BLOCK_DATA):
        chunk = data[i: i + BLOCK_DATA]
        deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
        body = deflate.compress(chunk) + deflate.flush()
        size = _HEADER.size + len(body) + 8  # header, deflate data, CRC32 + ISIZE
        out.append(_HEADER.pack(0x1F, 0x8B, 8, 4, 0, 0, 0xFF, 6, ord("B"), ord("C"), 2, size - 1))
        out.append(body)
        out.append(struct.pack("<II", zlib.crc32(chunk), len(chunk)))
    out.append(EOF_BLOCK)
    return b"".join(out)
