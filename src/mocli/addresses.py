"""One normalisation of a delivery address, shared by the fraud rules, the wizard and the report."""

from __future__ import annotations

import re
from typing import Any

# What is neither a letter, a digit nor a space (str.isalnum / str.isspace, Unicode-wide): \w is exactly
# the letters and digits plus "_", \s exactly the spaces. One pass in C, not a Python call per character.
_PUNCTUATION = re.compile(r"[^\w\s]|_")
# The same characters among ASCII, for the common all-ASCII address: bytes.translate deletes them faster still.
_ASCII_PUNCTUATION = bytes(b for b in range(128) if not (chr(b).isalnum() or chr(b).isspace()))


def address_key(address: dict[str, Any] | None) -> str | None:
    """Street, unit, postal code and country, lower-cased, punctuation and extra spaces removed."""
    if not address:
        return None
    raw = (f"{address.get('line1') or ''} {address.get('line2') or ''} {address.get('postal_code') or ''} "
           f"{address.get('country') or 'US'}").lower()
    if raw.isascii():
        kept = raw.encode("ascii").translate(None, _ASCII_PUNCTUATION).decode("ascii")
    else:
        kept = _PUNCTUATION.sub("", raw)
    return " ".join(kept.split())
