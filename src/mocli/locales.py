"""Locale tags as the support team meets them (fr-CA, fr_ca, es-419): one normal form, no Babel needed."""

from __future__ import annotations

import re

# language[-Script][-REGION]: CRMs send fr-CA, fr_ca, pt-br, zh-Hant-TW, es-419.
_TAG = re.compile(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}))?(?:[-_]([A-Za-z]{2}|[0-9]{3}))?")


def normalise(tag: object) -> str | None:
    """'fr_ca' -> 'fr-CA'; None for anything that is not a locale tag."""
    if not isinstance(tag, str) or not (m := _TAG.fullmatch(tag.strip())):
        return None
    language, script, region = m.groups()
    return "-".join(p for p in (language.lower(), script and script.title(), region and region.upper()) if p)


def language(tag: str) -> str:
    """'fr-CA' -> 'fr'."""
    return tag.split("-", 1)[0]


def fallbacks(tag: str) -> list[str]:
    """The tags to try in order: 'zh-Hant-TW' -> zh-Hant-TW, zh-Hant, zh; 'fr-CA' -> fr-CA, fr."""
    parts = tag.split("-")
    return ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]


def babel_name(tag: str) -> str:
    """'fr-CA' -> 'fr_CA', as Babel spells it."""
    return tag.replace("-", "_")
