"""The on-disk workspace and the work that makes it.

- ``layout``: :class:`Workspace`, the one owner of every workspace path and file name, its readers
  and the gene lookup; :func:`check_name` validates epigenome ids and marks before any path is made
- ``build``: ``shallowchrome build`` (inputs → models → workspace)
- ``executor``: :func:`map_jobs`, the one place that starts worker pools
- ``pipeline``: build → chromhmm → tracks → reports in one place (used by ``demo``)
- ``demo``: the embedded Roadmap demo
"""
