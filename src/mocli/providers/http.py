"""The one way mocli talks HTTP: a shared async client per run, with the manners every API wants.
Long on purpose: every adapter's retries, limits, tokens and deadlines are here so they are written once.

Every real adapter (carriers, CRM, order systems) goes through this module, so each of these holds
for all of them and is tested once (tests/test_http.py):

* one ``httpx.AsyncClient`` per run (`run_session`), explicit connect/read/write/pool timeouts, a cap
  on each attempt as a whole (a server that trickles one byte a second never times out a read) and an
  overall deadline for the whole run;
* a response body is streamed and refused past ``max_body`` bytes (10 MB; a declared Content-Length
  over it is refused before reading), so a huge or endless body is never held in memory;
* redirects are never followed (a redirect to another host would take the credentials there): a 3xx
  is a one-line error naming the host it pointed to;
* retries on 429, 502, 503, 504 and on connection errors / timeouts, for idempotent calls only,
  honouring ``Retry-After`` (seconds or an HTTP date; ``X-RateLimit-Reset`` as a fallback; garbage is
  ignored) with a bounded number of attempts; a server asking for a longer wait than ``max_wait`` gets
  an error at once instead of a long silent wait;
* concurrency bounded per provider (a semaphore) and an optional request rate (requests per second);
* OAuth client-credentials tokens fetched once and cached until shortly before they expire; a 401
  drops the cached token and tries once more with a fresh one; with a `TokenCache` (the commands use
  the data directory's) a token outlives the run, so the next run asks for none until it expires;
* an HTML page, a non-JSON body or a body of the wrong shape becomes a one-line `ProviderError`,
  never a traceback; messages name the provider and the path, never a query string, header or token.

Usage (an adapter)::

    from mocli.providers import http

    client = http.current_session().provider(
        "ups", base_url="https://onlinetools.ups.com", concurrency=8,
        oauth=http.OAuthClientCredentials(token_url="/security/v1/oauth/token",
                                          client_id=http.env_secret("UPS_CLIENT_ID", "ups"),
                                          client_secret=http.env_secret("UPS_CLIENT_SECRET", "ups")))
    resp = await client.request("GET", f"/api/track/v1/details/{number}", accept=(200, 404))
    pkg = http.dig(resp.data, "trackResponse", "shipment", 0, "package", 0, provider="ups")

Usage (whoever runs the event loop, e.g. a command)::

    async with http.run_session(deadline=120):
        ...  # every adapter's current_session() is this one; the client is closed on exit

This module is imported only inside commands (httpx is not loaded by `mocli --help`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import random
import re
import stat
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx  # noqa: TID253 (this module is imported only inside commands)

from mocli.config import ENV_NAME, ENV_NAME_RULE
from mocli.errors import ConfigError, NotFound, ProviderError

__all__ = [
    "DEFAULT_TIMEOUT", "HttpSession", "JsonResponse", "OAuthClientCredentials", "ProviderClient",
    "RetryPolicy", "TokenCache", "basic_auth_header", "current_session", "dig", "env_secret", "run_session",
]

log = logging.getLogger("mocli.http")  # method, path, status and timing only; never headers or bodies

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=10.0, pool=10.0)
ATTEMPT_SECONDS = 60.0  # one attempt as a whole: connect, headers and the whole body
MAX_BODY = 10 * 1024 * 1024  # bytes; no API we speak answers one lookup with more
RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
TOKEN_REFRESH_MARGIN = 60.0  # seconds before expiry at which a cached token is no longer used


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


@dataclass
class OAuthClientCredentials:
    """An OAuth 2 client-credentials grant. ``token_url`` may be relative to the provider's base_url.

    ``auth_style="basic"`` sends id:secret as HTTP Basic (UPS); ``"body"`` sends them as form fields
    (FedEx); ``"json"`` posts a JSON body (USPS accepts either).
    """

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str | None = None
    auth_style: str = "basic"
    extra: Mapping[str, str] = field(default_factory=dict)


def env_secret(var: str | None, provider: str, *, setting: str = "secret") -> str:
    """The secret held in environment variable ``var``; a ConfigError naming the variable if unset."""
    if not var:
        raise ConfigError(f"settings.toml: providers.settings.{provider}: no environment variable named "
                          f"for its {setting} (e.g. api_key_env = \"MY_VAR\")")
    if not isinstance(var, str) or not ENV_NAME.match(var):
        # Probably the secret itself pasted where its variable's name belongs: never echo it.
        raise ConfigError(f"settings.toml: providers.settings.{provider}: the {setting} setting {ENV_NAME_RULE}")
    value = os.environ.get(var, "").strip()
    if not value:
        raise ConfigError(f"{provider}: environment variable {var} is not set (it holds the {setting}; "
                          "secrets are never read from config files)")
    return value


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _repair_surrogates(node: Any) -> Any:
    """`node` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(node, str):
        return _LONE_SURROGATE.sub("\ufffd", node)
    if isinstance(node, list):
        return [_repair_surrogates(v) for v in node]
    if isinstance(node, dict):
        return {_repair_surrogates(k): _repair_surrogates(v) for k, v in node.items()}
    return node


