"""One contract for the case store interface (store/interface.py), run against both backends: this
agent's local file and a team's PostgreSQL database (MOCLI_TEST_POSTGRES_URL; see conftest)."""

from __future__ import annotations

import copy
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


def test_the_overdue_count_behind_a_limit_spans_days_agents_and_now(store, base_case):
    late = [timedelta(days=3), timedelta(days=1, hours=2), timedelta(hours=20), timedelta(minutes=5)]
    for n, ago in enumerate(late, 1):
        store.add(make(base_case, n, agent=("ava", "ben")[n % 2], follow=NOW - ago))
    store.add(make(base_case, 5, follow=NOW + timedelta(minutes=5)))  # later today: not overdue yet
    store.add(make(base_case, 6, status="resolved", follow=NOW - timedelta(days=2)))

    def count(filters):
        shown, total = store.list_cases(filters, now=NOW, overdue=True, limit=1)
        return len(shown), total

    assert count(reporting.Filters(status="open")) == (1, 4)
    assert count(reporting.Filters()) == (1, 4)
    assert count(reporting.Filters(agent="BEN", status="open")) == (1, 2)
    assert count(reporting.Filters(carrier="ups")) == (1, 4)


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


def assert_report_is_of(store, cases, *filter_sets):
    """The store's report under each filter set is the figures reporting.figures gives for those cases."""
    every = [reporting.summary(c) for c in cases]
    for filters in filter_sets:
        expected = reporting.figures(reporting.select(every, filters), NOW)
        got = store.report(filters, NOW)
        for key in ("generated_at", "period", "filters", "sources"):
            expected.pop(key), got.pop(key, None)
        assert got == expected, filters


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
    assert_report_is_of(store, cases, reporting.Filters(), reporting.Filters(agent="BEN"),
                        reporting.Filters(carrier="ups"), reporting.Filters(since=NOW - timedelta(hours=2, minutes=30)))


def test_the_report_stays_the_figures_of_the_cases_after_they_are_edited_and_resolved(store, base_case):
    cases = [make(base_case, n, agent=("ava", "ben")[n % 2], tier=("Standard", "VIP")[n % 3 == 0],
                  carrier=("UPS", "FedEx")[n % 4 == 0], follow=NOW + timedelta(minutes=50 - 20 * n))
             for n in range(1, 7)]
    for c in cases:
        store.add(c)

    def resolve(c):
        c["status"] = "resolved"
        c["resolution"] = {"outcome": "lost", "remedy": "refund", "value": 12.5, "currency": "EUR",
                           "resolved_at": (NOW - timedelta(minutes=30)).isoformat(), "hours_to_resolution": 2.5}
        return c

    def move(c):
        c["follow_up_by"] = (NOW + timedelta(days=2)).isoformat()
        c["agent"] = "cleo"
        return c

    for n, change in ((1, resolve), (4, resolve), (2, move), (5, move), (4, move)):
        changed = store.update(cases[n - 1]["id"], change)
        cases[n - 1] = {**changed, "history": []}
    assert_report_is_of(store, cases, reporting.Filters(), reporting.Filters(agent="CLEO"),
                        reporting.Filters(status="resolved"), reporting.Filters(tier="vip", carrier="fedex"),
                        reporting.Filters(since=NOW - timedelta(hours=3)))


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


def claim_cases(base):
    """Claim cases around the UPS rule's window (opens the day after the expected delivery, closes 60 days
    after it), NOW being 2026-11-27: expired, expiring today, opening today; lost, filed, found, not claims."""
    def on(n, expected, **kw):
        c = make(base, n, **kw)
        c["order"]["expected_delivery"] = expected
        return c

    cases = [on(1, "2026-09-01"),  # expired 2026-10-31, unfiled: 96 USD left with UPS
             on(2, "2026-09-28", customer="C-2"),  # closes 2026-11-27: expired from tomorrow
             on(3, "2026-09-27", status="resolved", action="refund_or_replacement"),  # lost, closed yesterday
             on(4, "2026-10-20"), on(5, "2026-10-21", tier="VIP"), on(6, "2026-10-22", agent="ben"),  # filed
             on(7, "2026-08-01", carrier="FedEx", action="fraud_review", customer="C-3"),  # EUR order
             on(8, "2026-09-01", status="resolved", action="found"),  # found: nothing to claim
             on(9, "2026-09-01", action="awaiting_delivery"),  # not a claim
             on(10, "2026-11-26", customer="C-4"),  # opens today
             on(11, "2026-11-10", status="resolved", customer="C-5"),  # lost in EUR, window open
             on(12, "2026-11-20", agent="ben", action="fraud_review")]
    cases[2]["resolution"] = {"outcome": "lost", "remedy": "refund", "value": 120.5, "currency": "USD",
                              "resolved_at": NOW.isoformat(), "hours_to_resolution": 7.5}
    cases[10]["resolution"] = {"outcome": "lost", "remedy": "reship", "value": 80.1, "currency": "EUR",
                               "resolved_at": NOW.isoformat(), "hours_to_resolution": 2}
    cases[7]["resolution"] = {"outcome": "found", "remedy": "none", "value": 0, "currency": "USD",
                              "resolved_at": NOW.isoformat(), "hours_to_resolution": 1}
    cases[3]["carrier_claim"] = {"status": "paid", "amount": 96, "paid": 80.25, "currency": "USD", "carrier": "UPS"}
    cases[4]["carrier_claim"] = {"status": "denied", "amount": 50.5, "paid": None, "currency": "EUR", "carrier": "UPS"}
    cases[5]["carrier_claim"] = {"status": "submitted", "amount": 12.34, "currency": "USD", "carrier": "UPS"}
    cases[6]["order"]["currency"] = "EUR"
    return cases


