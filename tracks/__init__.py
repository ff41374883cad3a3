"""Every file format in and out, and the commands' work on a workspace.

Where things live (one job per module):

- Inputs: ``peaks`` (narrow/broad/gappedPeak, BED, bigBed), ``genes``, ``expression``,
  ``manifest`` (which file is which epigenome × mark), ``splits``, ``segmentation``
  (ChromHMM), ``chroms`` (chr naming), ``chromsizes``; helpers ``textio`` (gz reading,
  atomic writes) and ``tables`` (TSV checks).
- The workspace: ``workspace`` (layout, reading, gene lookup) and ``build`` (``shallowchrome build``).
- Browser tracks and hub (``shallowchrome tracks``): ``tracks`` (orchestration),
  ``prediction_items``, ``territories``, ``bigbed``/``bbifile``, ``bigwig``, ``tabixbed``,
  ``hub``, ``hub_pages``, ``sessions``, ``hubcheck``.
- Interpretation: ``interpretation`` (explain, weights), ``chromhmm_validation``,
  ``pattern_charts``; ``charts`` (evaluation chart).
- Report pages (``shallowchrome report``): ``reports``, ``report_page``, ``report_context``,
  ``report_tracks``, ``report_regions``, ``report_igv``, ``report_cache``.
- Data: ``fetch``, ``remc``, ``download`` (``shallowchrome fetch``), ``demo``, ``reference``
  (packaged tables under ``data/``).
"""
