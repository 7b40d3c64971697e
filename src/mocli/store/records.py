"""The journal's records: the line format, what counts as a whole record or a torn tail, and damaged
records set aside one by one in quarantine files."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson  # noqa: TID253 (the store's modules are imported only inside commands)

from mocli.errors import StoreError
from mocli.store.files import FILE_MODE

HEADER = b'{"mocli_store":1}\n'
CASES = "cases"
_RECORD_START = b'{"t":'  # every record line begins so (orjson keeps the key order t, i, n, d)


def _torn_tail_ok(tail: bytes) -> bool:
    """True if `tail` (bytes after the last newline) can be an append a crash cut short: the start of a
    record, possibly followed by the zeros a power loss can leave. Anything else is trailing garbage."""
    t = tail.rstrip(b"\x00")
    return not t or t.startswith(_RECORD_START) or _RECORD_START.startswith(t)


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


def checked_record(line: bytes) -> dict[str, Any] | None:
    """The record on `line` if it is a whole journal record, as a full read checks it; else None."""
    try:
        rec = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not (isinstance(rec, dict) and isinstance(rec.get("t"), str) and type(rec.get("i")) is int
            and type(rec.get("n")) is int):
        return None
    return rec if rec.get("x") or isinstance(rec.get("d"), dict) else None


def valid_record(line: bytes) -> bool:
    """True if `line` is a whole journal record, as a full read checks it."""
    return checked_record(line) is not None


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


def live_documents(journal: bytes, table: str) -> dict[int, dict[str, Any]]:
    """The live documents of `table` by id, replaying an intact journal (as split_damaged returns it)."""
    docs: dict[int, dict[str, Any]] = {}
    for line in journal.split(b"\n")[1:-1]:
        rec = orjson.loads(line)
        if rec["t"] == table:
            if rec.get("x"):
                docs.pop(rec["i"], None)
            else:
                docs[rec["i"]] = rec["d"]
    return docs


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


def parse_journal(data: bytes, keep: bool) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, bytes]],
                                                  dict[str, int], int]:
    """(live documents by table, their bytes as read if `keep`, each table's next id, record count) of a
    whole journal; _Corrupt names the first line that is not a record."""
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
    return tables, raw, nxt, len(body)


def cut_torn_tail(path: Path, fd: int, size: int) -> bool:
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
                write_quarantine(path, [tail])
            os.ftruncate(fd, cut)
            if tail.strip(b"\x00"):
                warn_if_quarantined(path)
            return True
        pos = start
    return False  # no newline at all: not even a header


def tail_next_id(path: Path, table: str) -> int:
    """The next free id of `table`, from its last record (reads the file backwards, not whole)."""
    try:
        fd = os.open(path, os.O_RDONLY)
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
