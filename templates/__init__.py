"""Jinja templates of the server pages and the hub description pages (package data)."""
