"""One contract for the case store interface (store/interface.py), run against both backends: this
agent's local file and a team's PostgreSQL database (MOCLI_TEST_POSTGRES_URL; see conftest)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta

import pytest

from mocli import reporting
from mocli.errors import NotFound, StoreError

NOW = datetime.fromisoformat("2026-11-27T10:00:00-05:00")


@pytest.fixture(params=["local", "postgresql"])
def store(request):
    """The store the commands would open: the local file, or (with a server) an empty team store."""
    if request.param == "postgresql":
        request.getfixturevalue("team_url")
    from mocli.config import load_config
    from mocli.store.factory import open_store

    s = open_store(load_config(calendar=False, templates=False))
    assert s.backend == ("local file" if request.param == "local" else "postgresql")
    yield s
    if hasattr(s, "close"):
        s.close()


@pytest.fixture(scope="session")
def base_case(tmp_path_factory):
    """One real case record, made by the wizard from the demo data (Hana Kim, #1006, UPS, a claim)."""
    import os
    import subprocess
    import sys

    home = tmp_path_factory.mktemp("base")
    env = {**os.environ, "MOCLI_HOME": str(home), "MOCLI_NOW": "2026-11-27T10:00:00-05:00",
           "MOCLI_AGENT": "ava", "MOCLI_CONFIG_DIR": str(home / "conf")}
    env.pop("MOCLI_STORE_URL", None)
    out = subprocess.run([sys.executable, "-m", "mocli", "new-case", "--no-input", "--json", "--customer",
                          "hana.kim@example.com", "--order", "1006", "--address-confirmed", "yes"],
                         env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def make(base, n, *, agent="ava", status="open", tier="Standard", carrier="UPS", action="carrier_investigation",
         customer="C-1008", order=None, follow=None, created=None, line1=None):
    """A variant of the base case: its own id, and the fields the filters and figures read."""
    c = copy.deepcopy(base)
    c["id"] = f"MO-261127-{n:05d}"
    c["agent"] = agent
    c["status"] = status
    c["customer"]["tier"] = tier
    c["customer"]["id"] = customer
    c["order"]["number"] = order or f"#{5000 + n}"
    c["order"]["carrier"] = carrier
    c["tracking"]["carrier"] = carrier
    c["decision"]["action"] = action
    if line1:
        c["order"]["address"]["line1"] = line1
    c["created_at"] = (created or NOW - timedelta(hours=n)).isoformat()
    c["follow_up_by"] = (follow or NOW + timedelta(days=1, minutes=n)).isoformat()
    return c


def test_a_case_added_is_found_by_its_id_and_by_a_unique_end_of_it(store, base_case):
    case = make(base_case, 1)
    store.add(case)
    assert store.find("MO-261127-00001") == case
    assert store.find("00001")["id"] == case["id"]
    assert store.find(" mo-261127-00001 ")["id"] == case["id"]  # what agents type: any case, spaces


def test_an_unknown_or_ambiguous_case_is_not_found(store, base_case):
    store.add(make(base_case, 11))
    store.add(make(base_case, 21))
    with pytest.raises(NotFound, match="no case"):
        store.find("ZZZZZ")
    with pytest.raises(NotFound, match="ambiguous"):
        store.find("1")
    with pytest.raises(NotFound):
        store.find("  ")


def test_an_update_appends_to_the_history_and_returns_what_was_stored(store, base_case):
    store.add(make(base_case, 2))

    def note(c):
        c["history"] = [*c["history"], {"at": NOW.isoformat(), "agent": "ben", "event": "note", "detail": "hi"}]
        return c

    updated = store.update("00002", note)
    assert [e["event"] for e in updated["history"]] == ["opened", "note"]
    assert store.find("00002") == updated


def test_a_change_that_fails_leaves_the_case_as_it_was(store, base_case):
    case = make(base_case, 3)
    store.add(case)

    def refuse(c):
        c["status"] = "resolved"
        raise StoreError("no")

    with pytest.raises(StoreError):
        store.update("00003", refuse)
    assert store.find("00003") == case


def test_listing_filters_sorts_by_follow_up_and_counts_what_the_limit_hides(store, base_case):
    store.add(make(base_case, 1, follow=NOW - timedelta(hours=20)))  # overdue (yesterday)
    store.add(make(base_case, 2, agent="Ben", tier="VIP", follow=NOW + timedelta(hours=3)))  # due today
    store.add(make(base_case, 3, status="resolved", follow=NOW - timedelta(days=1)))
    store.add(make(base_case, 4, carrier="FedEx", action="fraud_review", follow=NOW + timedelta(days=3)))
    store.add(make(base_case, 5, created=NOW - timedelta(days=40), follow=NOW + timedelta(days=2)))
    F = reporting.Filters

    def ids(filters, **kw):
        shown, total = store.list_cases(filters, now=NOW, **kw)
        return [c["id"][-1] for c in shown], total

    assert ids(F(status="open")) == (["1", "2", "5", "4"], 4)
    assert ids(F()) == (["3", "1", "2", "5", "4"], 5)
    assert ids(F(status="open"), limit=2) == (["1", "2"], 4)
    assert ids(F(agent="ben")) == (["2"], 1)
    assert ids(F(tier="vip")) == (["2"], 1)
    assert ids(F(carrier="fedex")) == (["4"], 1)
    assert ids(F(action="fraud_review")) == (["4"], 1)
    assert ids(F(since=NOW - timedelta(days=30))) == (["3", "1", "2", "4"], 4)
    assert ids(F(until=NOW - timedelta(days=30))) == (["5"], 1)
    assert ids(F(status="open"), overdue=True) == (["1"], 1)
    assert ids(F(status="open"), due=True) == (["2"], 1)
    assert ids(F(status="open"), due=True, overdue=True) == (["1", "2"], 2)
    shown, _ = store.list_cases(F(agent="ben"), now=NOW)
    assert shown[0] == store.find("00002")  # whole records, history included


def test_claim_history_finds_the_customers_claims_and_the_claims_at_the_address(store, base_case):
    store.add(make(base_case, 1, customer="C-1", order="#1"))
    store.add(make(base_case, 2, customer="C-2", order="#2"))  # same address, another customer
    store.add(make(base_case, 3, customer="C-1", order="#3", line1="1 Other Street"))
    store.add(make(base_case, 4, customer="C-1", order="#4", action="awaiting_delivery"))  # not a claim
    store.add(make(base_case, 5, customer="C-9", order="#5", line1="9 Elsewhere"))  # neither
    key = make(base_case, 0)["order"]["address"]
    from mocli.addresses import address_key

    got = store.claim_history("C-1", address_key(key))
    mine = {(c["customer"], c["order"]) for c in got if c["customer"] == "C-1" or c["address"] == address_key(key)}
    assert mine >= {("C-1", "#1"), ("C-2", "#2"), ("C-1", "#3")}
    assert ("C-1", "#4") not in {(c["customer"], c["order"]) for c in got}
    assert all(c["on"] == "2026-11-27" or c["on"] < "2026-11-27" for c in got)


def test_the_report_is_the_same_figures_as_computed_from_the_cases(store, base_case):
    cases = [make(base_case, 1, follow=NOW - timedelta(hours=2)),
             make(base_case, 2, agent="ben", tier="VIP", customer="C-2"),
             make(base_case, 3, status="resolved", action="refund_or_replacement", follow=NOW - timedelta(days=1)),
             make(base_case, 4, carrier="FedEx", action="fraud_review", customer="C-3", line1="9 Elsewhere"),
             make(base_case, 5, action="awaiting_delivery", customer="C-4"),
             make(base_case, 6, status="resolved", action="found", customer="C-5"),  # found while opened
             make(base_case, 7, status="resolved", customer="C-2", follow=NOW - timedelta(days=2))]
    cases[2]["resolution"] = {"outcome": "lost", "remedy": "refund", "value": 120.5, "currency": "USD",
                              "resolved_at": NOW.isoformat(), "hours_to_resolution": 7.5}
    cases[6]["resolution"] = {"outcome": "lost", "remedy": "reship", "value": 80, "currency": "EUR",
                              "resolved_at": (NOW - timedelta(days=3)).isoformat(), "hours_to_resolution": 3.25}
    cases[3]["signals"] = [{"rule": "repeat_claims", "evidence": "x", "detail": {}}]
    for c in cases:
        store.add(c)
    every = [reporting.summary(c) for c in cases]
    for filters in (reporting.Filters(), reporting.Filters(agent="BEN"), reporting.Filters(carrier="ups"),
                    reporting.Filters(since=NOW - timedelta(hours=2, minutes=30))):
        expected = reporting.figures(reporting.select(every, filters), NOW)
        got = store.report(filters, NOW)
        for key in ("generated_at", "period", "filters", "sources"):
            expected.pop(key), got.pop(key, None)
        assert got == expected, filters


def test_export_gives_every_case_whole_in_the_order_added(store, base_case):
    cases = [make(base_case, n) for n in (3, 1, 2)]
    for c in cases:
        store.add(c)
    assert list(store.export()) == cases


def test_status_names_the_backend_and_counts_the_cases(store, base_case):
    store.add(make(base_case, 1))
    store.add(make(base_case, 2))
    info = store.status()
    assert info["reachable"] is True and info["cases"] == 2 and info["backend"] == store.backend


def test_the_report_names_the_top_repeat_claimants_and_overdue_cases_with_their_totals(store, base_case):
    """`report --top N`: the N biggest repeat claimants, addresses and most late follow-ups, the same on
    both backends, with how many there are in all; ties broken by name / id, as the full lists sort."""
    cases, n = [], 0
    # Customers C-A..C-E with 2, 3, 2, 4, 2 claims; each customer at an address shared with one other customer.
    for customer, claims, street in (("C-A", 2, "1 Shared"), ("C-B", 3, "1 Shared"), ("C-C", 2, "2 Other"),
                                     ("C-D", 4, "2 Other"), ("C-E", 2, "3 Third"), ("C-F", 1, "3 Third")):
        for _ in range(claims):
            n += 1
            # Follow-ups minutes apart: late by the same hours to the tenth, so the order falls to the ids.
            cases.append(make(base_case, n, customer=customer, line1=street,
                              follow=NOW - timedelta(hours=5, minutes=(n * 7) % 13)))
    for c in cases:
        store.add(c)
    every = [reporting.summary(c) for c in cases]
    full = reporting.figures(every, NOW)
    for top in (1, 2, 3):
        got = store.report(reporting.Filters(), NOW, top=top)
        expected = reporting.figures(every, NOW, top=top)
        for key in ("generated_at", "period", "filters", "sources"):
            expected.pop(key), got.pop(key, None)
        assert got == expected, top
        repeat = got["repeat_claimants"]
        assert repeat["customers"] == full["repeat_claimants"]["customers"][:top]
        assert repeat["addresses"] == full["repeat_claimants"]["addresses"][:top]
        assert (repeat["customers_total"], repeat["addresses_total"]) == (5, 3)
        assert got["overdue_cases"] == full["overdue_cases"][:top] and got["overdue_follow_ups"] == len(cases)
    assert [r["customer"] for r in store.report(reporting.Filters(), NOW, top=2)["repeat_claimants"]["customers"]] \
        == ["C-D", "C-B"]
    every_row = store.report(reporting.Filters(), NOW, top=0)  # 0: every one
    assert len(every_row["repeat_claimants"]["customers"]) == 5 and len(every_row["overdue_cases"]) == len(cases)
