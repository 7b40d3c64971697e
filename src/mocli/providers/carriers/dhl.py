"""DHL Shipment Tracking - Unified: ``GET /track/shipments?trackingNumber=...`` with a ``DHL-API-Key``."""

from __future__ import annotations

import re
from typing import Any

from mocli.errors import InvalidInput, NotFound, ProviderError
from mocli.models import ProofOfDelivery, Tracking, TrackingEvent  # noqa: TID253
from mocli.providers import http
from mocli.providers.carriers._common import Adapter, Lookup, parse_time, place, signer, sort_events
from mocli.tracking import statuses as st

# A DHL time without an offset is the local time of the event's place: kept as such (no zone), never
# read as UTC or as the machine's zone.
LOCAL = None


SAYS_DELIVERED = re.compile(r"(?<![-\w])(?<!not )(?<!be )(?<!being )(?<!un)delivered\b", re.IGNORECASE)


class DhlAdapter(Adapter):
    name = "dhl"
    keys = frozenset({"api_key_env", "service"})
    default_base_url = "https://api-eu.dhl.com"
    default_concurrency = 1
    default_rate = 1.0  # starter keys: 1 call per second, 250 a day

    def check_secrets(self) -> None:
        self.api_key = self.secret("api_key_env", "API key")

    async def lookup(self, number: str, carrier: str | None = None, proof: bool = False) -> Lookup:
        client = self.client(headers={"DHL-API-Key": self.api_key})
        params = {"trackingNumber": number}
        if service := self.settings.get("service"):
            params["service"] = str(service)
        resp = await client.get("/track/shipments", params=params, accept=(200, 400, 404))
        if resp.status != 200:
            raise _problem(resp.data, number, resp.status)
        shipment = http.dig(resp.data, "shipments", 0, provider=self.name, expect=dict)
        return parse_shipment(shipment, number)


def _problem(data: Any, number: str, status: int) -> Exception:
    """DHL errors are RFC 7807 problem documents: {title, status, detail}."""
    d = data if isinstance(data, dict) else {}
    text = str(d.get("detail") or d.get("title") or f"HTTP {status}")
    if status == 404:
        return NotFound(f"dhl: no tracking for {number} ({text})")
    if status == 400:
        return InvalidInput(f"dhl: {number} is not a valid DHL tracking number ({text})")
    return ProviderError(f"dhl: HTTP {status}: {text}")


def _event(ev: Any) -> TrackingEvent | None:
    if not isinstance(ev, dict):
        raise ProviderError("dhl: an event in the response is not an object")
    at = parse_time(ev.get("timestamp"), "dhl", default_tz=LOCAL)
    if at is None:
        return None
    addr = (ev.get("location") or {}).get("address") or {}
    return TrackingEvent(at=at, status=st.first((st.DHL, ev.get("statusCode"))),
                         description=str(ev.get("description") or ev.get("status") or "").strip(),
                         location=place(addr.get("addressLocality"), addr.get("countryCode")),
                         raw_code=ev.get("statusCode"))


def parse_shipment(s: dict[str, Any], number: str) -> Lookup:
    """A DHL ``shipments[]`` item (documented shape) as our Tracking."""
    events = sort_events([e for e in (_event(ev) for ev in s.get("events") or []) if e])
    if "status" not in s:  # the documented shape always has the current status: not "unknown" by accident
        raise ProviderError("dhl: the response is not what its documentation says (no shipments[0].status)")
    current = s.get("status") or {}
    if not isinstance(current, dict):
        raise ProviderError("dhl: status in the response is not an object")
    status = st.first((st.DHL, current.get("statusCode")))
    pod_raw = (s.get("details") or {}).get("proofOfDelivery") or {}
    delivered_at = None
    pod = None
    if status == "delivered":
        delivered_at = parse_time(pod_raw.get("timestamp") or current.get("timestamp"), "dhl", default_tz=LOCAL)
        signed = pod_raw.get("signed") or {}
        pod = ProofOfDelivery(photo_available=False, signature_available=bool(pod_raw.get("signatureUrl")),
                              received_by=signer(signed.get("name") if isinstance(signed, dict) else None),
                              location_note=None)
    cur_ev = _event(current) if current.get("timestamp") else None
    flags = []
    text = " ".join(str(current.get(k) or "") for k in ("status", "description"))
    if status != "delivered" and SAYS_DELIVERED.search(text):
        # The status code decides, but a contradiction is shown to the agent rather than trusted silently.
        flags.append(f"dhl: the text says delivered ({current.get('description') or current.get('status')!s}) "
                     f"but the status code is {current.get('statusCode')}: check with DHL before acting on either")
    tracking = Tracking(
        tracking_number=str(s.get("id") or number), carrier="dhl", status=status,
        raw_status=current.get("statusCode"), raw_description=current.get("description") or current.get("status"),
        estimated_delivery=parse_time(s.get("estimatedTimeOfDelivery"), "dhl", default_tz=LOCAL),
        delivered_at=delivered_at,
        delivered_location=cur_ev.location if cur_ev and delivered_at else None, events=events,
        proof_of_delivery=pod, source="dhl", flags=flags)
    return Lookup(tracking)
