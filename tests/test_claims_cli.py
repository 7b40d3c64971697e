"""`mocli claim status | file | update`, the claim line in `mocli case` and at step 8 (resolve)."""

from __future__ import annotations

import json

import pytest

from test_cases_support import build, store


@pytest.fixture
def ava(cfg):
    """VIP, UPS Ground, expected and delivered Mon 23 Nov 2026, 389.00 USD (demo order #1001)."""
    case = build(cfg, "#1001", case_id="MO-261127-AVA01")
    store([case])
    return case


def test_status_json_of_a_ups_case(cli, ava):
    r = cli("claim", "status", "AVA01", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert (out["state"], out["opens"], out["expires"], out["days_left"]) == \
        ("eligible", "2026-11-24", "2027-01-22", 56)
    assert out["recoverable"] == 100.0 and out["recoverable_text"] == "recoverable 100.00 of 389.00 USD"
    assert out["carrier"] == "UPS" and "ups.com" in out["next_step"]
    assert out["facts"]["expected_delivery"] == "2026-11-23" and out["facts"]["service"] == "UPS Ground"
    assert out["source"].startswith("http") and out["claim"] is None


def test_status_table_names_the_state_and_money(cli, ava):
    r = cli("claim", "status", "AVA01")
    assert r.code == 0, r.err
    assert "eligible: can be filed until Fri 2027-01-22 (56 days left)" in r.out
    assert "recoverable 100.00 of 389.00 USD" in r.out


def test_dhl_asks_for_a_trace_and_expires_30_days_after_acceptance(cli, cfg, monkeypatch):
    store([build(cfg, "#1007", case_id="MO-261127-DHL01")])  # DHL Express, first scan Mon 16 Nov
    out = json.loads(cli("claim", "status", "DHL01", "--json").out)
    assert (out["state"], out["opens"], out["expires"], out["days_left"]) == \
        ("eligible", "2026-11-16", "2026-12-16", 19)
    assert "trace" in out["next_step"]
    monkeypatch.setenv("MOCLI_NOW", "2026-12-09T10:00:00-05:00")
    assert json.loads(cli("claim", "status", "DHL01", "--json").out)["state"] == "expiring"  # 7 days left
    monkeypatch.setenv("MOCLI_NOW", "2026-12-17T10:00:00-05:00")
    assert json.loads(cli("claim", "status", "DHL01", "--json").out)["state"] == "expired"


def test_a_found_or_unshipped_case_needs_no_claim(cli, cfg):
    store([build(cfg, "#1004", case_id="MO-261127-NOSHP")])
    out = json.loads(cli("claim", "status", "NOSHP", "--json").out)
    assert out["state"] == "not_needed" and "not shipped" in out["summary"]
    r = cli("claim", "file", "NOSHP", "--carrier-ref", "X1", "--amount", "10")
    assert r.code == 1 and "nothing to claim" in r.err


def test_unknown_case_is_exit_1(cli, ava):
    r = cli("claim", "status", "NOPE9")
    assert r.code == 1 and "Traceback" not in r.err


def test_case_view_and_resolve_show_the_claim_line(cli, ava):
    r = cli("case", "AVA01")
    assert r.code == 0, r.err
    assert "Carrier claim" in r.out and "recoverable 100.00 of 389.00 USD" in r.out
    r = cli("resolve", "AVA01", "--no-input", "--outcome", "lost", "--remedy", "refund")
    assert r.code == 0, r.err
    assert "carrier claim (UPS): eligible: can be filed until Fri 2027-01-22 (56 days left); " \
           "recoverable 100.00 of 389.00 USD" in r.err


def test_resolve_found_says_nothing_about_a_claim(cli, ava):
    r = cli("resolve", "AVA01", "--no-input", "--outcome", "found", "--remedy", "confirm")
    assert r.code == 0, r.err
    assert "carrier claim" not in r.err


# ---------------------------------------------------------------- the ledger


def test_file_then_submit_then_paid_each_a_history_entry(cli, ava):
    r = cli("claim", "file", "AVA01", "--carrier-ref", "UPS-CLM-42", "--amount", "100", "--json")
    assert r.code == 0, r.err
    case = json.loads(r.out)
    claim = case["carrier_claim"]
    assert (claim["status"], claim["amount"], claim["currency"], claim["carrier"], claim["deadline"]) == \
        ("filed", 100.0, "USD", "UPS", "2027-01-22")
    assert case["history"][-1]["event"] == "claim_filed"
    assert "UPS claim UPS-CLM-42 filed for 100.00 USD (deadline 2027-01-22)" == case["history"][-1]["detail"]
    assert cli("claim", "update", "AVA01", "--status", "submitted").code == 0
    r = cli("claim", "update", "AVA01", "--status", "paid", "--paid", "100", "--json")
    assert r.code == 0, r.err
    case = json.loads(r.out)
    assert case["carrier_claim"]["status"] == "paid" and case["carrier_claim"]["paid"] == 100.0
    assert [h["event"] for h in case["history"][-3:]] == ["claim_filed", "claim_submitted", "claim_paid"]
    assert "submitted → paid, 100.00 USD paid of 100.00" in case["history"][-1]["detail"]
    assert "UPS-CLM-42: paid, 100.00 USD claimed, paid 100.00" in cli("case", "AVA01").out
    status = json.loads(cli("claim", "status", "AVA01", "--json").out)
    assert status["claim"]["status"] == "paid" and status["next_step"] is None


def test_no_paid_before_submitted(cli, ava):
    assert cli("claim", "file", "AVA01", "--carrier-ref", "R1", "--amount", "100").code == 0
    r = cli("claim", "update", "AVA01", "--status", "paid", "--paid", "100")
    assert r.code == 1
    assert "a claim that is filed cannot become paid: it can go to submitted" in r.err
    case = json.loads(cli("case", "AVA01", "--json").out)
    assert case["carrier_claim"]["status"] == "filed"  # unchanged
    assert case["history"][-1]["event"] == "claim_filed"


@pytest.mark.parametrize("args, code, words", [
    (["update", "AVA01", "--status", "submitted"], 1, "no carrier claim on record"),
    (["file", "AVA01", "--carrier-ref", "R1", "--amount", "0"], 2, "--amount must be more than 0"),
    (["file", "AVA01", "--carrier-ref", "  ", "--amount", "5"], 2, "--carrier-ref is empty"),
    (["file", "AVA01", "--carrier-ref", "R1", "--amount", "5", "--currency", "dollars"], 2, "three-letter"),
])
def test_bad_ledger_input(cli, ava, args, code, words):
    r = cli("claim", *args)
    assert r.code == code and words in r.err, r.err


def test_ledger_refuses_twice_filed_bad_status_and_paid_without_amount(cli, ava):
    assert cli("claim", "file", "AVA01", "--carrier-ref", "R1", "--amount", "100").code == 0
    r = cli("claim", "file", "AVA01", "--carrier-ref", "R2", "--amount", "100")
    assert r.code == 1 and "already has a UPS claim R1 (filed)" in r.err
    assert cli("claim", "update", "AVA01", "--status", "submitted").code == 0
    r = cli("claim", "update", "AVA01", "--status", "lost")
    assert r.code == 2 and "--status must be one of submitted" in r.err
    r = cli("claim", "update", "AVA01", "--status", "paid")
    assert r.code == 2 and "needs --paid N" in r.err
    r = cli("claim", "update", "AVA01", "--status", "paid", "--paid", "150")
    assert r.code == 2 and "between 0 and the amount claimed" in r.err
    r = cli("claim", "update", "AVA01", "--status", "denied", "--paid", "5")
    assert r.code == 2 and "--paid goes with --status paid only" in r.err
    assert cli("claim", "update", "AVA01", "--status", "denied", "--note", "no proof of value").code == 0
    assert cli("claim", "update", "AVA01", "--status", "submitted", "--note", "appealed with invoice").code == 0
    hist = json.loads(cli("case", "AVA01", "--json").out)["history"]
    assert hist[-1]["detail"] == "claim R1: denied → submitted; appealed with invoice"
