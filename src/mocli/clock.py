"""The current time, in one place. MOCLI_NOW (ISO 8601) pins it for demos and tests."""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

from mocli.errors import InvalidInput


def now(timezone: str = "UTC") -> datetime:
    tz = ZoneInfo(timezone)
    if pinned := os.environ.get("MOCLI_NOW"):
        try:
            when = datetime.fromisoformat(pinned)
        except ValueError:
            raise InvalidInput(f"MOCLI_NOW={pinned!r} is not an ISO 8601 date-time") from None
        return (when if when.tzinfo else when.replace(tzinfo=tz)).astimezone(tz)
    return datetime.now(tz)
