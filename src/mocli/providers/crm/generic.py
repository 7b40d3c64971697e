"""A generic HTTP/JSON adapter for in-house CRMs and order systems: URL templates and JSON field
paths come from `[providers.settings.generic]` (docs/providers.md, "Generic HTTP/JSON").

A field path is dotted keys and list indexes (`contact.emails.0.value`). A missing optional field is
left blank; a missing required one (id, placed_at, address) is a ProviderError naming the path.
"""

from __future__ import annotations

from collections.abc import Iterable
from string import Formatter
from typing import Any
from urllib.parse import quote

from mocli.errors import ConfigError, NotFound, ProviderError
from mocli.models import Customer, Order
from mocli.providers.crm.common import (
    CRM_KEYS,
    CrmAdapter,
    SeveralMatches,
    address,
    amount,
    carrier_name,
    parse_date,
    parse_datetime,
    text,
)

NAME = "generic"
ALLOWED = CRM_KEYS | {
    "token_env", "auth_header", "auth_scheme", "headers",
    "customer_url", "customer_by_id_url", "customer_results", "customer_fields",
    "order_url", "order_results", "order_fields", "status_values",
}
CUSTOMER_FIELDS = {"id", "email", "name", "tier", "tags", "phone", "since", "notes", "address", "locale"}
ORDER_FIELDS = {"number", "customer_id", "placed_at", "expected_delivery", "shipping_method", "carrier",
                "tracking_number", "address", "value", "currency", "fulfillment_status", "warehouse",
                "not_shipped_reason", "new_ship_date", "items"}
ADDRESS_FIELDS = {"line1", "line2", "city", "region", "postal_code", "country"}
FULFILLMENT = ("unfulfilled", "packed", "delayed", "partially_shipped", "shipped", "delivered", "cancelled")
_PLACEHOLDERS = {"customer_url": {"ref", "email", "id"}, "customer_by_id_url": {"ref", "id"},
                 "order_url": {"number", "order"}}


