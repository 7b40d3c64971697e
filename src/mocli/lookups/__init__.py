"""The wizard's lookup phase (steps 1-4): customer and order at once, tracking as soon as the order
names a tracking number. The agent waits for the slowest chain, not the sum of the lookups. The
carriers' OAuth tokens are fetched (or read from the token cache) beside the customer and order
lookups, so the tracking lookup never waits for one after the order arrives.

Nothing here raises for a provider's failure: each `Fact` records its value *or* its error, and
where it came from, so the wizard can say "the CRM did not answer" and let the agent type it in.

Use from async code::

    from mocli import lookups
    from mocli.providers import http

    async with http.run_session(deadline=60):
        facts = await lookups.gather_facts(providers, "ava@example.com", "#1001")

or from sync code (opens and closes the run's HTTP session itself)::

    facts = lookups.lookup_facts(providers, "ava@example.com", "#1001", deadline=30)

    if facts.customer.ok: ...                # facts.customer.value is a models.Customer
    elif facts.customer.error: ...           # a MocliError: NotFound, ProviderError, ConfigError...
    case_sources = facts.sources()           # {"customer": "shopify", "order": "shopify", "tracking": "ups"}
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from mocli.errors import InvalidInput, MocliError, NotFound, ProviderError

if TYPE_CHECKING:
    from mocli.models import Customer, Order, Tracking
    from mocli.providers.registry import Providers

T = TypeVar("T")


@dataclass
class Fact(Generic[T]):
    """One looked-up fact: the value, or the error that stopped it, and which provider was asked.

    Exactly one of these holds: `ok` (value is set), `failed` (error is set), `skipped` (neither:
    nothing to look up, e.g. an order without a tracking number; `note` says why).
    """

    name: str  # "customer" | "order" | "tracking"
    value: T | None = None
    source: str = ""  # the provider's config name: "shopify", "zendesk", "ups", "demo"...
    error: MocliError | None = None
    seconds: float = 0.0  # how long the lookup took
    note: str | None = None  # why a fact was skipped

    @property
    def ok(self) -> bool:
        return self.value is not None

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def skipped(self) -> bool:
        return self.value is None and self.error is None

    @property
    def not_found(self) -> bool:
        """The provider answered, and has no such record (as opposed to being down or misconfigured)."""
        return isinstance(self.error, NotFound)

    def describe(self) -> str:
        """One line for the agent: what was found where, or what went wrong."""
        if self.ok:
            return f"{self.name}: from {self.source} in {self.seconds:.1f} s"
        if self.failed:
            return f"{self.name}: {self.error}"
        return f"{self.name}: skipped ({self.note or 'nothing to look up'})"


@dataclass
class Facts:
    """The result of the lookup phase. `elapsed` is the phase's wall time in seconds."""

    customer: Fact[Customer]
    order: Fact[Order]
    tracking: Fact[Tracking]
    elapsed: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def all(self) -> list[Fact[Any]]:
        return [self.customer, self.order, self.tracking]

    def sources(self) -> dict[str, str]:
        """`Case.sources` for the facts that were found: {"customer": "shopify", ...}. The wizard adds
        "manual" for the facts the agent typed in."""
        return {f.name: f.source for f in self.all() if f.ok}

    def errors(self) -> dict[str, MocliError]:
        return {f.name: f.error for f in self.all() if f.error is not None}

    @property
    def slowest(self) -> float:
        """The slowest single lookup, in seconds."""
        return max((f.seconds for f in self.all()), default=0.0)


def _source(provider: Any, fallback: str) -> str:
    return str(getattr(provider, "name", "") or fallback)


async def _attempt(name: str, source: str, call: Callable[[], Awaitable[Any]]) -> Fact[Any]:
    """Run one lookup; any failure becomes the fact's error (Ctrl-C and cancellation still propagate)."""
    started = time.monotonic()
    try:
        value = await call()
    except MocliError as exc:
        return Fact(name, error=exc, source=source, seconds=time.monotonic() - started)
    except Exception as exc:  # noqa: BLE001 - a bug in one adapter must not cost the agent the whole case
        err = ProviderError(f"{source}: unexpected error looking up the {name}: {type(exc).__name__}: {exc}")
        err.__cause__ = exc
        return Fact(name, error=err, source=source, seconds=time.monotonic() - started)
    # The record says best where it came from (e.g. the carrier adapter that answered a tracking).
    return Fact(name, value=value, source=str(getattr(value, "source", "") or source),
                seconds=time.monotonic() - started)


async def _customer(providers: Providers, ref: str | None) -> Fact[Customer]:
    if not ref:
        return Fact("customer", note="no customer email or id given")
    source = providers.cfg.settings.providers.customers
    try:
        provider = providers.customers()
    except MocliError as exc:  # e.g. a ConfigError naming a missing environment variable
        return Fact("customer", error=exc, source=source)
    return await _attempt("customer", _source(provider, source), lambda: provider.find_customer(ref))


