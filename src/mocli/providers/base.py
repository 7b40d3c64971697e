"""The three questions mocli asks of the outside world."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from typing import Self

    from mocli.config import Config
    from mocli.models import Customer, Order, Tracking


@dataclass
class ProofFile:
    """A proof-of-delivery image or document: never printed, written by ``--save-proof``."""

    kind: str  # "photo", "signature", "pod"
    extension: str  # "png", "jpg", "gif", "pdf"
    content: bytes


@dataclass
class Lookup:
    tracking: Tracking
    files: list[ProofFile] = field(default_factory=list)


class Configured(Protocol):
    """How `registry.make` builds every provider in its table, whatever the role."""

    @classmethod
    def configured(cls, settings: dict[str, Any], cfg: Config | None) -> Self:
        """The provider from its ``[providers.settings.<name>]`` table and the run's config (tiers, calendar)."""
        ...


class CustomerProvider(Protocol):
    name: str

    async def find_customer(self, ref: str) -> Customer:
        """A customer by email or id; NotFound if there is none."""
        ...


class OrderProvider(Protocol):
    name: str

    async def find_order(self, number: str) -> Order:
        """An order by its number (e.g. '#1001'); NotFound if there is none."""
        ...


class RecentOrders(Protocol):
    """Optional for an order provider: a customer's recent orders, for step 2's picker."""

    async def recent_orders(self, customer: Customer, limit: int = 10) -> list[Order]:
        """The customer's orders, newest first; [] when there are none."""
        ...


class TrackingProvider(Protocol):
    """The carriers' adapters and the demo data alike."""

    name: str

    async def lookup(self, number: str, carrier: str | None = None, proof: bool = False) -> Lookup:
        """The normalised tracking of one parcel and, with `proof`, its proof-of-delivery files;
        NotFound if the carrier has no such number."""
        ...

    async def track(self, tracking_number: str, carrier: str | None = None) -> Tracking:
        """The tracking alone (the wizard's lookups)."""
        ...
