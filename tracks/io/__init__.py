"""Every input format, one module each (its spec in the module docstring); coordinates are BED-style.

- ``peaks``: narrowPeak / broadPeak / gappedPeak, BED3+, bigBed (the :data:`~.formats.PEAK_FORMATS` registry)
- ``genes``: gene tables (TSV, GTF, GFF3, BED6); ``expression``: RPKM tables
- ``manifest``: which peak file is which epigenome × mark (TSV, or a folder of EID-MARK.FORMAT files)
- ``splits``: train / validation / test splits; ``segmentation``: ChromHMM segmentations and emissions
- ``chroms`` (UCSC chromosome names), ``chromsizes`` (assembly sizes)
- helpers: ``textio`` (gz reading, atomic writes), ``tables`` (TSV checks)
"""