# Around the window edges: the day before NOW (case 10 too early), NOW (case 2's last day, case 10's first),
# the day after (case 2 expired), and two months on (every window closed).
CLAIM_DAYS = (NOW - timedelta(days=1), NOW, NOW + timedelta(days=1), NOW + timedelta(days=62))


def test_the_recovery_figures_are_the_same_as_the_claim_clock_gives_around_window_edges(store, base_case):
    from mocli.reporting import recovery_figures

    cases = claim_cases(base_case)
    for c in cases:
        store.add(c)
    every = [reporting.summary(c) for c in cases]
    for now in CLAIM_DAYS:
        for filters in (reporting.Filters(), reporting.Filters(carrier="ups"), reporting.Filters(agent="ben")):
            expected = recovery_figures(reporting.select(every, filters), now)
            assert store.recovery(filters, now) == (expected, 0), (now, filters)
    ups = [store.recovery(reporting.Filters(), now)[0]["UPS"] for now in CLAIM_DAYS]
    assert [r["expired_unfiled"] for r in ups] == [1, 2, 3, 6]  # the edges fall where the clock puts them
    assert ups[1]["left_with_carrier"] == {"USD": 192.0} and ups[1]["recovered"] == {"USD": 80.25}
    assert ups[1]["lost"] == {"USD": 120.5, "EUR": 80.1} and (ups[1]["paid"], ups[1]["denied"]) == (1, 1)
    later = NOW + timedelta(days=365)  # FedEx counts nine months from the first scan
    fedex = store.recovery(reporting.Filters(), later)[0]["FedEx"]
    assert store.recovery(reporting.Filters(), later)[0] == recovery_figures(every, later)
    assert fedex["expired_unfiled"] == 1 and fedex["left_with_carrier"] == {}  # the rule's USD, an EUR order


def test_claimable_cases_are_the_same_as_the_claim_clock_gives_around_window_edges(store, base_case):
    from mocli.claim_rules import destination_calendar, load_claim_rules
    from mocli.commands.cases import _claims_to_file
    from mocli.policy.claims import ClaimBook, claimable

    cases = claim_cases(base_case)
    for c in cases:
        store.add(c)
    every = [(c["id"], reporting.summary(c)) for c in cases]
    rules = load_claim_rules()
    for now in CLAIM_DAYS:
        book = ClaimBook(rules.rules, now.date(), calendar_for=destination_calendar)
        for window, limit, overdue in ((None, 0, False), (7, 0, False), (None, 2, False), (None, 0, True)):
            keep = claimable([(i, s) for i, s in every if not overdue or reporting.is_overdue(s, now)], book, window)
            shown, matched, deadlines = _claims_to_file(store, reporting.Filters(), now, window, limit=limit,
                                                        due=False, overdue=overdue)
            assert [c["id"] for c in shown] == [i for i, _, _ in keep][:limit or None], (now, window, limit)
            assert matched == len(keep) and deadlines == {i: d for i, _, d in keep[:limit or None]}
            assert shown == [store.find(c["id"]) for c in shown]  # whole cases
    today, _, _ = _claims_to_file(store, reporting.Filters(), NOW, None, limit=0, due=False, overdue=False)
    before, _, _ = _claims_to_file(store, reporting.Filters(), NOW - timedelta(days=1), None, limit=0, due=False,
                                   overdue=False)
    assert "MO-261127-00010" in {c["id"] for c in today} - {c["id"] for c in before}  # opens today