def basic_auth_header(user: str, password: str) -> dict[str, str]:
    """An Authorization header for HTTP Basic (e.g. Zendesk's ``{email}/token:{api_token}``)."""
    raw = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {raw}"}


def dig(data: Any, *path: str | int, provider: str, expect: type | tuple[type, ...] | None = None) -> Any:
    """``data[path[0]][path[1]]...``; a ProviderError saying what is missing if the shape is wrong."""
    node = data
    walked = ""
    for part in path:
        walked += f"[{part}]" if isinstance(part, int) else (f".{part}" if walked else str(part))
        if isinstance(part, int):
            ok = isinstance(node, list) and -len(node) <= part < len(node)
        else:
            ok = isinstance(node, dict) and part in node
        if not ok:
            raise ProviderError(f"{provider}: the response is not what its documentation says "
                                f"(no {walked})")
        node = node[part]
    if expect is not None and not isinstance(node, expect):
        names = "/".join(t.__name__ for t in (expect if isinstance(expect, tuple) else (expect,)))
        raise ProviderError(f"{provider}: the response is not what its documentation says "
                            f"({walked or 'body'} should be {names}, got {type(node).__name__})")
    return node


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date) or ``X-RateLimit-Reset`` (epoch)."""
    now = time.time() if now is None else now
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        return max(0.0, when.timestamp() - now)
    reset = headers.get("x-ratelimit-reset")
    if reset:
        try:
            n = float(reset)
        except ValueError:
            return None
        # An epoch timestamp (AfterShip) or, from some APIs, seconds until the reset.
        return max(0.0, n - now) if n > 1_000_000_000 else max(0.0, n)
    return None


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


class _Token:
    def __init__(self) -> None:
        self.value: str | None = None
        self.expires_at = 0.0
        self.lock = asyncio.Lock()


TOKEN_CACHE_NAME = "oauth-tokens.json"
TOKEN_CACHE_FORMAT = "mocli-oauth-tokens/1"


class TokenCache:
    """OAuth tokens kept between runs in one JSON file (0600, in a 0700 directory), each until shortly
    before it expires, so a wizard run or a `mocli track` batch does not wait for a token every time.

    Entries are keyed by a hash of the provider, token URL, client id, secret and scope: a changed
    secret or another account never gets an old token, and no secret is written down. A file that
    cannot be read or written is only a cache: mocli then asks the provider for a token, as before.
    """

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock  # wall-clock seconds: expiry must hold across runs, unlike time.monotonic()
        self._entries: dict[str, dict[str, Any]] | None = None

    @classmethod
    def in_data_dir(cls) -> TokenCache:
        """The cache beside the cases, in mocli's data directory (MOCLI_HOME)."""
        from mocli.config import data_dir

        return cls(data_dir() / TOKEN_CACHE_NAME)

    @staticmethod
    def key(provider: str, token_url: str, oauth: OAuthClientCredentials) -> str:
        parts = (provider, token_url, oauth.client_id, oauth.client_secret, oauth.scope or "", oauth.auth_style)
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._entries is None:
            self._entries = {}
            try:
                if stat.S_IMODE(os.stat(self.path).st_mode) & 0o077:
                    os.chmod(self.path, 0o600)  # found looser: tightened, as every file mocli writes
                data = json.loads(self.path.read_bytes())
            except (OSError, ValueError):
                return self._entries  # missing, unreadable or torn: start afresh
            tokens = data.get("tokens") if isinstance(data, dict) and data.get("format") == TOKEN_CACHE_FORMAT \
                else None
            if isinstance(tokens, dict):
                self._entries = {k: v for k, v in tokens.items() if isinstance(v, dict)
                                 and isinstance(v.get("access_token"), str)
                                 and isinstance(v.get("expires_at"), int | float)}
        return self._entries

    def get(self, key: str) -> tuple[str, float] | None:
        """(token, seconds it stays usable) if a token for `key` is cached and not about to expire."""
        entry = self._load().get(key)
        if entry is None:
            return None
        left = float(entry["expires_at"]) - self.clock()
        return (entry["access_token"], left) if left > 0 else None

    def put(self, key: str, provider: str, token: str, usable_for: float) -> None:
        """Keep `token` for `usable_for` seconds (expired entries are dropped on the way)."""
        now = self.clock()
        entries = {k: v for k, v in self._load().items() if float(v["expires_at"]) > now}
        entries[key] = {"provider": provider, "access_token": token, "expires_at": now + usable_for}
        self._entries = entries
        self._write()

    def drop(self, key: str) -> None:
        """Forget a token the provider refused (revoked before its expiry)."""
        if self._load().pop(key, None) is not None:
            self._write()

    def _write(self) -> None:
        """Replace the file in one rename (0600 from its creation). No fsync, and not the store's
        writer (which would load the case store's packages into every `mocli track`): a cache lost
        in a crash costs one token request."""
        data = json.dumps({"format": TOKEN_CACHE_FORMAT, "tokens": self._entries or {}}, indent=1).encode()
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self._private_dir()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, self.path)
        except OSError as exc:  # read-only or full: a token request next run, nothing more
            log.debug("token cache not written: %s", exc)
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass

    def _private_dir(self) -> None:
        """The data directory, 0700: made so, or tightened if found looser (the rule of
        `store.ensure_private_dir`, whose module this one must not load)."""
        parent = self.path.parent
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        mode = stat.S_IMODE(parent.stat().st_mode)
        if mode & 0o077:
            os.chmod(parent, mode & ~0o077)


