"""Config names -> provider instances. The demo provider is the default for every role."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import date

    from mocli.config import Config
    from mocli.providers.base import CustomerProvider, OrderProvider, TrackingProvider


class Providers:
    """The providers of one run, built from the config; shares one demo data set."""

    def __init__(self, cfg: Config, today: date) -> None:
        self.cfg = cfg
        self.today = today
        self._demo: Any = None

    @property
    def demo(self):
        if self._demo is None:
            from mocli.providers.demo import DemoData, DemoProvider

            self._demo = DemoProvider(DemoData(self.cfg.settings.providers.demo_data or None, self.today))
        return self._demo

    def _settings(self, name: str) -> dict[str, Any]:
        return dict(self.cfg.settings.providers.settings.get(name, {}))

    def customers(self) -> CustomerProvider:
        name = self.cfg.settings.providers.customers
        if name == "demo":
            return self.demo
        from mocli.providers import crm  # real CRMs: shopify, zendesk, hubspot, generic

        return crm.make(name, self.cfg, "customers")

    def orders(self) -> OrderProvider:
        name = self.cfg.settings.providers.orders
        if name == "demo":
            return self.demo
        from mocli.providers import crm  # real order systems: shopify, generic

        return crm.make(name, self.cfg, "orders")

    def tracking(self, carrier: str | None) -> TrackingProvider:
        """The provider serving `carrier` (``[providers.tracking]``, else its ``default``), made once per run."""
        table = self.cfg.settings.providers.tracking
        return self.tracking_adapter(table.get(carrier or "", table.get("default", "demo")))

    def tracking_adapter(self, name: str) -> TrackingProvider:
        """The tracking provider configured as `name` ("ups", "aftership", "demo"...), made once per run."""
        from mocli.providers.carriers import registry as carriers

        if name == "demo":
            return self.demo
        made = self.__dict__.setdefault("_tracking_adapters", {})
        if name not in made:
            made[name] = carriers.make(name, self._settings(name))
        return made[name]

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
