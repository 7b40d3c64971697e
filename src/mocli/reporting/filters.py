"""What `mocli cases` and `mocli report` select: periods (`--since 7d`), filters, several files merged,
due and overdue follow-ups."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from mocli.errors import InvalidInput
from mocli.reporting.views import action_of, carrier_of, tier_of, when

_RELATIVE = re.compile(r"^(\d+)\s*([hdw])$", re.IGNORECASE)
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}

# ---------------------------------------------------------------- periods and filters


def parse_when(text: str | None, now: datetime, *, flag: str, end: bool = False) -> datetime | None:
    """A period bound: "7d", "12h", "2w" (before now), "today", "YYYY-MM-DD" or an ISO date-time.

    A bare date as an upper bound (`end=True`) includes that whole day.
    """
    if text is None or not text.strip():
        return None
    s = text.strip()
    if m := _RELATIVE.match(s):
        try:
            return now - timedelta(**{_UNITS[m.group(2).lower()]: int(m.group(1))})
        except OverflowError:  # 99999999d: before the calendar starts
            raise InvalidInput(f"{flag} {text!r}: too far back (a span of at most a few thousand years)") from None
    if s.lower() == "today":
        day = now.date()
    else:
        try:
            day = date.fromisoformat(s)
        except ValueError:
            try:
                moment = datetime.fromisoformat(s)
            except ValueError:
                raise InvalidInput(f"{flag} {text!r}: use a date (2026-11-01), a date-time, "
                                   "or a span back from now such as 7d, 30d, 12h, 2w") from None
            return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)
    start = datetime.combine(day, time(0), tzinfo=now.tzinfo)
    if end and day == date.max:  # the end of the calendar's last day: no upper bound at all
        return None
    return start + timedelta(days=1) if end else start


def parse_period(since: str | None, until: str | None, now: datetime) -> tuple[datetime | None, datetime | None]:
    """`--since` and `--until` as bounds; an empty period is a usage error, not a silently empty list."""
    start = parse_when(since, now, flag="--since")
    end = parse_when(until, now, flag="--until", end=True)
    if start and end and start >= end:
        raise InvalidInput(f"--since must be before --until (--since {since} is {start:%Y-%m-%d %H:%M}, "
                           f"--until {until} is {end:%Y-%m-%d %H:%M})")
    return start, end


@dataclass(frozen=True)
class Filters:
    """What `mocli cases` and `mocli report` select. None means "any"."""

    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before
    agent: str | None = None
    tier: str | None = None
    carrier: str | None = None
    action: str | None = None
    status: str | None = None  # "open", "resolved" or None for both

    def matches(self, case: dict[str, Any]) -> bool:
        if self.status and case.get("status", "open") != self.status:
            return False
        if self.agent and str(case.get("agent", "")).casefold() != self.agent.casefold():
            return False
        if self.tier and tier_of(case).casefold() != self.tier.casefold():
            return False
        if self.carrier and carrier_of(case).casefold() != self.carrier.casefold():
            return False
        if self.action and action_of(case) != self.action:
            return False
        if self.since or self.until:
            created = when(case.get("created_at"))
            if created is None:
                return False
            if self.since and created < self.since:
                return False
            if self.until and created >= self.until:
                return False
        return True


def select(cases: Iterable[dict[str, Any]], filters: Filters) -> list[dict[str, Any]]:
    return [c for c in cases if filters.matches(c)]


def merge(sources: Iterable[Iterable[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Cases from several agents' files, each case once.

    When a case is in two files (a copied file: same id, opened at the same moment for the same
    customer), the most advanced copy wins: resolved over open, then the one with the longer history.
    Two different cases that drew the same id are both kept (`duplicate_ids` names them).
    """
    best: dict[tuple[Any, ...], dict[str, Any]] = {}
    for cases in sources:
        for case in cases:
            if case.get("id") is None:
                continue
            key = _identity(case)
            old = best.get(key)
            if old is None or _progress(case) > _progress(old):
                best[key] = case
    return list(best.values())


def _identity(case: dict[str, Any]) -> tuple[Any, ...]:
    return case.get("id"), case.get("created_at"), (case.get("customer") or {}).get("id")


def duplicate_ids(cases: Iterable[dict[str, Any]]) -> list[str]:
    """Ids that more than one distinct case carries (after `merge`), sorted."""
    counts = Counter(str(c.get("id")) for c in cases if c.get("id") is not None)
    return sorted(cid for cid, n in counts.items() if n > 1)


def _progress(case: dict[str, Any]) -> tuple[int, int]:
    count = case.get("history_count")
    return (1 if case.get("status") == "resolved" else 0,
            count if isinstance(count, int) else len(case.get("history") or ()))


def is_overdue(case: dict[str, Any], now: datetime) -> bool:
    """An open case whose follow-up time has passed."""
    if case.get("status", "open") != "open":
        return False
    follow = when(case.get("follow_up_by"))
    return follow is not None and follow < now


def is_due_today(case: dict[str, Any], now: datetime) -> bool:
    """An open case whose follow-up falls on today's date (in the configured time zone)."""
    if case.get("status", "open") != "open":
        return False
    follow = when(case.get("follow_up_by"))
    return follow is not None and follow.astimezone(now.tzinfo).date() == now.date()
