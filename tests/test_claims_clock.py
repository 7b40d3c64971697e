"""Carrier claim rules (claims.toml, `config check`) and the pure claim clock, pinned on fixed dates."""

from __future__ import annotations

from datetime import date

import pytest

from mocli.claim_rules import destination_calendar, load_claim_rules
from mocli.policy.claims import (
    ClaimFacts,
    add_months,
    check_transition,
    claim_clock,
    claim_facts,
    describe,
    missing_evidence,
    pick_rule,
    recoverable,
)


@pytest.fixture(scope="module")
def rules():
    return load_claim_rules().rules


def facts(carrier, service=None, *, mailed=None, expected=None, delivered=None, country="US", region=None):
    return ClaimFacts(carrier=carrier, service=service, country=country, region=region, mailed=mailed,
                      mailed_assumed=False, expected_delivery=expected, delivered=delivered, last_scan=mailed)


def clock(rules, f, today, **kw):
    return claim_clock(rules, f, today, working_calendar=destination_calendar(f), **kw)


# ---------------------------------------------------------------- the rules file


def test_every_shipped_row_cites_a_source_and_a_checked_date(rules):
    assert {r.carrier for r in rules} >= {"USPS", "UPS", "FedEx", "DHL", "Canada Post", "Royal Mail"}
    for r in rules:
        assert r.source.startswith("http") and r.checked.year >= 2026


def test_config_check_refuses_a_row_without_a_source(cli, mocli_env):
    (mocli_env["conf"] / "claims.toml").write_text(
        '[[rules]]\ncarrier = "UPS"\nname = "UPS"\nearliest_from = "expected_delivery"\nearliest_days = 1\n'
        'deadline_from = "expected_delivery"\ndeadline_days = 60\nliability = 100.0\ncurrency = "USD"\n'
        'checked = 2026-12-08\n')
    r = cli("config", "check")
    assert r.code == 2
    assert "claims.toml: rules.0.source: Field required" in r.err
    assert "Traceback" not in r.err


@pytest.mark.parametrize("line, why", [
    ('source = "see the UPS tariff"', "rules.0.source"),
    ('source = "https://x.example"\nevidence = ["a_selfie"]', "rules.0.evidence"),
    ('source = "https://x.example"\ndeadline_months = 9', "deadline_days and deadline_months"),
])
def test_config_check_names_the_bad_key(cli, mocli_env, line, why):
    (mocli_env["conf"] / "claims.toml").write_text(
        '[[rules]]\ncarrier = "UPS"\nname = "UPS"\nearliest_from = "expected_delivery"\nearliest_days = 1\n'
        'deadline_from = "expected_delivery"\ndeadline_days = 60\nliability = 100.0\ncurrency = "USD"\n'
        f'checked = 2026-12-08\n{line}\n')
    r = cli("config", "check")
    assert r.code == 2 and why in r.err, r.err


def test_config_check_counts_the_claim_rules(cli, rules):
    r = cli("config", "check")
    assert r.code == 0, r.err
    assert f"{len(rules)} carrier claim rules" in r.err


# ---------------------------------------------------------------- the clock, on the dates


def test_usps_mailed_2_november_opens_17_november_and_expires_new_years_day(rules):
    f = facts("USPS", "USPS Ground Advantage", mailed=date(2026, 11, 2))
    early = clock(rules, f, date(2026, 11, 16))
    assert (early.state, early.opens, early.expires) == ("too_early", date(2026, 11, 17), date(2027, 1, 1))
    assert clock(rules, f, date(2026, 11, 17)).state == "eligible"
    assert clock(rules, f, date(2026, 12, 25)).state == "expiring"  # 7 days left
    assert clock(rules, f, date(2026, 12, 24)).state == "eligible"  # 8 days left
    assert clock(rules, f, date(2027, 1, 1)).state == "expiring"  # the last day still counts
    assert clock(rules, f, date(2027, 1, 2)).state == "expired"


