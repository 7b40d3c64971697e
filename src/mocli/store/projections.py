"""The cached projections and cold reads: `scan_journal` (a projection of every live document, from a
cached scan plus the records appended since), `read_records` (one pread per whole record) and
`read_projection` (the read-only entry point for reports and other agents' files)."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import orjson  # noqa: TID253 (the store's modules are imported only inside commands)

from mocli.errors import NotFound, StoreCorrupt, StoreError
from mocli.store.files import _owned, corrupt_error, keeps_own_files, move_aside, tighten_file
from mocli.store.journal import JournalStorage
from mocli.store.records import (
    CASES,
    HEADER,
    _torn_tail_ok,
    checked_record,
    live_documents,
    split_damaged,
    valid_record,
    warn_if_quarantined,
)
from mocli.store.scans import (
    _CACHE_REFRESH,
    CHUNK_BYTES,
    Scan,
    _anchor,
    _cache_path,
    _load_cache,
    _pread_all,
    _save_cache,
)

# ---------------------------------------------------------------- projections and fast look-ups
#
# Reports, `mocli cases` and the one-case commands (`case`, `note`, `resolve`) do not parse the whole
# journal each time. A scan keeps, in a cache file beside the journal, a small projection of every live
# document and where its latest record lies (offset and length of the line); the cache is valid for the
# journal's first N bytes. The journal only grows by whole records until a compaction renames a new file
# over it (another inode), so a cache whose file identity and last 4 KB still match holds, and only the
# records appended since are read and parsed (every one of them, with the same checks as a full read).
# A command then reads the few whole records it shows with one pread each, and checks that each is the
# record the scan saw there. Any doubt (no cache, another inode, the 4 KB before the cached offset or
# the header changed, a record that is not what the scan saw): the whole file is read, as before.
#
# What a scan does not re-check: records before the cached offset, which an earlier scan of this very
# file (same device and inode) parsed and validated. mocli never rewrites a byte in place (it appends,
# cuts off only a torn tail after the last whole record, and compacts by renaming), so those bytes are
# the ones validated; only something else writing into the middle of the file in place, beyond the
# 4 KB anchor, could go unnoticed by a scan, and is caught by the next full read (`CaseStore.all`, the
# TinyDB API, a compaction) or once the cache is deleted.


def scan_journal(path: Path, project: Callable[[dict[str, Any]], Any], key: str, *, table: str,
                 lock: Callable[[], AbstractContextManager[Any]] | None, use_cache: bool,
                 corrupt: Callable[[str, int], StoreCorrupt], chunk: int = CHUNK_BYTES) -> Scan:
    """`project(document)` and the record's place for every live document of `table` (see above).

    The journal is read in chunks from its end back (bounded memory; a superseded record is checked
    but not projected). `lock` is held only while the end of the last whole record is found (None: read
    without it, for files we may not lock): the bytes before it are never changed in place;
    `use_cache` reads and writes ``.NAME.KEY.cache`` (0600); `corrupt(detail, inode)` makes the
    error for a corrupt journal (and may move that file aside); `chunk` bytes are held at a time.
    FileNotFoundError if there is no journal.
    """
    cache = _cache_path(path, key)
    cached = None
    if use_cache:
        try:  # a cache holds personal data too: 0600 even if something loosened it
            tighten_file(cache)
        except StoreError:
            pass
        cached = _load_cache(cache, key, chunk)

    def snapshot(fd: int) -> tuple[Scan, int, bytes, str]:
        """(the cached scan if it still holds for this file, else an empty one; where the last whole
        record ends; the bytes after it (a torn tail, or nothing); the anchor digest up to there)."""
        st = os.fstat(fd)
        base = Scan(st.st_dev, st.st_ino, {}, {})  # nothing covered yet: the whole file is read
        if cached is not None:
            old, anchor = cached
            if ((old.dev, old.ino) == (st.st_dev, st.st_ino) and len(HEADER) <= old.offset <= st.st_size
                    and os.pread(fd, len(HEADER), 0) == HEADER and _anchor(fd, old.offset) == anchor):
                base = old
        whole = _last_line_end(fd, base.offset, st.st_size)
        tail = os.pread(fd, st.st_size - whole, whole) if st.st_size > whole else b""
        return base, whole, tail, _anchor(fd, whole) if whole > base.offset else ""

    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise StoreError(f"cannot read the case store {path}: {exc.strerror}") from None
    try:
        try:
            if lock is not None:  # held only to find where the whole records end: they never change after
                with lock():
                    base, whole, tail, anchor = snapshot(fd)
            else:  # a journal read without the lock is still a consistent snapshot: whole records appended
                base, whole, tail, anchor = snapshot(fd)
        except OSError as exc:
            raise StoreError(f"cannot read the case store {path}: {exc.strerror}") from None
        scan = base
        fresh = scan.offset == 0
        if fresh and os.pread(fd, len(HEADER), 0) != HEADER:
            raise corrupt("not a mocli case store: bad or missing header", scan.ino)
        start = len(HEADER) if fresh else scan.offset
        if not _torn_tail_ok(tail if whole >= start else b""):
            raise corrupt("trailing garbage after the last record", scan.ino)
        try:
            count, bad = _project_latest(fd, start, max(whole, start), scan, project, table, chunk)
        except OSError as exc:
            raise StoreError(f"cannot read the case store {path}: {exc.strerror}") from None
        if bad is not None:
            raise corrupt(f"line {scan.records + 2 + bad} is not a valid case record", scan.ino)  # 1: header
    finally:
        os.close(fd)
    scan.records, scan.offset = scan.records + count, max(whole, start)
    if use_cache and anchor and (fresh or count > _CACHE_REFRESH):
        _save_cache(cache, key, scan, anchor, chunk)
    return scan



def _last_line_end(fd: int, start: int, size: int) -> int:
    """Where the journal's last whole record ends (just past its newline); `start` if none past it."""
    pos = size
    while pos > start:
        lo = max(start, pos - (1 << 16))
        idx = os.pread(fd, pos - lo, lo).rfind(b"\n")
        if idx >= 0:
            return lo + idx + 1
        pos = lo
    return start


