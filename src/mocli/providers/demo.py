"""The demo provider: customers, orders and tracking from the embedded demo data set (or a file of
the same format named by `providers.demo_data` / MOCLI_DEMO_DATA). No account needed anywhere."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from mocli.errors import ConfigError, NotFound
from mocli.models import Customer, Order, PriorClaim, Tracking
from mocli.policy.fraud import Claim
from mocli.providers.base import Lookup

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)$")


def normalise_order_number(number: str) -> str:
    n = number.strip()
    return n if n.startswith("#") else f"#{n}"


def normalise_tracking_number(number: str) -> str:
    return re.sub(r"[\s-]", "", number).upper()


def _shift(value: Any, days: int) -> Any:
    """Move every ISO date / datetime in the data by `days`, so the scenarios stay current."""
    if isinstance(value, dict):
        return {k: _shift(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, days) for v in value]
    try:
        if isinstance(value, str) and _ISO_DATE.match(value):
            return (date.fromisoformat(value) + timedelta(days=days)).isoformat()
        if isinstance(value, str) and _ISO_DATETIME.match(value):
            return (datetime.fromisoformat(value) + timedelta(days=days)).isoformat()
    except ValueError:
        pass  # not a real date (e.g. 2026-02-30): left as is for validation to name the field
    return value


class DemoData:
    """The demo data set, validated, with its dates moved so that `as_of` is `today`."""

    def __init__(self, path: str | Path | None, today: date) -> None:
        self.path = path
        self.today = today

    def _load_raw(self) -> dict[str, Any]:
        try:
            if self.path:
                text = Path(self.path).read_text(encoding="utf-8")
            else:
                text = resources.files("mocli.data").joinpath("demo.json").read_text(encoding="utf-8")
            raw = json.loads(text)
        except OSError as exc:
            raise ConfigError(f"demo data {self.path}: cannot read: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"demo data {self.path or 'demo.json'}: not valid JSON: {exc}") from None
        if not isinstance(raw, dict) or raw.get("format") != "mocli-demo/1":
            raise ConfigError(f"demo data {self.path}: not a mocli demo file (format must be 'mocli-demo/1')")
        return raw

    @cached_property
    def data(self) -> dict[str, Any]:
        from pydantic import ValidationError  # noqa: TID253

        raw = self._load_raw()
        try:
            as_of = date.fromisoformat(raw["as_of"])
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"demo data {self.path or 'demo.json'}: as_of must be a YYYY-MM-DD date") from None
        shifted = _shift({k: raw.get(k, []) for k in ("customers", "orders", "tracking", "scenarios")},
                         (self.today - as_of).days)
        where = self.path or "demo.json"
        parsed: dict[str, list[Any]] = {}
        for section, model in (("customers", Customer), ("orders", Order), ("tracking", Tracking)):
            items = shifted[section]
            if not isinstance(items, list):
                raise ConfigError(f"demo data {where}: {section}: expected a list")
            parsed[section] = []
            for index, item in enumerate(items):
                try:
                    parsed[section].append(model.model_validate(item))
                except ValidationError as exc:
                    err = exc.errors()[0]
                    key = ".".join(str(p) for p in (section, index, *err["loc"]))
                    raise ConfigError(f"demo data {where}: {key}: {err['msg']}") from None
        customers, orders, tracking = parsed["customers"], parsed["orders"], parsed["tracking"]
        return {
            "customers": {c.id: c for c in customers},
            "orders": {o.number: o for o in orders},
            "tracking": {normalise_tracking_number(t.tracking_number): t for t in tracking},
            "scenarios": shifted["scenarios"],
        }

    def customer(self, ref: str) -> Customer:
        ref = ref.strip()
        customers = self.data["customers"]
        if ref in customers:
            return customers[ref]
        for c in customers.values():
            if c.email.lower() == ref.lower():
                return c
        raise NotFound(f"no customer {ref!r} in the demo data (try `mocli demo`)")

    def order(self, number: str) -> Order:
        key = normalise_order_number(number)
        try:
            return self.data["orders"][key]
        except KeyError:
            raise NotFound(f"no order {key} in the demo data (try `mocli demo`)") from None

    def tracking(self, number: str) -> Tracking:
        key = normalise_tracking_number(number)
        try:
            return self.data["tracking"][key]
        except KeyError:
            raise NotFound(f"no tracking for {key} in the demo data") from None

    def claims(self) -> list[Claim]:
        """Claims the CRM knows of from before mocli (`prior_claims`)."""
        out: list[Claim] = []
        for c in self.data["customers"].values():
            for pc in c.prior_claims:
                out.append(_claim(c.id, pc))
        return out


def _claim(customer_id: str, pc: PriorClaim) -> Claim:
    return Claim(customer_id=customer_id, order=pc.order, on=pc.date,
                 address_key=pc.address.key() if pc.address else None, source="crm")


class DemoProvider:
    """Serves customers, orders and tracking from `DemoData` (all three provider roles)."""

    name = "demo"

    def __init__(self, data: DemoData) -> None:
        self.demo = data

    async def find_customer(self, ref: str) -> Customer:
        return self.demo.customer(ref)

    async def find_order(self, number: str) -> Order:
        return self.demo.order(number)

    async def recent_orders(self, customer: Customer, limit: int = 10) -> list[Order]:
        """The customer's orders, newest first (for the agent to pick when the number is not known)."""
        mine = [o for o in self.demo.data["orders"].values() if o.customer_id == customer.id]
        return sorted(mine, key=lambda o: o.placed_at, reverse=True)[:limit]

    async def track(self, tracking_number: str, carrier: str | None = None) -> Tracking:
        return self.demo.tracking(tracking_number)

    async def lookup(self, number: str, carrier: str | None = None, proof: bool = False) -> Lookup:
        """As the carriers answer `mocli track`; the demo data has no proof files to save."""
        return Lookup(await self.track(number, carrier))

    def prior_claims(self) -> list[Claim]:
        return self.demo.claims()
