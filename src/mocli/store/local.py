"""The local file backend's case store: `CaseStore` (add, find, update; never delete) over one agent's
journal file. The journal's parts are modules of their own, and every name they offer is importable
from here as before the split:

* store/files.py: file safety (0700 directories, 0600 files, all-or-nothing writes, a corrupt file
  moved aside and kept);
* store/records.py: the record format, torn tails, damaged records set aside in quarantine files;
* store/journal.py: the journal storage under TinyDB (appends, the lock, compaction; its docstring
  says why not TinyDB's own storage);
* store/scans.py and store/projections.py: cached scans and cold reads (projections, fast look-ups).

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
unusual means a full read (see "projections and fast look-ups" in store/projections.py, which also says
what a scan does not re-check and why that is safe).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tinydb import TinyDB  # noqa: TID253 (the store's modules are imported only inside commands)
from tinydb.table import Document, Table  # noqa: TID253

from mocli.errors import AmbiguousCase, NotFound, StoreError

# Re-exported: every name below was importable from mocli.store.local (and mocli.store) before the split;
# the underscored ones are what store/index.py reads through `local.`.
from mocli.store.files import (
    DIR_MODE,
    FILE_MODE,
    _owned,
    _unlink_quietly,
    atomic_write,
    cache_dir,
    corrupt_error,
    ensure_private_dir,
    is_data_dir,
    keeps_own_files,
    move_aside,
    tighten_file,
)
from mocli.store.journal import COMPACT_SLACK, JournalStorage
from mocli.store.projections import (
    _last_line_end,
    _lines_backward,
    _same_file,
    _SetAside,
    read_projection,
    read_records,
    scan_journal,
)
from mocli.store.records import (
    CASES,
    HEADER,
    QUARANTINE,
    REVIEWED,
    _torn_tail_ok,
    forget_warnings,
    glob_escape,
    live_documents,
    quarantine_files,
    quarantined_count,
    split_damaged,
    valid_record,
    warn_if_quarantined,
    write_quarantine,
)
from mocli.store.scans import Scan, _anchor, _cache_path

__all__ = [
    "CASES", "COMPACT_SLACK", "DIR_MODE", "FILE_MODE", "HEADER", "IDS_KEY", "QUARANTINE", "REVIEWED", "CaseDB",
    "CaseStore", "JournalStorage", "JournalTable", "Scan", "_anchor", "_cache_path", "_last_line_end",
    "_lines_backward", "_owned", "_torn_tail_ok", "_unlink_quietly", "atomic_write", "cache_dir", "corrupt_error",
    "ensure_private_dir", "forget_warnings", "glob_escape", "is_data_dir", "keeps_own_files", "live_documents",
    "move_aside", "quarantine_files", "quarantined_count", "read_projection", "read_records", "scan_journal",
    "split_damaged", "tighten_file", "valid_record", "warn_if_quarantined", "write_quarantine",
]


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
        look-ups" in store/projections.py); `records(scan, doc_ids)` then reads the whole cases wanted. A corrupt
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

