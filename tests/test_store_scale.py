"""What the store's speed-ups change: one-record updates, lock-light reads, the cached projection.
(Timings are measured by benchmarks/report_scale.py, never asserted here.)"""

from __future__ import annotations

import gc
import os
import stat

import orjson
import pytest

from mocli.errors import NotFound, StoreBusy, StoreCorrupt
from mocli.store import CaseStore, read_projection

KEY = "test-v1"


def doc(n: int, **extra) -> dict:
    return {"id": f"MO-000000-{n:05d}", "status": "open", "history": [], **extra}


def project(d: dict) -> dict:
    return {"id": d["id"], "status": d["status"], "notes": len(d["history"])}


def lines(path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[1:-1]


@pytest.fixture
def path(tmp_path):
    return tmp_path / "store" / "cases.db"


def test_update_appends_exactly_one_record(path):
    s = CaseStore(path)
    for n in range(5):
        s.add(doc(n))
    before = path.read_bytes()
    out = s.update("00003", lambda c: {**c, "status": "resolved"})
    after = path.read_bytes()
    assert after.startswith(before) and after[len(before):].count(b"\n") == 1
    rec = orjson.loads(lines(path)[-1])
    assert rec["i"] == 4 and rec["n"] == 6 and rec["d"] == out
    assert [c["status"] for c in CaseStore(path).all()] == ["open"] * 3 + ["resolved", "open"]
    # the TinyDB API still sees the same data, and inserts after an update get fresh ids
    assert CaseStore(path).table.get(doc_id=4)["status"] == "resolved"
    s.add(doc(5))
    assert [d.doc_id for d in CaseStore(path).table.all()] == [1, 2, 3, 4, 5, 6]


def test_update_holds_the_lock_from_read_to_write(path):
    s = CaseStore(path)
    s.add(doc(1))
    other = CaseStore(path, lock_timeout=0.05)  # another agent's process (its own lock file handle)
    seen = []

    def change(case):
        try:
            other.add(doc(2))
        except StoreBusy:
            seen.append("busy")
        return {**case, "status": "resolved"}

    s.update("00001", change)
    assert seen == ["busy"]
    other.add(doc(2))  # released once the update is written
    assert [c["status"] for c in CaseStore(path).all()] == ["resolved", "open"]


def test_updates_compact_when_superseded_records_pile_up(path):
    s = CaseStore(path)
    s.add(doc(1))
    s.add(doc(2))
    inode = path.stat().st_ino
    for n in range(1005):  # 2 live cases: compaction once records exceed 2 * 2 + 1000
        s.update("00001", lambda c, n=n: {**c, "history": [n]})
    assert path.stat().st_ino != inode  # rewritten whole and renamed in
    assert len(lines(path)) < 1000
    assert [c["history"] for c in CaseStore(path).all()] == [[1004], []]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_reads_pause_the_collector_only_while_parsing(path):
    s = CaseStore(path)
    s.add(doc(1))
    assert gc.isenabled()
    s.all()
    assert gc.isenabled()
    path.write_bytes(path.read_bytes() + b"garbage\n" + orjson.dumps({"t": "cases", "i": 9, "n": 10, "d": {}}) + b"\n")
    assert len(CaseStore(path).all()) == 2  # the garbage line is set aside
    assert gc.isenabled()
    path.write_bytes(b"not a store\n")
    with pytest.raises(StoreCorrupt):
        CaseStore(path).all()
    assert gc.isenabled()


def test_torn_tail_is_ignored_by_every_read_path(path):
    s = CaseStore(path)
    s.add(doc(1))
    with path.open("ab") as fh:
        fh.write(b'{"t":"cases","i":2,"n":3,"d":{"id":"MO-0')  # a crash mid-append
    assert [c["id"] for c in CaseStore(path).all()] == ["MO-000000-00001"]
    assert read_projection(path, project, KEY) == [{"id": "MO-000000-00001", "status": "open", "notes": 0}]
    CaseStore(path).add(doc(2))  # cuts the torn tail, then appends
    assert len(read_projection(path, project, KEY)) == 2


def test_projection_follows_appends_updates_and_compaction(path):
    s = CaseStore(path)
    for n in range(3):
        s.add(doc(n))
    cache = path.with_name(f".cases.db.{KEY}.cache")
    assert [p["id"][-1] for p in read_projection(path, project, KEY)] == ["0", "1", "2"]
    assert cache.exists() and stat.S_IMODE(cache.stat().st_mode) == 0o600
    s.add(doc(3))
    s.update("00001", lambda c: {**c, "history": ["note"]})
    got = read_projection(path, project, KEY)
    assert got == [project(d) for d in CaseStore(path).all()]
    assert got[1]["notes"] == 1 and len(got) == 4
    # a compaction renames a new file in: the cache (bound to the old file) is not trusted
    s.db.table("cases").update({"status": "resolved"}, doc_ids=[1])
    renamed_in(path, CaseStore(path).all())
    assert read_projection(path, project, KEY) == [project(d) for d in CaseStore(path).all()]


def renamed_in(path, cases: list[dict]) -> None:
    """What a compaction does, seen from outside: `cases` written whole to a new file that is renamed over
    the journal (another inode; the same doc ids when no case was ever removed)."""
    new = path.with_name("compacted.db")
    CaseStore(new).table.insert_multiple(cases)
    os.replace(new, path)


def test_projection_refuses_a_cache_whose_journal_changed_under_it(path):
    s = CaseStore(path)
    s.add(doc(1))
    read_projection(path, project, KEY)
    # the journal rewritten in place (same inode) with other content of the same length
    data = path.read_bytes().replace(b"MO-000000-00001", b"MO-000000-99999")
    with path.open("r+b") as fh:
        fh.write(data)
    assert read_projection(path, project, KEY)[0]["id"] == "MO-000000-99999"


def test_projection_ignores_a_broken_cache(path):
    s = CaseStore(path)
    s.add(doc(1))
    read_projection(path, project, KEY)
    cache = path.with_name(f".cases.db.{KEY}.cache")
    cache.write_bytes(b"{not json")
    assert read_projection(path, project, KEY) == [project(doc(1))]
    assert orjson.loads(cache.read_bytes().split(b"\n")[0])["key"] == KEY  # rebuilt
    cache.write_bytes(cache.read_bytes()[:-5])  # cut short (a cache is not fsynced): not trusted either
    assert read_projection(path, project, KEY) == [project(doc(1))]
    assert cache.read_bytes().endswith(b'{"count":1}\n')


def test_projection_of_a_file_we_do_not_own_writes_nothing(path, monkeypatch):
    s = CaseStore(path)
    s.add(doc(1))
    before = sorted(os.listdir(path.parent))
    monkeypatch.setattr(os, "getuid", lambda: os.stat(path).st_uid + 1)
    assert read_projection(path, project, KEY) == [project(doc(1))]
    assert sorted(os.listdir(path.parent)) == before  # no cache, no lock file created


def test_projection_errors(path, tmp_path):
    with pytest.raises(NotFound):
        read_projection(tmp_path / "missing.db", project, KEY)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a store\n")
    with pytest.raises(StoreCorrupt):
        read_projection(bad, project, KEY)


def test_all_and_find_return_plain_dicts_in_insertion_order(path):
    s = CaseStore(path)
    for n in range(4):
        s.add(doc(n))
    s.update("00000", lambda c: {**c, "status": "resolved"})
    got = CaseStore(path).all()
    assert [type(c) for c in got] == [dict] * 4
    assert [c["id"][-1] for c in got] == ["0", "1", "2", "3"]
    assert CaseStore(path).find("00000")["status"] == "resolved"


# ---------------------------------------------------------------- the cold read streams (issue 14)


def test_a_cold_read_projects_only_each_cases_latest_record(path):
    s = CaseStore(path)
    for n in range(3):
        s.add(doc(n))
    for k in range(5):  # five notes on case 1: five superseded records of it
        s.update("00001", lambda c, k=k: {**c, "history": [*c["history"], f"note {k}"]})
    s.table.remove(doc_ids=[3])  # a removed case is not projected at all
    projected = []

    def counting(d: dict) -> dict:
        projected.append(d["id"])
        return project(d)

    got = read_projection(path, counting, KEY)
    assert got == [project(d) for d in CaseStore(path).all()]
    assert [p["notes"] for p in got] == [0, 5]
    assert sorted(projected) == ["MO-000000-00000", "MO-000000-00001"]


def test_a_cold_read_holds_a_chunk_of_the_journal_not_the_whole_file(path):
    import tracemalloc

    CaseStore(path).table.insert_multiple(doc(n, filler="x" * 6000) for n in range(2000))
    size = path.stat().st_size  # about 12 MB
    small = path.with_name("warm-up.db")
    CaseStore(small).add(doc(0))
    read_projection(small, lambda d: d["id"], KEY)  # modules a read imports are not the journal's bytes
    tracemalloc.start()
    try:
        got = read_projection(path, lambda d: d["id"], KEY, chunk_bytes=1 << 16)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == [doc(n)["id"] for n in range(2000)]
    assert peak < size / 4, f"peak {peak} bytes for a {size}-byte journal"


def test_a_damaged_line_found_by_a_streaming_read_is_named_by_its_line_number(path, capsys):
    s = CaseStore(path)
    for n in range(50):
        s.add(doc(n, filler="y" * 300))
    data = path.read_bytes().split(b"\n")
    data[10] = b'{"t":"cases","i":10,"n":11,"d":{oops'
    path.write_bytes(b"\n".join(data))
    os.chmod(path.parent, 0o755)  # not a folder mocli keeps its own files in: read around, never changed
    before = path.read_bytes()
    got = read_projection(path, project, KEY, move_corrupt=False, chunk_bytes=1 << 12)
    assert len(got) == 49 and path.read_bytes() == before
    assert "line 11 is not a valid case record" in capsys.readouterr().err


def test_a_warm_read_streams_its_cache_too(path):
    """Loading a cached view holds a chunk of the cache file besides the views it returns, not the whole
    file and a parsed copy of it (a warm report at 50,000 cases peaked above a cold one)."""
    import tracemalloc

    CaseStore(path).table.insert_multiple(doc(n, filler="z" * 2000) for n in range(2000))
    whole = lambda d: {"id": d["id"], "filler": d["filler"]}  # noqa: E731
    read_projection(path, whole, KEY)  # builds the cache
    cache = path.with_name(f".cases.db.{KEY}.cache")
    size = cache.stat().st_size  # about 4 MB
    tracemalloc.start()
    try:
        got = read_projection(path, whole, KEY, chunk_bytes=1 << 16)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [g["id"] for g in got] == [doc(n)["id"] for n in range(2000)]
    assert peak - held < size / 4, f"{peak - held} bytes beyond the views for a {size}-byte cache"
