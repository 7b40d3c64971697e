"""OAuth client-credentials tokens: the grant's settings, and the cache that keeps a token between runs."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import stat
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("mocli.http")

TOKEN_REFRESH_MARGIN = 60.0  # seconds before expiry at which a cached token is no longer used


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
