"""The non-interactive contract of `mocli new-case`: flags, --answers, --no-input, --json, bad input."""

from __future__ import annotations

import json

import pytest

from mocli.store import CaseStore

DELIVERED_ANSWERS = ["--address-confirmed", "yes", "--received-by-someone-else", "no",
                     "--checked-drop-off-spots", "yes", "--theft-in-area", "no", "--package-found", "no"]


def test_json_prints_the_stored_case(cli, mocli_env):
    r = cli("new-case", "--no-input", "--json", "--customer", "ava.thompson@example.com", "--order", "1001",
            *DELIVERED_ANSWERS, "--notes", "called twice")
    assert r.code == 0, r.err
    case = json.loads(r.out)
    [stored] = CaseStore(mocli_env["home"] / "cases.db").all()
    assert case == stored
    for key in ("id", "created_at", "agent", "customer", "order", "tracking", "answers", "signals",
                "decision", "follow_up_by", "message", "status", "history"):
        assert key in case
    assert case["customer"]["tier"] == "VIP"
    assert case["agent"] == "test-agent"
    assert case["tracking"]["status"] == "delivered"
    assert case["tracking"]["proof_of_delivery"]["gps"] == {"lat": 40.66871, "lon": -73.98127}
    assert case["decision"]["action"] == "refund_or_replacement"
    assert case["follow_up_by"].startswith("2026-11-30T17:00")
    assert case["answers"]["notes"] == "called twice"
    assert case["history"][0]["event"] == "opened"


def test_no_input_names_every_missing_answer(cli, mocli_env):
    r = cli("new-case", "--no-input", "--customer", "ava.thompson@example.com", "--order", "1001",
            "--address-confirmed", "yes")
    assert r.code == 2
    for key in ("received_by_someone_else", "checked_drop_off_spots", "theft_in_area", "package_found"):
        assert f"--{key.replace('_', '-')}" in r.err  # named as the flags (issue #16)
    assert "notes" not in r.err  # optional
    assert r.err.count("\n") == 1  # one line, no traceback
    assert not (mocli_env["home"] / "cases.db").exists()


def test_no_input_without_customer_and_order(cli):
    r = cli("new-case", "--no-input")
    assert r.code == 2
    assert "--customer" in r.err and "--order" in r.err and "--address-confirmed" in r.err


def test_not_a_terminal_never_prompts(cli):
    # The test runner's stdin is not a terminal: same contract as --no-input.
    r = cli("new-case", "--customer", "ben.carter@example.com")
    assert r.code == 2 and "order" in r.err


@pytest.mark.parametrize("suffix,content", [
    (".toml", 'customer = "ava.thompson@example.com"\norder = "1001"\naddress_confirmed = true\n'
              'received_by_someone_else = false\nchecked_drop_off_spots = true\ntheft_in_area = false\n'
              'package_found = false\nnotes = "from file"\n'),
    (".json", json.dumps({"customer": "ava.thompson@example.com", "order": "#1001", "address_confirmed": True,
                          "received_by_someone_else": False, "checked_drop_off_spots": True,
                          "theft_in_area": False, "package_found": False, "notes": "from file"})),
])
def test_answers_file(cli, tmp_path, suffix, content):
    f = tmp_path / f"answers{suffix}"
    f.write_text(content)
    r = cli("new-case", "--answers", str(f), "--json")
    assert r.code == 0, r.err
    case = json.loads(r.out)
    assert case["answers"]["notes"] == "from file"
    assert case["decision"]["action"] == "refund_or_replacement"


def test_flags_override_the_answers_file(cli, tmp_path):
    f = tmp_path / "a.json"
    f.write_text(json.dumps({"customer": "ben.carter@example.com", "order": "1003", "address_confirmed": True}))
    r = cli("new-case", "--answers", str(f), "--address-confirmed", "no", "--json")
    assert r.code == 0, r.err
    case = json.loads(r.out)
    assert case["answers"]["address_confirmed"] is False
    # A parcel in transit to an address the customer does not confirm: ask the carrier to redirect.
    assert case["decision"]["action"] == "carrier_investigation"


