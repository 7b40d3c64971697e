"""The shared HTTP helper: retries, Retry-After, deadlines, OAuth caching, concurrency, bad bodies."""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate

import httpx
import pytest

from mocli.errors import ConfigError, NotFound, ProviderError
from mocli.providers import http

FAST = http.RetryPolicy(attempts=3, backoff=0.0, max_wait=0.05)


def run(handler, coro_fn, **session_kw):
    async def main():
        kw = {"transport": httpx.MockTransport(handler), "retry": FAST, **session_kw}
        async with http.run_session(**kw) as session:
            return await coro_fn(session)

    return asyncio.run(main())


def client(session, **kw):
    return session.provider("acme", base_url="http://acme.test", **kw)


def test_retries_429_then_succeeds_and_honours_retry_after():
    calls = []

    def handler(req):
        calls.append(time.monotonic())
        if len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "0.03"}, json={})
        return httpx.Response(200, json={"ok": True})

    resp = run(handler, lambda s: client(s).get("/x"))
    assert resp.data == {"ok": True}
    assert len(calls) == 2
    assert calls[1] - calls[0] >= 0.025


@pytest.mark.parametrize("status", [502, 503, 504])
def test_retries_gateway_errors(status):
    calls = []

    def handler(req):
        calls.append(1)
        return httpx.Response(status if len(calls) < 3 else 200, json={"n": len(calls)})

    assert run(handler, lambda s: client(s).get("/x")).data == {"n": 3}


def test_gives_up_after_the_bounded_attempts():
    calls = []

    def handler(req):
        calls.append(1)
        return httpx.Response(503, json={})

    with pytest.raises(ProviderError, match="HTTP 503"):
        run(handler, lambda s: client(s).get("/x"))
    assert len(calls) == FAST.attempts


def test_500_is_not_retried():
    calls = []

    def handler(req):
        calls.append(1)
        return httpx.Response(500, json={})

    with pytest.raises(ProviderError, match="HTTP 500"):
        run(handler, lambda s: client(s).get("/x"))
    assert len(calls) == 1


def test_post_is_not_retried_unless_marked_idempotent():
    calls = []

    def handler(req):
        calls.append(1)
        return httpx.Response(503 if len(calls) == 1 else 200, json={})

    with pytest.raises(ProviderError):
        run(handler, lambda s: client(s).post("/create", json={}))
    calls.clear()
    assert run(handler, lambda s: client(s).post("/query", json={}, idempotent=True)).status == 200


def test_connection_errors_and_timeouts_are_retried_then_reported():
    calls = []

    def handler(req):
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused")
        if len(calls) == 2:
            raise httpx.ReadTimeout("slow")
        return httpx.Response(200, json=[1])

    assert run(handler, lambda s: client(s).get("/x")).data == [1]

    def always_slow(req):
        raise httpx.ReadTimeout("slow")

    with pytest.raises(ProviderError, match="no answer in time"):
        run(always_slow, lambda s: client(s).get("/x"))


def test_retry_after_parsing():
    now = 1_800_000_000.0
    assert http.parse_retry_after({"retry-after": "7"}, now) == 7
    assert http.parse_retry_after({"retry-after": formatdate(now + 30, usegmt=True)}, now) == pytest.approx(30)
    assert http.parse_retry_after({"retry-after": "soon"}, now) is None
    assert http.parse_retry_after({"x-ratelimit-reset": str(int(now) + 5)}, now) == 5
    assert http.parse_retry_after({}, now) is None


def test_a_retry_after_past_the_deadline_fails_instead_of_sleeping():
    def handler(req):
        return httpx.Response(429, headers={"Retry-After": "3600"}, json={})

    policy = http.RetryPolicy(attempts=3, backoff=0, max_wait=3600)
    started = time.monotonic()
    with pytest.raises(ProviderError, match="deadline"):
        run(handler, lambda s: client(s).get("/x"), retry=policy, deadline=5)
    assert time.monotonic() - started < 2


