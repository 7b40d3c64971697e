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
read (a scan: only while it finds where the last whole record ends), and parse outside it (the journal
is append-only and compaction renames, so the bytes read are a consistent snapshot); a scan reads the
journal in chunks from its end back, so it holds a chunk rather than the file, and projects only each
document's latest record; parsing runs with the cyclic garbage collector paused (it otherwise rescans
the millions of new objects a big journal makes, several times the cost of the parse itself);
`CaseStore.update` appends one record instead of going through TinyDB's whole-table rewrite.
`CaseStore.find`/`update` (`mocli case`, `note`, `resolve`) and `mocli cases` do not parse the whole
journal: they read a cached scan (an id index, or the listing's view) kept valid the way the report
cache is, parse only the records appended since, and pread the few whole records they need; anything
unusual means a full read (see "projections and fast look-ups" at the end, which also says what a scan
does not re-check and why that is safe).
"""

from __future__ import annotations

import gc
import os
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson  # noqa: TID253 (store.py is imported only inside commands)
from tinydb import TinyDB  # noqa: TID253
from tinydb.storages import Storage  # noqa: TID253
from tinydb.table import Document, Table  # noqa: TID253

from mocli.errors import AmbiguousCase, NotFound, StoreBusy, StoreCorrupt, StoreError

HEADER = b'{"mocli_store":1}\n'
CASES = "cases"
FILE_MODE = 0o600
DIR_MODE = 0o700
# Superseded records tolerated beyond twice the live ones before a compaction rewrites the journal (the
# default of CaseStore's `compact_slack`).
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


# ---------------------------------------------------------------- damaged records: set aside, one by one
#
# A record line that does not parse (a bad byte, a line cut short in the middle of the file, garbage
# after the last record) costs that record only: it is moved, byte for byte, into a quarantine file
# beside the journal (``cases.db.quarantine-YYYYmmddTHHMMSS``, 0600, never overwritten), the journal
# is rewritten with every intact record, and every command warns while a quarantine file is pending.
# `mocli store check` reports, `mocli store repair` recovers what it can. Only a file whose header is
# not mocli's is moved aside whole (it is not a case store at all).

QUARANTINE = ".quarantine-"
REVIEWED = ".reviewed"


def valid_record(line: bytes) -> bool:
    """True if `line` is a whole journal record, as a full read checks it."""
    try:
        rec = orjson.loads(line)
        ok = (isinstance(rec, dict) and isinstance(rec.get("t"), str) and type(rec.get("i")) is int
              and type(rec.get("n")) is int)
        return ok and (bool(rec.get("x")) or isinstance(rec.get("d"), dict))
    except orjson.JSONDecodeError:
        return False


def split_damaged(data: bytes) -> tuple[bytes, list[bytes]]:
    """(the journal with only its intact records, the damaged lines as they were). `data` must start
    with the header. An incomplete last record is damaged too (a crash while saving, or a file cut
    short); a tail of zeros only (what a power loss leaves) holds nothing and is dropped."""
    lines = data[len(HEADER):].split(b"\n")
    tail = lines.pop()
    good, bad = [HEADER], []
    for line in lines:
        if valid_record(line):
            good.append(line + b"\n")
        else:
            bad.append(line)
    if tail.strip(b"\x00"):
        bad.append(tail)
    return b"".join(good), bad


def quarantine_files(path: Path, pending_only: bool = True) -> list[Path]:
    """The quarantine files of journal `path`, oldest first (pending ones only, by default)."""
    found = sorted(path.parent.glob(f"{glob_escape(path.name)}{QUARANTINE}*"))
    return [p for p in found if not (pending_only and p.name.endswith(REVIEWED))]


def glob_escape(name: str) -> str:
    import glob

    return glob.escape(name)


def quarantined_count(path: Path) -> int:
    """Damaged records waiting in `path`'s pending quarantine files (one per line)."""
    total = 0
    for q in quarantine_files(path):
        try:
            total += q.read_bytes().count(b"\n")
        except OSError:
            pass
    return total


def write_quarantine(path: Path, lines: list[bytes]) -> Path:
    """Keep `lines` (each as it was, one per line) in a new quarantine file beside `path`; never
    overwrites one. Call with the store's lock held."""
    base = path.with_name(f"{path.name}{QUARANTINE}{datetime.now().strftime('%Y%m%dT%H%M%S')}")
    for n in range(1, 1000):
        target = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            continue
        except OSError as exc:
            raise StoreError(f"cannot set damaged records of {path} aside: {exc.strerror}") from None
        try:
            view = memoryview(b"".join(line + b"\n" for line in lines))
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        return target
    raise StoreError(f"cannot set damaged records of {path} aside: too many quarantine files")


_warned: set[tuple[str, int]] = set()


def forget_warnings() -> None:
    """A new command starts: it warns again about what is set aside."""
    _warned.clear()


def warn_if_quarantined(path: Path) -> None:
    """Say on stderr, once per command, that damaged records of `path` are set aside, and how many."""
    count = quarantined_count(path)
    if not count or (str(path), count) in _warned:
        return
    _warned.add((str(path), count))
    import sys

    files = quarantine_files(path)
    sys.stderr.write(f"mocli: warning: {count} damaged record(s) of {path} are set aside in {files[-1]}"
                     f"{f' and {len(files) - 1} older file(s)' if len(files) > 1 else ''}; every intact case is "
                     f"still readable; run `mocli store check` to see them and `mocli store repair` to recover "
                     "what can be\n")
    sys.stderr.flush()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(directory: Path, tighten: bool = True) -> None:
    """Create `directory` (0700); with `tighten` (mocli's own directories only) also tighten it if
    group/other can read it. A symlink is never followed to chmod its target."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        if not tighten or directory.is_symlink():
            return
        mode = stat.S_IMODE(directory.stat().st_mode)
        if mode & 0o077:
            os.chmod(directory, mode & ~0o077)
    except OSError as exc:
        raise StoreError(f"cannot use the data directory {directory}: {exc.strerror or exc}") from None


def is_data_dir(directory: Path) -> bool:
    """True for mocli's own data directory: the one existing place whose modes mocli keeps tight."""
    from mocli.config import data_dir

    try:
        return os.path.samefile(directory, data_dir())
    except OSError:
        return False


def keeps_own_files(directory: Path) -> bool:
    """True where mocli may put its locks and caches beside a case file: its data directory, or a
    directory of this user's that nobody else can enter. Anywhere else (a team folder, a home
    directory) they would be new files in someone else's place: caches go to `cache_dir()`."""
    if is_data_dir(directory):
        return True
    try:
        st = os.stat(directory)
    except OSError:
        return False
    return _owned(st) and not st.st_mode & 0o077


def cache_dir() -> Path:
    """mocli's own cache directory: MOCLI_HOME/cache when MOCLI_HOME is set, else the platform's."""
    if env := os.environ.get("MOCLI_HOME"):
        return Path(env) / "cache"
    from platformdirs import user_cache_dir  # noqa: TID253

    return Path(user_cache_dir("mocli", appauthor=False))


def tighten_file(path: Path) -> None:
    """Make an existing file 0600 if group/other can read it (a missing file is fine). A symlink is
    left alone: its target is not mocli's to chmod."""
    try:
        st = os.lstat(path)
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077 and not stat.S_ISLNK(st.st_mode):
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
        gc.disable()  # see the module docstring: the collector would dominate the cost of a big parse
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
            elif os.pread(fd, 1, size - 1) != b"\n" and not self._cut_torn_tail(fd, size):
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

    def _cut_torn_tail(self, fd: int, size: int) -> bool:
        """Cut off an append a crash left unfinished; False (nothing cut) if the tail is not one.

        The cut bytes are kept in a quarantine file: mocli cannot tell a crash mid-save (never
        acknowledged) from a file cut short (a case lost), so it never drops them silently."""
        chunk = 1 << 16
        pos = size
        while pos > 0:
            start = max(0, pos - chunk)
            block = os.pread(fd, pos - start, start)
            idx = block.rfind(b"\n")
            if idx >= 0:
                cut = start + idx + 1
                tail = os.pread(fd, size - cut, cut)
                if not _torn_tail_ok(tail):
                    return False
                if tail.strip(b"\x00"):
                    write_quarantine(self.path, [tail])
                os.ftruncate(fd, cut)
                if tail.strip(b"\x00"):
                    warn_if_quarantined(self.path)
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

    def __init__(self, path: str | os.PathLike[str] | None = None, lock_timeout: float = 10.0,
                 compact_slack: int = COMPACT_SLACK) -> None:
        """`compact_slack`: superseded records tolerated beyond twice the live ones before a change
        compacts the journal; a negative one makes every change compact (durability tests do)."""
        if path is None:
            from mocli.config import data_dir

            path = data_dir() / "cases.db"
        self.path = Path(path)
        self.db = CaseDB(self.path, storage=JournalStorage, lock_timeout=lock_timeout,
                         compact_slack=compact_slack)
        self.storage: JournalStorage = self.db.storage  # type: ignore[assignment]
        self.table = self.db.table(CASES, cache_size=0)
        warn_if_quarantined(self.path)

    def add(self, case: dict[str, Any], fresh: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:
        """Append a new case; durable on disk when this returns. Returns the case stored.

        With `fresh` (which builds the case again with a newly drawn id), the id is checked against
        every id in the file under the lock, and drawn again while it is taken: five random characters
        a day collide about once in a hundred days at 800 cases a day.
        """
        if fresh is None:
            self.table.insert(case)
            return case
        with self.storage.locked():
            taken = set(self.scan(_case_id, IDS_KEY).docs.values())
            for _ in range(100):
                if _case_id(case) not in taken:
                    break
                case = fresh()
            else:
                raise StoreError(f"could not draw an unused case id in {self.path}")
            self.table.insert(case)
        return case

    def all(self) -> list[dict[str, Any]]:
        """Every case, in the order they were added (plain dicts; no TinyDB documents built)."""
        return list(self.storage.read_docs(CASES).values())

    def _find(self, ref: str) -> tuple[int, dict[str, Any]]:
        """The case `ref` names, from a read of the whole journal."""
        ref = _normal_ref(ref)
        docs = self.storage.read_docs(CASES)
        doc_id = _pick(ref, {i: _case_id(d) for i, d in docs.items()}, self.path)
        return doc_id, docs[doc_id]

    def _find_doc(self, ref: str) -> Document:
        doc_id, doc = self._find(ref)
        return Document(doc, doc_id=doc_id)

    def _locate(self, ref: str) -> tuple[int, dict[str, Any], Scan] | None:
        """The case `ref` names, fast: its doc id from the id index (a cached scan), then its one record.

        None when the fast path is unsure (no journal yet, a record that is not what the index says):
        the caller reads the whole journal. "No such case" and "ambiguous" are answered from the index,
        which covers every record of the journal.
        """
        ref = _normal_ref(ref)
        scan = self.scan(_case_id, IDS_KEY)
        if not scan.docs:
            return None
        doc_id = _pick(ref, scan.docs, self.path)
        docs = read_records(self.path, scan, CASES, [doc_id])
        if docs is None or _case_id(docs[0]) != scan.docs[doc_id]:
            return None
        return doc_id, docs[0], scan

    def find(self, ref: str) -> dict[str, Any]:
        """A case by id, or by a unique id suffix (what agents type)."""
        found = self._locate(ref)
        return found[1] if found else self._find(ref)[1]

    def update(self, ref: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """Apply `change` to one case under the lock and return the stored result.

        The lock is held from the read to the append, so two agents cannot both change one case
        from the same old version; only the changed case is written (one appended record).
        """
        with self.storage.locked():
            found = self._locate(ref)
            if found is not None and self.storage.take_counts(CASES, found[2]):
                doc_id, doc, _ = found
            else:  # unsure, or the change may compact the journal: read it whole
                doc_id, doc = self._find(ref)
            updated = change(dict(doc))
            self.storage.replace_fast(CASES, doc_id, updated)
            return updated

    def scan(self, project: Callable[[dict[str, Any]], Any], key: str) -> Scan:
        """`project(case)` for every case, by doc id, from a cached scan (see "projections and fast
        look-ups" below); `records(scan, doc_ids)` then reads the whole cases wanted. A corrupt
        journal is moved aside, as on a full read."""
        try:
            own = _owned(self.path.stat())
            try:
                return scan_journal(self.path, project, key, table=CASES, lock=self.storage.locked,
                                    use_cache=own, corrupt=self._corrupt)
            except _SetAside:  # damaged lines were set aside: scan the intact journal
                return scan_journal(self.path, project, key, table=CASES, lock=self.storage.locked,
                                    use_cache=own, corrupt=self._corrupt)
        except FileNotFoundError:
            return Scan(0, 0, {}, {})  # no journal yet: no cases
        except OSError as exc:
            raise StoreError(f"cannot read the case store {self.path}: {exc.strerror}") from None

    def records(self, scan: Scan, doc_ids: list[int]) -> list[dict[str, Any]]:
        """The whole cases `doc_ids` of `scan`, one pread each; from a full read if any of them is not
        exactly where the scan saw it (the journal was compacted since)."""
        docs = read_records(self.path, scan, CASES, doc_ids) if doc_ids else []
        if docs is None:
            every = self.storage.read_docs(CASES)
            docs = [every[i] for i in doc_ids if i in every]
        return docs

    def _corrupt(self, detail: str, ino: int) -> Exception:
        """A scan found the journal (inode `ino`) damaged: set the damaged lines aside (then the caller
        scans again), or move a file that is not a case store aside, as a full read does."""
        with self.storage.locked():
            if _same_file(self.path, ino) and self.storage.set_aside_damaged():
                return _SetAside(detail)
            moved, why_not = move_aside(self.path, ino)
        return corrupt_error(self.path, detail, moved, why_not)


class _SetAside(Exception):
    """Damaged lines of a journal were just set aside: read it again."""


def _same_file(path: Path, ino: int) -> bool:
    try:
        return os.stat(path).st_ino == ino
    except OSError:
        return False


IDS_KEY = "ids-v1"  # names the id index (a cached scan); bump when _case_id changes


def _case_id(case: dict[str, Any]) -> str:
    return str(case.get("id", ""))


def _normal_ref(ref: str) -> str:
    ref = ref.strip().upper()
    if not ref:
        raise NotFound("no case id given")
    return ref


def _pick(ref: str, ids: Mapping[int, str], path: Path) -> int:
    """The doc id of the case `ref` (upper case) names: the first with that id, else the only one whose
    id ends so (the code agents read out), else the only one whose id contains it (like git's short
    hashes: `K24`, `261202-K24`); NotFound if none, AmbiguousCase listing them if several do."""
    for doc_id, case_id in ids.items():
        if case_id.upper() == ref:
            return doc_id
    # A code that ends one id wins over the same characters inside other ids' dates (`00001`).
    matches = [doc_id for doc_id, case_id in ids.items() if case_id.upper().endswith(ref)]
    if not matches:
        matches = [doc_id for doc_id, case_id in ids.items() if ref in case_id.upper()]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        names = sorted({ids[i] for i in matches})
        more = f" and {len(names) - 10} more" if len(names) > 10 else ""
        raise AmbiguousCase(f"case {ref!r} is ambiguous: {', '.join(names[:10])}{more} (give more of the id)")
    raise NotFound(f"no case {ref!r} in {path}")


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

_ANCHOR = 4096  # bytes before the cached offset that must still be there for the cache to be trusted
_CACHE_REFRESH = 500  # records read past the cache before it is rewritten
_CACHE_FORMAT = 3  # 3: JSON lines; each document's projection with the offset and length of its latest record


def _cache_path(path: Path, key: str) -> Path:
    """Beside the journal where mocli keeps its own files (see `keeps_own_files`), else in mocli's
    cache directory under a name made from the journal's full path."""
    if keeps_own_files(path.parent):
        return path.with_name(f".{path.name}.{key}.cache")
    import hashlib

    where = hashlib.blake2b(os.fsencode(path.resolve()), digest_size=12).hexdigest()
    return cache_dir() / f"{where}-{path.name}.{key}.cache"


def _pread_all(fd: int, start: int, end: int) -> bytes:
    chunks, pos = [], start
    while pos < end:
        block = os.pread(fd, min(end - pos, 1 << 24), pos)
        if not block:
            break
        chunks.append(block)
        pos += len(block)
    return b"".join(chunks)


def _anchor(fd: int, offset: int) -> str:
    import hashlib

    start = max(0, offset - _ANCHOR)
    return hashlib.blake2b(os.pread(fd, offset - start, start), digest_size=16).hexdigest()


@dataclass
class Scan:
    """The live documents of one table, as one scan of the journal found them."""

    dev: int  # the journal file the bytes were read from
    ino: int
    docs: dict[int, Any]  # doc id -> project(document), in insertion order
    spans: dict[int, tuple[int, int]]  # doc id -> (offset, length) of its latest record line
    records: int = 0  # record lines in the journal, every table (the compaction rule counts them)
    next_id: int = 1  # the table's next free doc id
    offset: int = 0  # the journal's bytes up to here are covered (a whole number of records)
    live: int | None = None  # live documents, when `docs` holds only some of them (the index's answer)


def _load_cache(cache: Path, key: str) -> tuple[Scan, str] | None:
    """The cached scan and the anchor digest of its last 4 KB, or None (no cache, or an unusable one:
    then the whole journal is read). Whether it belongs to the journal is checked by the caller.

    The cache is JSON lines (a header, one line per document, an end line with the count): read and
    parsed a chunk at a time, as the journal is, because parsing one big JSON document makes orjson
    hold about twelve times its size for the while."""
    try:
        fd = os.open(cache, os.O_RDONLY)
    except OSError:
        return None
    paused = gc.isenabled()
    gc.disable()  # see the module docstring
    try:
        size = os.fstat(fd).st_size
        lines = _lines_forward(fd, 0, size)
        data = orjson.loads(next(lines, b"null"))
        if (not isinstance(data, dict) or data.get("key") != key or data.get("format") != _CACHE_FORMAT
                or not size or os.pread(fd, 1, size - 1) != b"\n"):
            return None
        offset, records, next_id = data["offset"], data["records"], data["next"]
        if not (type(offset) is int and type(records) is int and type(next_id) is int):
            return None
        docs: dict[int, Any] = {}
        spans: dict[int, tuple[int, int]] = {}
        end = None
        for line in lines:
            row = orjson.loads(line)
            if type(row) is dict:  # the end line: every document was written
                end = row
                break
            i, p, start, length = row
            docs[int(i)] = p
            spans[int(i)] = (int(start), int(length))
        if end is None or end.get("count") != len(docs) or next(lines, None) is not None:
            return None  # cut short (a cache is not fsynced) or with something after its end
        return Scan(int(data["dev"]), int(data["ino"]), docs, spans, records, next_id, offset), str(data["anchor"])
    except (OSError, orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        return None
    finally:
        os.close(fd)
        if paused:
            gc.enable()


def _lines_forward(fd: int, start: int, end: int) -> Iterator[bytes]:
    """Every line between `start` and `end`, first to last, read `_CHUNK` bytes at a time (a last line
    without its newline too)."""
    carry = b""
    pos = start
    while pos < end:
        block = os.pread(fd, min(_CHUNK, end - pos), pos)
        if not block:
            break
        pos += len(block)
        parts = (carry + block).split(b"\n")
        carry = parts.pop()
        yield from parts
    if carry:
        yield carry


def _save_cache(cache: Path, key: str, scan: Scan, anchor: str) -> None:
    """Write the scan's cache, a chunk at a time; a cache that cannot be written is only a slower next
    scan."""
    head = {"key": key, "format": _CACHE_FORMAT, "dev": scan.dev, "ino": scan.ino, "offset": scan.offset,
            "anchor": anchor, "records": scan.records, "next": scan.next_id}
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    try:
        if not cache.parent.exists():  # mocli's own cache directory, made on first use
            ensure_private_dir(cache.parent)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            out, held = [orjson.dumps(head) + b"\n"], 0
            for i, p in scan.docs.items():
                line = orjson.dumps([i, p, *scan.spans[i]]) + b"\n"
                out.append(line)
                held += len(line)
                if held >= _CHUNK:
                    _write_fully(fd, b"".join(out))
                    out, held = [], 0
            out.append(orjson.dumps({"count": len(scan.docs)}) + b"\n")
            _write_fully(fd, b"".join(out))
        finally:
            os.close(fd)
        os.replace(tmp, cache)  # no fsync: a cache lost in a crash is rebuilt, a torn one is refused
    except (OSError, TypeError, StoreError):
        _unlink_quietly(tmp)
    except BaseException:  # Ctrl-C: no temporary file left behind (SIGKILL's: see _remove_stale_temporaries)
        _unlink_quietly(tmp)
        raise


def _write_fully(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _owned(st: os.stat_result) -> bool:
    return st.st_uid == os.getuid() if hasattr(os, "getuid") else True


def scan_journal(path: Path, project: Callable[[dict[str, Any]], Any], key: str, *, table: str,
                 lock: Callable[[], AbstractContextManager[Any]] | None, use_cache: bool,
                 corrupt: Callable[[str, int], StoreCorrupt]) -> Scan:
    """`project(document)` and the record's place for every live document of `table` (see above).

    The journal is read in chunks from its end back (bounded memory; a superseded record is checked
    but not projected). `lock` is held only while the end of the last whole record is found (None: read
    without it, for files we may not lock): the bytes before it are never changed in place;
    `use_cache` reads and writes ``.NAME.KEY.cache`` (0600); `corrupt(detail, inode)` makes the
    error for a corrupt journal (and may move that file aside). FileNotFoundError if there is no journal.
    """
    cache = _cache_path(path, key)
    cached = None
    if use_cache:
        try:  # a cache holds personal data too: 0600 even if something loosened it
            tighten_file(cache)
        except StoreError:
            pass
        cached = _load_cache(cache, key)

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
            count, bad = _project_latest(fd, start, max(whole, start), scan, project, table)
        except OSError as exc:
            raise StoreError(f"cannot read the case store {path}: {exc.strerror}") from None
        if bad is not None:
            raise corrupt(f"line {scan.records + 2 + bad} is not a valid case record", scan.ino)  # 1: header
    finally:
        os.close(fd)
    scan.records, scan.offset = scan.records + count, max(whole, start)
    if use_cache and anchor and (fresh or count > _CACHE_REFRESH):
        _save_cache(cache, key, scan, anchor)
    return scan


_CHUNK = 1 << 23  # bytes of journal held at a time by a scan: its memory does not grow with the file


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


def _lines_backward(fd: int, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    """(offset, line) of every line between `start` and `end` (both at line starts), the last first,
    read `_CHUNK` bytes at a time."""
    hi, window = end, _CHUNK
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
        hi, window = off, _CHUNK


def _project_latest(fd: int, start: int, end: int, scan: Scan, project: Callable[[dict[str, Any]], Any],
                    table: str) -> tuple[int, int | None]:
    """Check every record between `start` and `end` and bring `scan` up to date with them, projecting
    only each document's latest record (read last first: a superseded record is checked, not projected).

    Returns (records read, None), or (0, the number of the first bad line counted from `start`)."""
    latest: dict[int, tuple[Any, int, int] | None] = {}  # doc id -> (projection, offset, length); None: removed
    next_id, count, bad = scan.next_id, 0, False
    paused = gc.isenabled()
    gc.disable()  # see the module docstring
    try:
        for off, line in _lines_backward(fd, start, end):
            count += 1
            try:
                rec = orjson.loads(line)
                t, doc_id, n = rec["t"], rec["i"], rec["n"]
                if not (isinstance(t, str) and type(doc_id) is int and type(n) is int):
                    raise TypeError
                removed = bool(rec.get("x"))
                if not removed and not isinstance(rec["d"], dict):
                    raise TypeError
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                bad = True
                break
            if t == table:
                next_id = max(next_id, n)
                if doc_id not in latest:
                    latest[doc_id] = None if removed else (project(rec["d"]), off, len(line))
    finally:
        if paused:
            gc.enable()
    if bad:  # the error names the first damaged line, as a front-to-back read would
        for number, (_, line) in enumerate(reversed(list(_lines_backward(fd, start, end)))):
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
                    table: str = CASES, lock_timeout: float = 10.0, move_corrupt: bool = True) -> list[Any]:
    """`project(document)` for every live document of `table`, in insertion order; read-only.

    For reports over big stores and over other agents' files. It never creates, rewrites or chmods a
    journal. The projections are cached beside a journal this user owns (``.NAME.KEY.cache``, 0600; see
    "projections and fast look-ups" above); another user's file is read whole, without its lock.

    A corrupt journal is a StoreCorrupt; with `move_corrupt` (the agent's own store, e.g. new-case's
    claim check) a file this user owns is also moved aside and kept; reports pass False and only read.
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
            scan = scan_journal(path, project, key, table=table, lock=lock, use_cache=own, corrupt=corrupt)
        except _SetAside:
            scan = scan_journal(path, project, key, table=table, lock=lock, use_cache=own, corrupt=corrupt)
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
    docs: dict[int, Any] = {}
    for line in good.split(b"\n")[1:-1]:
        rec = orjson.loads(line)
        if rec["t"] == table:
            if rec.get("x"):
                docs.pop(rec["i"], None)
            else:
                docs[rec["i"]] = rec["d"]
    sys.stderr.write(f"mocli: warning: {path}: {len(bad)} damaged record(s) skipped ({detail}); the file "
                     f"was left untouched; `mocli store check --db {path}` lists them\n")
    return [project(d) for d in docs.values()]
