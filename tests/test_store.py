"""The durable case store: atomic appends, two writers at once, torn tails, corruption, modes."""

from __future__ import annotations

import multiprocessing as mp
import os
import stat

import pytest
from tinydb import Query

from mocli.errors import NotFound, StoreBusy, StoreCorrupt
from mocli.store import HEADER, CaseStore


def test_add_find_update_and_file_modes(tmp_path):
    s = CaseStore(tmp_path / "d" / "cases.db")
    s.add({"id": "MO-261127-AAAAA", "status": "open", "n": 1})
    s.add({"id": "MO-261127-BBBBB", "status": "open", "n": 2})
    assert s.find("bbbbb")["n"] == 2  # a unique suffix, any case
    s.update("AAAAA", lambda c: {**c, "status": "resolved"})
    assert [c["status"] for c in CaseStore(tmp_path / "d" / "cases.db").all()] == ["resolved", "open"]
    assert stat.S_IMODE(os.stat(tmp_path / "d" / "cases.db").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "d").st_mode) == 0o700
    assert s.table.search(Query().n == 2)[0]["id"] == "MO-261127-BBBBB"  # TinyDB's API still works
    with pytest.raises(NotFound):
        s.find("ZZZZZ")


def test_looser_modes_are_tightened_on_open_in_the_data_directory_only(tmp_path, mocli_env):
    d = mocli_env["home"]  # mocli's own data directory (MOCLI_HOME)
    CaseStore(d / "cases.db").add({"id": "X"})
    os.chmod(d, 0o755)
    os.chmod(d / "cases.db", 0o644)
    CaseStore(d / "cases.db")
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(d / "cases.db").st_mode) == 0o600
    # A folder and a file the agent named (--db) keep the modes their owner gave them.
    other = tmp_path / "shared"
    CaseStore(other / "cases.db").add({"id": "X"})
    os.chmod(other, 0o755)
    os.chmod(other / "cases.db", 0o644)
    CaseStore(other / "cases.db")
    assert stat.S_IMODE(os.stat(other).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(other / "cases.db").st_mode) == 0o644


def test_ambiguous_suffix(tmp_path):
    s = CaseStore(tmp_path / "cases.db")
    s.add({"id": "MO-1-AB"})
    s.add({"id": "MO-2-AB"})
    with pytest.raises(NotFound, match="ambiguous"):
        s.find("AB")


def _writer(path: str, who: str, count: int) -> None:
    s = CaseStore(path, lock_timeout=30)
    for i in range(count):
        s.add({"id": f"{who}-{i}"})
        if i % 10 == 0:
            s.update(f"{who}-{i}", lambda c: {**c, "touched": True})


def test_two_writers_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "cases.db")
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(path, who, 60)) for who in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    cases = CaseStore(path).all()
    assert sorted(c["id"] for c in cases) == sorted(f"{w}-{i}" for w in "ab" for i in range(60))
    assert sum(1 for c in cases if c.get("touched")) == 12
    ids = [d.doc_id for d in CaseStore(path).table.all()]
    assert len(set(ids)) == len(ids) == 120


def test_a_torn_last_line_is_ignored_then_cut_off(tmp_path):
    path = tmp_path / "cases.db"
    s = CaseStore(path)
    s.add({"id": "kept"})
    with open(path, "ab") as fh:
        fh.write(b'{"t":"cases","i":2,"n":3,"d":{"id":"half-writ')  # a crash mid-append
    assert [c["id"] for c in CaseStore(path).all()] == ["kept"]
    CaseStore(path).add({"id": "next"})
    assert [c["id"] for c in CaseStore(path).all()] == ["kept", "next"]
    assert b"half-writ" not in path.read_bytes()


@pytest.mark.parametrize("content", [b"", b"not a store at all\n"])
def test_a_file_that_is_not_a_store_is_an_error_and_is_moved_aside_unchanged(tmp_path, content):
    path = tmp_path / "cases.db"
    path.write_bytes(content)
    with pytest.raises(StoreCorrupt, match="moved aside"):
        CaseStore(path).all()
    [kept] = tmp_path.glob("cases.db.corrupt-*")
    assert kept.read_bytes() == content and not path.exists()  # kept as it was, never replaced
    with pytest.raises(NotFound):  # the next command starts a new, empty store
        CaseStore(path).update("a", lambda c: c)