def test_html_and_non_json_bodies_are_clear_errors():
    def html(req):
        return httpx.Response(200, text="<!DOCTYPE html><html>Maintenance</html>",
                              headers={"content-type": "text/html"})

    with pytest.raises(ProviderError, match="HTML page"):
        run(html, lambda s: client(s).get("/x"))

    def html_502(req):
        return httpx.Response(500, text="<html>Bad gateway</html>")

    with pytest.raises(ProviderError, match="HTML error page"):
        run(html_502, lambda s: client(s).get("/x"))

    def garbage(req):
        return httpx.Response(200, text="ok then", headers={"content-type": "text/plain"})

    with pytest.raises(ProviderError, match="not JSON"):
        run(garbage, lambda s: client(s).get("/x"))


def test_errors_never_show_query_strings_or_tokens():
    def handler(req):
        if req.url.path == "/token":
            return httpx.Response(200, json={"access_token": "SECRET-TOKEN", "expires_in": 3600})
        return httpx.Response(403, json={})

    oauth = http.OAuthClientCredentials("/token", "id", "SECRET-CLIENT")
    with pytest.raises(ProviderError) as exc:
        run(handler, lambda s: client(s, oauth=oauth).get("/x", params={"email": "ava@example.com"}))
    text = str(exc.value)
    assert "credentials were refused" in text
    assert "ava@example.com" not in text and "SECRET" not in text


def test_404_outside_accept_is_not_found_and_inside_accept_is_returned():
    def handler(req):
        return httpx.Response(404, json={"detail": "nope"})

    with pytest.raises(NotFound):
        run(handler, lambda s: client(s).get("/x"))
    assert run(handler, lambda s: client(s).get("/x", accept=(200, 404))).data == {"detail": "nope"}


def test_oauth_token_is_fetched_once_and_reused_by_concurrent_calls():
    tokens = []

    def handler(req):
        if req.url.path == "/oauth/token":
            tokens.append(req.headers.get("authorization"))
            assert b"grant_type=client_credentials" in req.content
            return httpx.Response(200, json={"access_token": "T1", "expires_in": "3600"})
        assert req.headers["authorization"] == "Bearer T1"
        return httpx.Response(200, json={})

    oauth = http.OAuthClientCredentials("/oauth/token", "id", "secret", auth_style="basic")

    async def many(s):
        c = client(s, oauth=oauth)
        return await asyncio.gather(*(c.get(f"/x/{i}") for i in range(20)))

    assert len(run(handler, many)) == 20
    assert len(tokens) == 1
    assert tokens[0].startswith("Basic ")


def test_expired_token_is_refreshed_and_401_gets_one_fresh_token():
    issued = []

    def handler(req):
        if req.url.path == "/oauth/token":
            issued.append(1)
            # expires_in 0: already stale for the next call
            return httpx.Response(200, json={"access_token": f"T{len(issued)}", "expires_in": 0})
        return httpx.Response(200, json={"auth": req.headers["authorization"]})

    oauth = http.OAuthClientCredentials("/oauth/token", "id", "secret")

    async def twice(s):
        c = client(s, oauth=oauth)
        return [(await c.get("/a")).data, (await c.get("/b")).data]

    assert run(handler, twice) == [{"auth": "Bearer T1"}, {"auth": "Bearer T2"}]

    seen = []

    def revoked(req):
        if req.url.path == "/oauth/token":
            seen.append("token")
            return httpx.Response(200, json={"access_token": f"T{len(seen)}", "expires_in": 3600})
        seen.append(req.headers["authorization"])
        return httpx.Response(401, json={})

    with pytest.raises(ProviderError, match="credentials were refused"):
        run(revoked, lambda s: client(s, oauth=oauth).get("/a"))
    assert seen.count("token") == 2  # one retry with a fresh token, no more


