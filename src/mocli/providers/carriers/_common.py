"""What every carrier adapter shares: settings, secrets, time parsing, and the lookup result."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

from mocli.errors import ConfigError, ProviderError
from mocli.models import Tracking  # noqa: TID253 (adapters are imported only inside commands)
from mocli.providers import http
from mocli.providers.base import Lookup, ProofFile
from mocli.providers.crm.common import HTTP_KEYS, Settings


class Adapter:
    """Base of the carrier adapters: reads `[providers.settings.<name>]` and builds the HTTP client."""

    name = "carrier"
    default_base_url = ""
    default_concurrency = 8
    default_rate: float | None = None
    keys: frozenset[str] = frozenset()  # the adapter's own keys in its settings table, beyond HTTP_KEYS

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        self.settings = dict(settings or {})
        # A typo or a pasted header must not be silently ignored (or later printed): refuse it by name.
        Settings(self.name, self.settings, HTTP_KEYS | self.keys)
        self.base_url = str(self.settings.get("base_url") or self.default_base_url)
        try:
            self.concurrency = int(self.settings.get("concurrency", self.default_concurrency))
            rate = self.settings.get("rate_per_second", self.default_rate)
            self.rate = float(rate) if rate else None
        except (TypeError, ValueError):
            raise ConfigError(f"settings.toml: providers.settings.{self.name}: concurrency and "
                              "rate_per_second must be numbers") from None
        self.check_secrets()

    @classmethod
    def configured(cls, settings: dict[str, Any], cfg: Any = None) -> Adapter:
        """Built by the registry: a carrier needs its settings table only."""
        return cls(settings)

    def check_secrets(self) -> None:
        """Fail at construction (before any lookup) if a secret's environment variable is unset."""

    def secret(self, key: str, what: str) -> str:
        return http.env_secret(self.settings.get(key), self.name, setting=what)

    def client(self, **kw: Any) -> http.ProviderClient:
        return http.current_session().provider(self.name, base_url=self.base_url, concurrency=self.concurrency,
                                               rate_per_second=self.rate, **kw)

    def oauth_client(self) -> http.ProviderClient | None:
        """The client holding this carrier's OAuth token; None for a carrier that signs with a key."""
        return None

    async def warm_up(self) -> None:
        """Get the OAuth token (from the cache or the carrier) before the first lookup needs it."""
        client = self.oauth_client()
        if client is not None:
            await client.warm_token()

    async def lookup(self, number: str, carrier: str | None = None, proof: bool = False) -> Lookup:
        raise NotImplementedError

    async def track(self, tracking_number: str, carrier: str | None = None) -> Tracking:
        return (await self.lookup(tracking_number, carrier)).tracking


def parse_time(value: Any, provider: str, default_tz: tzinfo | None = UTC) -> datetime | None:
    """An ISO 8601 time (``Z`` or offset); one without a zone is taken as `default_tz` (None: kept local)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ProviderError(f"{provider}: a time in the response is not text: {value!r}")
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ProviderError(f"{provider}: a time in the response is not ISO 8601: {value[:40]!r}") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=default_tz)


def offset_tz(offset: Any, fallback: timezone | None = UTC) -> timezone | None:
    """'-05:00' -> a fixed-offset zone; `fallback` if absent or unreadable."""
    if not offset or not isinstance(offset, str):
        return fallback
    try:
        sign = -1 if offset.strip().startswith("-") else 1
        hh, _, mm = offset.strip().lstrip("+-").partition(":")
        return timezone(sign * timedelta(hours=int(hh), minutes=int(mm or 0)))
    except ValueError:
        return fallback


# What carriers put in a "signed by" field when nobody signed: a note about the delivery, never a name.
_NO_SIGNATURE = re.compile(
    r"""^\W*(?:
        n/?a | none | unknown | not\ required | not\ signed | no\ signature.* | signature\ not\ .*
        | signature\ (?:release|waive[dr]).* | release\ on\ file | released\ without\ signature.*
        | (?:delivered|left)\ without\ signature.* | adult\ signature\ not\ required | driver\ release.*
    )\W*$""", re.IGNORECASE | re.VERBOSE)


def signer(value: Any) -> str | None:
    """Who signed for a parcel, or None when the field is blank or one of the carriers' "no signature" texts."""
    text = str(value).strip() if isinstance(value, str) else ""
    return None if not text or _NO_SIGNATURE.match(text) else text


def place(*parts: Any) -> str | None:
    """'Atlanta, GA, US' from its parts, skipping blanks; None when all are blank."""
    text = ", ".join(str(p).strip() for p in parts if p not in (None, "") and str(p).strip())
    return text or None


def decode_image(data: Any, kind: str) -> ProofFile | None:
    """A base64 image from a response as a ProofFile (type from its magic bytes); None if unusable."""
    if not isinstance(data, str) or not data:
        return None
    try:
        raw = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        return None
    ext = ("png" if raw.startswith(b"\x89PNG") else "jpg" if raw.startswith(b"\xff\xd8")
           else "gif" if raw.startswith(b"GIF8") else "pdf" if raw.startswith(b"%PDF") else "bin")
    return ProofFile(kind, ext, raw)


def sort_events(events: list[Any]) -> list[Any]:
    """Newest first, whatever order the API used (a local time without an offset sorts by its clock)."""
    from mocli.clock import comparable

    return sorted(events, key=lambda e: comparable(e.at, UTC), reverse=True)
