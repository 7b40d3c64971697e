"""Hardening the HTTP helper against a hostile or broken server on 127.0.0.1: stalls, trickles, huge
bodies, HTML, bad JSON, redirects to another host, and every kind of Retry-After."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from mocli.errors import ProviderError
from mocli.providers import http

MB = 1024 * 1024


class Hostile:
    """A real HTTP server on 127.0.0.1; `routes` maps a path to a function(handler, server)."""

    def __init__(self, routes):
        self.routes = routes
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.sent = 0
        self.stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests.append((self.path, dict(self.headers)))
                route = outer.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                try:
                    route(self, outer)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_POST = do_GET

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def reply(handler, status=200, body=b"{}", ctype="application/json", headers=()):
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(body)))
    for k, v in headers:
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(body)


def stall(handler, srv):
    srv.stop.wait(10)  # accepts the request, never answers


def trickle(handler, srv):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    while not srv.stop.is_set():  # one byte every 50 ms: no single read ever times out
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(0.05)


def huge(declared: bool):
    def route(handler, srv):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if declared:
            handler.send_header("Content-Length", str(50 * MB))
        else:
            handler.send_header("Connection", "close")  # body runs until the connection closes
        handler.end_headers()
        chunk = b"[" + b"1," * (32 * 1024)
        while srv.sent < 50 * MB and not srv.stop.is_set():
            handler.wfile.write(chunk)
            srv.sent += len(chunk)
        handler.close_connection = True
    return route


def session(**kw):
    opts = {"timeout": httpx.Timeout(0.3), "retry": http.RetryPolicy(attempts=2, backoff=0.0, max_wait=5.0),
            "deadline": 20.0, **kw}
    return http.run_session(**opts)


def call(url: str, path: str, headers=None, **kw):
    async def main():
        async with session(**kw) as s:
            return await s.provider("acme", base_url=url, headers=headers).get(path)

    return asyncio.run(main())


def test_a_server_that_stalls_gets_bounded_attempts_and_a_clear_error():
    with Hostile({"/x": stall}) as srv:
        started = time.monotonic()
        with pytest.raises(ProviderError, match=r"acme: no answer in time from /x \(after 2 attempts\)"):
            call(srv.url, "/x")
        assert time.monotonic() - started < 5
        assert len(srv.requests) == 2


@pytest.mark.parametrize("limit", [{"attempt_seconds": 0.4}, {"attempt_seconds": None, "deadline": 1.0}])
def test_a_server_that_trickles_bytes_is_cut_off_by_the_attempt_cap_or_the_deadline(limit):
    with Hostile({"/x": trickle}) as srv:
        started = time.monotonic()
        with pytest.raises(ProviderError, match="acme: .*(no answer in time|deadline)"):
            call(srv.url, "/x", **limit)
        assert time.monotonic() - started < 5  # a read timeout alone would wait 100000 x 50 ms


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "until-close"])
def test_a_50_mb_body_is_refused_past_the_limit_without_reading_it_all(declared):
    assert http.MAX_BODY == 10 * MB
    with Hostile({"/x": huge(declared)}) as srv:
        with pytest.raises(ProviderError, match=r"acme: answered /x with a body over 1 MB \(HTTP 200\); refused"):
            call(srv.url, "/x", max_body=1 * MB)
        time.sleep(0.2)
        # Streamed and abandoned: the server could push only what the socket buffers held.
        assert srv.sent < 25 * MB
        assert len(srv.requests) == 1  # not retried


def test_the_default_limit_is_10_mb():
    with Hostile({"/x": huge(False)}) as srv:
        with pytest.raises(ProviderError, match="over 10 MB"):
            call(srv.url, "/x")
        time.sleep(0.2)
        assert srv.sent < 40 * MB


@pytest.mark.parametrize("body,ctype,needle", [
    (b"<html><body>Service Unavailable</body></html>", "text/html", "an HTML page"),
    (b"{not json", "application/json", "a body that is not JSON"),
    (b"\xff\xfe\x00garbage", "application/json", "a body that is not JSON"),
    (b'{"a": 1} trailing', "application/json", "a body that is not JSON"),
])
def test_html_and_invalid_json_are_one_line_errors(body, ctype, needle):
    with Hostile({"/x": lambda h, s: reply(h, body=body, ctype=ctype)}) as srv:
        with pytest.raises(ProviderError, match=needle) as info:
            call(srv.url, "/x")
    assert "\n" not in str(info.value)


def test_a_redirect_to_another_host_is_not_followed_and_the_credentials_stay_home():
    with Hostile({"/steal": lambda h, s: reply(h)}) as thief:
        # "localhost" and 127.0.0.1 are different hosts to an HTTP client.
        other = thief.url.replace("127.0.0.1", "localhost")
        with Hostile({"/x": lambda h, s: reply(h, 302, b"", headers=[("Location", f"{other}/steal?k=1")])}) as srv:
            with pytest.raises(ProviderError) as info:
                call(srv.url, "/x", headers={"Authorization": "Bearer top-secret-token"})
    message = str(info.value)
    assert "redirect (HTTP 302) to localhost" in message and "not followed" in message
    assert "top-secret-token" not in message and "k=1" not in message
    assert thief.requests == []  # nothing, let alone the token, went to the other host
    assert srv.requests[0][1]["Authorization"] == "Bearer top-secret-token"


class Sleeps:
    """A recording sleep: the waits the helper asked for, without waiting."""

    def __init__(self):
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def retry_after(value: str | None, status: int = 429, attempts: int = 3):
    calls = []

    def handler(req):
        calls.append(req)
        if len(calls) == 1:
            headers = {"Retry-After": value} if value is not None else {}
            return httpx.Response(status, headers=headers, json={})
        return httpx.Response(200, json={"ok": True})

    sleeps = Sleeps()

    async def main():
        async with http.run_session(transport=httpx.MockTransport(handler), sleep=sleeps,
                                    retry=http.RetryPolicy(attempts=attempts, backoff=0.5, max_wait=30.0)) as s:
            return await s.provider("acme", base_url="http://acme.test").get("/x")

    return main, calls, sleeps


def test_retry_after_2_waits_two_seconds_then_retries():
    main, calls, sleeps = retry_after("2")
    assert asyncio.run(main()).data == {"ok": True}
    assert sleeps.waits == [2.0] and len(calls) == 2


def test_retry_after_as_an_http_date_waits_until_then():
    main, calls, sleeps = retry_after(formatdate(time.time() + 5, usegmt=True))
    assert asyncio.run(main()).data == {"ok": True}
    [wait] = sleeps.waits
    assert 3.0 <= wait <= 6.0 and len(calls) == 2


@pytest.mark.parametrize("value", ["99999", formatdate(time.time() + 86400, usegmt=True), "inf", "1e400"])
def test_a_retry_after_longer_than_mocli_waits_fails_at_once(value):
    main, calls, sleeps = retry_after(value, status=503)
    with pytest.raises(ProviderError, match=r"asks us to wait .* longer than mocli waits \(30 s\)"):
        asyncio.run(main())
    assert sleeps.waits == [] and len(calls) == 1  # no silent hours-long wait, no hammering


@pytest.mark.parametrize("value", ["garbage", "", "-5", "nan", "Fri, 99 Foo 2026 00:00:00 GMT", "soon"])
def test_a_garbage_retry_after_falls_back_to_a_bounded_backoff(value):
    main, calls, sleeps = retry_after(value)
    assert asyncio.run(main()).data == {"ok": True}
    assert len(sleeps.waits) == 1 and 0.0 <= sleeps.waits[0] <= 30.0 and len(calls) == 2


def test_a_server_that_always_says_retry_later_gets_bounded_attempts():
    calls = []

    def handler(req):
        calls.append(req)
        return httpx.Response(429, headers={"Retry-After": "1"}, json={})

    sleeps = Sleeps()

    async def main():
        async with http.run_session(transport=httpx.MockTransport(handler), sleep=sleeps,
                                    retry=http.RetryPolicy(attempts=4, max_wait=30.0)) as s:
            return await s.provider("acme", base_url="http://acme.test").get("/x")

    with pytest.raises(ProviderError, match="rate limit reached"):
        asyncio.run(main())
    assert len(calls) == 4 and sleeps.waits == [1.0, 1.0, 1.0]


# ---------------------------------------------------------------- through `mocli track`, with secrets

SECRET = "sekret-DHL-k3y-0123456789abcdef"
NUMBER = "7777777770"


def dhl_body(shipment) -> bytes:
    return json.dumps({"shipments": [shipment]}).encode()


@pytest.mark.parametrize("name,route", [
    ("401", lambda h, s: reply(h, 401, b'{"title":"Unauthorized"}')),
    ("500", lambda h, s: reply(h, 500, b'{"detail":"boom"}')),
    ("html", lambda h, s: reply(h, 200, b"<html>oops</html>", ctype="text/html")),
    ("not json", lambda h, s: reply(h, 200, b"{oops")),
    ("wrong types", lambda h, s: reply(h, 200, dhl_body({"id": NUMBER, "status": "delivered", "events": "none"}))),
    ("wrong types 2", lambda h, s: reply(h, 200, dhl_body({"id": 7, "status": {"statusCode": 5, "timestamp": []},
                                                           "events": [{"timestamp": 1}]}))),
    ("missing fields", lambda h, s: reply(h, 200, dhl_body({}))),
    ("shipments not a list", lambda h, s: reply(h, 200, b'{"shipments": "nope"}')),
    ("redirect", lambda h, s: reply(h, 301, b"", headers=[("Location", "http://evil.example/x")])),
    ("stall", stall),
])
def test_track_against_a_broken_carrier_is_one_line_and_never_shows_the_key(cli, mocli_env, monkeypatch, name, route):
    monkeypatch.setenv("T_DHL_KEY", SECRET)
    with Hostile({"/track/shipments": route}) as srv:
        (mocli_env["conf"] / "settings.toml").write_text(
            f'[providers.tracking]\ndefault = "dhl"\n\n[providers.settings.dhl]\nbase_url = "{srv.url}"\n'
            'api_key_env = "T_DHL_KEY"\n')
        started = time.monotonic()
        r = cli("--debug", "track", NUMBER, "--carrier", "dhl", "--json", "--timeout", "2")
        assert time.monotonic() - started < 15
        table = cli("--debug", "track", NUMBER, "--carrier", "dhl", "--timeout", "2")
    assert r.code == 1, (r.code, r.out, r.err)
    assert "Traceback" not in r.err and "internal error" not in r.err
    [result] = json.loads(r.out)
    assert result["error"]
    for out in (r.out, r.err, table.out, table.err):
        assert SECRET not in out
    if srv.requests:
        assert srv.requests[0][1].get("DHL-API-Key") == SECRET  # it was sent, to the configured host only


def test_a_deeply_nested_body_is_a_one_line_provider_error():
    deep = b"[" * 200_000 + b"]" * 200_000  # 400 KB, far deeper than any parser recurses
    with Hostile({"/x": lambda h, s: reply(h, body=deep)}) as srv:
        with pytest.raises(ProviderError, match="nested too deeply") as info:
            call(srv.url, "/x")
    assert "\n" not in str(info.value)


def test_a_lone_surrogate_in_a_provider_string_is_repaired_so_it_can_be_stored(tmp_path):
    from mocli.store import CaseStore

    body = b'{"name": "Ann\\ud800e", "pair": "\\ud83d\\ude00", "\\udfffkey": ["x\\udc00"]}'
    with Hostile({"/x": lambda h, s: reply(h, body=body)}) as srv:
        data = call(srv.url, "/x").data
    assert data == {"name": "Ann\ufffde", "pair": "\U0001F600", "\ufffdkey": ["x\ufffd"]}
    s = CaseStore(tmp_path / "cases.db")
    s.add({"id": "MO-1", "customer": data})  # a lone surrogate could not be written as UTF-8
    assert s.all()[0]["customer"]["name"] == "Ann\ufffde"


def test_one_carrier_answering_deeply_nested_json_costs_one_number_not_the_batch(cli, mocli_env, monkeypatch):
    monkeypatch.setenv("T_DHL_KEY", SECRET)
    numbers = ["7777777770", "1234567890", "5555555550", "9999999990"]

    def route(handler, srv):
        if "7777777770" in handler.path:
            reply(handler, 200, b"[" * 200_000 + b"]" * 200_000)
        else:
            reply(handler, 404, b'{"title":"No shipment with given tracking number found.","status":404}')

    with Hostile({"/track/shipments": route}) as srv:
        (mocli_env["conf"] / "settings.toml").write_text(
            f'[providers.tracking]\ndefault = "dhl"\n\n[providers.settings.dhl]\nbase_url = "{srv.url}"\n'
            'api_key_env = "T_DHL_KEY"\n')
        r = cli("track", *numbers, "--carrier", "dhl", "--json", "--timeout", "10")
    assert r.code == 1 and "internal error" not in r.err, r.err
    results = json.loads(r.out)
    assert [x["tracking_number"] for x in results] == numbers
    assert results[0]["error"]["code"] == "provider_error" and "nested too deeply" in results[0]["error"]["message"]
    assert all(x["error"]["code"] == "not_found" for x in results[1:])


@pytest.mark.parametrize("name,route", [("stall", stall), ("slow drip", trickle)])
def test_one_lookup_has_one_overall_deadline_from_the_config(cli, mocli_env, monkeypatch, name, route):
    # Without it a stalled carrier took 87 s (read timeouts x retries) and a slow-drip one 244 s.
    monkeypatch.setenv("T_DHL_KEY", SECRET)
    with Hostile({"/track/shipments": route}) as srv:
        (mocli_env["conf"] / "settings.toml").write_text(
            '[providers]\nlookup_timeout_seconds = 1\n'
            f'[providers.tracking]\ndefault = "dhl"\n\n[providers.settings.dhl]\nbase_url = "{srv.url}"\n'
            'api_key_env = "T_DHL_KEY"\n')
        r = cli("track", NUMBER, "--carrier", "dhl", "--json")
    assert r.code == 1, r.err
    [result] = json.loads(r.out)
    assert result["error"]["code"] == "provider_error"
    assert "no answer within 1 s" in result["error"]["message"]
    assert "lookup_timeout_seconds" in result["error"]["message"]
    assert len(srv.requests) == 1  # cut off in its first attempt: no retry runs past the deadline


def test_the_lookup_timeout_is_validated_and_has_an_environment_override(cli, mocli_env, monkeypatch):
    (mocli_env["conf"] / "settings.toml").write_text('[providers]\nlookup_timeout_seconds = 0\n')
    r = cli("config", "check")
    assert r.code == 2 and "providers.lookup_timeout_seconds" in r.err
    monkeypatch.setenv("MOCLI_LOOKUP_TIMEOUT", "12")
    shown = json.loads(cli("config", "show", "--json").out)
    assert shown["settings"]["providers"]["lookup_timeout_seconds"] == 12


def test_the_wizards_lookups_are_bounded_by_the_same_setting(cli, mocli_env, monkeypatch):
    from mocli.providers.demo import DemoProvider

    async def hangs(self, ref):
        await asyncio.sleep(60)

    monkeypatch.setattr(DemoProvider, "find_customer", hangs)
    monkeypatch.setenv("MOCLI_LOOKUP_TIMEOUT", "0.5")
    r = cli("new-case", "--no-input", "--customer", "ben.carter@example.com", "--order", "1003",
            "--address-confirmed", "yes")
    assert r.code == 1 and "within 0.5 s" in r.err, r.err