class ProviderClient:
    """One provider's view of the shared session: its base URL, headers, limits and OAuth token."""

    def __init__(self, session: HttpSession, name: str, *, base_url: str, headers: Mapping[str, str] | None,
                 concurrency: int, rate_per_second: float | None, oauth: OAuthClientCredentials | None,
                 retry: RetryPolicy) -> None:
        if concurrency < 1:
            raise ConfigError(f"providers.settings.{name}.concurrency must be at least 1")
        self.session = session
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
        shown = _path_of(url)  # for messages: no query string (it may hold personal data)
        if params and "?" not in url:
            # The query encoded as httpx would, once: handing httpx `params` makes it parse the URL a second
            # time to merge them, a third of a batch lookup's own CPU (benchmarks/track_batch.py).
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
                    raise ProviderError(f"{self.name}: {shown} asks us to wait {_duration(wait)} before trying "
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
        shown = _path_of(url)
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
        if _looks_html(resp):
            raise ProviderError(f"{self.name}: answered {shown} with an HTML page (HTTP {resp.status_code}) "
                                "instead of JSON; is its base_url right, or is it down?")
        try:
            data = json.loads(body)
            # A lone surrogate (only a \\uD800-\\uDFFF escape can make one) could never be saved as
            # UTF-8: repaired to U+FFFD here, once, so a case with that name can still be stored.
            return _repair_surrogates(data) if _SURROGATE_ESCAPE.search(body) else data
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
        if _looks_html(resp):
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


def _path_of(url: str) -> str:
    """The path of `url` for messages, without its query string. httpx parses the URL once more to
    send it; a second full parse here cost as much as a tenth of a lookup's CPU in a batch."""
    from urllib.parse import quote, urlsplit

    # Percent-encoded as httpx would send it: no control character from a typed number reaches a message.
    return quote(urlsplit(url).path, safe="/%:@!$&'()*+,;=~") or "/"


def _duration(seconds: float) -> str:
    if seconds == float("inf") or seconds >= 86400 * 365:
        return "a very long time"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _looks_html(resp: httpx.Response) -> bool:
    return "html" in resp.headers.get("content-type", "").lower() or resp.content.lstrip()[:1] == b"<"


class HttpSession:
    """One run's HTTP: the shared httpx client, the overall deadline, and each provider's client."""

    def __init__(self, *, timeout: httpx.Timeout = DEFAULT_TIMEOUT, deadline: float | None = 300.0,
                 retry: RetryPolicy | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Callable[[float], Awaitable[Any]] | None = None, max_connections: int = 200,
                 attempt_seconds: float | None = ATTEMPT_SECONDS, max_body: int = MAX_BODY,
                 token_cache: TokenCache | None = None) -> None:
        self.timeout = timeout
        limits = (timeout.connect, timeout.read, timeout.write, timeout.pool)
        # A None (no limit) is capped by the deadline in every request, so it never lets the object be reused.
        self._longest_timeout = float("inf") if None in limits else max(limits)
        self.token_cache = token_cache
        self._cache_writes: set[asyncio.Future[Any]] = set()
        self.deadline = deadline
        self.attempt_seconds = attempt_seconds
        self.max_body = max_body
        self.retry = retry or RetryPolicy()
        self._sleep = sleep or asyncio.sleep
        self._started = time.monotonic()
        self._providers: dict[str, ProviderClient] = {}
        self._client: httpx.AsyncClient | None = None
        self._client_options: dict[str, Any] = dict(
            timeout=timeout, transport=transport, follow_redirects=False,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"Accept": "application/json", "User-Agent": "mocli"},
        )
        try:
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None

    @property
    def client(self) -> httpx.AsyncClient:
        """The run's httpx client, made at the first request: building its TLS context (the CA bundle)
        costs more than a demo-data run or a batch of mistyped numbers does in all, and they send none."""
        if self._client is None:
            self._client = httpx.AsyncClient(**self._client_options)
        return self._client

    def provider(self, name: str, *, base_url: str, headers: Mapping[str, str] | None = None,
                 concurrency: int = 8, rate_per_second: float | None = None,
                 oauth: OAuthClientCredentials | None = None, retry: RetryPolicy | None = None) -> ProviderClient:
        """The client for provider ``name``; made once per session so its limits and token are shared."""
        existing = self._providers.get(name)
        if existing is not None:
            return existing
        client = ProviderClient(self, name, base_url=base_url, headers=headers, concurrency=concurrency,
                                rate_per_second=rate_per_second, oauth=oauth, retry=retry or self.retry)
        self._providers[name] = client
        return client

    def _seconds_left(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - (time.monotonic() - self._started)

    def _attempt_seconds(self, provider: str) -> float | None:
        """How long one attempt may take as a whole: the per-attempt cap, within the run's deadline."""
        left = self._seconds_left()
        if left is not None and left <= 0:
            raise ProviderError(f"{provider}: the deadline for this run ({self.deadline:.0f} s) has passed")
        caps = [c for c in (self.attempt_seconds, left) if c is not None]
        return min(caps) if caps else None

    def _timeout_left(self, provider: str) -> httpx.Timeout:
        left = self._seconds_left()
        if left is None:
            return self.timeout
        if left <= 0:
            raise ProviderError(f"{provider}: the deadline for this run ({self.deadline:.0f} s) has passed")
        if left >= self._longest_timeout:
            return self.timeout  # the deadline is further than any of them: no new object per request

        def cap(v: float | None) -> float:
            return left if v is None else min(v, left)

        t = self.timeout
        return httpx.Timeout(connect=cap(t.connect), read=cap(t.read), write=cap(t.write), pool=cap(t.pool))

    def _cached_token(self, key: str) -> tuple[str, float] | None:
        return self.token_cache.get(key) if self.token_cache is not None else None

    def _keep_token(self, key: str, provider: str, token: str, usable_for: float) -> None:
        """Write the token to the cache off the event loop: the lookup waiting for it goes on at once."""
        if self.token_cache is None or usable_for <= 0:
            return
        write = asyncio.ensure_future(asyncio.to_thread(self.token_cache.put, key, provider, token, usable_for))
        self._cache_writes.add(write)
        write.add_done_callback(self._cache_writes.discard)

    async def _forget_token(self, key: str) -> None:
        if self.token_cache is not None:
            await asyncio.gather(*self._cache_writes, return_exceptions=True)  # not undone by a late write
            self.token_cache.drop(key)

    async def aclose(self) -> None:
        try:
            if self._cache_writes:  # a token fetched this run is kept for the next
                await asyncio.gather(*self._cache_writes, return_exceptions=True)
        finally:
            if self._client is not None:
                await self._client.aclose()

    async def __aenter__(self) -> HttpSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


_current: HttpSession | None = None


def current_session() -> HttpSession:
    """The run's session (from `run_session`); one is made if none is open in this event loop."""
    global _current
    loop = asyncio.get_running_loop()
    if _current is None or _current.loop is not loop:
        _current = HttpSession()
    return _current


@asynccontextmanager
async def run_session(**kwargs: Any) -> AsyncIterator[HttpSession]:
    """Open the run's session (arguments as `HttpSession`), make it current, close it on exit."""
    global _current
    previous = _current
    session = HttpSession(**kwargs)
    _current = session
    try:
        yield session
    finally:
        _current = previous
        await session.aclose()
