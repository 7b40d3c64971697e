"""Text from the CRM, the order system, a carrier or a customer cannot drive the terminal, and is
stored exactly as received."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from mocli.render import sanitize
from mocli.store import CaseStore

HOSTILE = ("Ava\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"
           "[blink]x[/blink][/][link=http://evil.example]y[/link]\u202eevil\u2066\x00\x07" + "A" * 5000)


def demo_with(tmp_path, monkeypatch, **changes):
    data = json.loads(resources.files("mocli.data").joinpath("demo.json").read_text())
    for path, value in changes.items():
        section, index, key = path.split(".")
        data[section][int(index)][key] = value
    f = tmp_path / "demo.json"
    f.write_text(json.dumps(data))
    monkeypatch.setenv("MOCLI_DEMO_DATA", str(f))
    return data


@pytest.mark.parametrize("field", ["customers.0.name", "customers.0.notes"])
def test_hostile_crm_text_is_shown_inert_and_stored_verbatim(cli, tmp_path, monkeypatch, mocli_env, field):
    demo_with(tmp_path, monkeypatch, **{field: HOSTILE})
    r = cli("new-case", "--no-input", "--customer", "ava.thompson@example.com", "--order", "1001",
            "--address-confirmed", "yes", "--received-by-someone-else", "no", "--checked-drop-off-spots", "yes",
            "--theft-in-area", "no", "--package-found", "no", "--notes", HOSTILE[:200])
    assert r.code == 0, r.err
    for bad in ("\x1b", "\x07", "\x00", "\u202e", "\u2066"):
        assert bad not in r.out and bad not in r.err
    assert "[blink]" in r.out  # Rich markup is shown literally, not interpreted
    [case] = CaseStore(mocli_env["home"] / "cases.db").all()
    key = field.split(".")[-1]
    assert case["customer"][key] == HOSTILE  # stored exactly as received
    assert case["answers"]["notes"] == HOSTILE[:200]


def test_hostile_carrier_text(cli, tmp_path, monkeypatch):
    data = json.loads(resources.files("mocli.data").joinpath("demo.json").read_text())
    data["tracking"][0]["events"][0]["description"] = HOSTILE
    data["tracking"][0]["delivered_location"] = "[red]Front[/red] \x1b[31mDoor"
    f = tmp_path / "demo.json"
    f.write_text(json.dumps(data))
    monkeypatch.setenv("MOCLI_DEMO_DATA", str(f))
    r = cli("new-case", "--no-input", "--customer", "ava.thompson@example.com", "--order", "1001",
            "--address-confirmed", "yes", "--received-by-someone-else", "no", "--checked-drop-off-spots", "yes",
            "--theft-in-area", "no", "--package-found", "no")
    assert r.code == 0, r.err
    assert "\x1b" not in r.out
    assert "[red]Front[/red]" in r.out  # markup shown literally, not interpreted


def test_sanitize():
    assert sanitize("a\x1b[2Jb\x1b]0;t\x07c") == "abc"
    assert sanitize("x\u202ey\u200bz\x00") == "xyz"
    assert sanitize("line\nnext\ttab") == "line\nnext\ttab"
    assert len(sanitize("A" * 10_000)) == 2000
    assert sanitize("[bold]kept[/]") == "[bold]kept[/]"  # markup is escaped at display, not removed


@pytest.mark.parametrize("change,needle", [
    ({"orders.0.expected_delivery": "2026-02-30"}, "orders.0.expected_delivery"),
    ({"orders.0.expected_delivery": "2026-02-01"}, "before the order date"),
    ({"orders.0.placed_at": "yesterday"}, "orders.0.placed_at"),
    ({"orders.0.value": "lots"}, "orders.0.value"),
])
def test_bad_dates_and_types_in_provider_data(cli, tmp_path, monkeypatch, change, needle):
    demo_with(tmp_path, monkeypatch, **change)
    r = cli("new-case", "--no-input", "--customer", "ava.thompson@example.com", "--order", "1001",
            "--address-confirmed", "yes")
    assert r.code == 2
    assert needle in r.err
    assert r.err.count("\n") == 1


def test_future_order_date_is_refused(cli, tmp_path, monkeypatch):
    demo_with(tmp_path, monkeypatch, **{"orders.0.placed_at": "2026-04-20T10:00:00-05:00",
                                        "orders.0.expected_delivery": "2026-04-25"})
    r = cli("new-case", "--no-input", "--customer", "ava.thompson@example.com", "--order", "1001",
            "--address-confirmed", "yes")
    assert r.code == 2 and "in the future" in r.err
