"""Type keys into the real questionary wizard through prompt_toolkit's pipe input."""

from __future__ import annotations

import json

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from conftest import on_a_terminal
from mocli.store import CaseStore

ENTER = "\r"
DOWN = "\x1b[B"
UP = "\x1b[A"
CTRL_C = "\x03"
YES = ENTER  # the first choice ("yes") is under the pointer
NO = DOWN + ENTER


@pytest.fixture
def wizard(cli):
    """Run `mocli new-case ARGS` as if on a terminal, typing `keys`; the pipe is closed after them,
    so a prompt the test did not expect fails instead of hanging."""

    def run(keys: list[str], *args: str):
        with create_pipe_input() as inp, create_app_session(input=inp, output=DummyOutput()):
            inp.send_text("".join(keys))
            inp.close()
            return cli("new-case", *args, env=on_a_terminal())

    return run


def stored(mocli_env) -> list[dict]:
    return CaseStore(mocli_env["home"] / "cases.db").all()


def test_vip_delivered_not_received_walks_all_nine_steps(wizard, mocli_env):
    keys = ["ava.thompson@example.com" + ENTER, "1001" + ENTER, YES,  # customer, order, address ok
            "n", "y", "n", "n",  # neighbour? checked spots? theft? found? (y / n keys)
            "Checked porch and lobby" + ENTER,
            "3",  # step 6: the customer decides later between a replacement and a refund
            ENTER]  # review: Save the case
    r = wizard(keys)
    assert r.code == 0, r.err
    for step in range(1, 10):
        assert f"Step {step} of 9" in r.out
    [case] = stored(mocli_env)
    assert case["decision"]["action"] == "refund_or_replacement"
    assert case["decision"]["macro"] == "Retail::Missing Order – Remedy Offered"
    assert case["answers"] == {"address_confirmed": True, "received_by_someone_else": False,
                               "checked_drop_off_spots": True, "theft_in_area": False,
                               "package_found": False, "customer_choice": "later",
                               "notes": "Checked porch and lobby"}
    assert "Monday, November 30" in case["message"]  # 1 business day after Friday 27 Nov
    assert "Retail::Missing Order – Remedy Offered" in r.out
    assert "Resolved (Refund/Replacement)" not in r.out  # step 8's macro, not applied at first contact


def test_step5_questions_are_not_asked_when_not_delivered(wizard, mocli_env):
    # In transit: after the address question only the notes and the review remain.
    r = wizard(["ben.carter@example.com" + ENTER, "#1003" + ENTER, YES, ENTER, ENTER])
    assert r.code == 0, r.err
    [case] = stored(mocli_env)
    assert case["decision"]["action"] == "awaiting_delivery"
    assert set(case["answers"]) == {"address_confirmed", "notes"}


def test_invalid_email_is_refused_at_the_prompt_and_asked_again(wizard, mocli_env):
    keys = ["not-an-email@" + ENTER,  # refused by the prompt's validator: still on the same prompt
            "\x7f" * 20 + "ben.carter@example.com" + ENTER, "1003" + ENTER, YES, ENTER, ENTER]
    r = wizard(keys)
    assert r.code == 0, r.err
    assert stored(mocli_env)[0]["customer"]["email"] == "ben.carter@example.com"


def test_review_lets_the_agent_change_an_answer(wizard, mocli_env):
    keys = ["ava.thompson@example.com" + ENTER, "1001" + ENTER, YES, "n", "y", "n", "n", ENTER, "3",
            DOWN + ENTER,  # review: Change an answer
            DOWN * 6 + ENTER,  # which: package_found (customer, order, address, neighbour, spots, theft, found)
            UP + ENTER,  # the pointer starts on the previous answer ("no"): up to "yes"
            ENTER]  # review again: Save
    r = wizard(keys)
    assert r.code == 0, r.err
    [case] = stored(mocli_env)
    assert case["answers"]["package_found"] is True
    assert case["decision"]["action"] == "found"
    assert case["status"] == "resolved"


def test_ctrl_c_keeps_a_draft_and_resume_continues(wizard, cli, mocli_env):
    r = wizard(["ava.thompson@example.com" + ENTER, "1001" + ENTER, YES, CTRL_C])
    assert r.code == 130
    assert "--resume" in r.err
    assert stored(mocli_env) == []  # nothing half-written in the case store
    [path] = (mocli_env["home"] / "drafts").glob("*.json")  # one draft per customer + order
    draft = json.loads(path.read_text())
    assert draft["answers"] == {"customer": "ava.thompson@example.com", "order": "#1001",
                                "address_confirmed": True}
    r = cli("new-case", "--resume", "--no-input", "--json", "--received-by-someone-else", "no",
            "--checked-drop-off-spots", "yes", "--theft-in-area", "no", "--package-found", "no")
    assert r.code == 0, r.err
    case = json.loads(r.out)
    assert case["customer"]["id"] == "C-1001" and case["order"]["number"] == "#1001"
    assert not path.exists()