def _lines_backward(fd: int, start: int, end: int, chunk: int = CHUNK_BYTES) -> Iterator[tuple[int, bytes]]:
    """(offset, line) of every line between `start` and `end` (both at line starts), the last first,
    read `chunk` bytes at a time."""
    hi, window = end, chunk
    while hi > start:
        lo = max(start, hi - window)
        block = _pread_all(fd, lo, hi)
        if len(block) != hi - lo:
            raise OSError(0, "the case file is shorter than it was a moment ago")
        parts = block.split(b"\n")
        parts.pop()  # after the last newline: nothing (hi is a line start)
        first = 0 if lo == start else 1  # a line that starts before `lo` is read with the next block
        if first and len(parts) == 1:  # one line longer than the window: read a bigger one
            window *= 2
            continue
        off = hi
        for line in reversed(parts[first:]):
            off -= len(line) + 1
            yield off, line
        hi, window = off, chunk


def _project_latest(fd: int, start: int, end: int, scan: Scan, project: Callable[[dict[str, Any]], Any],
                    table: str, chunk: int = CHUNK_BYTES) -> tuple[int, int | None]:
    """Check every record between `start` and `end` and bring `scan` up to date with them, projecting
    only each document's latest record (read last first: a superseded record is checked, not projected).

    Returns (records read, None), or (0, the number of the first bad line counted from `start`)."""
    latest: dict[int, tuple[Any, int, int] | None] = {}  # doc id -> (projection, offset, length); None: removed
    next_id, count, bad = scan.next_id, 0, False
    paused = gc.isenabled()
    gc.disable()  # see store/local.py's docstring
    try:
        for off, line in _lines_backward(fd, start, end, chunk):
            count += 1
            rec = checked_record(line)
            if rec is None:
                bad = True
                break
            t, doc_id, n, removed = rec["t"], rec["i"], rec["n"], bool(rec.get("x"))
            if t == table:
                next_id = max(next_id, n)
                if doc_id not in latest:
                    latest[doc_id] = None if removed else (project(rec["d"]), off, len(line))
    finally:
        if paused:
            gc.enable()
    if bad:  # the error names the first damaged line, as a front-to-back read would
        for number, (_, line) in enumerate(reversed(list(_lines_backward(fd, start, end, chunk)))):
            if not valid_record(line):
                return 0, number
    docs, spans = scan.docs, scan.spans
    for doc_id in sorted(latest):  # ids are handed out in increasing order: this is insertion order
        found = latest[doc_id]
        if found is None:
            docs.pop(doc_id, None)
            spans.pop(doc_id, None)
        else:
            docs[doc_id], spans[doc_id] = found[0], (found[1], found[2])
    scan.next_id = next_id
    return count, None