@pytest.mark.parametrize("content,needle", [
    ("", "is empty"),
    ("   \n", "is empty"),
    ('{"customer": 42}', "customer: expected text"),
    ('{"address_confirmed": "maybe"}', "address_confirmed: expected true or false"),
    ('{"colour": "red"}', "unknown key colour"),
    ("[1, 2]", "expected a table/object"),
    ("{not json", "not valid TOML or JSON"),
])
def test_bad_answers_files(cli, tmp_path, content, needle):
    f = tmp_path / "answers.json"
    f.write_text(content)
    r = cli("new-case", "--answers", str(f))
    assert r.code == 2
    assert needle in r.err
    assert "Traceback" not in r.err


def test_missing_answers_file(cli, tmp_path):
    r = cli("new-case", "--answers", str(tmp_path / "nope.toml"))
    assert r.code == 2 and "cannot read" in r.err


@pytest.mark.parametrize("args,code,needle", [
    (["--customer", "nobody@example.com", "--order", "1001", "--address-confirmed", "yes"], 1, "no customer"),
    (["--customer", "ava.thompson@example.com", "--order", "9999", "--address-confirmed", "yes"], 1, "no order #9999"),
    (["--customer", "ava.thompson@example.com", "--order", "10 01; rm", "--address-confirmed", "yes"], 2,
     "is not an order number"),
    (["--customer", "ava@@example", "--order", "1001", "--address-confirmed", "yes"], 2, "not a valid email"),
    (["--customer", "ava.thompson@example.com", "--order", "1002", "--address-confirmed", "yes"], 2,
     "belongs to another customer"),
    (["--customer", "ava.thompson@example.com", "--order", "1001", "--address-confirmed", "perhaps"], 2,
     "expected yes or no"),
])
def test_bad_input_is_one_line_and_a_documented_code(cli, mocli_env, args, code, needle):
    r = cli("new-case", "--no-input", *args)
    assert r.code == code, r.err
    assert needle in r.err
    assert r.err.strip().count("\n") == 0
    assert not (mocli_env["home"] / "cases.db").exists() or CaseStore(mocli_env["home"] / "cases.db").all() == []


def test_resume_without_a_draft(cli):
    r = cli("new-case", "--resume", "--no-input")
    assert r.code == 2 and "no draft" in r.err


def test_a_damaged_case_file_loses_only_its_damaged_line(cli, mocli_env):
    home = mocli_env["home"]
    home.mkdir(parents=True)
    bad = b'{"mocli_store":1}\n{"t":"cases","i":1,"n":2,"d":{"id":"MO-1"}}\nGARBAGE\n{"t":"cases","i":2,"n":3,"d":{}}\n'
    (home / "cases.db").write_bytes(bad)
    r = cli("new-case", "--no-input", "--customer", "ben.carter@example.com", "--order", "1003",
            "--address-confirmed", "yes")
    assert r.code == 0, r.err  # the case is saved beside the intact records
    [kept] = home.glob("cases.db.quarantine-*")
    assert kept.read_bytes() == b"GARBAGE\n" and str(kept) in r.err  # set aside byte for byte, and said
    assert not list(home.glob("cases.db.corrupt-*"))


def test_a_file_that_is_not_a_case_store_is_moved_aside_and_never_replaced(cli, mocli_env):
    home = mocli_env["home"]
    home.mkdir(parents=True)
    bad = b'{"_default": {"1": {"id": "MO-1"}}}'
    (home / "cases.db").write_bytes(bad)
    r = cli("new-case", "--no-input", "--customer", "ben.carter@example.com", "--order", "1003",
            "--address-confirmed", "yes")
    assert r.code == 1
    [kept] = home.glob("cases.db.corrupt-*")
    assert "header" in r.err and str(kept) in r.err  # moved aside and kept, never replaced
    assert kept.read_bytes() == bad


def test_locked_store_says_busy(cli, mocli_env, monkeypatch):
    from filelock import FileLock

    home = mocli_env["home"]
    home.mkdir(parents=True)
    monkeypatch.setenv("MOCLI_LOCK_TIMEOUT", "0.3")
    import multiprocessing as mp

    ready, release = mp.Event(), mp.Event()
    p = mp.get_context("fork").Process(target=_hold_lock, args=(str(home / "cases.db.lock"), ready, release))
    p.start()
    try:
        assert ready.wait(10)
        r = cli("new-case", "--no-input", "--customer", "ben.carter@example.com", "--order", "1003",
                "--address-confirmed", "yes")
    finally:
        release.set()
        p.join(10)
    assert r.code == 1
    assert "busy" in r.err
    del FileLock