def test_a_missing_keypress_fails_instead_of_hanging(wizard, mocli_env):
    r = wizard(["ava.thompson@example.com" + ENTER])  # then the input ends
    assert r.code != 0
    assert stored(mocli_env) == []


def test_a_provider_that_is_down_lets_the_agent_type_the_facts(wizard, mocli_env, monkeypatch):
    from mocli.errors import ProviderError
    from mocli.providers.demo import DemoProvider

    calls = []

    async def crm_down(self, ref):
        calls.append(ref)
        raise ProviderError("demo: the CRM did not answer within 10 s")

    monkeypatch.setattr(DemoProvider, "find_customer", crm_down)
    keys = ["ben.carter@example.com" + ENTER,
            ENTER,  # Try again (fails again)
            DOWN + ENTER,  # Type the customer details by hand
            "Ben Carter" + ENTER, ENTER,  # name; tier (default Standard)
            "1003" + ENTER, YES, ENTER, ENTER]
    r = wizard(keys)
    assert r.code == 0, r.err
    assert "did not answer" in r.out
    assert len(calls) == 2
    [case] = stored(mocli_env)
    assert case["sources"] == {"customer": "manual", "order": "demo", "tracking": "demo"}
    assert case["customer"]["tier"] == "Standard" and case["customer"]["name"] == "Ben Carter"
    assert case["decision"]["action"] == "awaiting_delivery"


def test_carrier_down_then_tracking_typed_by_hand(wizard, mocli_env, monkeypatch):
    from mocli.errors import ProviderError
    from mocli.providers.demo import DemoProvider

    async def carrier_down(self, number, carrier=None):
        raise ProviderError("ups: 503 Service Unavailable")

    monkeypatch.setattr(DemoProvider, "track", carrier_down)
    keys = ["ava.thompson@example.com" + ENTER, "1001" + ENTER,
            DOWN + ENTER,  # Type the tracking details by hand
            DOWN * 4 + ENTER,  # status: from in_transit (the default) down to delivered
            "2026-11-23 14:32" + ENTER, "Delivered" + ENTER, "Brooklyn, NY" + ENTER,
            "Front Door" + ENTER, ENTER,  # where; photo: yes
            YES,  # address confirmed
            "n", "y", "n", "n", ENTER, "3", ENTER]
    r = wizard(keys)
    assert r.code == 0, r.err
    [case] = stored(mocli_env)
    assert case["sources"]["tracking"] == "manual"
    assert case["tracking"]["status"] == "delivered"
    assert case["tracking"]["proof_of_delivery"]["photo_available"] is True
    assert case["decision"]["action"] == "refund_or_replacement"


def test_unknown_customer_is_asked_again(wizard, mocli_env):
    keys = ["nobody@example.com" + ENTER, "ben.carter@example.com" + ENTER, "1003" + ENTER, YES, ENTER, ENTER]
    r = wizard(keys)
    assert r.code == 0, r.err
    assert "no customer" in r.out
    assert stored(mocli_env)[0]["customer"]["id"] == "C-1002"


def test_another_customers_order_is_refused_and_asked_again(wizard, mocli_env):
    keys = ["ben.carter@example.com" + ENTER, "1001" + ENTER, "1003" + ENTER, YES, ENTER, ENTER]
    r = wizard(keys)
    assert r.code == 0, r.err
    assert "belongs to another customer" in r.out
    assert stored(mocli_env)[0]["order"]["number"] == "#1003"


def test_provider_down_without_a_terminal_is_a_clear_failure(cli, monkeypatch):
    from mocli.errors import ProviderError
    from mocli.providers.demo import DemoProvider

    async def down(self, ref):
        raise ProviderError("demo: the CRM did not answer within 10 s")

    monkeypatch.setattr(DemoProvider, "find_customer", down)
    r = cli("new-case", "--no-input", "--customer", "ben.carter@example.com", "--order", "1003",
            "--address-confirmed", "yes")
    assert r.code == 1
    assert "did not answer" in r.err


# ------------------------------------------------------------------ issue 10 item 1: no answer by default


def test_enter_alone_does_not_answer_step5(wizard, mocli_env):
    """Seven Enters on a delivered order used to record "found" and resolve the case: now Enter on a
    step-5 menu with nothing picked answers nothing, so the input runs out and nothing is saved."""
    r = wizard(["ava.thompson@example.com" + ENTER, "1001" + ENTER, YES] + [ENTER] * 8)
    assert r.code != 0
    assert stored(mocli_env) == []


