"""FedEx Track API: ``POST /track/v1/trackingnumbers`` (the number travels in the body, not the URL)."""

from __future__ import annotations

from typing import Any

from mocli.errors import InvalidInput, NotFound, ProviderError
from mocli.models import ProofOfDelivery, Tracking, TrackingEvent  # noqa: TID253
from mocli.providers import http
from mocli.providers.carriers._common import Adapter, Lookup, decode_image, parse_time, place, signer, sort_events
from mocli.tracking import statuses as st

NOT_FOUND_CODES = {"TRACKING.TRACKINGNUMBER.NOTFOUND"}
INVALID_CODES = {"TRACKING.TRACKINGNUMBER.INVALID", "TRACKING.TRACKINGNUMBER.EMPTY"}


class FedexAdapter(Adapter):
    name = "fedex"
    keys = frozenset({"client_id_env", "client_secret_env"})
    default_base_url = "https://apis.fedex.com"
    default_concurrency = 8

    def check_secrets(self) -> None:
        self.client_id = self.secret("client_id_env", "Track API key")
        self.client_secret = self.secret("client_secret_env", "Track API secret key")

    def oauth_client(self) -> http.ProviderClient:
        return self.client(oauth=http.OAuthClientCredentials(
            token_url="/oauth/token", client_id=self.client_id, client_secret=self.client_secret, auth_style="body"))

    async def lookup(self, number: str, carrier: str | None = None, proof: bool = False) -> Lookup:
        client = self.oauth_client()
        body = {"includeDetailedScans": True,
                "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": number}}]}
        # A tracking query only reads, so retrying the POST is safe.
        resp = await client.post("/track/v1/trackingnumbers", json=body, idempotent=True, accept=(200, 400, 404))
        if resp.status != 200:
            raise _error(resp.data, number, resp.status)
        result = http.dig(resp.data, "output", "completeTrackResults", 0, "trackResults", 0,
                          provider=self.name, expect=dict)
        err = result.get("error")
        # FedEx may put an error (e.g. some data unavailable) beside a full result: the result stands.
        has_result = any(result.get(k) for k in ("latestStatusDetail", "scanEvents", "dateAndTimes"))
        if isinstance(err, dict) and err.get("code") and not has_result:
            raise _error({"errors": [err]}, number, 200)
        lookup = parse_result(result, number)
        if proof and lookup.tracking.status == "delivered" and lookup.tracking.proof_of_delivery \
                and lookup.tracking.proof_of_delivery.signature_available:
            lookup.files += await self._signature(client, number)
        return lookup

    async def _signature(self, client: http.ProviderClient, number: str) -> list[Any]:
        body = {"trackDocumentDetail": {"documentType": "SIGNATURE_PROOF_OF_DELIVERY", "documentFormat": "PNG"},
                "trackDocumentSpecification": [{"trackingNumberInfo": {"trackingNumber": number}}]}
        resp = await client.post("/track/v1/trackingdocuments", json=body, idempotent=True, accept=(200, 404))
        if resp.status != 200:
            return []
        docs = (resp.data or {}).get("output", {}).get("documents") or []
        return [f for f in (decode_image(d, "signature") for d in docs if isinstance(d, str)) if f]


def _error(data: Any, number: str, status: int) -> Exception:
    errors = (data or {}).get("errors") if isinstance(data, dict) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code, message = str(first.get("code", "")), str(first.get("message", f"HTTP {status}"))
    if code in INVALID_CODES:
        return InvalidInput(f"fedex: {number} is not a valid FedEx tracking number ({message})")
    if code in NOT_FOUND_CODES or status == 404:
        return NotFound(f"fedex: no tracking for {number} ({message})")
    return ProviderError(f"fedex: {code or status}: {message}")


def _location(loc: Any) -> str | None:
    if not isinstance(loc, dict):
        return None
    return place(loc.get("city"), loc.get("stateOrProvinceCode"), loc.get("countryCode"))


def parse_result(r: dict[str, Any], number: str) -> Lookup:
    """A FedEx ``trackResults[]`` item (documented shape) as our Tracking."""
    events = []
    for ev in r.get("scanEvents") or []:
        if not isinstance(ev, dict):
            raise ProviderError("fedex: a scan event in the response is not an object")
        at = parse_time(ev.get("date"), "fedex")
        if at is None:
            continue
        code = ev.get("derivedStatusCode") or ev.get("eventType")
        desc = str(ev.get("eventDescription") or "").strip()
        if ev.get("exceptionDescription"):
            desc = f"{desc}: {ev['exceptionDescription']}".strip(": ")
        events.append(TrackingEvent(at=at, status=st.first((st.FEDEX, ev.get("eventType")), (st.FEDEX, code)),
                                    description=desc, location=_location(ev.get("scanLocation")),
                                    raw_code=ev.get("eventType")))
    events = sort_events(events)
    latest = r.get("latestStatusDetail") or {}
    status = st.first((st.FEDEX, latest.get("code")), (st.FEDEX, latest.get("derivedCode")))
    times = {d.get("type"): d.get("dateTime") for d in r.get("dateAndTimes") or [] if isinstance(d, dict)}
    delivered_at = parse_time(times.get("ACTUAL_DELIVERY"), "fedex") if status == "delivered" else None
    details = r.get("deliveryDetails") or {}
    pod = None
    if status == "delivered":
        signed = signer(details.get("signedByName"))
        pod = ProofOfDelivery(
            photo_available=False,  # FedEx's picture proof is not part of the Track API response
            signature_available=signed is not None or any(
                (o.get("type") == "SPOD" or o.get("type") == "SIGNATURE_PROOF_OF_DELIVERY")
                for o in r.get("availableImages") or [] if isinstance(o, dict)),
            received_by=signed or signer(details.get("receivedByName")),
            location_note=(details.get("locationDescription") or "").strip() or None)
    window = (r.get("estimatedDeliveryTimeWindow") or {}).get("window") or {}
    window = window if isinstance(window, dict) else {}
    # A window replaces the single estimate: its end is when the parcel is late, its start is shown too.
    estimate_end = parse_time(window.get("ends"), "fedex") or parse_time(times.get("ESTIMATED_DELIVERY"), "fedex")
    estimate_start = parse_time(window.get("begins"), "fedex") if window.get("ends") else None
    tracking = Tracking(
        tracking_number=str((r.get("trackingNumberInfo") or {}).get("trackingNumber") or number), carrier="fedex",
        status=status, raw_status=latest.get("code"), raw_description=latest.get("description"),
        estimated_delivery=estimate_end, estimated_delivery_from=estimate_start, delivered_at=delivered_at,
        delivered_location=pod.location_note if pod else None, events=events, proof_of_delivery=pod,
        source="fedex")
    return Lookup(tracking)
