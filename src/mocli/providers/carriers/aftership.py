"""AfterShip Tracking, the aggregator: any carrier, API version pinned in the config (``api_version``).

Written for version 2024-10 and later: ``data`` holds the result itself, lists are cursor-paginated,
``courier_estimated_delivery_date`` replaces ``expected_delivery``. A number AfterShip does not follow
yet is not found, unless ``auto_create = true`` (opt-in): then it is added with ``POST /trackings`` and
read like any other. Opt-in because adding counts against the account's quota and a long-expired number
would be added only to say nothing.
"""

from __future__ import annotations

from typing import Any

from mocli.errors import ConfigError, InvalidInput, NotFound, ProviderError
from mocli.models import Gps, ProofOfDelivery, Tracking, TrackingEvent  # noqa: TID253
from mocli.providers import http
from mocli.providers.carriers._common import Adapter, Lookup, parse_time, place, signer, sort_events
from mocli.tracking import statuses as st

SUPPORTED_VERSIONS = ("2024-10", "2025-01", "2025-04", "2025-07")
# Our carrier ids -> AfterShip courier slugs.
SLUGS = {"ups": "ups", "fedex": "fedex", "usps": "usps", "dhl": "dhl", "amazon": "amazon",
         "ontrac": "ontrac", "lasership": "lasership", "royalmail": "royal-mail", "canadapost": "canada-post"}


class AftershipAdapter(Adapter):
    name = "aftership"
    keys = frozenset({"api_key_env", "api_version", "auto_create"})
    default_base_url = "https://api.aftership.com"
    default_concurrency = 10

    def check_secrets(self) -> None:
        self.api_key = self.secret("api_key_env", "API key")
        self.version = str(self.settings.get("api_version") or "2024-10")
        if self.version not in SUPPORTED_VERSIONS:
            raise ConfigError(f"settings.toml: providers.settings.aftership.api_version: {self.version!r} is not "
                              f"one mocli speaks (known: {', '.join(SUPPORTED_VERSIONS)})")

    async def lookup(self, number: str, carrier: str | None = None, proof: bool = False) -> Lookup:
        client = self.client(headers={"as-api-key": self.api_key})
        base = f"/tracking/{self.version}/trackings"
        params = {"tracking_numbers": number}
        if carrier and carrier in SLUGS:
            params["slug"] = SLUGS[carrier]
        resp = await client.get(base, params=params, accept=(200, 400, 404))
        if resp.status != 200:
            raise _error(resp.data, number, resp.status)
        trackings = http.dig(resp.data, "data", "trackings", provider=self.name, expect=list)
        if not trackings:
            if self.settings.get("auto_create") is not True:
                raise NotFound(f"aftership: {number} is not followed in AfterShip (set auto_create = true in "
                               "providers.settings.aftership to add numbers it does not follow)")
            body: dict[str, Any] = {"tracking_number": number}
            if "slug" in params:
                body["slug"] = params["slug"]
            # Creating is a write: never retried (idempotent=False), so it cannot happen twice.
            created = await client.post(base, json=body, accept=(200, 201, 400, 404, 409, 422))
            if created.status not in (200, 201):
                raise _error(created.data, number, created.status)
            item = http.dig(created.data, "data", provider=self.name, expect=dict)
        else:
            item = _ours(trackings, number, params.get("slug"))
        return parse_tracking(item, number, carrier)


def _ours(trackings: list[Any], number: str, slug: str | None) -> dict[str, Any]:
    """The tracking that is this parcel: same number, and same courier when one was asked for.

    AfterShip can answer a query with other trackings of the account; taking the first one once showed
    another customer's parcel as delivered. Anything else is not found, never a guess.
    """
    from mocli.tracking.detect import normalise

    wanted = normalise(number)
    others = []
    for item in trackings:
        if not isinstance(item, dict):
            raise ProviderError("aftership: a tracking in the response is not an object")
        if normalise(str(item.get("tracking_number") or "")) != wanted:
            continue
        if slug and item.get("slug") and item.get("slug") != slug:
            others.append(str(item.get("slug")))
            continue
        return item
    if others:
        raise NotFound(f"aftership: {number} is followed only as {', '.join(others)}, not {slug}")
    raise NotFound(f"aftership: no tracking for {number} (AfterShip answered with other parcels only)")


def _error(data: Any, number: str, status: int) -> Exception:
    meta = (data or {}).get("meta") if isinstance(data, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    code, message = meta.get("code"), str(meta.get("message") or f"HTTP {status}")
    if status == 404 or code == 4004:
        return NotFound(f"aftership: no tracking for {number} ({message})")
    if status in (400, 422) or code in (4005, 4012, 4013):
        return InvalidInput(f"aftership: {number} was refused as a tracking number ({message})")
    return ProviderError(f"aftership: {code or status}: {message}")


def _status(tag: Any, subtag: Any) -> str:
    return st.first((st.AFTERSHIP_SUBTAG, subtag), (st.AFTERSHIP_TAG, tag))


def parse_tracking(t: dict[str, Any], number: str, carrier: str | None = None) -> Lookup:
    """An AfterShip tracking object (documented shape) as our Tracking."""
    events = []
    last_gps = None
    for cp in t.get("checkpoints") or []:
        if not isinstance(cp, dict):
            raise ProviderError("aftership: a checkpoint in the response is not an object")
        at = parse_time(cp.get("checkpoint_time"), "aftership")
        if at is None:
            continue
        events.append(TrackingEvent(
            at=at, status=_status(cp.get("tag"), cp.get("subtag")), description=str(cp.get("message") or "").strip(),
            location=cp.get("location") or place(cp.get("city"), cp.get("state"), cp.get("country_iso3")),
            raw_code=cp.get("subtag") or cp.get("tag")))
    events = sort_events(events)
    status = _status(t.get("tag"), t.get("subtag"))
    delivered = status == "delivered"
    if delivered:
        for cp in t.get("checkpoints") or []:
            coord = cp.get("coordinate") or {}
            if cp.get("tag") == "Delivered" and coord.get("latitude") is not None:
                try:
                    last_gps = Gps(lat=float(coord["latitude"]), lon=float(coord["longitude"]))
                except (KeyError, TypeError, ValueError):
                    last_gps = None
    est = t.get("courier_estimated_delivery_date") or {}
    latest = t.get("latest_estimated_delivery") or {}
    estimated = parse_time(latest.get("datetime") or latest.get("datetime_max") or
                           (est.get("estimated_delivery_date") if isinstance(est, dict) else None), "aftership")
    pod = None
    if delivered:
        who = signer(t.get("signed_by"))
        note = t.get("subtag_message") if t.get("subtag") == "Delivered_005" else None
        if who is None and isinstance(t.get("signed_by"), str) and t["signed_by"].strip():
            note = "; ".join(x for x in (note, t["signed_by"].strip()) if x)  # "Signature not required": a note
        pod = ProofOfDelivery(photo_available=False, signature_available=who is not None, received_by=who,
                              location_note=note, gps=last_gps)
    slug = str(t.get("slug") or "")
    ours = {v: k for k, v in SLUGS.items()}.get(slug, carrier or slug or "unknown")
    tracking = Tracking(
        tracking_number=str(t.get("tracking_number") or number), carrier=ours, status=status,
        raw_status=t.get("subtag") or t.get("tag"), raw_description=t.get("subtag_message"),
        estimated_delivery=estimated,
        delivered_at=parse_time(t.get("shipment_delivery_date"), "aftership") if delivered else None,
        delivered_location=events[0].location if delivered and events else None, events=events,
        proof_of_delivery=pod, source="aftership")
    return Lookup(tracking)
