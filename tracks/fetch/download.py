"""Resumable, verified HTTP downloads (standard library ``urllib`` only).

:func:`download` fetches one URL into one file so that the file appears only
when it is complete and verified:

- **Skip complete files.** A finished download leaves a hidden sidecar
  ``.NAME.json`` beside ``NAME`` (URL, size, ETag, Last-Modified, SHA-256).
  When the file exists with the size its sidecar records, nothing is
  requested at all (so a re-run works offline). A file without a sidecar is
  adopted when a ``HEAD`` request reports the same ``Content-Length`` and it
  passes the local checks; otherwise it is downloaded again (and replaced only
  once the new copy is verified).
- **Resume partial files.** Bytes go to a hidden ``.NAME.part`` file. A later
  attempt (after a dropped connection, a truncated response or an
  interrupted run) asks for the rest with ``Range: bytes=N-``; a server that
  ignores Range (``200`` instead of ``206``) gets a clean full download.
- **Retry with exponential backoff** on connection errors, time-outs,
  truncated responses, HTTP 5xx and 429: ``tries`` consecutive failures
  without progress at most, sleeping ``backoff * 2**k`` seconds capped at
  ``max_sleep``. An attempt that received bytes resets the count, so a flaky
  but working connection always finishes. 404/403/410 and other 4xx fail at
  once.
- **Verify** the size against ``Content-Length`` / ``Content-Range`` and, for
  ``.gz`` files, the gzip stream (decompressed to the end, all members). A
  corrupt gzip is deleted and downloaded once more from scratch; corrupt
  again is an error.
- Progress: one tqdm byte bar per file (off when stderr is not a terminal).

Errors are :class:`DownloadError` (a :class:`~shallowchrome.model.errors.InputError`)
naming the URL and what to do, so the command line prints one line.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import logging
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from shallowchrome.model.errors import InputError
from shallowchrome.tracks.io.textio import write_text_atomic

log = logging.getLogger(__name__)

CHUNK = 1 << 16
USER_AGENT = "shallowchrome-fetch/1 (+https://github.com/; python-urllib)"
#: HTTP statuses worth retrying: the server or the path to it is (maybe) temporarily unwell.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*$", re.I)


class DownloadError(InputError):
    """A download that cannot be completed: ``URL: what happened; fix: what to do``."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``tries`` consecutive attempts without progress, exponential backoff."""

    tries: int = 4
    backoff: float = 1.0
    max_sleep: float = 30.0
    timeout: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th consecutive failure (1-based)."""
        return min(self.backoff * (2 ** (failures - 1)), self.max_sleep)


@dataclass(frozen=True)
class Downloaded:
    """What :func:`download` did: ``status`` is ``skipped``, ``downloaded`` or ``resumed``."""

    url: str
    path: Path
    status: str
    size: int


class _Retryable(Exception):
    """A failure worth another attempt (the message says what happened)."""


class _Corrupt(Exception):
    """The finished file failed verification."""


def is_url(text) -> bool:
    """True for ``http://`` and ``https://`` URLs."""
    return urllib.parse.urlsplit(str(text)).scheme in ("http", "https")


