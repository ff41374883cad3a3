"""The pure core of ShallowChrome: arrays and DataFrames in, arrays and DataFrames out.

No file paths, no printing. File formats live in :mod:`shallowchrome.tracks`,
the command line and web application in :mod:`shallowchrome.server`.
"""
