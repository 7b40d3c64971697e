"""What each config file may say: the pydantic models of settings.toml, tiers.toml, policy.toml,
messages.toml and known_issues.toml, so one place says what a key may be. Built only when a file is
validated (`mocli.config` loads and merges the files)."""

from __future__ import annotations

import re
from datetime import time
from typing import Any, Literal

from mocli.config_secrets import check_no_secrets


def models(names: tuple[str, ...]) -> dict[str, Any]:
    """The pydantic models of the config files `names`, built when needed (pydantic is not imported by
    `mocli --help`, and building a model class costs about a millisecond: a listing that reads only
    settings.toml builds only its five). known_issues.toml's needs the case models (mocli.models)."""
    from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator  # noqa: TID253

    class Strict(BaseModel):
        model_config = ConfigDict(extra="forbid")

    out: dict[str, Any] = {}
    if "settings.toml" in names:
        out["settings.toml"] = _settings_model(Strict, Field, ValidationInfo, field_validator)
    if "tiers.toml" in names or "policy.toml" in names or "messages.toml" in names:
        out.update(_policy_models(Strict, Field, field_validator))
    if "known_issues.toml" in names:
        from mocli.models import KnownIssue

        class KnownIssues(Strict):
            issues: list[KnownIssue] = Field(default_factory=list)

        out["known_issues.toml"] = KnownIssues
    return out


