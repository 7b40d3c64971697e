"""Carrier OAuth tokens: kept on disk between runs until they expire, fetched beside the customer and
order lookups, never printed."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from datetime import date

import httpx
import pytest

from fixtures.crm.harness import load
from fixtures.crm.localserver import LocalServer
from mocli.lookups import gather_facts
from mocli.providers import http
from mocli.providers.crm.shopify import API_VERSION
from mocli.providers.registry import Providers
from test_e2e_providers import NUMBER, ups_delivered

TOKEN = "ups-token-4f2a9c"  # what the carrier issues; must never reach the agent's screen


def ups_route(req):
    if req.path == "/security/v1/oauth/token" and req.method == "POST":
        return 200, {"token_type": "Bearer", "access_token": TOKEN, "expires_in": "14399", "status": "approved"}
    if req.path == f"/api/track/v1/details/{NUMBER}":
        if req.headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"response": {"errors": [{"code": "250002", "message": "Invalid Authentication Information."}]}}
        return 200, ups_delivered()
    return 404, {"errors": "Not Found"}


def ups_settings(conf, url: str, extra: str = "") -> None:
    (conf / "settings.toml").write_text(f"""{extra}
[providers.tracking]
default = "ups"

[providers.settings.ups]
base_url = "{url}"
client_id_env = "T_UPS_ID"
client_secret_env = "T_UPS_SECRET"
""", encoding="utf-8")


def test_token_is_fetched_once_kept_0600_and_reused_by_the_next_run_never_printed(mocli_env):
    env = {**os.environ, "T_UPS_ID": "id", "T_UPS_SECRET": "secret"}
    with LocalServer(ups_route) as srv:
        ups_settings(mocli_env["conf"], srv.url)
        runs = [subprocess.run([sys.executable, "-m", "mocli", "track", "--json", NUMBER], capture_output=True,
                               text=True, env=env, timeout=60) for _ in range(2)]
        paths = [(r.method, r.path) for r in srv.requests]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)[0]["status"] == "delivered"
        assert TOKEN not in run.stdout + run.stderr
    assert paths.count(("POST", "/security/v1/oauth/token")) == 1  # the second run used the cached token
    assert paths.count(("GET", f"/api/track/v1/details/{NUMBER}")) == 2

    cache = mocli_env["home"] / http.TOKEN_CACHE_NAME
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(mocli_env["home"].stat().st_mode) == 0o700
    text = cache.read_text()
    assert TOKEN in text and "secret" not in text.replace("client_secret", "")  # the secret is never written


def _session_run(handler, cache, coro_fn):
    async def main():
        async with http.run_session(transport=httpx.MockTransport(handler), token_cache=cache) as s:
            return await coro_fn(s.provider("ups", base_url="http://ups.test", oauth=OAUTH))

    return asyncio.run(main())


OAUTH = http.OAuthClientCredentials("/security/v1/oauth/token", "id", "secret")


def issuing_server(issued: list[str], expires_in: int = 3600):
    def handler(req):
        if req.url.path == "/security/v1/oauth/token":
            issued.append(f"T{len(issued) + 1}")
            return httpx.Response(200, json={"access_token": issued[-1], "expires_in": expires_in})
        return httpx.Response(200, json={"auth": req.headers["authorization"]})

    return handler


def test_cached_token_is_used_until_it_expires_then_fetched_again(tmp_path):
    clock = [1_800_000_000.0]
    cache_path = tmp_path / "data" / "oauth-tokens.json"
    issued: list[str] = []
    handler = issuing_server(issued, expires_in=3600)

    def run():
        cache = http.TokenCache(cache_path, clock=lambda: clock[0])  # a new run reads the file afresh
        return _session_run(handler, cache, lambda c: c.get("/track")).data["auth"]

    assert run() == "Bearer T1"
    clock[0] += 3000  # within the hour, before the refresh margin
    assert run() == "Bearer T1"
    assert issued == ["T1"]
    clock[0] += 600  # 3,600 s after it was issued: expired
    assert run() == "Bearer T2"
    clock[0] += 60
    assert run() == "Bearer T2"
    assert issued == ["T1", "T2"]
    assert stat.S_IMODE(cache_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache_path.parent.stat().st_mode) == 0o700


def test_a_cached_token_the_carrier_refuses_is_dropped_and_replaced(tmp_path):
    cache_path = tmp_path / "oauth-tokens.json"
    issued: list[str] = []

    def handler(req):
        if req.url.path == "/security/v1/oauth/token":
            issued.append(f"T{len(issued) + 1}")
            return httpx.Response(200, json={"access_token": issued[-1], "expires_in": 3600})
        if req.headers["authorization"] == "Bearer T1":  # revoked since the last run
            return httpx.Response(401, json={})
        return httpx.Response(200, json={"auth": req.headers["authorization"]})

    seed = http.TokenCache(cache_path)
    seed.put(http.TokenCache.key("ups", "http://ups.test/security/v1/oauth/token", OAUTH), "ups", "T1", 3000)
    issued.append("T1")
    resp = _session_run(handler, http.TokenCache(cache_path), lambda c: c.get("/track"))
    assert resp.data == {"auth": "Bearer T2"}
    assert "T2" in cache_path.read_text() and '"T1"' not in cache_path.read_text()


@pytest.mark.parametrize("content", [b"{not json", b'{"format": "other", "tokens": {}}', b"[]"])
def test_a_torn_or_foreign_cache_file_is_ignored_and_rewritten(tmp_path, content):
    cache_path = tmp_path / "oauth-tokens.json"
    cache_path.write_bytes(content)
    os.chmod(cache_path, 0o644)
    issued: list[str] = []
    assert _session_run(issuing_server(issued), http.TokenCache(cache_path),
                        lambda c: c.get("/track")).data == {"auth": "Bearer T1"}
    assert json.loads(cache_path.read_text())["format"] == http.TOKEN_CACHE_FORMAT
    assert stat.S_IMODE(cache_path.stat().st_mode) == 0o600


def test_changed_credentials_never_get_the_old_token(tmp_path):
    cache_path = tmp_path / "oauth-tokens.json"
    issued: list[str] = []
    handler = issuing_server(issued)
    _session_run(handler, http.TokenCache(cache_path), lambda c: c.get("/track"))
    other = http.OAuthClientCredentials("/security/v1/oauth/token", "id", "rotated-secret")

    async def main():
        async with http.run_session(transport=httpx.MockTransport(handler),
                                    token_cache=http.TokenCache(cache_path)) as s:
            return await s.provider("ups", base_url="http://ups.test", oauth=other).get("/track")

    assert asyncio.run(main()).data == {"auth": "Bearer T2"}


def test_the_carrier_token_is_fetched_while_the_order_is_being_looked_up(mocli_env, monkeypatch):
    """The order answers only once the token request has arrived: if the token waited for the order,
    the phase would run into its deadline and the order would fail."""
    ups_settings(mocli_env["conf"], "http://ups.test", extra="""