async def _order_then_tracking(providers: Providers, number: str | None, tracking_number: str | None,
                               carrier: str | None, found: dict[str, Fact[Any]]) -> None:
    """The order, then its tracking; each fact lands in `found` as soon as it is known."""
    order: Fact[Order]
    if not number:
        order = Fact("order", note="no order number given")
    else:
        source = providers.cfg.settings.providers.orders
        try:
            provider = providers.orders()
        except MocliError as exc:
            provider, order = None, Fact("order", error=exc, source=source)
        if provider is not None:
            order = await _attempt("order", _source(provider, source), lambda: provider.find_order(number))
    found["order"] = order
    if order.ok and order.value is not None:
        tracking_number = tracking_number or order.value.tracking_number
        carrier = carrier or order.value.carrier
    if not tracking_number:
        why = "the order has no tracking number yet" if order.ok else "no tracking number known"
        found["tracking"] = Fact("tracking", note=why)
        return
    found["tracking"] = await _attempt("tracking", carrier or "tracking",
                                       lambda: _track(providers, tracking_number, carrier))


async def _track(providers: Providers, number: str, carrier: str | None) -> Tracking:
    """The tracking of `number`, as `mocli track` finds it: the order's carrier if mocli knows it,
    else the carriers its format and check digit point to, in turn."""
    from mocli.lookups.tracking import track_one
    from mocli.tracking.detect import carrier_id

    result = await track_one(providers, number, carrier_id(carrier) if carrier else None, False)
    if result.tracking is not None:
        return result.tracking
    message = result.error_message or f"no tracking for {number}"
    if result.error_code == "not_found":
        raise NotFound(message)
    if result.error_code in ("invalid_number", "probably_mistyped"):
        raise InvalidInput(message)
    raise ProviderError(message)


async def _warm_carrier_tokens(providers: Providers, carrier: str | None) -> None:
    """Fetch the OAuth tokens of the carriers that may be asked, while the order is still being looked
    up. Quietly: a carrier that fails here fails again, with its message, in the tracking lookup."""
    from mocli.tracking.detect import carrier_id

    for name in providers.tracking_names(carrier_id(carrier) if carrier else None):
        try:
            await providers.tracking_adapter(name).warm_up()
        except Exception:  # noqa: BLE001, S112 - only an early start; the lookup reports any failure
            continue


async def gather_facts(providers: Providers, customer_ref: str | None, order_number: str | None, *,
                       tracking_number: str | None = None, carrier: str | None = None,
                       deadline: float | None = None) -> Facts:
    """Look up the customer and the order concurrently, then the order's tracking as soon as the order
    is known (not waiting for the customer). Never raises for a provider's failure.

    - `providers`: a `mocli.providers.registry.Providers` for this run.
    - `customer_ref`: email or CRM id; `order_number`: as the agent typed it ('1001' or '#1001').
      None / "" skips that lookup (its Fact is `skipped`).
    - `tracking_number` / `carrier`: use these instead of the order's (e.g. typed by the agent);
      with no order, tracking is still looked up when `tracking_number` is given.
    - `deadline`: seconds for the whole phase; lookups still running then become ProviderError facts
      ("no answer within N s"), so a slow CRM never holds the agent up for longer.

    HTTP adapters use `mocli.providers.http.current_session()`: run this inside
    `async with http.run_session(...)` (or use `lookup_facts`) so the run's client is shared and closed.
    """
    started = time.monotonic()
    found: dict[str, Fact[Any]] = {}
    tokens_task = asyncio.ensure_future(_warm_carrier_tokens(providers, carrier))
    customer_task = asyncio.ensure_future(_customer(providers, customer_ref))
    chain_task = asyncio.ensure_future(_order_then_tracking(providers, order_number, tracking_number, carrier,
                                                            found))
    tasks = [customer_task, chain_task]
    try:
        _, pending = await asyncio.wait(tasks, timeout=deadline)
    except BaseException:  # Ctrl-C or the caller's cancellation: stop the lookups too
        for t in (*tasks, tokens_task):
            t.cancel()
        raise
    if not tokens_task.done():  # a token no lookup needed this time is not worth the agent's wait
        pending.add(tokens_task)
    for t in pending:
        t.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)

    def late(name: str) -> Fact[Any]:
        return Fact(name, error=ProviderError(f"no answer for the {name} within {deadline:g} s"),
                    seconds=time.monotonic() - started)

    customer = customer_task.result() if customer_task.done() and not customer_task.cancelled() \
        else late("customer")
    order = found.get("order") or late("order")
    tracking = found.get("tracking") or late("tracking")
    _fill_sources(providers, customer, order, tracking)
    return Facts(customer, order, tracking, time.monotonic() - started,
                 timings={f.name: f.seconds for f in (customer, order, tracking)})


def _fill_sources(providers: Providers, *facts: Fact[Any]) -> None:
    names = {"customer": providers.cfg.settings.providers.customers, "order": providers.cfg.settings.providers.orders}
    for f in facts:
        if f.failed and not f.source:
            f.source = names.get(f.name, "")


def lookup_facts(providers: Providers, customer_ref: str | None, order_number: str | None, *,
                 tracking_number: str | None = None, carrier: str | None = None,
                 deadline: float | None = None) -> Facts:
    """`gather_facts` from sync code: runs the event loop and the run's HTTP session, then closes both."""

    async def run() -> Facts:
        from mocli.providers import http

        async with http.run_session(deadline=deadline + 5 if deadline else 300.0,
                                    token_cache=http.TokenCache.in_data_dir()):
            return await gather_facts(providers, customer_ref, order_number, tracking_number=tracking_number,
                                      carrier=carrier, deadline=deadline)

    return asyncio.run(run())
