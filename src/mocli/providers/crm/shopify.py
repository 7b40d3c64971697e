"""Shopify Admin GraphQL API: customers (tier from tags or a metafield) and orders (fulfilments,
tracking, delivery dates, value). Settings: `[providers.settings.shopify]`, see docs/providers.md.
The GraphQL throttle's rules (how long to wait, what an error means) are in `shopify_throttle.py`.

Shapes follow the pinned API version's reference (customers / orders queries, Customer, Order,
Fulfillment, FulfillmentTrackingInfo, MailingAddress, MoneyBag). Throttling is a 200 whose errors
carry `extensions.code == "THROTTLED"`; we wait for the bucket to refill, then ask again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from mocli.errors import ConfigError, InvalidInput, NotFound, ProviderError
from mocli.models import Customer, Order
from mocli.providers import http
from mocli.providers.crm.common import (
    CRM_KEYS,
    CrmAdapter,
    SeveralMatches,
    address,
    amount,
    carrier_name,
    first_last,
    gid_tail,
    parse_date,
    parse_datetime,
    text,
)
from mocli.providers.crm.shopify_throttle import graphql_error, throttle_wait, throttled

if TYPE_CHECKING:
    from mocli.config import Config

NAME = "shopify"
# Pinned: Shopify changes shapes between versions (e.g. `email` -> `defaultEmailAddress` in 2025-04).
API_VERSION = "2025-07"
ALLOWED = CRM_KEYS | {"shop", "api_version", "token_env", "tier_metafield", "order_name_prefix",
                                   "throttle_retries"}

_ADDRESS = "address1 address2 city provinceCode zip countryCodeV2"
_CUSTOMER_FIELDS = f"""
  id displayName firstName lastName createdAt note tags locale
  defaultEmailAddress {{ emailAddress }}
  defaultPhoneNumber {{ phoneNumber }}
  defaultAddress {{ {_ADDRESS} }}
"""
_SHOP_ZONE = "shop { ianaTimezone }"
_ORDER_FIELDS = f"""
  id name createdAt cancelledAt displayFulfillmentStatus
  customer {{ id defaultEmailAddress {{ emailAddress }} }}
  shippingAddress {{ {_ADDRESS} }}
  shippingLine {{ title }}
  totalPriceSet {{ shopMoney {{ amount currencyCode }} }}
  lineItems(first: 20) {{ nodes {{ name quantity }} }}
  fulfillments(first: 10) {{
    createdAt status displayStatus estimatedDeliveryAt deliveredAt inTransitAt
    location {{ name }}
    trackingInfo(first: 5) {{ company number url }}
  }}
