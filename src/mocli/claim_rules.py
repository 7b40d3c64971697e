"""claims.toml: the carrier claim rules, read like every config file (shipped defaults, then the user's
file of the same name) and validated once; an error names the file, the row and the key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from mocli.errors import ConfigError

FILE = "claims.toml"


@dataclass(frozen=True)
class ClaimRules:
    rules: list[Any]  # policy.claims.ClaimRule
    expiring_within_days: int
    files: list[Path]


def _model():
    from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator  # noqa: TID253

    from mocli.policy.claims import EVIDENCE

    Anchor = Literal["mailed", "expected_delivery", "delivered", "last_scan"]
    Unit = Literal["calendar_days", "working_days"]

    class Row(BaseModel):
        model_config = ConfigDict(extra="forbid")
        carrier: str = Field(min_length=1)
        name: str = Field(min_length=1)
        service: str | None = None
        earliest_from: Anchor
        earliest_days: int = Field(ge=0, le=366)
        earliest_unit: Unit = "calendar_days"
        deadline_from: Anchor
        deadline_days: int | None = Field(None, gt=0, le=3660)
        deadline_months: int | None = Field(None, gt=0, le=120)
        deadline_unit: Unit = "calendar_days"
        liability: float = Field(ge=0)
        currency: str = Field(pattern=r"^[A-Z]{3}$")
        evidence: list[str] = Field(default_factory=list)
        serial_numbers_over: float | None = Field(None, ge=0)
        next_step: str = ""
        # Every figure cites where it came from and when it was checked: a row without is refused.
        source: str = Field(min_length=1)
        checked: date

        @field_validator("source")
        @classmethod
        def _url(cls, v: str) -> str:
            if not v.startswith(("https://", "http://")):
                raise ValueError("must be the URL of the page the figures come from")
            return v

        @field_validator("evidence")
        @classmethod
        def _kinds(cls, v: list[str]) -> list[str]:
            for kind in v:
                if kind not in EVIDENCE:
                    raise ValueError(f"unknown evidence {kind!r} (known: {', '.join(EVIDENCE)})")
            return v

        @model_validator(mode="after")
        def _one_deadline(self) -> Row:
            if (self.deadline_days is None) == (self.deadline_months is None):
                raise ValueError("give exactly one of deadline_days and deadline_months")
            return self

    class File(BaseModel):
        model_config = ConfigDict(extra="forbid")
        expiring_within_days: int = Field(7, ge=0, le=365)
        rules: list[Row] = Field(default_factory=list)

    return File


def load_claim_rules() -> ClaimRules:
    """The validated rules; ConfigError (exit 2) naming the file and `rules.N.key` of the first error."""
    from pydantic import ValidationError  # noqa: TID253

    from mocli.config import _merge, _read_toml, _source_of, shipped_config_dir, user_config_dir
    from mocli.policy.claims import ClaimRule

    layers = [(p, _read_toml(p)) for p in (shipped_config_dir() / FILE, user_config_dir() / FILE) if p.is_file()]
    merged: dict[str, Any] = {}
    for _, data in layers:
        merged = _merge(merged, data)  # a list (rules) in the user's file replaces the shipped one
    try:
        parsed = _model().model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        source = _source_of([(str(p), data) for p, data in layers], loc) if layers else FILE
        raise ConfigError(f"{source}: {'.'.join(str(p) for p in loc)}: {err['msg']}") from None
    rules = [ClaimRule(**{**row.model_dump(), "evidence": tuple(row.evidence)}) for row in parsed.rules]
    return ClaimRules(rules, parsed.expiring_within_days, [p for p, _ in layers])


def destination_calendar(facts: Any, timezone: str = "UTC") -> Any:
    """The working-day calendar of the parcel's destination country (its region when the holiday
    calendar knows it), for rules counted in working days."""
    from mocli.policy.calendar import BusinessCalendar, _holidays

    country = (facts.country or "US").upper()
    region = (facts.region or "").upper()
    try:
        _holidays(country, region, 2000)
    except (NotImplementedError, KeyError, ValueError):
        region = ""  # a state or county the holiday calendar does not split by: the national one
        try:
            _holidays(country, "", 2000)
        except (NotImplementedError, KeyError, ValueError):
            raise ConfigError(f"no public-holiday calendar for the destination country {country!r}; "
                              "a working-day claim rule cannot be counted") from None
    return BusinessCalendar(timezone=timezone, country=country, subdivision=region)


# The fields of a claim rule (policy/claims.py ClaimRule) that a claim window or the amount left with the
# carrier depends on (not a rule's wording, source or evidence).
WINDOW_FIELDS = ("carrier", "service", "earliest_from", "earliest_days", "earliest_unit", "deadline_from",
                 "deadline_days", "deadline_months", "deadline_unit", "liability", "currency")


def window_fingerprint(rules: list[Any]) -> str:
    """A short digest of what moves claim windows under these rules (and the holiday calendars' release,
    which counts working-day rules): a window kept under another fingerprint is worked out again."""
    import hashlib
    from importlib.metadata import version

    text = repr(([tuple(getattr(r, name) for name in WINDOW_FIELDS) for r in rules], version("holidays")))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