def _settings_model(Strict: Any, Field: Any, ValidationInfo: Any, field_validator: Any) -> Any:  # noqa: N803
    """settings.toml's model: calendar, store, providers, situation thresholds."""

    class Calendar(Strict):
        timezone: str = "UTC"
        country: str = "US"
        subdivision: str = ""
        workday_start: time = time(9)
        workday_end: time = time(17)

        @field_validator("timezone")
        @classmethod
        def _tz(cls, v: str) -> str:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {v!r}") from None
            return v

        @field_validator("country")
        @classmethod
        def _country(cls, v: str, info: ValidationInfo) -> str:
            if not re.fullmatch(r"[A-Za-z]{2}", v):
                raise ValueError(f"{v!r} is not a two-letter country code")
            if (info.context or {}).get("calendar", True):  # importing holidays costs ~0.15 s
                from holidays.registry import COUNTRIES  # noqa: TID253

                if v.upper() not in {codes[1] for codes in COUNTRIES.values()}:
                    raise ValueError(f"no public-holiday calendar for country {v!r}")
            return v.upper()

    class Store(Strict):
        lock_timeout_seconds: float = Field(10, gt=0, le=600)
        # A team's shared store: a PostgreSQL URL (empty: this agent's own file). No password here:
        # libpq's PGPASSWORD, ~/.pgpass or PGSERVICE supply it.
        url: str = ""
        statement_timeout_seconds: float = Field(15, gt=0, le=3600)
        connect_timeout_seconds: int = Field(5, ge=1, le=120)

        @field_validator("url")
        @classmethod
        def _url(cls, v: str) -> str:
            v = v.strip()
            if v and not re.match(r"^postgres(ql)?://", v):
                raise ValueError("must be a PostgreSQL URL (postgresql://host/db) or empty for the local file")
            if re.match(r"^postgres(ql)?://[^/@?#]*:[^/@?#]*@", v) or re.search(r"[?&]password=", v):
                raise ValueError("holds a password; passwords never live in mocli's settings: use PGPASSWORD, "
                                 "~/.pgpass or PGSERVICE (libpq's own conventions)")
            return v

    class Providers(Strict):
        customers: str = "demo"
        orders: str = "demo"
        demo_data: str = ""
        tracking: dict[str, str] = Field(default_factory=lambda: {"default": "demo"})
        # One overall deadline for each lookup (a customer, an order, a parcel), retries included.
        lookup_timeout_seconds: float = Field(30, gt=0, le=600)
        # Per-provider settings (base_url, secret_env, ...), used by the real adapters.
        settings: dict[str, dict[str, Any]] = Field(default_factory=dict)

        @field_validator("settings")
        @classmethod
        def _no_secrets(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
            for provider, keys in v.items():
                check_no_secrets(provider, keys)
            return v

    class Situation(Strict):
        late_after_days: int = Field(2, ge=0)
        stalled_after_days: int = Field(4, ge=1)

    class Settings(Strict):
        calendar: Calendar = Calendar()
        store: Store = Store()
        providers: Providers = Providers()
        situation: Situation = Situation()

    return Settings


def _policy_models(Strict: Any, Field: Any, field_validator: Any) -> dict[str, Any]:  # noqa: N803
    """The models of tiers.toml, policy.toml and messages.toml."""

    class Sla(Strict):
        amount: float = Field(gt=0)
        unit: Literal["business_days", "business_hours"]

    class Tier(Strict):
        sla: Sla
        notes: str = ""
        checklist: list[str] = []  # the notes' actions, ticked by the agent before saving
        on_delivered_not_received: Literal["refund_or_replacement", "carrier_investigation"]
        on_lost: Literal["refund_or_replacement", "carrier_investigation"]
        remedy_choice: Literal["customer", "policy"] = "policy"
        refund_approval_limit: float = Field(0, ge=0)
        # Step 5: while the customer checks the drop-off spots / the neighbour, follow up this soon;
        # a tier that offers a remedy first (VIP) does not wait for the check.
        customer_check_follow_up: Sla = Sla(amount=1, unit="business_days")
        offer_before_customer_check: bool = False

    class Tiers(Strict):
        tiers: dict[str, Tier]

    class RepeatClaims(Strict):
        enabled: bool = True
        window_days: int = Field(180, ge=1)
        max_prior_claims: int = Field(1, ge=0)

    class AddressClaims(Strict):
        enabled: bool = True
        window_days: int = Field(90, ge=1)
        max_other_customers: int = Field(0, ge=0)

    class HighValueNew(Strict):
        enabled: bool = True
        tiers: list[str] = ["New Customer"]
        min_order_value: float = Field(500, ge=0)

    class AddressMismatch(Strict):
        enabled: bool = True
        alone: bool = False  # a signal by itself; by default only beside another signal

    class Fraud(Strict):
        repeat_claims: RepeatClaims = RepeatClaims()
        address_claims: AddressClaims = AddressClaims()
        high_value_new_customer: HighValueNew = HighValueNew()
        address_mismatch: AddressMismatch = AddressMismatch()

    class LostRule(Strict):
        no_scan_business_days: int = Field(10, ge=1)
        by_carrier: dict[str, int] = Field(default_factory=dict)

    class Policy(Strict):
        fraud: Fraud = Fraud()
        lost: LostRule = LostRule()

    class Outcome(Strict):
        macro: str = Field(min_length=1)
        template: str = Field(min_length=1)
        closing: str | None = None  # this outcome's own closing lines, instead of the shared ones

    class Variant(Strict):
        template: str = Field(min_length=1)

    class Plural(Strict):
        """A count in words, by CLDR plural category: {n} is the number."""

        one: str | None = None
        other: str = Field(min_length=1)

        @field_validator("one", "other")
        @classmethod
        def _has_n(cls, v: str | None) -> str | None:
            if v is not None and "{n}" not in v:
                raise ValueError(f"{v!r} must contain {{n}} where the number goes")
            return v

    class LocaleTexts(Strict):
        """One language's (or region's) variants; what is missing falls back to the default texts."""

        closing: str | None = None
        closing_resolved: str | None = None  # after a resolution or a found parcel, as in the default texts
        outcomes: dict[str, Variant] = Field(default_factory=dict)
        resolutions: dict[str, Variant] = Field(default_factory=dict)
        sla: dict[Literal["business_days", "business_hours"], Plural] = Field(default_factory=dict)
        # What a placeholder says when the fact is unknown ("soon", "our carrier"), in this language.
        words: dict[Literal["soon", "as_soon_as_possible", "still_being_prepared", "our_carrier",
                            "not_available", "no_contact_name", "no_tracking", "delivery_exception"], str] = \
            Field(default_factory=dict)

    class MacroActions(Strict):
        """What a macro does to the ticket besides its reply, for `mocli macros export`."""

        status: Literal["open", "pending", "hold", "solved"] | None = None
        tags: list[str] = Field(default_factory=list)

        @field_validator("tags")
        @classmethod
        def _tag_words(cls, v: list[str]) -> list[str]:
            for tag in v:
                if not re.fullmatch(r"[a-z0-9_\-:/.]+", tag):
                    raise ValueError(f"tag {tag!r}: Zendesk tags are lower-case words without spaces")
            return v

    class Messages(Strict):
        default_locale: str = "en"  # the language of the outcome tables above the [locales] block
        closing: str
        closing_resolved: str | None = None  # after a resolution (and "found"): nothing left to sort out
        outcomes: dict[str, Outcome]
        resolutions: dict[str, Outcome] = Field(default_factory=dict)
        locales: dict[str, LocaleTexts] = Field(default_factory=dict)
        macros: dict[str, MacroActions] = Field(default_factory=dict)  # by macro title

        @field_validator("locales")
        @classmethod
        def _locale_tags(cls, v: dict[str, Any]) -> dict[str, Any]:
            from mocli.locales import normalise

            out = {}
            for tag, texts in v.items():
                norm = normalise(tag)
                if norm is None:
                    raise ValueError(f"{tag!r} is not a locale (like fr, fr-CA or es-419)")
                out[norm] = texts
            return out

        @field_validator("default_locale")
        @classmethod
        def _default_tag(cls, v: str) -> str:
            from mocli.locales import normalise

            if (norm := normalise(v)) is None:
                raise ValueError(f"{v!r} is not a locale (like en or en-US)")
            return norm

    return {"tiers.toml": Tiers, "policy.toml": Policy, "messages.toml": Messages}
