"""What the CRM adapters share: their settings table, the tier mapping, and tolerant field parsing."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from mocli.errors import ConfigError, NotFound, ProviderError
from mocli.models import Address

if TYPE_CHECKING:
    from mocli.config import Config
    from mocli.providers.http import JsonResponse, ProviderClient

# Keys every CRM adapter understands for the tier mapping (docs/providers.md, "Tiers").
TIER_KEYS = {"tier_tags", "tier_values", "default_tier"}
# Keys every adapter understands for its HTTP manners.
HTTP_KEYS = {"base_url", "concurrency", "rate_per_second"}
# Keys every CRM adapter understands.
CRM_KEYS = HTTP_KEYS | TIER_KEYS


class SeveralMatches(ProviderError):
    """More than one record matches what the agent typed; `candidates` are their ids, to pick from."""

    def __init__(self, provider: str, what: str, ref: str, candidates: list[str]) -> None:
        self.candidates = candidates
        shown = ", ".join(candidates[:5]) + (" ..." if len(candidates) > 5 else "")
        super().__init__(f"{provider}: {len(candidates)} {what}s match {ref!r} ({shown}); "
                         f"look the {what} up by id instead")


class Settings:
    """One provider's `[providers.settings.<name>]` table; errors name the file and the key."""

    def __init__(self, provider: str, data: Mapping[str, Any], allowed: Iterable[str]) -> None:
        self.provider = provider
        self.data = dict(data)
        allowed = set(allowed)
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            raise ConfigError(f"{self.where(unknown[0])}: unknown key (known: {', '.join(sorted(allowed))})")

    def where(self, key: str) -> str:
        return f"settings.toml: providers.settings.{self.provider}.{key}"

    def get(self, key: str, default: Any = None, kind: type | tuple[type, ...] = str) -> Any:
        value = self.data.get(key, default)
        if value is None:
            return None
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            names = "/".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise ConfigError(f"{self.where(key)}: must be a {names}, not {value!r}")
        if isinstance(value, str):
            value = value.strip()
        return value

    def require(self, key: str, hint: str = "") -> str:
        value = self.get(key)
        if not value:
            raise ConfigError(f"{self.where(key)}: required{' (' + hint + ')' if hint else ''}")
        return value

    def table(self, key: str) -> dict[str, Any]:
        return dict(self.get(key, {}, dict))

    def secret(self, key: str, what: str) -> str:
        """The secret held in the environment variable that `key` names (never the secret itself)."""
        from mocli.providers.http import env_secret

        var = self.get(key)
        if not var:
            raise ConfigError(f"{self.where(key)}: required: the name of the environment variable that "
                              f"holds the {what} (secrets never live in config files)")
        return env_secret(var, self.provider, setting=what)

    def http_options(self, default_concurrency: int = 4, default_rate: float | None = None) -> dict[str, Any]:
        """Keyword arguments for `HttpSession.provider`: concurrency and request rate."""
        concurrency = self.get("concurrency", default_concurrency, int)
        if concurrency < 1:
            raise ConfigError(f"{self.where('concurrency')}: must be at least 1")
        rate = self.get("rate_per_second", default_rate, float)
        if rate is not None and rate <= 0:
            raise ConfigError(f"{self.where('rate_per_second')}: must be more than 0")
        return {"concurrency": concurrency, "rate_per_second": rate}


@dataclass
class TierRule:
    """CRM data -> one of our tiers: a field's value wins, then tags in config order, then the default.

    A value the mapping does not know is an error, never a guess; no tier data at all gives the default.
    """

    provider: str
    tags: dict[str, str] = field(default_factory=dict)  # casefolded tag -> tier
    values: dict[str, str] = field(default_factory=dict)  # casefolded field value -> tier
    default: str = "Standard"
    known: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, s: Settings, known_tiers: Iterable[str]) -> TierRule:
        known = tuple(known_tiers)

        def check(key: str, tier: Any) -> str:
            if not isinstance(tier, str) or tier not in known:
                raise ConfigError(f"{s.where(key)}: {tier!r} is not a tier in tiers.toml (known: {', '.join(known)})")
            return tier

        tags = {str(k).casefold(): check(f"tier_tags.{k}", v) for k, v in s.table("tier_tags").items()}
        values = {str(k).casefold(): check(f"tier_values.{k}", v) for k, v in s.table("tier_values").items()}
        default_tier = s.get("default_tier", "Standard" if "Standard" in known else None)
        if default_tier is None:
            raise ConfigError(f"{s.where('default_tier')}: required (tiers.toml has no 'Standard' tier)")
        return cls(s.provider, tags, values, check("default_tier", default_tier), known)

    def resolve(self, *, value: Any = None, tags: Iterable[str] = (), what: str = "tier field",
                default: str | None = None) -> str:
        """The tier for a record; `default` (else the configured default) when it has no tier data."""
        candidates = [v for v in _as_list(value) if v]
        for candidate in candidates:
            key = candidate.casefold()
            if key in self.values:
                return self.values[key]
            for tier in self.known:
                if tier.casefold() == key:
                    return tier
        if candidates:
            raise ProviderError(
                f"{self.provider}: the customer's {what} says {', '.join(map(repr, candidates))}, which is not a "
                f"tier mocli knows; map it in settings.toml providers.settings.{self.provider}.tier_values")
        have = {str(t).strip().casefold() for t in tags if t is not None}
        for tag, tier in self.tags.items():
            if tag in have:
                return tier
        # A tag that is already a tier name needs no entry in tier_tags (tiers.toml order breaks ties).
        for tier in self.known:
            if tier.casefold() in have:
                return tier
        return default or self.default