def test_priority_mail_express_opens_after_7_days(rules):
    f = facts("USPS", "USPS Priority Mail Express 1-Day", mailed=date(2026, 11, 2))
    c = clock(rules, f, date(2026, 11, 9))
    assert c.rule.service == "Priority Mail Express"
    assert (c.state, c.opens) == ("eligible", date(2026, 11, 9))


def test_ups_opens_24_hours_after_the_scheduled_delivery(rules):
    f = facts("UPS", "UPS Ground", mailed=date(2026, 11, 16), expected=date(2026, 11, 20))
    c = clock(rules, f, date(2026, 11, 20))
    assert (c.state, c.opens, c.expires) == ("too_early", date(2026, 11, 21), date(2027, 1, 19))
    assert "from Sat 2026-11-21 (in 1 day)" in describe(c, date(2026, 11, 20))


def test_royal_mail_counts_working_days_across_the_uk_christmas_bank_holidays(rules):
    # Due Tue 22 Dec 2026: 25 Dec, Boxing Day observed on Mon 28 Dec and 1 Jan are not working days.
    f = facts("Royal Mail", "Royal Mail Tracked 48", mailed=date(2026, 12, 18), expected=date(2026, 12, 22),
              country="GB")
    c = clock(rules, f, date(2027, 1, 7))
    assert (c.state, c.opens) == ("too_early", date(2027, 1, 8))  # weekdays alone would give 5 Jan
    assert c.expires == date(2027, 3, 8)  # 80 calendar days from posting


def test_royal_mail_special_delivery_opens_after_5_working_days(rules):
    f = facts("royalmail", "Special Delivery Guaranteed by 1pm", mailed=date(2026, 12, 21),
              expected=date(2026, 12, 22), country="GB")
    assert clock(rules, f, date(2026, 12, 23)).opens == date(2026, 12, 31)


def test_canada_post_counts_canadian_business_days(rules):
    f = facts("Canada Post", "Expedited Parcel", mailed=date(2026, 6, 22), expected=date(2026, 6, 26),
              country="CA")
    # 1 July (Canada Day) is skipped: 21 business days after Fri 26 June is Tue 28 July, not Mon 27 July.
    assert clock(rules, f, date(2026, 7, 1)).opens == date(2026, 7, 28)


def test_fedex_non_delivery_deadline_is_nine_months_after_tender(rules):
    f = facts("FedEx", "FedEx Ground", mailed=date(2026, 5, 31), expected=date(2026, 6, 3))
    assert clock(rules, f, date(2026, 6, 10)).expires == date(2027, 2, 28)
    assert add_months(date(2027, 5, 31), 9) == date(2028, 2, 29)


def test_dhl_expires_30_days_after_acceptance_and_asks_for_a_trace(rules):
    f = facts("DHL", "DHL Express Worldwide", mailed=date(2026, 11, 2), expected=date(2026, 11, 5))
    c = clock(rules, f, date(2026, 12, 3))
    assert (c.state, c.expires) == ("expired", date(2026, 12, 2))
    assert "trace" in c.rule.next_step


def test_missing_anchor_and_unknown_carrier_are_unknown_not_a_crash(rules):
    assert clock(rules, facts("UPS", mailed=date(2026, 11, 2)), date(2026, 11, 20)).state == "unknown"
    c = clock(rules, facts("OnTrac", mailed=date(2026, 11, 2)), date(2026, 11, 20))
    assert c.state == "unknown" and "no claim rule for carrier OnTrac" in c.reason


def test_the_first_carrier_scan_is_not_the_label_creation():
    case = {"order": {"placed_at": "2026-10-30T09:00:00-05:00", "shipping_method": "UPS Ground",
                      "expected_delivery": "2026-11-06", "address": {"country": "US"}},
            "tracking": {"carrier": "UPS", "delivered_at": None, "events": [
                {"at": "2026-11-03T08:00:00-05:00", "status": "in_transit"},
                {"at": "2026-11-02T19:00:00-05:00", "status": "in_transit"},
                {"at": "2026-10-31T10:00:00-05:00", "status": "pre_transit"}]}}
    f = claim_facts(case)
    assert (f.mailed, f.last_scan, f.expected_delivery, f.mailed_assumed) == \
        (date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 6), False)
    case["tracking"]["events"] = case["tracking"]["events"][2:]
    assert (claim_facts(case).mailed, claim_facts(case).mailed_assumed) == (date(2026, 10, 30), True)


