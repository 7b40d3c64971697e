"""Configuration: shipped defaults from config/, a user file of the same name overrides any key,
MOCLI_* environment variables override both. Validated once, errors name the file and the key.
Long because it holds every config file's model, so one place says what a key may be."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, Literal

from mocli.errors import ConfigError

CONFIG_FILES = ("settings.toml", "tiers.toml", "policy.toml", "messages.toml", "known_issues.toml")

# Environment variables that override a settings key (documented in the README).
ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "MOCLI_TIMEZONE": ("calendar", "timezone"),
    "MOCLI_COUNTRY": ("calendar", "country"),
    "MOCLI_DEMO_DATA": ("providers", "demo_data"),
    "MOCLI_LOCK_TIMEOUT": ("store", "lock_timeout_seconds"),
    "MOCLI_LOOKUP_TIMEOUT": ("providers", "lookup_timeout_seconds"),
    "MOCLI_STORE_URL": ("store", "url"),
}


def shipped_config_dir() -> Path:
    """The defaults shipped with mocli: inside the wheel, or the repository's config/ when editable."""
    packaged = Path(__file__).parent / "_config"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "config"


def user_config_dir() -> Path:
    if env := os.environ.get("MOCLI_CONFIG_DIR"):
        return Path(env)
    from platformdirs import user_config_dir as _ucd  # noqa: TID253

    return Path(_ucd("mocli", appauthor=False))


def data_dir() -> Path:
    """Where cases and drafts live: MOCLI_HOME, else the platform's user data directory."""
    if env := os.environ.get("MOCLI_HOME"):
        return Path(env)
    from platformdirs import user_data_dir  # noqa: TID253

    return Path(user_data_dir("mocli", appauthor=False))


# ---------------------------------------------------------------- secrets never live in config files

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


# ---------------------------------------------------------------- validated shapes


def _models(names: tuple[str, ...] = CONFIG_FILES) -> dict[str, Any]:
    """The pydantic models of the config files `names`, built when needed (pydantic is not imported by
    `mocli --help`, and building a model class costs about a millisecond: a listing that reads only
    settings.toml builds only its five). known_issues.toml's needs the case models (mocli.models)."""
    from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator  # noqa: TID253

    class Strict(BaseModel):
        model_config = ConfigDict(extra="forbid")

    models: dict[str, Any] = {}
    if "settings.toml" in names:
        models["settings.toml"] = _settings_model(Strict, Field, ValidationInfo, field_validator)
    if "tiers.toml" in names or "policy.toml" in names or "messages.toml" in names:
        models.update(_policy_models(Strict, Field, field_validator))
    if "known_issues.toml" in names:
        from mocli.models import KnownIssue

        class KnownIssues(Strict):
            issues: list[KnownIssue] = Field(default_factory=list)

        models["known_issues.toml"] = KnownIssues
    return models


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


@dataclass
class Config:
    """The validated configuration: `settings`, and one property per other file (`tiers`, `policy`,
    `messages`, `known_issues`), validated at load or, for a command that loads lazily, when first read."""

    settings: Any
    files: dict[str, list[Path]] = field(default_factory=dict)  # file name -> layers read
    layers: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict, repr=False)
    validated: dict[str, Any] = field(default_factory=dict, repr=False)
    # (shipped, user) config folders, for a lazy load's files: each is read when first needed.
    folders: tuple[Path, Path] | None = field(default=None, repr=False)

    def file(self, name: str) -> Any:
        """The validated model of config file `name`; a ConfigError naming the file and key if invalid."""
        if name not in self.validated:
            if name not in self.layers and self.folders is not None:
                self.layers[name] = _layers(name, *self.folders)
            self.validated[name] = _validate(name, _models((name,))[name], self.layers.get(name, []), {})
        return self.validated[name]

    @property
    def tiers(self) -> dict[str, Any]:
        return self.file("tiers.toml").tiers

    @property
    def policy(self) -> Any:
        return self.file("policy.toml")

    @property
    def messages(self) -> Any:
        return self.file("messages.toml")

    @property
    def known_issues(self) -> list[Any]:
        return self.file("known_issues.toml").issues

    def tier(self, name: str):
        try:
            return self.tiers[name]
        except KeyError:
            known = ", ".join(self.tiers)
            raise ConfigError(f"tiers.toml: no tier named {name!r} (known: {known})") from None


