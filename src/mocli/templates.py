"""The message templates' sandbox: the names a template may use, the checks every template passes at
load, and rendering. Below config (which runs the checks) and messages (which composes with it)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from mocli import locales
from mocli.errors import ConfigError

# Every name a template may use (README, "Message placeholders"). All values are plain strings.
PLACEHOLDERS = {
    "first_name": "the customer's first name",
    "customer_name": "the customer's full name",
    "tier": "the customer's tier",
    "order_number": "the order number",
    "carrier": "the carrier's name",
    "tracking_number": "the tracking number",
    "expected_delivery": "the expected delivery date",
    "new_ship_date": "the new ship date of an order not yet shipped",
    "not_shipped_reason": "why the order has not shipped",
    "follow_up_date": "the follow-up date from the tier's SLA",
    "sla": "the tier's SLA in words, e.g. '2 business days'",
    "case_id": "the case id",
    "agent": "the agent's name",
    "address": "the order's shipping address on one line",
    "customer_address": "the address the customer gave when they did not confirm the order's (else the order's)",
    "amount": "the refunded amount with currency",
    "exception": "the carrier's latest exception, in its words (e.g. 'address correction needed')",
}


# The longest value a placeholder inserts into a customer message: a provider's 5,000-character name
# is cut (with "…", and a note to the agent) so that the message itself is never cut.
MAX_VALUE = 200


def bounded(value: Any) -> str:
    """A placeholder value at most MAX_VALUE characters long."""
    text = str(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def long_values(values: dict[str, Any]) -> list[str]:
    """A note for each value `render` shortens, to show the agent before the message is sent."""
    return [f"{name.replace('_', ' ')} is {len(str(v)):,} characters long: the message uses its first "
            f"{MAX_VALUE} characters; check it before sending"
            for name, v in values.items() if name in PLACEHOLDERS and len(str(v)) > MAX_VALUE]

SECTIONS = ("outcomes", "resolutions")

# "{x}", "{x.__class__}", "{0[1]}": str.format syntax that would otherwise pass through as literal text.
_FORMAT_STYLE = re.compile(r"(?<!\{)\{\s*[A-Za-z_0-9][^{}]*\}(?!\})")


def _environment():
    from jinja2 import StrictUndefined  # noqa: TID253
    from jinja2.sandbox import SandboxedEnvironment, SecurityError  # noqa: TID253

    class NoAttributes(SandboxedEnvironment):
        """Only {{ name }} works: attribute and item access, calls and filters are refused."""

        def getattr(self, obj: Any, attribute: str) -> Any:
            raise SecurityError(f"attribute access is not allowed in templates (.{attribute})")

        def getitem(self, obj: Any, argument: Any) -> Any:
            raise SecurityError("item access is not allowed in templates")

        def call(self, context: Any, obj: Any, *args: Any, **kwargs: Any) -> Any:
            raise SecurityError("calls are not allowed in templates")

    env = NoAttributes(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters.clear()
    env.tests.clear()
    env.globals.clear()
    return env


def _check_one(env: Any, where: str, source: str) -> None:
    from jinja2 import TemplateSyntaxError, meta, nodes  # noqa: TID253

    try:
        ast = env.parse(source)
    except TemplateSyntaxError as exc:
        raise ConfigError(f"{where}: template syntax error: {exc.message}") from None
    for node in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Call, nodes.Filter, nodes.Test)):
        raise ConfigError(
            f"{where}: only plain {{{{ placeholder }}}} names are allowed in templates "
            f"(found {type(node).__name__.lower()} at line {node.lineno})"
        )
    for node in ast.find_all((nodes.For, nodes.Macro, nodes.Import, nodes.FromImport, nodes.Include,
                              nodes.Extends, nodes.Assign, nodes.With, nodes.CallBlock)):
        raise ConfigError(f"{where}: template statements are not allowed (line {node.lineno})")
    if found := _FORMAT_STYLE.search(source):
        raise ConfigError(f"{where}: {found.group(0)!r} looks like a str.format placeholder; templates only "
                          "take {{ name }} with a known name")
    unknown = sorted(meta.find_undeclared_variables(ast) - PLACEHOLDERS.keys())
    if unknown:
        raise ConfigError(f"{where}: unknown placeholder {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(PLACEHOLDERS))})")


def check_templates(messages: Any) -> None:
    """Refuse any template that uses an unknown name, attribute access, calls or statements, and any
    locale variant of an outcome the English table does not have, or of a locale CLDR does not know."""
    env = _environment()
    _check_one(env, "messages.toml: closing", messages.closing)
    if messages.closing_resolved:
        _check_one(env, "messages.toml: closing_resolved", messages.closing_resolved)
    for section in SECTIONS:
        for key, outcome in getattr(messages, section).items():
            _check_one(env, f"messages.toml: {section}.{key}.template", outcome.template)
            if outcome.closing:
                _check_one(env, f"messages.toml: {section}.{key}.closing", outcome.closing)
    for tag, texts in messages.locales.items():
        where = f"messages.toml: locales.{tag}"
        if not known_locale(tag):
            raise ConfigError(f"{where}: CLDR has no locale {tag!r}")
        for name in ("closing", "closing_resolved"):
            if getattr(texts, name) is not None:
                _check_one(env, f"{where}.{name}", getattr(texts, name))
        for section in SECTIONS:
            for key, variant in getattr(texts, section).items():
                if key not in getattr(messages, section):
                    raise ConfigError(f"{where}.{section}.{key}: no English {section[:-1]} {key} to vary "
                                      f"(known: {', '.join(getattr(messages, section))})")
                _check_one(env, f"{where}.{section}.{key}.template", variant.template)


def render(template: str, values: dict[str, str]) -> str:
    """Render a checked template; every value is a string and is inserted literally."""
    from jinja2 import UndefinedError  # noqa: TID253

    env = _environment()
    safe = {k: bounded(v) for k, v in values.items() if k in PLACEHOLDERS}
    try:
        return env.from_string(template).render(**safe).strip()
    except UndefinedError as exc:
        raise ConfigError(f"messages.toml: template needs a value it was not given: {exc.message}") from None


@lru_cache(maxsize=64)
def known_locale(tag: str) -> bool:
    """Whether CLDR (Babel) knows the locale, e.g. fr-CA yes, xx-YY no."""
    from babel import Locale, UnknownLocaleError  # noqa: TID253

    try:
        Locale.parse(locales.babel_name(tag))
    except (UnknownLocaleError, ValueError):
        return False
    return True
