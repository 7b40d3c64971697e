"""`mocli cases --claimable / --claim-expiring` and the recovery figures of `mocli report`."""

from __future__ import annotations

import json

import pytest

from test_cases_support import NOW, build, resolved, store


def first_scan_on(case: dict, day: str) -> dict:
    """The case with its parcel's scans moved so that the first one falls on `day` (ISO date)."""
    from datetime import date, datetime, timedelta

    events = case["tracking"]["events"]
    shift = date.fromisoformat(day) - datetime.fromisoformat(events[-1]["at"]).date()
    for event in events:
        event["at"] = (datetime.fromisoformat(event["at"]) + timedelta(days=shift.days)).isoformat()
    return case


@pytest.fixture
def claim_set(cfg):
    """Cases as of Fri 27 Nov 2026: three claims to file (DHL by 16 Dec, UPS by 19 Jan, a lost UPS refund
    by 22 Jan), and four that are not (on time, not shipped, found, already filed)."""
    cases = [
        # DHL (the demo's #1007 was first scanned on 25 Oct, its claim expired): first scan 16 Nov -> 16 Dec
        first_scan_on(build(cfg, "#1007", case_id="MO-261127-DHL01"), "2026-11-16"),
        build(cfg, "#1006", case_id="MO-261127-UPS06"),  # UPS late, expected 20 Nov -> 19 Jan
        resolved(cfg, build(cfg, "#1001", case_id="MO-261127-UPS01"), NOW, "lost", "refund"),  # -> 22 Jan
        build(cfg, "#1003", case_id="MO-261127-USP03"),  # USPS in transit, on time
        build(cfg, "#1004", case_id="MO-261127-NOS04"),  # not shipped
        resolved(cfg, build(cfg, "#1002", case_id="MO-261127-FND02"), NOW, "found", "confirm"),
        build(cfg, "#1008", case_id="MO-261127-FIL08"),  # FedEx exception, claim filed below
    ]
    cases[-1]["carrier_claim"] = {"carrier": "FedEx", "carrier_ref": "FX-1", "status": "submitted",
                                  "amount": 58.0, "paid": None, "currency": "USD",
                                  "filed_at": NOW.isoformat(), "deadline": "2027-08-16"}
    store(cases)
    return cases


def test_claimable_lists_unfiled_claims_nearest_deadline_first(cli, claim_set):
    r = cli("cases", "--claimable", "--json")
    assert r.code == 0, r.err
    assert [c["id"] for c in json.loads(r.out)] == ["MO-261127-DHL01", "MO-261127-UPS06", "MO-261127-UPS01"]
    r = cli("cases", "--claimable")
    assert r.code == 0, r.err
    assert "Claim by" in r.out and r.out.index("DHL01") < r.out.index("UPS06") < r.out.index("UPS01")
    assert "Wed Dec 16" in r.out


def test_claim_expiring_takes_a_window(cli, claim_set, monkeypatch):
    ids = lambda r: [c["id"] for c in json.loads(r.out)]  # noqa: E731
    assert ids(cli("cases", "--claim-expiring", "19d", "--json")) == ["MO-261127-DHL01"]
    assert ids(cli("cases", "--claim-expiring", "18d", "--json")) == []
    assert ids(cli("cases", "--claim-expiring", "53d", "--json")) == ["MO-261127-DHL01", "MO-261127-UPS06"]
    assert len(ids(cli("cases", "--claim-expiring", "8w", "--json"))) == 3  # 56 days: UPS01 too
    monkeypatch.setenv("MOCLI_NOW", "2026-12-10T10:00:00-05:00")
    assert ids(cli("cases", "--claim-expiring", "7d", "--json")) == ["MO-261127-DHL01"]
    monkeypatch.setenv("MOCLI_NOW", "2026-12-17T10:00:00-05:00")  # DHL's deadline has passed
    assert "MO-261127-DHL01" not in ids(cli("cases", "--claimable", "--json"))


def test_claim_filters_combine_with_the_others(cli, claim_set):
    r = cli("cases", "--claimable", "--status", "open", "--json")
    assert [c["id"] for c in json.loads(r.out)] == ["MO-261127-DHL01", "MO-261127-UPS06"]
    r = cli("cases", "--claimable", "--carrier", "UPS", "--json")
    assert [c["id"] for c in json.loads(r.out)] == ["MO-261127-UPS06", "MO-261127-UPS01"]


