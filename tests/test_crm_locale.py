"""The customer's locale as each CRM stores it, read into Customer.locale (fixtures in the documented shapes)."""

from __future__ import annotations

import json

import pytest

from fixtures.crm.harness import load, reply, run
from test_hubspot import contacts, crm  # noqa: F401 - fixtures
from test_shopify import graphql, shop  # noqa: F401 - fixtures
from test_zendesk import desk, users  # noqa: F401 - fixtures


def test_zendesk_user_locale(desk):  # noqa: F811
    body = load("zendesk_users_one.json")
    body["users"][0]["locale"] = "fr-CA"  # a Zendesk user's `locale`, the language their tickets get
    customer, _ = run(lambda: desk.find_customer("jordan.reyes@acme-supply.example"), users(reply(200, body)))
    assert customer.locale == "fr-CA"


def test_shopify_customer_locale(shop):  # noqa: F811
    body = load("shopify_customers_one.json")
    body["data"]["customers"]["nodes"][0]["locale"] = "fr-Fr"  # as Shopify writes a storefront's locale
    server = graphql(reply(200, body))
    customer, _ = run(lambda: shop.find_customer("maya.okafor@example.com"), server)
    assert customer.locale == "fr-Fr"
    assert "locale" in json.loads(server.requests[0].content)["query"].split()


def test_hubspot_contact_preferred_language(crm):  # noqa: F811
    body = load("hubspot_search_one.json")  # by email, HubSpot's search endpoint answers
    body["results"][0]["properties"]["hs_language"] = "es"
    server = contacts(reply(200, body))
    customer, _ = run(lambda: crm.find_customer("sam@example.com"), server)
    assert customer.locale == "es"
    assert "hs_language" in json.loads(server.requests[0].content)["properties"]


def test_hubspot_contact_by_id_asks_for_the_preferred_language(crm):  # noqa: F811
    body = load("hubspot_contact.json")
    body["properties"]["hs_language"] = "fr-ca"
    server = contacts(reply(200, body))
    customer, _ = run(lambda: crm.find_customer("51234"), server)
    assert customer.locale == "fr-ca"
    assert "hs_language" in server.requests[0].url.params["properties"].split(",")


@pytest.mark.parametrize("missing", [None, ""])
def test_no_locale_in_the_crm_is_none(crm, missing):  # noqa: F811
    body = load("hubspot_contact.json")
    body["properties"]["hs_language"] = missing
    customer, _ = run(lambda: crm.find_customer("51234"), contacts(reply(200, body)))
    assert customer.locale is None


def test_generic_adapter_reads_a_configured_locale_path(monkeypatch):
    from fixtures.crm.harness import TIERS, Server
    from mocli.providers.crm.generic import GenericProvider
    from test_generic import SETTINGS

    monkeypatch.setenv("TEST_INHOUSE_TOKEN", "k-123")
    settings = {**SETTINGS, "customer_fields": {**SETTINGS["customer_fields"], "locale": "contact.language"}}
    body = load("generic_customers.json")
    body["data"]["items"][0]["contact"]["language"] = "fr_CA"
    customer, _ = run(lambda: GenericProvider(settings, TIERS).find_customer("noor.haddad@example.com"),
                      Server(lambda request: reply(200, body)))
    assert customer.locale == "fr_CA"
