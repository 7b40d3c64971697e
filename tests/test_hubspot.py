"""HubSpot CRM v3 adapter against local fixtures in the documented shapes.

HubSpot emails are unique per contact (idProperty=email reads one record or none), so there is no
"several matches" case for this provider.
"""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest

from fixtures.crm.harness import TIERS, Server, load, raises, reply, run, timeout
from mocli.errors import ConfigError, InvalidInput, NotFound, ProviderError
from mocli.providers.crm.hubspot import HubSpotProvider


@pytest.fixture
def crm(monkeypatch):
    monkeypatch.setenv("TEST_HUBSPOT_TOKEN", "pat-na1-test")
    return HubSpotProvider({"token_env": "TEST_HUBSPOT_TOKEN", "tier_property": "customer_tier",
                            "tier_values": {"new_customer": "New Customer", "vip": "VIP"}}, TIERS)


def contacts(answer):
    def route(request: httpx.Request):
        assert request.headers["Authorization"] == "Bearer pat-na1-test"
        assert request.url.path.startswith("/crm/v3/objects/contacts/")
        return answer
    return Server(route)


def test_contact_by_email(crm):
    server = contacts(reply(200, "hubspot_search_one.json"))
    customer, _ = run(lambda: crm.find_customer("sam+orders@example.com"), server)
    assert customer.id == "51234" and customer.name == "Sam Whitaker"
    assert customer.tier == "New Customer" and customer.since == date(2025, 9, 2)
    assert customer.address.one_line() == "880 Alder Street, Portland, OR, 97205, US"
    # The search endpoint: the address travels in the POST body, never in the URL (nor in proxy logs).
    request = server.requests[0]
    assert request.method == "POST" and request.url.path == "/crm/v3/objects/contacts/search"
    assert "example.com" not in str(request.url) and "sam" not in str(request.url)
    sent = json.loads(request.content)
    assert sent["filterGroups"] == [{"filters": [{"propertyName": "email", "operator": "EQ",
                                                  "value": "sam+orders@example.com"}]}]
    assert "customer_tier" in sent["properties"]
    assert str(request.url).startswith("https://api.hubapi.com/")


def test_search_without_a_result_is_not_found(crm):
    exc = raises(lambda: crm.find_customer("nobody@example.com"), contacts(reply(200, "hubspot_search_none.json")))
    assert isinstance(exc, NotFound) and "nobody@example.com" in str(exc)


def test_contact_by_id_has_no_id_property(crm):
    server = contacts(reply(200, "hubspot_contact.json"))
    run(lambda: crm.find_customer("51234"), server)
    assert "idProperty" not in server.requests[0].url.params


def test_multiple_checkbox_tier(crm):
    body = load("hubspot_contact.json")
    body["properties"]["customer_tier"] = ";vip;"
    customer, _ = run(lambda: crm.find_customer("51234"), contacts(reply(200, body)))
    assert customer.tier == "VIP"


def test_unmapped_tier_value_is_an_error(crm):
    body = load("hubspot_contact.json")
    body["properties"]["customer_tier"] = "platinum"
    exc = raises(lambda: crm.find_customer("51234"), contacts(reply(200, body)))
    assert isinstance(exc, ProviderError) and "'platinum'" in str(exc)


def test_not_found(crm):
    exc = raises(lambda: crm.find_customer("nobody@example.com"), contacts(reply(404, "hubspot_404.json")))
    assert isinstance(exc, NotFound) and "nobody@example.com" in str(exc)


def test_not_an_email_or_id(crm):
    assert isinstance(raises(lambda: crm.find_customer("Sam W"), contacts(reply(200, "hubspot_contact.json"))),
                      InvalidInput)


def test_unauthorized(crm):
    exc = raises(lambda: crm.find_customer("sam@example.com"), contacts(reply(401, "hubspot_401.json")))
    assert isinstance(exc, ProviderError) and "credentials were refused" in str(exc)
    assert "pat-na1-test" not in str(exc)


def test_429_retry_after_then_success(crm):
    server = contacts([reply(429, "hubspot_429.json", headers={"Retry-After": "1"}),
                       reply(200, "hubspot_search_one.json")])
    customer, slept = run(lambda: crm.find_customer("sam@example.com"), server)  # a search is safe to retry
    assert customer.id == "51234" and 1.0 in slept


def test_5xx_then_success(crm):
    server = contacts([reply(502, raw=b"Bad Gateway", content_type="text/plain"),
                       reply(200, "hubspot_search_one.json")])
    customer, _ = run(lambda: crm.find_customer("sam@example.com"), server)
    assert customer.id == "51234" and len(server.requests) == 2


def test_timeout(crm):
    exc = raises(lambda: crm.find_customer("sam@example.com"), Server(timeout))
    assert isinstance(exc, ProviderError) and "no answer in time" in str(exc)


@pytest.mark.parametrize("ref, answer, words", [
    ("sam@example.com", reply(200, raw=b"<html>maintenance</html>", content_type="text/html"), "HTML page"),
    ("51234", reply(200, {"id": "51234"}), "no properties"),
    ("sam@example.com", reply(200, {"total": 1, "results": [{"id": "51234"}]}), "no properties"),
    ("sam@example.com", reply(200, {"total": 1}), "no results"),
    ("sam@example.com", reply(200, raw=b"\x00\x01", content_type="application/json"), "not JSON"),
])
def test_malformed_bodies(crm, ref, answer, words):
    exc = raises(lambda: crm.find_customer(ref), contacts(answer))
    assert isinstance(exc, ProviderError) and words in str(exc)


def test_missing_token_names_the_variable(monkeypatch):
    monkeypatch.delenv("NOPE_HS", raising=False)
    with pytest.raises(ConfigError, match="NOPE_HS"):
        HubSpotProvider({"token_env": "NOPE_HS"}, TIERS)
    with pytest.raises(ConfigError, match="token_env"):
        HubSpotProvider({}, TIERS)


def test_contact_without_name_or_email_falls_back_and_says_what_is_missing(crm):
    from rich.console import Console

    from mocli import render

    server = contacts(reply(200, "hubspot_contact_no_name_email.json"))
    customer, _ = run(lambda: crm.find_customer("51877"), server)
    assert customer.email == "sam.w@example.org"  # the first of HubSpot's additional emails
    assert customer.name == "sam.w@example.org"  # no first or last name: the email stands in
    assert customer.missing == ["name", "primary email"]
    console = Console(width=140, record=True)
    console.print(render.customer_panel(customer, type("Tier", (), {"notes": None})(), "1 business day"))
    assert "missing in hubspot: name, primary email" in console.export_text().lower()


def test_contact_with_only_a_phone_is_named_by_it(crm):
    body = load("hubspot_contact_no_name_email.json")
    body["properties"]["hs_additional_emails"] = None
    customer, _ = run(lambda: crm.find_customer("51877"), contacts(reply(200, body)))
    assert customer.email == "" and customer.name == "(503) 555-0143"
    assert customer.missing == ["name", "email"]


def test_complete_contact_misses_nothing(crm):
    customer, _ = run(lambda: crm.find_customer("51234"), contacts(reply(200, "hubspot_contact.json")))
    assert customer.missing == []
