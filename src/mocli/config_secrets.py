"""Secrets never live in config files: the checks that refuse a key, header or value that holds one,
naming where it is without repeating it (run when settings.toml is validated)."""

from __future__ import annotations

import re
from typing import Any

# An environment variable's name as shells write them: a pasted key (lower-case letters, dashes) never fits.
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
ENV_NAME_RULE = ("must be the NAME of an environment variable (upper-case letters, digits and _, like "
                 "MY_API_KEY), not the secret itself; secrets never live in config files")
# Keys that would hold a secret itself; each has an ``..._env`` key naming its environment variable.
SECRET_KEYS = frozenset({"token", "api_key", "apikey", "api_token", "access_token", "secret", "client_secret",
                         "password", "key", "private_key"})
_SECRET_HEADER = re.compile(r"authorization|cookie|token|secret|api[-_]?key|password", re.IGNORECASE)
# A value that is a credential rather than a setting: an auth scheme followed by its token, a prefix
# providers give their keys (Shopify, Stripe-style, HubSpot, GitHub, Slack, JWT), or a long unbroken
# run of key characters mixing letters and digits.
_SECRET_VALUE = re.compile(r"^\s*(bearer|basic|token)\s+\S|^(shp(at|ca|pa|ss)_|sk_(live|test)_|pat-|ghp_|"
                           r"github_pat_|xox[abprs]-|eyJ[A-Za-z0-9_-]{8,}\.)", re.IGNORECASE)
_KEY_LIKE = re.compile(r"^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9_+/=-]{32,}$")


def looks_like_secret(value: Any) -> bool:
    """True for text that is probably a credential, so it is never echoed."""
    return isinstance(value, str) and bool(_SECRET_VALUE.search(value) or _KEY_LIKE.match(value.strip()))


def _secret_values(value: Any, path: str) -> str | None:
    """The path of the first secret-looking string inside value (dicts and lists walked), or None."""
    if isinstance(value, dict):
        return next((p for k, v in value.items() if (p := _secret_values(v, f"{path}.{k}"))), None)
    if isinstance(value, list):
        return next((p for i, v in enumerate(value) if (p := _secret_values(v, f"{path}[{i}]"))), None)
    return path if looks_like_secret(value) else None


def check_no_secrets(provider: str, keys: dict[str, Any]) -> None:
    """Refuse a secret written into a config file (the message never repeats the value)."""
    where = f"providers.settings.{provider}"
    for key, value in keys.items():
        if key.endswith("_env"):
            if not isinstance(value, str) or not ENV_NAME.match(value):
                raise ValueError(f"{where}.{key} {ENV_NAME_RULE}")
        elif key.lower() in SECRET_KEYS or _SECRET_HEADER.search(key):
            raise ValueError(f"{where}.{key}: secrets never live in config files; put it in an environment "
                             f"variable and name that variable with a *_env key (the value is not shown)")
        elif key == "headers" and isinstance(value, dict):
            for name in value:
                if _SECRET_HEADER.search(str(name)):
                    raise ValueError(f"{where}.headers.{name}: credentials never live in config files; use "
                                     "token_env (and auth_header) to send a secret from the environment")
        if (found := _secret_values(value, f"{where}.{key}")) and not key.endswith("_env"):
            raise ValueError(f"{found}: looks like a credential, and secrets never live in config files "
                             "(the value is not shown); name an environment variable with a *_env key")