def sidecar_path(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.json")


def part_path(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.part")


def download(url: str, dest, *, policy: RetryPolicy | None = None, progress: bool | None = None,
             not_found_fix: str | None = None) -> Downloaded:
    """Download ``url`` to ``dest`` (resumable, retried, verified, atomic); see the module docstring.

    ``not_found_fix`` replaces the generic advice of the error raised for a
    404/410 (e.g. which catalogue to check). ``progress=None`` shows a bar
    when stderr is a terminal.
    """
    if not is_url(url):
        raise DownloadError(url, "not an http(s) URL", fix="give a URL starting with http:// or https://")
    policy = policy or RetryPolicy()
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if progress is None:
        progress = sys.stderr.isatty()
    if _is_complete(url, dest, policy):
        log.info("%s: already complete, skipped", dest)
        return Downloaded(url, dest, "skipped", dest.stat().st_size)
    meta, digest = _fetch_verified(url, dest, policy, progress, not_found_fix)
    size = part_path(dest).stat().st_size
    resumed = bool(meta.get("resumed"))
    os.replace(part_path(dest), dest)
    write_text_atomic(sidecar_path(dest), json.dumps(
        {"url": url, "size": size, "etag": meta.get("etag"), "last_modified": meta.get("last_modified"),
         "sha256": digest}, indent=1) + "\n")
    log.info("%s: %s (%d bytes)", dest, "resumed and completed" if resumed else "downloaded", size)
    return Downloaded(url, dest, "resumed" if resumed else "downloaded", size)


def _fetch_verified(url: str, dest: Path, policy: RetryPolicy, progress: bool, not_found_fix) -> tuple[dict, str]:
    """Complete and verify ``.NAME.part``; a corrupt result is deleted and fetched once more from scratch."""
    for round_ in (1, 2):
        meta = _fetch_with_retries(url, dest, policy, progress, not_found_fix)
        try:
            return meta, _verify(part_path(dest), meta.get("size"))
        except _Corrupt as exc:
            part_path(dest).unlink(missing_ok=True)
            if round_ == 2:
                raise DownloadError(url, f"{exc}, again after a fresh download",
                                    fix="the file on the server may be damaged: try later, or another "
                                        "mirror") from None
            log.warning("%s: %s; downloading it again", url, exc)
    raise AssertionError("unreachable")


# --- is there anything to do? ---------------------------------------------------------------------------

def _is_complete(url: str, dest: Path, policy: RetryPolicy) -> bool:
    """True when ``dest`` is a finished download (sidecar size matches, or HEAD agrees and it verifies)."""
    if not dest.is_file():
        return False
    size = dest.stat().st_size
    recorded = _read_sidecar(dest)
    if recorded is not None:
        if recorded.get("size") == size:
            return True
        log.warning("%s: %d bytes but its record says %s; downloading it again", dest, size, recorded.get("size"))
        return False
    remote = _head_size(url, policy)
    if remote != size:
        log.info("%s: exists without a download record and the server reports %s bytes (local %d); "
                 "downloading it again", dest, remote, size)
        return False
    try:
        digest = _verify(dest, size)
    except _Corrupt as exc:
        log.warning("%s: %s; downloading it again", dest, exc)
        return False
    write_text_atomic(sidecar_path(dest), json.dumps({"url": url, "size": size, "sha256": digest}, indent=1) + "\n")
    return True


def _read_sidecar(dest: Path) -> dict | None:
    try:
        data = json.loads(sidecar_path(dest).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, OSError):
        return None
    return data if isinstance(data, dict) else None


def _head_size(url: str, policy: RetryPolicy) -> int | None:
    """``Content-Length`` from a HEAD request, or None when the server will not say."""
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=policy.timeout) as response:
            length = response.headers.get("Content-Length")
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        log.debug("HEAD %s failed: %s", url, exc)
        return None
    return int(length) if length and length.isdigit() else None


# --- fetching ----------------------------------------------------------------------------------------------

def _fetch_with_retries(url: str, dest: Path, policy: RetryPolicy, progress: bool, not_found_fix) -> dict:
    """Bring ``.NAME.part`` to completion; returns what the server said (size, etag, last_modified)."""
    failures = 0
    while True:
        before = _part_size(dest)
        try:
            return _attempt(url, dest, policy, progress, not_found_fix)
        except _Retryable as exc:
            if _part_size(dest) > before:
                failures = 0  # progress was made: keep going from the new offset
            failures += 1
            if failures >= policy.tries:
                have = _part_size(dest)
                raise DownloadError(url, f"{exc} ({failures} attempts in a row, {have} bytes kept)",
                                    fix="check the network and run the same command again: it resumes "
                                        "where it stopped") from None
            wait = policy.delay(failures)
            log.warning("%s: %s; retrying in %.1f s (attempt %d of %d)", url, exc, wait, failures + 1, policy.tries)
            policy.sleep(wait)


def _part_size(dest: Path) -> int:
    part = part_path(dest)
    return part.stat().st_size if part.is_file() else 0


def _attempt(url: str, dest: Path, policy: RetryPolicy, progress: bool, not_found_fix) -> dict:
    """One GET (with Range when a partial file exists); appends to ``.NAME.part``."""
    part = part_path(dest)
    offset = _part_size(dest)
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=policy.timeout)
    except urllib.error.HTTPError as exc:
        return _http_error(url, dest, exc, offset, not_found_fix)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _Retryable(f"connection failed ({_reason(exc)})") from None
    with response:
        total, offset = _plan(response, offset, url)
        meta = {"size": total, "etag": response.headers.get("ETag"),
                "last_modified": response.headers.get("Last-Modified"), "resumed": offset > 0}
        _stream(response, part, offset, total, progress, dest.name)
    received = part.stat().st_size
    if total is not None and received < total:
        raise _Retryable(f"truncated response: {received} of {total} bytes")
    if total is not None and received > total:
        part.unlink()
        raise _Retryable(f"server sent more than the announced {total} bytes")
    return meta


