"""address_key: one normalisation of a delivery address for the fraud rules, the wizard and the report."""

from __future__ import annotations

import sys

import pytest

from mocli.addresses import address_key


@pytest.mark.parametrize(("address", "key"), [
    (None, None),
    ({}, None),
    ({"line1": "12 Oak St."}, "12 oak st us"),
    ({"line1": "12 Oak St.", "line2": "Apt. 4-B", "postal_code": "11215", "country": "US"},
     "12 oak st apt 4b 11215 us"),
    ({"line1": "  12   OAK  st ", "line2": None, "postal_code": "11215"}, "12 oak st 11215 us"),
    ({"line1": "12 Oak St", "country": ""}, "12 oak st us"),  # a blank country is the US, as absent
    ({"line1": "12 Oak St", "country": "CA"}, "12 oak st ca"),
    ({"line1": "Flat 3/2, 7 O'Brien Rd", "postal_code": "SW1A 1AA", "country": "GB"},
     "flat 32 7 obrien rd sw1a 1aa gb"),
    ({"line1": "Straße 5\tHof", "postal_code": "10115", "country": "DE"}, "straße 5 hof 10115 de"),
    ({"line1": "Rue de l’Église, n° 3", "country": "FR"}, "rue de léglise n 3 fr"),
    ({"line1": "12\u00a0Oak\u2003St", "line2": "\n"}, "12 oak st us"),  # unicode spaces are spaces
    ({"line1": "１２ Ｏａｋ Ｓｔ"}, "１２ ｏａｋ ｓｔ us"),  # full-width letters and digits are kept
    ({"line1": "Unit ²"}, "unit ² us"),  # a superscript digit is numeric, so kept
    ({"line1": "under_score #5 & co!"}, "underscore 5 co us"),  # the underscore is punctuation
    ({"line1": "Cafe\u0301 3"}, "cafe 3 us"),  # a combining accent is not a letter
    ({"line1": "東京都 1-2-3"}, "東京都 123 us"),
    ({"line1": "12 Oak St \U0001F4E6"}, "12 oak st us"),  # emoji dropped
    ({"line1": "---", "line2": "..."}, "us"),
    ({"line1": 12, "postal_code": 11215}, "12 11215 us"),  # numbers from a CRM are text too
])
def test_address_key_table(address, key):
    assert address_key(address) == key


def _walk(line: str) -> str:
    """The rule spelled out character by character: letters, digits and spaces kept, the rest dropped."""
    return " ".join("".join(c for c in f"{line}  us".lower() if c.isalnum() or c.isspace()).split())


def test_address_key_keeps_and_drops_every_character_as_the_rule_says():
    odd = [cp for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF
           and address_key({"line1": f"a{chr(cp)}b"}) != _walk(f"a{chr(cp)}b")]
    assert odd == []
