"""Customer messages in the customer's language: per-locale variants, fallback, Babel formatting."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from mocli.store import CaseStore
from test_cases_support import build

SHIPPED_LOCALES = ("fr", "es")
ENGLISH_CLOSING = "Is there anything else I can help you with today?"
# Every placeholder with a value that shows up in the text, so a template that drops one is caught.
FOLLOW_UP = datetime.fromisoformat("2026-12-03T17:00:00-05:00")  # a Thursday


def values_for(cfg, locale):
    from mocli.models import Address, Customer, Order, Tracking
    from mocli.policy.opening import message_values

    customer = Customer(id="c1", email="a@example.com", name="Amélie Roy", tier="Standard")
    order = Order(number="#2001", customer_id="c1", placed_at=datetime(2026, 11, 20, 9), value=1249.0,
                  currency="CAD", expected_delivery=date(2026, 12, 1), new_ship_date=date(2026, 11, 30),
                  not_shipped_reason="an item is back-ordered", carrier="Canada Post",
                  address=Address(line1="12 rue Principale", city="Montréal", region="QC", postal_code="H2X 1Y4",
                                  country="CA"))
    tracking = Tracking(tracking_number="7023210039414604", carrier="Canada Post", status="in_transit")
    return message_values(cfg, customer, order, tracking, FOLLOW_UP, "MO-261127-AAAAA", "sam", locale=locale)


def all_keys(cfg):
    return [("outcomes", k) for k in cfg.messages.outcomes] + [("resolutions", k) for k in cfg.messages.resolutions]


@pytest.mark.parametrize("locale", SHIPPED_LOCALES)
def test_every_outcome_has_a_variant_in_every_shipped_locale(cfg, locale):
    from mocli.messages import missing_variants

    assert locale in cfg.messages.locales
    assert missing_variants(cfg) == {}
    for section, key in all_keys(cfg):
        assert key in getattr(cfg.messages.locales[locale], section), f"{locale}: {section}.{key}"


@pytest.mark.parametrize("locale", ["fr", "fr-CA", "es", "es-MX"])
def test_every_outcome_renders_in_every_shipped_locale(cfg, locale):
    from mocli.messages import choose_locale, compose_for

    choice = choose_locale(cfg, locale, "--locale")
    for section, key in all_keys(cfg):
        out = compose_for(cfg, section, key, choice, lambda loc: values_for(cfg, loc))
        english = compose_for(cfg, section, key, choose_locale(cfg, None, None),
                              lambda loc: values_for(cfg, loc))
        assert out.macro == english.macro  # macro titles are the helpdesk's, one per outcome
        assert out.note is None
        assert ENGLISH_CLOSING not in out.message and "Amélie" in out.message
        assert "{{" not in out.message and out.message != english.message
        assert "#2001" in out.message or key == "found"
        if "follow_up_date" in _source(cfg, section, key):
            assert {"fr": "jeudi 3 décembre", "es": "jueves, 3 de diciembre"}[locale[:2]] in out.message
        if "amount" in _source(cfg, section, key):
            expected = {"fr-CA": "1 249,00 $", "fr": "1 249,00 $CA", "es": "1.249,00 CAD",
                        "es-MX": "CAD1,249.00"}[locale]
            assert expected in plain(out.message)


def plain(text):
    """CLDR separates thousands and currency signs with (narrow) no-break spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _source(cfg, section, key):
    return getattr(cfg.messages, section)[key].template


def test_dates_and_money_in_english_come_from_babel(cfg):
    from mocli.messages import choose_locale, compose_for

    out = compose_for(cfg, "resolutions", "lost_refund", choose_locale(cfg, None, None),
                      lambda loc: values_for(cfg, loc))
    assert "CA$1,249.00" in out.message
    out = compose_for(cfg, "outcomes", "carrier_investigation", choose_locale(cfg, None, None),
                      lambda loc: values_for(cfg, loc))
    assert "Thursday, December 3" in out.message and "2 business days" in out.message


@pytest.mark.parametrize("requested,used,why", [
    ("fr-CA", "fr", "fr-CA"),
    ("fr_ca", "fr", "fr-CA"),
    ("es-419", "es", "es-419"),
    ("FR", "fr", "fr"),
    ("de-DE", "en", "no German"),
    ("en-GB", "en", "en-GB"),
    (None, "en", "no customer locale"),
])
def test_locale_falls_back_region_then_language_then_default(cfg, requested, used, why):
    from mocli.messages import choose_locale

    choice = choose_locale(cfg, requested, "zendesk" if requested else None)
    assert choice.locale == used
    assert why in choice.why


def test_a_region_variant_wins_over_its_language(cfg, mocli_env):
    (mocli_env["conf"] / "messages.toml").write_text(
        '[locales.fr-CA.outcomes.found]\ntemplate = "Bonjour {{ first_name }}, tant mieux!"\n')
    from mocli.config import load_config
    from mocli.messages import choose_locale, compose_for

    cfg = load_config()
    choice = choose_locale(cfg, "fr-CA", "--locale")
    assert choice.locale == "fr-CA"
    found = compose_for(cfg, "outcomes", "found", choice, lambda loc: values_for(cfg, loc))
    assert found.message.startswith("Bonjour Amélie, tant mieux!") and found.locale == "fr-CA"
    # fr-CA has no carrier_investigation text of its own: French (fr) is next, not English.
    other = compose_for(cfg, "outcomes", "carrier_investigation", choice, lambda loc: values_for(cfg, loc))
    assert other.locale == "fr" and other.note is None and "jeudi 3 décembre" in other.message


