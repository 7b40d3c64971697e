"""Each carrier's status codes in our words (the normalised statuses of product.md).

One table per provider, read top to bottom. A code that is in no table becomes ``unknown`` (and the
adapter keeps the raw code and text beside it): we never guess. To teach mocli a new code, add a row.
"""

from __future__ import annotations

STATUSES = (
    "pre_transit", "in_transit", "out_for_delivery", "attempt_failed", "available_for_pickup",
    "delivered", "exception", "return_to_sender", "cancelled", "expired", "unknown",
)

# UPS Track API: `status.type` letters, refined by `status.statusCode` where the type is too coarse.
UPS_TYPE = {
    "M": "pre_transit",       # manifest: label created, not yet with UPS
    "P": "in_transit",        # pickup scan
    "I": "in_transit",
    "O": "out_for_delivery",
    "D": "delivered",
    "X": "exception",
    "RS": "return_to_sender",
    "DO": "delivered",        # delivered to a UPS Access Point and collected
    "MV": "cancelled",        # shipment voided
}
# What each UPS type letter allows the status code to refine it into. When the code says something the
# type does not allow (type I with the "delivered" code 011), the type decides.
UPS_TYPE_REFINES = {
    "D": {"delivered"},
    "I": {"in_transit", "out_for_delivery", "available_for_pickup"},
    "P": {"in_transit"},
    "M": {"pre_transit"},
    "X": {"exception", "attempt_failed", "available_for_pickup", "return_to_sender"},
    "O": {"out_for_delivery"},
    "RS": {"return_to_sender"},
    "DO": {"delivered"},
    "MV": {"cancelled"},
}
UPS_STATUS_CODE = {
    "003": "pre_transit",     # order processed: ready for UPS
    "005": "in_transit",
    "011": "delivered",
    "021": "out_for_delivery",
    "017": "available_for_pickup",  # held for customer pickup / at an Access Point
    "048": "attempt_failed",
}

# FedEx Track API: `latestStatusDetail.code` and `scanEvents[].derivedStatusCode` / `eventType`.
FEDEX = {
    "OC": "pre_transit",      # label created (shipment information sent to FedEx)
    "PU": "in_transit",       # picked up
    "PX": "in_transit",
    "IT": "in_transit",
    "AR": "in_transit",       # arrived at a FedEx location
    "AF": "in_transit",
    "DP": "in_transit",       # departed
    "CC": "in_transit",       # cleared customs
    "OD": "out_for_delivery",
    "DL": "delivered",
    "DE": "exception",        # delivery exception
    "SE": "exception",        # shipment exception
    "CD": "exception",        # clearance delay
    "DD": "exception",        # delivery delay
    "HL": "available_for_pickup",   # hold at location
    "HP": "available_for_pickup",   # ready for recipient pickup
    "RS": "return_to_sender",
    "RP": "return_to_sender", # return label link emailed / return in progress
    "CA": "cancelled",
}

# USPS Tracking v3: `statusCategory`, then `trackingEvents[].eventCode` for single events.
USPS_CATEGORY = {
    "pre-shipment": "pre_transit",
    "accepted": "in_transit",
    "in transit": "in_transit",
    "out for delivery": "out_for_delivery",
    "delivered": "delivered",
    "delivery attempt": "attempt_failed",
    "available for pickup": "available_for_pickup",
    "alert": "exception",
    "return to sender": "return_to_sender",
}

