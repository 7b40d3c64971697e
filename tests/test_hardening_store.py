"""Hardening the case store: SIGKILL and Ctrl-C mid-write, two writers, a full disk, a read-only
directory, corrupt files (moved aside and kept) and a store held by a stopped process.

Children are forked (os.fork) so each costs a millisecond, not an interpreter start-up.
"""

from __future__ import annotations

import errno
import json
import os
import random
import resource
import signal
import time
from pathlib import Path

import pytest

from mocli.errors import NotFound, StoreBusy, StoreCorrupt, StoreError
from mocli.store import HEADER, CaseStore
from mocli.store import local as store

NEW_CASE = ("new-case", "--no-input", "--customer", "ben.carter@example.com", "--order", "1003",
            "--address-confirmed", "yes")


def _fork(target, *args) -> int:
    """Run target(*args) in a forked child that never returns into pytest.

    SIGINT is blocked across the fork: a Ctrl-C landing in a library's after-fork hook would be
    swallowed there ("Exception ignored") and leave the child running; the child unblocks it once its
    handler is in place.
    """
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    pid = -1
    try:
        pid = os.fork()
    finally:
        if pid != 0:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
            target(*args)
        except BaseException:  # noqa: BLE001 - a child must never unwind into the test runner
            code = 3
        finally:
            os._exit(code)
    return pid


def _wait(pid: int) -> int:
    return os.waitpid(pid, 0)[1]


