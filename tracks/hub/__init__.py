"""Genome-browser tracks and the UCSC/IGV track hub (``shallowchrome tracks``, ``hub check``).

- ``write``: orchestration (plan every epigenome, write its files, then the hub text)
- ``items`` (the BED9+N prediction items and their autoSql), ``territories`` (bigWig bases per gene)
- writers: ``bbifile`` / ``bigbed``, ``bigwig``, ``tabix``
- ``trackdb`` (hub.txt, genomes.txt, trackDb.txt), ``pages`` (description pages)
- ``igv`` (the one igv.js / IGV track-list builder), ``sessions`` (igv.js and IGV desktop sessions)
- ``check``: the hubCheck stand-in
"""
