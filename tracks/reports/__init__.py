"""Per-gene report pages (``shallowchrome report`` and the server's ``/reports/<gene>``).

- ``write``: the command (pages and index); ``page``: one gene's page; ``context``: what every page of
  a workspace shares; ``tracks``: the page's igv.js tracks; ``regions``: indexed copies of the inputs
  and region slices; ``igv``: igv-reports driven offline; ``cache``: the server's page cache
"""
