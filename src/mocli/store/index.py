"""The case file's index: a SQLite cache of one row per live case, the columns the report, `mocli cases`
and the repeat-claim rules read (times as epoch microseconds), kept beside the journal.

The journal (store/local.py) stays the only source of truth. The index records which bytes of it it
covers (the file's device and inode, an offset that ends a whole record, the digest of the 4 KB before
it: the anchor the JSON-lines caches use), and each use parses only the records appended since, in one
SQLite transaction with the new anchor. It is rebuilt from the journal when it is missing, unreadable, of
another format, or its anchor does not match (the file was compacted, replaced or restored), streaming
the journal from its end back so that only each case's latest record is projected and memory holds one
chunk and a batch of rows, never every record. Anything unusual about the journal (a damaged record,
trailing garbage, no header) makes `Unusable`: the caller then takes the full-read path, which sets
damaged records aside or reads around them exactly as before.

It lives where the JSON-lines caches live (`local._cache_path`: beside a journal in mocli's own
places, else in mocli's cache directory), 0600; a journal this user does not own is indexed in memory.
"""

from __future__ import annotations

import gc
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mocli.store import local
from mocli.store.index_rows import COLUMNS, RECOVERY_COLUMNS, Row, WindowClock, micros, row  # noqa: F401 (micros: for index_queries)
from mocli.store.local import CASES, HEADER
from mocli.store.records import checked_record

INDEX_KEY = "index-v1"  # bump with _FORMAT when a column's meaning changes
_FORMAT = "5"
_BATCH = 2000  # rows held before they are written

# One narrow row per case (index_rows.COLUMNS: what every figure and filter reads, so a scan of 50,000
# stays in SQLite's page cache); what only some cases have, and only some queries read, in tables of
# their own.
_SCHEMA = f"""
CREATE TABLE meta (k TEXT PRIMARY KEY, v);
CREATE TABLE cases ({', '.join(f'{c} INTEGER PRIMARY KEY' if c == 'doc_id' else c for c in COLUMNS)});
CREATE INDEX cases_id ON cases (id);
CREATE INDEX cases_agent ON cases (agent_raw);
CREATE INDEX cases_odd ON cases (doc_id) WHERE odd;
CREATE INDEX cases_open_follow_up ON cases (follow_us) WHERE status = 'open';
-- covering indexes of the report's aggregates: read in their order, no sort of 50,000 rows
CREATE INDEX cases_figures ON cases (status, tier, action, carrier, agent, outcome, remedy, currency, value,
                                     follow_us, sla, late);
CREATE INDEX cases_weeks ON cases (created_week, has_res, resolved_week);
CREATE INDEX cases_hours ON cases (hours) WHERE has_res AND hours IS NOT NULL;
-- cases decided as a claim (reporting.CLAIM_ACTIONS): who claimed, where (the repeat-claimant figures)
CREATE TABLE claimants (doc_id INTEGER PRIMARY KEY, cid TEXT, email TEXT, addr_key TEXT, addr_text TEXT);
CREATE INDEX claimants_customer ON claimants (cid);
CREATE INDEX claimants_address ON claimants (addr_key, cid);
-- what the recovery figures read of a case a carrier claim concerns (JSON), and what they add up of it
-- (index_rows.RECOVERY_COLUMNS: its claim window kept under the claim rules' fingerprint)
CREATE TABLE views (doc_id INTEGER PRIMARY KEY, view BLOB NOT NULL, {', '.join(RECOVERY_COLUMNS)});
-- opening.claim_fields of each claim (JSON): the new-case repeat-claim history, by customer and address
CREATE TABLE claims (doc_id INTEGER PRIMARY KEY, customer TEXT, address TEXT, fields BLOB NOT NULL);
CREATE INDEX claims_customer ON claims (customer);
CREATE INDEX claims_address ON claims (address);
-- the fraud-signal rules of each fraud-review case
CREATE TABLE signals (doc_id INTEGER NOT NULL, rule TEXT NOT NULL);
CREATE INDEX signals_doc ON signals (doc_id);
"""
_SIDE = ("claimants", "views", "claims", "signals")
# A first index is written without its indexes, then each is built in one sort (several times faster
# than keeping seven indexes up to date row by row).
_INDEXES = [" ".join(x.split()) for x in ("\n".join(line for line in part.splitlines() if not line.startswith("--"))
                                          for part in _SCHEMA.split(";")) if x.strip().startswith("CREATE INDEX")]
_INSERT = f"INSERT OR REPLACE INTO cases VALUES ({', '.join('?' * len(COLUMNS))})"


