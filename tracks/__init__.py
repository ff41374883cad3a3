"""Every file format in and out: peak, gene and expression readers, the
workspace layout, tracks, charts and the build that ties them together."""
