"""The wizard's lookup phase (`mocli.lookups`) and the registry's CRM / order-system names."""

from __future__ import annotations

import asyncio
import time
from datetime import date

import pytest

from mocli.errors import ConfigError, NotFound, ProviderError
from mocli.lookups import Facts, gather_facts, lookup_facts
from mocli.providers.registry import Providers


@pytest.fixture
def providers(cfg):
    return Providers(cfg, date(2026, 11, 27))


def test_demo_lookups_find_all_three_and_say_where_from(providers):
    facts = lookup_facts(providers, "ava.thompson@example.com", "1001")
    assert facts.customer.ok and facts.order.ok and facts.tracking.ok
    assert facts.order.value.number == "#1001" and facts.tracking.value.tracking_number == "1Z4E57A20368154024"
    assert facts.sources() == {"customer": "demo", "order": "demo", "tracking": "demo"}
    assert facts.errors() == {}


class Slow:
    """A provider that answers after `delay` seconds and notes when it was asked."""

    def __init__(self, name, delay, value=None, error=None):
        self.name, self.delay, self.value, self.error = name, delay, value, error
        self.started = self.finished = None

    async def _answer(self):
        self.started = time.monotonic()
        await asyncio.sleep(self.delay)
        self.finished = time.monotonic()
        if self.error:
            raise self.error
        return self.value


def fake(providers, monkeypatch, customer, order, tracker):
    demo = providers.demo.demo
    customer.value = demo.customer("C-1001").model_copy(update={"source": customer.name})
    order.value = demo.order("#1001").model_copy(update={"source": order.name})
    tracker.value = demo.tracking("1Z4E57A20368154024").model_copy(update={"source": tracker.name})
    customer.find_customer = lambda ref: customer._answer()
    order.find_order = lambda number: order._answer()
    tracker.track = lambda number, carrier=None: tracker._answer()

    async def lookup(number, carrier=None, proof=False):  # the one tracking protocol (providers/base.py)
        from mocli.providers.base import Lookup

        return Lookup(await tracker._answer())

    tracker.lookup = lookup
    monkeypatch.setattr(providers, "customers", lambda: customer)
    monkeypatch.setattr(providers, "orders", lambda: order)
    monkeypatch.setattr(providers, "tracking", lambda carrier: tracker)


def test_customer_and_order_start_together_and_tracking_does_not_wait_for_the_customer(providers, monkeypatch):
    customer, order, tracker = Slow("crm", 0.4), Slow("shop", 0.05), Slow("ups", 0.05)
    fake(providers, monkeypatch, customer, order, tracker)
    facts = asyncio.run(gather_facts(providers, "ava.thompson@example.com", "#1001"))
    assert abs(customer.started - order.started) < 0.05
    assert order.finished <= tracker.started < customer.finished  # tracking began while the CRM was busy
    assert facts.elapsed < 0.4 + 0.15  # the slowest chain, not the sum (0.5)
    assert facts.sources() == {"customer": "crm", "order": "shop", "tracking": "ups"}


def test_a_failing_provider_is_recorded_not_raised(providers, monkeypatch):
    customer = Slow("zendesk", 0, error=ProviderError("zendesk: HTTP 503 from /api/v2/users/search.json"))
    fake(providers, monkeypatch, customer, Slow("shopify", 0), Slow("ups", 0))
    facts = asyncio.run(gather_facts(providers, "ava.thompson@example.com", "#1001"))
    assert facts.customer.failed and not facts.customer.ok and facts.customer.source == "zendesk"
    assert "HTTP 503" in facts.customer.describe()
    assert facts.order.ok and facts.tracking.ok
    assert set(facts.errors()) == {"customer"} and "customer" not in facts.sources()


def test_not_found_is_told_apart_from_a_provider_failure(providers, monkeypatch):
    fake(providers, monkeypatch, Slow("crm", 0), Slow("shop", 0, error=NotFound("shopify: no order #9")),
         Slow("ups", 0))
    facts = asyncio.run(gather_facts(providers, "ava.thompson@example.com", "#9"))
    assert facts.order.not_found and facts.tracking.skipped and facts.tracking.note == "no tracking number known"


def test_a_bug_in_an_adapter_becomes_a_provider_error(providers, monkeypatch):
    fake(providers, monkeypatch, Slow("crm", 0, error=KeyError("email")), Slow("shop", 0), Slow("ups", 0))
    facts = asyncio.run(gather_facts(providers, "ava.thompson@example.com", "#1001"))
    assert isinstance(facts.customer.error, ProviderError) and "KeyError" in str(facts.customer.error)
    assert isinstance(facts.customer.error.__cause__, KeyError)


def test_a_missing_secret_is_recorded_naming_the_variable(providers, cfg, monkeypatch):
    monkeypatch.delenv("NO_SUCH_SHOPIFY_TOKEN", raising=False)
    cfg.settings.providers.customers = "shopify"
    cfg.settings.providers.settings["shopify"] = {"shop": "example", "token_env": "NO_SUCH_SHOPIFY_TOKEN"}
    facts = asyncio.run(gather_facts(providers, "ava.thompson@example.com", "#1001"))
    assert isinstance(facts.customer.error, ConfigError) and "NO_SUCH_SHOPIFY_TOKEN" in str(facts.customer.error)
    assert facts.customer.source == "shopify"
    assert facts.order.ok  # orders still come from the demo


