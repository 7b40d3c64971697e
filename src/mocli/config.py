"""Configuration: shipped defaults from config/, a user file of the same name overrides any key,
MOCLI_* environment variables override both. Validated once, errors name the file and the key."""

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

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# Keys that would hold a secret itself; each has an ``..._env`` key naming its environment variable.
SECRET_KEYS = frozenset({"token", "api_key", "apikey", "api_token", "access_token", "secret", "client_secret",
                         "password", "key", "private_key"})
_SECRET_HEADER = re.compile(r"authorization|cookie|token|secret|api[-_]?key|password", re.IGNORECASE)


def check_no_secrets(provider: str, keys: dict[str, Any]) -> None:
    """Refuse a secret written into a config file (the message never repeats the value)."""
    where = f"providers.settings.{provider}"
    for key, value in keys.items():
        if key.endswith("_env"):
            if not isinstance(value, str) or not _ENV_NAME.match(value):
                raise ValueError(f"{where}.{key} must be the NAME of an environment variable (like MY_API_KEY), "
                                 "not the secret itself; secrets never live in config files")
        elif key.lower() in SECRET_KEYS:
            raise ValueError(f"{where}.{key}: secrets never live in config files; put it in an environment "
                             f"variable and name that variable with {key}_env")
        elif key == "headers" and isinstance(value, dict):
            for name in value:
                if _SECRET_HEADER.search(str(name)):
                    raise ValueError(f"{where}.headers.{name}: credentials never live in config files; use "
                                     "token_env (and auth_header) to send a secret from the environment")


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
        models.update(_policy_models(Strict, Field))
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

    class Providers(Strict):
        customers: str = "demo"
        orders: str = "demo"
        demo_data: str = ""
        tracking: dict[str, str] = Field(default_factory=lambda: {"default": "demo"})
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


def _policy_models(Strict: Any, Field: Any) -> dict[str, Any]:  # noqa: N803
    """The models of tiers.toml, policy.toml and messages.toml."""

    class Sla(Strict):
        amount: float = Field(gt=0)
        unit: Literal["business_days", "business_hours"]

    class Tier(Strict):
        sla: Sla
        notes: str = ""
        on_delivered_not_received: Literal["refund_or_replacement", "carrier_investigation"]
        on_lost: Literal["refund_or_replacement", "carrier_investigation"]
        remedy_choice: Literal["customer", "policy"] = "policy"
        refund_approval_limit: float = Field(0, ge=0)

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

    class Fraud(Strict):
        repeat_claims: RepeatClaims = RepeatClaims()
        address_claims: AddressClaims = AddressClaims()
        high_value_new_customer: HighValueNew = HighValueNew()
        address_mismatch: AddressMismatch = AddressMismatch()

    class Policy(Strict):
        fraud: Fraud = Fraud()

    class Outcome(Strict):
        macro: str = Field(min_length=1)
        template: str = Field(min_length=1)

    class Messages(Strict):
        closing: str
        outcomes: dict[str, Outcome]
        resolutions: dict[str, Outcome] = Field(default_factory=dict)

    return {"tiers.toml": Tiers, "policy.toml": Policy, "messages.toml": Messages}


@dataclass
class Config:
    """The validated configuration: `settings`, and one property per other file (`tiers`, `policy`,
    `messages`, `known_issues`), validated at load or, for a command that loads lazily, when first read."""

    settings: Any
    files: dict[str, list[Path]] = field(default_factory=dict)  # file name -> layers read
    layers: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict, repr=False)
    validated: dict[str, Any] = field(default_factory=dict, repr=False)

    def file(self, name: str) -> Any:
        """The validated model of config file `name`; a ConfigError naming the file and key if invalid."""
        if name not in self.validated:
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
        source = next((src for src, data in reversed(layers) if _has_path(data, loc)), layers[-1][0]
                      if layers else name)
        key = ".".join(str(p) for p in loc) or "(top level)"
        raise ConfigError(f"{source}: {key}: {err['msg']}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
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


def _has_path(data: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    node: Any = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return False
    return True


def _env_layer() -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for var, (section, key) in ENV_OVERRIDES.items():
        if (value := os.environ.get(var)) is not None:
            layer.setdefault(section, {})[key] = value
    return layer


def load_config(calendar: bool = True, templates: bool = True, lazy: bool = False) -> Config:
    """Read, merge and validate every config file; raise ConfigError naming file and key.

    For commands that never compute business time or write a message (`track`, `cases`, `report`):
    `calendar=False` skips checking the country against the public-holiday calendars (it imports a
    large package), `templates=False` skips parsing the message templates, and `lazy=True` validates
    settings.toml now and each other file only when the command first reads it (a listing reads none
    of them, and their models, the known issues' above all, cost more than the listing).
    """
    shipped, user = shipped_config_dir(), user_config_dir()
    files: dict[str, list[Path]] = {}
    all_layers: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for name in CONFIG_FILES:
        layers: list[tuple[str, dict[str, Any]]] = []
        if (shipped / name).is_file():
            layers.append((str(shipped / name), _read_toml(shipped / name)))
        if (user / name).is_file():
            layers.append((str(user / name), _read_toml(user / name)))
        if name == "settings.toml":
            env = _env_layer()
            if env:
                layers.append(("environment (MOCLI_*)", env))
        files[name] = [Path(src) for src, _ in layers if not src.startswith("environment")]
        all_layers[name] = layers
    models = _models(("settings.toml",) if lazy else CONFIG_FILES)
    settings = _validate("settings.toml", models["settings.toml"], all_layers["settings.toml"],
                         {"calendar": calendar})
    cfg = Config(settings=settings, files=files, layers=all_layers)
    for name in CONFIG_FILES[1:] if not lazy else ():
        cfg.validated[name] = _validate(name, models[name], all_layers[name], {})
    if templates:
        from mocli.messages import check_templates

        check_templates(cfg)
    return cfg
