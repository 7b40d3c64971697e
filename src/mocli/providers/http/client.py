"""One provider's client within the run's session: its limits, retries, OAuth token and JSON replies."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx  # noqa: TID253 (this package is imported only inside commands)

from mocli.errors import ConfigError, NotFound, ProviderError
from mocli.providers.http.responses import (
    SURROGATE_ESCAPE,
    basic_auth_header,
    duration,
    looks_html,
    parse_retry_after,
    path_of,
    repair_surrogates,
)
from mocli.providers.http.tokens import TOKEN_REFRESH_MARGIN, OAuthClientCredentials, TokenCache, _Token

log = logging.getLogger("mocli.http")  # method, path, status and timing only; never headers or bodies

RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a failed idempotent call."""

    attempts: int = 4  # total tries, the first included
    backoff: float = 0.5  # first wait when the server gives no Retry-After; doubles each time
    max_wait: float = 30.0  # cap on any single wait, Retry-After included
    statuses: frozenset[int] = RETRY_STATUSES


@dataclass
class JsonResponse:
    """A response whose body was JSON (or empty): its status, parsed body and headers."""

    status: int
    data: Any
    headers: httpx.Headers
    url_path: str


class _RateLimiter:
    """At most ``rate`` request starts per second, spaced evenly (no bursts past the limit)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class ProviderClient:
    """One provider's view of the shared session: its base URL, headers, limits and OAuth token."""

    def __init__(self, session: Any, name: str, *, base_url: str, headers: Mapping[str, str] | None,
                 concurrency: int, rate_per_second: float | None, oauth: OAuthClientCredentials | None,
                 retry: RetryPolicy) -> None:
        if concurrency < 1:
            raise ConfigError(f"providers.settings.{name}.concurrency must be at least 1")
        self.session = session  # the run's HttpSession (session.py, which makes this client)
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self.concurrency = concurrency
        self.oauth = oauth
        self.retry = retry
        self._slots = asyncio.Semaphore(concurrency)
        self._rate = _RateLimiter(rate_per_second)
        self._token = _Token()

    # ------------------------------------------------------------------ public

    async def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                      json: Any = None, data: Mapping[str, str] | None = None,
                      headers: Mapping[str, str] | None = None, idempotent: bool | None = None,
                      accept: Iterable[int] = (200,)) -> JsonResponse:
        """Call ``method base_url+path`` and return its JSON body.

        Statuses in ``accept`` return a `JsonResponse` (so an adapter can read a documented 404 or 400
        body); other statuses raise ProviderError (401/403: credentials, others: the status). A body
        that is not JSON raises ProviderError. ``idempotent`` defaults to True for GET/HEAD/OPTIONS/
        PUT/DELETE; pass True for a POST that only reads (a tracking query) to allow retries.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        accept = frozenset(accept)
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"
        shown = path_of(url)  # for messages: no query string (it may hold personal data)
        if params and "?" not in url:
            # The query encoded as httpx would, once: handing httpx `params` makes it parse the URL a second
            # time to merge them, ~50 us a request in a batch (benchmarks/track_batch.py).
            url, params = f"{url}?{httpx.QueryParams(params)}", None
        refreshed = False
        while True:
            extra = dict(self.headers)
            if self.oauth is not None:
                extra["Authorization"] = f"Bearer {await self._bearer()}"
            extra.update(headers or {})
            resp = await self._send(method, url, shown, params=params, json=json, data=data, headers=extra,
                                    idempotent=idempotent)
            if resp.status_code == 401 and self.oauth is not None and not refreshed:
                # A token can be revoked or expire early; one fresh token, then it is the credentials.
                self._token.value = None
                await self.session._forget_token(self._token_key())
                refreshed = True
                continue
            break
        if resp.status_code in accept:
            return JsonResponse(resp.status_code, self._json(resp, shown), resp.headers, shown)
        raise self._status_error(resp, shown)

    async def get(self, path: str, **kw: Any) -> JsonResponse:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> JsonResponse:
        return await self.request("POST", path, **kw)

    # ------------------------------------------------------------------ internals

    async def _send(self, method: str, url: str, shown: str, *, idempotent: bool, **kw: Any) -> httpx.Response:
        """Send with the provider's limits; retry what may be retried; raise ProviderError otherwise."""
        policy = self.retry
        attempt = 0
        while True:
            attempt += 1
            timeout = self.session._timeout_left(self.name)
            try:
                async with self._slots:
                    await self._rate.wait()
                    started = time.monotonic()
                    async with asyncio.timeout(self.session._attempt_seconds(self.name)):
                        resp = await self._fetch(method, url, shown, timeout, kw)
                log.debug("%s %s %s -> %s in %.0f ms", self.name, method, shown, resp.status_code,
                          (time.monotonic() - started) * 1000)
            except (httpx.TimeoutException, TimeoutError):
                if not idempotent or attempt >= policy.attempts:
                    raise ProviderError(f"{self.name}: no answer in time from {shown} "
                                        f"(after {attempt} attempt{'s' * (attempt > 1)})") from None
                await self.pause(self._backoff(attempt), shown)
                continue
            except httpx.TransportError as exc:
                if not idempotent or attempt >= policy.attempts:
                    raise ProviderError(f"{self.name}: cannot reach {self.base_url} "
                                        f"({type(exc).__name__})") from None
                await self.pause(self._backoff(attempt), shown)
                continue
            if resp.status_code in policy.statuses and idempotent and attempt < policy.attempts:
                wait = parse_retry_after(resp.headers)
                if wait is not None and wait > policy.max_wait:
                    raise ProviderError(f"{self.name}: {shown} asks us to wait {duration(wait)} before trying "
                                        f"again (HTTP {resp.status_code}); that is longer than mocli waits "
                                        f"({policy.max_wait:g} s): try again later")
                await self.pause(self._backoff(attempt) if wait is None else wait, shown)
                continue
            return resp

    async def _fetch(self, method: str, url: str, shown: str, timeout: httpx.Timeout,
                     kw: dict[str, Any]) -> httpx.Response:
        """One request, its body streamed and refused past the session's max_body."""
        client = self.session.client
        resp = await client.send(client.build_request(method, url, timeout=timeout, **kw), stream=True)
        try:
            limit = self.session.max_body
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise self._too_big(resp, shown)
            chunks, size = [], 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise self._too_big(resp, shown)
                chunks.append(chunk)
            resp._content = b"".join(chunks)  # what resp.aread() would have set
        finally:
            await resp.aclose()
        return resp

    def _too_big(self, resp: httpx.Response, shown: str) -> ProviderError:
        return ProviderError(f"{self.name}: answered {shown} with a body over "
                             f"{self.session.max_body / 1_048_576:g} MB (HTTP {resp.status_code}); refused")

    def _backoff(self, attempt: int) -> float:
        base = self.retry.backoff * (2 ** (attempt - 1))
        return base * (0.5 + random.random() / 2)  # jitter so parallel retries do not arrive together

    async def pause(self, seconds: float, shown: str) -> None:
        """Wait before asking again (capped; past the run's deadline it is a ProviderError instead)."""
        seconds = min(max(0.0, seconds), self.retry.max_wait)
        left = self.session._seconds_left()
        if left is not None and seconds >= left:
            raise ProviderError(f"{self.name}: {shown} asked us to wait {seconds:.0f} s, past the deadline "
                                "for this run")
        await self.session._sleep(seconds)

    async def warm_token(self) -> None:
        """Have the OAuth token ready before the first lookup needs it (a no-op without OAuth)."""
        if self.oauth is not None:
            await self._bearer()

    async def _bearer(self) -> str:
        tok = self._token
        loop_now = time.monotonic()
        if tok.value and loop_now < tok.expires_at:
            return tok.value
        async with tok.lock:  # one token request however many lookups wait for it
            if tok.value and time.monotonic() < tok.expires_at:
                return tok.value
            key = self._token_key()
            cached = self.session._cached_token(key)
            if cached is not None:
                tok.value, left = cached
                tok.expires_at = time.monotonic() + left
                return tok.value
            tok.value, tok.expires_at = await self._fetch_token()
            self.session._keep_token(key, self.name, tok.value, tok.expires_at - time.monotonic())
            return tok.value

    def _token_url(self) -> str:
        o = self.oauth
        assert o is not None
        return o.token_url if o.token_url.startswith(("http://", "https://")) \
            else f"{self.base_url}/{o.token_url.lstrip('/')}"

    def _token_key(self) -> str:
        assert self.oauth is not None
        return TokenCache.key(self.name, self._token_url(), self.oauth)

    async def _fetch_token(self) -> tuple[str, float]:
        o = self.oauth
        assert o is not None
        url = self._token_url()
        shown = path_of(url)
        form: dict[str, str] = {"grant_type": "client_credentials", **o.extra}
        if o.scope:
            form["scope"] = o.scope
        headers = {"Accept": "application/json"}
        kw: dict[str, Any] = {}
        if o.auth_style == "basic":
            headers.update(basic_auth_header(o.client_id, o.client_secret))
            kw["data"] = form
        elif o.auth_style == "json":
            kw["json"] = {**form, "client_id": o.client_id, "client_secret": o.client_secret}
        else:
            kw["data"] = {**form, "client_id": o.client_id, "client_secret": o.client_secret}
        # Asking for a client-credentials token again is harmless, so the token call may be retried.
        resp = await self._send("POST", url, shown, headers=headers, idempotent=True, **kw)
        if resp.status_code in (400, 401, 403):
            raise ProviderError(f"{self.name}: the OAuth client id/secret were refused (HTTP "
                                f"{resp.status_code} from {shown}); check the environment variables "
                                "named in the config")
        if resp.status_code != 200:
            raise self._status_error(resp, shown)
        body = self._json(resp, shown)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ProviderError(f"{self.name}: the token response from {shown} has no access_token")
        try:
            ttl = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            ttl = 3600.0
        margin = min(TOKEN_REFRESH_MARGIN, ttl / 10)
        return token, time.monotonic() + max(0.0, ttl - margin)

    def _json(self, resp: httpx.Response, shown: str) -> Any:
        body = resp.content
        if not body.strip():
            return None
        if looks_html(resp):
            raise ProviderError(f"{self.name}: answered {shown} with an HTML page (HTTP {resp.status_code}) "
                                "instead of JSON; is its base_url right, or is it down?")
        try:
            data = json.loads(body)
            # A lone surrogate (only a \\uD800-\\uDFFF escape can make one) could never be saved as
            # UTF-8: repaired to U+FFFD here, once, so a case with that name can still be stored.
            return repair_surrogates(data) if SURROGATE_ESCAPE.search(body) else data
        except (ValueError, UnicodeDecodeError):
            raise ProviderError(f"{self.name}: answered {shown} with a body that is not JSON "
                                f"(HTTP {resp.status_code})") from None
        except RecursionError:
            raise ProviderError(f"{self.name}: answered {shown} with JSON nested too deeply to read "
                                f"(HTTP {resp.status_code})") from None

    def _status_error(self, resp: httpx.Response, shown: str) -> ProviderError:
        code = resp.status_code
        if 300 <= code < 400:
            try:
                target = httpx.URL(resp.headers.get("location", "")).host or "another address"
            except (httpx.InvalidURL, ValueError):
                target = "another address"
            return ProviderError(f"{self.name}: {shown} answered with a redirect (HTTP {code}) to {target}; "
                                 "redirects are not followed, so no credentials were sent there; check its "
                                 "base_url")
        if looks_html(resp):
            return ProviderError(f"{self.name}: answered {shown} with an HTML error page (HTTP {code}) instead "
                                 "of JSON; is its base_url right, or is it down?")
        if code in (401, 403):
            return ProviderError(f"{self.name}: the credentials were refused (HTTP {code} from {shown}); "
                                 "check the environment variables named in the config")
        if code == 404:
            return NotFound(f"{self.name}: nothing at {shown} (HTTP 404)")
        if code == 429:
            return ProviderError(f"{self.name}: rate limit reached (HTTP 429 from {shown}), even after "
                                 "waiting; try again later or lower its concurrency/rate in the config")
        return ProviderError(f"{self.name}: HTTP {code} from {shown}")
