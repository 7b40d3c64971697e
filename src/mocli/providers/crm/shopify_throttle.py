"""Shopify's GraphQL cost throttle: a refused query is a 200 whose errors carry
`extensions.code == "THROTTLED"`, and `extensions.cost.throttleStatus` says how fast the bucket refills.
Apart from `shopify.py` because it is the API's rate-limit protocol, not its data."""

from __future__ import annotations

from typing import Any

NAME = "shopify"


def throttled(errors: Any) -> bool:
    """True when Shopify refused the query for its cost (a 200 whose errors say THROTTLED)."""
    if not isinstance(errors, list):
        return False
    return any(isinstance(e, dict) and ((e.get("extensions") or {}).get("code") == "THROTTLED"
                                        or e.get("message") == "Throttled") for e in errors)


def throttle_wait(body: dict[str, Any]) -> float:
    """Seconds until the cost bucket holds this query's cost again (1 s if Shopify does not say)."""
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        needed = float(cost.get("requestedQueryCost")) - float(status.get("currentlyAvailable"))
        rate = float(status.get("restoreRate"))
    except (TypeError, ValueError):
        return 1.0
    if rate <= 0:
        return 1.0
    return max(0.1, needed / rate)


def graphql_error(errors: Any, *, throttled: bool) -> str:
    """The one-line error for a GraphQL answer's `errors`, saying what to do about it."""
    if throttled:
        return (f"{NAME}: still throttled after waiting; try again in a minute or lower "
                "providers.settings.shopify.concurrency")
    if isinstance(errors, str):
        return f"{NAME}: {errors[:200]}"
    codes = {str((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)}
    messages = "; ".join(str(e.get("message"))[:160] for e in errors if isinstance(e, dict))[:400]
    if "ACCESS_DENIED" in codes:
        return (f"{NAME}: access denied ({messages}); the app needs the read_customers and read_orders scopes "
                "(read_all_orders for orders older than 60 days)")
    return f"{NAME}: GraphQL error: {messages or str(errors)[:200]}"
