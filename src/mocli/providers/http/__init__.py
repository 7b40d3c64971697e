"""The one way mocli talks HTTP: a shared async client per run, with the manners every API wants.
Every adapter's retries, limits, tokens and deadlines are in this package so they are written once:
`session` (the run's client and deadline), `client` (one provider: limits, retries, its token),
`tokens` (OAuth grants and their cache), `responses` (reading bodies, Retry-After, secrets, messages).

Every real adapter (carriers, CRM, order systems) goes through this package, so each of these holds
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

This package is imported only inside commands (httpx is not loaded by `mocli --help`).
"""

from mocli.providers.http.client import (
    IDEMPOTENT_METHODS,
    RETRY_STATUSES,
    JsonResponse,
    ProviderClient,
    RetryPolicy,
)
from mocli.providers.http.responses import basic_auth_header, dig, env_secret, parse_retry_after
from mocli.providers.http.session import (
    ATTEMPT_SECONDS,
    DEFAULT_TIMEOUT,
    MAX_BODY,
    HttpSession,
    current_session,
    run_session,
)
from mocli.providers.http.tokens import (
    TOKEN_CACHE_FORMAT,
    TOKEN_CACHE_NAME,
    TOKEN_REFRESH_MARGIN,
    OAuthClientCredentials,
    TokenCache,
)

__all__ = [
    "ATTEMPT_SECONDS", "DEFAULT_TIMEOUT", "IDEMPOTENT_METHODS", "MAX_BODY", "RETRY_STATUSES", "TOKEN_CACHE_FORMAT",
    "TOKEN_CACHE_NAME", "TOKEN_REFRESH_MARGIN", "HttpSession", "JsonResponse", "OAuthClientCredentials",
    "ProviderClient", "RetryPolicy", "TokenCache", "basic_auth_header", "current_session", "dig", "env_secret",
    "parse_retry_after", "run_session",
]
