"""Carrier detection: published sample numbers detect, and one changed digit reads as mistyped."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from mocli.tracking.detect import FORMATS, carrier_id, detect, normalise

# (number, carrier) published by the carriers (UPS developer docs, FedEx sandbox test numbers, UPU S10
# standard, DHL API docs) or in our demo data.
PUBLISHED = [
    ("1Z999AA10123456784", "ups"),
    ("123456789012", "fedex"),
    ("568838414941", "fedex"),
    ("797806677146", "fedex"),
    ("449044304137821", "fedex"),
    ("149331877648230", "fedex"),
    ("076288115212522", "fedex"),
    ("RA123456785US", "usps"),
    ("AA473124829GB", "royalmail"),
    ("00340434292135100186", "dhl"),
    ("9400109693009220314785", "usps"),
    ("TBA123456789012", "amazon"),
]


@pytest.mark.parametrize(("number", "carrier"), PUBLISHED)
def test_published_numbers_detect_as_their_carrier(number, carrier):
    d = detect(number)
    assert d.best is not None and d.best.carrier == carrier
    assert d.best.confidence > 0.5


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.example], ids=lambda f: f.name)
def test_every_format_example_is_valid_and_one_changed_digit_is_mistyped(fmt):
    d = detect(fmt.example)
    assert fmt.carrier in [c.carrier for c in d.candidates]
    if fmt.check is None:
        return
    # Change the check digit: the number no longer passes its own format.
    n = fmt.example
    i = next(i for i in range(len(n) - 1, -1, -1) if n[i].isdigit())
    changed = n[:i] + str((int(n[i]) + 1) % 10) + n[i + 1:]
    after = detect(changed)
    assert fmt.name not in [c.format for c in after.candidates]
    assert fmt.name in [c.format for c in after.mistyped]  # said to be mistyped, not merely not found


@pytest.mark.parametrize(("number", "carrier"), [
    ("1Z999AA10123456785", "ups"), ("1Z999AA10123456794", "ups"), ("RA123456784US", "usps"),
    ("AA473124828GB", "royalmail"), ("TBA12345678901", None),
])
def test_one_digit_changed_is_probably_mistyped(number, carrier):
    d = detect(number)
    if carrier is None:  # wrong length: fits nothing at all
        assert not d.candidates and not d.mistyped
        return
    assert d.probably_mistyped
    assert carrier in d.resembles()


def test_demo_numbers_detect_as_their_carrier_with_valid_check_digits():
    data = json.loads(resources.files("mocli.data").joinpath("demo.json").read_text())
    for t in data["tracking"]:
        d = detect(t["tracking_number"])
        assert d.best is not None, t["tracking_number"]
        assert d.best.carrier == carrier_id(t["carrier"]), t["tracking_number"]
        assert d.best.check_digit == "valid"


def test_normalise_strips_spaces_dashes_and_case():
    assert normalise(" 1z 999-aa1 0123456784 ") == "1Z999AA10123456784"
    assert detect("1z 999 aa1 012 345 678 4").best.carrier == "ups"


def test_ambiguous_numbers_list_ranked_candidates():
    d = detect("9205590164917312751089")  # IMpb 92: USPS, or FedEx Ground Economy handed to USPS
    assert [c.carrier for c in d.candidates] == ["usps", "fedex"]
    assert d.candidates[0].confidence > d.candidates[1].confidence
    assert sum(c.confidence for c in d.candidates) <= 1.0


def test_garbage_fits_nothing():
    for junk in ("", "hello", "12345", "1Z12"):
        d = detect(junk)
        assert d.best is None and not d.probably_mistyped


def test_carrier_aliases():
    assert carrier_id("FedEx") == "fedex"
    assert carrier_id("Royal Mail") == "royalmail"
    assert carrier_id("pigeon") is None
