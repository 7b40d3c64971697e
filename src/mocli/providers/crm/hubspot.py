"""HubSpot CRM v3: a contact by email (the search endpoint) or id, tier from a contact property.
Settings: `[providers.settings.hubspot]`, see docs/providers.md.

Shapes: `POST /crm/v3/objects/contacts/search` with an `email EQ` filter -> `{"total": n, "results":
[contact]}`; `GET /crm/v3/objects/contacts/{id}?properties=a,b` -> a contact: `{"id": "...",
"properties": {...}, "createdAt": ..., "archived": false}`; only the named properties come back.
A 404 carries `{"status": "error", "category": "OBJECT_NOT_FOUND", ...}`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from mocli.errors import InvalidInput, NotFound
from mocli.models import Customer
from mocli.providers import http
from mocli.providers.crm.common import CRM_KEYS, CrmAdapter, SeveralMatches, address, first_last, parse_date, text

NAME = "hubspot"
ALLOWED = CRM_KEYS | {"token_env", "tier_property", "notes_property", "since_property"}
# hs_language: the contact's preferred language ("fr", "fr-ca"), for messages in their language.
_STANDARD = ("email", "hs_additional_emails", "firstname", "lastname", "phone", "createdate", "address", "city",
             "state", "zip", "country", "hs_language")


class HubSpotProvider(CrmAdapter):
    """Customers from HubSpot contacts."""

    name = NAME
    allowed = frozenset(ALLOWED)
    # HubSpot allows 100-190 requests per 10 s per app; stay well under it.
    default_rate = 9.0

    def __init__(self, settings: dict[str, Any], tiers: Iterable[str]) -> None:
        super().__init__(settings, tiers)
        s = self.s
        self.base_url = (s.get("base_url") or "https://api.hubapi.com").rstrip("/")
        self.headers = {"Authorization": f"Bearer {s.secret('token_env', 'private app access token')}"}
        self.tier_property = s.get("tier_property")
        self.notes_property = s.get("notes_property")
        self.since_property = s.get("since_property")
        extra = [p for p in (self.tier_property, self.notes_property, self.since_property) if p]
        self.properties = ",".join(dict.fromkeys([*_STANDARD, *extra]))

    async def find_customer(self, ref: str) -> Customer:
        """A contact by email (the search endpoint) or numeric record id; NotFound if HubSpot has none."""
        ref = ref.strip()
        if "@" in ref:
            return await self._by_email(ref)
        if not ref.isdigit():
            raise InvalidInput(f"{NAME}: {ref!r} is neither an email nor a HubSpot contact id")
        resp = await self.get_found(f"/crm/v3/objects/contacts/{quote(ref, safe='')}", f"no contact {ref}",
                                    params={"properties": self.properties})
        return self._customer(resp.data, ref)

    async def _by_email(self, email: str) -> Customer:
        """``POST /crm/v3/objects/contacts/search`` with an email filter: the address stays out of URLs and logs."""
        body = {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}],
                "properties": self.properties.split(","), "limit": 2}
        # A search only reads, so the POST may be retried like a GET.
        resp = await self._client().post("/crm/v3/objects/contacts/search", json=body, idempotent=True,
                                         accept=(200, 404))
        if resp.status == 404:
            raise NotFound(f"{NAME}: no contact {email}")
        results = http.dig(resp.data, "results", provider=NAME, expect=list)
        if not results:
            raise NotFound(f"{NAME}: no contact {email}")
        if len(results) > 1:  # HubSpot keeps emails unique per contact; two means the data is not as documented
            raise SeveralMatches(NAME, "contact", email, [str(r.get("id")) for r in results if isinstance(r, dict)])
        return self._customer(results[0], email)

    def _customer(self, data: Any, ref: str) -> Customer:
        props = http.dig(data, "properties", provider=NAME, expect=dict)
        tier_value = props.get(self.tier_property) if self.tier_property else None
        # A multiple-checkbox property holds its options separated by ';'.
        if isinstance(tier_value, str) and ";" in tier_value:
            tier_value = [v for v in tier_value.split(";") if v.strip()]
        contact_id = str(http.dig(data, "id", provider=NAME))
        # A contact may lack a name or a primary email: fall back to the other identifiers HubSpot
        # holds, and record what is missing so the agent sees it (never silent blanks).
        missing = []
        email = text(props.get("email"))
        if email is None:
            others = [e for e in (text(x) for x in str(props.get("hs_additional_emails") or "").split(";")) if e]
            email = others[0] if others else (ref if "@" in ref else "")
            missing.append("primary email" if email else "email")
        name = first_last(props.get("firstname"), props.get("lastname"))
        if not name:
            missing.insert(0, "name")
            name = email or text(props.get("phone")) or f"HubSpot contact {contact_id}"
        since = props.get(self.since_property) if self.since_property else None
        return Customer(
            id=contact_id,
            email=email,
            name=name,
            tier=self.tiers.resolve(value=tier_value, what=f"property {self.tier_property}"),
            phone=text(props.get("phone")),
            since=parse_date(since or props.get("createdate") or data.get("createdAt"), NAME, "contact createdate"),
            notes=text(props.get(self.notes_property)) if self.notes_property else None,
            address=address(props.get("address"), None, props.get("city"), props.get("state"), props.get("zip"),
                            _country(props.get("country"))),
            locale=text(props.get("hs_language")),
            source=NAME,
            missing=missing,
        )


def _country(value: Any) -> str | None:
    """HubSpot's country is free text: a two-letter code upper-cased, 'United States' as US, else as written."""
    s = text(value)
    if s is None:
        return None
    if len(s) == 2:
        return s.upper()
    return "US" if s.casefold() in ("united states", "usa", "united states of america") else s
