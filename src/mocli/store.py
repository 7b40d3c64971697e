"""The durable case store: TinyDB's API over an append-only journal file.

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

Speed at 50,000 cases (benchmarks/report_scale.py): reads hold the lock only while the bytes are
read, and parse outside it (the journal is append-only and compaction renames, so the bytes read are a
consistent snapshot); parsing runs with the cyclic garbage collector paused (it otherwise rescans
the millions of new objects a big journal makes, several times the cost of the parse itself);
`CaseStore.update` appends one record instead of going through TinyDB's whole-table rewrite.
"""

from __future__ import annotations

import gc
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
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
# Superseded records tolerated beyond twice the live ones before a compaction rewrites the journal.
COMPACT_SLACK = 1000
_RECORD_START = b'{"t":'  # every record line begins so (orjson keeps the key order t, i, n, d)


def _torn_tail_ok(tail: bytes) -> bool:
    """True if `tail` (bytes after the last newline) can be an append a crash cut short: the start of a
    record, possibly followed by the zeros a power loss can leave. Anything else is trailing garbage."""
    t = tail.rstrip(b"\x00")
    return not t or t.startswith(_RECORD_START) or _RECORD_START.startswith(t)


def _aside_name(path: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    return path.with_name(f"{path.name}.corrupt-{stamp}")


def move_aside(path: Path, ino: int | None) -> tuple[Path | None, str]:
    """Move a corrupt case file out of the way and keep it (call with the store's lock held).

    Returns (where it went, "") or (None, why not). Never overwrites anything: the kept copy gets a
    fresh name (a hard link, then the old name is unlinked), and a file that is no longer the one found
    corrupt (another process already moved it) is left alone.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None, "another mocli process already moved it aside"
    except OSError as exc:
        return None, f"cannot move it aside: {exc.strerror}"
    if ino is not None and st.st_ino != ino:
        return None, "another mocli process already moved it aside"
    base = _aside_name(path)
    for n in range(1, 1000):
        target = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            os.link(path, target)
        except FileExistsError:
            continue
        except OSError:  # no hard links here (some network or FAT file systems): rename, never clobbering
            if target.exists():
                continue
            try:
                os.rename(path, target)
            except OSError as exc:
                return None, f"cannot move it aside: {exc.strerror}"
            break
        else:
            try:
                os.unlink(path)
            except OSError as exc:
                target.unlink(missing_ok=True)
                return None, f"cannot move it aside: {exc.strerror}"
            break
    else:
        return None, "cannot move it aside: too many kept copies"
    try:
        _fsync_dir(path.parent)
    except OSError:
        pass
    return target, ""


def corrupt_error(path: Path, detail: str, moved: Path | None, why_not: str) -> StoreCorrupt:
    """The one-line StoreCorrupt: what is wrong, and where the file is now."""
    if moved is not None:
        return StoreCorrupt(f"{path} is corrupt ({detail}); it was moved aside to {moved} and kept unchanged; "
                            "the next command starts a new, empty case file (recover cases from the kept "
                            "copy or a backup)")
    return StoreCorrupt(f"{path} is corrupt ({detail}); the file was left untouched ({why_not})")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(directory: Path) -> None:
    """Create `directory` (0700) or tighten it if group/other can read it."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        mode = stat.S_IMODE(directory.stat().st_mode)
        if mode & 0o077:
            os.chmod(directory, mode & ~0o077)
    except OSError as exc:
        raise StoreError(f"cannot use the data directory {directory}: {exc.strerror or exc}") from None


def tighten_file(path: Path) -> None:
    """Make an existing file 0600 if group/other can read it (a missing file is fine)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            os.chmod(path, FILE_MODE)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StoreError(f"cannot make {path} private (0600): {exc.strerror or exc}") from None


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
        _unlink_quietly(tmp)
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}; the old file is unchanged") from None
    except BaseException:  # Ctrl-C: the old file stays, the temporary one goes
        _unlink_quietly(tmp)
        raise


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


_DOC_KEY = b',"d":'


def _doc_bytes(line: bytes, doc: Any) -> bytes:
    """orjson.dumps(doc), taken from the record line that orjson wrote (record keys t, i, n, d: the
    document is the rest of the line); only used to spot changed documents, so a line written some
    other way costs at most one needless rewrite of that document."""
    start = line.find(_DOC_KEY)
    if start < 0 or not line.endswith(b"}"):
        return orjson.dumps(doc)
    return line[start + len(_DOC_KEY):-1]


class _Corrupt(Exception):
    """Raised inside parsing; turned into StoreCorrupt (with the file moved aside, or not) by the caller."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class JournalStorage(Storage):
    """A TinyDB storage that appends changes to a journal (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str], lock_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self._lock = FileLock(str(self.path) + ".lock", timeout=lock_timeout, mode=FILE_MODE)
        self._raw: dict[str, dict[str, bytes]] = {}  # table -> doc id -> document bytes as read
        self._next: dict[str, int] = {}
        self._records = 0
        self._live = 0
        self._read_ino: int | None = None  # inode of the bytes last read (to move that very file aside)
        ensure_private_dir(self.path.parent)
        tighten_file(self.path)
        tighten_file(Path(str(self.path) + ".lock"))

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

    def _corrupt(self, detail: str) -> StoreCorrupt:
        """Move the file just read aside (it is this agent's store) and say where it went."""
        with self.locked():
            moved, why_not = move_aside(self.path, self._read_ino)
        return corrupt_error(self.path, detail, moved, why_not)

    def _parse(self, data: bytes, keep: bool = True) -> dict[str, dict[str, Any]]:
        """The live documents by table; with `keep`, also remember them to diff the next write."""
        paused = gc.isenabled()
        gc.disable()  # see the module docstring: the collector would dominate the cost of a big parse
        try:
            return self._parse_lines(data, keep)
        except _Corrupt as exc:
            detail = exc.detail
        finally:
            if paused:
                gc.enable()
        raise self._corrupt(detail)

    def _parse_lines(self, data: bytes, keep: bool) -> dict[str, dict[str, Any]]:
        if not data.startswith(HEADER):
            raise _Corrupt("not a mocli case store: bad or missing header")
        lines = data.split(b"\n")
        # The last element is b"" when the file ends with a newline; otherwise it is an append that
        # a crash cut short: never acknowledged, so it is ignored (and cut off before the next write).
        if not _torn_tail_ok(lines[-1]):
            raise _Corrupt(f"line {len(lines)}: trailing garbage")
        body = lines[1:-1]
        tables: dict[str, dict[str, Any]] = {}
        raw: dict[str, dict[str, bytes]] = {}
        nxt: dict[str, int] = {}
        for number, line in enumerate(body, start=2):
            try:
                rec = orjson.loads(line)
                table, doc_id, next_id = rec["t"], rec["i"], rec["n"]
                if not (isinstance(table, str) and type(doc_id) is int and type(next_id) is int):
                    raise TypeError
                doc_id = str(doc_id)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                raise _Corrupt(f"line {number} is not a valid case record") from None
            docs = tables.setdefault(table, {})
            if rec.get("x"):
                docs.pop(doc_id, None)
                raw.get(table, {}).pop(doc_id, None)
            else:
                doc = rec.get("d")
                if not isinstance(doc, dict):
                    raise _Corrupt(f"line {number} holds no document")
                docs[doc_id] = doc
                if keep:
                    raw.setdefault(table, {})[doc_id] = _doc_bytes(line, doc)
            nxt[table] = max(nxt.get(table, 1), next_id)
        if keep:
            self._raw = raw
        self._next, self._records = nxt, len(body)
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

    def replace_fast(self, table: str, doc_id: int, doc: dict[str, Any]) -> None:
        """Append a new version of one document. Call with the lock held, after `read_docs`.

        Compacts instead, as `write` does, when superseded records would outnumber live ones.
        """
        next_id = self._next.get(table, doc_id + 1)
        line = self._record(table, str(doc_id), max(next_id, doc_id + 1), doc)
        live = self._live
        if self._records + 1 > 2 * live + COMPACT_SLACK:
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
            elif os.pread(fd, 1, size - 1) != b"\n" and not self._cut_torn_tail(fd, size):
                detail = "trailing garbage after the last record"
            if detail is None:
                self._write_all(fd, b"".join(records))
        finally:
            os.close(fd)
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

    @staticmethod
    def _cut_torn_tail(fd: int, size: int) -> bool:
        """Cut off an append a crash left unfinished; False (nothing cut) if the tail is not one."""
        chunk = 1 << 16
        pos = size
        while pos > 0:
            start = max(0, pos - chunk)
            block = os.pread(fd, pos - start, start)
            idx = block.rfind(b"\n")
            if idx >= 0:
                cut = start + idx + 1
                if not _torn_tail_ok(os.pread(fd, size - cut, cut)):
                    return False
                os.ftruncate(fd, cut)
                return True
            pos = start
        return False  # no newline at all: not even a header

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
            if self._records + len(lines) > 2 * live + COMPACT_SLACK:
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
        """Every case, in the order they were added (plain dicts; no TinyDB documents built)."""
        return list(self.storage.read_docs(CASES).values())

    def _find(self, ref: str) -> tuple[int, dict[str, Any]]:
        ref = ref.strip().upper()
        if not ref:
            raise NotFound("no case id given")
        docs = self.storage.read_docs(CASES)
        exact = [(i, d) for i, d in docs.items() if str(d.get("id", "")).upper() == ref]
        if exact:
            return exact[0]
        matches = [(i, d) for i, d in docs.items() if str(d.get("id", "")).upper().endswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            ids = ", ".join(d["id"] for _, d in matches[:5])
            raise NotFound(f"case {ref!r} is ambiguous: {ids}")
        raise NotFound(f"no case {ref!r} in {self.path}")

    def _find_doc(self, ref: str) -> Document:
        doc_id, doc = self._find(ref)
        return Document(doc, doc_id=doc_id)

    def find(self, ref: str) -> dict[str, Any]:
        """A case by id, or by a unique id suffix (what agents type)."""
        return self._find(ref)[1]

    def update(self, ref: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """Apply `change` to one case under the lock and return the stored result.

        The lock is held from the read to the append, so two agents cannot both change one case
        from the same old version; only the changed case is written (one appended record).
        """
        with self.storage.locked():
            doc_id, doc = self._find(ref)
            updated = change(dict(doc))
            self.storage.replace_fast(CASES, doc_id, updated)
            return updated


# ---------------------------------------------------------------- read-only projections (reports)

_ANCHOR = 4096  # bytes before the cached offset that must still be there for the cache to be trusted
_CACHE_REFRESH = 500  # records read past the cache before it is rewritten


def _cache_path(path: Path, key: str) -> Path:
    return path.with_name(f".{path.name}.{key}.cache")


def _pread_all(fd: int, start: int, end: int) -> bytes:
    chunks, pos = [], start
    while pos < end:
        block = os.pread(fd, min(end - pos, 1 << 24), pos)
        if not block:
            break
        chunks.append(block)
        pos += len(block)
    return b"".join(chunks)


def _load_cache(cache: Path, key: str, st: os.stat_result) -> tuple[int, str, dict[int, Any]] | None:
    """The cached (offset, anchor digest, projections) if it belongs to this journal file, else None."""
    paused = gc.isenabled()
    gc.disable()  # see the module docstring
    try:
        data = orjson.loads(cache.read_bytes())
        if (data.get("key") != key or data.get("ino") != st.st_ino or data.get("dev") != st.st_dev
                or not isinstance(data.get("offset"), int) or not len(HEADER) <= data["offset"] <= st.st_size):
            return None
        return data["offset"], str(data["anchor"]), {int(i): p for i, p in data["docs"]}
    except (OSError, orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        return None  # no cache, or an unusable one: read the whole journal
    finally:
        if paused:
            gc.enable()


def _anchor(fd: int, offset: int) -> str:
    import hashlib

    start = max(0, offset - _ANCHOR)
    return hashlib.blake2b(os.pread(fd, offset - start, start), digest_size=16).hexdigest()


def read_projection(path: str | os.PathLike[str], project: Callable[[dict[str, Any]], Any], key: str, *,
                    table: str = CASES, lock_timeout: float = 10.0, move_corrupt: bool = True) -> list[Any]:
    """`project(document)` for every live document of `table`, in insertion order; read-only.

    For reports over big stores and over other agents' files. It never creates, rewrites or chmods a
    journal. The projections are cached beside a journal this user owns (``.NAME.KEY.cache``, 0600),
    valid for the journal's first N bytes: the journal only grows by whole records until a compaction
    renames a new file over it (another inode), so a cache whose file identity and last 4 KB still
    match holds, and only the records appended since are parsed. Any doubt: the whole file is read.

    A corrupt journal is a StoreCorrupt; with `move_corrupt` (the agent's own store, e.g. new-case's
    claim check) a file this user owns is also moved aside and kept; reports pass False and only read.
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise NotFound(f"no case file {path}") from None
    except OSError as exc:
        raise StoreError(f"cannot read the case store {path}: {exc.strerror}") from None
    own = st.st_uid == os.getuid() if hasattr(os, "getuid") else True
    cache = _cache_path(path, key)
    if own:
        try:  # a cache holds personal data too: 0600 even if something loosened it
            tighten_file(cache)
        except StoreError:
            pass
    cached = _load_cache(cache, key, st) if own else None

    def snapshot() -> tuple[os.stat_result, bytes, int, dict[int, Any] | None, str]:
        """(stat, bytes from offset, offset, cached projections or None, anchor of the last record)."""
        fd = os.open(path, os.O_RDONLY)
        try:
            now_st = os.fstat(fd)
            if cached and now_st.st_ino == st.st_ino and _anchor(fd, cached[0]) == cached[1]:
                offset, docs = cached[0], cached[2]
            else:
                offset, docs = 0, None
            data = _pread_all(fd, offset, now_st.st_size)
            whole = offset + data.rfind(b"\n") + 1  # past the last whole record
            return now_st, data, offset, docs, _anchor(fd, whole) if whole > offset else ""
        finally:
            os.close(fd)

    try:
        if own:
            # Our own file: read under the lock (held only while reading bytes, never while parsing).
            with JournalStorage(path, lock_timeout=lock_timeout).locked():
                st, data, offset, docs, anchor = snapshot()
        else:
            # Another agent's file: we may not create its lock file. A journal read without the lock is
            # still a consistent snapshot: whole records appended, compactions renamed in.
            st, data, offset, docs, anchor = snapshot()
    except OSError as exc:
        raise StoreError(f"cannot read the case store {path}: {exc.strerror}") from None

    def corrupt(detail: str) -> StoreCorrupt:
        if not (own and move_corrupt):
            why = "reports never change case files" if own else "it belongs to another user"
            return corrupt_error(path, detail, None, why)
        with JournalStorage(path, lock_timeout=lock_timeout).locked():
            moved, why_not = move_aside(path, st.st_ino)
        return corrupt_error(path, detail, moved, why_not)

    if offset == 0:
        if not data.startswith(HEADER):
            raise corrupt("not a mocli case store: bad or missing header")
        body, first_line = data[len(HEADER):], 2
        docs = {}
    else:
        body, first_line = data, None
    assert docs is not None
    end = body.rfind(b"\n") + 1  # past the last whole record; a torn tail was never acknowledged
    if not _torn_tail_ok(body[end:]):
        raise corrupt("trailing garbage after the last record")
    lines = body[:end].split(b"\n")[:-1] if end else []
    bad: str | None = None
    paused = gc.isenabled()
    gc.disable()  # see the module docstring
    try:
        for number, line in enumerate(lines):
            try:
                rec = orjson.loads(line)
                t, doc_id = rec["t"], rec["i"]
                if not (isinstance(t, str) and type(doc_id) is int and type(rec["n"]) is int):
                    raise TypeError
                if rec.get("x"):
                    doc = None
                else:
                    doc = rec["d"]
                    if not isinstance(doc, dict):
                        raise TypeError
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                where = f"line {first_line + number}" if first_line else "a record"
                bad = f"{where} is not a valid case record"
                break
            if t != table:
                continue
            if doc is None:
                docs.pop(doc_id, None)
            else:
                docs[doc_id] = project(doc)
    finally:
        if paused:
            gc.enable()
    if bad is not None:
        raise corrupt(bad)
    new_offset = offset + (len(HEADER) if offset == 0 else 0) + end
    if own and anchor and (offset == 0 or len(lines) > _CACHE_REFRESH):
        _save_cache(cache, {"key": key, "ino": st.st_ino, "dev": st.st_dev, "offset": new_offset,
                            "anchor": anchor, "docs": [[i, p] for i, p in docs.items()]})
    return list(docs.values())


def _save_cache(cache: Path, content: dict[str, Any]) -> None:
    """Write the projection cache; a cache that cannot be written is only a slower next report."""
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    try:
        view = memoryview(orjson.dumps(content))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, cache)  # no fsync: a cache lost in a crash is rebuilt, a torn one is refused
    except (OSError, TypeError):
        tmp.unlink(missing_ok=True)
