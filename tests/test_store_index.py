"""The case file's index (store/index.py): the report, the listing and the claim history it answers equal
what a full read of the journal gives, it follows appends, updates and replaced files, and it is only a
cache. (Speed is measured by benchmarks/report_scale.py, never asserted here.)"""

from __future__ import annotations

import importlib.util
import os
import stat
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mocli import reporting
from mocli.store import CaseStore, read_projection
from mocli.store.index import index_path
from mocli.store.index_queries import report

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "report_scale.py"


def generated(n: int, seed: int = 3) -> list[dict]:
    """`n` realistic cases from the benchmark's recipe (every demo scenario, ~60% of claims resolved)."""
    spec = importlib.util.spec_from_file_location("report_scale", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate(n, seed=seed)


@pytest.fixture(scope="module")
def cases() -> list[dict]:
    os.environ.setdefault("MOCLI_NOW", "2026-11-27T10:00:00-05:00")
    out = generated(240)
    # Shapes the recipe does not make: no follow-up, resolved with no resolution record, a follow-up in
    # another zone, a refund in a currency with three decimals.
    out[0].pop("follow_up_by")
    out[1]["status"] = "resolved"
    out[1].pop("resolution", None)
    out[2]["follow_up_by"] = "2026-11-20T23:30:00+05:30"
    out[3]["resolution"] = {**(out[3].get("resolution") or {}), "remedy": "refund", "value": 12.345,
                            "currency": "KWD", "outcome": "lost"}
    out[4]["resolution"] = {}  # an empty resolution record is still one
    out[5]["tracking"] = {}
    out[6]["signals"] = [{"rule": "repeat_claims"}, "not a signal", {}]
    # Claims in amounts finer than a cent: the recovery figures round after each one, in the order added.
    for i, amount in ((7, 10.005), (8, 0.125), (9, "19.99")):
        out[i]["carrier_claim"] = {"status": "paid", "amount": amount, "paid": amount, "currency": "USD"}
    out[10]["carrier_claim"] = {"status": "denied", "amount": 40, "currency": "CAD"}
    out[11]["carrier_claim"] = {"status": "submitted", "amount": 25.5}
    return out


@pytest.fixture
def path(tmp_path, cases):
    p = tmp_path / "data" / "cases.db"
    s = CaseStore(p)
    s.table.insert_multiple(cases)
    return p


def full_read(path: Path, filters: reporting.Filters, now: datetime, top: int) -> tuple[dict, list]:
    selected = reporting.select(read_projection(path, reporting.summary, "test-full", move_corrupt=False), filters)
    return reporting.figures(selected, now, top=top), selected


def from_index(path: Path, filters: reporting.Filters, now: datetime, top: int) -> tuple[dict, dict]:
    found = report(path, filters, now, top=top, lock_timeout=5)
    assert found is not None, "the index should answer"
    tally, recovered, _, _ = found
    return reporting.assemble(tally, now, top=top), recovered


NOWS = [datetime(2026, 11, 27, 10, tzinfo=ZoneInfo("America/New_York")),
        datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York")),  # the night the clocks go back
        datetime(2026, 10, 2, 23, 59, tzinfo=ZoneInfo("Asia/Kolkata")),  # half an hour off UTC
        datetime(2027, 3, 1, tzinfo=ZoneInfo("UTC"))]


@pytest.mark.parametrize("now", NOWS, ids=lambda n: f"{n:%Y%m%d%H%M}-{n.tzname()}")
def test_the_index_report_is_the_full_read_report_at_any_now_with_any_filter(path, now):
    for filters in (reporting.Filters(), reporting.Filters(tier="vip"), reporting.Filters(status="open"),
                    reporting.Filters(since=now - timedelta(days=40), agent="AGENT03"),
                    reporting.Filters(carrier="ups", until=now - timedelta(days=10), action="carrier_investigation")):
        for top in (20, 0, 2):
            want, selected = full_read(path, filters, now, top)
            got, recovered = from_index(path, filters, now, top)
            assert got == want, (filters, top)
            assert recovered == reporting.recovery_figures(selected, now), (filters, top)
    whole = full_read(path, reporting.Filters(), now, 20)[0]  # the data exercises every figure
    assert whole["repeat_claimants"]["customers_total"] and whole["repeat_claimants"]["addresses_total"]
    assert whole["fraud_reviews"]["signals"] and whole["trends"] and whole["time_to_resolution_hours"]["count"]


def test_the_report_command_gives_the_same_json_from_the_index_as_from_the_journal(cli, path):
    import json

    args = ("report", "--format", "json", "--include-pii", "--db", str(path), "--top", "5")
    indexed = json.loads(cli(*args).out)
    assert index_path(path).exists()
    index_path(path).unlink()
    index_path(path).mkdir()  # an index that cannot be opened: the report reads the journal itself
    assert json.loads(cli(*args).out) == indexed


def test_a_warm_report_projects_only_the_records_appended_since(path, monkeypatch):
    now = NOWS[0]
    from_index(path, reporting.Filters(), now, 20)
    from mocli.store import index

    seen = []
    real = index.row
    monkeypatch.setattr(index, "row", lambda doc_id, case, *a: seen.append(case.get("id")) or real(doc_id, case, *a))
    from_index(path, reporting.Filters(), now, 20)
    assert seen == []  # nothing appended: no case is read again
    s = CaseStore(path)
    first = s.all()[5]["id"]
    s.update(first, lambda c: {**c, "status": "resolved"})
    s.add({**s.all()[7], "id": "MO-261127-NEWONE"})
    got, _ = from_index(path, reporting.Filters(), now, 20)
    assert sorted(seen) == sorted([first, "MO-261127-NEWONE"])  # the two records appended, nothing else
    assert got == full_read(path, reporting.Filters(), now, 20)[0]


def test_a_replaced_journal_or_a_damaged_index_is_read_again_whole(path, tmp_path, cases):
    now = NOWS[0]
    from_index(path, reporting.Filters(), now, 20)
    other = tmp_path / "other" / "cases.db"
    CaseStore(other).table.insert_multiple(cases[:50])
    os.replace(other, path)  # a file restored from a backup: another inode, fewer cases
    got, _ = from_index(path, reporting.Filters(), now, 20)
    assert got["total"] == 50 and got == full_read(path, reporting.Filters(), now, 20)[0]
    index_path(path).write_bytes(b"not a database at all" * 100)
    got, _ = from_index(path, reporting.Filters(), now, 20)
    assert got == full_read(path, reporting.Filters(), now, 20)[0]
    assert stat.S_IMODE(index_path(path).stat().st_mode) == 0o600


def test_a_journal_changed_inside_what_the_index_covers_is_not_trusted(path):
    now = NOWS[0]
    from_index(path, reporting.Filters(), now, 20)
    data = path.read_bytes()
    with open(path, "r+b") as fh:  # same inode, cut in the middle of a record: the index's anchor fails
        fh.truncate(len(data) - 5000)
        fh.seek(0, os.SEEK_END)
        fh.write(b"\n")
    # Read again from the start, the cut record is damage: the report takes the full-read path, which
    # reads around it (tests/test_hardening_store.py).
    assert report(path, reporting.Filters(), now, top=20, lock_timeout=5) is None


def test_a_case_the_columns_cannot_hold_exactly_sends_the_report_to_the_journal(path):
    s = CaseStore(path)
    s.add({**s.all()[0], "id": "MO-261127-NAIVE1", "created_at": "2026-11-20T10:00:00"})  # no UTC offset
    assert report(path, reporting.Filters(), NOWS[0], top=20, lock_timeout=5) is None


def test_another_users_journal_is_indexed_in_memory_only(path, monkeypatch):
    monkeypatch.setattr(os, "getuid", lambda: os.stat(path).st_uid + 1)  # the file is someone else's
    got, _ = from_index(path, reporting.Filters(), NOWS[0], 20)
    assert got["total"] == 240 and not index_path(path).exists()


def test_an_index_that_cannot_be_written_leaves_every_command_working(cli, path):
    import json

    index_path(path).mkdir()  # where the index goes, something that is not a file (as a read-only place)
    r = cli("report", "--format", "json", "--db", str(path))
    assert r.code == 0, r.err
    assert json.loads(r.out)["total"] == 240
    r = cli("cases", "--json", "--db", str(path), "--status", "all", "--limit", "3")
    assert r.code == 0 and len(json.loads(r.out)) == 3, r.err
    case_id = json.loads(r.out)[0]["id"]
    assert cli("note", case_id, "still works", "--db", str(path)).code == 0
    assert index_path(path).is_dir()


@pytest.mark.parametrize("now", NOWS, ids=lambda n: f"{n:%Y%m%d%H%M}-{n.tzname()}")
def test_the_listing_from_the_index_is_the_full_read_listing(path, now):
    from mocli.store.file_backend import LocalCaseStore
    from test_store_fast_paths import _expected

    store = LocalCaseStore(path)
    for filters, kw in ((reporting.Filters(status="open"), {}), (reporting.Filters(), {"limit": 0}),
                        (reporting.Filters(tier="vip", carrier="UPS"), {"limit": 5}),
                        (reporting.Filters(), {"overdue": True, "limit": 0}),
                        (reporting.Filters(status="open", since=now - timedelta(days=30)), {"due": True}),
                        (reporting.Filters(agent="AGENT07"), {"due": True, "overdue": True, "limit": 0})):
        limit = kw.pop("limit", 50)
        shown, count = store.list_cases(filters, now=now, limit=limit, **kw)
        want = _expected(path, now, filters, limit=0, **kw)
        assert [c["id"] for c in shown] == [c["id"] for c in (want[:limit] if limit else want)], (filters, kw)
        assert count == len(want) and shown == (want[:limit] if limit else want)
    assert index_path(path).exists()  # answered from the index


def _window_edges(path: Path) -> list[datetime]:
    """Times either side of the last days of claim windows the index keeps (the day a claim expires
    unfiled), in zones either side of UTC."""
    import sqlite3
    from datetime import date, time

    with sqlite3.connect(index_path(path)) as conn:
        days = sorted({d for (d,) in conn.execute("SELECT expires FROM views WHERE expires IS NOT NULL")})
    assert len(days) > 3, "the data should have claim windows to cross"
    picked = [date.fromordinal(d) for d in (days[0], days[len(days) // 2], days[-1])]
    return [datetime.combine(day + timedelta(days=shift), at, tzinfo=ZoneInfo(zone))
            for day in picked for shift in (0, 1) for at, zone in ((time(0), "Pacific/Kiritimati"),
                                                                    (time(23, 59), "America/Los_Angeles"))]


def test_the_recovery_figures_by_sql_equal_the_claim_clock_either_side_of_a_window_closing(path):
    from_index(path, reporting.Filters(), NOWS[0], 20)  # builds the index
    for now in _window_edges(path):
        for filters in (reporting.Filters(), reporting.Filters(carrier="ups"), reporting.Filters(tier="vip")):
            _, selected = full_read(path, filters, now, 20)
            want = reporting.recovery_figures(selected, now)
            assert from_index(path, filters, now, 20)[1] == want, (now, filters)
    whole = reporting.recovery_figures(full_read(path, reporting.Filters(), NOWS[-1], 20)[1], NOWS[-1])
    assert any(r["expired_unfiled"] and r["left_with_carrier"] for r in whole.values())  # every figure is exercised
    assert all(sum(r[k] if isinstance(r[k], int) else len(r[k]) for r in whole.values())
               for k in ("paid", "denied", "pending", "lost", "recovered"))


def test_a_warm_report_adds_up_the_kept_claim_windows_without_clocking_a_case(path, monkeypatch):
    from mocli.policy.claims import ClaimBook

    from_index(path, reporting.Filters(), NOWS[0], 20)
    clocked = []
    real = ClaimBook.window
    monkeypatch.setattr(ClaimBook, "window", lambda self, case: clocked.append(1) or real(self, case))
    got = from_index(path, reporting.Filters(), NOWS[-1], 20)[1]
    assert clocked == []
    assert got == reporting.recovery_figures(full_read(path, reporting.Filters(), NOWS[-1], 20)[1], NOWS[-1])


def test_windows_kept_under_edited_claim_rules_are_worked_out_again(path, mocli_env):
    from mocli.config import shipped_config_dir

    from_index(path, reporting.Filters(), NOWS[0], 20)
    edges = _window_edges(path)
    before = [from_index(path, reporting.Filters(), at, 20)[1] for at in edges]
    shipped = (shipped_config_dir() / "claims.toml").read_text()
    # The agent's own claims.toml: UPS claims close after 30 days instead of 60.
    ups = shipped.index('carrier = "UPS"')
    (mocli_env["conf"] / "claims.toml").write_text(
        shipped[:ups] + shipped[ups:].replace("deadline_days = 60", "deadline_days = 30", 1))
    after = [from_index(path, reporting.Filters(), at, 20)[1] for at in edges]  # the first works them out again
    for at, got in zip(edges, after, strict=True):
        assert got == reporting.recovery_figures(full_read(path, reporting.Filters(), at, 20)[1], at), at
    assert after != before  # the edit matters


def test_a_claim_case_indexed_by_another_command_has_its_window_worked_out_by_the_next_report(path):
    import sqlite3

    from mocli.store.file_backend import LocalCaseStore

    now = NOWS[0]
    from_index(path, reporting.Filters(), now, 20)
    s = CaseStore(path)
    lost = next(c for c in s.all()
                if (c.get("resolution") or {}).get("outcome") == "lost" and not c.get("carrier_claim"))
    s.add({**lost, "id": "MO-261127-LOST01"})
    LocalCaseStore(path).list_cases(reporting.Filters(), now=now, limit=1)  # indexes it, without the claim rules
    with sqlite3.connect(index_path(path)) as conn:
        assert conn.execute("SELECT count(*) FROM views WHERE rules IS NULL").fetchone() == (1,)
    for at in (now, NOWS[-1]):
        got = from_index(path, reporting.Filters(), at, 20)[1]
        assert got == reporting.recovery_figures(full_read(path, reporting.Filters(), at, 20)[1], at)
    with sqlite3.connect(index_path(path)) as conn:
        assert conn.execute("SELECT count(*) FROM views WHERE rules IS NULL").fetchone() == (0,)