def test_deadline_turns_a_hung_lookup_into_an_error(providers, monkeypatch):
    fake(providers, monkeypatch, Slow("crm", 30), Slow("shop", 0), Slow("ups", 0))
    started = time.monotonic()
    facts = asyncio.run(gather_facts(providers, "ava.thompson@example.com", "#1001", deadline=0.2))
    assert time.monotonic() - started < 1.0
    assert facts.customer.failed and "within 0.2 s" in str(facts.customer.error)
    assert facts.customer.source == "demo"  # the configured customer provider
    assert facts.order.ok and facts.tracking.ok  # what did answer is kept


def test_order_without_tracking_number_skips_tracking(providers, monkeypatch):
    order = Slow("shop", 0)
    fake(providers, monkeypatch, Slow("crm", 0), order, Slow("ups", 0))
    order.value = order.value.model_copy(update={"tracking_number": None})
    facts = asyncio.run(gather_facts(providers, "ava.thompson@example.com", "#1001"))
    assert facts.tracking.skipped and "no tracking number" in facts.tracking.describe()


def test_agent_typed_tracking_number_is_used_without_an_order(providers):
    facts = asyncio.run(gather_facts(providers, "ava.thompson@example.com", None,
                                     tracking_number="1Z4E57A20368154024", carrier="UPS"))
    assert facts.order.skipped and facts.tracking.ok and facts.tracking.source == "demo"


def test_facts_slowest_and_timings(providers):
    facts = lookup_facts(providers, "ava.thompson@example.com", "1001")
    assert isinstance(facts, Facts) and facts.slowest == max(facts.timings.values())


# ------------------------------------------------------------------ registry names


def test_registry_builds_the_configured_crm_and_order_system(providers, cfg, monkeypatch):
    monkeypatch.setenv("TEST_TOKEN", "t")
    cfg.settings.providers.settings.update({
        "shopify": {"shop": "example", "token_env": "TEST_TOKEN"},
        "hubspot": {"token_env": "TEST_TOKEN"},
        "zendesk": {"subdomain": "example", "email": "api@example.com", "token_env": "TEST_TOKEN"},
        "generic": {"base_url": "http://127.0.0.1:1", "order_url": "/o/{number}"},
    })
    for name in ("shopify", "zendesk", "hubspot", "generic"):
        cfg.settings.providers.customers = name
        assert providers.customers().name == name
    for name in ("shopify", "generic"):
        cfg.settings.providers.orders = name
        assert providers.orders().name == name
    cfg.settings.providers.orders = "hubspot"
    with pytest.raises(ConfigError, match="providers.orders: unknown provider 'hubspot'"):
        providers.orders()
    cfg.settings.providers.customers = "salesforce"
    with pytest.raises(ConfigError, match="known: demo, shopify, zendesk, hubspot, generic"):
        providers.customers()
    assert providers.prior_claims() == []


def test_one_table_names_every_provider_by_role():
    from mocli.providers import registry

    assert registry.known("customers") == ["demo", "shopify", "zendesk", "hubspot", "generic"]
    assert registry.known("orders") == ["demo", "shopify", "generic"]
    assert registry.known("tracking") == ["demo", "ups", "fedex", "usps", "dhl", "aftership"]
    assert registry.known("helpdesk") == ["zendesk"]
    # A name known for another role is still unknown for this one, with the same one-line error.
    with pytest.raises(ConfigError, match=r"providers.tracking: unknown provider 'shopify' \(known: demo, ups, "):
        registry.make("shopify", "tracking", {})
    with pytest.raises(ConfigError, match=r"providers.orders: unknown provider 'ups' \(known: demo, shopify, gen"):
        registry.make("ups", "orders", {})


def test_the_table_imports_no_provider_until_one_is_made():
    import subprocess
    import sys

    heavy = ("mocli.providers.crm", "mocli.providers.carriers", "httpx")
    code = ("import sys, mocli.providers.registry as r; r.known('tracking'); "
            f"print(sorted(m for m in sys.modules if m.startswith({heavy!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_config_check_lists_the_providers_mocli_knows(cli):
    r = cli("config", "check")
    assert r.code == 0, r.err
    assert ("providers mocli knows: customers: demo, shopify, zendesk, hubspot, generic; orders: demo, shopify, "
            "generic; tracking: demo, ups, fedex, usps, dhl, aftership") in r.err


def test_every_provider_in_the_table_answers_its_roles():
    from importlib import import_module

    from mocli.providers.registry import PROVIDERS

    methods = {"customers": "find_customer", "orders": "find_order", "tracking": "lookup",
               "helpdesk": "post_case_to_ticket"}
    for name, entry in PROVIDERS.items():
        module, _, attr = entry.factory.partition(":")
        cls = getattr(import_module(module), attr)
        assert cls.name == name and callable(cls.configured)
        assert all(callable(getattr(cls, methods[role], None)) for role in entry.roles), name