def _validate(name: str, model: Any, layers: list[tuple[str, dict[str, Any]]], context: dict[str, Any]) -> Any:
    """One file's layers merged and validated; a ConfigError naming the layer and key at fault."""
    from pydantic import ValidationError  # noqa: TID253

    merged: dict[str, Any] = {}
    for _, data in layers:
        merged = _merge(merged, data)
    try:
        return model.model_validate(merged, context=context)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        source = _source_of(layers, loc) if layers else name
        key = ".".join(str(p) for p in loc) or "(top level)"
        raise ConfigError(f"{source}: {key}: {err['msg']}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} on line {line}); "
                          "save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _source_of(layers: list[tuple[str, dict[str, Any]]], loc: tuple[Any, ...]) -> str:
    """The layer an error at `loc` comes from. Tables merge key by key, but any other value (a list of
    known issues, a string) is replaced whole by the last layer that has it: follow that layer down."""
    nodes = layers
    for part in loc:
        deeper = [(src, node[part]) for src, node in nodes
                  if (isinstance(node, dict) and part in node)
                  or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node))]
        if not deeper:
            break  # a key missing from the merged value: the last layer that got this far
        nodes = deeper if all(isinstance(node, dict) for _, node in deeper) else deeper[-1:]
    return nodes[-1][0]


def _env_layer() -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for var, (section, key) in ENV_OVERRIDES.items():
        if (value := os.environ.get(var)) is not None:
            layer.setdefault(section, {})[key] = value
    return layer


def _layers(name: str, shipped: Path, user: Path) -> list[tuple[str, dict[str, Any]]]:
    """Config file `name` as (source, data) layers, lowest first: shipped, the user's, the environment's."""
    layers = [(str(folder / name), _read_toml(folder / name)) for folder in (shipped, user)
              if (folder / name).is_file()]
    if name == "settings.toml" and (env := _env_layer()):
        layers.append(("environment (MOCLI_*)", env))
    return layers


def load_config(calendar: bool = True, templates: bool = True, lazy: bool = False) -> Config:
    """Read, merge and validate every config file; raise ConfigError naming file and key.

    For commands that never compute business time or write a message (`track`, `cases`, `report`):
    `calendar=False` skips checking the country against the public-holiday calendars (it imports a
    large package), `templates=False` skips parsing the message templates, and `lazy=True` reads and
    validates settings.toml now and each other file only when the command first reads it (a listing
    reads none of them, and their parsing and models cost more than the listing).
    """
    shipped, user = shipped_config_dir(), user_config_dir()
    files: dict[str, list[Path]] = {}
    all_layers: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name in CONFIG_FILES:
        files[name] = [folder / name for folder in (shipped, user) if (folder / name).is_file()]
        if not lazy or name == "settings.toml":
            # A lazy load parses the others when first read (Config.file): parsing them all cost
            # `mocli cases` ~17 M instructions of start-up for files it never reads.
            all_layers[name] = _layers(name, shipped, user)
    models = _models(("settings.toml",) if lazy else CONFIG_FILES)
    settings = _validate("settings.toml", models["settings.toml"], all_layers["settings.toml"],
                         {"calendar": calendar})
    cfg = Config(settings=settings, files=files, layers=all_layers, folders=(shipped, user))
    for name in CONFIG_FILES[1:] if not lazy else ():
        cfg.validated[name] = _validate(name, models[name], all_layers[name], {})
    if templates:
        from mocli.templates import check_templates

        check_templates(cfg.messages)
    return cfg
