"""What a provider answered, read safely: JSON shapes, Retry-After, secrets from the environment, and
the one-line messages about them, which name the provider and the path, never a query string, header
or token."""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx  # noqa: TID253 (this package is imported only inside commands)

from mocli.config import ENV_NAME, ENV_NAME_RULE
from mocli.errors import ConfigError, ProviderError


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


SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def repair_surrogates(node: Any) -> Any:
    """`node` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(node, str):
        return LONE_SURROGATE.sub("\ufffd", node)
    if isinstance(node, list):
        return [repair_surrogates(v) for v in node]
    if isinstance(node, dict):
        return {repair_surrogates(k): repair_surrogates(v) for k, v in node.items()}
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


def path_of(url: str) -> str:
    """The path of `url` for messages, without its query string. httpx parses the URL once more to
    send it; a second full parse here cost as much as a tenth of a lookup's CPU in a batch."""
    from urllib.parse import quote, urlsplit

    # Percent-encoded as httpx would send it: no control character from a typed number reaches a message.
    return quote(urlsplit(url).path, safe="/%:@!$&'()*+,;=~") or "/"


def duration(seconds: float) -> str:
    if seconds == float("inf") or seconds >= 86400 * 365:
        return "a very long time"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def looks_html(resp: httpx.Response) -> bool:
    return "html" in resp.headers.get("content-type", "").lower() or resp.content.lstrip()[:1] == b"<"
