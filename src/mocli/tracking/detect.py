"""Which carrier a tracking number belongs to, from its format and check digit.

The formats are a table (`FORMATS`), one row per number format a US/EU retailer meets, so adding one
is adding a row. A number can fit several rows: every row whose pattern matches *and* whose check
digit holds is a candidate, ranked by confidence. A number that fits a pattern but fails its check
digit is "probably mistyped" and says which carrier it resembles. `normalise` first: spaces, dashes,
dots are dropped and letters upper-cased, as agents paste numbers from e-mails and labels.

The check-digit schemes, in one place:

* ``mod10_31``: GS1 / USPS IMpb / FedEx Ground: from the digit next to the check digit leftwards,
  weights 3, 1, 3, 1...; check = (10 - sum mod 10) mod 10.
* ``ups``: 1Z numbers: the 15 characters after ``1Z`` (letters mapped: A=2, B=3 ... by
  (ord - 63) mod 10), weights 1, 2, 1, 2... from the left; check = (10 - sum mod 10) mod 10.
* ``fedex_mod11``: FedEx Express 12 (and the last 13 digits of the 34-digit barcode): weights
  1, 3, 7 repeating from the right over the digits before the check; check = sum mod 11 mod 10.
* ``s10``: UPU S10 international (``RA123456785US``): weights 8 6 4 2 3 5 9 7 over the 8 digits;
  check = 11 - sum mod 11, with 10 -> 0 and 11 -> 5.
* ``mod7``: DHL Express: the number without its last digit, mod 7.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

# Carrier ids (used by --carrier, the config and the JSON) and how people write them.
CARRIERS: dict[str, str] = {
    "ups": "UPS",
    "fedex": "FedEx",
    "usps": "USPS",
    "dhl": "DHL",
    "amazon": "Amazon Logistics",
    "ontrac": "OnTrac",
    "lasership": "LaserShip",
    "royalmail": "Royal Mail",
    "canadapost": "Canada Post",
    "post": "Postal service (UPU S10)",
}
ALIASES = {"fed-ex": "fedex", "fed ex": "fedex", "dhl express": "dhl", "dhlexpress": "dhl",
           "amazon logistics": "amazon", "amzl": "amazon", "royal mail": "royalmail", "canada post": "canadapost"}


def carrier_id(name: str) -> str | None:
    """'FedEx', 'fedex', 'Fed Ex' -> 'fedex'; None if unknown."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    return key if key in CARRIERS else None


# Each carrier's public tracking page, where the customer and the agent see what the carrier shows
# (photos included). The UPU S10 format names no single carrier, so it has none.
TRACKING_PAGES: dict[str, str] = {
    "ups": "https://www.ups.com/track?tracknum={number}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "dhl": "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id={number}",
    "amazon": "https://track.amazon.com/tracking/{number}",
    "ontrac": "https://www.ontrac.com/tracking/?number={number}",
    "lasership": "https://www.lasership.com/track/{number}",
    "royalmail": "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
    "canadapost": "https://www.canadapost-postescanada.ca/track-reperage/en#/details/{number}",
}


def tracking_page(carrier: str | None, number: str | None) -> str | None:
    """The carrier's public tracking page for `number`, or None (unknown carrier, no number)."""
    from urllib.parse import quote

    cid = carrier_id(carrier) if carrier else None
    if cid not in TRACKING_PAGES or not number:
        return None
    return TRACKING_PAGES[cid].format(number=quote(normalise(number), safe=""))


def normalise(number: str) -> str:
    """Drop spaces, dashes and dots, upper-case: '1z 999-aa1' -> '1Z999AA1'."""
    return re.sub(r"[\s\-.]", "", number).upper()


# ------------------------------------------------------------------------ check digits


def _digits(s: str) -> list[int]:
    return [int(c) for c in s]


def _weighted_from_right(body: str, weights: tuple[int, ...]) -> int:
    """The digits of `body` times `weights` repeating from its rightmost digit, summed."""
    return sum(d * weights[i % len(weights)] for i, d in enumerate(reversed(_digits(body))))


