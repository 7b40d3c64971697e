"""The journal storage: TinyDB's API over an append-only journal file.

Why not TinyDB's default JSONStorage: it rewrites the whole file in place on every change, so a
process killed mid-write corrupts it, two processes at once corrupt it, and adding one case costs a
full rewrite (about 1.25 s at 50,000 cases). Here:

* the file is a journal of JSON lines: a header, then one record per inserted, updated or removed
  document: ``{"t": table, "i": doc_id, "n": next_id, "d": document}`` (``"x": 1`` marks a removal);
* every change appends its records and fsyncs before it returns, so an acknowledged case is on disk;
* an append cut short by a crash leaves a last line with no newline: it is ignored on reading (it was
  never acknowledged) and cut off before the next append; any other unreadable line (or a last line
  that is not the start of a record: trailing garbage) is corruption: the file is moved aside to
  ``NAME.corrupt-YYYYmmddTHHMMSS`` and kept, never replaced or deleted, the error names where it went,
  and the next command starts a new, empty file (reports and other agents' files are only read: a
  corrupt one is reported and left in place);
* an append or a compaction that fails (disk full, read-only file system) or is interrupted (Ctrl-C)
  leaves the old file as it was: a partial append is cut off, a temporary file is removed;
* every read-modify-write holds an inter-process lock (filelock); a lock not had within the timeout
  is a clear "busy" error;
* an insert appends without reading the file (the next id is in the last record), so adding a case
  stays fast however many cases exist; when superseded records outnumber live ones the journal is
  compacted: written whole to a temporary file, fsynced, and renamed over the old one;
* the file is 0600 and its directory 0700, and looser modes are tightened on open.

How fast reads and updates stay at 50,000 cases is in store/local.py's docstring; when a change
compacts is CaseStore's `compact_slack`.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson  # noqa: TID253 (the store's modules are imported only inside commands)
from tinydb.storages import Storage  # noqa: TID253

from mocli.errors import StoreBusy, StoreCorrupt, StoreError
from mocli.store.files import (
    FILE_MODE,
    _unlink_quietly,
    atomic_write,
    corrupt_error,
    ensure_private_dir,
    is_data_dir,
    move_aside,
    tighten_file,
)
from mocli.store.records import (
    HEADER,
    _Corrupt,
    cut_torn_tail,
    parse_journal,
    split_damaged,
    tail_next_id,
    warn_if_quarantined,
    write_quarantine,
)

if TYPE_CHECKING:
    from mocli.store.scans import Scan

# Superseded records tolerated beyond twice the live ones before a compaction rewrites the journal (the
# default of CaseStore's `compact_slack`).
COMPACT_SLACK = 1000


class JournalStorage(Storage):
    """A TinyDB storage that appends changes to a journal (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str], lock_timeout: float = 10.0,
                 compact_slack: int = COMPACT_SLACK) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.compact_slack = compact_slack
        self._lock: Any = None  # a FileLock, made at the first `locked()`: reading no file needs none
        self._raw: dict[str, dict[str, bytes]] = {}  # table -> doc id -> document bytes as read
        self._next: dict[str, int] = {}
        self._records = 0
        self._live = 0
        self._read_ino: int | None = None  # inode of the bytes last read (to move that very file aside)
        # Only mocli's own data directory (and what is in it) is tightened if found looser: a folder or
        # a file the agent named with --db keeps the modes its owner gave it.
        home = is_data_dir(self.path.parent)
        ensure_private_dir(self.path.parent, tighten=home)
        if home:
            tighten_file(self.path)
            tighten_file(Path(str(self.path) + ".lock"))

    # -- locking
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the inter-process lock (re-entrant within this process)."""
        # Imported here: `mocli cases` on a store with no file yet never locks, and the lock library
        # was ~60 M instructions of its start-up (benchmarks/startup.py).
        from filelock import FileLock, Timeout  # noqa: TID253

        if self._lock is None:
            self._lock = FileLock(str(self.path) + ".lock", timeout=self.lock_timeout, mode=FILE_MODE)
        try:
            self._lock.acquire()
        except Timeout:
            raise StoreBusy(
                f"the case store is busy: another mocli process has held {self.path} for over "
                f"{self.lock_timeout:g} s; try again, or raise MOCLI_LOCK_TIMEOUT") from None
        except OSError as exc:  # e.g. a read-only file system: not "busy", and not a hang
            raise StoreError(f"cannot lock the case store {self.path}: {exc.strerror or exc}") from None
        try:
            yield
        finally:
            self._lock.release()

    # -- reading
    def _read_bytes(self) -> bytes | None:
        try:
            with self.path.open("rb") as fh:
                self._read_ino = os.fstat(fh.fileno()).st_ino
                return fh.read()
        except FileNotFoundError:
            self._read_ino = None
            return None
        except OSError as exc:
            raise StoreError(f"cannot read the case store {self.path}: {exc.strerror}") from None

    def set_aside_damaged(self) -> int | None:
        """Move damaged record lines into a quarantine file and rewrite the journal with the intact
        ones; how many were set aside, or None if the file is not a case store at all (bad header).
        Holds the lock."""
        with self.locked():
            data = self._read_bytes()
            if data is None or not data.startswith(HEADER):
                return None
            good, bad = split_damaged(data)
            if bad:
                write_quarantine(self.path, bad)
                atomic_write(self.path, good)
                self._raw, self._next, self._records = {}, {}, 0
            warn_if_quarantined(self.path)
            return len(bad)

    def _corrupt(self, detail: str) -> StoreCorrupt:
        """Move the file just read aside (it is this agent's store) and say where it went."""
        with self.locked():
            moved, why_not = move_aside(self.path, self._read_ino)
        return corrupt_error(self.path, detail, moved, why_not)

    def _parse(self, data: bytes, keep: bool = True) -> dict[str, dict[str, Any]]:
        """The live documents by table; with `keep`, also remember them to diff the next write."""
        paused = gc.isenabled()
        gc.disable()  # see store/local.py's docstring: the collector would dominate the cost of a big parse
        try:
            return self._parse_lines(data, keep)
        except _Corrupt as exc:
            detail = exc.detail
        finally:
            if paused:
                gc.enable()
        if self.set_aside_damaged():  # damaged lines only: read the intact rest
            data = self._read_bytes() or HEADER
            try:
                return self._parse_lines(data, keep)
            except _Corrupt as exc:
                detail = exc.detail
        raise self._corrupt(detail)

    def _parse_lines(self, data: bytes, keep: bool) -> dict[str, dict[str, Any]]:
        tables, raw, self._next, self._records = parse_journal(data, keep)
        if keep:
            self._raw = raw
        self._live = sum(len(d) for d in tables.values())
        return tables

    def read(self) -> dict[str, dict[str, Any]] | None:
        with self.locked():
            data = self._read_bytes()
            if data is None:
                self._raw, self._next, self._records = {}, {}, 0
                return None
            return self._parse(data)

    def read_docs(self, table: str) -> dict[int, dict[str, Any]]:
        """The live documents of `table` by id, as plain dicts: the fast path for listings and reports.

        The lock is held only while the bytes are read; parsing happens outside it, so a report over a
        big store does not keep agents from adding cases.
        """
        with self.locked():
            data = self._read_bytes()
        if data is None:
            return {}
        docs = self._parse(data, keep=False).get(table, {})
        return {int(i): d for i, d in docs.items()}

    def take_counts(self, table: str, scan: Scan) -> bool:
        """Take what `replace_fast` needs (the next id, the record and live counts) from a scan of
        `table` instead of a full read. False, taking nothing, when the next change may compact the
        journal: a compaction writes every table's documents, so the caller reads the whole journal."""
        live = len(scan.docs) if scan.live is None else scan.live
        if scan.records + 1 > 2 * live + self.compact_slack:  # other tables' documents only add to the live
            return False                                 # count: no false "no"
        self._next, self._records, self._live = {table: scan.next_id}, scan.records, live
        return True

    def replace_fast(self, table: str, doc_id: int, doc: dict[str, Any]) -> None:
        """Append a new version of one document. Call with the lock held, after `read_docs` (or
        `take_counts`).

        Compacts instead, as `write` does, when superseded records would outnumber live ones.
        """
        next_id = self._next.get(table, doc_id + 1)
        line = self._record(table, str(doc_id), max(next_id, doc_id + 1), doc)
        live = self._live
        if self._records + 1 > 2 * live + self.compact_slack:
            data = self._read_bytes() or HEADER
            tables = self._parse(data, keep=False)
            tables.setdefault(table, {})[str(doc_id)] = doc
            self._compact(tables, dict(self._next))
        else:
            self._append([line])
            self._records += 1

    # -- writing
    def _create(self) -> None:
        if not self.path.exists():
            atomic_write(self.path, HEADER)

    def _remove_stale_temporaries(self) -> None:
        """Temporary files of compactions killed mid-way (SIGKILL, power loss); call with the lock held,
        when no other compaction of this file can be running."""
        for tmp in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            _unlink_quietly(tmp)

    def _append(self, records: list[bytes]) -> None:
        """Append whole lines and fsync; first cut off any torn tail a crash left behind."""
        self._create()
        try:
            fd = os.open(self.path, os.O_RDWR)
        except OSError as exc:
            raise StoreError(f"cannot open the case store {self.path}: {exc.strerror}") from None
        detail = None
        try:
            self._read_ino = os.fstat(fd).st_ino
            size = os.lseek(fd, 0, os.SEEK_END)
            if os.pread(fd, len(HEADER), 0) != HEADER:
                detail = "not a mocli case store: bad or missing header"
            elif os.pread(fd, 1, size - 1) != b"\n" and not cut_torn_tail(self.path, fd, size):
                detail = "trailing garbage after the last record"
            if detail is None:
                self._write_all(fd, b"".join(records))
        finally:
            os.close(fd)
        if detail is not None and detail.startswith("trailing") and self.set_aside_damaged():
            return self._append(records)  # the garbage is set aside: append after the intact records
        if detail is not None:
            raise self._corrupt(detail)

    def _write_all(self, fd: int, payload: bytes) -> None:
        end = os.lseek(fd, 0, os.SEEK_END)
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except BaseException as exc:
            # Disk full, or Ctrl-C between two writes: cut the partial record off, so the file is as it
            # was (the change was never acknowledged).
            try:
                os.ftruncate(fd, end)
            except OSError:
                pass
            if isinstance(exc, OSError):
                raise StoreError(f"cannot write the case store {self.path}: {exc.strerror or exc}; nothing "
                                 "was saved and the file is as it was") from None
            raise

    def _record(self, table: str, doc_id: str, next_id: int, doc: Any = None,
                removed: bool = False) -> bytes:
        rec: dict[str, Any] = {"t": table, "i": int(doc_id), "n": next_id}
        if removed:
            rec["x"] = 1
        else:
            rec["d"] = doc
        try:
            return orjson.dumps(rec) + b"\n"
        except TypeError as exc:
            raise StoreError(f"cannot store a document that is not JSON: {exc}") from None

    def write(self, data: Mapping[str, Mapping[str, Any]]) -> None:
        """Append a record for every document that differs from what was last read."""
        with self.locked():
            next_ids = dict(self._next)
            records: list[bytes] = []
            for table, docs in data.items():
                old = self._raw.get(table, {})
                for doc_id, doc in docs.items():
                    blob = orjson.dumps(doc)
                    if old.get(doc_id) != blob:
                        next_ids[table] = max(next_ids.get(table, 1), int(doc_id) + 1)
                        records.append((table, doc_id, doc))  # type: ignore[arg-type]
                for doc_id in old.keys() - docs.keys():
                    records.append((table, doc_id, None))  # type: ignore[arg-type]
            lines = [self._record(t, i, next_ids.get(t, 1), d, removed=d is None)
                     for t, i, d in records]  # type: ignore[misc]
            if not lines:
                return
            live = sum(len(d) for d in data.values())
            if self._records + len(lines) > 2 * live + self.compact_slack:
                self._compact(data, next_ids)
            else:
                self._append(lines)
                self._records += len(lines)
            self._next = next_ids
            self._raw = {t: {i: orjson.dumps(d) for i, d in docs.items()} for t, docs in data.items()}

    def _compact(self, data: Mapping[str, Mapping[str, Any]], next_ids: dict[str, int]) -> None:
        self._remove_stale_temporaries()
        body = [HEADER]
        for table, docs in data.items():
            for doc_id, doc in docs.items():
                body.append(self._record(table, doc_id, next_ids.get(table, 1), doc))
        atomic_write(self.path, b"".join(body))
        self._records = len(body) - 1

    def insert_fast(self, table: str, docs: list[dict[str, Any]]) -> list[int]:
        """Append new documents without reading the journal: O(1) in the number of stored cases."""
        with self.locked():
            first = tail_next_id(self.path, table)
            ids = list(range(first, first + len(docs)))
            lines = [self._record(table, str(i), first + len(docs), d)
                     for i, d in zip(ids, docs, strict=True)]
            self._append(lines)
            return ids

    def close(self) -> None:
        pass
