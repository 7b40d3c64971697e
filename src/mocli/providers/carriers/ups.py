"""UPS Track API: ``GET /api/track/v1/details/{inquiryNumber}`` with an OAuth client-credentials token."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from mocli.errors import InvalidInput, NotFound, ProviderError
from mocli.models import ProofOfDelivery, Tracking, TrackingEvent  # noqa: TID253
from mocli.providers import http
from mocli.providers.carriers._common import Adapter, Lookup, decode_image, offset_tz, place, signer, sort_events
from mocli.tracking import statuses as st

# Errors documented for the Track API that mean "this number is wrong" rather than "not found yet".
INVALID_CODES = {"TV1002", "TV1003", "TV1004"}


class UpsAdapter(Adapter):
    name = "ups"
    keys = frozenset({"client_id_env", "client_secret_env"})
    default_base_url = "https://onlinetools.ups.com"
    default_concurrency = 8

    def check_secrets(self) -> None:
        self.client_id = self.secret("client_id_env", "OAuth client id")
        self.client_secret = self.secret("client_secret_env", "OAuth client secret")

    def oauth_client(self) -> http.ProviderClient:
        return self.client(
            headers={"transactionSrc": "mocli"},
            oauth=http.OAuthClientCredentials(token_url="/security/v1/oauth/token", client_id=self.client_id,
                                              client_secret=self.client_secret, auth_style="basic"))

    async def lookup(self, number: str, carrier: str | None = None, proof: bool = False) -> Lookup:
        resp = await self.oauth_client().get(
            f"/api/track/v1/details/{number}",
            params={"locale": "en_US", "returnSignature": str(proof).lower(), "returnPOD": str(proof).lower(),
                    "returnMilestones": "false"},
            headers={"transId": uuid.uuid4().hex[:32]}, accept=(200, 400, 404))
        if resp.status != 200:
            raise _error(resp.data, number, resp.status)
        shipment = http.dig(resp.data, "trackResponse", "shipment", 0, provider=self.name, expect=dict)
        packages = shipment.get("package")
        if not packages:
            warnings = shipment.get("warnings") or []
            text = "; ".join(str(w.get("message", "")) for w in warnings if isinstance(w, dict))
            raise NotFound(f"ups: no tracking for {number}" + (f" ({text})" if text else ""))
        pkg = http.dig(packages, 0, provider=self.name, expect=dict)
        return parse_package(pkg, number, proof)


def _error(data: Any, number: str, status: int) -> Exception:
    errors = []
    if isinstance(data, dict):
        errors = (data.get("response") or {}).get("errors") or []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    code, message = str(first.get("code", "")), str(first.get("message", f"HTTP {status}"))
    if code in INVALID_CODES or (status == 400 and not code):
        return InvalidInput(f"ups: {number} is not a valid UPS tracking number ({code} {message})".replace(" )", ")"))
    if status == 404 or code.startswith("TW"):
        return NotFound(f"ups: no tracking for {number} ({message})")
    return ProviderError(f"ups: {code or status}: {message}")


def _when(date: Any, time: Any, offset: Any) -> datetime | None:
    if not date:
        return None
    text = str(date) + str(time or "000000").ljust(6, "0")[:6]
    try:
        # The documented 14 digits read directly: strptime takes twice as long, for every scan of every parcel.
        base = datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]),
                        int(text[12:])) if len(text) == 14 and text.isascii() and text.isdigit() else None
    except ValueError:  # digits, but no such day or time: strptime says so, as before
        base = None
    try:
        if base is None:
            base = datetime.strptime(text, "%Y%m%d%H%M%S")
    except ValueError:
        raise ProviderError(f"ups: a date in the response is not YYYYMMDD/HHMMSS: {date!r} {time!r}") from None
    return base.replace(tzinfo=offset_tz(offset))


def _status(s: dict[str, Any]) -> str:
    return st.ups(s.get("type"), s.get("statusCode"))


def parse_package(pkg: dict[str, Any], number: str, proof: bool = False) -> Lookup:
    """A UPS ``package`` object (documented shape) as our Tracking."""
    events: list[TrackingEvent] = []
    tz: timezone | None = None
    for act in pkg.get("activity") or []:
        if not isinstance(act, dict):
            raise ProviderError("ups: an activity in the response is not an object")
        s = act.get("status") or {}
        at = _when(act.get("date"), act.get("time"), act.get("gmtOffset"))
        if at is None:
            continue
        tz = tz or at.tzinfo  # type: ignore[assignment]
        addr = (act.get("location") or {}).get("address") or {}
        events.append(TrackingEvent(at=at, status=_status(s), description=str(s.get("description") or "").strip(),
                                    location=place(addr.get("city"), addr.get("stateProvince"), addr.get("country")),
                                    raw_code=s.get("statusCode") or s.get("code") or s.get("type")))
    events = sort_events(events)
    current = pkg.get("currentStatus") or {}
    status = _status(current) if current else "unknown"
    if status == "unknown" and events and not current:
        status = events[0].status
    dates = {d.get("type"): d.get("date") for d in pkg.get("deliveryDate") or [] if isinstance(d, dict)}
    window = pkg.get("deliveryTime") or {}
    estimated = _when(dates.get("RDD") or dates.get("SDD"), window.get("endTime"), None)
    if estimated is not None and tz is not None:
        estimated = estimated.replace(tzinfo=tz)
    delivered_at = None
    if status == "delivered":
        delivered_at = next((e.at for e in events if e.status == "delivered"), None) or \
            _when(dates.get("DEL"), window.get("endTime"), None)
    info = pkg.get("deliveryInformation") or {}
    pod, files = None, []
    if status == "delivered" or info:
        photo = info.get("deliveryPhoto") or {}
        sig = info.get("signature") or {}
        pod = ProofOfDelivery(
            photo_available=bool(photo.get("photo")) or photo.get("photoCaptureInd") == "Y",
            signature_available=bool(sig.get("image")),
            received_by=signer(info.get("receivedBy")),
            location_note=(info.get("location") or "").strip() or None,
        )
        if proof:
            files = [f for f in (decode_image(photo.get("photo"), "photo"), decode_image(sig.get("image"), "signature"),
                                 decode_image((info.get("pod") or {}).get("content"), "pod")) if f]
    tracking = Tracking(
        tracking_number=str(pkg.get("trackingNumber") or number), carrier="ups", status=status,
        raw_status=current.get("statusCode") or current.get("code") or current.get("type"),
        raw_description=current.get("description"), estimated_delivery=estimated, delivered_at=delivered_at,
        delivered_location=pod.location_note if pod and delivered_at else None, events=events,
        proof_of_delivery=pod, source="ups")
    return Lookup(tracking, files)