def _hold_lock(path, ready, release):
    from filelock import FileLock

    with FileLock(path):
        ready.set()
        release.wait(20)


def test_every_demo_scenario_reaches_its_expected_action(cli):
    r = cli("demo", "--json")
    assert r.code == 0
    scenarios = json.loads(r.out)
    assert len(scenarios) >= 12
    for s in scenarios:
        confirmed = "no" if "mismatch" in s["title"] else "yes"
        neighbour = "yes" if "not yet asked" in s["title"] else "no"
        r = cli("new-case", "--no-input", "--json", "--customer", s["customer"], "--order", s["order"],
                "--address-confirmed", confirmed, "--received-by-someone-else", neighbour,
                "--checked-drop-off-spots", "yes", "--theft-in-area", "no", "--package-found", "no")
        assert r.code == 0, (s, r.err)
        action = json.loads(r.out)["decision"]["action"]
        assert s["expected_action"].startswith(action), (s["title"], action)


def test_claims_already_in_the_case_file_count_as_repeat_claims(cli, mocli_env):
    args = ["--address-confirmed", "yes", "--received-by-someone-else", "no", "--checked-drop-off-spots", "yes",
            "--theft-in-area", "no", "--package-found", "no"]
    first = cli("new-case", "--no-input", "--json", "--customer", "ben.carter@example.com", "--order", "1002", *args)
    assert json.loads(first.out)["decision"]["action"] == "carrier_investigation"
    # Two earlier claims on other orders by the same customer, as another agent's run would have stored them.
    store = CaseStore(mocli_env["home"] / "cases.db")
    earlier = json.loads(first.out)
    for n, order in enumerate(("#0801", "#0802")):
        store.add({**earlier, "id": f"MO-261101-AAAA{n}", "created_at": f"2026-11-0{n + 1}T10:00:00-05:00",
                   "order": {**earlier["order"], "number": order}})
    again = cli("new-case", "--no-input", "--json", "--customer", "ben.carter@example.com", "--order", "1002", *args)
    case = json.loads(again.out)
    assert case["decision"]["action"] == "fraud_review"
    [signal] = case["signals"]
    assert signal["rule"] == "repeat_claims" and "#0801" in signal["evidence"] and "#0802" in signal["evidence"]


# ------------------------------------------------------------------ issue 11 item 3: tracking gone


STEP5 = ["--received-by-someone-else", "no", "--checked-drop-off-spots", "yes", "--theft-in-area", "no",
         "--package-found", "no"]


def _carrier_forgot(monkeypatch):
    from mocli.errors import NotFound
    from mocli.providers.demo import DemoProvider

    async def expired(self, number, carrier=None):
        raise NotFound(f"fedex: no tracking for {number} (older than the carrier keeps it)")

    monkeypatch.setattr(DemoProvider, "track", expired)


def test_no_input_opens_a_case_without_tracking_and_says_why(cli, monkeypatch):
    _carrier_forgot(monkeypatch)
    # #1011: the order system marks it delivered; the carrier no longer knows the number.
    r = cli("new-case", "--no-input", "--json", "--customer", "farah.haddad@example.com", "--order", "1011",
            "--address-confirmed", "yes", *STEP5)
    assert r.code == 0, r.err
    case = json.loads(r.out)
    assert case["tracking"] is None
    assert case["tracking_unavailable"]["source"]  # the provider that was asked
    assert "no tracking for 772048199332" in case["tracking_unavailable"]["reason"]
    # Delivered by the order system: step 5 applies, and it is not a loss.
    assert case["decision"]["situation"] == "delivered"
    assert case["answers"]["package_found"] is False


def test_no_input_without_tracking_still_asks_for_step5_when_the_order_says_delivered(cli, monkeypatch):
    _carrier_forgot(monkeypatch)
    r = cli("new-case", "--no-input", "--customer", "farah.haddad@example.com", "--order", "1011",
            "--address-confirmed", "yes")
    assert r.code == 2 and "--package-found" in r.err