def test_y_and_n_keys_answer_a_yes_no_menu(wizard, mocli_env):
    keys = ["ben.carter@example.com" + ENTER, "1002" + ENTER, "y",  # address confirmed
            "n", "y", "n", "n",  # neighbour? checked spots? theft? found?
            ENTER,  # notes
            ENTER]  # review: save
    r = wizard(keys)
    assert r.code == 0, r.err
    [case] = stored(mocli_env)
    assert case["answers"]["package_found"] is False
    assert case["answers"]["checked_drop_off_spots"] is True
    assert case["status"] == "open"


def test_contradictory_answers_are_questioned_on_the_review_screen(wizard, mocli_env):
    # Found, yet theft in the area and drop-off spots not checked: the review says so and puts
    # "Change an answer" under the pointer, so Enter does not save it blindly.
    keys = ["ben.carter@example.com" + ENTER, "1002" + ENTER, "y",
            "n", "n", "y", "y",  # neighbour no, spots not checked, theft yes, found yes
            ENTER,
            ENTER,  # review: Change an answer (first when answers contradict)
            DOWN * 6 + ENTER,  # which: package_found
            "n",  # not found after all
            ENTER]  # review: Save (first again once nothing contradicts)
    r = wizard(keys)
    out = " ".join(r.out.split())
    assert "found, yet theft in the area" in out
    assert "found, yet the drop-off spots were not checked" in out
    [case] = stored(mocli_env)
    assert case["answers"]["package_found"] is False
    assert case["status"] == "open"


def test_vip_choice_is_asked_at_step_6_and_resolves_in_the_call(wizard, mocli_env):
    keys = ["ava.thompson@example.com" + ENTER, "1001" + ENTER, "y", "n", "y", "n", "n", ENTER,
            "2",  # the customer chooses: 1 replacement, 2 refund, 3 later
            ENTER]  # review: save
    r = wizard(keys)
    assert r.code == 0, r.err
    [case] = stored(mocli_env)
    assert case["answers"]["customer_choice"] == "refund"
    assert case["status"] == "resolved" and case["resolution"]["remedy"] == "refund"
    assert case["decision"]["macro"] == "Retail::Missing Order – Resolved (Refund/Replacement)"


def test_new_case_no_input_vip_choice_flag(cli, mocli_env):
    base = ["new-case", "--no-input", "--json", "--customer", "ava.thompson@example.com", "--order", "1001",
            "--address-confirmed", "yes", "--received-by-someone-else", "no", "--checked-drop-off-spots", "yes",
            "--theft-in-area", "no", "--package-found", "no"]
    later = json.loads(cli(*base).out)
    assert later["status"] == "open" and later["decision"]["macro"] == "Retail::Missing Order – Remedy Offered"
    r = cli(*base, "--customer-choice", "replacement")
    assert r.code == 0, r.err
    chosen = json.loads(r.out)
    assert chosen["status"] == "resolved" and chosen["resolution"]["remedy"] == "reship"
    assert cli(*base, "--customer-choice", "maybe").code == 2


def test_an_address_not_confirmed_asks_where_the_customer_is_now(wizard, mocli_env):
    keys = ["ben.carter@example.com" + ENTER, "1003" + ENTER, "n",  # in transit; address not confirmed
            "9 New Rd, Austin, TX 78701" + ENTER, ENTER, ENTER]  # their address now; notes; save
    r = wizard(keys)
    assert r.code == 0, r.err
    [case] = stored(mocli_env)
    assert case["answers"]["customer_address"] == "9 New Rd, Austin, TX 78701"
    assert case["decision"]["action"] == "carrier_investigation" and case["signals"] == []
    assert "redirect it to 9 New Rd" in " ".join(case["message"].split())



# ------------------------------------------------------------------ issue 10 item 9: drafts


def test_ctrl_c_on_an_empty_wizard_keeps_the_other_draft(wizard, cli, mocli_env):
    r = wizard(["ava.thompson@example.com" + ENTER, "1001" + ENTER, YES, CTRL_C])
    assert r.code == 130
    before = {p.name: p.read_text() for p in (mocli_env["home"] / "drafts").glob("*.json")}
    assert len(before) == 1
    # A fresh wizard: it says a draft exists and offers it; the agent starts a new case, then Ctrl-C at once.
    r = wizard([DOWN + ENTER, CTRL_C])
    assert r.code == 130
    assert "1 draft" in r.out and "nothing to keep" in r.err
    after = {p.name: p.read_text() for p in (mocli_env["home"] / "drafts").glob("*.json")}
    assert after == before  # never overwritten with {}