def mod10_31(body: str) -> int:
    """GS1 mod 10: weights 3, 1, 3... from the right of `body` (the digits before the check)."""
    return (10 - _weighted_from_right(body, (3, 1)) % 10) % 10


def ups_check(body: str) -> int:
    """UPS 1Z: `body` is the 15 characters between '1Z' and the check digit."""
    values = [int(c) if c.isdigit() else (ord(c) - 63) % 10 for c in body]
    total = sum(v * (2 if i % 2 else 1) for i, v in enumerate(values))
    return (10 - total % 10) % 10


def fedex_mod11(body: str) -> int:
    """FedEx Express: weights 1, 3, 7 repeating from the right; sum mod 11 mod 10."""
    return _weighted_from_right(body, (1, 3, 7)) % 11 % 10


def s10_check(serial: str) -> int:
    """UPU S10: weights 8 6 4 2 3 5 9 7 over the 8 serial digits."""
    total = sum(d * w for d, w in zip(_digits(serial), (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)


def mod7_check(body: str) -> int:
    return int(body) % 7


# ------------------------------------------------------------------------ the formats


@dataclass(frozen=True)
class Format:
    """One number format: the carrier, a pattern, how to test its check digit, how sure a match is."""

    carrier: str
    name: str
    pattern: re.Pattern[str]
    check: Callable[[re.Match[str]], bool] | None  # None: the format has no check digit
    confidence: float  # how sure we are when the pattern (and check digit) fit
    example: str = ""  # a valid sample number (tested)


def _f(carrier: str, name: str, pattern: str, check_digit: Callable[[str], int] | None, confidence: float,
       example: str = "") -> Format:
    """A row of FORMATS; with a `check_digit` function, the number fits only if that function of the
    pattern's `body` group is its `check` group."""
    check = None if check_digit is None else lambda m: check_digit(m.group("body")) == int(m.group("check"))
    return Format(carrier, name, re.compile(pattern), check, confidence, example)


def _s10(carrier: str, country: str, confidence: float, example: str) -> Format:
    """A UPU S10 number of one country's post: two letters, 8 digits, an S10 check digit, the country."""
    return _f(carrier, f"UPU S10 ({country})", rf"^[A-Z]{{2}}(?P<body>\d{{8}})(?P<check>\d){country}$", s10_check,
              confidence, example)


FORMATS: tuple[Format, ...] = (
    # carrier   name                          pattern (on the normalised number)                 check  confidence
    _f("ups", "UPS 1Z", r"^1Z(?P<body>[0-9A-Z]{15})(?P<check>[0-9])$", ups_check, 0.99,
       "1Z999AA10123456784"),
    _f("amazon", "Amazon Logistics TBA", r"^TBA\d{12}$", None, 0.95, "TBA123456789012"),
    _f("fedex", "FedEx Express (12)", r"^(?P<body>\d{11})(?P<check>\d)$", fedex_mod11, 0.85,
       "123456789012"),
    _f("fedex", "FedEx Ground (15)", r"^(?P<body>\d{14})(?P<check>\d)$", mod10_31, 0.8,
       "149331877648230"),
    _f("dhl", "DHL Paket SSCC (20)", r"^00340434(?P<body>\d{11})(?P<check>\d)$", mod10_31, 0.9,
       "00340434292135100186"),
    _f("fedex", "FedEx Ground SSCC (20)", r"^00(?P<body>\d{17})(?P<check>\d)$", mod10_31, 0.7,
       "00123456789012345675"),
    _f("fedex", "FedEx Ground 96 (22)", r"^96\d{5}(?P<body>\d{14})(?P<check>\d)$", mod10_31, 0.9,
       "9611020987654312345672"),
    _f("fedex", "FedEx Express (34)", r"^\d{20}(?P<body>\d{13})(?P<check>\d)$", fedex_mod11, 0.6,
       "1001901781990001000300617767839437"),
    _f("usps", "USPS IMpb (20-22)", r"^(?P<body>9[1-5]\d{18,20})(?P<check>\d)$", mod10_31, 0.9,
       "9400109693009220314785"),
    _f("fedex", "FedEx Ground Economy (92)", r"^(?P<body>92\d{19})(?P<check>\d)$", mod10_31, 0.4,
       "9205590164917312751089"),
    _f("usps", "USPS IMpb with ZIP (30/34)", r"^420(?:\d{5}|\d{9})(?P<body>9[1-5]\d{19})(?P<check>\d)$",
       mod10_31, 0.9, "420221539101026837331000039521"),
    _f("usps", "USPS (20)", r"^(?P<body>(?:03|71|73|77|81)\d{17})(?P<check>\d)$", mod10_31, 0.7,
       "71123456789123456787"),
    _s10("usps", "US", 0.99, "RA123456785US"),
    _s10("royalmail", "GB", 0.99, "AA473124829GB"),
    _s10("canadapost", "CA", 0.99, "RR123456785CA"),
    _s10("dhl", "DE", 0.95, "RR123456785DE"),
    _f("post", "UPU S10", r"^[A-Z]{2}(?P<body>\d{8})(?P<check>\d)(?!US|GB|CA|DE)[A-Z]{2}$", s10_check, 0.9,
       "RR123456785FR"),
    _f("dhl", "DHL Express (10)", r"^(?P<body>\d{9})(?P<check>\d)$", mod7_check, 0.8, "7777777770"),
    _f("dhl", "DHL Express (11)", r"^(?P<body>\d{10})(?P<check>\d)$", mod7_check, 0.6, "12345678903"),
    _f("dhl", "DHL eCommerce", r"^GM\d{16,18}$", None, 0.85, "GM2951173225174494"),
    _f("dhl", "DHL Parcel (JJD / JVGL)", r"^(?:JJD\d{16,18}|JVGL\d{10,18})$", None, 0.85, "JJD0099999999999999"),
    _f("ontrac", "OnTrac", r"^[CD]\d{14}$", None, 0.8, "C11031500001879"),
    _f("lasership", "LaserShip", r"^(?:1LS\d{12,14}|L[A-Z]\d{8})$", None, 0.8, "1LS123456789012"),
)


@dataclass(frozen=True)
class Candidate:
    """A carrier the number may belong to."""

    carrier: str
    format: str
    confidence: float
    check_digit: str  # "valid", "invalid" (probably mistyped), or "none" (the format has none)

    def as_json(self) -> dict[str, object]:
        return {"carrier": self.carrier, "format": self.format, "confidence": self.confidence,
                "check_digit": self.check_digit}


@dataclass(frozen=True)
class Detection:
    """What a number looks like: candidates ranked best first, and formats it fits but fails."""

    number: str
    candidates: tuple[Candidate, ...] = ()
    mistyped: tuple[Candidate, ...] = field(default=())

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def probably_mistyped(self) -> bool:
        """It fits a format but fails that format's check digit, and fits nothing else."""
        return not self.candidates and bool(self.mistyped)

    def resembles(self) -> list[str]:
        return list(dict.fromkeys(c.carrier for c in self.mistyped))


def detect(number: str) -> Detection:
    """Every carrier `number` may belong to, best first (see the module docstring)."""
    n = normalise(number)
    found: list[Candidate] = []
    failed: list[Candidate] = []
    for fmt in FORMATS:
        m = fmt.pattern.match(n)
        if not m:
            continue
        if fmt.check is None:
            found.append(Candidate(fmt.carrier, fmt.name, fmt.confidence, "none"))
        elif fmt.check(m):
            found.append(Candidate(fmt.carrier, fmt.name, fmt.confidence, "valid"))
        else:
            failed.append(Candidate(fmt.carrier, fmt.name, 0.0, "invalid"))
    # One candidate per carrier (its best format); several carriers share the certainty between them.
    best: dict[str, Candidate] = {}
    for c in found:
        if c.carrier not in best or c.confidence > best[c.carrier].confidence:
            best[c.carrier] = c
    ranked = sorted(best.values(), key=lambda c: -c.confidence)
    if len(ranked) > 1:
        total = sum(c.confidence for c in ranked)
        ranked = [Candidate(c.carrier, c.format, round(c.confidence * c.confidence / total, 2), c.check_digit)
                  for c in ranked]
    return Detection(n, tuple(ranked), tuple(failed) if not ranked else ())
