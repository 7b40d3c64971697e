"""Config names -> providers: one table for CRMs, order systems, carriers and the helpdesk.

A name in ``[providers]`` of settings.toml is looked up in `PROVIDERS` for the role it is written under
("customers", "orders" or "tracking"; "helpdesk" is where `helpdesk.py` posts cases). Its class is
imported only when a run needs it, so `mocli --help` loads none, and every class is built the one way
`base.Configured` says. The demo data set fills every role but the helpdesk and is shared by the run
(`Providers.demo`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mocli.errors import ConfigError

if TYPE_CHECKING:
    from datetime import date

    from mocli.config import Config
    from mocli.providers.base import CustomerProvider, OrderProvider, TrackingProvider

# The roles of `[providers]`, each filled by the demo data set unless settings.toml names another.
ROLES = ("customers", "orders", "tracking")


@dataclass(frozen=True)
class Entry:
    """What one provider can answer and where its class is ("module:Class")."""

    roles: tuple[str, ...]
    factory: str


PROVIDERS: dict[str, Entry] = {
    "shopify": Entry(("customers", "orders"), "mocli.providers.crm.shopify:ShopifyProvider"),
    "zendesk": Entry(("customers", "helpdesk"), "mocli.providers.crm.zendesk:ZendeskProvider"),
    "hubspot": Entry(("customers",), "mocli.providers.crm.hubspot:HubSpotProvider"),
    "generic": Entry(("customers", "orders"), "mocli.providers.crm.generic:GenericProvider"),
    "ups": Entry(("tracking",), "mocli.providers.carriers.ups:UpsAdapter"),
    "fedex": Entry(("tracking",), "mocli.providers.carriers.fedex:FedexAdapter"),
    "usps": Entry(("tracking",), "mocli.providers.carriers.usps:UspsAdapter"),
    "dhl": Entry(("tracking",), "mocli.providers.carriers.dhl:DhlAdapter"),
    "aftership": Entry(("tracking",), "mocli.providers.carriers.aftership:AftershipAdapter"),
}


def known(role: str) -> list[str]:
    """The names settings.toml may give for `role`, the demo first (it posts to no helpdesk)."""
    return [*(["demo"] if role in ROLES else []), *(name for name, entry in PROVIDERS.items() if role in entry.roles)]


def make(name: str, role: str, settings: dict[str, Any], cfg: Config | None = None) -> Any:
    """The provider called `name` for `role`, built from its ``[providers.settings.<name>]`` table."""
    from importlib import import_module

    entry = PROVIDERS.get(name)
    if entry is None or role not in entry.roles:
        raise ConfigError(f"settings.toml: providers.{role}: unknown provider {name!r} "
                          f"(known: {', '.join(known(role))})")
    module, _, cls = entry.factory.partition(":")
    return getattr(import_module(module), cls).configured(dict(settings), cfg)


class Providers:
    """The providers of one run, built from the config; shares one demo data set."""

    def __init__(self, cfg: Config, today: date) -> None:
        self.cfg = cfg
        self.today = today
        self._demo: Any = None
        self._tracking: dict[str, Any] = {}

    @property
    def demo(self):
        if self._demo is None:
            from mocli.providers.demo import DemoData, DemoProvider

            self._demo = DemoProvider(DemoData(self.cfg.settings.providers.demo_data or None, self.today))
        return self._demo

    def _make(self, name: str, role: str) -> Any:
        if name == "demo":
            return self.demo
        return make(name, role, self.cfg.settings.providers.settings.get(name, {}), self.cfg)

    def customers(self) -> CustomerProvider:
        return self._make(self.cfg.settings.providers.customers, "customers")

    def orders(self) -> OrderProvider:
        return self._make(self.cfg.settings.providers.orders, "orders")

    def tracking(self, carrier: str | None) -> TrackingProvider:
        """The provider serving `carrier` (``[providers.tracking]``, else its ``default``), made once per run."""
        table = self.cfg.settings.providers.tracking
        return self.tracking_adapter(table.get(carrier or "", table.get("default", "demo")))

    def tracking_adapter(self, name: str) -> TrackingProvider:
        """The tracking provider configured as `name` ("ups", "aftership", "demo"...), made once per run."""
        if name not in self._tracking:
            self._tracking[name] = self._make(name, "tracking")
        return self._tracking[name]

    def tracking_names(self, carrier: str | None = None) -> list[str]:
        """The carrier adapters (not the demo) that may serve `carrier`'s tracking; every one when None."""
        table = self.cfg.settings.providers.tracking
        names = [table.get(carrier, table.get("default", "demo"))] if carrier else list(table.values())
        return [n for n in dict.fromkeys(names) if n != "demo"]

    def prior_claims(self):
        """Claims known to the CRM from before mocli: only the demo CRM has them (real CRMs keep no
        missing-order history we can read; the case store supplies past claims for them)."""
        if self.cfg.settings.providers.customers == "demo":
            return self.demo.prior_claims()
        return []