def test_an_outcome_without_a_variant_falls_back_with_a_visible_note(cfg, mocli_env, cli):
    # A situation's own wording added to the English table before anyone translates it.
    (mocli_env["conf"] / "messages.toml").write_text(
        '[outcomes.carrier_investigation_customs]\nmacro = "Retail::Missing Order – Carrier Investigation"\n'
        'template = "Hi {{ first_name }}, customs is holding it; we will write by {{ follow_up_date }}."\n')
    from mocli.config import load_config
    from mocli.messages import choose_locale, compose_for, missing_variants

    cfg = load_config()
    new = "outcomes.carrier_investigation_customs"
    assert missing_variants(cfg) == {"es": [new], "fr": [new]}
    out = compose_for(cfg, "outcomes", "carrier_investigation_customs", choose_locale(cfg, "fr-CA", "--locale"),
                      lambda loc: values_for(cfg, loc))
    assert out.locale == out.format == "en" and out.message.startswith("Hi Amélie, customs is holding it")
    assert "Thursday, December 3" in out.message  # formatted in the language of the text sent
    assert "no fr text for outcomes.carrier_investigation_customs" in out.note
    r = cli("config", "check")
    assert r.code == 0, r.err
    assert "missing variants" in r.err and "fr: outcomes.carrier_investigation_customs" in r.err \
        and "es: outcomes.carrier_investigation_customs" in r.err


def test_config_check_reports_no_missing_variants_when_complete(cli):
    r = cli("config", "check")
    assert r.code == 0, r.err
    assert "locales: en (default), es, fr" in r.err and "missing" not in r.err


@pytest.mark.parametrize("content,needle", [
    ('[locales.fr.outcomes.found]\ntemplate = "Bonjour {{ first_name.upper() }}"\n', "locales.fr.outcomes.found"),
    ('[locales.fr.outcomes.nonexistent]\ntemplate = "Bonjour"\n', "no English outcome nonexistent"),
    ('[locales."x y"]\nclosing = "hi"\n', "'x y' is not a locale"),
    ('[locales.fr.sla]\nbusiness_days = { other = "jours ouvrables" }\n', "{n}"),
])
def test_bad_variants_are_refused_at_config_check(cli, mocli_env, content, needle):
    (mocli_env["conf"] / "messages.toml").write_text(content)
    r = cli("config", "check")
    assert r.code == 2
    assert needle in r.err and "Traceback" not in r.err


def test_new_case_with_locale_stores_the_choice_and_writes_french(cli, mocli_env):
    r = cli("new-case", "--no-input", "--json", "--locale", "fr-CA", "--customer", "hana.kim@example.com",
            "--order", "1006", "--address-confirmed", "yes")
    assert r.code == 0, r.err
    case = json.loads(r.out)
    assert case["locale"]["requested"] == "fr-CA" and case["locale"]["source"] == "--locale"
    assert case["locale"]["used"] == "fr" and case["locale"]["format"] == "fr-CA" and "fr-CA" in case["locale"]["why"]
    assert case["message"].startswith("Bonjour Hana")
    assert "mardi 1 décembre" in case["message"]  # Friday 27 Nov + 2 business days
    [stored] = CaseStore(mocli_env["home"] / "cases.db").all()
    assert stored["locale"] == case["locale"]


def test_agent_sees_the_language_and_why(cli):
    r = cli("new-case", "--no-input", "--locale", "es", "--customer", "hana.kim@example.com",
            "--order", "1006", "--address-confirmed", "yes")
    assert r.code == 0, r.err
    assert "Language: es" in r.out and "--locale" in r.out and "Hola, Hana" in r.out


@pytest.mark.parametrize("bad", ["klingon!", "x", "fr--CA", ""])
def test_a_bad_locale_flag_is_a_usage_error(cli, bad):
    r = cli("new-case", "--no-input", "--locale", bad, "--customer", "hana.kim@example.com",
            "--order", "1006", "--address-confirmed", "yes")
    assert r.code == 2 and "--locale" in r.err and "Traceback" not in r.err


def test_resolve_writes_in_the_language_stored_on_the_case(cli, cfg):
    from test_cases_support import store

    case = build(cfg, "#1001", case_id="MO-261126-TST01")
    case["locale"] = {"requested": "fr-CA", "source": "zendesk", "used": "fr", "why": "x", "note": None}
    store([case])
    r = cli("resolve", "TST01", "--no-input", "--json", "--outcome", "lost", "--remedy", "refund")
    assert r.code == 0, r.err
    res = json.loads(r.out)["resolution"]
    assert res["message"].startswith("Bonjour Ava") and "389,00 $ US" in plain(res["message"])
    assert res["locale"]["used"] == "fr"