[providers]
customers = "shopify"
orders = "shopify"

[providers.settings.shopify]
base_url = "http://shop.test"
token_env = "T_SHOPIFY_TOKEN"
tier_tags = { VIP = "VIP" }
""")
    for var, value in {"T_UPS_ID": "id", "T_UPS_SECRET": "secret", "T_SHOPIFY_TOKEN": "shpat"}.items():
        monkeypatch.setenv(var, value)
    token_asked = asyncio.Event()

    async def handler(req):
        if req.url.path == "/security/v1/oauth/token":
            token_asked.set()
            return httpx.Response(200, json={"access_token": TOKEN, "expires_in": 3600})
        if req.url.path == f"/admin/api/{API_VERSION}/graphql.json":
            query = json.loads(req.content)["query"]
            if "customers(" in query:
                return httpx.Response(200, json=load("shopify_customers_one.json"))
            await token_asked.wait()
            return httpx.Response(200, json=load("shopify_orders_one.json"))
        if req.url.path == f"/api/track/v1/details/{NUMBER}":
            assert req.headers["authorization"] == f"Bearer {TOKEN}"
            return httpx.Response(200, json=ups_delivered())
        return httpx.Response(404, json={})

    from mocli.config import load_config

    async def main():
        async with http.run_session(transport=httpx.MockTransport(handler)):
            return await gather_facts(Providers(load_config(), date(2026, 11, 27)), "maya.okafor@example.com",
                                      "1042", deadline=5)

    facts = asyncio.run(main())
    assert facts.errors() == {}
    assert facts.customer.value.email == "maya.okafor@example.com"
    assert facts.order.value.number == "#1042" and facts.tracking.value.tracking_number == NUMBER
    assert facts.sources() == {"customer": "shopify", "order": "shopify", "tracking": "ups"}


def test_a_cache_that_cannot_be_written_costs_only_a_token_request(tmp_path):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the data directory should be")
    issued: list[str] = []
    cache = http.TokenCache(blocked / "oauth-tokens.json")
    assert _session_run(issuing_server(issued), cache, lambda c: c.get("/track")).data == {"auth": "Bearer T1"}
    assert blocked.read_text().startswith("a file")  # untouched


def test_a_data_directory_found_looser_is_tightened(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    _session_run(issuing_server([]), http.TokenCache(data / "oauth-tokens.json"), lambda c: c.get("/track"))
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert [p.name for p in data.iterdir()] == ["oauth-tokens.json"]  # no temporary file left behind
