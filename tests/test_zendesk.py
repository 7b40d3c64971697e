"""Zendesk Support adapter against local fixtures: users, organisations, notes and macros on tickets."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from fixtures.crm.harness import TIERS, Server, load, raises, reply, run, timeout
from mocli.errors import ConfigError, NotFound, ProviderError
from mocli.providers.crm.common import SeveralMatches
from mocli.providers.crm.zendesk import ZendeskProvider

CARRIER_MACRO = "Retail::Missing Order – Carrier Investigation"


@pytest.fixture
def desk(monkeypatch):
    monkeypatch.setenv("TEST_ZENDESK_TOKEN", "zd-token-abc")
    return ZendeskProvider({"subdomain": "example", "email": "api@shop.example", "token_env": "TEST_ZENDESK_TOKEN",
                            "tier_field": "customer_tier", "tier_values": {"gold": "VIP"},
                            "tier_tags": {"key-account": "B2B"}, "organization_tier": "B2B"}, TIERS)


def users(answer, org=None):
    def route(request: httpx.Request):
        expected = base64.b64encode(b"api@shop.example/token:zd-token-abc").decode()
        assert request.headers["Authorization"] == f"Basic {expected}"
        if request.url.path == "/api/v2/users/search.json":
            return answer
        if request.url.path.startswith("/api/v2/users/"):
            return answer
        if request.url.path == "/api/v2/organizations/900112233.json":
            return org or reply(200, "zendesk_organization.json")
        raise AssertionError(f"unexpected {request.url}")
    return Server(route)


def test_user_by_email_with_organisation_is_b2b_with_notes(desk):
    server = users(reply(200, "zendesk_users_one.json"))
    customer, _ = run(lambda: desk.find_customer("jordan.reyes@acme-supply.example"), server)
    assert customer.id == "381625401931" and customer.name == "Jordan Reyes"
    assert customer.tier == "B2B"  # the organisation's "key-account" tag
    assert "Receiving desk closes at 4 pm." in customer.notes
    assert "Organisation: Acme Supply Co.: Net-30 terms; deliveries to dock 4.; Account manager: Priya Shah" \
        in customer.notes
    assert server.requests[0].url.params["query"] == "email:jordan.reyes@acme-supply.example"


def test_organisation_member_without_tags_gets_the_organisation_tier(desk):
    org = load("zendesk_organization.json")
    org["organization"]["tags"] = []
    customer, _ = run(lambda: desk.find_customer("jordan.reyes@acme-supply.example"),
                      users(reply(200, "zendesk_users_one.json"), reply(200, org)))
    assert customer.tier == "B2B"


def test_user_by_id_tier_from_user_field(desk):
    server = users(reply(200, "zendesk_user_vip.json"))
    customer, _ = run(lambda: desk.find_customer("381625400007"), server)
    assert customer.tier == "VIP" and customer.email == "lena.fischer@example.com"
    assert server.requests[0].url.path == "/api/v2/users/381625400007.json"
    assert len(server.requests) == 1  # no organisation to fetch


def test_user_not_found(desk):
    exc = raises(lambda: desk.find_customer("who@example.com"), users(reply(200, "zendesk_users_none.json")))
    assert isinstance(exc, NotFound)
    assert isinstance(raises(lambda: desk.find_customer("42"), users(reply(404, "zendesk_404.json"))), NotFound)


def test_several_users_match(desk):
    exc = raises(lambda: desk.find_customer("jordan.reyes@acme-supply.example"),
                 users(reply(200, "zendesk_users_two.json")))
    assert isinstance(exc, SeveralMatches) and exc.candidates == ["381625401931", "381625409999"]


def test_unauthorized(desk):
    exc = raises(lambda: desk.find_customer("x@example.com"), users(reply(401, "zendesk_401.json")))
    assert isinstance(exc, ProviderError) and "credentials were refused" in str(exc)
    assert "zd-token-abc" not in str(exc)


def test_429_retry_after_then_success(desk):
    server = users([reply(429, {"error": "TooManyRequests"}, headers={"Retry-After": "7"}),
                    reply(200, "zendesk_users_one.json")])
    customer, slept = run(lambda: desk.find_customer("jordan.reyes@acme-supply.example"), server)
    assert customer.tier == "B2B" and slept == [7.0]


def test_5xx_then_success(desk):
    server = users([reply(503, raw=b"", content_type="text/plain"), reply(200, "zendesk_users_one.json")])
    customer, _ = run(lambda: desk.find_customer("jordan.reyes@acme-supply.example"), server)
    assert customer.id == "381625401931"


def test_timeout(desk):
    exc = raises(lambda: desk.find_customer("jordan.reyes@acme-supply.example"), Server(timeout))
    assert isinstance(exc, ProviderError) and "no answer in time" in str(exc)


@pytest.mark.parametrize("answer, words", [
    (reply(200, raw=b"<html><body>Help Center</body></html>", content_type="text/html"), "HTML page"),
    (reply(200, {"results": []}), "no users"),
    (reply(200, {"users": "none"}), "users should be list"),
])
def test_malformed_bodies(desk, answer, words):
    exc = raises(lambda: desk.find_customer("jordan.reyes@acme-supply.example"), users(answer))
    assert isinstance(exc, ProviderError) and words in str(exc)


# ------------------------------------------------------------------ tickets


def ticket_server(put_answers=None):
    def route(request: httpx.Request):
        path = request.url.path
        if path == "/api/v2/macros/active.json":
            return reply(200, "zendesk_macros_active.json")
        if path == "/api/v2/tickets/48213/macros/360011110001/apply.json":
            return reply(200, "zendesk_macro_apply.json")
        if path == "/api/v2/tickets/48213.json" and request.method == "GET":
            return reply(200, "zendesk_ticket.json")
        if path == "/api/v2/tickets/48213.json" and request.method == "PUT":
            return put_answers or reply(200, "zendesk_ticket.json")
        return reply(404, "zendesk_404.json")
    return Server(route)


def test_post_case_adds_internal_note_then_applies_macro_changes(desk):
    server = ticket_server()
    sent, _ = run(lambda: desk.post_case_to_ticket("#48213", "Case MO-1: carrier investigation", CARRIER_MACRO), server)
    puts = [json.loads(r.content) for r in server.requests if r.method == "PUT"]
    assert puts[0] == {"ticket": {"comment": {"body": "Case MO-1: carrier investigation", "public": False}}}
    # Only what the macro changes is sent back (not id/url, nor fields it leaves as they are).
    assert puts[1] == {"ticket": {
        "status": "pending", "tags": ["missing_order", "carrier_trace"],
        "comment": {"body": "We've opened a trace with the carrier and will follow up within 2 business days.",
                    "public": True}}}
    assert sent["macro_id"] == 360011110001 and sent["note"] == puts[0] and sent["macro_changes"] == puts[1]
    # Preview first: nothing is written to the ticket before the macro is known to apply.
    order = [(r.method, r.url.path) for r in server.requests]
    assert order.index(("GET", "/api/v2/tickets/48213/macros/360011110001/apply.json")) < order.index(
        ("PUT", "/api/v2/tickets/48213.json"))


def test_macro_id_from_config_skips_the_macro_list(monkeypatch, desk):
    desk.macro_ids = {CARRIER_MACRO: 360011110001}
    server = ticket_server()
    run(lambda: desk.post_case_to_ticket("48213", "note", CARRIER_MACRO), server)
    assert all(r.url.path != "/api/v2/macros/active.json" for r in server.requests)


def test_unknown_macro_writes_nothing(desk):
    server = ticket_server()
    exc = raises(lambda: desk.post_case_to_ticket("48213", "note", "Retail::No Such Macro"), server)
    assert isinstance(exc, NotFound) and "macro_ids" in str(exc)
    assert not [r for r in server.requests if r.method == "PUT"]


def test_unknown_ticket(desk):
    exc = raises(lambda: desk.post_case_to_ticket("777", "note", 360011110001), ticket_server())
    assert isinstance(exc, NotFound)


def test_note_update_waits_on_429_but_never_resends_after_a_timeout(desk):
    server = ticket_server([reply(429, {"error": "TooManyRequests"}, headers={"Retry-After": "3"}),
                            reply(200, "zendesk_ticket.json")])
    _, slept = run(lambda: desk.post_case_to_ticket("48213", "note", 360011110001), server)
    assert 3.0 in slept
    assert len([r for r in server.requests if r.method == "PUT"]) == 3  # 429, note, macro

    def flaky(request):
        if request.method == "PUT":
            raise httpx.ReadTimeout("timed out", request=request)
        return ticket_server()(request)
    server = Server(flaky)
    exc = raises(lambda: desk.post_case_to_ticket("48213", "note", 360011110001), server)
    assert isinstance(exc, ProviderError)
    assert len([r for r in server.requests if r.method == "PUT"]) == 1  # a comment may have landed: not resent


def test_config_needs_email_and_token(monkeypatch):
    monkeypatch.delenv("NO_SUCH_ZD_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="NO_SUCH_ZD_TOKEN"):
        ZendeskProvider({"subdomain": "x", "email": "a@b.c", "token_env": "NO_SUCH_ZD_TOKEN"}, TIERS)
    monkeypatch.setenv("ZD", "t")
    with pytest.raises(ConfigError, match="zendesk.email"):
        ZendeskProvider({"subdomain": "x", "token_env": "ZD"}, TIERS)
    with pytest.raises(ConfigError, match="organization_tier"):
        ZendeskProvider({"subdomain": "x", "email": "a@b.c", "token_env": "ZD", "organization_tier": "Gold"}, TIERS)


def test_a_macro_title_is_found_on_a_later_page_and_the_search_stops_there(desk):
    pages = {
        "1": {"macros": [{"id": 1, "title": "Other", "active": True}],
              "next_page": "https://example.zendesk.com/api/v2/macros/active.json?page=2"},
        "2": {"macros": [{"id": 360011110001, "title": CARRIER_MACRO, "active": True}],
              "next_page": "https://example.zendesk.com/api/v2/macros/active.json?page=3"},
    }
    server = Server(lambda r: reply(200, pages[r.url.params.get("page", "1")]))
    found, _ = run(lambda: desk.macro_id(CARRIER_MACRO), server)
    assert found == 360011110001 and len(server.requests) == 2


def test_a_next_page_on_another_host_is_not_followed(desk):
    page = {"macros": [{"id": 1, "title": "Other"}], "next_page": "https://evil.example/api/v2/macros/active.json"}
    server = Server(lambda r: reply(200, page))
    exc = raises(lambda: desk.macro_id(CARRIER_MACRO), server)
    assert isinstance(exc, NotFound) and len(server.requests) == 1
    listed, _ = run(lambda: desk.active_macros(), server)
    assert listed == page["macros"] and len(server.requests) == 2
