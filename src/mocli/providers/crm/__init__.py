"""Real CRM and order-system adapters: Shopify, Zendesk, HubSpot and a generic HTTP/JSON adapter.

Each module reads its own `[providers.settings.<name>]` table (documented in docs/providers.md) and
talks HTTP only through `mocli.providers.http`. `make(name, cfg)` builds one by its config name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mocli.errors import ConfigError

if TYPE_CHECKING:
    from mocli.config import Config

CUSTOMER_PROVIDERS = ("shopify", "zendesk", "hubspot", "generic")
ORDER_PROVIDERS = ("shopify", "generic")


def make(name: str, cfg: Config, role: str) -> Any:
    """The adapter called `name` for `role` ("customers" or "orders"), built from its settings."""
    known = CUSTOMER_PROVIDERS if role == "customers" else ORDER_PROVIDERS
    if name not in known:
        raise ConfigError(f"settings.toml: providers.{role}: unknown provider {name!r} "
                          f"(known: demo, {', '.join(known)})")
    settings = dict(cfg.settings.providers.settings.get(name, {}))
    tiers = list(cfg.tiers)
    if name == "shopify":
        from mocli.providers.crm.shopify import ShopifyProvider

        return ShopifyProvider(settings, tiers, timezone=cfg.settings.calendar.timezone)
    if name == "zendesk":
        from mocli.providers.crm.zendesk import ZendeskProvider

        return ZendeskProvider(settings, tiers)
    if name == "hubspot":
        from mocli.providers.crm.hubspot import HubSpotProvider

        return HubSpotProvider(settings, tiers)
    from mocli.providers.crm.generic import GenericProvider

    return GenericProvider(settings, tiers)