"""

# Order.displayFulfillmentStatus -> (our fulfilment status, why it has not shipped).
_ORDER_STATUS: dict[str, tuple[str, str | None]] = {
    "UNFULFILLED": ("unfulfilled", None),
    "OPEN": ("unfulfilled", None),
    "RESTOCKED": ("unfulfilled", "the items were restocked"),
    "SCHEDULED": ("unfulfilled", "scheduled for fulfilment at a later date"),
    "PENDING_FULFILLMENT": ("packed", "waiting for the fulfilment service to accept the request"),
    "IN_PROGRESS": ("packed", "being prepared by the warehouse / fulfilment service"),
    "ON_HOLD": ("delayed", "the fulfilment is on hold"),
    "REQUEST_DECLINED": ("delayed", "the fulfilment service declined the request"),
    "PARTIALLY_FULFILLED": ("partially_shipped", None),
    "FULFILLED": ("shipped", None),
}


class ShopifyProvider(CrmAdapter):
    """Customers and orders from one Shopify store."""

    name = NAME
    allowed = frozenset(ALLOWED)

    def __init__(self, settings: dict[str, Any], tiers: Iterable[str], timezone: str = "UTC") -> None:
        super().__init__(settings, tiers)
        s = self.s
        self.timezone = timezone  # the calendar's zone: dates when the store does not say its own
        self.base_url = self.hosted_base_url("shop", "myshopify.com",
                                             'your store, e.g. shop = "example" for example.myshopify.com')
        self.api_version = s.get("api_version", API_VERSION)
        if not re.fullmatch(r"\d{4}-\d{2}|unstable", self.api_version):
            raise ConfigError(f"{s.where('api_version')}: {self.api_version!r} is not a Shopify API version "
                              f"(like {API_VERSION!r})")
        self.headers = {"X-Shopify-Access-Token": s.secret("token_env", "Admin API access token")}
        self.metafield: tuple[str, str] | None = None
        if mf := s.get("tier_metafield"):
            ns, _, key = mf.rpartition(".")
            if not ns or not key:
                raise ConfigError(f"{s.where('tier_metafield')}: must be 'namespace.key', e.g. 'custom.tier'")
            self.metafield = (ns, key)
        self.order_prefix = s.get("order_name_prefix", "#")
        self.throttle_retries = s.get("throttle_retries", 4, int)
        self.path = f"/admin/api/{self.api_version}/graphql.json"

    @classmethod
    def configured(cls, settings: dict[str, Any], cfg: Config | None) -> ShopifyProvider:
        """Built by the registry: dates in the calendar's zone when the store does not say its own."""
        return cls(settings, list(cfg.tiers) if cfg else [], timezone=cfg.settings.calendar.timezone if cfg else "UTC")

    # ------------------------------------------------------------------ the API

    async def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Run a read-only query; wait out THROTTLED answers; any other GraphQL error is a ProviderError."""
        client = self._client()
        attempt = 0
        while True:
            attempt += 1
            # A query only reads, so the helper may retry it on 429/5xx/timeouts like a GET.
            resp = await client.request("POST", self.path, json={"query": query, "variables": variables},
                                        idempotent=True)
            body = resp.data
            if not isinstance(body, dict):
                raise ProviderError(f"{NAME}: the response is not what its documentation says (no JSON object)")
            errors = body.get("errors")
            if not errors:
                return http.dig(body, "data", provider=NAME, expect=dict)
            if throttled(errors) and attempt <= self.throttle_retries:
                await client.pause(throttle_wait(body), self.path)  # capped, honours the run's deadline
                continue
            raise ProviderError(graphql_error(errors, throttled=throttled(errors)))

    def _customer_query(self, selector: str) -> tuple[str, dict[str, Any]]:
        params, fields, variables = "", _CUSTOMER_FIELDS, {}
        if self.metafield:
            params = ", $tierNs: String!, $tierKey: String!"
            fields += " tierField: metafield(namespace: $tierNs, key: $tierKey) { value }"
            variables = {"tierNs": self.metafield[0], "tierKey": self.metafield[1]}
        if selector == "email":
            q = f"query MocliCustomerByEmail($query: String!{params}) " \
                f"{{ customers(first: 5, query: $query) {{ nodes {{ {fields} }} }} }}"
        else:
            q = f"query MocliCustomerById($id: ID!{params}) {{ customer(id: $id) {{ {fields} }} }}"
        return q, variables

    async def find_customer(self, ref: str) -> Customer:
        """A customer by email, numeric id or gid; NotFound, SeveralMatches, ProviderError otherwise."""
        ref = ref.strip()
        if "@" in ref:
            query, variables = self._customer_query("email")
            data = await self.graphql(query, {**variables, "query": f"email:{_quote(ref)}"})
            nodes = http.dig(data, "customers", "nodes", provider=NAME, expect=list)
            matches = [n for n in nodes if isinstance(n, dict)
                       and (_email(n) or "").casefold() == ref.casefold()]
            if not matches:
                raise NotFound(f"{NAME}: no customer with email {ref}")
            if len(matches) > 1:
                raise SeveralMatches(NAME, "customer", ref, [gid_tail(n.get("id")) for n in matches])
            return self._customer(matches[0], ref)
        gid = _gid(ref, "Customer")
        if gid is None:
            raise InvalidInput(f"{NAME}: {ref!r} is neither an email nor a Shopify customer id")
        query, variables = self._customer_query("id")
        data = await self.graphql(query, {**variables, "id": gid})
        node = data.get("customer")
        if node is None:
            raise NotFound(f"{NAME}: no customer with id {gid_tail(gid)}")
        if not isinstance(node, dict):
            raise ProviderError(f"{NAME}: the response is not what its documentation says (customer)")
        return self._customer(node, ref)

    def _customer(self, node: dict[str, Any], ref: str) -> Customer:
        tier_value = None
        if self.metafield:
            tier_value = _metafield_value((node.get("tierField") or {}).get("value"))
        tags = node.get("tags") or []
        if not isinstance(tags, list):
            raise ProviderError(f"{NAME}: the response is not what its documentation says (tags is not a list)")
        a = node.get("defaultAddress") or {}
        return Customer(
            id=gid_tail(http.dig(node, "id", provider=NAME)),
            email=_email(node) or (ref if "@" in ref else ""),
            name=text(node.get("displayName")) or first_last(node.get("firstName"), node.get("lastName"), _email(node)),
            tier=self.tiers.resolve(value=tier_value, tags=tags,
                                    what=f"metafield {'.'.join(self.metafield)}" if self.metafield else "tier"),
            phone=text((node.get("defaultPhoneNumber") or {}).get("phoneNumber")),
            since=parse_date(node.get("createdAt"), NAME, "customer createdAt"),
            notes=text(node.get("note")),
            address=address(a.get("address1"), a.get("address2"), a.get("city"), a.get("provinceCode"),
                            a.get("zip"), a.get("countryCodeV2")),
            locale=text(node.get("locale")),
            source=NAME,
        )

    async def find_order(self, number: str) -> Order:
        """An order by its name ('#1001', '1001') or gid; NotFound, SeveralMatches, ProviderError otherwise."""
        ref = number.strip()
        if ref.startswith("gid://"):
            data = await self.graphql(f"query MocliOrderById($id: ID!) {{ order(id: $id) {{ {_ORDER_FIELDS} }} "
                                      f"{_SHOP_ZONE} }}", {"id": ref})
            node = data.get("order")
            if node is None:
                raise NotFound(f"{NAME}: no order with id {gid_tail(ref)}")
            if not isinstance(node, dict):
                raise ProviderError(f"{NAME}: the response is not what its documentation says (order)")
            return self._order(node, self._zone(data))
        name = ref if ref.startswith(self.order_prefix) else f"{self.order_prefix}{ref.lstrip('#')}"
        data = await self.graphql(
            f"query MocliOrderByName($query: String!) "
            f"{{ orders(first: 5, query: $query) {{ nodes {{ {_ORDER_FIELDS} }} }} {_SHOP_ZONE} }}",
            {"query": f"name:{_quote(name)}"})
        nodes = http.dig(data, "orders", "nodes", provider=NAME, expect=list)
        matches = [n for n in nodes if isinstance(n, dict) and str(n.get("name", "")).casefold() == name.casefold()]
        if not matches:
            raise NotFound(f"{NAME}: no order {name}")
        if len(matches) > 1:
            raise SeveralMatches(NAME, "order", name, [gid_tail(n.get("id")) for n in matches])
        return self._order(matches[0], self._zone(data))

    def _zone(self, data: dict[str, Any]) -> tzinfo:
        """The store's time zone (``shop.ianaTimezone``), else the configured calendar's."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        name = (data.get("shop") or {}).get("ianaTimezone") if isinstance(data.get("shop"), dict) else None
        try:
            return ZoneInfo(str(name)) if name else ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(self.timezone)

    def _order(self, node: dict[str, Any], zone: tzinfo | None = None) -> Order:
        name = str(http.dig(node, "name", provider=NAME))
        a = node.get("shippingAddress") or {}
        where = address(a.get("address1"), a.get("address2"), a.get("city"), a.get("provinceCode"), a.get("zip"),
                        a.get("countryCodeV2"))
        if where is None:
            raise ProviderError(f"{NAME}: order {name} has no shipping address (local pickup or no shipping?)")
        fulfillments = node.get("fulfillments") or []
        if not isinstance(fulfillments, list):
            raise ProviderError(f"{NAME}: the response is not what its documentation says (fulfillments)")
        shipment = _main_fulfillment(fulfillments)
        tracking = _tracking_info(shipment)
        status, reason = _fulfillment_status(node, fulfillments)
        money = (node.get("totalPriceSet") or {}).get("shopMoney") or {}
        items = []
        for item in ((node.get("lineItems") or {}).get("nodes") or []):
            if isinstance(item, dict) and text(item.get("name")):
                qty = item.get("quantity") or 1
                items.append(f"{text(item.get('name'))}" + (f" ×{qty}" if qty != 1 else ""))
        return Order(
            number=name,
            customer_id=gid_tail((node.get("customer") or {}).get("id")),
            customer_email=_email(node.get("customer") or {}),
            placed_at=parse_datetime(http.dig(node, "createdAt", provider=NAME), NAME, f"order {name} createdAt"),
            # A UTC time: its date in the store's zone (an evening estimate is not the next day).
            expected_delivery=parse_date((shipment or {}).get("estimatedDeliveryAt"), NAME, "estimatedDeliveryAt",
                                         zone),
            shipping_method=text((node.get("shippingLine") or {}).get("title")),
            carrier=carrier_name(tracking.get("company")),
            tracking_number=text(tracking.get("number")),
            address=where,
            value=amount(money.get("amount"), NAME, f"order {name} total"),
            currency=text(money.get("currencyCode")) or "USD",
            fulfillment_status=status,
            warehouse=text(((shipment or {}).get("location") or {}).get("name")),
            not_shipped_reason=reason,
            items=items,
            source=NAME,
        )


