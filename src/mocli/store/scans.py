"""A scan of the journal and its cache file: what a scan found (`Scan`), and the cache that lets the
next scan read only the records appended since (see store/projections.py for when it is trusted)."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson  # noqa: TID253 (the store's modules are imported only inside commands)

from mocli.errors import StoreError
from mocli.store.files import FILE_MODE, _unlink_quietly, _write_fully, cache_dir, ensure_private_dir, keeps_own_files

# Bytes of journal (or cache) a scan holds at a time, so its memory does not grow with the file; the
# default of read_projection's `chunk_bytes`.
CHUNK_BYTES = 1 << 23
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


def _load_cache(cache: Path, key: str, chunk: int = CHUNK_BYTES) -> tuple[Scan, str] | None:
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
    gc.disable()  # see store/local.py's docstring
    try:
        size = os.fstat(fd).st_size
        lines = _lines_forward(fd, 0, size, chunk)
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


def _lines_forward(fd: int, start: int, end: int, chunk: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Every line between `start` and `end`, first to last, read `chunk` bytes at a time (a last line
    without its newline too)."""
    carry = b""
    pos = start
    while pos < end:
        block = os.pread(fd, min(chunk, end - pos), pos)
        if not block:
            break
        pos += len(block)
        parts = (carry + block).split(b"\n")
        carry = parts.pop()
        yield from parts
    if carry:
        yield carry


def _save_cache(cache: Path, key: str, scan: Scan, anchor: str, chunk: int = CHUNK_BYTES) -> None:
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
                if held >= chunk:
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

