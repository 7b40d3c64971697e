"""The macros mocli tells agents to apply, as Zendesk macros with their replies as dynamic content in
every configured language; and how they differ from the helpdesk's. Pure: no I/O, no prompts.

Shapes (Zendesk Support API): a macro is `{"title", "active", "description", "actions": [{"field",
"value"}]}`; a dynamic content item is `{"name", "default_locale_id", "variants": [{"locale_id",
"default", "active", "content"}]}` and Zendesk names its placeholder `{{dc.<name>}}`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mocli import locales
from mocli.errors import ConfigError

if TYPE_CHECKING:
    from mocli.config import Config

# mocli placeholders Zendesk can fill itself; the others become a [marker] the agent replaces (or a
# ticket field placeholder named in providers.settings.zendesk.placeholders).
ZENDESK_PLACEHOLDERS = {
    "first_name": "{{ticket.requester.first_name}}",
    "customer_name": "{{ticket.requester.name}}",
    "agent": "{{current_user.name}}",
}
# Zendesk's locale ids for the shipped languages, from its API reference (en-US 1, Spanish 2, French 16);
# others come from providers.settings.zendesk.locale_ids, or from the helpdesk itself (`macros diff`).
DOCUMENTED_LOCALE_IDS = {"en": 1, "en-US": 1, "es": 2, "fr": 16}
MANAGED_FIELDS = ("comment_value", "status", "current_tags")
MARKER_TAG = "mocli"
_NAME = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass
class Text:
    """One outcome's or resolution's reply: default text and one per configured locale."""

    section: str
    key: str
    macro: str
    item: str  # the dynamic content item's name; Zendesk's placeholder is {{dc.<item>}}
    texts: dict[str, str]  # locale tag -> text, the default locale first


def has_blanks(reply: str) -> bool:
    """Whether a reply still has a [marker] for a fact only mocli knows (an exported macro's reply)."""
    from mocli.templates import PLACEHOLDERS

    return any(f"[{name}]" in reply for name in PLACEHOLDERS)


def item_name(section: str, key: str) -> str:
    return f"mocli_{section[:-1]}_{key}"


def zendesk_text(source: str, placeholders: dict[str, str]) -> str:
    """A checked mocli template as Zendesk text: {{ first_name }} -> {{ticket.requester.first_name}}."""
    table = {**ZENDESK_PLACEHOLDERS, **placeholders}
    return _NAME.sub(lambda m: table.get(m.group(1), f"[{m.group(1)}]"), source).strip()


def texts(cfg: Config, placeholders: dict[str, str] | None = None) -> list[Text]:
    """Every outcome's and resolution's reply, with its closing, in the default and each configured locale."""
    from mocli.messages import _variant
    from mocli.templates import SECTIONS

    out = []
    for section in SECTIONS:
        for key, outcome in getattr(cfg.messages, section).items():
            by_locale = {cfg.messages.default_locale: f"{outcome.template.strip()}\n\n{cfg.messages.closing.strip()}"}
            for tag in sorted(cfg.messages.locales):
                found = _variant(cfg, section, key, tag)
                if found is not None:  # not yet translated: Zendesk falls back to the default variant
                    template, closing, _ = found
                    by_locale[tag] = f"{template.strip()}\n\n{closing.strip()}"
            out.append(Text(section, key, outcome.macro, item_name(section, key),
                            {tag: zendesk_text(t, placeholders or {}) for tag, t in by_locale.items()}))
    return out


def locale_id(tag: str, ids: dict[str, int]) -> int:
    """Zendesk's id for a locale tag: the tag itself, else its language (en -> en-US is Zendesk's English)."""
    norm = {locales.normalise(k) or k: v for k, v in ids.items()}
    for candidate in locales.fallbacks(tag):
        if candidate in norm:
            return int(norm[candidate])
    same_language = [v for k, v in norm.items() if locales.language(k) == locales.language(tag)]
    if len(set(same_language)) == 1:
        return int(same_language[0])
    raise ConfigError(f"no Zendesk locale id for {tag!r}: add it to providers.settings.zendesk.locale_ids "
                      f"(e.g. locale_ids = {{ {tag} = 1234 }}; GET /api/v2/locales lists them)")


def export(cfg: Config, ids: dict[str, int] | None = None, placeholders: dict[str, str] | None = None,
           skipped: list[str] | None = None) -> dict[str, Any]:
    """`{"macros": [...], "dynamic_content_items": [...]}` in Zendesk's documented shapes.

    `ids` maps locale tags to Zendesk locale ids (default: the documented ones); a locale with no id is
    an error, or, given a `skipped` list, left out and named there (the helpdesk does not have it)."""
    ids = dict(DOCUMENTED_LOCALE_IDS if ids is None else ids)
    all_texts = texts(cfg, placeholders)
    items = []
    default_id = locale_id(cfg.messages.default_locale, ids)
    for t in all_texts:
        variants, seen = [], set()
        for tag, content in t.texts.items():
            try:
                lid = locale_id(tag, ids)
            except ConfigError:
                if skipped is None:
                    raise
                if tag not in skipped:
                    skipped.append(tag)
                continue
            if lid in seen:  # two tags on one Zendesk locale: the first (default, then exact) wins
                continue
            seen.add(lid)
            variants.append({"locale_id": lid, "default": lid == default_id, "active": True, "content": content})
        items.append({"name": t.item, "default_locale_id": default_id, "variants": variants})
    macros = []
    for title in dict.fromkeys(t.macro for t in all_texts):
        users = [t for t in all_texts if t.macro == title]
        primary = users[0]
        settings = cfg.messages.macros.get(title)
        actions = [{"field": "comment_value", "value": f"{{{{dc.{primary.item}}}}}"}]
        if settings is not None and settings.status:
            actions.append({"field": "status", "value": settings.status})
        tags = [MARKER_TAG, *(settings.tags if settings else []), primary.item]
        actions.append({"field": "current_tags", "value": " ".join(dict.fromkeys(tags))})
        others = ", ".join(f"{{{{dc.{t.item}}}}} ({t.section}.{t.key})" for t in users[1:])
        description = (f"Missing-order macro kept in step with mocli (its reply: {primary.section}.{primary.key})."
                       + (f" Other replies for this macro: {others}." if others else ""))
        macros.append({"title": title, "active": True, "description": description, "actions": actions})
    return {"macros": macros, "dynamic_content_items": items}


# ---------------------------------------------------------------- compared with the helpdesk


@dataclass
class Change:
    """One difference between mocli's export and the helpdesk, and what --apply does about it."""

    kind: str  # "missing", "renamed", "changed", "same"
    what: str  # "macro" or "dynamic content"
    name: str  # the title or item name mocli wants
    id: int | None = None  # the helpdesk's object, when there is one
    was: str | None = None  # the helpdesk's title, when renamed
    details: list[str] = field(default_factory=list)
    want: dict[str, Any] = field(default_factory=dict)
    variants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # "create" / "update" lists

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "what": self.what, "name": self.name, "id": self.id, "was": self.was,
                "details": self.details}


