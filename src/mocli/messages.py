"""Customer messages and macros from the configured templates, rendered in a locked-down sandbox."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from mocli import locales
from mocli.templates import SECTIONS, known_locale, render

if TYPE_CHECKING:
    from mocli.config import Config

def compose(cfg: Config, section: str, key: str, values: dict[str, str]) -> tuple[str, str]:
    """The (macro, full customer message with step 9's closing) in the default language."""
    composed = compose_for(cfg, section, key, choose_locale(cfg, None, None), lambda _: values)
    return composed.macro, composed.message


# ---------------------------------------------------------------- the customer's language


@dataclass(frozen=True)
class LocaleChoice:
    """Which language a customer is written to, and why (stored on the case as `locale`)."""

    requested: str | None  # the customer's locale, normalised (fr-CA), or None when unknown
    source: str | None  # "--locale", or the provider that gave it (zendesk, shopify, hubspot, demo)
    locale: str  # the configured locale whose texts are used, or the default
    format: str  # the locale dates and money are formatted for (fr-CA keeps "1 249,00 $" in fr texts)
    why: str

    def record(self, composed: Composed | None = None) -> dict[str, Any]:
        """The case's `locale`: this choice, and what the message was actually written in."""
        return {"requested": self.requested, "source": self.source,
                "used": composed.locale if composed else self.locale,
                "format": composed.format if composed else self.format, "why": self.why,
                "note": composed.note if composed else None}


@dataclass(frozen=True)
class Composed:
    macro: str
    message: str
    locale: str  # the language the message is actually in
    format: str  # the locale its dates and money were written for
    note: str | None  # set when this outcome had no text in the chosen language


def language_name(tag: str) -> str:
    from babel import Locale  # noqa: TID253

    return Locale.parse(locales.babel_name(tag)).get_display_name("en") or tag


def _from(source: str | None) -> str:
    if source == "--locale":
        return "given with --locale"
    if source == "case":
        return "stored on the case"
    return f"the customer's locale in {source}" if source else "given"


def choose_locale(cfg: Config, requested: str | None, source: str | None) -> LocaleChoice:
    """The customer's locale, falling back region -> language -> the default (fr-CA -> fr -> en)."""
    default = cfg.messages.default_locale
    if not requested:
        return LocaleChoice(None, None, default, default, f"no customer locale known: default {default}")
    tag = locales.normalise(requested)
    if tag is None or not known_locale(tag):
        return LocaleChoice(None, source, default, default,
                            f"{requested[:40]!r} ({_from(source)}) is not a known locale: default {default}")
    where = f"{tag}: {_from(source)}"
    for candidate in locales.fallbacks(tag):
        if candidate in cfg.messages.locales:
            also = "" if candidate == tag else f"; no {tag} texts, {candidate} used"
            return LocaleChoice(tag, source, candidate, tag, where + also)
        if candidate == default or candidate == locales.language(default):
            return LocaleChoice(tag, source, default, tag, f"{where}; the default texts ({default})")
    return LocaleChoice(tag, source, default, default,
                        f"{where}; no {language_name(locales.language(tag))} texts: default {default}")


def _variant(cfg: Config, section: str, key: str, locale: str) -> tuple[str, str, str] | None:
    """(template, closing, locale found in) for the locale or its language; None if neither has it."""
    template = closing = None
    found = locale
    for candidate in locales.fallbacks(locale):
        texts = cfg.messages.locales.get(candidate)
        if texts is None:
            continue
        if template is None and key in getattr(texts, section):
            template, found = getattr(texts, section)[key].template, candidate
        closing = closing if closing is not None else texts.closing
    if template is None or closing is None:
        return None
    return template, closing, found


def _locale_text(cfg: Config, locale: str, name: str) -> str | None:
    """A locale-wide text (`closing_resolved`) from the locale or its language, or None."""
    for candidate in locales.fallbacks(locale):
        texts = cfg.messages.locales.get(candidate)
        if texts is not None and getattr(texts, name) is not None:
            return getattr(texts, name)
    return None


def missing_variants(cfg: Config) -> dict[str, list[str]]:
    """For each configured locale, the outcomes and resolutions that would fall back to the default."""
    out: dict[str, list[str]] = {}
    for tag in sorted(cfg.messages.locales):
        has_closing = any(cfg.messages.locales.get(c) is not None and cfg.messages.locales[c].closing is not None
                          for c in locales.fallbacks(tag))
        missing = [] if has_closing else ["closing"]  # without it, no message can be sent in this language
        missing += [f"{section}.{key}" for section in SECTIONS for key in getattr(cfg.messages, section)
                    if _variant(cfg, section, key, tag) is None]
        if missing:
            out[tag] = missing
    return out


def compose_for(cfg: Config, section: str, key: str, choice: LocaleChoice,
                values_for: Callable[[str], dict[str, str]]) -> Composed:
    """The message in the chosen language; an outcome not yet written in it falls back to the default
    texts with a note for the agent, never a blank. `values_for(locale)` formats the placeholders."""
    outcome = getattr(cfg.messages, section)[key]
    default = cfg.messages.default_locale
    found = _variant(cfg, section, key, choice.locale) if choice.locale != default else None
    # An open case thanks the customer for their patience; a settled one ("found", a resolution) does not.
    settled = section == "resolutions" or key == "found"
    note = None
    if found is None:
        template, used = outcome.template, default
        closing = (outcome.closing or (cfg.messages.closing_resolved if settled else None)
                   or cfg.messages.closing)
        if choice.locale != default:
            note = (f"no {choice.locale} text for {section}.{key} yet: sent in {default} (the default); "
                    "add it under [locales] in messages.toml")
    else:
        template, closing, used = found
        if settled:
            closing = _locale_text(cfg, used, "closing_resolved") or closing
    # Dates and money follow the customer's region when the text is in their language (fr-CA: "1 249,00 $").
    fmt = choice.format if locales.language(choice.format) == locales.language(used) else used
    values = values_for(fmt)
    return Composed(outcome.macro, f"{render(template, values)}\n\n{render(closing, values)}", used, fmt, note)


# ---------------------------------------------------------------- CLDR formatting (Babel)


def date_text(day: date, locale: str) -> str:
    """The weekday and date as the locale writes them: 'Thursday, December 3', 'jeudi 3 décembre'."""
    from babel import Locale  # noqa: TID253
    from babel.dates import format_date  # noqa: TID253

    loc = Locale.parse(locales.babel_name(locale))
    # CLDR's month-day-weekday pattern, with the weekday written out in full.
    pattern = re.sub(r"E+", "EEEE", loc.datetime_skeletons["MMMMEd"].pattern)
    return format_date(day, pattern, locale=loc)


def money_text(amount: float, currency: str, locale: str) -> str:
    """'$389.00', '1 249,00 $' (fr-CA, CAD), '1.249,00 CAD' (es)."""
    from babel.numbers import format_currency  # noqa: TID253

    return format_currency(amount, currency, locale=locales.babel_name(locale))


# The default texts' words for an unknown fact; [locales.X] words = {...} replaces them.
WORDS = {"soon": "soon", "as_soon_as_possible": "as soon as possible",
         "still_being_prepared": "it is still being prepared", "our_carrier": "our carrier", "not_available": "n/a",
         # whom "Hi …," greets when a business has no contact person, and a carrier exception without words
         "no_contact_name": "there", "no_tracking": "no tracking is available",
         "delivery_exception": "a delivery exception"}


def word(cfg: Config, locale: str, key: str) -> str:
    """An unknown fact in the message's language: 'our carrier', 'notre transporteur'."""
    for candidate in locales.fallbacks(locale):
        texts = cfg.messages.locales.get(candidate)
        if texts is not None and key in texts.words:
            return texts.words[key]
    return WORDS[key]


def count_text(cfg: Config, amount: float, unit: str, locale: str) -> str | None:
    """'2 jours ouvrables' from [locales.fr.sla], by the locale's plural rules; None if not configured."""
    from babel import Locale  # noqa: TID253
    from babel.numbers import format_decimal  # noqa: TID253

    for candidate in locales.fallbacks(locale):
        texts = cfg.messages.locales.get(candidate)
        if texts is not None and unit in texts.sla:
            words = texts.sla[unit]
            n = int(amount) if float(amount).is_integer() else amount
            loc = Locale.parse(locales.babel_name(locale))
            form = words.one if loc.plural_form(n) == "one" and words.one else words.other
            return form.replace("{n}", format_decimal(n, locale=loc))
    return None
