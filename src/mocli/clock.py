"""The current time, in one place. MOCLI_NOW (ISO 8601) pins it for demos and tests."""

from __future__ import annotations

import os
from datetime import datetime, tzinfo
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


def comparable(when: datetime, tz: tzinfo) -> datetime:
    """`when` as an instant for comparing only: a carrier time with no offset (local at its place) is read in `tz`.

    Carriers such as DHL Express give the local time of the scan's place without its offset. mocli keeps
    it so (never shifted); to compare it with now, reading it in the agent's zone is off by at most the
    hours between the two places, which is far below what late / stalled checks count (days).
    """
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)