def test_customer_locale_from_the_crm_is_used_when_no_flag(cfg):
    from mocli.policy.opening import build_case
    from mocli.providers.registry import Providers

    demo = Providers(cfg, date(2026, 11, 27)).demo.demo
    customer = demo.customer("hana.kim@example.com").model_copy(update={"locale": "es-MX", "source": "shopify"})
    o = demo.order("#1006")
    case = build_case(cfg, customer=customer, order=o, tracking=demo.tracking(o.tracking_number),
                      answers={"address_confirmed": True, "notes": ""}, claims=[],
                      now=datetime.fromisoformat("2026-11-27T10:00:00-05:00"), agent="sam")
    assert case.locale["source"] == "shopify" and case.locale["used"] == "es"
    assert case.message.startswith("Hola, Hana")


def test_a_locale_without_a_closing_is_listed_as_missing_it(mocli_env):
    (mocli_env["conf"] / "messages.toml").write_text(
        '[locales.de.outcomes.found]\ntemplate = "Hallo {{ first_name }}, schön, dass es da ist!"\n')
    from mocli.config import load_config
    from mocli.messages import missing_variants

    missing = missing_variants(load_config())["de"]
    assert missing[0] == "closing" and "outcomes.found" in missing  # no closing: nothing can go out in German


@pytest.mark.parametrize("odd", ["x" * 5000, "zz-ZZ", "fr\x1b[31m"])
def test_an_odd_crm_locale_falls_back_to_the_default_and_is_named_briefly(cfg, odd):
    from mocli.messages import choose_locale

    choice = choose_locale(cfg, odd, "zendesk")
    assert choice.locale == "en" and choice.requested is None
    assert "not a known locale" in choice.why and len(choice.why) < 160


@pytest.mark.parametrize("locale,nobody,no_tracking,exception", [
    ("en", "there", "no tracking is available", "a delivery exception"),
    ("fr-CA", "Madame, Monsieur", "aucun suivi n'est encore disponible", "un incident de livraison"),
    ("es-MX", "estimado cliente", "todavía no hay seguimiento disponible", "una incidencia en la entrega"),
])
def test_fill_in_words_for_a_nameless_business_and_an_unnamed_exception_follow_the_language(
        cfg, locale, nobody, no_tracking, exception):
    from mocli.models import Address, Customer, Order, Tracking
    from mocli.policy.opening import message_values

    business = Customer(id="C-9", email="orders@dunmore.example.com", name="Dunmore Supply Co.", tier="B2B")
    named = business.model_copy(update={"contact_name": "Rosa Alvarez"})
    order = Order(number="#2002", customer_id="C-9", placed_at=datetime(2026, 11, 20, 9), value=10.0, currency="CAD",
                  address=Address(line1="1 Main St", city="Ottawa", postal_code="K1A 0B1", country="CA"))
    held = Tracking(tracking_number="1Z", carrier="UPS", status="exception")  # no description of its own

    untracked = message_values(cfg, business, order, None, FOLLOW_UP, "MO-1", "sam", locale=locale)
    assert untracked["first_name"] == nobody and untracked["exception"] == no_tracking
    assert message_values(cfg, business, order, held, FOLLOW_UP, "MO-1", "sam", locale=locale)["exception"] \
        == exception
    assert message_values(cfg, named, order, held, FOLLOW_UP, "MO-1", "sam", locale=locale)["first_name"] == "Rosa"


# What the offers ask of the customer, in each language's words.
REPLY_WITH_CHOICE = {"en": "reply with your choice", "fr": "votre choix", "es": "su elección"}


@pytest.mark.parametrize("locale", SHIPPED_LOCALES)
def test_variants_state_the_facts_the_english_states_and_no_more(cfg, locale):
    texts = cfg.messages.locales[locale]
    for section, key in all_keys(cfg):
        english = " ".join(_source(cfg, section, key).lower().split())
        variant = " ".join(getattr(texts, section)[key].template.lower().split())
        # Only the *_confirmed resolutions may say the carrier confirmed anything (a loss).
        assert ("confirm" in variant) == ("confirm" in english), f"{locale}: {section}.{key}"
        # An offer asks the customer to reply with their choice, as the English does.
        assert (REPLY_WITH_CHOICE[locale] in variant) == (REPLY_WITH_CHOICE["en"] in english), \
            f"{locale}: {section}.{key}"


@pytest.mark.parametrize("locale", ["fr-CA", "es-MX"])
def test_settled_cases_close_with_the_languages_resolved_closing(cfg, locale):
    from mocli.messages import choose_locale, compose_for

    texts = cfg.messages.locales[locale[:2]]
    assert texts.closing_resolved
    choice = choose_locale(cfg, locale, "--locale")
    for section, key in all_keys(cfg):
        out = compose_for(cfg, section, key, choice, lambda loc: values_for(cfg, loc))
        settled = section == "resolutions" or key == "found"
        closing = (texts.closing_resolved if settled else texts.closing).strip()
        assert out.message.endswith(closing), key