def test_one_draft_per_customer_and_order_listed_and_discarded(wizard, cli, mocli_env):
    assert wizard(["ava.thompson@example.com" + ENTER, "1001" + ENTER, CTRL_C]).code == 130
    assert wizard([DOWN + ENTER, "ben.carter@example.com" + ENTER, "1002" + ENTER, CTRL_C]).code == 130
    listed = json.loads(cli("drafts", "--json").out)
    assert sorted((d["customer"], d["order"]) for d in listed) == [
        ("ava.thompson@example.com", "#1001"), ("ben.carter@example.com", "#1002")]
    ben = next(d for d in listed if d["order"] == "#1002")
    r = cli("drafts", "--discard", ben["id"])
    assert r.code == 0, r.err
    assert [d["order"] for d in json.loads(cli("drafts", "--json").out)] == ["#1001"]
    assert cli("drafts", "--discard", "nope").code == 1


def test_start_up_offers_to_resume_a_draft(wizard, mocli_env):
    assert wizard(["ben.carter@example.com" + ENTER, "1003" + ENTER, CTRL_C]).code == 130
    r = wizard([ENTER,  # resume the draft for ben.carter / #1003 (the first choice)
                YES, ENTER, ENTER])  # address; notes; save
    assert r.code == 0, r.err
    [case] = stored(mocli_env)
    assert case["order"]["number"] == "#1003"
    assert list((mocli_env["home"] / "drafts").glob("*.json")) == []
def test_review_screen_shows_the_questions_labels_not_keys(wizard, mocli_env):
    """Issue #16 item 2: people read labels; the keys stay in --json and answers files."""
    keys = ["ava.thompson@example.com" + ENTER, "1001" + ENTER, "y", "n", "y", "n", "n", ENTER,
            "3",  # step 6: the VIP decides later
            ENTER]
    r = wizard(keys)
    assert r.code == 0, r.err
    review = r.out.split("Review before saving", 1)[1]
    assert "Someone else received it" in review and "Drop-off spots checked" in review
    for key in ("received_by_someone_else", "checked_drop_off_spots", "address_confirmed", "refund_or_replacement"):
        assert key not in review
    assert stored(mocli_env)[0]["answers"]["received_by_someone_else"] is False


def test_enter_at_the_order_prompt_picks_from_the_customers_recent_orders(wizard, mocli_env, cfg):
    """Issue #16 item 3: the customer does not know the order number."""
    import asyncio

    from mocli.providers.registry import Providers
    from test_cases_support import NOW

    demo = Providers(cfg, NOW.date()).demo
    ben = demo.demo.customer("ben.carter@example.com")
    newest_first = [o.number for o in asyncio.run(demo.recent_orders(ben))]
    assert len(newest_first) >= 2 and set(newest_first) == {"#1002", "#1003"}
    pick = newest_first.index("#1003")
    r = wizard(["ben.carter@example.com" + ENTER, ENTER,  # no number: list their orders
                DOWN * pick + ENTER,  # the in-transit order
                YES, ENTER, ENTER])  # address ok, no notes, save
    assert r.code == 0, r.err
    [case] = stored(mocli_env)
    assert case["order"]["number"] == "#1003"


def test_the_order_picker_shows_number_date_items_and_status(cfg):
    from mocli.providers.registry import Providers
    from mocli.render import order_choice
    from test_cases_support import NOW

    order = Providers(cfg, NOW.date()).demo.demo.order("#1003")
    line = order_choice(order)
    assert line.startswith("#1003  ") and f"{order.placed_at:%Y-%m-%d}" in line
    assert order.items[0][:20] in line and line.endswith(f"({order.fulfillment_status})")


def test_a_tiers_handling_actions_are_a_checklist_ticked_before_saving(wizard, cli, mocli_env):
    """Issue #16 item 4: B2B's "Notify the account manager" is ticked, and the ticks are on the case."""
    keys = ["orders@dunmore-supply.example.com" + ENTER, "1007" + ENTER, YES,  # lost by DHL's rule: no step 5
            ENTER, "3", ENTER,  # no notes; step 6: the customer decides later; review: save
            " " + ENTER]  # tick the first action only
    r = wizard(keys)
    assert r.code == 0, r.err
    [case] = stored(mocli_env)
    assert case["checklist"] == [{"item": "Notify the account manager", "done": True},
                                 {"item": "Ask the receiving contact to check the dock / mail room", "done": False}]
    assert "Not done yet" in r.out
    view = cli("case", case["id"]).out
    assert "[x] Notify the account manager" in view and "[ ] Ask the receiving contact" in view


def test_without_prompts_the_checklist_is_recorded_unticked(cli, mocli_env):
    import json

    r = cli("new-case", "--no-input", "--json", "--customer", "orders@dunmore-supply.example.com",
            "--order", "1007", "--address-confirmed", "yes")
    assert r.code == 0, r.err
    assert [i["done"] for i in json.loads(r.out)["checklist"]] == [False, False]
