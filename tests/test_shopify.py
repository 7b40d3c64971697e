"""Shopify Admin GraphQL adapter against local fixtures in the documented shapes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import httpx
import pytest

from fixtures.crm.harness import TIERS, Server, load, raises, reply, run, timeout
from mocli.errors import ConfigError, InvalidInput, NotFound, ProviderError
from mocli.providers.crm.common import SeveralMatches
from mocli.providers.crm.shopify import API_VERSION, ShopifyProvider

PATH = f"/admin/api/{API_VERSION}/graphql.json"


@pytest.fixture
def shop(monkeypatch):
    monkeypatch.setenv("TEST_SHOPIFY_TOKEN", "shpat_test_123")
    return ShopifyProvider({"shop": "example", "token_env": "TEST_SHOPIFY_TOKEN",
                            "tier_tags": {"VIP": "VIP", "wholesale": "B2B"}}, TIERS)


def graphql(answer):
    """A server whose GraphQL endpoint gives `answer` (a Response or a list of them, in turn)."""
    def route(request: httpx.Request):
        assert request.url.path == PATH
        assert request.headers["X-Shopify-Access-Token"] == "shpat_test_123"
        return answer
    return Server(route)


def test_customer_by_email_maps_tier_address_and_ids(shop):
    server = graphql(reply(200, "shopify_customers_one.json"))
    customer, _ = run(lambda: shop.find_customer("Maya.Okafor@example.com"), server)
    assert customer.id == "7012345678901"
    assert customer.name == "Maya Okafor" and customer.email == "maya.okafor@example.com"
    assert customer.tier == "VIP"  # from the VIP tag
    assert customer.since == date(2021, 6, 14) and customer.phone == "+12125550147"
    assert customer.address.one_line() == "41 Orchard Street, Apt 3B, New York, NY, 10002, US"
    assert customer.source == "shopify"
    sent = json.loads(server.requests[0].content)
    # The email travels in the POST body as a GraphQL variable, never in the URL or the query text.
    assert sent["variables"]["query"] == 'email:"Maya.Okafor@example.com"'
    assert "example.com" not in sent["query"] and "example.com" not in str(server.requests[0].url)
    assert str(server.requests[0].url).startswith("https://example.myshopify.com/admin/api/")


def test_customer_tier_from_metafield_by_mapping(monkeypatch):
    monkeypatch.setenv("TEST_SHOPIFY_TOKEN", "shpat_test_123")
    shop = ShopifyProvider({"shop": "example", "token_env": "TEST_SHOPIFY_TOKEN", "tier_metafield": "custom.tier",
                            "tier_values": {"gold": "VIP"}}, TIERS)
    server = graphql(reply(200, "shopify_customer_by_id.json"))
    customer, _ = run(lambda: shop.find_customer("7012345678901"), server)
    assert customer.tier == "VIP"
    sent = json.loads(server.requests[0].content)
    assert sent["variables"] == {"tierNs": "custom", "tierKey": "tier", "id": "gid://shopify/Customer/7012345678901"}
    assert "metafield(namespace: $tierNs, key: $tierKey)" in sent["query"]


def test_unmapped_metafield_value_is_an_error_not_a_guess(monkeypatch):
    monkeypatch.setenv("TEST_SHOPIFY_TOKEN", "t")
    shop = ShopifyProvider({"shop": "example", "token_env": "TEST_SHOPIFY_TOKEN", "tier_metafield": "custom.tier"},
                           TIERS)
    server = Server(lambda r: reply(200, "shopify_customer_by_id.json"))
    exc = raises(lambda: shop.find_customer("7012345678901"), server)
    assert isinstance(exc, ProviderError) and "'gold'" in str(exc) and "tier_values" in str(exc)


def test_customer_without_tier_data_gets_the_default(shop):
    body = load("shopify_customers_one.json")
    body["data"]["customers"]["nodes"][0]["tags"] = ["newsletter"]
    customer, _ = run(lambda: shop.find_customer("maya.okafor@example.com"), graphql(reply(200, body)))
    assert customer.tier == "Standard"


def test_customer_not_found(shop):
    exc = raises(lambda: shop.find_customer("nobody@example.com"), graphql(reply(200, "shopify_customers_none.json")))
    assert isinstance(exc, NotFound) and "nobody@example.com" in str(exc)


def test_customer_by_id_not_found(shop):
    exc = raises(lambda: shop.find_customer("gid://shopify/Customer/1"),
                 graphql(reply(200, "shopify_customer_null.json")))
    assert isinstance(exc, NotFound)


def test_several_customers_match(shop):
    exc = raises(lambda: shop.find_customer("maya.okafor@example.com"),
                 graphql(reply(200, "shopify_customers_two.json")))
    assert isinstance(exc, SeveralMatches)
    assert exc.candidates == ["7012345678901", "7012345679999"]


def test_a_ref_that_is_neither_email_nor_id_is_invalid_input(shop):
    exc = raises(lambda: shop.find_customer("maya okafor"), graphql(reply(200, "shopify_customers_none.json")))
    assert isinstance(exc, InvalidInput)


def test_order_by_number_with_fulfilment_tracking_and_value(shop):
    server = graphql(reply(200, "shopify_orders_one.json"))
    order, _ = run(lambda: shop.find_order("1042"), server)
    assert order.number == "#1042" and order.customer_id == "7012345678901"
    assert order.placed_at == datetime(2026, 11, 16, 14, 20, 5, tzinfo=UTC)
    assert order.fulfillment_status == "shipped"
    # The cancelled fulfilment is ignored; the live one gives carrier, number and estimate.
    assert (order.carrier, order.tracking_number) == ("UPS", "1Z4E57A20368154024")
    assert order.expected_delivery == date(2026, 11, 20)
    assert order.shipping_method == "UPS Ground" and order.warehouse == "Newark DC"
    assert (order.value, order.currency) == (214.5, "USD")
    assert order.items == ["Linen duvet cover - Queen", "Pillowcase set ×2"]
    assert order.address.postal_code == "10002"
    assert json.loads(server.requests[0].content)["variables"] == {"query": 'name:"#1042"'}


def test_order_delivered_when_every_fulfilment_is(shop):
    body = load("shopify_orders_one.json")
    live = body["data"]["orders"]["nodes"][0]["fulfillments"][1]
    live.update(displayStatus="DELIVERED", deliveredAt="2026-11-20T18:02:00Z")
    order, _ = run(lambda: shop.find_order("#1042"), graphql(reply(200, body)))
    assert order.fulfillment_status == "delivered"


def test_order_on_hold_is_delayed_with_a_reason(shop):
    order, _ = run(lambda: shop.find_order("#1043"), graphql(reply(200, "shopify_orders_on_hold.json")))
    assert order.fulfillment_status == "delayed" and "on hold" in order.not_shipped_reason
    assert order.tracking_number is None and order.carrier is None


def test_order_by_gid(shop):
    node = load("shopify_orders_one.json")["data"]["orders"]["nodes"][0]
    server = graphql(reply(200, {"data": {"order": node}}))
    order, _ = run(lambda: shop.find_order("gid://shopify/Order/5512345678901"), server)
    assert order.number == "#1042"
    assert json.loads(server.requests[0].content)["variables"] == {"id": "gid://shopify/Order/5512345678901"}


def test_order_not_found_and_several(shop):
    assert isinstance(raises(lambda: shop.find_order("9999"), graphql(reply(200, "shopify_orders_none.json"))),
                      NotFound)
    exc = raises(lambda: shop.find_order("1042"), graphql(reply(200, "shopify_orders_two.json")))
    assert isinstance(exc, SeveralMatches) and len(exc.candidates) == 2


def test_unauthorized(shop):
    exc = raises(lambda: shop.find_customer("maya.okafor@example.com"),
                 graphql(reply(401, "shopify_unauthorized.json")))
    assert isinstance(exc, ProviderError) and "credentials were refused" in str(exc)
    assert "shpat_test_123" not in str(exc)


def test_access_denied_names_the_scopes(shop):
    exc = raises(lambda: shop.find_customer("maya.okafor@example.com"),
                 graphql(reply(200, "shopify_access_denied.json")))
    assert isinstance(exc, ProviderError) and "read_customers" in str(exc)


def test_throttled_waits_for_the_bucket_then_succeeds(shop):
    server = graphql([reply(200, "shopify_throttled.json"), reply(200, "shopify_customers_one.json")])
    customer, slept = run(lambda: shop.find_customer("maya.okafor@example.com"), server)
    assert customer.tier == "VIP" and len(server.requests) == 2
    assert slept == [pytest.approx(1.0)]  # (112 requested - 12 available) / 100 per second


def test_throttled_for_too_long_is_a_clear_error(shop):
    exc = raises(lambda: shop.find_customer("maya.okafor@example.com"), graphql(reply(200, "shopify_throttled.json")))
    assert isinstance(exc, ProviderError) and "throttled" in str(exc)


def test_429_with_retry_after_then_success(shop):
    server = graphql([reply(429, {"errors": "Exceeded 2 calls per second for api client."},
                            headers={"Retry-After": "2.0"}),
                      reply(200, "shopify_customers_one.json")])
    customer, slept = run(lambda: shop.find_customer("maya.okafor@example.com"), server)
    assert customer.id == "7012345678901" and slept == [2.0]


def test_5xx_then_success(shop):
    server = graphql([reply(503, {"errors": "Service Unavailable"}), reply(502, raw=b"", content_type="text/plain"),
                      reply(200, "shopify_orders_one.json")])
    order, slept = run(lambda: shop.find_order("1042"), server)
    assert order.number == "#1042" and len(server.requests) == 3 and len(slept) == 2


def test_timeout_is_a_provider_error_after_retries(shop):
    server = Server(timeout)
    exc = raises(lambda: shop.find_customer("maya.okafor@example.com"), server)
    assert isinstance(exc, ProviderError) and "no answer in time" in str(exc)
    assert len(server.requests) == 4  # a query only reads, so it is retried like a GET


@pytest.mark.parametrize("answer, words", [
    (reply(200, raw=b"<!DOCTYPE html><html>Shop unavailable</html>", content_type="text/html"), "HTML page"),
    (reply(200, raw=b"{not json", content_type="application/json"), "not JSON"),
    (reply(200, {"data": {"customers": {"edges": []}}}), "customers.nodes"),
    (reply(200, ["a", "list"]), "documentation"),
])
def test_malformed_bodies_are_clear_errors(shop, answer, words):
    exc = raises(lambda: shop.find_customer("maya.okafor@example.com"), graphql(answer))
    assert isinstance(exc, ProviderError) and words in str(exc)


def test_malformed_order_fields_are_clear_errors(shop):
    body = load("shopify_orders_one.json")
    body["data"]["orders"]["nodes"][0]["createdAt"] = "last tuesday"
    exc = raises(lambda: shop.find_order("1042"), graphql(reply(200, body)))
    assert isinstance(exc, ProviderError) and "createdAt" in str(exc)
    body = load("shopify_orders_one.json")
    body["data"]["orders"]["nodes"][0]["shippingAddress"] = None
    exc = raises(lambda: shop.find_order("1042"), graphql(reply(200, body)))
    assert isinstance(exc, ProviderError) and "no shipping address" in str(exc)


def test_config_errors_name_the_key_and_the_variable(monkeypatch):
    monkeypatch.delenv("MISSING_SHOPIFY_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="MISSING_SHOPIFY_TOKEN"):
        ShopifyProvider({"shop": "example", "token_env": "MISSING_SHOPIFY_TOKEN"}, TIERS)
    monkeypatch.setenv("T", "x")
    with pytest.raises(ConfigError, match="providers.settings.shopify.shop"):
        ShopifyProvider({"token_env": "T"}, TIERS)
    with pytest.raises(ConfigError, match="tier_tags.VIP"):
        ShopifyProvider({"shop": "s", "token_env": "T", "tier_tags": {"VIP": "Platinum"}}, TIERS)
    with pytest.raises(ConfigError, match="unknown key"):
        ShopifyProvider({"shop": "s", "token_env": "T", "acces_token": "oops"}, TIERS)
    with pytest.raises(ConfigError, match="api_version"):
        ShopifyProvider({"shop": "s", "token_env": "T", "api_version": "latest"}, TIERS)


def test_estimated_delivery_is_a_date_in_the_stores_time_zone(shop):
    """estimatedDeliveryAt 03:30Z on the 21st is the evening of the 20th in the store's zone (Los Angeles)."""
    server = graphql(reply(200, "shopify_orders_evening_estimate.json"))
    order, _ = run(lambda: shop.find_order("1043"), server)
    assert order.expected_delivery == date(2026, 11, 20)
    assert "ianaTimezone" in json.loads(server.requests[0].content)["query"]