class CrmAdapter:
    """What every CRM adapter does alike: checks its settings table, maps tiers, sends with its headers.

    A subclass names itself (`name`) and its settings keys (`allowed`), calls ``super().__init__``
    first, then sets `base_url` and `headers` from `self.s`.
    """

    name = "crm"
    allowed: frozenset[str] = frozenset()
    default_rate: float | None = None  # requests a second when the settings give none
    base_url: str
    headers: dict[str, str]

    def __init__(self, settings: dict[str, Any], tiers: Iterable[str]) -> None:
        self.s = Settings(self.name, settings, self.allowed)
        self.tiers = TierRule.from_settings(self.s, tiers)
        self.http_options = self.s.http_options(default_concurrency=4, default_rate=self.default_rate)

    @classmethod
    def configured(cls, settings: dict[str, Any], cfg: Config | None) -> CrmAdapter:
        """Built by the registry: a CRM maps its customers onto the tiers of tiers.toml."""
        return cls(settings, list(cfg.tiers) if cfg else [])

    def hosted_base_url(self, key: str, domain: str, hint: str) -> str:
        """`base_url` if set, else the vendor's host for the account named by `key` ("example" ->
        https://example.<domain>; a full host name is kept as it is)."""
        base = self.s.get("base_url")
        if not base:
            account = self.s.require(key, hint)
            base = f"https://{account if '.' in account else f'{account}.{domain}'}"
        return base.rstrip("/")

    def _client(self) -> ProviderClient:
        from mocli.providers import http

        return http.current_session().provider(self.name, base_url=self.base_url, headers=self.headers,
                                               **self.http_options)

    async def get_found(self, path: str, missing: str, **kw: Any) -> JsonResponse:
        """GET one record: NotFound ("<provider>: `missing`") when the API answers 404."""
        resp = await self._client().get(path, accept=(200, 404), **kw)
        if resp.status == 404:
            raise NotFound(f"{self.name}: {missing}")
        return resp


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if v is not None]
    return [str(value).strip()]


# ------------------------------------------------------------------ field parsing


def text(value: Any) -> str | None:
    """A stripped string, or None for missing / empty values."""
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def parse_datetime(value: Any, provider: str, what: str) -> datetime | None:
    """An ISO 8601 date-time (a 'Z' suffix allowed, naive read as UTC); None if missing."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value  # epoch milliseconds or seconds
        return datetime.fromtimestamp(seconds, tz=UTC)
    try:
        when = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ProviderError(f"{provider}: {what} is not a date-time: {str(value)[:40]!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_date(value: Any, provider: str, what: str, zone: tzinfo | None = None) -> date | None:
    """A calendar date from a date or a date-time (its date in `zone` when given); None if missing."""
    if value in (None, ""):
        return None
    s = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return date.fromisoformat(s)
    when = parse_datetime(value, provider, what)
    if when is None:
        return None
    return (when.astimezone(zone) if zone is not None else when).date()


def amount(value: Any, provider: str, what: str) -> float:
    if value in (None, ""):
        return 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ProviderError(f"{provider}: {what} is not a number: {str(value)[:40]!r}") from None


def address(line1: Any, line2: Any, city: Any, region: Any, postal_code: Any, country: Any) -> Address | None:
    """An Address, or None when the record has no street and city to deliver to."""
    if not text(line1) or not text(city):
        return None
    land = text(country) or "US"
    return Address(line1=text(line1) or "", line2=text(line2), city=text(city) or "", region=text(region),
                   postal_code=text(postal_code) or "", country=land.upper() if len(land) == 2 else land)


_CARRIERS = (
    (re.compile(r"\bups\b|united parcel", re.I), "UPS"),
    (re.compile(r"fed\s*ex", re.I), "FedEx"),
    (re.compile(r"\busps\b|postal service", re.I), "USPS"),
    (re.compile(r"\bdhl\b", re.I), "DHL"),
    (re.compile(r"amazon", re.I), "Amazon"),
)


def carrier_name(value: Any) -> str | None:
    """The carrier's name as mocli writes it ('UPS', 'FedEx', 'USPS', 'DHL'), else as the source wrote it."""
    s = text(value)
    if s is None:
        return None
    for pattern, name in _CARRIERS:
        if pattern.search(s):
            return name
    return s


def gid_tail(gid: Any) -> str:
    """'gid://shopify/Customer/123' -> '123' (any other value as a string)."""
    s = str(gid or "")
    return s.rsplit("/", 1)[-1] if s.startswith("gid://") else s


def first_last(first: Any, last: Any, fallback: Any = None) -> str:
    name = " ".join(p for p in (text(first), text(last)) if p)
    return name or text(fallback) or ""