def _http_error(url: str, dest: Path, exc: urllib.error.HTTPError, offset: int, not_found_fix) -> dict:
    """Map an HTTP error status to: done (416 on a complete part), retry, or a final error."""
    status, headers = exc.code, exc.headers
    exc.close()
    if status == 416 and offset:
        match = _CONTENT_RANGE.match(headers.get("Content-Range", "") or "")
        total = int(match.group(3)) if match and match.group(3).isdigit() else None
        if total == offset:
            return {"size": total, "etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified"),
                    "resumed": True}
        part_path(dest).unlink(missing_ok=True)
        raise _Retryable(f"HTTP 416: the partial file ({offset} bytes) does not fit the remote file ({total})")
    if status in RETRY_STATUSES:
        raise _Retryable(f"HTTP {status} {exc.reason}")
    if status in (404, 410):
        raise DownloadError(url, f"HTTP {status} {exc.reason}: the server has no such file",
                            fix=not_found_fix or "check the URL") from None
    raise DownloadError(url, f"HTTP {status} {exc.reason}",
                        fix="check the URL and that the server allows downloads from here") from None


def _plan(response, offset: int, url: str) -> tuple[int | None, int]:
    """(total size or None, offset to write at) from a 200 or 206 response to a (ranged) GET."""
    length = response.headers.get("Content-Length")
    length = int(length) if length and length.isdigit() else None
    if response.status == 206:
        match = _CONTENT_RANGE.match(response.headers.get("Content-Range", "") or "")
        if not match or match.group(1) is None or int(match.group(1)) != offset:
            raise _Retryable(f"bad Content-Range {response.headers.get('Content-Range')!r} for bytes={offset}-")
        total = int(match.group(3)) if match.group(3).isdigit() else None
        return total, offset
    if offset:
        log.info("%s: the server ignored the Range request; downloading the whole file", url)
    return length, 0


def _stream(response, part: Path, offset: int, total: int | None, progress: bool, name: str) -> None:
    """Copy the response body into ``part`` at ``offset`` (truncating anything after it)."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024, desc=name,
               disable=not progress, leave=False)
    try:
        with open(part, "r+b" if offset else "wb") as fh:
            fh.seek(offset)
            fh.truncate()
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (OSError, http.client.HTTPException) as exc:  # reset, time-out, IncompleteRead
                    raise _Retryable(f"connection lost ({_reason(exc)})") from None
                if not chunk:
                    break
                fh.write(chunk)
                bar.update(len(chunk))
    finally:
        bar.close()


def _reason(exc) -> str:
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, socket.timeout) or isinstance(exc, TimeoutError):
        return "timed out"
    return str(reason) or type(reason).__name__


# --- verification ------------------------------------------------------------------------------------------

def _verify(path: Path, expected: int | None) -> str:
    """Check the size and (for .gz names) the gzip stream; return the SHA-256. Raises :class:`_Corrupt`."""
    size = path.stat().st_size
    if expected is not None and size != expected:
        raise _Corrupt(f"{size} bytes where the server announced {expected}")
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    if _gzip_name(path):
        _check_gzip(path)
    return digest.hexdigest()


def _gzip_name(path: Path) -> bool:
    name = path.name.removesuffix(".part")
    return name.endswith((".gz", ".bgz"))


def _check_gzip(path) -> None:
    """Decompress ``path`` to the end (all members); raise :class:`_Corrupt` when it is not valid gzip."""
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
    except (EOFError, OSError, zlib.error) as exc:
        raise _Corrupt(f"corrupt or truncated gzip data ({exc})") from None
