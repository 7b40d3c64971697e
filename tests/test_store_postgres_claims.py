"""The team store's claim columns (issue #13, migration 3): worked out when a case is written, filled in
for the cases stored before by `mocli store init`, and worked out again when the claim rules change;
until then the report and `cases --claimable` clock the stale cases themselves, with the same figures."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg

from mocli import reporting
from mocli.reporting import recovery_figures
from mocli.store import migrations
from test_store_contract import CLAIM_DAYS, NOW, claim_cases
from test_store_postgres import back_to_schema_2


def team_with(url, cases):
    from mocli.store.postgres import PostgresCaseStore

    store = PostgresCaseStore(url)
    for c in cases:
        store.add(c)
    return store


def claimable_everywhere(store, every, now):
    """What `cases --claimable` lists on the team store, and what the claim clock gives for the cases."""
    from mocli.claim_rules import destination_calendar, load_claim_rules
    from mocli.commands.cases import _claims_to_file
    from mocli.policy.claims import ClaimBook, claimable

    book = ClaimBook(load_claim_rules().rules, now.date(), calendar_for=destination_calendar)
    shown, matched, _ = _claims_to_file(store, reporting.Filters(), now, None, limit=0, due=False, overdue=False)
    return [c["id"] for c in shown], [i for i, _, _ in claimable([(s["id"], s) for s in every], book)]


def test_store_init_works_out_the_claim_columns_of_cases_stored_before_schema_3(cli, team_url, base_case):
    from mocli.policy.claims import worth_claiming

    cases = claim_cases(base_case)
    store = team_with(team_url, cases)
    store.close()
    with psycopg.connect(team_url, autocommit=True) as conn:
        back_to_schema_2(conn)
    every = [reporting.summary(c) for c in cases]
    concerned = sum(1 for s in every if s["carrier_claim"] or worth_claiming(s))

    # the columns, not yet worked out: the figures are right, the slow way
    assert store.init() == (2, migrations.LATEST)
    assert store.recovery(reporting.Filters(), NOW) == (recovery_figures(every, NOW), concerned)
    assert concerned == 10 and store.recovery(reporting.Filters(), NOW)[0]["UPS"]["expired_unfiled"] == 2

    r = cli("store", "init")
    assert r.code == 0, r.err
    assert f"worked out the claim windows of {concerned} cases" in r.out
    assert "worked out" not in cli("store", "init").out  # nothing left to do
    for now in CLAIM_DAYS:
        assert store.recovery(reporting.Filters(), now) == (recovery_figures(every, now), 0)
        shown, expected = claimable_everywhere(store, every, now)
        assert shown == expected
    with psycopg.connect(team_url) as conn:
        windows = dict(conn.execute("SELECT id, claim_expires FROM mocli_cases WHERE claim_expires IS NOT NULL"))
    assert windows["MO-261127-00002"].isoformat() == "2026-11-27"  # 60 days after the expected delivery


def test_a_claim_rule_edit_is_read_the_slow_way_until_store_init_works_the_windows_out_again(
        cli, team_url, base_case, mocli_env):
    from mocli.config import shipped_config_dir

    cases = claim_cases(base_case)
    team_with(team_url, cases).close()
    every = [reporting.summary(c) for c in cases]
    before = recovery_figures(every, NOW)
    shipped = (shipped_config_dir() / "claims.toml").read_text()
    # The agent's own claims.toml: UPS claims close after 30 days instead of 60.
    ups = shipped.index('carrier = "UPS"')
    edited = shipped[:ups] + shipped[ups:].replace("deadline_days = 60", "deadline_days = 30", 1)
    (mocli_env["conf"] / "claims.toml").write_text(edited)
    after = recovery_figures(every, NOW)
    assert after["UPS"]["expired_unfiled"] > before["UPS"]["expired_unfiled"]  # the edit matters

    from mocli.store.postgres import PostgresCaseStore

    store = PostgresCaseStore(team_url)
    stale = store.recovery(reporting.Filters(), NOW)
    assert stale[0] == after and stale[1] > 0
    shown, expected = claimable_everywhere(store, every, NOW)
    assert shown == expected and shown != claimable_everywhere(store, every, NOW - timedelta(days=40))[0]
    r = cli("report", "--format", "json")
    assert r.code == 0 and "mocli store init" in r.err
    assert json.loads(r.out)["recovery"]["UPS"]["expired_unfiled"] == after["UPS"]["expired_unfiled"]

    r = cli("store", "init")
    assert r.code == 0 and f"worked out the claim windows of {stale[1]} cases" in r.out, r.err
    assert store.recovery(reporting.Filters(), NOW) == (after, 0)
    assert claimable_everywhere(store, every, NOW)[0] == expected
    r = cli("report", "--format", "json")
    assert r.code == 0 and r.err == ""


def test_a_claim_rule_edit_that_moves_no_window_leaves_the_windows_as_they_are(team_url, base_case, mocli_env):
    from mocli.config import shipped_config_dir
    from mocli.store.postgres import PostgresCaseStore

    cases = claim_cases(base_case)
    team_with(team_url, cases).close()
    shipped = (shipped_config_dir() / "claims.toml").read_text()
    (mocli_env["conf"] / "claims.toml").write_text(shipped.replace('next_step = "', 'next_step = "Call first. ', 1))
    every = [reporting.summary(c) for c in cases]
    assert PostgresCaseStore(team_url).recovery(reporting.Filters(), NOW) == (recovery_figures(every, NOW), 0)
