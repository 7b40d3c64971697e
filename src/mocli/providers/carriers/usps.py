"""USPS Tracking v3: ``GET /tracking/v3/tracking/{number}?expand=DETAIL`` with an OAuth token."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mocli.errors import InvalidInput, NotFound, ProviderError
from mocli.models import ProofOfDelivery, Tracking, TrackingEvent  # noqa: TID253
from mocli.providers import http
from mocli.providers.carriers._common import Adapter, Lookup, offset_tz, parse_time, place, sort_events
from mocli.tracking import statuses as st


class UspsAdapter(Adapter):
    name = "usps"
    keys = frozenset({"client_id_env", "client_secret_env"})
    default_base_url = "https://apis.usps.com"
    default_concurrency = 4

    def check_secrets(self) -> None:
        self.client_id = self.secret("client_id_env", "OAuth consumer key")
        self.client_secret = self.secret("client_secret_env", "OAuth consumer secret")

    def oauth_client(self) -> http.ProviderClient:
        return self.client(oauth=http.OAuthClientCredentials(
            token_url="/oauth2/v3/token", client_id=self.client_id, client_secret=self.client_secret,
            scope="tracking", auth_style="body"))

    async def lookup(self, number: str, carrier: str | None = None, proof: bool = False) -> Lookup:
        resp = await self.oauth_client().get(f"/tracking/v3/tracking/{number}", params={"expand": "DETAIL"},
                                accept=(200, 400, 404))
        if resp.status != 200:
            raise _error(resp.data, number, resp.status)
        if not isinstance(resp.data, dict) or not any(k in resp.data for k in ("statusCategory", "trackingEvents")):
            raise ProviderError("usps: the response is not what its documentation says "
                                "(no statusCategory or trackingEvents)")
        return parse_tracking(resp.data, number)


# USPS's "status not available" codes: a label USPS has not scanned yet (or not yet in its system). The
# number is fine; there is simply no tracking yet, which is common early in a missing-order call.
NOT_YET_AVAILABLE = {"150001", "150002", "150009"}


def plain(text: Any) -> str:
    """USPS error text without its HTML (``<SUP>&reg;</SUP>``): what an agent can read."""
    import html
    import re

    return " ".join(html.unescape(re.sub(r"<[^>]*>", "", str(text or ""))).split())


def _error(data: Any, number: str, status: int) -> Exception:
    err = (data or {}).get("error") if isinstance(data, dict) else None
    err = err if isinstance(err, dict) else {}
    details = [e for e in err.get("errors") or [] if isinstance(e, dict)]
    first = details[0] if details else {}
    message = plain(err.get("message")) or f"HTTP {status}"
    reason = plain(first.get("detail") or first.get("title")) or message
    if status == 400 and str(first.get("code") or "") in NOT_YET_AVAILABLE:
        return NotFound(f"usps: status not yet available for {number} ({reason})")
    if status == 404:
        return NotFound(f"usps: no tracking for {number} ({message})")
    if status == 400:
        return InvalidInput(f"usps: {number} is not a valid USPS tracking number ({reason})")
    return ProviderError(f"usps: HTTP {status}: {message}")


def event_time(ev: dict[str, Any]) -> datetime | None:
    """When a USPS event happened, in the local time of its place.

    ``eventTimestamp`` is the local clock with no zone; ``GMTTimestamp`` is the same moment in GMT and
    ``GMTOffset`` the place's offset. Without the GMT fields the local time is kept without an offset.
    """
    local_zone = offset_tz(ev.get("GMTOffset"), None)
    if gmt := parse_time(ev.get("GMTTimestamp"), "usps"):
        return gmt.astimezone(local_zone) if local_zone else gmt
    return parse_time(ev.get("eventTimestamp"), "usps", default_tz=local_zone)


def parse_tracking(d: dict[str, Any], number: str) -> Lookup:
    """A USPS v3 tracking response (documented shape) as our Tracking."""
    events = []
    events_raw = d.get("trackingEvents") or []
    if not isinstance(events_raw, list):
        raise ProviderError("usps: trackingEvents in the response is not a list")
    for ev in events_raw:
        if not isinstance(ev, dict):
            raise ProviderError("usps: a tracking event in the response is not an object")
        at = event_time(ev)
        if at is None:
            continue
        events.append(TrackingEvent(
            at=at, status=st.first((st.USPS_EVENT, ev.get("eventCode"))), description=str(ev.get("eventType") or ""),
            location=place(ev.get("eventCity"), ev.get("eventState"), ev.get("eventZIP"), ev.get("eventCountry")),
            raw_code=ev.get("eventCode")))
    events = sort_events(events)
    status = st.first((st.USPS_CATEGORY, d.get("statusCategory")),
                      (st.USPS_EVENT, events[0].raw_code if events else None))
    delivered = next((e for e in events if e.status == "delivered"), None) if status == "delivered" else None
    pod = None
    if delivered is not None:
        raw = next((ev for ev in events_raw if isinstance(ev, dict) and ev.get("eventCode") == delivered.raw_code
                    and event_time(ev) == delivered.at), {})
        who = " ".join(str(x) for x in (raw.get("name"), raw.get("firm")) if x).strip() or None
        note = delivered.description.partition(",")[2].strip() or None  # "Delivered, Front Door/Porch"
        pod = ProofOfDelivery(photo_available=False, signature_available=bool(raw.get("name")),
                              received_by=who, location_note=note)
    tracking = Tracking(
        tracking_number=str(d.get("trackingNumber") or number), carrier="usps", status=status,
        raw_status=d.get("statusCategory") or d.get("status"), raw_description=d.get("statusSummary"),
        estimated_delivery=parse_time(d.get("expectedDeliveryTimeStamp"), "usps", default_tz=None),
        delivered_at=delivered.at if delivered else None,
        delivered_location=delivered.location if delivered else None, events=events, proof_of_delivery=pod,
        source="usps")
    return Lookup(tracking)