def test_pick_rule_prefers_the_service_row(rules):
    assert pick_rule(rules, "usps", "Priority Mail Express").service == "Priority Mail Express"
    assert pick_rule(rules, "USPS", "USPS Priority Mail").service is None


# ---------------------------------------------------------------- money, evidence, the ledger


def test_recoverable_is_the_carrier_cover_against_the_order_value(rules):
    ups = pick_rule(rules, "UPS", "UPS Ground")
    assert recoverable(ups, 389.0, "USD") == (100.0, "recoverable 100.00 of 389.00 USD")
    assert recoverable(ups, 32.99, "USD")[0] == 32.99
    rm = pick_rule(rules, "Royal Mail", None)
    assert recoverable(rm, 389.0, "USD")[0] is None  # no silent currency conversion


def test_missing_evidence_follows_the_rule_and_the_order_value(rules):
    ups = pick_rule(rules, "UPS", "UPS Ground")
    case = {"order": {"value": 1249.0, "items": ["Laptop"]}, "tracking": {"events": [{"at": "x"}]}}
    assert missing_evidence(ups, case, {}) == ["proof_of_value", "serial_numbers"]
    assert missing_evidence(ups, case, {"invoice": "inv.pdf", "serials": ["SN1"]}) == []
    case["order"]["value"] = 120.0
    assert missing_evidence(ups, case, {"invoice": "inv.pdf"}) == []  # no serials under 500
    dhl = pick_rule(rules, "DHL", None)
    assert "trace_reference" in missing_evidence(dhl, case, {"invoice": "inv.pdf"})


@pytest.mark.parametrize("current, new, ok", [
    ("filed", "submitted", True), ("filed", "paid", False), ("filed", "approved", False),
    ("submitted", "paid", True), ("submitted", "denied", True), ("approved", "paid", True),
    ("partial", "paid", True), ("denied", "submitted", True), ("denied", "paid", False),
    ("paid", "submitted", False), ("submitted", "lost", False),
])
def test_ledger_transitions(current, new, ok):
    assert (check_transition(current, new) is None) is ok


def test_the_report_book_agrees_with_the_single_case_clock(rules, cfg):
    """ClaimBook (reports, `cases --claimable`) and assess (`claim status`) give the same window."""
    from mocli import reporting
    from mocli.policy.claims import ClaimBook, assess
    from test_cases_support import build

    cases = [build(cfg, o) for o in ("#1001", "#1002", "#1003", "#1004", "#1006", "#1007", "#1008", "#1012")]
    gb = build(cfg, "#1006")
    gb["tracking"]["carrier"], gb["order"]["shipping_method"] = "Royal Mail", "Royal Mail Tracked 48"
    gb["order"]["address"]["country"], gb["order"]["address"]["region"] = "GB", "London"
    nowhere = build(cfg, "#1006")
    nowhere["tracking"]["carrier"] = "OnTrac"
    cases += [gb, nowhere]
    for today in (date(2026, 11, 27), date(2026, 12, 20), date(2027, 2, 1)):
        book = ClaimBook(rules, today, calendar_for=destination_calendar)
        for case in cases:
            clock = assess(case, rules, today, calendar_for=destination_calendar)
            assert book.window(reporting.summary(case)) == (clock.state, clock.opens, clock.expires), case["id"]


def test_config_show_includes_the_claim_rules(cli, rules):
    import json

    r = cli("config", "show", "--json")
    assert r.code == 0, r.err
    shown = json.loads(r.out)["claims"]
    assert shown["expiring_within_days"] == 7 and len(shown["rules"]) == len(rules)
    assert shown["rules"][0]["source"].startswith("http") and shown["rules"][0]["checked"] == "2026-12-08"
