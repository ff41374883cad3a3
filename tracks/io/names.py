"""What epigenome ids, mark names and genome names may contain: the one rule, checked in one place.

A name becomes a folder or file name (``WS/epigenomes/EID/``,
``WS/hub/GENOME/EID/EID.MARK.contribution.bw``), a trackDb identifier and a URL
segment, so it is restricted to letters, digits, ``_``, ``.`` and ``-``,
starts with a letter or digit (never ``.`` or ``..``) and has at most 64
characters. Gene symbols are free text (they are encoded and escaped where
they are written).
"""
from __future__ import annotations

import re

from shallowchrome.model.errors import InputError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
RULE = "letters, digits, _ . - (starting with a letter or digit, at most 64 characters)"


def is_name(value) -> bool:
    return isinstance(value, str) and NAME.match(value) is not None


def check_name(value, what: str, source=None, line=None) -> str:
    """``value`` when it is a valid name; else an :class:`InputError` naming the file and line."""
    if not is_name(value):
        raise InputError(source, f"{what} {value!r} is not a valid name", line=line,
                         fix=f"use only {RULE}")
    return value
