"""Configuration: shipped defaults from config/, a user file of the same name overrides any key,
MOCLI_* environment variables override both. Validated once, errors name the file and the key.
The models of the files are in `config_schema.py`, the checks that keep secrets out in `config_secrets.py`."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mocli.config_schema import models
from mocli.config_secrets import ENV_NAME, ENV_NAME_RULE  # noqa: F401 (read from here by providers/http.py)
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
            self.validated[name] = _validate(name, models((name,))[name], self.layers.get(name, []), {})
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
    schemas = models(("settings.toml",) if lazy else CONFIG_FILES)
    settings = _validate("settings.toml", schemas["settings.toml"], all_layers["settings.toml"],
                         {"calendar": calendar})
    cfg = Config(settings=settings, files=files, layers=all_layers, folders=(shipped, user))
    for name in CONFIG_FILES[1:] if not lazy else ():
        cfg.validated[name] = _validate(name, schemas[name], all_layers[name], {})
    if templates:
        from mocli.templates import check_templates

        check_templates(cfg.messages)
    return cfg