def test_busy_store(tmp_path):
    from filelock import FileLock

    path = tmp_path / "cases.db"
    s = CaseStore(path, lock_timeout=0.2)
    lock = FileLock(str(path) + ".lock")
    lock.acquire()
    try:
        ctx = mp.get_context("fork")
        q = ctx.Queue()
        p = ctx.Process(target=_try_add, args=(str(path), q))
        p.start()
        p.join(20)
        assert q.get(timeout=5) == "busy"
    finally:
        lock.release()
    s.add({"id": "after"})
    assert s.find("after")


def _try_add(path: str, q) -> None:
    try:
        CaseStore(path, lock_timeout=0.2).add({"id": "x"})
        q.put("added")
    except StoreBusy:
        q.put("busy")


def test_compaction_keeps_every_live_case(tmp_path):
    path = tmp_path / "cases.db"
    s = CaseStore(path)
    for i in range(5):
        s.add({"id": f"C{i}", "v": 0})
    for round_ in range(1, 1200):
        s.update("C0", lambda c, r=round_: {**c, "v": r})
    lines = path.read_bytes().count(b"\n")
    assert lines < 1000 + 2 * 5 + 2  # compacted at least once instead of growing without bound
    cases = {c["id"]: c["v"] for c in CaseStore(path).all()}
    assert cases == {"C0": 1199, "C1": 0, "C2": 0, "C3": 0, "C4": 0}
    s.add({"id": "C5"})
    assert [d.doc_id for d in CaseStore(path).table.all()] == [1, 2, 3, 4, 5, 6]


def test_a_drawn_case_id_that_is_taken_is_drawn_again_under_the_lock(tmp_path):
    s = CaseStore(tmp_path / "cases.db")
    s.add({"id": "MO-261127-AAAAA", "customer": "Ava"})
    draws = iter(["MO-261127-AAAAA", "MO-261127-BBBBB"])  # the first redraw collides again
    stored = s.add({"id": "MO-261127-AAAAA", "customer": "Ben"}, fresh=lambda: {"id": next(draws), "customer": "Ben"})
    assert stored == {"id": "MO-261127-BBBBB", "customer": "Ben"}
    assert sorted(c["id"] for c in s.all()) == ["MO-261127-AAAAA", "MO-261127-BBBBB"]


def test_new_case_never_reuses_an_id_in_the_file(cli, mocli_env, monkeypatch):
    import json

    from mocli.policy import opening

    args = ("new-case", "--no-input", "--json", "--customer", "ben.carter@example.com", "--order", "1003",
            "--address-confirmed", "yes")
    first = json.loads(cli(*args).out)["id"]
    later = iter([first, first, "MO-261127-ZZZZZ"])  # the dice come up with the taken id twice
    monkeypatch.setattr(opening, "new_case_id", lambda now: next(later))
    r = cli(*args)
    assert r.code == 0, r.err
    case = json.loads(r.out)
    assert case["id"] == "MO-261127-ZZZZZ"
    ids = [c["id"] for c in CaseStore(mocli_env["home"] / "cases.db").all()]
    assert sorted(ids) == sorted([first, "MO-261127-ZZZZZ"])


@pytest.mark.parametrize("content,damaged", [
    (HEADER + b'{"t":"cases","i":1,"n":2,"d":{"id":"a"}}\n{oops}\n{"t":"cases","i":2,"n":3,"d":{"id":"b"}}\n',
     [b"{oops}"]),
    (HEADER + b'{"t":"cases","i":1,"n":2,"d":"not a document"}\n{"t":"cases","i":2,"n":3,"d":{"id":"b"}}\n',
     [b'{"t":"cases","i":1,"n":2,"d":"not a document"}']),
    (HEADER + b'\xff\xfe\n{"t":"cases","i":2,"n":3,"d":{"id":"b"}}\n', [b"\xff\xfe"]),
])
def test_a_damaged_line_costs_that_record_only_and_is_kept_byte_for_byte(tmp_path, content, damaged):
    from mocli.store import quarantine_files

    path = tmp_path / "cases.db"
    path.write_bytes(content)
    ids = [c["id"] for c in CaseStore(path).all()]
    assert "b" in ids and not list(tmp_path.glob("cases.db.corrupt-*"))  # the intact records stay readable
    [kept] = quarantine_files(path)
    assert kept.read_bytes() == b"".join(line + b"\n" for line in damaged)
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
    CaseStore(path).add({"id": "c"})  # the store goes on
    assert [c["id"] for c in CaseStore(path).all()] == [*ids, "c"]
