"""The generic HTTP/JSON adapter: URL templates and field paths from the config."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from fixtures.crm.harness import TIERS, Server, load, raises, reply, run, timeout
from mocli.errors import ConfigError, NotFound, ProviderError
from mocli.providers.crm.common import SeveralMatches
from mocli.providers.crm.generic import GenericProvider, pick

SETTINGS = {
    "base_url": "https://crm.internal.example",
    "token_env": "TEST_INHOUSE_TOKEN",
    "auth_header": "X-Api-Key", "auth_scheme": "",
    "customer_url": "/v2/customers?email={email}",
    "customer_by_id_url": "/v2/customers/{id}",
    "customer_results": "data.items",
    "customer_fields": {
        "id": "customer_no", "email": "contact.email", "name": ["contact.first_name", "contact.last_name"],
        "tier": "segment", "tags": "flags", "phone": "contact.phone", "since": "customer_since",
        "notes": "service_notes",
        "address": {"line1": "home.street", "city": "home.city", "region": "home.state",
                    "postal_code": "home.postcode", "country": "home.country"},
    },
    "tier_values": {"platinum": "VIP", "silver": "Standard"},
    "order_url": "/v2/orders/{number}",
    "order_fields": {
        "number": "order.id", "customer_id": "order.customer_no", "placed_at": "order.created",
        "expected_delivery": "order.promised", "shipping_method": "order.ship.method",
        "carrier": "order.ship.carrier", "tracking_number": "order.ship.tracking",
        "address": {"line1": "order.deliver_to.street", "city": "order.deliver_to.city",
                    "region": "order.deliver_to.state", "postal_code": "order.deliver_to.postcode",
                    "country": "order.deliver_to.country"},
        "value": "order.total.value", "currency": "order.total.currency",
        "fulfillment_status": "order.state", "warehouse": "order.site", "items": "order.lines",
    },
    "status_values": {"DISPATCHED": "shipped", "PICKING": "packed"},
}


@pytest.fixture
def inhouse(monkeypatch):
    monkeypatch.setenv("TEST_INHOUSE_TOKEN", "k-123")
    return GenericProvider(SETTINGS, TIERS)


def api(answer):
    def route(request: httpx.Request):
        assert request.headers["X-Api-Key"] == "k-123"
        return answer
    return Server(route)


def test_customer_by_email_through_templates_and_paths(inhouse):
    server = api(reply(200, "generic_customers.json"))
    customer, _ = run(lambda: inhouse.find_customer("noor.haddad@example.com"), server)
    assert (customer.id, customer.name, customer.tier) == ("K-20931", "Noor Haddad", "VIP")
    assert customer.since == date(2018, 3, 9) and customer.notes == "Call before reshipping."
    assert customer.address.one_line() == "12 Beacon Street, Boston, MA, 02108, US"
    assert str(server.requests[0].url) == "https://crm.internal.example/v2/customers?email=noor.haddad%40example.com"


def test_customer_by_id_uses_its_own_template(inhouse):
    server = api(reply(200, "generic_customers.json"))
    run(lambda: inhouse.find_customer("K-20931"), server)
    assert server.requests[0].url.path == "/v2/customers/K-20931"


def test_order_through_templates_and_paths(inhouse):
    server = api(reply(200, "generic_order.json"))
    order, _ = run(lambda: inhouse.find_order("#SO-778812"), server)
    assert server.requests[0].url.path == "/v2/orders/SO-778812"
    assert order.number == "#SO-778812" and order.customer_id == "K-20931"
    assert order.fulfillment_status == "shipped" and order.carrier == "FedEx"
    assert order.tracking_number == "794612345678" and order.expected_delivery == date(2026, 11, 23)
    assert order.items == ["Espresso grinder", "Descaler x2"] and order.value == 129.95
    assert order.placed_at.utcoffset().total_seconds() == -5 * 3600


def test_unknown_order_status_is_an_error_not_a_guess(inhouse):
    body = load("generic_order.json")
    body["order"]["state"] = "LOST_IN_SPACE"
    exc = raises(lambda: inhouse.find_order("SO-1"), api(reply(200, body)))
    assert isinstance(exc, ProviderError) and "status_values" in str(exc)


def test_not_found_empty_list_and_404(inhouse):
    exc = raises(lambda: inhouse.find_customer("x@example.com"), api(reply(200, {"data": {"items": []}})))
    assert isinstance(exc, NotFound)
    assert isinstance(raises(lambda: inhouse.find_order("1"), api(reply(404, {"error": "no such order"}))), NotFound)


def test_several_matches(inhouse):
    body = load("generic_customers.json")
    body["data"]["items"].append(dict(body["data"]["items"][0], customer_no="K-99999"))
    exc = raises(lambda: inhouse.find_customer("noor.haddad@example.com"), api(reply(200, body)))
    assert isinstance(exc, SeveralMatches) and exc.candidates == ["K-20931", "K-99999"]


def test_401_429_5xx_timeout(inhouse):
    exc = raises(lambda: inhouse.find_order("1"), api(reply(401, {"error": "bad key"})))
    assert isinstance(exc, ProviderError) and "credentials were refused" in str(exc)
    server = api([reply(429, {}, headers={"Retry-After": "4"}), reply(503, {}), reply(200, "generic_order.json")])
    order, slept = run(lambda: inhouse.find_order("SO-778812"), server)
    assert order.number == "#SO-778812" and slept[0] == 4.0 and len(server.requests) == 3
    assert isinstance(raises(lambda: inhouse.find_order("1"), Server(timeout)), ProviderError)


@pytest.mark.parametrize("answer, words", [
    (reply(200, raw=b"<!doctype html>", content_type="text/html"), "HTML page"),
    (reply(200, {"data": {"items": "K-1"}}), "not a list"),
    (reply(200, {"data": {"items": [{"contact": {}}]}}), "no id at 'customer_no'"),
])
def test_malformed_bodies(inhouse, answer, words):
    exc = raises(lambda: inhouse.find_customer("x@example.com"), api(answer))
    assert isinstance(exc, ProviderError) and words in str(exc)


def test_config_is_checked_up_front(monkeypatch):
    monkeypatch.setenv("TEST_INHOUSE_TOKEN", "k")
    with pytest.raises(ConfigError, match="unknown placeholder"):
        GenericProvider({**SETTINGS, "order_url": "/orders/{order_id}"}, TIERS)
    with pytest.raises(ConfigError, match="customer_fields.mail"):
        GenericProvider({**SETTINGS, "customer_fields": {"mail": "x"}}, TIERS)
    with pytest.raises(ConfigError, match="status_values.dispatched"):
        GenericProvider({**SETTINGS, "status_values": {"DISPATCHED": "gone"}}, TIERS)
    with pytest.raises(ConfigError, match="base_url"):
        GenericProvider({}, TIERS)


def test_pick_paths():
    data = {"a": {"b": [{"c": 1}, {"c": 2}]}}
    assert pick(data, "a.b.1.c") == 2 and pick(data, "a.b.-1.c") == 2
    assert pick(data, "a.b.5.c") is None and pick(data, "a.x") is None and pick(data, "a.b.c") is None