class Unusable(Exception):
    """The journal is not plainly readable (damage, no header): use the full-read path instead."""


@dataclass
class Index:
    """An open, up-to-date index of one journal (use inside `open_index`)."""

    conn: sqlite3.Connection
    path: Path  # the journal
    dev: int
    ino: int


def index_path(path: Path) -> Path:
    return local._cache_path(path, INDEX_KEY)


def _connect(where: Path | None, timeout: float) -> sqlite3.Connection:
    """The index database (made 0600 first: SQLite's journal files take its mode), with its schema."""
    if where is None:
        conn = sqlite3.connect(":memory:", isolation_level=None)
    else:
        if not where.parent.exists():  # mocli's own cache directory, made on first use
            local.ensure_private_dir(where.parent)
        os.close(os.open(where, os.O_RDWR | os.O_CREAT, local.FILE_MODE))
        local.tighten_file(where)
        conn = sqlite3.connect(where, timeout=timeout, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")  # a cache: one lost in a crash is rebuilt from the journal
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -64000")  # the cases table of 50,000 (20 MB) stays in memory between scans
    conn.execute("BEGIN IMMEDIATE")  # two first runs at once: one makes the schema
    found = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
    current = found and conn.execute("SELECT v FROM meta WHERE k = 'format'").fetchone()
    if not current or current[0] != _FORMAT:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            conn.execute(f'DROP TABLE "{name}"')
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT INTO meta VALUES ('format', ?)", (_FORMAT,))
    conn.execute("COMMIT")
    return conn


@contextmanager
def open_index(path: Path, *, lock_timeout: float = 10.0, lock: Any = None,
               clock: WindowClock | None = None) -> Iterator[Index]:
    """The journal `path`'s index, brought up to date and held in one transaction while in use (so every
    query sees one state of it). `lock`: the store's own `locked` (re-entrant: a caller may hold it); by
    default a new one. `clock`: the claim windows of cases indexed now are worked out by it (else when a
    report first asks). Unusable for a journal that is not plainly readable; FileNotFoundError when there
    is no journal; StoreError when it cannot be read."""
    from mocli.errors import StoreError

    try:
        st = path.stat()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise StoreError(f"cannot read the case store {path}: {exc.strerror}") from None
    own = local._owned(st)
    mine = own and local.keeps_own_files(path.parent)
    where = index_path(path) if own else None
    if not mine:  # another agent's file, or one in a shared folder: read without a lock file there
        lock = None
    elif lock is None:
        lock = local.JournalStorage(path, lock_timeout=lock_timeout).locked
    try:
        conn = _connect(where, lock_timeout)
    except (sqlite3.DatabaseError, OSError, StoreError):  # damaged or unreadable: only a cache, start again
        if where is None:
            raise
        for suffix in ("", "-journal"):
            local._unlink_quietly(Path(f"{where}{suffix}"))
        try:
            conn = _connect(where, lock_timeout)
        except (sqlite3.DatabaseError, OSError, StoreError) as exc:  # cannot be written here (read-only, full)
            raise Unusable(f"no case index at {where}: {exc}") from None
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        conn.close()
        raise
    except OSError as exc:
        conn.close()
        raise StoreError(f"cannot read the case store {path}: {exc.strerror}") from None
    try:
        # Where the whole records end, under the store's lock (the bytes before never change); taken
        # before the index's own lock, which is never held while waiting for the store's (an agent's
        # update holds the store's lock, then asks for the index).
        with lock() if lock is not None else _nothing():
            st = os.fstat(fd)
            whole = local._last_line_end(fd, 0, st.st_size)
            tail = os.pread(fd, st.st_size - whole, whole) if st.st_size > whole else b""
        conn.execute("BEGIN IMMEDIATE")  # one refresh at a time; queries see the state it leaves
        try:
            _refresh(conn, fd, st, whole, tail, clock)
            yield Index(conn, path, st.st_dev, st.st_ino)
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        # Busy past the timeout, or damaged: this command reads the journal instead; a damaged index is
        # removed, and the next command builds it again.
        if where is not None and not isinstance(exc, sqlite3.OperationalError):
            for suffix in ("", "-journal"):
                local._unlink_quietly(Path(f"{where}{suffix}"))
        raise Unusable(f"the case index {where}: {exc}") from None
    except OSError as exc:
        raise StoreError(f"cannot read the case store {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
        conn.close()


def _refresh(conn: sqlite3.Connection, fd: int, st: os.stat_result, whole: int, tail: bytes,
             clock: WindowClock | None) -> None:
    """Bring the index up to `whole` (where the journal's last whole record ends, `tail` after it)."""
    meta = dict(conn.execute("SELECT k, v FROM meta").fetchall())
    offset = meta.get("offset")
    valid = ((meta.get("dev"), meta.get("ino")) == (st.st_dev, st.st_ino) and type(offset) is int
             and len(HEADER) <= offset <= os.fstat(fd).st_size and os.pread(fd, len(HEADER), 0) == HEADER
             and local._anchor(fd, offset) == meta.get("anchor"))
    if valid and offset > whole:
        return  # another process indexed records appended since this one looked: the index is ahead
    start = offset if valid else len(HEADER)
    if not valid:
        for table in ("cases", *_SIDE):
            conn.execute(f"DELETE FROM {table}")
        meta.update(records=0, next=1)
        if os.pread(fd, len(HEADER), 0) != HEADER:
            raise Unusable("not a mocli case store: bad or missing header")
    if not local._torn_tail_ok(tail if whole >= start else b""):
        raise Unusable("trailing garbage after the last record")
    whole = max(whole, start)
    if not valid:
        for statement in _INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {statement.split()[2]}")
    if whole > start:
        # Writing: a small page cache (what is written need not stay in memory); reading: a big one.
        conn.execute("PRAGMA cache_size = -8000")
        count, next_id = _project(conn, fd, start, whole, fresh=not valid, clock=clock)
        meta.update(records=meta["records"] + count, next=max(meta["next"], next_id))
    conn.execute("PRAGMA cache_size = -64000")  # building the indexes reads the cases table once each
    if not valid:
        for statement in _INDEXES:
            conn.execute(statement)
    if whole > start or not valid:
        conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                         [("dev", st.st_dev), ("ino", st.st_ino), ("offset", whole),
                          ("anchor", local._anchor(fd, whole)), ("records", meta["records"]),
                          ("next", meta["next"])])


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _project(conn: sqlite3.Connection, fd: int, start: int, end: int, *, fresh: bool,
             clock: WindowClock | None) -> tuple[int, int]:
    """Index each case's latest record between `start` and `end`, read from the end back (an older
    record of a case is checked, not projected); (records read, the next free doc id seen)."""
    seen: set[int] = set()
    rows: list[Row] = []
    gone: list[int] = []
    count, next_id = 0, 1

    def flush() -> None:
        if not fresh:  # a case's new record replaces every row of the old one; a removed case has none
            ids = [(r.case[0],) for r in rows] + [(i,) for i in gone]
            for table in _SIDE:
                conn.executemany(f"DELETE FROM {table} WHERE doc_id = ?", ids)
            conn.executemany("DELETE FROM cases WHERE doc_id = ?", [(i,) for i in gone])
        # Read from the end back, each batch comes newest case first: written in doc id order, SQLite
        # appends to the table's pages instead of splitting them (a first index of 50,000: 35 MB, not 57).
        rows.sort(key=lambda r: r.case[0])
        # A first index has no row to replace: a plain INSERT skips the look-up for one.
        conn.executemany(_INSERT.replace(" OR REPLACE", "") if fresh else _INSERT, [r.case for r in rows])
        conn.executemany("INSERT INTO claimants VALUES (?, ?, ?, ?, ?)", [r.claimant for r in rows if r.claimant])
        conn.executemany(f"INSERT INTO views VALUES (?, ?, {', '.join('?' * len(RECOVERY_COLUMNS))})",
                         [(r.case[0], r.view, *r.recovery) for r in rows if r.view])
        conn.executemany("INSERT INTO claims VALUES (?, ?, ?, ?)", [r.claim for r in rows if r.claim])
        conn.executemany("INSERT INTO signals VALUES (?, ?)", [(r.case[0], x) for r in rows for x in r.rules])
        rows.clear()
        gone.clear()

    paused = gc.isenabled()
    gc.disable()  # see store/local.py's docstring: the collector would dominate a big parse
    try:
        for off, line in local._lines_backward(fd, start, end):
            count += 1
            rec = checked_record(line)
            if rec is None:
                raise Unusable("a record is not valid")
            t, doc_id, n, removed = rec["t"], rec["i"], rec["n"], bool(rec.get("x"))
            if t != CASES:
                continue
            next_id = max(next_id, n)
            if doc_id in seen:
                continue
            seen.add(doc_id)
            if removed:
                gone.append(doc_id)
                continue
            rows.append(row(doc_id, rec["d"], off, len(line), clock))
            if len(rows) >= _BATCH:
                flush()
        flush()
    except OSError as exc:
        from mocli.errors import StoreError

        raise StoreError(f"cannot read the case store: {exc.strerror}") from None
    finally:
        if paused:
            gc.enable()
    return count, next_id
