"""Business time: follow-up dates from a tier's SLA, skipping weekends and public holidays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str
    country: str
    subdivision: str = ""
    workday_start: time = time(9)
    workday_end: time = time(17)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _holidays(self.country, self.subdivision, day.year)

    def holiday_name(self, day: date) -> str | None:
        return _holidays(self.country, self.subdivision, day.year).get(day)

    def next_business_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_business_day(day):
            day += timedelta(days=1)
        return day

    def add_business_days(self, start: datetime, days: int) -> datetime:
        """The end of the working day `days` business days after `start`'s local date."""
        day = start.astimezone(self.tz).date()
        for _ in range(days):
            day = self.next_business_day(day)
        return datetime.combine(day, self.workday_end, tzinfo=self.tz)

    def add_business_hours(self, start: datetime, hours: float) -> datetime:
        """`start` plus `hours` of working time (workday_start..workday_end on business days)."""
        local = start.astimezone(self.tz)
        remaining = timedelta(hours=hours)
        day, clock = local.date(), local.time().replace(tzinfo=None)
        if not self.is_business_day(day) or clock >= self.workday_end:
            day, clock = self.next_business_day(day), self.workday_start
        elif clock < self.workday_start:
            clock = self.workday_start
        while True:
            cursor = datetime.combine(day, clock, tzinfo=self.tz)
            end_of_day = datetime.combine(day, self.workday_end, tzinfo=self.tz)
            if cursor + remaining <= end_of_day:
                return cursor + remaining
            remaining -= end_of_day - cursor
            day, clock = self.next_business_day(day), self.workday_start

    def follow_up(self, start: datetime, amount: float, unit: str) -> datetime:
        if unit == "business_days":
            return self.add_business_days(start, int(round(amount)))
        if unit == "business_hours":
            return self.add_business_hours(start, amount)
        raise ValueError(f"unknown SLA unit {unit!r}")


def describe_sla(amount: float, unit: str) -> str:
    """'2 business days', '8 business hours'."""
    n = int(amount) if float(amount).is_integer() else amount
    noun = "business day" if unit == "business_days" else "business hour"
    return f"{n} {noun}{'' if n == 1 else 's'}"


@lru_cache(maxsize=32)
def _holidays(country: str, subdivision: str, year: int):
    import holidays  # noqa: TID253

    return holidays.country_holidays(country, subdiv=subdivision or None, years=[year, year + 1])
