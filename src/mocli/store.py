"""The durable case store: TinyDB's API over an append-only journal file.

Why not TinyDB's default JSONStorage: it rewrites the whole file in place on every change, so a
process killed mid-write corrupts it, two processes at once corrupt it, and adding one case costs a
full rewrite (about 1.25 s at 50,000 cases). Here:

* the file is a journal of JSON lines: a header, then one record per inserted, updated or removed
  document: ``{"t": table, "i": doc_id, "n": next_id, "d": document}`` (``"x": 1`` marks a removal);
* every change appends its records and fsyncs before it returns, so an acknowledged case is on disk;
* an append cut short by a crash leaves a last line with no newline: it is ignored on reading (it was
  never acknowledged) and cut off before the next append; any other unreadable line is corruption,
  reported with its line number, and the file is never replaced;
* every read-modify-write holds an inter-process lock (filelock); a lock not had within the timeout
  is a clear "busy" error;
* an insert appends without reading the file (the next id is in the last record), so adding a case
  stays fast however many cases exist; when superseded records outnumber live ones the journal is
  compacted: written whole to a temporary file, fsynced, and renamed over the old one;
* the file is 0600 and its directory 0700, and looser modes are tightened on open.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson  # noqa: TID253 (store.py is imported only inside commands)
from filelock import FileLock, Timeout  # noqa: TID253
from tinydb import TinyDB  # noqa: TID253
from tinydb.storages import Storage  # noqa: TID253
from tinydb.table import Document, Table  # noqa: TID253

from mocli.errors import NotFound, StoreBusy, StoreCorrupt, StoreError

HEADER = b'{"mocli_store":1}\n'
CASES = "cases"
FILE_MODE = 0o600
DIR_MODE = 0o700


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(directory: Path) -> None:
    """Create `directory` (0700) or tighten it if group/other can read it."""
    directory.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    mode = stat.S_IMODE(directory.stat().st_mode)
    if mode & 0o077:
        os.chmod(directory, mode & ~0o077)


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` all-or-nothing: temporary file, fsync, rename, fsync the directory."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class JournalStorage(Storage):
    """A TinyDB storage that appends changes to a journal (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str], lock_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._lock = FileLock(str(self.path) + ".lock", timeout=lock_timeout, mode=FILE_MODE)
        self._raw: dict[str, dict[str, bytes]] = {}  # table -> doc id -> document bytes as read
        self._next: dict[str, int] = {}
        self._records = 0
        ensure_private_dir(self.path.parent)
        if self.path.exists():
            mode = stat.S_IMODE(self.path.stat().st_mode)
            if mode & 0o077:
                os.chmod(self.path, FILE_MODE)

    # -- locking
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the inter-process lock (re-entrant within this process)."""
        try:
            self._lock.acquire()
        except Timeout:
            raise StoreBusy(
                f"the case store is busy: another mocli process has held {self.path} for over "
                f"{self.lock_timeout:g} s; try again, or raise MOCLI_LOCK_TIMEOUT") from None
        try:
            yield
        finally:
            self._lock.release()

    # -- reading
    def _read_bytes(self) -> bytes | None:
        try:
            with self.path.open("rb") as fh:
                return fh.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"cannot read the case store {self.path}: {exc.strerror}") from None

    def _parse(self, data: bytes) -> dict[str, dict[str, Any]]:
        if not data.startswith(HEADER):
            raise StoreCorrupt(
                f"{self.path} is not a mocli case store (bad or missing header); it was left untouched")
        lines = data.split(b"\n")
        # The last element is b"" when the file ends with a newline; otherwise it is an append that
        # a crash cut short: never acknowledged, so it is ignored (and cut off before the next write).
        body = lines[1:-1]
        tables: dict[str, dict[str, Any]] = {}
        raw: dict[str, dict[str, bytes]] = {}
        nxt: dict[str, int] = {}
        for number, line in enumerate(body, start=2):
            try:
                rec = orjson.loads(line)
                table, doc_id, next_id = rec["t"], str(rec["i"]), int(rec["n"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                raise StoreCorrupt(
                    f"{self.path}: line {number} is not a valid case record; the file was left "
                    "untouched (restore a backup or move it aside to start afresh)") from None
            docs = tables.setdefault(table, {})
            if rec.get("x"):
                docs.pop(doc_id, None)
                raw.get(table, {}).pop(doc_id, None)
            else:
                doc = rec.get("d")
                if not isinstance(doc, dict):
                    raise StoreCorrupt(f"{self.path}: line {number} holds no document; file left untouched")
                docs[doc_id] = doc
                raw.setdefault(table, {})[doc_id] = orjson.dumps(doc)
            nxt[table] = max(nxt.get(table, 1), next_id)
        self._raw, self._next, self._records = raw, nxt, len(body)
        return tables

    def read(self) -> dict[str, dict[str, Any]] | None:
        with self.locked():
            data = self._read_bytes()
            if data is None:
                self._raw, self._next, self._records = {}, {}, 0
                return None
            return self._parse(data)

    # -- writing
    def _create(self) -> None:
        if not self.path.exists():
            atomic_write(self.path, HEADER)

    def _append(self, records: list[bytes]) -> None:
        """Append whole lines and fsync; first cut off any torn tail a crash left behind."""
        self._create()
        try:
            fd = os.open(self.path, os.O_RDWR)
        except OSError as exc:
            raise StoreError(f"cannot open the case store {self.path}: {exc.strerror}") from None
        try:
            size = os.lseek(fd, 0, os.SEEK_END)
            if size and os.pread(fd, 1, size - 1) != b"\n":
                self._cut_torn_tail(fd, size)
            end = os.lseek(fd, 0, os.SEEK_END)
            payload = b"".join(records)
            try:
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError as exc:
                os.ftruncate(fd, end)  # leave no partial record behind (e.g. disk full)
                raise StoreError(f"cannot write the case store {self.path}: {exc.strerror}") from None
        finally:
            os.close(fd)

    @staticmethod
    def _cut_torn_tail(fd: int, size: int) -> None:
        chunk = 1 << 16
        pos = size
        while pos > 0:
            start = max(0, pos - chunk)
            block = os.pread(fd, pos - start, start)
            idx = block.rfind(b"\n")
            if idx >= 0:
                os.ftruncate(fd, start + idx + 1)
                return
            pos = start
        os.ftruncate(fd, 0)

    def _tail_next_id(self, table: str) -> int:
        """The next free id of `table`, from its last record (reads the file backwards, not whole)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return 1
        try:
            pos = os.lseek(fd, 0, os.SEEK_END)
            carry = b""
            while pos > 0:
                start = max(0, pos - (1 << 16))
                block = os.pread(fd, pos - start, start) + carry
                pos = start
                lines = block.split(b"\n")
                carry = lines[0] if pos > 0 else b""
                for line in reversed(lines[1:] if pos > 0 else lines):
                    if not line or line == HEADER.rstrip(b"\n"):
                        continue
                    try:
                        rec = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        continue  # a torn tail; an unreadable line elsewhere shows up on full reads
                    if isinstance(rec, dict) and rec.get("t") == table and isinstance(rec.get("n"), int):
                        return rec["n"]
            return 1
        finally:
            os.close(fd)

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
            if self._records + len(lines) > 2 * live + 1000:
                self._compact(data, next_ids)
            else:
                self._append(lines)
                self._records += len(lines)
            self._next = next_ids
            self._raw = {t: {i: orjson.dumps(d) for i, d in docs.items()} for t, docs in data.items()}

    def _compact(self, data: Mapping[str, Mapping[str, Any]], next_ids: dict[str, int]) -> None:
        body = [HEADER]
        for table, docs in data.items():
            for doc_id, doc in docs.items():
                body.append(self._record(table, doc_id, next_ids.get(table, 1), doc))
        atomic_write(self.path, b"".join(body))
        self._records = len(body) - 1

    def insert_fast(self, table: str, docs: list[dict[str, Any]]) -> list[int]:
        """Append new documents without reading the journal: O(1) in the number of stored cases."""
        with self.locked():
            first = self._tail_next_id(table)
            ids = list(range(first, first + len(docs)))
            lines = [self._record(table, str(i), first + len(docs), d)
                     for i, d in zip(ids, docs, strict=True)]
            self._append(lines)
            return ids

    def close(self) -> None:
        pass