def read_records(path: Path, scan: Scan, table: str, doc_ids: list[int]) -> list[dict[str, Any]] | None:
    """The documents `doc_ids`, each read from the one record line `scan` found for it (one pread each).

    None when any of them is not exactly what is there (another file was renamed in by a compaction
    since, the bytes are not a whole record of that document): the caller then reads the whole
    journal, as before.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    out = []
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (scan.dev, scan.ino):
            return None  # not the file scanned: its offsets mean nothing here
        for doc_id in doc_ids:
            start, length = scan.spans[doc_id]
            line = os.pread(fd, length + 2, start - 1)  # with the newlines either side
            if len(line) != length + 2 or line[:1] != b"\n" or line[-1:] != b"\n":
                return None
            rec = orjson.loads(line[1:-1])
            if (not isinstance(rec, dict) or rec.get("t") != table or type(rec.get("i")) is not int
                    or rec["i"] != doc_id or rec.get("x") or not isinstance(rec.get("d"), dict)):
                return None
            out.append(rec["d"])
    except (OSError, orjson.JSONDecodeError):
        return None
    finally:
        os.close(fd)
    return out


def read_projection(path: str | os.PathLike[str], project: Callable[[dict[str, Any]], Any], key: str, *,
                    table: str = CASES, lock_timeout: float = 10.0, move_corrupt: bool = True,
                    chunk_bytes: int = CHUNK_BYTES) -> list[Any]:
    """`project(document)` for every live document of `table`, in insertion order; read-only.

    For reports over big stores and over other agents' files. It never creates, rewrites or chmods a
    journal. The projections are cached beside a journal this user owns (``.NAME.KEY.cache``, 0600; see
    "projections and fast look-ups" at the top); another user's file is read whole, without its lock.

    A corrupt journal is a StoreCorrupt; with `move_corrupt` (the agent's own store, e.g. new-case's
    claim check) a file this user owns is also moved aside and kept; reports pass False and only read.
    `chunk_bytes`: how much of the journal (or its cache) a read holds at a time (default 8 MiB).
    """
    path = Path(path)
    try:
        own = _owned(path.stat())
    except FileNotFoundError:
        raise NotFound(f"no case file {path}") from None
    except OSError as exc:
        raise StoreError(f"cannot read the case store {path}: {exc.strerror}") from None

    mine = own and keeps_own_files(path.parent)

    def corrupt(detail: str, ino: int) -> Exception:
        if mine and move_corrupt:
            storage = JournalStorage(path, lock_timeout=lock_timeout)
            with storage.locked():
                if _same_file(path, ino) and storage.set_aside_damaged():
                    return _SetAside(detail)
                moved, why_not = move_aside(path, ino)
            return corrupt_error(path, detail, moved, why_not)
        return _ReadAround(detail)

    # Our own file where mocli keeps its files: read under the lock. Another agent's file, or one in a
    # shared folder: no lock file is created there (appends and renames make a lock-free read safe).
    lock = JournalStorage(path, lock_timeout=lock_timeout).locked if mine else None
    warn_if_quarantined(path)
    try:
        try:
            scan = scan_journal(path, project, key, table=table, lock=lock, use_cache=own, corrupt=corrupt,
                                    chunk=chunk_bytes)
        except _SetAside:
            scan = scan_journal(path, project, key, table=table, lock=lock, use_cache=own, corrupt=corrupt,
                                    chunk=chunk_bytes)
    except FileNotFoundError:
        raise NotFound(f"no case file {path}") from None
    except _ReadAround as exc:
        # A file mocli may not change (a report, another agent's file): read its intact records and
        # say how many it skipped; the file is left exactly as it is.
        return _read_around(path, project, table, exc.detail)
    return list(scan.docs.values())


class _ReadAround(Exception):
    """A journal mocli must not change is damaged: read around the damage instead."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _read_around(path: Path, project: Callable[[dict[str, Any]], Any], table: str, detail: str) -> list[Any]:
    """`project(document)` for every intact live document of a damaged journal, read without changing
    it; a journal that is not a case store at all is a StoreCorrupt (left untouched)."""
    import sys

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StoreError(f"cannot read the case store {path}: {exc.strerror}") from None
    if not data.startswith(HEADER):
        raise corrupt_error(path, detail, None, "reports never change case files")
    good, bad = split_damaged(data)
    docs = live_documents(good, table)
    sys.stderr.write(f"mocli: warning: {path}: {len(bad)} damaged record(s) skipped ({detail}); the file "
                     f"was left untouched; `mocli store check --db {path}` lists them\n")
    return [project(d) for d in docs.values()]


class _SetAside(Exception):
    """Damaged lines of a journal were just set aside: read it again."""


def _same_file(path: Path, ino: int) -> bool:
    try:
        return os.stat(path).st_ino == ino
    except OSError:
        return False
