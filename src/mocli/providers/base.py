"""The three questions mocli asks of the outside world."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mocli.models import Customer, Order, Tracking


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


class TrackingProvider(Protocol):
    name: str

    async def track(self, tracking_number: str, carrier: str | None = None) -> Tracking:
        """The normalised tracking of one parcel; NotFound if the carrier has no such number."""
        ...