def _actions(macro: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for action in macro.get("actions") or []:
        if isinstance(action, dict) and action.get("field") in MANAGED_FIELDS:
            value = action.get("value")
            out[action["field"]] = " ".join(value) if isinstance(value, list) else str(value)
    return out


def _differences(want: dict[str, str], have: dict[str, str]) -> list[str]:
    out = []
    for name in MANAGED_FIELDS:
        a, b = want.get(name), have.get(name)
        if name == "current_tags":
            missing = sorted(set((a or "").split()) - set((b or "").split()))
            if missing:
                out.append(f"tags missing: {' '.join(missing)}")
        elif a != b:
            out.append(f"{name.replace('comment_value', 'reply')}: {b!r} -> {a!r}")
    return out


def diff(exported: dict[str, Any], active: list[dict[str, Any]], items: list[dict[str, Any]]) -> list[Change]:
    """What differs: macros missing, renamed (found by their reply or tag) or changed; dynamic content
    items missing or with variants to add or update."""
    changes: list[Change] = []
    by_title = {m.get("title"): m for m in active}
    for want in exported["macros"]:
        wanted = _actions(want)
        have = by_title.get(want["title"])
        if have is None:
            # A title edited by hand in the helpdesk: the same reply placeholder, or mocli's own tag.
            item_tag = wanted["current_tags"].split()[-1]
            have = next((m for m in active if m.get("title") not in {w["title"] for w in exported["macros"]}
                         and (_actions(m).get("comment_value") == wanted["comment_value"]
                              or item_tag in _actions(m).get("current_tags", "").split())), None)
            if have is None:
                changes.append(Change("missing", "macro", want["title"], want=want))
                continue
            changes.append(Change("renamed", "macro", want["title"], id=have.get("id"), was=have.get("title"),
                                  details=_differences(wanted, _actions(have)), want=want))
            continue
        details = _differences(wanted, _actions(have))
        changes.append(Change("changed" if details else "same", "macro", want["title"], id=have.get("id"),
                              details=details, want=want))
    by_name = {i.get("name"): i for i in items}
    for want in exported["dynamic_content_items"]:
        have = by_name.get(want["name"])
        if have is None:
            changes.append(Change("missing", "dynamic content", want["name"], want=want,
                                  details=[f"{len(want['variants'])} variant(s)"]))
            continue
        current = {v.get("locale_id"): v for v in have.get("variants") or [] if isinstance(v, dict)}
        create, update, details = [], [], []
        for variant in want["variants"]:
            old = current.get(variant["locale_id"])
            if old is None:
                create.append(variant)
                details.append(f"locale {variant['locale_id']}: missing")
            elif (old.get("content") or "").strip() != variant["content"].strip():
                update.append({**variant, "id": old.get("id")})
                details.append(f"locale {variant['locale_id']}: text differs")
        changes.append(Change("changed" if details else "same", "dynamic content", want["name"], id=have.get("id"),
                              details=details, want=want, variants={"create": create, "update": update}))
    return changes


def helpdesk_locale_ids(zendesk_locales: list[dict[str, Any]], configured: dict[str, int]) -> dict[str, int]:
    """Locale ids from the helpdesk's own list (`GET /api/v2/locales`), the documented ones it has
    (its English is en-US), and the configured `locale_ids` over both."""
    live = {}
    for loc in zendesk_locales:
        tag = locales.normalise(loc.get("locale"))
        if tag and isinstance(loc.get("id"), int):
            live[tag] = loc["id"]
    documented = {k: v for k, v in DOCUMENTED_LOCALE_IDS.items() if v in live.values()}
    return {**documented, **live, **configured}
