"""`mocli resolve` (step 8 and 9) and the pure lifecycle rules behind it, for every tier and outcome."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from conftest import on_a_terminal
from mocli.errors import InvalidInput, MocliError
from mocli.policy import resolving
from test_cases_support import ago, build, store

RESOLVED_MACRO = "Retail::Missing Order – Resolved (Refund/Replacement)"
FOUND_MACRO = "Retail::Missing Order – Found"
CLOSING = "Is there anything else I can help you with today?"
# One demo order per tier: (order, value). Approval limits: VIP 1000, Standard 250, New Customer 150, B2B 5000.
BY_TIER = {"VIP": "#1001", "Standard": "#1002", "New Customer": "#1004", "B2B": "#1007"}


def open_case(cfg, tier: str, case_id: str = "MO-261126-TST01", hours: float = 26) -> dict:
    case = build(cfg, BY_TIER[tier], now=ago(hours=hours), case_id=case_id)
    store([case])
    return case


# ------------------------------------------------------------------ every tier x outcome x remedy


@pytest.mark.parametrize("tier", list(BY_TIER))
@pytest.mark.parametrize("outcome,remedy", [("found", "confirm"), ("found", "redeliver"),
                                            ("lost", "reship"), ("lost", "refund")])
def test_resolve_every_tier_and_outcome(cli, cfg, tier, outcome, remedy):
    case = open_case(cfg, tier)
    args = ["resolve", "TST01", "--no-input", "--json", "--outcome", outcome, "--remedy", remedy]
    if remedy == "refund" and tier != "VIP":
        args += ["--reason", "item discontinued"]  # policy tiers reship unless it cannot be done
    r = cli(*args)
    assert r.code == 0, r.err
    out = json.loads(r.out)
    res = out["resolution"]
    assert out["status"] == "resolved"
    assert (res["outcome"], res["remedy"]) == (outcome, remedy)
    assert res["value"] == (case["order"]["value"] if outcome == "lost" else 0.0)
    assert res["hours_to_resolution"] == 26.0
    assert res["resolved_by"] == "test-agent"
    assert res["remedy_choice"] == ("customer" if tier == "VIP" else "policy")
    assert res["macro"] == (RESOLVED_MACRO if outcome == "lost" else FOUND_MACRO)
    assert res["message"].startswith("Hi ") and CLOSING in res["message"]
    assert case["order"]["number"] in res["message"]
    if remedy == "refund":
        assert f"${case['order']['value']:,.2f}" in res["message"]  # CLDR's en format, by Babel
    # history kept, one event appended, nothing removed
    assert out["history"][:-1] == case["history"]
    assert out["history"][-1]["event"] == "resolved"
    assert "status open → resolved" in out["history"][-1]["detail"]
    assert f"resolved {case['id']}" in r.err


def test_human_output_shows_the_message_and_exact_macro(cli, cfg):
    open_case(cfg, "VIP")
    r = cli("resolve", "TST01", "--no-input", "--outcome", "lost", "--remedy", "reship")
    assert r.code == 0, r.err
    assert RESOLVED_MACRO in r.out
    assert "sent a replacement" in r.out


def test_policy_tier_reships_by_default(cli, cfg):
    open_case(cfg, "Standard")
    r = cli("resolve", "TST01", "--no-input", "--json", "--outcome", "lost")
    assert r.code == 0, r.err
    assert json.loads(r.out)["resolution"]["remedy"] == "reship"


def test_vip_customer_must_choose(cli, cfg):
    open_case(cfg, "VIP")
    r = cli("resolve", "TST01", "--no-input", "--outcome", "lost")
    assert r.code == 2
    assert "--remedy (reship|refund)" in r.err


def test_missing_everything_names_every_flag(cli, cfg):
    open_case(cfg, "VIP")
    r = cli("resolve", "TST01", "--no-input")
    assert r.code == 2
    assert "--outcome (found|lost|damaged|not_confirmed|not_received)" in r.err and "--remedy" in r.err


def test_policy_refund_needs_a_reason(cli, cfg):
    open_case(cfg, "Standard")
    r = cli("resolve", "TST01", "--no-input", "--outcome", "lost", "--remedy", "refund")
    assert r.code == 2 and "--reason" in r.err


def test_found_cannot_be_refunded(cli, cfg):
    open_case(cfg, "VIP")
    r = cli("resolve", "TST01", "--no-input", "--outcome", "found", "--remedy", "refund")
    assert r.code == 2 and "does not apply to a found parcel" in r.err


def test_bad_outcome_is_a_usage_error(cli, cfg):
    open_case(cfg, "VIP")
    r = cli("resolve", "TST01", "--no-input", "--outcome", "stolen")
    assert r.code == 2 and "--outcome" in r.err


# ------------------------------------------------------------------ approval limit


def test_refund_above_the_limit_needs_a_leads_approval(cli, cfg):
    case = build(cfg, "#1012", now=ago(hours=5), case_id="MO-261127-BIG01")  # New Customer, 1249 > 150
    store([case])
    args = ["resolve", "BIG01", "--no-input", "--outcome", "lost", "--remedy", "refund", "--reason", "no stock",
            "--fraud-review", "cleared", "--reviewed-by", "Risk Desk"]  # a fraud-review case: cleared first
    r = cli(*args)
    assert r.code == 2
    assert "--approved-by" in r.err and "1,249.00 USD is above the approval limit of 150.00" in r.err
    assert cli("case", "BIG01", "--json").out.count('"resolved"') == 0  # nothing written

    r = cli(*args, "--approved-by", "test-agent")
    assert r.code == 2 and "cannot be approved by the agent" in r.err

    r = cli(*args, "--approved-by", "Dana Lead", "--json")
    assert r.code == 0, r.err
    res = json.loads(r.out)["resolution"]
    assert res["approved_by"] == "Dana Lead" and res["approval_limit"] == 150.0
    assert res["reason"] == "no stock" and res["value"] == 1249.0
    assert "approved by Dana Lead" in json.loads(r.out)["history"][-1]["detail"]


def test_reship_above_the_limit_needs_a_leads_approval_too(cli, cfg):
    # A $1,249 laptop was reshipped without anyone's approval: a reshipment costs what a refund does.
    store([build(cfg, "#1012", now=ago(hours=5), case_id="MO-261127-BIG02")])
    args = ["resolve", "BIG02", "--no-input", "--outcome", "lost", "--remedy", "reship",
            "--fraud-review", "cleared", "--reviewed-by", "Risk Desk"]
    r = cli(*args)
    assert r.code == 2 and "--approved-by" in r.err and "reship of 1,249.00 USD" in r.err
    r = cli(*args, "--approved-by", "Dana Lead", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["resolution"]["approved_by"] == "Dana Lead"


# ------------------------------------------------------------------ the fraud review gate


def test_a_fraud_review_case_is_not_remedied_before_the_review_is_recorded(cli, cfg):
    store([build(cfg, "#1012", now=ago(hours=5), case_id="MO-261127-FRD01")])  # new customer, high value
    assert json.loads(cli("case", "FRD01", "--json").out)["decision"]["action"] == "fraud_review"
    base = ["resolve", "FRD01", "--no-input", "--outcome", "lost", "--remedy", "reship", "--approved-by", "Dana Lead"]
    r = cli(*base)
    assert r.code == 2 and "--fraud-review" in r.err and "--reviewed-by" in r.err
    r = cli(*base, "--fraud-review", "confirmed", "--reviewed-by", "Risk Desk")
    assert r.code == 2 and "confirmed" in r.err
    assert json.loads(cli("case", "FRD01", "--json").out)["status"] == "open"  # nothing written
    r = cli(*base, "--fraud-review", "cleared", "--reviewed-by", "test-agent")
    assert r.code == 2 and "reviewed by the agent" in r.err
    r = cli(*base, "--fraud-review", "cleared", "--reviewed-by", "Risk Desk", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["resolution"]["fraud_review"] == {"result": "cleared", "reviewed_by": "Risk Desk"}
    assert "fraud review cleared by Risk Desk" in out["history"][-1]["detail"]


def test_a_confirmed_fraud_review_may_still_decline(cli, cfg):
    store([build(cfg, "#1012", now=ago(hours=5), case_id="MO-261127-FRD02")])
    r = cli("resolve", "FRD02", "--no-input", "--json", "--outcome", "not_confirmed", "--remedy", "decline",
            "--fraud-review", "confirmed", "--reviewed-by", "Risk Desk")
    assert r.code == 0, r.err
    assert json.loads(r.out)["resolution"]["fraud_review"]["result"] == "confirmed"


# ------------------------------------------------------------------ refusals and errors


def test_resolving_twice_is_refused_and_changes_nothing(cli, cfg):
    open_case(cfg, "VIP")
    assert cli("resolve", "TST01", "--no-input", "--outcome", "found", "--remedy", "confirm").code == 0
    before = json.loads(cli("case", "TST01", "--json").out)
    r = cli("resolve", "TST01", "--no-input", "--outcome", "lost", "--remedy", "refund")
    assert r.code == 1
    assert "already resolved as found / confirm" in r.err
    assert json.loads(cli("case", "TST01", "--json").out) == before


def test_case_found_at_intake_is_already_resolved(cli, cfg):
    answers = {"address_confirmed": True, "received_by_someone_else": False, "checked_drop_off_spots": True,
               "theft_in_area": False, "package_found": True}
    store([build(cfg, "#1001", answers=answers, case_id="MO-261127-FND01")])
    r = cli("resolve", "FND01", "--no-input", "--outcome", "found", "--remedy", "confirm")
    assert r.code == 1 and "already resolved when it was opened" in r.err


def test_unknown_and_ambiguous_refs(cli, cfg):
    store([build(cfg, "#1001", case_id="MO-261127-AAA11"), build(cfg, "#1002", case_id="MO-261127-BBB11")])
    r = cli("resolve", "ZZZZZ", "--no-input")
    assert r.code == 1 and "no case 'ZZZZZ'" in r.err
    r = cli("resolve", "11", "--no-input")
    assert r.code == 2 and "ambiguous" in r.err  # type more of the id, as git asks


def test_answers_file(cli, cfg, tmp_path):
    open_case(cfg, "VIP")
    f = tmp_path / "a.toml"
    f.write_text('outcome = "lost"\nremedy = "refund"\nnote = "customer prefers refund"\n')
    r = cli("resolve", "TST01", "--no-input", "--json", "--answers", str(f))
    assert r.code == 0, r.err
    case = json.loads(r.out)
    assert case["resolution"]["remedy"] == "refund"
    assert case["history"][-1] == {**case["history"][-1], "event": "note", "detail": "customer prefers refund"}
    f.write_text('outcome = "lost"\nrefund_amount = 3\n')
    r = cli("resolve", "TST01", "--no-input", "--answers", str(f))
    assert r.code in (1, 2)  # already resolved (1) is checked first; unknown keys are a usage error


def test_unknown_answers_key_is_a_usage_error(cli, cfg, tmp_path):
    open_case(cfg, "VIP")
    f = tmp_path / "a.json"
    f.write_text('{"outcome": "lost", "refund_amount": 3}')
    r = cli("resolve", "TST01", "--no-input", "--answers", str(f))
    assert r.code == 2 and "unknown key 'refund_amount'" in r.err


def test_resolved_case_still_validates_against_the_case_model(cli, cfg):
    from mocli.models import Case

    open_case(cfg, "B2B")
    r = cli("resolve", "TST01", "--no-input", "--json", "--outcome", "lost", "--remedy", "reship")
    assert r.code == 0, r.err
    stored = json.loads(r.out)
    case = Case.model_validate(stored)
    assert case.status == "resolved" and (case.resolution.outcome, case.resolution.remedy) == ("lost", "reship")
    assert case.model_dump(mode="json")["resolution"] == stored["resolution"]  # read and written unchanged


# ------------------------------------------------------------------ the pure rules


def tier(choice: str = "policy", limit: float = 250.0):
    return SimpleNamespace(remedy_choice=choice, refund_approval_limit=limit)


CASE = {"id": "MO-1", "status": "open", "created_at": "2026-11-26T10:00:00-05:00",
        "follow_up_by": "2026-11-27T09:00:00-05:00", "order": {"value": 300.0, "currency": "USD"}, "history": []}


@pytest.mark.parametrize("answers,expected", [
    ({}, ["outcome", "remedy"]),
    ({"outcome": "found"}, ["remedy"]),
    ({"outcome": "lost"}, ["remedy"]),
    ({"outcome": "lost", "remedy": "reship"}, ["approved_by"]),  # 300 > 250: a reshipment is approved too
    ({"outcome": "lost", "remedy": "refund"}, ["reason", "approved_by"]),
    ({"outcome": "lost", "remedy": "refund", "reason": "x", "approved_by": "Lead"}, []),
])
def test_questions_policy_tier(answers, expected):
    assert [q.name for q in resolving.questions(CASE, tier(), answers)] == expected


def test_questions_customer_choice_tier_has_no_default_and_no_reason():
    [q] = resolving.questions(CASE, tier("customer", 1000), {"outcome": "lost"})
    assert q.default is None and q.choices == ("reship", "refund")
    assert resolving.questions(CASE, tier("customer", 1000), {"outcome": "lost", "remedy": "refund"}) == []


def test_zero_limit_means_no_approval_needed():
    assert not resolving.needs_approval(CASE, tier(limit=0), "lost", "refund")
    assert resolving.needs_approval(CASE, tier(limit=299.99), "lost", "refund")
    assert not resolving.needs_approval(CASE, tier(limit=300), "lost", "refund")  # "above" the limit


def test_resolve_is_pure_and_records_sla():
    from datetime import datetime

    now = datetime.fromisoformat("2026-11-27T10:00:00-05:00")
    answers = {"outcome": "lost", "remedy": "reship", "approved_by": "Lead"}
    out = resolving.resolve(CASE, tier(), answers, now=now, agent="a", macro="M", message="msg")
    assert CASE["status"] == "open" and CASE["history"] == []  # input untouched
    assert out["resolution"]["within_sla"] is False  # follow-up was 09:00, resolved 10:00
    assert out["resolution"]["hours_to_resolution"] == 24.0
    with pytest.raises(MocliError):
        resolving.resolve(out, tier(), answers, now=now, agent="a", macro="M", message="msg")
    with pytest.raises(InvalidInput):
        resolving.resolve(CASE, tier(), {"outcome": "lost"}, now=now, agent="a", macro="M", message="msg")


# ------------------------------------------------------------------ interactive, through real prompts

ENTER, DOWN = "\r", "\x1b[B"


def test_interactive_resolve_through_questionary(cli, cfg):
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    open_case(cfg, "VIP")
    keys = [DOWN + ENTER,  # outcome: lost
            DOWN + ENTER,  # the customer chooses: refund
            "Customer asked for a refund" + ENTER,  # note
            ENTER]  # confirm
    with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
        inp.send_text("".join(keys))
        inp.close()
        r = cli("resolve", "TST01", env=on_a_terminal())
    assert r.code == 0, r.err
    case = json.loads(cli("case", "TST01", "--json").out)
    assert case["resolution"]["remedy"] == "refund"
    assert case["history"][-1]["detail"] == "Customer asked for a refund"
    assert RESOLVED_MACRO in r.err  # the preview before confirming


def test_interactive_decline_changes_nothing(cli, cfg):
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    open_case(cfg, "Standard")
    with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
        inp.send_text(ENTER + ENTER + ENTER + "n")  # found, confirm, no note, do not resolve
        inp.close()
        r = cli("resolve", "TST01", env=on_a_terminal())
    assert r.code == 130
    assert json.loads(cli("case", "TST01", "--json").out)["status"] == "open"


# ------------------------------------------------------------------ issue 10 item 7: what was established

def test_lost_without_a_carrier_confirmation_claims_none(cli, cfg):
    open_case(cfg, "Standard")
    r = cli("resolve", "TST01", "--no-input", "--json", "--outcome", "lost", "--remedy", "reship")
    assert r.code == 0, r.err
    res = json.loads(r.out)["resolution"]
    assert "confirmed" not in res["message"].lower()
    assert res["carrier_reference"] is None


def test_lost_with_the_carriers_reference_says_so(cli, cfg):
    open_case(cfg, "Standard")
    r = cli("resolve", "TST01", "--no-input", "--json", "--outcome", "lost", "--remedy", "reship",
            "--carrier-reference", "FDX-TRACE-8812")
    assert r.code == 0, r.err
    res = json.loads(r.out)["resolution"]
    assert "has confirmed" in res["message"] and res["carrier_reference"] == "FDX-TRACE-8812"
    assert "FDX-TRACE-8812" in json.loads(r.out)["history"][-1]["detail"]


def test_damaged_parcel_is_its_own_outcome(cli, cfg):
    open_case(cfg, "Standard")
    r = cli("resolve", "TST01", "--no-input", "--json", "--outcome", "damaged", "--remedy", "reship")
    assert r.code == 0, r.err
    res = json.loads(r.out)["resolution"]
    assert res["outcome"] == "damaged" and "damaged" in res["message"]
    assert "lost in transit" not in res["message"]
    assert res["macro"] == RESOLVED_MACRO


def test_carrier_maintains_delivered_decline_is_respectful(cli, cfg):
    open_case(cfg, "Standard")
    r = cli("resolve", "TST01", "--no-input", "--json", "--outcome", "not_confirmed", "--remedy", "decline")
    assert r.code == 0, r.err
    res = json.loads(r.out)["resolution"]
    assert res["value"] == 0.0 and "refund" not in res["message"].lower()
    assert "confirmed" not in res["message"].lower() or "delivered" in res["message"]


def test_goodwill_remedy_when_not_confirmed_needs_an_approver(cli, cfg):
    open_case(cfg, "Standard")
    r = cli("resolve", "TST01", "--no-input", "--outcome", "not_confirmed", "--remedy", "reship")
    assert r.code == 2 and "--approved-by" in r.err
    r = cli("resolve", "TST01", "--no-input", "--json", "--outcome", "not_confirmed", "--remedy", "reship",
            "--approved-by", "Dana Lead")
    assert r.code == 0, r.err
    assert "goodwill" in json.loads(r.out)["resolution"]["message"].lower()


def test_a_vip_case_resolved_at_step_6_is_not_resolved_again(cli, cfg):
    store([build(cfg, "#1001", now=ago(hours=1), case_id="MO-261127-VIP01",
                 answers={"address_confirmed": True, "received_by_someone_else": False,
                          "checked_drop_off_spots": True, "theft_in_area": False, "package_found": False,
                          "customer_choice": "replacement"})])
    r = cli("resolve", "VIP01", "--no-input", "--outcome", "lost", "--remedy", "reship")
    assert r.code == 1 and "already resolved" in r.err


# ------------------------------------------------------------------ step 8 in policy/, typed


def test_the_resolution_record_is_a_typed_model_stored_in_its_documented_shape():
    from datetime import datetime

    from mocli.models import Resolution

    now = datetime.fromisoformat("2026-11-27T10:00:00-05:00")
    answers = {"outcome": "lost", "remedy": "reship", "approved_by": "Lead", "carrier_reference": "TR-1"}
    res = resolving.resolution_record(CASE, tier(), answers, now=now, agent="a", macro="M", message="msg")
    assert isinstance(res, Resolution)
    assert (res.outcome, res.remedy, res.carrier_reference, res.within_sla) == ("lost", "reship", "TR-1", False)
    stored = resolving.resolve(CASE, tier(), answers, now=now, agent="a", macro="M", message="msg")["resolution"]
    assert stored == res.model_dump(mode="json", exclude_unset=True)
    assert "locale" not in stored  # added by `mocli resolve` only when it writes in another language


def test_a_resolution_written_by_another_version_still_reads():
    from mocli.models import Resolution

    old = Resolution.model_validate({"outcome": "found", "remedy": "confirm", "a_later_field": 1})
    assert (old.outcome, old.remedy, old.value, old.fraud_review) == ("found", "confirm", 0.0, None)


def test_every_decision_names_what_closes_its_case():
    from typing import get_args

    from mocli.models import Action
    from mocli.policy.resolving import NEXT_STEP

    assert sorted(NEXT_STEP) == sorted(get_args(Action))
    assert all("{id}" in text for action, text in NEXT_STEP.items() if action != "found")


def test_the_decisions_that_are_claims_are_defined_once():
    from mocli import reporting
    from mocli.policy import claims, opening

    assert reporting.CLAIM_ACTIONS is claims.CLAIM_ACTIONS is opening.CLAIM_ACTIONS
    assert claims.CLAIM_ACTIONS == {"refund_or_replacement", "carrier_investigation", "fraud_review"}