@pytest.mark.parametrize("bad", ["soon", "7x", "-3d", ""])
def test_claim_expiring_refuses_a_bad_window(cli, claim_set, bad):
    r = cli("cases", "--claim-expiring", bad)
    assert r.code == 2 and "--claim-expiring" in r.err and "Traceback" not in r.err


# ---------------------------------------------------------------- report: recovery by carrier


@pytest.fixture
def recovery_set(cli, claim_set, monkeypatch):
    """The claim set with UPS01's claim filed and paid 100 of 389 lost, FIL08's FedEx claim pending, and
    the report run on 17 Dec 2026, the day after DHL01's claim deadline passed unfiled."""
    assert cli("claim", "file", "UPS01", "--carrier-ref", "U-1", "--amount", "100").code == 0
    assert cli("claim", "update", "UPS01", "--status", "submitted").code == 0
    assert cli("claim", "update", "UPS01", "--status", "paid", "--paid", "100").code == 0
    monkeypatch.setenv("MOCLI_NOW", "2026-12-17T10:00:00-05:00")


EXPECTED = {
    "FedEx": {"filed": 1, "paid": 0, "denied": 0, "pending": 1, "claimed": {"USD": 58.0}, "recovered": {},
              "lost": {}, "expired_unfiled": 0, "left_with_carrier": {}, "recovery_rate": None},
    "UPS": {"filed": 1, "paid": 1, "denied": 0, "pending": 0, "claimed": {"USD": 100.0},
            "recovered": {"USD": 100.0}, "lost": {"USD": 389.0}, "expired_unfiled": 0, "left_with_carrier": {},
            "recovery_rate": 0.2571},
    "DHL": {"filed": 0, "paid": 0, "denied": 0, "pending": 0, "claimed": {}, "recovered": {}, "lost": {},
            "expired_unfiled": 1, "left_with_carrier": {"USD": 100.0}, "recovery_rate": None},
}


@pytest.mark.usefixtures("recovery_set")
def test_report_json_recovery_by_carrier(cli):
    r = cli("report", "--format", "json")
    assert r.code == 0, r.err
    rec = json.loads(r.out)["recovery"]
    assert rec == EXPECTED and list(rec) == ["FedEx", "UPS", "DHL"]


@pytest.mark.usefixtures("recovery_set")
def test_report_csv_markdown_and_table_show_recovery(cli):
    csv = cli("report", "--format", "csv").out.splitlines()
    for line in ("recovery,UPS,recovered USD,100.0", "recovery,UPS,lost USD,389.0", "recovery,UPS,recovery_rate,0.257",
                 "recovery,DHL,expired_unfiled,1", "recovery,DHL,left_with_carrier USD,100.0",
                 "recovery,FedEx,pending,1"):
        assert line in csv, line
    md = cli("report", "--format", "markdown").out
    assert "## Carrier claims: recovery" in md
    assert "| UPS | 1 | 1 | 0 | 0 | 100.00 USD | 100.00 USD | 389.00 USD | 25.7% | 0 | 0 |" in md
    assert "| DHL | 0 | 0 | 0 | 0 | 0 | 0 | 0 | - | 1 | 100.00 USD |" in md
    table = cli("report").out
    assert "Carrier claims: recovery" in table and "25.7%" in table and "389.00 USD" in table


def test_report_with_no_claims_has_an_empty_recovery(cli):
    r = cli("report", "--format", "json")
    assert r.code == 0 and json.loads(r.out)["recovery"] == {}


@pytest.mark.usefixtures("claim_set")
def test_the_team_stores_recovery_figures_are_the_local_ones(cli, team_url, monkeypatch):
    """The team store reads only what the recovery figures need; the figures stay those of the file."""
    from mocli.config import data_dir

    r = cli("store", "import", str(data_dir() / "cases.db"))
    assert r.code == 0, r.err
    assert cli("claim", "file", "UPS01", "--carrier-ref", "U-1", "--amount", "100").code == 0
    assert cli("claim", "update", "UPS01", "--status", "submitted").code == 0
    assert cli("claim", "update", "UPS01", "--status", "paid", "--paid", "100").code == 0
    monkeypatch.setenv("MOCLI_NOW", "2026-12-17T10:00:00-05:00")
    r = cli("report", "--format", "json")
    assert r.code == 0, r.err
    rec = json.loads(r.out)["recovery"]
    assert rec == EXPECTED and list(rec) == ["FedEx", "UPS", "DHL"]
    assert json.loads(cli("report", "--format", "json", "--carrier", "DHL").out)["recovery"] == {"DHL": EXPECTED["DHL"]}
