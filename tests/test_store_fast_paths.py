"""The fast paths of `mocli case`, `note`, `resolve` and `cases`: a cached scan (id index or summaries)
plus one pread per record shown, falling back to a full read whenever anything looks unusual.
(Speed is shown by benchmarks/report_scale.py, never asserted here.)"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import stat

import orjson
import pytest

from mocli import reporting
from mocli.errors import NotFound, StoreBusy, StoreCorrupt
from mocli.store.local import HEADER, IDS_KEY, CaseStore


def case(n: int, **extra) -> dict:
    return {"id": f"MO-261127-{n:05d}", "status": "open", "agent": "amy", "history": [],
            "created_at": f"2026-11-{1 + n % 20:02d}T10:00:00-05:00",
            "follow_up_by": f"2026-11-{1 + (7 * n) % 28:02d}T17:00:00-05:00",
            "customer": {"tier": ["VIP", "Standard"][n % 2], "name": f"Customer {n}"},
            "order": {"number": f"#{n}", "carrier": ["UPS", "FedEx"][n % 2]},
            "decision": {"action": "carrier_investigation"}, **extra}


@pytest.fixture
def path(tmp_path):
    return tmp_path / "store" / "cases.db"


@pytest.fixture
def filled(path):
    s = CaseStore(path)
    for n in range(1, 9):
        s.add(case(n, pad="x" * 700))  # over 4 KB in all: the header lies outside the cache's anchor
    return s


def index_cache(path):
    return path.with_name(f".{path.name}.{IDS_KEY}.cache")


def damage_case_2_in_place(path) -> bytes:
    """Overwrite bytes inside case 2's record (same inode, same size): a full read finds the damage and
    sets the line aside; a read through the cached index, which covers those bytes, never looks at them.
    Returns the damaged line."""
    data = path.read_bytes()
    start = data.index(b'"id":"MO-261127-00002"')
    assert start < len(data) - 4096  # outside the cache's anchor (its last 4 KB): only a full read sees it
    with path.open("r+b") as fh:
        fh.seek(start)
        fh.write(b"#" * 10)
    return path.read_bytes().split(b"\n")[2]


def test_case_note_and_resolve_reads_go_through_the_index_not_a_full_read(filled, path):
    filled.find("00008")  # the index is cached
    damaged = damage_case_2_in_place(path)
    assert filled.find("00003")["id"] == "MO-261127-00003"
    out = filled.update("MO-261127-00005", lambda c: {**c, "history": ["noted"]})
    assert out["history"] == ["noted"]
    assert CaseStore(path).find("00005")["history"] == ["noted"]  # the newer record, not the first one
    with pytest.raises(NotFound, match="no case"):
        filled.find("ZZZZZ")
    filled.add({**case(1), "id": "MO-261128-00001"})
    with pytest.raises(NotFound, match="ambiguous: MO-261127-00001, MO-261128-00001"):
        filled.find("00001")
    assert filled.find("mo-261128-00001")["id"] == "MO-261128-00001"  # a whole id is never ambiguous
    with pytest.raises(NotFound, match="no case id"):
        filled.find("  ")
    # No full read happened: it would have set the damaged line aside.
    assert path.read_bytes().split(b"\n")[2] == damaged
    assert not list(path.parent.glob("cases.db.quarantine-*"))


def test_a_later_record_without_the_id_string_is_never_missed(filled, path):
    filled.find("00002")  # the index is cached now
    filled.table.remove(doc_ids=[2])  # TinyDB's API: appends {"t":"cases","i":2,"n":..,"x":1}
    assert b"00002" not in path.read_bytes().split(b"\n")[-2]
    with pytest.raises(NotFound):
        CaseStore(path).find("00002")
    filled.update("00004", lambda c: {**c, "id": "MO-261127-RENAMED"})  # the old id is gone, too
    with pytest.raises(NotFound):
        CaseStore(path).find("00004")
    assert CaseStore(path).find("renamed")["pad"] == "x" * 700
    assert sorted(c["id"] for c in CaseStore(path).all()) == sorted(
        [f"MO-261127-{n:05d}" for n in (1, 3, 5, 6, 7, 8)] + ["MO-261127-RENAMED"])


def test_fast_updates_keep_ids_counts_and_the_tinydb_view_right(filled, path):
    filled.find("00001")
    for n in range(3):
        filled.update("00001", lambda c, n=n: {**c, "history": [*c["history"], n]})
    s = CaseStore(path)
    s.add(case(9))
    assert [d.doc_id for d in s.table.all()] == list(range(1, 10))
    assert s.table.get(doc_id=1)["history"] == [0, 1, 2]
    assert [orjson.loads(line)["n"] for line in path.read_bytes().split(b"\n")[-5:-2]] == [9, 9, 9]


def test_a_record_that_is_not_where_the_index_says_falls_back_to_a_full_read(filled, path):
    filled.find("00001")
    damaged = damage_case_2_in_place(path)  # only a full read notices this one
    head, *docs, end = [orjson.loads(line) for line in index_cache(path).read_bytes().splitlines()]
    spans = {i: (start, length) for i, _, start, length in docs}
    for entry in docs:
        if entry[0] == 3:
            entry[2:] = spans[4]  # doc 3's record said to be doc 4's: a stale or wrong index
    index_cache(path).write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in [head, *docs, end]))
    assert CaseStore(path).find("00003")["id"] == "MO-261127-00003"
    [kept] = path.parent.glob("cases.db.quarantine-*")  # the full read found the damage and set it aside
    assert kept.read_bytes() == damaged + b"\n"


def test_records_appended_after_the_cache_are_checked_and_a_damaged_one_is_set_aside(filled, path):
    filled.find("00001")
    before = path.read_bytes()
    bad = b'{"t":"cases","i":"two","n":3,"d":{"id":"MO-2"}}'
    path.write_bytes(before + bad + b"\n")
    assert CaseStore(path).find("00001")["id"] == "MO-261127-00001"  # the intact records stay readable
    [kept] = path.parent.glob("cases.db.quarantine-*")
    assert kept.read_bytes() == bad + b"\n" and path.read_bytes() == before
    assert not list(path.parent.glob("cases.db.corrupt-*"))


@pytest.mark.parametrize("where", ["last record", "header"])
def test_bytes_changed_in_place_under_a_cache_mean_a_full_read(filled, path, where):
    filled.find("00001")
    data = bytearray(path.read_bytes())
    if where == "header":
        data[:len(HEADER)] = b"{" + b"x" * (len(HEADER) - 2) + b"\n"
    else:  # inside the 4 KB before the cached offset
        data[-40:-1] = b"#" * 39
    with path.open("r+b") as fh:  # same inode, same size
        fh.write(bytes(data))
    if where == "header":  # not a case store any more: moved aside whole
        with pytest.raises(StoreCorrupt, match="moved aside"):
            CaseStore(path).find("00001")  # a read: nothing is appended (an append checks the header too)
        assert next(path.parent.glob("cases.db.corrupt-*")).read_bytes() == bytes(data)
        return
    # The damaged last record is noticed (a full read), set aside byte for byte; the rest stays.
    assert CaseStore(path).find("00001")["id"] == "MO-261127-00001"
    [kept] = path.parent.glob("cases.db.quarantine-*")
    assert kept.read_bytes() == bytes(data).split(b"\n")[-2] + b"\n"


def test_a_torn_tail_after_the_cache_is_ignored_then_cut_off(filled, path):
    filled.find("00001")
    with path.open("ab") as fh:
        fh.write(b'{"t":"cases","i":9,"n":10,"d":{"id":"MO-261127-0000')
    assert CaseStore(path).find("00008")["id"] == "MO-261127-00008"
    CaseStore(path).update("00008", lambda c: {**c, "status": "resolved"})
    assert CaseStore(path).find("00008")["status"] == "resolved"
    assert [c["status"] for c in CaseStore(path).all()][-1] == "resolved"


def test_after_a_compaction_the_cache_is_not_trusted(filled, path):
    filled.find("00001")
    inode = path.stat().st_ino
    CaseStore(path, compact_slack=-100).update("00006", lambda c: {**c, "status": "resolved"})
    assert path.stat().st_ino != inode
    for n in range(1, 9):
        assert CaseStore(path).find(f"{n:05d}")["status"] == ("resolved" if n == 6 else "open")


def test_a_scan_that_was_compacted_away_reads_records_from_a_full_read(filled, path):
    from test_store_scale import renamed_in

    scan = filled.scan(reporting.summary, reporting.SUMMARY_KEY)
    renamed_in(path, filled.all())  # a compacted file renamed in between scan and read
    got = filled.records(scan, [8, 2])
    assert [c["id"] for c in got] == ["MO-261127-00008", "MO-261127-00002"]


def test_the_fast_update_holds_the_lock_from_the_read_to_the_append(filled, path):
    s = CaseStore(path)
    s.find("00001")  # the index is cached: the update takes the fast path
    other = CaseStore(path, lock_timeout=0.05)  # another agent's process (its own lock file handle)
    before = path.read_bytes()

    def change(found):
        with pytest.raises(StoreBusy):  # the store stays locked between the read and the append
            other.add(case(99))
        assert path.read_bytes() == before  # nothing appended in between
        return {**found, "status": "resolved"}

    s.update("00002", change)
    other.add(case(99))  # the lock is released once the change is appended
    assert [c["status"] for c in CaseStore(path).all()][1] == "resolved"


def _noter(path: str, who: str, count: int) -> None:
    s = CaseStore(path, lock_timeout=30)
    for i in range(count):
        s.update("00001", lambda c, i=i: {**c, "history": [*c["history"], f"{who}{i}"]})


def test_two_processes_adding_notes_to_one_case_lose_none(filled, path):
    filled.find("00001")
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_noter, args=(str(path), who, 25)) for who in "ab"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    history = CaseStore(path).find("00001")["history"]
    assert sorted(history) == sorted(f"{w}{i}" for w in "ab" for i in range(25))


def test_the_index_cache_is_private(filled, path):
    old = os.umask(0)
    try:
        filled.find("00001")
    finally:
        os.umask(old)
    assert stat.S_IMODE(index_cache(path).stat().st_mode) == 0o600
    os.chmod(index_cache(path), 0o644)
    CaseStore(path).find("00001")
    assert stat.S_IMODE(index_cache(path).stat().st_mode) == 0o600


def test_ctrl_c_while_the_cache_is_written_leaves_no_temporary_file(filled, path, monkeypatch):
    real = os.replace

    def interrupted(src, dst):
        if str(dst).endswith(".cache"):
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        filled.find("00001")
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_ctrl_c_in_a_compaction_after_a_fast_read_keeps_the_old_file(filled, path, monkeypatch):
    compacting = CaseStore(path, compact_slack=-100)  # every change compacts
    compacting.find("00001")  # the index is cached: the first write is the compaction's
    before = path.read_bytes()
    real = os.write

    def half_then_ctrl_c(fd, data):
        real(fd, bytes(data[: max(1, len(data) // 2)]))
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "write", half_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        compacting.update("00001", lambda c: {**c, "status": "resolved"})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------- mocli cases


def _expected(path, now, filters, limit=50, due=False, overdue=False) -> list[dict]:
    """What `mocli cases` printed before the fast path: filter and sort every whole case."""
    found = reporting.select(CaseStore(path).all(), filters)
    if due or overdue:
        found = [c for c in found if (due and reporting.is_due_today(c, now))
                 or (overdue and reporting.is_overdue(c, now))]
    found.sort(key=lambda c: (reporting.when(c.get("follow_up_by")) or now, str(c.get("id"))))
    return found[:limit] if limit else found


@pytest.mark.parametrize("args,filters,kw", [
    ((), reporting.Filters(status="open"), {}),
    (("--status", "all", "--limit", "0"), reporting.Filters(), {"limit": 0}),
    (("--status", "all", "--limit", "3"), reporting.Filters(), {"limit": 3}),
    (("--tier", "vip", "--carrier", "UPS"), reporting.Filters(status="open", tier="vip", carrier="UPS"), {}),
    (("--overdue", "--status", "all"), reporting.Filters(), {"overdue": True}),
    (("--due",), reporting.Filters(status="open"), {"due": True}),
])
def test_cases_lists_what_the_full_read_listed(cli, mocli_env, args, filters, kw):
    from datetime import datetime

    path = mocli_env["home"] / "cases.db"
    s = CaseStore(path)
    for n in range(1, 30):
        s.add(case(n))
    s.update("00004", lambda c: {**c, "status": "resolved"})
    s.update("00027", lambda c: {**c, "follow_up_by": "2026-11-27T17:00:00-05:00"})  # due today
    cli("cases")  # the summaries are cached now; the next changes are read past the cache
    s.update("00007", lambda c: {**c, "status": "resolved", "history": ["resolved"]})
    s.table.remove(doc_ids=[9])
    now = datetime.fromisoformat("2026-11-27T10:00:00-05:00")
    r = cli("cases", "--json", "--include-pii", *args)
    assert r.code == 0, r.err
    expected = _expected(path, now, filters, **kw)
    assert json.loads(r.out) == expected and expected
    assert "MO-261127-00009" not in r.out


def test_cases_table_shows_the_whole_records(cli, mocli_env):
    s = CaseStore(mocli_env["home"] / "cases.db")
    for n in range(1, 4):
        s.add(case(n))
    r = cli("cases", "--status", "all")
    assert r.code == 0, r.err
    assert "Customer 2" in r.out and "#3" in r.out  # not in the summaries: read from the records
    assert cli("cases", "--tier", "B2B").err.strip() == "no cases match"


def test_cases_on_no_store_yet_lists_nothing(cli, mocli_env):
    r = cli("cases", "--json")
    assert r.code == 0 and json.loads(r.out) == []


def test_a_warm_cases_listing_projects_no_case(cli, mocli_env, monkeypatch):
    """The listing reads the case index (store/index.py), built once: a later `mocli cases` with nothing
    appended since projects no case (at 50,000 cases that is seconds)."""
    s = CaseStore(mocli_env["home"] / "cases.db")
    for n in range(1, 6):
        s.add(case(n))
    assert cli("cases", "--json", "--status", "all").code == 0  # builds the index

    def no_projection(*_args):
        raise AssertionError("a case projected again")

    from mocli.store import index

    monkeypatch.setattr(index, "row", no_projection)
    r = cli("cases", "--json", "--status", "all", "--limit", "2")
    assert r.code == 0, r.err
    assert [c["id"] for c in json.loads(r.out)] == [c["id"] for c in _expected(
        mocli_env["home"] / "cases.db", None, reporting.Filters(), limit=2)]
