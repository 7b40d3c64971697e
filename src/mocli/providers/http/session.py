"""The run's HTTP session: one httpx client, the overall deadline, and each provider's client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx  # noqa: TID253 (this package is imported only inside commands)

from mocli.errors import ProviderError
from mocli.providers.http.client import ProviderClient, RetryPolicy
from mocli.providers.http.tokens import OAuthClientCredentials, TokenCache

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=10.0, pool=10.0)
ATTEMPT_SECONDS = 60.0  # one attempt as a whole: connect, headers and the whole body
MAX_BODY = 10 * 1024 * 1024  # bytes; no API we speak answers one lookup with more


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