def test_refused_client_credentials_are_a_clear_error():
    def handler(req):
        return httpx.Response(401, json={"error": "invalid_client"})

    oauth = http.OAuthClientCredentials("/oauth/token", "id", "bad")
    with pytest.raises(ProviderError, match="client id/secret were refused"):
        run(handler, lambda s: client(s, oauth=oauth).get("/a"))


def test_concurrency_is_bounded_per_provider():
    in_flight = {"now": 0, "max": 0}

    class Slow(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            in_flight["now"] += 1
            in_flight["max"] = max(in_flight["max"], in_flight["now"])
            await asyncio.sleep(0.01)
            in_flight["now"] -= 1
            return httpx.Response(200, json={})

    async def main():
        async with http.run_session(transport=Slow()) as s:
            c = s.provider("slow", base_url="http://slow.test", concurrency=3)
            await asyncio.gather(*(c.get(f"/{i}") for i in range(12)))

    asyncio.run(main())
    assert in_flight["max"] == 3


def test_rate_limit_spaces_request_starts():
    starts = []

    def handler(req):
        starts.append(time.monotonic())
        return httpx.Response(200, json={})

    async def go(s):
        c = s.provider("rated", base_url="http://r.test", concurrency=5, rate_per_second=50)
        await asyncio.gather(*(c.get(f"/{i}") for i in range(5)))

    run(handler, go)
    assert starts[-1] - starts[0] >= 4 * 0.02 * 0.9


def test_env_secret_names_the_missing_variable(monkeypatch):
    monkeypatch.delenv("ACME_KEY", raising=False)
    with pytest.raises(ConfigError, match="ACME_KEY"):
        http.env_secret("ACME_KEY", "acme")
    monkeypatch.setenv("ACME_KEY", " k ")
    assert http.env_secret("ACME_KEY", "acme") == "k"


def test_dig_reports_the_missing_path():
    data = {"a": {"b": [{"c": 1}]}}
    assert http.dig(data, "a", "b", 0, "c", provider="p") == 1
    with pytest.raises(ProviderError, match=r"no a\.b\[1\]"):
        http.dig(data, "a", "b", 1, provider="p")
    with pytest.raises(ProviderError, match="should be list"):
        http.dig(data, "a", provider="p", expect=list)


def test_query_params_are_sent_as_httpx_encodes_them_and_merge_with_a_query_in_the_path():
    seen = []

    def handler(req):
        seen.append(str(req.url))
        return httpx.Response(200, json={})

    async def calls(s):
        c = client(s)
        await c.get("/track/1Z 9", params={"locale": "en_US", "returnPOD": "false", "q": "a&b=c", "ids": ["1", "2"]})
        await c.get("/next?page=2", params={"page": "3", "size": "50"})
        await c.get("/plain")

    run(handler, calls)
    assert seen[0] == str(httpx.URL("http://acme.test/track/1Z 9", params={
        "locale": "en_US", "returnPOD": "false", "q": "a&b=c", "ids": ["1", "2"]}))
    assert "q=a%26b%3Dc" in seen[0] and "ids=1&ids=2" in seen[0]
    assert seen[1] == "http://acme.test/next?page=3&size=50"  # the path's query merged, as httpx merges it
    assert seen[2] == "http://acme.test/plain"


def test_each_request_reuses_the_timeouts_until_the_deadline_is_nearer_than_them():
    far = http.HttpSession(deadline=300.0)
    assert far._timeout_left("acme") is far.timeout  # no new object per request in a batch
    near = http.HttpSession(deadline=3.0)
    capped = near._timeout_left("acme")
    assert capped.read <= 3.0 and capped.connect <= 3.0 and capped.pool <= 3.0
    unbounded = http.HttpSession(deadline=300.0, timeout=httpx.Timeout(5.0, read=None))
    assert unbounded._timeout_left("acme").read <= 300.0  # a read with no limit is still capped by the run's
