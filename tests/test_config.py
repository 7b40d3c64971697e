"""Configuration: layering, validation naming file and key, and locked-down templates."""

from __future__ import annotations

import json

import pytest

from mocli.config import load_config
from mocli.templates import render


def test_shipped_defaults_are_valid(cli):
    r = cli("config", "check")
    assert r.code == 0, r.err
    assert "config OK" in r.err
    cfg = load_config()
    assert set(cfg.tiers) == {"VIP", "Standard", "New Customer", "B2B"}
    assert cfg.messages.outcomes["carrier_investigation"].macro == "Retail::Missing Order – Carrier Investigation"
    # Step 8's macro, applied when a remedy is given (never to step 6's offer alone)
    assert cfg.messages.resolutions["lost_reship"].macro == \
        "Retail::Missing Order – Resolved (Refund/Replacement)"
    assert "\u2013" in cfg.messages.outcomes["carrier_investigation"].macro  # en dash, not a hyphen


def test_a_user_file_overrides_one_key_and_keeps_the_rest(mocli_env):
    (mocli_env["conf"] / "tiers.toml").write_text('[tiers.VIP]\nsla = { amount = 3, unit = "business_days" }\n')
    cfg = load_config()
    assert cfg.tiers["VIP"].sla.amount == 3
    assert cfg.tiers["VIP"].on_lost == "refund_or_replacement"  # from the shipped defaults
    assert cfg.tiers["Standard"].sla.amount == 2


def test_environment_overrides_settings(monkeypatch):
    monkeypatch.setenv("MOCLI_TIMEZONE", "Europe/Paris")
    monkeypatch.setenv("MOCLI_COUNTRY", "fr")
    cfg = load_config()
    assert cfg.settings.calendar.timezone == "Europe/Paris"
    assert cfg.settings.calendar.country == "FR"


@pytest.mark.parametrize("file,content,needle", [
    ("settings.toml", '[calendar]\ntimezone = "Mars/Olympus"\n', "calendar.timezone: Value error, unknown time zone"),
    ("settings.toml", '[calendar]\ncountry = "XX"\n', "calendar.country"),
    ("tiers.toml", '[tiers.VIP]\nsla = { amount = -1, unit = "business_days" }\n', "tiers.VIP.sla.amount"),
    ("tiers.toml", '[tiers.VIP]\non_lost = "shrug"\n', "tiers.VIP.on_lost"),
    ("policy.toml", '[fraud.repeat_claims]\nwindow_dayz = 3\n', "fraud.repeat_claims.window_dayz"),
    ("settings.toml", "[calendar\n", "not valid TOML"),
])
def test_errors_name_the_file_and_the_key(cli, mocli_env, file, content, needle):
    (mocli_env["conf"] / file).write_text(content)
    r = cli("config", "check")
    assert r.code == 2
    assert str(mocli_env["conf"] / file) in r.err
    assert needle in r.err
    assert r.err.count("\n") == 1


@pytest.mark.parametrize("template,needle", [
    ("Hi {{ frist_name }}", "unknown placeholder frist_name"),
    ("{{ first_name.__class__ }}", "only plain"),
    ("{{ ''.__class__.__mro__ }}", "only plain"),
    ("{{ first_name|upper }}", "only plain"),
    ("{{ cycler() }}", "only plain"),
    ("{% for x in first_name %}{{ x }}{% endfor %}", "statements are not allowed"),
    ("{{ first_name", "syntax error"),
])
def test_unsafe_or_unknown_templates_are_refused_at_config_check(cli, mocli_env, template, needle):
    (mocli_env["conf"] / "messages.toml").write_text(
        f"[outcomes.found]\nmacro = \"M\"\ntemplate = {json.dumps(template)}\n")
    r = cli("config", "check")
    assert r.code == 2
    assert "outcomes.found.template" in r.err and needle in r.err
    # ...and the wizard refuses to run with it rather than send a broken message.
    r = cli("new-case", "--no-input", "--customer", "ben.carter@example.com", "--order", "1003",
            "--address-confirmed", "yes")
    assert r.code == 2


def test_values_are_inserted_literally():
    text = render("Hi {{ first_name }}", {"first_name": "{{ 7*7 }} [bold]x[/] \x1b[2J"})
    assert text == "Hi {{ 7*7 }} [bold]x[/] \x1b[2J"  # the message keeps what the customer typed


def test_config_path_and_show(cli, mocli_env):
    r = cli("config", "path", "--json")
    assert r.code == 0
    paths = json.loads(r.out)
    assert paths["cases"] == str(mocli_env["home"] / "cases.db")
    assert paths["user_config"] == str(mocli_env["conf"])
    r = cli("config", "show", "--json")
    assert r.code == 0
    shown = json.loads(r.out)
    assert shown["tiers"]["Standard"]["sla"] == {"amount": 2.0, "unit": "business_days"}


def test_bad_demo_data_file_is_a_clear_error(cli, tmp_path, monkeypatch):
    bad = tmp_path / "demo.json"
    bad.write_text(json.dumps({"format": "mocli-demo/1", "as_of": "2026-03-10",
                               "customers": [{"id": "C-1", "email": "a@b.co", "name": "A", "tier": "VIP",
                                              "colour": "red"}]}))
    monkeypatch.setenv("MOCLI_DEMO_DATA", str(bad))
    r = cli("config", "check")
    assert r.code == 2
    assert "customers.0.colour" in r.err


def test_unknown_tier_in_data_is_named(cli, tmp_path, monkeypatch):
    from importlib import resources

    data = json.loads(resources.files("mocli.data").joinpath("demo.json").read_text())
    data["customers"][0]["tier"] = "Platinum"
    f = tmp_path / "demo.json"
    f.write_text(json.dumps(data))
    monkeypatch.setenv("MOCLI_DEMO_DATA", str(f))
    r = cli("new-case", "--no-input", "--customer", data["customers"][0]["email"], "--order", "1001",
            "--address-confirmed", "yes")
    assert r.code == 2 and "no tier named 'Platinum'" in r.err


@pytest.mark.parametrize("template", ["Hi {first_name}", "{x.__class__}", "{0[1]}", "Order {order_number }"])
def test_format_style_placeholders_are_refused(cli, mocli_env, template):
    (mocli_env["conf"] / "messages.toml").write_text(
        f"[outcomes.found]\nmacro = \"M\"\ntemplate = {json.dumps(template)}\n")
    r = cli("config", "check")
    assert r.code == 2 and "str.format" in r.err


def test_config_check_builds_the_configured_providers(cli, mocli_env, monkeypatch):
    (mocli_env["conf"] / "settings.toml").write_text(
        '[providers]\ncustomers = "shopify"\norders = "shopify"\n'
        '[providers.settings.shopify]\nshop = "example"\ntoken_env = "TEST_SHOPIFY_TOKEN"\n')
    monkeypatch.delenv("TEST_SHOPIFY_TOKEN", raising=False)
    r = cli("config", "check")
    assert r.code == 2 and "TEST_SHOPIFY_TOKEN is not set" in r.err
    monkeypatch.setenv("TEST_SHOPIFY_TOKEN", "shpat-not-a-real-token")
    r = cli("config", "check")
    assert r.code == 0, r.err
    assert "providers: demo, shopify" in r.err
    assert "shpat-not-a-real-token" not in r.err + r.out
