"""One normalisation of a delivery address, shared by the fraud rules, the wizard and the report."""

from __future__ import annotations

from typing import Any


def address_key(address: dict[str, Any] | None) -> str | None:
    """Street, unit, postal code and country, lower-cased, punctuation and extra spaces removed."""
    if not address:
        return None
    raw = (f"{address.get('line1') or ''} {address.get('line2') or ''} {address.get('postal_code') or ''} "
           f"{address.get('country') or 'US'}")
    return " ".join("".join(c for c in raw.lower() if c.isalnum() or c.isspace()).split())
