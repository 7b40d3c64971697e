"""`mocli track` output: the JSON object per number (schema in docs/track.md) and the Rich views."""

from __future__ import annotations

from typing import Any

from mocli.lookups.tracking import Result
from mocli.tracking.detect import CARRIERS, tracking_page


def _iso(dt: Any) -> str | None:
    return dt.isoformat() if dt is not None else None


def to_json(r: Result) -> dict[str, Any]:
    """One number as the documented JSON object (stable keys; absent values are null)."""
    t = r.tracking
    pod = t.proof_of_delivery if t is not None else None
    return {
        "tracking_number": r.number,
        "input": r.input,
        "carrier": r.carrier,
        "status": t.status if t is not None else None,
        "raw_status": t.raw_status if t is not None else None,
        "raw_description": t.raw_description if t is not None else None,
        "estimated_delivery": _iso(t.estimated_delivery) if t is not None else None,
        "estimated_delivery_from": _iso(t.estimated_delivery_from) if t is not None else None,
        "delivered_at": _iso(t.delivered_at) if t is not None else None,
        "delivered_location": t.delivered_location if t is not None else None,
        "events": [
            {"at": _iso(e.at), "status": e.status, "description": e.description, "location": e.location,
             "raw_code": e.raw_code}
            for e in (t.events if t is not None else [])
        ],
        "proof_of_delivery": None if pod is None else {
            "photo_available": pod.photo_available,
            "signature_available": pod.signature_available,
            "received_by": pod.received_by,
            "location_note": pod.location_note,
            "gps": {"lat": pod.gps.lat, "lon": pod.gps.lon} if pod.gps else None,
        },
        "proof_files": r.saved,
        "source": t.source if t is not None else None,
        "flags": list(t.flags) if t is not None else [],
        "candidates": [c.as_json() for c in r.detection.candidates or r.detection.mistyped],
        "error": None if r.error_code is None else {"code": r.error_code, "message": r.error_message},
        "tracking_page": tracking_page(r.carrier, r.number) if t is not None else None,
        "situation": None if r.situation is None else {"state": str(r.situation[0]), "reason": r.situation[1]},
    }


def render(r: Result) -> Any:
    """A Rich renderable for one number: status, timeline and proof, or what went wrong."""
    from rich.console import Group
    from rich.text import Text

    from mocli import render as rd

    if r.tracking is None:
        head = Text.assemble((" FAILED ", "reverse bold red"), "  ", rd.t(r.number or r.input, "bold"))
        parts: list[Any] = [head, rd.t(r.error_message or "", "red")]
        if r.detection.candidates and len(r.detection.candidates) > 1:
            parts.append(rd.t("could be: " + ", ".join(
                f"{CARRIERS.get(c.carrier, c.carrier)} ({c.confidence:.0%})" for c in r.detection.candidates)))
        return Group(*parts, Text(""))
    parts = [rd.tracking_panel(r.tracking, r.situation)]
    if r.tracking.status == "delivered" or r.tracking.proof_of_delivery is not None:
        parts.append(rd.delivery_panel(r.tracking))
    if r.saved:
        parts.append(rd.t("proof saved: " + ", ".join(r.saved), "dim"))
    if len(r.detection.candidates) > 1:
        parts.append(rd.t("carrier detected from the number among: " + ", ".join(
            f"{CARRIERS.get(c.carrier, c.carrier)} ({c.confidence:.0%})" for c in r.detection.candidates)
            + "; use --carrier to choose", "dim"))
    return Group(*parts)


def columns(now: Any) -> list[Any]:
    """`mocli track` as rows (tsv, csv, markdown): the number never cut, the last scan last."""
    from mocli.render.output import Column

    def last(r: Result) -> Any:
        return r.tracking.events[0] if r.tracking.events else None

    return [
        Column("Tracking number", lambda r: r.number),
        Column("Carrier", lambda r: r.carrier),
        Column("Status", lambda r: r.tracking.status),
        Column("Late", lambda r: str(r.situation[0]) if r.situation else None, drop=5),
        Column("Estimated delivery", lambda r: _iso(r.tracking.estimated_delivery), drop=2),
        Column("Delivered", lambda r: _iso(r.tracking.delivered_at), drop=1),
        Column("Last scan", lambda r: _iso(last(r).at) if last(r) else None, drop=3),
        Column("Where", lambda r: last(r).location if last(r) else None, drop=4),
        Column("Event", lambda r: last(r).description if last(r) else None, wrap=True),
    ]