def test_estimated_delivery_falls_back_to_the_calendar_time_zone(monkeypatch):
    """No shop zone in the answer: the configured calendar time zone, not UTC, decides the date."""
    monkeypatch.setenv("TEST_SHOPIFY_TOKEN", "shpat_test_123")
    provider = ShopifyProvider({"shop": "example", "token_env": "TEST_SHOPIFY_TOKEN"}, TIERS,
                               timezone="America/New_York")
    body = load("shopify_orders_evening_estimate.json")
    del body["data"]["shop"]
    order, _ = run(lambda: provider.find_order("1043"), graphql(httpx.Response(200, json=body)))
    assert order.expected_delivery == date(2026, 11, 20)


@pytest.mark.parametrize(("tags", "tier"), [(["VIP"], "VIP"), (["vip", "newsletter"], "VIP"), (["b2b"], "B2B"),
                                            (["New Customer"], "New Customer"), (["newsletter"], "Standard")])
def test_a_tag_equal_to_a_tier_name_needs_no_mapping(monkeypatch, tags, tier):
    """As docs/providers.md says: a value that is already a tier name needs no entry (case-insensitive)."""
    monkeypatch.setenv("TEST_SHOPIFY_TOKEN", "shpat_test_123")
    provider = ShopifyProvider({"shop": "example", "token_env": "TEST_SHOPIFY_TOKEN"}, TIERS)
    body = load("shopify_customers_one.json")
    body["data"]["customers"]["nodes"][0]["tags"] = tags
    customer, _ = run(lambda: provider.find_customer("maya.okafor@example.com"), graphql(reply(200, body)))
    assert customer.tier == tier


def test_an_explicit_tag_mapping_wins_over_a_tier_name(monkeypatch):
    monkeypatch.setenv("TEST_SHOPIFY_TOKEN", "shpat_test_123")
    provider = ShopifyProvider({"shop": "example", "token_env": "TEST_SHOPIFY_TOKEN",
                                "tier_tags": {"wholesale": "B2B"}}, TIERS)
    body = load("shopify_customers_one.json")
    body["data"]["customers"]["nodes"][0]["tags"] = ["VIP", "wholesale"]
    customer, _ = run(lambda: provider.find_customer("maya.okafor@example.com"), graphql(reply(200, body)))
    assert customer.tier == "B2B"