def _temporaries(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------- SIGKILL mid-write


def _busy_writer(path: str, wfd: int, seed: int) -> None:
    """Add and update cases as fast as it can; report each one on the pipe once it is acknowledged."""
    rnd = random.Random(seed)
    s = CaseStore(path, lock_timeout=30, compact_slack=6)  # compacts every few updates: kills land in them too
    i = 0
    while True:
        cid = f"S{seed}-{i}"
        s.add({"id": cid, "v": 0, "pad": "x" * rnd.randrange(0, 4000)})
        os.write(wfd, f"a {cid}\n".encode())
        if i and rnd.random() < 0.6:
            target, v = f"S{seed}-{rnd.randrange(i)}", time.monotonic_ns()
            s.update(target, lambda c, v=v: {**c, "v": v})
            os.write(wfd, f"u {target} {v}\n".encode())
        i += 1


def _read_acknowledged(rfd: int, at_least: int | None = None) -> bytes:
    """Read acknowledgements until EOF, or only until at least `at_least` whole lines have arrived."""
    chunks = []
    lines = 0
    while (at_least is None or lines < at_least) and (chunk := os.read(rfd, 1 << 16)):
        chunks.append(chunk)
        lines += chunk.count(b"\n")
    return b"".join(chunks)


def _acknowledged(data: bytes) -> list[list[str]]:
    lines = data.decode().split("\n")
    return [ln.split() for ln in lines[:-1]]  # a line cut by the kill was never acknowledged


def _check_everything_acknowledged_is_there(path: Path, added: set[str], versions: dict[str, int]) -> None:
    cases = {c["id"]: c for c in CaseStore(path).all()}
    assert added <= cases.keys(), sorted(added - cases.keys())[:5]
    for cid, v in versions.items():
        assert cases[cid]["v"] >= v, cid  # the acknowledged update, or a later one
    assert len(cases) == len(CaseStore(path).all())


@pytest.mark.parametrize("sig,iterations", [(signal.SIGKILL, 300), (signal.SIGINT, 120)])
def test_a_writer_killed_at_random_moments_loses_nothing_acknowledged(tmp_path, sig, iterations):
    path = tmp_path / "cases.db"
    rnd = random.Random(20261127)
    added: set[str] = set()
    versions: dict[str, int] = {}
    torn = 0
    for it in range(iterations):
        rfd, wfd = os.pipe()
        pid = _fork(lambda r=rfd, w=wfd, i=it: (os.close(r), _busy_writer(str(path), w, i)))
        os.close(wfd)
        # Kill after a random amount of *work*, not of wall time: on a loaded machine a writer may get
        # no CPU for a while, and the test must still kill it mid-work, never before it starts.
        head = _read_acknowledged(rfd, at_least=rnd.randrange(1, 8))
        time.sleep(rnd.uniform(0.0, 0.002))  # then land anywhere in the next write or compaction
        os.kill(pid, sig)
        _wait(pid)
        tail = _read_acknowledged(rfd)
        os.close(rfd)
        acknowledged = _acknowledged(head + tail)
        assert any(rec[0] == "a" for rec in acknowledged)  # every writer was killed after real work
        for rec in acknowledged:
            if rec[0] == "a":
                added.add(rec[1])
            else:
                versions[rec[1]] = max(versions.get(rec[1], 0), int(rec[2]))
        if path.exists():
            data = path.read_bytes()
            torn += not data.endswith(b"\n")
            if sig == signal.SIGINT:
                # Ctrl-C: the old or the new state, never a torn one, and no temporary file left behind.
                assert data.endswith(b"\n") and not _temporaries(tmp_path)
        _check_everything_acknowledged_is_there(path, added, versions)
    # A compaction killed mid-way leaves a temporary file; the next compaction removes it.
    s = CaseStore(path, compact_slack=-10**6)  # every change compacts
    s.update(sorted(added)[0], lambda c: {**c, "v": time.monotonic_ns()})
    assert not _temporaries(tmp_path)
    _check_everything_acknowledged_is_there(path, added, {})


def _die_mid_write(path: str, wfd: int, what: str, how: str) -> None:
    """Save two cases, then die (SIGKILL, or Ctrl-C) half-way through the bytes of the next save."""
    s = CaseStore(path)
    s.add({"id": "K1"})
    s.add({"id": "K2"})
    s.find("K1")  # build the id-index cache now, so the next write is the save itself
    compacting = CaseStore(path, compact_slack=-10**6)  # every change compacts
    os.write(wfd, b"saved\n")
    real = os.write

    def half_then_die(fd: int, data) -> int:
        if fd == wfd:
            return real(fd, data)
        real(fd, bytes(data[: max(1, len(data) // 2)]))
        if how == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise KeyboardInterrupt

    os.write = half_then_die
    if what == "append":
        s.add({"id": "K3-never-acknowledged", "pad": "y" * 5000})
    else:
        compacting.update("K1", lambda c: {**c, "v": 1, "pad": "y" * 5000})


@pytest.mark.parametrize("what", ["append", "compaction"])
@pytest.mark.parametrize("how", ["kill", "ctrl-c"])
def test_a_save_cut_half_way_leaves_the_old_state(tmp_path, what, how):
    path = tmp_path / "cases.db"
    rfd, wfd = os.pipe()
    pid = _fork(lambda: (os.close(rfd), _die_mid_write(str(path), wfd, what, how)))
    os.close(wfd)
    status = _wait(pid)
    assert _acknowledged(_read_acknowledged(rfd)) == [["saved"]]
    os.close(rfd)
    if how == "kill":
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        # It died where the test means it to: in the compaction's temporary file (not a cache's), or
        # in the append.
        left = [p.name for p in _temporaries(tmp_path)]
        assert [n for n in left if "cache" not in n] == (left if what == "compaction" else [])
        assert bool(left) == (what == "compaction")
    else:
        # Ctrl-C: the partial append is cut off and the temporary file removed before the exit.
        assert path.read_bytes().endswith(b"\n") and not _temporaries(tmp_path)
    assert [c["id"] for c in CaseStore(path).all()] == ["K1", "K2"]
    assert "v" not in CaseStore(path).find("K1")
    s = CaseStore(path)
    s.add({"id": "K4"})  # the next save cuts a torn tail off and carries on
    assert [c["id"] for c in CaseStore(path).all()] == ["K1", "K2", "K4"]
    assert b"never-acknowledged" not in path.read_bytes()


# ---------------------------------------------------------------- two writers


def _add_many(path: str, who: str, count: int) -> None:
    s = CaseStore(path, lock_timeout=60)
    for i in range(count):
        s.add({"id": f"{who}-{i:03d}"})


def test_two_processes_adding_500_cases_each_make_exactly_1000(tmp_path):
    path = tmp_path / "cases.db"
    pids = [_fork(_add_many, str(path), who, 500) for who in ("a", "b")]
    assert [_wait(pid) for pid in pids] == [0, 0]
    cases = CaseStore(path).all()
    assert len(cases) == 1000
    assert sorted(c["id"] for c in cases) == sorted(f"{w}-{i:03d}" for w in "ab" for i in range(500))
    ids = [d.doc_id for d in CaseStore(path).table.all()]
    assert sorted(ids) == list(range(1, 1001))


# ---------------------------------------------------------------- a full disk


def _save_past_the_file_size_limit(path: str, wfd: int, what: str) -> None:
    """RLIMIT_FSIZE makes write() fail with EFBIG past a size, as a full disk fails with ENOSPC."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    s = CaseStore(path)
    compacting = CaseStore(path, compact_slack=-10**6)  # every change compacts
    resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(path) + 2000, resource.RLIM_INFINITY))
    try:
        if what == "append":
            s.add({"id": "BIG", "pad": "z" * 50_000})
        else:
            compacting.update("F1", lambda c: {**c, "pad": "z" * 50_000})
        os.write(wfd, b"saved?!")
    except StoreError as exc:
        os.write(wfd, str(exc).encode())


@pytest.mark.parametrize("what", ["append", "compaction"])
def test_a_full_disk_is_a_clear_error_and_the_old_file_stays(tmp_path, what):
    path = tmp_path / "cases.db"
    s = CaseStore(path)
    for i in range(1, 4):
        s.add({"id": f"F{i}", "pad": "p" * 100})
    before = path.read_bytes()
    rfd, wfd = os.pipe()
    pid = _fork(lambda: (os.close(rfd), _save_past_the_file_size_limit(str(path), wfd, what)))
    os.close(wfd)
    assert _wait(pid) == 0
    message = os.read(rfd, 4096).decode()
    os.close(rfd)
    assert "File too large" in message and str(path) in message
    assert path.read_bytes() == before  # no partial record, no half-written file renamed in
    assert not _temporaries(tmp_path)
    assert [c["id"] for c in CaseStore(path).all()] == ["F1", "F2", "F3"]


def _fail_writes_to(monkeypatch, directory: Path, err: int) -> None:
    """Make every write to a file in `directory` fail with `err` (ENOSPC: the disk is full)."""
    real = os.write

    def write(fd: int, data) -> int:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            target = ""
        if target.startswith(str(directory)):
            raise OSError(err, os.strerror(err))
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)


def test_new_case_on_a_full_disk_is_one_line_and_keeps_the_old_file(cli, mocli_env, monkeypatch):
    home = mocli_env["home"]
    assert cli(*NEW_CASE).code == 0
    before = (home / "cases.db").read_bytes()
    _fail_writes_to(monkeypatch, home, errno.ENOSPC)
    r = cli(*NEW_CASE)
    monkeypatch.undo()
    assert r.code == 1
    assert r.err.startswith("mocli: cannot write the case store") and "No space left on device" in r.err
    assert r.err.count("\n") == 1 and "Traceback" not in r.err
    assert (home / "cases.db").read_bytes() == before
    assert not _temporaries(home)


# ---------------------------------------------------------------- a read-only directory


def _read_only(monkeypatch, directory: Path) -> None:
    """What a read-only file system does to every change inside `directory` (root ignores modes,
    so the test simulates it): EROFS from opening for writing, creating, renaming, linking, chmod."""
    def inside(p) -> bool:
        return str(os.fspath(p)).startswith(str(directory))

    def refuse(p):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(p))

    real_open, real_mkdir = os.open, os.mkdir

    def fake_open(p, flags, *a, **k):
        if inside(p) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC):
            refuse(p)
        return real_open(p, flags, *a, **k)

    def fake_mkdir(p, *a, **k):
        if inside(p):
            if os.path.isdir(p):
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fspath(p))
            refuse(p)
        return real_mkdir(p, *a, **k)

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "mkdir", fake_mkdir)
    for name in ("chmod", "replace", "rename", "link", "unlink"):
        real = getattr(os, name)

        def fake(p, *a, _real=real, **k):
            if inside(p):
                refuse(p)
            return _real(p, *a, **k)

        monkeypatch.setattr(os, name, fake)


def test_a_read_only_data_directory_is_a_clear_error_and_the_file_stays(cli, mocli_env, monkeypatch):
    home = mocli_env["home"]
    assert cli(*NEW_CASE).code == 0
    os.chmod(home, 0o755)  # looser than 0700: mocli would want to tighten it, and cannot
    before = (home / "cases.db").read_bytes()
    _read_only(monkeypatch, home)
    started = time.monotonic()
    r = cli(*NEW_CASE)
    monkeypatch.undo()
    assert time.monotonic() - started < 10  # not "busy" after a wait: at once
    assert r.code == 1 and r.err.count("\n") == 1 and "Read-only file system" in r.err
    assert "busy" not in r.err and "internal error" not in r.err
    assert (home / "cases.db").read_bytes() == before
    assert not _temporaries(home)


@pytest.mark.parametrize("existing_lock", [True, False])
def test_a_read_only_store_file_cannot_be_locked_is_not_busy(tmp_path, monkeypatch, existing_lock):
    path = tmp_path / "cases.db"
    CaseStore(path).add({"id": "R1"})
    if not existing_lock:
        Path(str(path) + ".lock").unlink(missing_ok=True)
    before = path.read_bytes()
    _read_only(monkeypatch, tmp_path)
    with pytest.raises(StoreError, match="Read-only file system") as info:
        CaseStore(path, lock_timeout=5).add({"id": "R2"})
    monkeypatch.undo()
    assert not isinstance(info.value, StoreBusy)
    assert path.read_bytes() == before and not _temporaries(tmp_path)


def test_a_data_directory_that_cannot_be_created_is_a_clear_error(cli, tmp_path, monkeypatch):
    parent = tmp_path / "readonly"
    parent.mkdir()
    monkeypatch.setenv("MOCLI_HOME", str(parent / "mocli"))
    _read_only(monkeypatch, parent)
    r = cli(*NEW_CASE)
    monkeypatch.undo()
    assert r.code == 1 and r.err.count("\n") == 1
    assert "cannot use the data directory" in r.err and "Read-only file system" in r.err


# ---------------------------------------------------------------- corrupt files

GOOD = HEADER + b'{"t":"cases","i":1,"n":2,"d":{"id":"MO-1"}}\n'
# Files that are not a case store at all: moved aside whole.
CORRUPT = {
    "empty": b"",
    "truncated header": b'{"mocli_st',
    "TinyDB's own JSON format": b'{"_default": {"1": {"id": "MO-1"}}}',
}
# Case stores with damaged lines: those lines are set aside, the intact records stay.
DAMAGED = {
    "trailing garbage, no newline": (GOOD, b"\xde\xad GARBAGE"),
    "trailing garbage line": (GOOD, b"GARBAGE"),
    "a record of the wrong shape": (GOOD, b'{"t":"cases","i":"two","n":3,"d":{"id":"MO-2"}}'),
    "a JSON array": (GOOD, b"[1, 2, 3]"),
    "a document that is a list": (GOOD, b'{"t":"cases","i":2,"n":3,"d":[1]}'),
    "bad UTF-8": (GOOD, b'{"t":"cases","i":2,"n":3,"d":{"id":"\xff\xfe"}}'),
    "zeros in the middle": (GOOD, b"\x00" * 64),
}


def _damaged_content(name: str) -> bytes:
    good, bad = DAMAGED[name]
    return good + bad + (b"" if "no newline" in name else b"\n") + (GOOD[len(HEADER):] if "middle" in name else b"")


@pytest.mark.parametrize("name,command", [(name, ("cases",)) for name in DAMAGED] + [
    ("trailing garbage line", ("case", "MO-1", "--json")), ("bad UTF-8", ("note", "MO-1", "x")),
    ("trailing garbage, no newline", NEW_CASE)])
def test_a_damaged_line_is_set_aside_the_rest_stays_and_every_command_says_so(cli, mocli_env, name, command):
    home = mocli_env["home"]
    home.mkdir(parents=True)
    (home / "cases.db").write_bytes(_damaged_content(name))
    r = cli(*command)
    assert r.code == 0, r.err
    assert "1 damaged record(s)" in r.err and "mocli store check" in r.err and "Traceback" not in r.err
    assert not list(home.glob("cases.db.corrupt-*"))
    [kept] = home.glob("cases.db.quarantine-*")
    assert kept.read_bytes() == DAMAGED[name][1] + b"\n"  # kept byte for byte
    listing = cli("cases", "--json", "--status", "all")
    assert "MO-1" in [c["id"] for c in json.loads(listing.out)]  # the intact case is still there
    assert "1 damaged record(s)" in listing.err  # and the warning comes on every command


@pytest.mark.parametrize("name,command", [(name, ("cases",)) for name in CORRUPT] + [
    ("TinyDB's own JSON format", ("resolve", "MO-1")), ("empty", NEW_CASE)])
def test_a_corrupt_file_is_moved_aside_kept_and_never_replaced(cli, mocli_env, name, command):
    home = mocli_env["home"]
    home.mkdir(parents=True)
    content = CORRUPT[name]
    (home / "cases.db").write_bytes(content)
    r = cli(*command)
    assert r.code == 1, r.err
    assert r.err.count("\n") == 1 and "Traceback" not in r.err
    [kept] = home.glob("cases.db.corrupt-*")
    assert kept.read_bytes() == content  # kept byte for byte
    assert str(kept) in r.err and "is corrupt" in r.err  # the message says where it went
    # The next command starts a new, empty case file; the kept copy is never touched again.
    assert cli("cases", "--json", "--status", "all").out.strip() == "[]"
    assert cli(*NEW_CASE).code == 0
    assert kept.read_bytes() == content and len(list(home.glob("cases.db.corrupt-*"))) == 1


def test_a_second_corruption_never_overwrites_the_first_kept_copy(cli, mocli_env):
    home = mocli_env["home"]
    home.mkdir(parents=True)
    for n, content in enumerate((b"first", b"second", b"third"), start=1):
        (home / "cases.db").write_bytes(content)
        assert cli("cases").code == 1
        kept = sorted(home.glob("cases.db.corrupt-*"), key=lambda p: p.stat().st_mtime_ns)
        assert len(kept) == n  # same second or not: a fresh name every time
    assert {p.read_bytes() for p in home.glob("cases.db.corrupt-*")} == {b"first", b"second", b"third"}


def test_a_report_over_a_corrupt_file_only_reports_it(cli, mocli_env, tmp_path):
    team = tmp_path / "team"
    team.mkdir()
    (team / "ava.db").write_bytes(CORRUPT["TinyDB's own JSON format"])
    r = cli("report", "--db", str(team))
    assert r.code == 1 and r.err.count("\n") == 1
    assert "is corrupt" in r.err and "left untouched" in r.err
    assert (team / "ava.db").read_bytes() == CORRUPT["TinyDB's own JSON format"]
    assert not list(team.glob("*.corrupt-*"))


def test_a_report_over_a_damaged_file_reads_around_the_damage_and_changes_nothing(cli, mocli_env, tmp_path):
    team = tmp_path / "team"
    team.mkdir()
    content = _damaged_content("trailing garbage line") + b'{"t":"cases","i":2,"n":3,"d":{"id":"MO-2"}}\n'
    (team / "ava.db").write_bytes(content)
    r = cli("report", "--format", "json", "--db", str(team))
    assert r.code == 0, r.err
    assert json.loads(r.out)["total"] == 2  # MO-1 and MO-2, around the damaged line
    assert "1 damaged record(s) skipped" in r.err and "left untouched" in r.err
    assert (team / "ava.db").read_bytes() == content and sorted(p.name for p in team.iterdir()) == ["ava.db"]


@pytest.mark.parametrize("tail", [b'{"t":"cases","i":2,"n":3,"d":{"id":"MO-', b'{"t', b"\x00" * 100,
                                  b'{"t":"cases","i":2' + b"\x00" * 30])
def test_what_a_crash_can_leave_is_a_torn_tail_not_corruption(tmp_path, tail):
    path = tmp_path / "cases.db"
    path.write_bytes(GOOD + tail)
    assert [c["id"] for c in CaseStore(path).all()] == ["MO-1"]
    assert [c["id"] for c in store.read_projection(path, lambda c: c, "t")] == ["MO-1"]
    CaseStore(path).add({"id": "MO-2"})
    assert path.read_bytes() == GOOD + b'{"t":"cases","i":2,"n":3,"d":{"id":"MO-2"}}\n'


def test_add_refuses_to_append_to_something_that_is_not_a_store(tmp_path):
    path = tmp_path / "cases.db"
    path.write_bytes(b'{"_default": {}}\n')  # TinyDB's default storage, say
    with pytest.raises(StoreCorrupt, match="moved aside"):
        CaseStore(path).add({"id": "X"})
    [kept] = tmp_path.glob("cases.db.corrupt-*")
    assert kept.read_bytes() == b'{"_default": {}}\n'


# ---------------------------------------------------------------- a stopped process holds the store


def _hold_and_stop(path: str) -> None:
    s = CaseStore(path)
    with s.storage.locked():
        os.kill(os.getpid(), signal.SIGSTOP)


@pytest.fixture
def stopped_holder(mocli_env):
    home = mocli_env["home"]
    CaseStore(home / "cases.db").add({"id": "MO-HELD-00001"})
    pid = _fork(_hold_and_stop, str(home / "cases.db"))
    _, status = os.waitpid(pid, os.WUNTRACED)
    assert os.WIFSTOPPED(status)
    yield home / "cases.db"
    os.kill(pid, signal.SIGKILL)
    _wait(pid)


def test_a_store_held_by_a_stopped_process_is_busy_not_a_hang(stopped_holder):
    started = time.monotonic()
    with pytest.raises(StoreBusy, match="busy"):
        CaseStore(stopped_holder, lock_timeout=0.3).add({"id": "X"})
    with pytest.raises(StoreBusy):
        store.read_projection(stopped_holder, lambda c: c, "t", lock_timeout=0.3)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("command", [("cases",), ("case", "HELD"), ("report",), NEW_CASE])
def test_commands_on_a_store_held_by_a_stopped_process_say_busy(cli, monkeypatch, stopped_holder, command):
    monkeypatch.setenv("MOCLI_LOCK_TIMEOUT", "0.3")
    started = time.monotonic()
    r = cli(*command)
    assert time.monotonic() - started < 10
    assert r.code == 1 and "busy" in r.err and r.err.count("\n") == 1


def test_the_store_is_usable_again_once_the_holder_is_gone(mocli_env):
    path = mocli_env["home"] / "cases.db"
    CaseStore(path).add({"id": "MO-A"})
    pid = _fork(_hold_and_stop, str(path))
    os.waitpid(pid, os.WUNTRACED)
    os.kill(pid, signal.SIGKILL)  # the kernel drops a dead process's lock
    _wait(pid)
    CaseStore(path, lock_timeout=2).add({"id": "MO-B"})
    assert [c["id"] for c in CaseStore(path).all()] == ["MO-A", "MO-B"]
    assert json.loads(json.dumps(CaseStore(path).find("MO-B")))["id"] == "MO-B"
    with pytest.raises(NotFound):
        CaseStore(path).find("MO-C")


# ---------------------------------------------------------------- one damaged line costs one record


def _journal_of(n: int) -> bytes:
    return HEADER + b"".join(f'{{"t":"cases","i":{i},"n":{i + 1},"d":{{"id":"MO-{i}"}}}}\n'.encode()
                             for i in range(1, n + 1))


def test_one_bad_line_in_the_middle_of_75_cases_hides_only_that_one(cli, mocli_env):
    home = mocli_env["home"]
    home.mkdir(parents=True)
    lines = _journal_of(75).split(b"\n")
    lines[38] = lines[38][:20] + b"\xff" + lines[38][21:]  # one flipped byte in case MO-38
    (home / "cases.db").write_bytes(b"\n".join(lines))
    r = cli("cases", "--json", "--status", "all", "--limit", "0")
    assert r.code == 0, r.err
    assert sorted(c["id"] for c in json.loads(r.out)) == sorted(f"MO-{i}" for i in range(1, 76) if i != 38)
    assert "1 damaged record(s)" in r.err
    check = cli("store", "check")
    assert check.code == 1 and "intact cases     74" in check.out and "set aside        1 record(s)" in check.out


def test_a_file_cut_short_in_the_middle_of_a_record_says_so_and_keeps_the_piece(cli, mocli_env):
    home = mocli_env["home"]
    home.mkdir(parents=True)
    whole = _journal_of(75)
    cut = whole[: whole.index(b'{"t":"cases","i":50') + 25]  # a copy that stopped half-way
    (home / "cases.db").write_bytes(cut)
    assert cli(*NEW_CASE).code == 0  # the next save cuts the piece off: it is kept, and said
    [kept] = home.glob("cases.db.quarantine-*")
    assert kept.read_bytes() == cut[cut.rindex(b"\n") + 1:] + b"\n"
    r = cli("cases", "--json", "--status", "all", "--limit", "0")
    assert len(json.loads(r.out)) == 50 and "1 damaged record(s)" in r.err  # 49 intact and the new one


def test_store_repair_recovers_records_run_together_and_the_warnings_stop(cli, mocli_env):
    home = mocli_env["home"]
    home.mkdir(parents=True)
    lines = _journal_of(5).split(b"\n")
    glued = lines[2] + lines[3] + b"\xff"  # a lost newline and a stray byte: MO-2 and MO-3 run together
    flipped = lines[4][:20] + b"\xff" + lines[4][21:]  # MO-4 with a flipped byte: unreadable
    (home / "cases.db").write_bytes(b"\n".join([lines[0], lines[1], glued, flipped, lines[5], b""]))
    first = cli("cases", "--json", "--status", "all")
    assert sorted(c["id"] for c in json.loads(first.out)) == ["MO-1", "MO-5"]
    assert "2 damaged record(s)" in first.err
    r = cli("store", "repair")
    assert r.code == 0, r.err
    assert "recovered 2 case(s)" in r.err and "1 damaged line(s) could not be read" in r.err
    after = cli("cases", "--json", "--status", "all")
    assert sorted(c["id"] for c in json.loads(after.out)) == ["MO-1", "MO-2", "MO-3", "MO-5"]
    assert "damaged" not in after.err  # dealt with: no more warnings
    [reviewed] = home.glob("cases.db.quarantine-*.reviewed")
    assert reviewed.read_bytes() == glued + b"\n" + flipped + b"\n"  # still kept byte for byte
    assert cli("store", "check").code == 0
