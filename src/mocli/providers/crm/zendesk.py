"""Zendesk Support API: customers (users, their organisation for B2B accounts) and, for
`mocli new-case --ticket ID`, an internal note and the case's macro on that ticket.
Settings: `[providers.settings.zendesk]`, see docs/providers.md.

Shapes: `GET /api/v2/users/search.json?query=email:...` -> `{"users": [...]}`, `GET /api/v2/users/{id}.json`
-> `{"user": {...}}`, `GET /api/v2/organizations/{id}.json` -> `{"organization": {...}}`, macros by
`GET /api/v2/macros/active.json`, `GET /api/v2/tickets/{id}/macros/{macro_id}/apply.json` -> `{"result":
{"ticket": {...}, "comment": {...}}}` (a preview), applied with `PUT /api/v2/tickets/{id}.json`.

For `mocli macros diff --apply`: `GET /api/v2/macros/active` -> `{"macros": [...], "next_page"}`, `POST
/api/v2/macros` / `PUT /api/v2/macros/{id}` with `{"macro": {...}}`; `GET /api/v2/locales` -> `{"locales":
[{"id", "locale"}]}`; `GET /api/v2/dynamic_content/items` -> `{"items": [{"id", "name", "placeholder",
"default_locale_id", "variants": [{"id", "locale_id", "default", "content"}]}]}`, `POST` there with
`{"item": {...}}`, variants by `POST .../items/{id}/variants` and `PUT .../items/{id}/variants/{variant_id}`
with `{"variant": {...}}`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from mocli.errors import ConfigError, InvalidInput, NotFound, ProviderError
from mocli.models import Customer
from mocli.providers import http
from mocli.providers.crm.common import CRM_KEYS, CrmAdapter, SeveralMatches, parse_date, text

NAME = "zendesk"
ALLOWED = CRM_KEYS | {"subdomain", "email", "email_env", "token_env", "tier_field",
                                   "organization_tier_field", "organization_tier", "macro_ids", "macro_pages",
                                   "locale_ids", "placeholders"}
# Fields a macro preview returns that describe the ticket rather than change it.
_READ_ONLY = {"id", "url", "created_at", "updated_at", "via", "requester", "submitter_id", "comment"}


class ZendeskProvider(CrmAdapter):
    """Customers from Zendesk Support users; notes and macros on tickets."""

    name = NAME
    allowed = frozenset(ALLOWED)

    def __init__(self, settings: dict[str, Any], tiers: Iterable[str]) -> None:
        super().__init__(settings, tiers)
        s = self.s
        self.base_url = self.hosted_base_url(
            "subdomain", "zendesk.com", 'your Zendesk subdomain, e.g. subdomain = "example" for example.zendesk.com')
        agent_email = s.get("email") or (s.secret("email_env", "API user's email") if s.get("email_env") else None)
        if not agent_email:
            raise ConfigError(f"{s.where('email')}: required: the email of the Zendesk user the API token belongs "
                              "to (or email_env naming an environment variable that holds it)")
        token = s.secret("token_env", "API token")
        # Zendesk API tokens use Basic auth with '{email}/token' as the user name.
        self.headers = http.basic_auth_header(f"{agent_email}/token", token)
        self.tier_field = s.get("tier_field")
        self.org_tier_field = s.get("organization_tier_field")
        self.org_tier = s.get("organization_tier")
        if self.org_tier is not None and self.org_tier not in self.tiers.known:
            raise ConfigError(f"{s.where('organization_tier')}: {self.org_tier!r} is not a tier in tiers.toml")
        self.macro_ids = {str(k): v for k, v in s.table("macro_ids").items()}
        for title, mid in self.macro_ids.items():
            if not isinstance(mid, int) or isinstance(mid, bool):
                raise ConfigError(f"{s.where('macro_ids')}: the id for {title!r} must be a number")
        # Zendesk's Support API allows 200-700 requests a minute by plan; the default few at once is plenty.
        self.macro_pages = s.get("macro_pages", 10, int)

    # ------------------------------------------------------------------ customers

    async def find_customer(self, ref: str) -> Customer:
        """A user by email (search) or numeric id, with their organisation; NotFound / SeveralMatches."""
        ref = ref.strip()
        client = self._client()
        if "@" in ref:
            resp = await client.get("/api/v2/users/search.json", params={"query": f"email:{ref}"})
            users = http.dig(resp.data, "users", provider=NAME, expect=list)
            matches = [u for u in users
                       if isinstance(u, dict) and str(u.get("email") or "").casefold() == ref.casefold()]
            if not matches:
                raise NotFound(f"{NAME}: no user with email {ref}")
            if len(matches) > 1:
                raise SeveralMatches(NAME, "customer", ref, [str(u.get("id")) for u in matches])
            user = matches[0]
        elif ref.isdigit():
            resp = await self.get_found(f"/api/v2/users/{ref}.json", f"no user with id {ref}")
            user = http.dig(resp.data, "user", provider=NAME, expect=dict)
        else:
            raise InvalidInput(f"{NAME}: {ref!r} is neither an email nor a Zendesk user id")
        org = None
        if user.get("organization_id"):
            org = await self._organization(client, user["organization_id"])
        return self._customer(user, org)

    async def _organization(self, client: http.ProviderClient, org_id: Any) -> dict[str, Any] | None:
        resp = await client.get(f"/api/v2/organizations/{int(org_id)}.json", accept=(200, 404))
        if resp.status == 404:
            return None  # the user points at a deleted organisation: the user is still the customer
        return http.dig(resp.data, "organization", provider=NAME, expect=dict)

    def _customer(self, user: dict[str, Any], org: dict[str, Any] | None) -> Customer:
        fields = user.get("user_fields") or {}
        org_fields = (org or {}).get("organization_fields") or {}
        if not isinstance(fields, dict) or not isinstance(org_fields, dict):
            raise ProviderError(f"{NAME}: the response is not what its documentation says (user_fields)")
        value = fields.get(self.tier_field) if self.tier_field else None
        what = f"user field {self.tier_field}"
        if value in (None, "") and self.org_tier_field:
            value, what = org_fields.get(self.org_tier_field), f"organisation field {self.org_tier_field}"
        tags = list(user.get("tags") or []) + list((org or {}).get("tags") or [])
        # A member of an organisation is a business account unless a field or tag says otherwise.
        tier = self.tiers.resolve(value=value, tags=tags, what=what,
                                  default=self.org_tier if org is not None else None)
        notes = [text(user.get("notes")), text(user.get("details"))]
        if org is not None:
            org_notes = "; ".join(n for n in (text(org.get("notes")), text(org.get("details"))) if n)
            org_name = text(org.get("name")) or org.get("id")
            notes.append(f"Organisation: {org_name}" + (f": {org_notes}" if org_notes else ""))
        return Customer(
            id=str(http.dig(user, "id", provider=NAME)),
            email=text(user.get("email")) or "",
            name=text(user.get("name")) or text(user.get("email")) or "",
            tier=tier,
            phone=text(user.get("phone")),
            since=parse_date(user.get("created_at"), NAME, "user created_at"),
            notes="\n".join(n for n in notes if n) or None,
            locale=text(user.get("locale")),
            source=NAME,
        )

    # ------------------------------------------------------------------ tickets

    async def macro_id(self, macro: str | int) -> int:
        """A macro's id: a number as is, a title from `macro_ids` in the config, else from the active macros."""
        if isinstance(macro, int) or str(macro).strip().isdigit():
            return int(macro)
        title = str(macro)
        if title in self.macro_ids:
            return int(self.macro_ids[title])
        async for macros in self._each_page("/api/v2/macros/active.json", "macros"):
            found = [m for m in macros if m.get("title") == title]
            if len(found) > 1:
                raise SeveralMatches(NAME, "macro", title, [str(m.get("id")) for m in found])
            if found:
                return int(http.dig(found[0], "id", provider=NAME))
        raise NotFound(f"{NAME}: no active macro titled {title!r}; create it in Zendesk or map its id in "
                       "providers.settings.zendesk.macro_ids")

    async def post_case_to_ticket(self, ticket_id: str | int, note: str, macro: str | int,
                                  reply: str | None = None) -> dict[str, Any]:
        """Add `note` as an internal note on the ticket, then apply `macro` (id or title).

        A macro reply with blanks for facts only mocli knows (one from `mocli macros export`) is sent as
        `reply`, the case's own message, complete and in the customer's language.

        The macro is resolved and previewed first (no change on the ticket yet); then one update adds
        the note and another sends the macro's changes. Returns exactly what was sent.
        """
        tid = str(ticket_id).strip().lstrip("#")
        if not tid.isdigit():
            raise InvalidInput(f"{NAME}: ticket id {ticket_id!r} must be a number")
        client = self._client()
        mid = await self.macro_id(macro)
        resp = await self.get_found(f"/api/v2/tickets/{tid}/macros/{mid}/apply.json",
                                    f"no ticket {tid} or no macro {mid}")
        result = http.dig(resp.data, "result", provider=NAME, expect=dict)
        preview = result.get("ticket") or {}
        if not isinstance(preview, dict):
            raise ProviderError(f"{NAME}: the response is not what its documentation says (result.ticket)")
        # The preview may be the whole ticket as it would be after the macro: send only what differs,
        # so fields another agent changed meanwhile are not written back.
        current = await self.get_found(f"/api/v2/tickets/{tid}.json", f"no ticket {tid}")
        now = http.dig(current.data, "ticket", provider=NAME, expect=dict)
        changes = {k: v for k, v in preview.items() if k not in _READ_ONLY and now.get(k) != v}
        comment = result.get("comment") or preview.get("comment")
        if isinstance(comment, dict) and text(comment.get("body") or comment.get("html_body")):
            changes["comment"] = {k: comment[k] for k in ("body", "html_body", "public") if k in comment}
            from mocli.macros import has_blanks

            if reply and has_blanks(str(comment.get("body") or comment.get("html_body"))):
                changes["comment"] = {"body": reply, "public": comment.get("public", True)}
        note_update = {"ticket": {"comment": {"body": note, "public": False}}}
        await self._update(client, tid, note_update)
        macro_update = {"ticket": changes}
        if changes:
            await self._update(client, tid, macro_update)
        return {"ticket": tid, "macro_id": mid, "macro": str(macro), "note": note_update,
                "macro_changes": macro_update if changes else None}

    async def _update(self, client: http.ProviderClient, tid: str, body: dict[str, Any]) -> None:
        # Adding a comment is not idempotent: a timed-out update may have landed, so never resend it blindly.
        await _send_change(client, "PUT", f"/api/v2/tickets/{tid}.json", body, idempotent=False,
                           missing=f"no ticket {tid}", refused=f"ticket {tid} refused the update",
                           limited=f"updating ticket {tid}")


    # ------------------------------------------------------------------ macros and dynamic content

    async def _each_page(self, path: str, key: str) -> AsyncIterator[list[dict[str, Any]]]:
        """The objects of a paginated list, a page at a time (`next_page` links on this helpdesk only, at
        most macro_pages), so a search can stop at the page that answers it."""
        client = self._client()
        nxt: str | None = path
        for _ in range(self.macro_pages):
            if nxt is None:
                break
            resp = await client.get(nxt)
            yield [o for o in http.dig(resp.data, key, provider=NAME, expect=list) if isinstance(o, dict)]
            link = resp.data.get("next_page") if isinstance(resp.data, dict) else None
            nxt = link if isinstance(link, str) and link.startswith(self.base_url) else None

    async def _pages(self, path: str, key: str) -> list[dict[str, Any]]:
        """Every object of a paginated list."""
        return [o async for page in self._each_page(path, key) for o in page]

    async def active_macros(self) -> list[dict[str, Any]]:
        return await self._pages("/api/v2/macros/active", "macros")

    async def locales(self) -> list[dict[str, Any]]:
        """The account's locales: `{"id": 16, "locale": "fr", ...}`."""
        return await self._pages("/api/v2/locales", "locales")

    async def dynamic_content_items(self) -> list[dict[str, Any]]:
        return await self._pages("/api/v2/dynamic_content/items", "items")

    async def create_macro(self, macro: dict[str, Any]) -> dict[str, Any]:
        return await self._write("POST", "/api/v2/macros", {"macro": macro}, "macro")

    async def update_macro(self, macro_id: int, macro: dict[str, Any]) -> dict[str, Any]:
        return await self._write("PUT", f"/api/v2/macros/{int(macro_id)}", {"macro": macro}, "macro")

    async def create_dynamic_content(self, item: dict[str, Any]) -> dict[str, Any]:
        return await self._write("POST", "/api/v2/dynamic_content/items", {"item": item}, "item")

    async def create_variant(self, item_id: int, variant: dict[str, Any]) -> dict[str, Any]:
        return await self._write("POST", f"/api/v2/dynamic_content/items/{int(item_id)}/variants",
                                 {"variant": variant}, "variant")

    async def update_variant(self, item_id: int, variant_id: int, variant: dict[str, Any]) -> dict[str, Any]:
        return await self._write("PUT", f"/api/v2/dynamic_content/items/{int(item_id)}/variants/{int(variant_id)}",
                                 {"variant": variant}, "variant")

    async def _write(self, method: str, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        """Send one change; a 429 was refused outright, so waiting and sending again is safe (a timed-out
        POST is never resent: it may have landed, and a second one would duplicate it)."""
        resp = await _send_change(self._client(), method, path, body, idempotent=method != "POST",
                                  missing=f"{path} does not exist (deleted in Zendesk meanwhile?)",
                                  refused=f"{path} refused the change", limited=f"sending {path}")
        return http.dig(resp.data, key, provider=NAME, expect=dict)


async def _send_change(client: http.ProviderClient, method: str, path: str, body: dict[str, Any], *,
                       idempotent: bool, missing: str, refused: str, limited: str) -> Any:
    """Send one change to Zendesk and return its answer. A 429 was refused outright, so waiting and
    sending again is safe (a timeout is retried only when `idempotent`: the change may have landed).
    404 is NotFound(`missing`), 422 a ProviderError(`refused`) with Zendesk's reason."""
    for _ in range(4):
        resp = await client.request(method, path, json=body, idempotent=idempotent,
                                    accept=(200, 201, 404, 422, 429))
        if resp.status == 429:
            wait = http.parse_retry_after(resp.headers)
            await client.pause(1.0 if wait is None else wait, resp.url_path)
            continue
        if resp.status == 404:
            raise NotFound(f"{NAME}: {missing}")
        if resp.status == 422:
            data = resp.data if isinstance(resp.data, dict) else {}
            detail = data.get("description") or data.get("error") or data.get("details") or ""
            raise ProviderError(f"{NAME}: {refused}: {str(detail)[:200]}")
        return resp
    raise ProviderError(f"{NAME}: rate limit reached {limited}, even after waiting")