# USPS event codes (the codes USPS publishes for its tracking events), grouped by what they mean.
USPS_EVENT = {
    # pre-shipment: USPS has the label's data, not the parcel
    "MA": "pre_transit",      # pre-shipment info sent to USPS
    "GX": "pre_transit",      # shipping label created, USPS awaiting item (not a cancellation)
    "TM": "pre_transit",      # shipment received, package acceptance pending
    # acceptance
    "03": "in_transit",       # accepted / picked up at USPS
    "OA": "in_transit",       # accepted at USPS origin facility
    "80": "in_transit",       # picked up by shipping partner
    # moving through the network
    "06": "in_transit",       # forwarded
    "07": "in_transit",       # arrived at post office (unit)
    "08": "in_transit",       # missent: rerouted
    "10": "in_transit",       # processed through facility
    "15": "in_transit",       # mis-shipped: rerouted
    "42": "in_transit",       # USPS handoff to shipping partner
    "81": "in_transit",       # arrived at shipping partner facility
    "82": "in_transit",       # departed shipping partner facility
    "A1": "in_transit",       # arrived at USPS facility
    "L1": "in_transit",       # departed USPS facility
    "T1": "in_transit",       # in transit to next facility
    "TL": "in_transit",       # arrived at USPS regional facility / in transit
    "SF": "in_transit",       # departed post office / sorting facility
    "U1": "in_transit",       # arrived at USPS hub
    "PC": "in_transit",       # sorting complete
    # last mile
    "OF": "out_for_delivery",
    "01": "delivered",
    "17": "delivered",        # picked up by agent
    "43": "delivered",        # picked up at the post office
    # attempted, not delivered
    "02": "attempt_failed",   # notice left (no authorized recipient available)
    "51": "attempt_failed",   # business closed
    "53": "attempt_failed",   # receptacle full / item oversized
    "54": "attempt_failed",   # no secure location available
    "55": "attempt_failed",   # no authorized recipient available
    "56": "attempt_failed",   # no access to delivery location
    "57": "attempt_failed",   # animal interference
    # waiting at a post office
    "14": "available_for_pickup",  # arrived at pickup point
    "16": "available_for_pickup",
    "52": "available_for_pickup",  # notice left: held at the post office
    # alerts
    "04": "exception",        # refused
    "05": "exception",        # undeliverable as addressed
    "11": "exception",        # dead mail
    # return to sender and its reasons
    "09": "return_to_sender",
    "21": "return_to_sender",  # no such number
    "22": "return_to_sender",  # insufficient address
    "23": "return_to_sender",  # moved, left no address
    "24": "return_to_sender",  # forward expired
    "25": "return_to_sender",  # addressee unknown
    "26": "return_to_sender",  # vacant
    "27": "return_to_sender",  # unclaimed
    "28": "return_to_sender",  # deceased
    "29": "return_to_sender",
    "31": "return_to_sender",  # not picked up
    "44": "return_to_sender",  # customer recall
}

# DHL Shipment Tracking - Unified: `status.statusCode`.
DHL = {
    "pre-transit": "pre_transit",
    "transit": "in_transit",
    "delivered": "delivered",
    "failure": "exception",
    "unknown": "unknown",
}

# AfterShip: `tag`, refined by `subtag` (which wins when listed).
AFTERSHIP_TAG = {
    "InfoReceived": "pre_transit",
    "InTransit": "in_transit",
    "OutForDelivery": "out_for_delivery",
    "AttemptFail": "attempt_failed",
    "Delivered": "delivered",
    "AvailableForPickup": "available_for_pickup",
    "Exception": "exception",
    "Expired": "expired",
    # "Pending" (AfterShip has no information yet) is deliberately absent: it is `unknown`.
}
AFTERSHIP_SUBTAG = {
    "Exception_010": "return_to_sender",
    "Exception_011": "return_to_sender",
}

TABLES: dict[str, tuple[dict[str, str], ...]] = {
    "ups": (UPS_STATUS_CODE, UPS_TYPE),
    "fedex": (FEDEX,),
    "usps": (USPS_EVENT, USPS_CATEGORY),
    "dhl": (DHL,),
    "aftership": (AFTERSHIP_SUBTAG, AFTERSHIP_TAG),
}


def lookup(table: dict[str, str], code: object) -> str | None:
    """The normalised status for `code` in one table, or None (case-insensitive for text codes)."""
    if code is None:
        return None
    key = str(code).strip()
    if key in table:
        return table[key]
    return table.get(key.lower())


def ups(type_letter: object, status_code: object) -> str:
    """A UPS status from its type letter, refined by its status code only where the type allows it."""
    by_type = lookup(UPS_TYPE, type_letter)
    by_code = lookup(UPS_STATUS_CODE, status_code)
    if by_type is None:
        return by_code or "unknown"
    allowed = UPS_TYPE_REFINES.get(str(type_letter).strip().upper(), {by_type})
    return by_code if by_code in allowed else by_type


def first(*pairs: tuple[dict[str, str], object]) -> str:
    """The first (table, code) pair that maps; ``unknown`` if none does."""
    for table, code in pairs:
        if (status := lookup(table, code)) is not None:
            return status
    return "unknown"
