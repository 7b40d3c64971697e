"""Tracking provider names (as written in ``[providers.tracking]``) -> adapter classes."""

from __future__ import annotations

from typing import Any

from mocli.errors import ConfigError

ADAPTERS = {
    "ups": ("mocli.providers.carriers.ups", "UpsAdapter"),
    "fedex": ("mocli.providers.carriers.fedex", "FedexAdapter"),
    "usps": ("mocli.providers.carriers.usps", "UspsAdapter"),
    "dhl": ("mocli.providers.carriers.dhl", "DhlAdapter"),
    "aftership": ("mocli.providers.carriers.aftership", "AftershipAdapter"),
}


def make(name: str, settings: dict[str, Any]) -> Any:
    """The adapter called `name`, configured from ``[providers.settings.<name>]``."""
    from importlib import import_module

    if name not in ADAPTERS:
        known = ", ".join(["demo", *ADAPTERS])
        raise ConfigError(f"settings.toml: providers.tracking: unknown provider {name!r} (known: {known})")
    module, cls = ADAPTERS[name]
    return getattr(import_module(module), cls)(settings)