class GenericProvider(CrmAdapter):
    """Customers and/or orders from an in-house JSON API described in the config."""

    name = NAME
    allowed = frozenset(ALLOWED)

    def __init__(self, settings: dict[str, Any], tiers: Iterable[str]) -> None:
        super().__init__(settings, tiers)
        s = self.s
        self.base_url = s.require("base_url", 'e.g. base_url = "https://crm.internal.example"').rstrip("/")
        headers = {str(k): str(v) for k, v in s.table("headers").items()}
        if s.get("token_env"):
            token = s.secret("token_env", "API token")
            scheme = s.get("auth_scheme", "Bearer")
            headers[s.get("auth_header", "Authorization")] = f"{scheme} {token}" if scheme else token
        self.headers = headers
        for key, allowed in _PLACEHOLDERS.items():
            if template := s.get(key):
                names = {f for _, f, _, _ in Formatter().parse(template) if f is not None}
                if names - allowed:
                    raise ConfigError(f"{s.where(key)}: unknown placeholder {{{sorted(names - allowed)[0]}}} "
                                      f"(known: {', '.join('{' + a + '}' for a in sorted(allowed))})")
        self.customer_fields = self._fields("customer_fields", CUSTOMER_FIELDS)
        self.order_fields = self._fields("order_fields", ORDER_FIELDS)
        self.status_values = {str(k).casefold(): v for k, v in s.table("status_values").items()}
        for k, v in self.status_values.items():
            if v not in FULFILLMENT:
                raise ConfigError(f"{s.where('status_values.' + k)}: {v!r} is not one of {', '.join(FULFILLMENT)}")

    def _fields(self, key: str, allowed: set[str]) -> dict[str, Any]:
        table = self.s.table(key)
        for name, path in table.items():
            if name not in allowed:
                raise ConfigError(f"{self.s.where(key + '.' + name)}: unknown field "
                                  f"(known: {', '.join(sorted(allowed))})")
            if name == "address":
                if not isinstance(path, dict) or set(path) - ADDRESS_FIELDS:
                    raise ConfigError(f"{self.s.where(key + '.address')}: must be a table of "
                                      f"{', '.join(sorted(ADDRESS_FIELDS))} paths")
            elif not (isinstance(path, str) or (isinstance(path, list) and all(isinstance(p, str) for p in path))):
                raise ConfigError(f"{self.s.where(key + '.' + name)}: must be a field path or a list of paths")
        return table

    async def _fetch(self, template_key: str, values: dict[str, str], results_key: str, what: str, ref: str) -> Any:
        template = self.s.require(template_key, f"the URL template to fetch a {what}")
        url = template.format(**{k: quote(v, safe="") for k, v in values.items()})
        resp = await self.get_found(url, f"no {what} {ref}")
        results = self.s.get(results_key)
        if not results:
            if not isinstance(resp.data, dict):
                raise ProviderError(f"{NAME}: the {what} response is not a JSON object")
            return resp.data
        found = pick(resp.data, results)
        if not isinstance(found, list):
            raise ProviderError(f"{NAME}: {results_key} {results!r} is not a list in the {what} response")
        records = [r for r in found if isinstance(r, dict)]
        if not records:
            raise NotFound(f"{NAME}: no {what} {ref}")
        if len(records) > 1:
            ids = [str(pick(r, self.customer_fields.get("id", "id") if what == "customer" else
                            self.order_fields.get("number", "number"))) for r in records]
            raise SeveralMatches(NAME, what, ref, ids)
        return records[0]

    # ------------------------------------------------------------------ customers

    async def find_customer(self, ref: str) -> Customer:
        ref = ref.strip()
        key = "customer_url"
        if "@" not in ref and self.s.get("customer_by_id_url"):
            key = "customer_by_id_url"
        record = await self._fetch(key, {"ref": ref, "email": ref, "id": ref}, "customer_results", "customer", ref)
        f = self.customer_fields
        tags = self._get(record, f, "tags")
        email = text(self._get(record, f, "email")) or (ref if "@" in ref else "")
        a = f.get("address") or {}
        return Customer(
            id=str(self._required(record, f, "id", "id")),
            email=email,
            name=self._name(record, f.get("name", "name")) or email,
            tier=self.tiers.resolve(value=self._get(record, f, "tier"),
                                    tags=tags if isinstance(tags, list) else [tags] if tags else [],
                                    what=f"field {f.get('tier', 'tier')}"),
            phone=text(self._get(record, f, "phone")),
            since=parse_date(self._get(record, f, "since"), NAME, "customer since"),
            notes=text(self._get(record, f, "notes")),
            address=address(*(pick(record, a[k]) if k in a else None for k in
                               ("line1", "line2", "city", "region", "postal_code", "country"))),
            locale=text(self._get(record, f, "locale")),
            source=NAME,
        )

    # ------------------------------------------------------------------ orders

    async def find_order(self, number: str) -> Order:
        raw = number.strip()
        bare = raw.lstrip("#")
        record = await self._fetch("order_url", {"number": bare, "order": raw}, "order_results", "order", raw)
        f = self.order_fields
        a = f.get("address") or {}
        where = address(*(pick(record, a[k]) if k in a else None for k in
                          ("line1", "line2", "city", "region", "postal_code", "country")))
        if where is None:
            raise ProviderError(f"{NAME}: order {raw} has no shipping address at the configured "
                                "order_fields.address paths")
        shown = text(self._get(record, f, "number")) or raw
        status, why = self._status(self._get(record, f, "fulfillment_status"), shown)
        items = self._get(record, f, "items") or []
        return Order(
            number=shown if shown.startswith("#") else f"#{shown}",
            customer_id=str(self._get(record, f, "customer_id") or ""),
            placed_at=parse_datetime(self._required(record, f, "placed_at", "placed_at"), NAME, "order placed_at"),
            expected_delivery=parse_date(self._get(record, f, "expected_delivery"), NAME, "expected_delivery"),
            shipping_method=text(self._get(record, f, "shipping_method")),
            carrier=carrier_name(self._get(record, f, "carrier")),
            tracking_number=text(self._get(record, f, "tracking_number")),
            address=where,
            value=amount(self._get(record, f, "value"), NAME, "order value"),
            currency=text(self._get(record, f, "currency")) or "USD",
            fulfillment_status=status,
            warehouse=text(self._get(record, f, "warehouse")),
            not_shipped_reason=text(self._get(record, f, "not_shipped_reason")) or why,
            new_ship_date=parse_date(self._get(record, f, "new_ship_date"), NAME, "new_ship_date"),
            items=[_item(i) for i in items if _item(i)] if isinstance(items, list) else [],
            source=NAME,
        )

    def _status(self, value: Any, number: str) -> tuple[str, str | None]:
        raw = text(value)
        if raw is None:
            return "unfulfilled", "the order system gives no fulfilment status"
        mapped = self.status_values.get(raw.casefold())
        if mapped:
            return mapped, None
        if raw.casefold() in FULFILLMENT:
            return raw.casefold(), None
        raise ProviderError(f"{NAME}: order {number} has fulfilment status {raw!r}, which mocli does not know; "
                            "map it in settings.toml providers.settings.generic.status_values")

    # ------------------------------------------------------------------ paths

    def _get(self, record: Any, fields: dict[str, Any], name: str) -> Any:
        path = fields.get(name)
        if path is None:
            return None
        return pick(record, path) if isinstance(path, str) else [pick(record, p) for p in path]

    def _required(self, record: Any, fields: dict[str, Any], name: str, default_path: str) -> Any:
        path = fields.get(name, default_path)
        value = pick(record, path) if isinstance(path, str) else None
        if value in (None, ""):
            raise ProviderError(f"{NAME}: the record has no {name} at {path!r} (see order_fields / customer_fields)")
        return value

    def _name(self, record: Any, path: Any) -> str | None:
        parts = [pick(record, p) for p in (path if isinstance(path, list) else [path])]
        return " ".join(t for t in (text(p) for p in parts) if t) or None


def pick(data: Any, path: str) -> Any:
    """The value at a dotted path (`a.b.0.c`), or None where the path does not lead anywhere."""
    node = data
    for part in path.split(".") if path else []:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _item(value: Any) -> str | None:
    if isinstance(value, dict):
        return text(value.get("name") or value.get("title") or value.get("sku"))
    return text(value)