class JournalTable(Table):
    """A TinyDB table whose inserts append without a full read, and whose read-modify-writes
    hold the store's lock from the read to the write."""

    _storage: JournalStorage

    def insert(self, document: Mapping) -> int:
        if isinstance(document, Document):
            return super().insert(document)
        (doc_id,) = self._storage.insert_fast(self.name, [dict(document)])
        self._next_id = None
        self.clear_cache()
        return doc_id

    def insert_multiple(self, documents) -> list[int]:
        docs = [dict(d) for d in documents]
        ids = self._storage.insert_fast(self.name, docs)
        self._next_id = None
        self.clear_cache()
        return ids

    def _update_table(self, updater: Callable[[dict[int, Mapping]], None]) -> None:
        with self._storage.locked():
            super()._update_table(updater)


class CaseDB(TinyDB):
    table_class = JournalTable
    default_table_name = CASES


class CaseStore:
    """The cases of one agent's file: add, find, update; never delete."""

    def __init__(self, path: str | os.PathLike[str] | None = None, lock_timeout: float = 10.0) -> None:
        if path is None:
            from mocli.config import data_dir

            path = data_dir() / "cases.db"
        self.path = Path(path)
        self.db = CaseDB(self.path, storage=JournalStorage, lock_timeout=lock_timeout)
        self.storage: JournalStorage = self.db.storage  # type: ignore[assignment]
        self.table = self.db.table(CASES, cache_size=0)

    def add(self, case: dict[str, Any]) -> None:
        """Append a new case; durable on disk when this returns."""
        self.table.insert(case)

    def all(self) -> list[dict[str, Any]]:
        return [dict(d) for d in self.table.all()]

    def _find_doc(self, ref: str) -> Document:
        ref = ref.strip().upper()
        if not ref:
            raise NotFound("no case id given")
        docs = self.table.all()
        exact = [d for d in docs if str(d.get("id", "")).upper() == ref]
        if exact:
            return exact[0]
        matches = [d for d in docs if str(d.get("id", "")).upper().endswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            ids = ", ".join(d["id"] for d in matches[:5])
            raise NotFound(f"case {ref!r} is ambiguous: {ids}")
        raise NotFound(f"no case {ref!r} in {self.path}")

    def find(self, ref: str) -> dict[str, Any]:
        """A case by id, or by a unique id suffix (what agents type)."""
        return dict(self._find_doc(ref))

    def update(self, ref: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """Apply `change` to one case under the lock and return the stored result."""

        with self.storage.locked():
            doc = self._find_doc(ref)
            updated = change(dict(doc))

            def replace(stored: dict[str, Any]) -> None:
                stored.clear()
                stored.update(updated)

            self.table.update(replace, doc_ids=[doc.doc_id])
            return updated