# ------------------------------------------------------------------ helpers


def _quote(value: str) -> str:
    """A value for Shopify's search syntax, quoted so spaces and colons stay inside it."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _gid(ref: str, kind: str) -> str | None:
    if ref.startswith(f"gid://shopify/{kind}/"):
        return ref
    if ref.isdigit():
        return f"gid://shopify/{kind}/{ref}"
    return None


def _email(node: dict[str, Any]) -> str | None:
    return text((node.get("defaultEmailAddress") or {}).get("emailAddress"))


def _metafield_value(value: Any) -> Any:
    """A metafield's value; list-type metafields hold a JSON array in a string."""
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return parsed if isinstance(parsed, list) else value
    return value


def _main_fulfillment(fulfillments: list[Any]) -> dict[str, Any] | None:
    """The latest fulfilment that was not cancelled, preferring one with a tracking number."""
    live = [f for f in fulfillments if isinstance(f, dict) and f.get("status") not in ("CANCELLED", "ERROR", "FAILURE")]
    tracked = [f for f in live if _tracking_info(f).get("number")]
    pool = tracked or live
    return max(pool, key=lambda f: str(f.get("createdAt") or "")) if pool else None


def _tracking_info(fulfillment: dict[str, Any] | None) -> dict[str, Any]:
    infos = (fulfillment or {}).get("trackingInfo") or []
    for info in infos if isinstance(infos, list) else []:
        if isinstance(info, dict) and text(info.get("number")):
            return info
    return {}


def _fulfillment_status(node: dict[str, Any], fulfillments: list[Any]) -> tuple[str, str | None]:
    if node.get("cancelledAt"):
        return "cancelled", "the order was cancelled"
    display = str(node.get("displayFulfillmentStatus") or "")
    live = [f for f in fulfillments if isinstance(f, dict) and f.get("status") not in ("CANCELLED", "ERROR", "FAILURE")]
    if display == "FULFILLED" and live and all(f.get("displayStatus") == "DELIVERED" or f.get("deliveredAt")
                                               for f in live):
        return "delivered", None
    if display in _ORDER_STATUS:
        return _ORDER_STATUS[display]
    # A status newer than the pinned version: judge by what has shipped, never guess "delivered".
    return ("shipped", None) if live else ("unfulfilled", None)
