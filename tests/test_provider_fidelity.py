"""The providers' own published example responses (tests/fixtures/carriers/published), read right.

Issues #18 and #11: each fixture is written by hand in the shape the provider documents and publishes
as its example, and each test fails on a reading mocli once got wrong.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from fixtures.carrier_http import JsonHandler, serve_carrier
from mocli.errors import InvalidInput, NotFound
from mocli.providers import http, registry
from test_carriers import FAST, PROVIDERS, Server, lookup, secrets  # noqa: F401 (secrets: autouse fixture)

PUBLISHED = Path(__file__).parent / "fixtures" / "carriers" / "published"


def published(provider: str, name: str) -> httpx.Response:
    spec = json.loads((PUBLISHED / f"{provider}.json").read_text())[name]
    return httpx.Response(spec["status"], json=spec["body"])


def track(provider: str, name: str, number: str | None = None):
    return lookup(provider, Server(provider, published(provider, name)), number=number)


def ask(provider: str, server: Server, number: str, carrier: str | None = None, **settings):
    """One lookup with a carrier and extra settings; the result or the exception raised."""
    _, _, base = PROVIDERS[provider]
    merged = {k: v for k, v in {**base, **settings}.items() if v is not None}  # None: the setting left out
    adapter = registry.make(provider, "tracking", {**merged, "base_url": "http://carrier.test"})

    async def main():
        async with http.run_session(transport=httpx.MockTransport(server), retry=FAST):
            try:
                return await adapter.lookup(number, carrier, False)
            except Exception as exc:  # noqa: BLE001 - the test inspects it
                return exc

    return asyncio.run(main())


def shipped_order(expected: date | None = None):
    from mocli.models import Address, Order

    return Order(number="#1001", customer_id="C-1", placed_at=datetime(2026, 11, 16, 9, tzinfo=UTC),
                 expected_delivery=expected, tracking_number="9400109693009220314785", carrier="usps",
                 fulfillment_status="shipped",
                 address=Address(line1="1 Main St", city="Columbus", region="OH", postal_code="43215"))


NOW = datetime.fromisoformat("2026-11-27T10:00:00-05:00")


# ----------------------------------------------------------------- #18.1 / #11.1: times and their zones


def test_usps_times_come_from_the_gmt_fields():
    t = track("usps", "delivered").tracking
    assert t.delivered_at == datetime(2026, 11, 21, 18, 58, 40, tzinfo=UTC)
    assert t.delivered_at.utcoffset() == timedelta(hours=-5)  # shown in the delivery's own local time
    accepted = next(e for e in t.events if e.raw_code == "OA")
    assert accepted.at == datetime(2026, 11, 18, 20, 6, tzinfo=UTC)
    assert accepted.at.isoformat() == "2026-11-18T13:06:00-07:00"


def test_usps_stalled_check_uses_the_corrected_time():
    from mocli.policy.situation import Situation, classify

    # Departed 09:00 in Los Angeles (17:00Z) on the 23rd: 3 days 22 hours before NOW, not yet stalled.
    # Read as 09:00Z it would be 4 days 6 hours: wrongly stalled.
    t = track("usps", "in_transit_west").tracking
    situation, _ = classify(shipped_order(), t, NOW, late_after_days=2, stalled_after_days=4)
    assert situation is Situation.IN_TRANSIT


def test_dhl_local_times_stay_local_and_unshifted():
    from mocli.lookups.tracking import Result

    t = track("dhl", "delivered_local").tracking
    assert t.delivered_at == datetime(2026, 11, 21, 11, 40)  # no offset: local at the place, not UTC
    assert t.delivered_at.tzinfo is None
    assert [e.at.isoformat() for e in t.events] == ["2026-11-21T11:40:00", "2026-11-19T23:05:00"]
    from mocli.render import tracking as view
    from mocli.tracking.detect import detect

    out = view.to_json(Result(input="7777777770", carrier="dhl",
                              detection=detect("7777777770"), tracking=t))
    assert out["delivered_at"] == "2026-11-21T11:40:00"


def test_dhl_local_times_are_labelled_local_in_the_display():
    from rich.console import Console

    from mocli import render

    t = track("dhl", "delivered_local").tracking
    console = Console(width=140, record=True)
    console.print(render.tracking_panel(t))
    console.print(render.delivery_panel(t))
    text = console.export_text()
    assert "2026-11-21 11:40 local" in text
    assert "local time at the place" in text
    assert "UTC" not in text


def test_dhl_local_times_work_in_the_late_and_stalled_checks():
    from mocli.policy.situation import Situation, classify

    t = track("dhl", "in_transit_local").tracking
    assert t.estimated_delivery == datetime(2026, 11, 28, 18, 0)
    situation, why = classify(shipped_order(), t, NOW, late_after_days=2, stalled_after_days=5)
    assert situation is Situation.IN_TRANSIT and "2026-11-28" in why
    situation, _ = classify(shipped_order(), t, NOW, late_after_days=2, stalled_after_days=3)
    assert situation is Situation.STALLED


# ----------------------------------------------------------------- #18.5: AfterShip's answer is for this parcel


def test_aftership_another_customers_parcel_is_not_found():
    server = Server("aftership", published("aftership", "another_customers_parcel"))
    res = ask("aftership", server, "TBA123456789012")
    assert isinstance(res, NotFound) and "TBA123456789012" in str(res)


def test_aftership_picks_the_tracking_with_our_number():
    server = Server("aftership", published("aftership", "two_returned"))
    t = ask("aftership", server, "1z999aa1012345 6784").tracking
    assert t.tracking_number == "1Z999AA10123456784" and t.carrier == "ups" and t.status == "in_transit"


def test_aftership_same_number_other_carrier_is_not_found():
    server = Server("aftership", published("aftership", "same_number_other_courier"))
    res = ask("aftership", server, "1Z999AA10123456784", "ups")
    assert isinstance(res, NotFound) and "dhl" in str(res)
    # Without a carrier asked for, the number alone decides.
    t = ask("aftership", Server("aftership", published("aftership", "same_number_other_courier")),
            "1Z999AA10123456784").tracking
    assert t.carrier == "dhl"


# ----------------------------------------------------------------- #18.4: "no signature" is not a signature


def test_aftership_signature_not_required_is_no_signature():
    from rich.console import Console

    from mocli import render

    t = ask("aftership", Server("aftership", published("aftership", "signature_not_required")),
            "1Z999AA10123456784").tracking
    pod = t.proof_of_delivery
    assert pod.signature_available is False and pod.received_by is None
    console = Console(width=140, record=True)
    console.print(render.delivery_panel(t))
    text = console.export_text()
    assert "Signature not required" in text  # what the carrier said, as a note, not a name
    assert "Received by" not in text


@pytest.mark.parametrize("text", ["Signature not required", "SIGNATURE NOT REQUIRED", "No signature required",
                                  "Signature Release on File", "N/A", "not required", "Released without signature"])
def test_carriers_no_signature_texts(text):
    from mocli.providers.carriers._common import signer

    assert signer(text) is None


@pytest.mark.parametrize("text", ["J SMITH", "R. Patel", "FRONT DESK", "M.LOPEZ"])
def test_real_signers_are_kept(text):
    from mocli.providers.carriers._common import signer

    assert signer(text) == text


# ----------------------------------------------------------------- #18.2 / #18.9: USPS "not yet available"


@pytest.mark.parametrize("name", ["not_yet_available", "not_yet_available_2", "not_yet_available_9"])
def test_usps_status_not_yet_available_is_not_found_not_invalid(name):
    from mocli.lookups.tracking import ERROR_CODES

    res = track("usps", name)
    assert isinstance(res, NotFound) and not isinstance(res, InvalidInput)
    assert "not yet" in str(res) and "9400109693009220314785" in str(res)
    assert "not a valid" not in str(res)
    assert ERROR_CODES["not_found"] == 1


def test_usps_html_markup_is_stripped_from_error_texts():
    res = track("usps", "not_yet_available")
    assert "<" not in str(res) and "&" not in str(res)
    assert "The Postal Service™ has not yet received this item" in str(res)
    assert "USPS Tracking® item" in str(res)
    res = track("usps", "invalid_html")
    assert isinstance(res, InvalidInput)
    assert "<SUP>" not in str(res) and "&#174;" not in str(res) and "USPS Tracking®" in str(res)


def test_fedex_signature_not_required_is_no_signature():
    pod = track("fedex", "signature_not_required").tracking.proof_of_delivery
    assert pod.signature_available is False and pod.received_by is None


# ----------------------------------------------------------------- #18.6: FedEx delivery window, error beside result


def test_fedex_window_end_is_the_estimate_and_the_window_is_shown():
    from rich.console import Console

    from mocli import render

    t = track("fedex", "window").tracking
    assert t.estimated_delivery == datetime.fromisoformat("2026-11-30T17:00:00-05:00")
    assert t.estimated_delivery_from == datetime.fromisoformat("2026-11-30T13:00:00-05:00")
    console = Console(width=140, record=True)
    console.print(render.tracking_panel(t))
    assert "2026-11-30 13:00 – 17:00" in console.export_text()


def test_fedex_error_beside_a_full_result_does_not_override_it():
    t = track("fedex", "error_beside_result").tracking
    assert t.status == "delivered" and t.delivered_at is not None
    assert t.proof_of_delivery.received_by == "M.LOPEZ"


# ----------------------------------------------------------------- #18.7: UPS type decides; DHL text vs code


@pytest.mark.parametrize(("name", "status"), [
    ("type_in_transit_code_delivered", "in_transit"),   # type I, code 011 (delivered): in transit
    ("type_delivered_code_in_transit", "delivered"),    # type D, code 005 (in transit): delivered
    ("type_exception_code_attempt", "attempt_failed"),  # the code refines the type where they agree
])
def test_ups_status_type_decides_when_the_code_disagrees(name, status):
    t = track("ups", name).tracking
    assert t.status == status
    assert t.events[0].status == status
    assert (t.delivered_at is not None) == (status == "delivered")


def test_ups_receiver_no_signature_text():
    pod = track("ups", "type_delivered_code_in_transit").tracking.proof_of_delivery
    assert pod.received_by is None and pod.signature_available is False


def test_dhl_delivered_text_with_a_pre_transit_code_is_flagged():
    from rich.console import Console

    from mocli import render
    from mocli.lookups.tracking import Result
    from mocli.render import tracking as view
    from mocli.tracking.detect import detect

    t = track("dhl", "delivered_text_pre_transit_code").tracking
    assert t.status == "pre_transit" and t.delivered_at is None  # the code decides...
    assert t.flags and "delivered" in t.flags[0] and "pre-transit" in t.flags[0]  # ...but not silently
    out = view.to_json(Result(input="7777777770", carrier="dhl", detection=detect("7777777770"), tracking=t))
    assert out["flags"] == t.flags
    console = Console(width=160, record=True)
    console.print(render.tracking_panel(t))
    assert "Check" in console.export_text()
    # A consistent delivered answer has no flag.
    assert track("dhl", "delivered_local").tracking.flags == []


# ----------------------------------------------------------------- #18.3: USPS event codes, family by family

USPS_FAMILIES = {
    "pre-shipment": (["MA", "GX", "TM"], "pre_transit"),
    "acceptance": (["03", "OA", "80"], "in_transit"),
    "network": (["07", "10", "A1", "L1", "T1", "TL", "SF", "U1", "81", "82"], "in_transit"),
    "out for delivery": (["OF"], "out_for_delivery"),
    "delivered": (["01", "17", "43"], "delivered"),
    "attempted": (["02", "51", "53", "54", "55", "56", "57"], "attempt_failed"),
    "held for pickup": (["14", "16", "52"], "available_for_pickup"),
    "alert": (["04", "05", "11"], "exception"),
    "return to sender": (["09", "21", "23", "26", "27", "29", "31", "44"], "return_to_sender"),
}


@pytest.mark.parametrize("family", list(USPS_FAMILIES))
def test_usps_event_code_family(family):
    """Each event code, in a one-event response in USPS's shape (the label_only example, its code replaced)."""
    from mocli.providers.carriers import usps

    codes, status = USPS_FAMILIES[family]
    template = json.loads((PUBLISHED / "usps.json").read_text())["label_only"]["body"]
    for code in codes:
        body = json.loads(json.dumps(template))
        body["trackingEvents"][0]["eventCode"] = code
        body.pop("statusCategory")  # the event code alone decides
        t = usps.parse_tracking(body, "9400109693009220314785").tracking
        assert (t.events[0].status, t.status) == (status, status), code


# ----------------------------------------------------------------- #11.7: AfterShip adds numbers only when asked to


def test_aftership_does_not_add_numbers_to_the_account_unless_configured():
    server = Server("aftership", published("aftership", "empty"), published("aftership", "created_pending"))
    res = ask("aftership", server, "1Z999AA10123456784", "ups", auto_create=None)
    assert isinstance(res, NotFound) and "auto_create" in str(res)
    assert [r.method for r in server.requests] == ["GET"]  # nothing created


def test_aftership_auto_create_when_opted_in():
    server = Server("aftership", published("aftership", "empty"), published("aftership", "created_pending"))
    t = ask("aftership", server, "1Z999AA10123456784", "ups", auto_create=True).tracking
    assert t.status == "unknown" and [r.method for r in server.requests] == ["GET", "POST"]
    assert json.loads(server.requests[1].content) == {"tracking_number": "1Z999AA10123456784", "slug": "ups"}


# ----------------------------------------------------------------- through the CLI, over real HTTP


class _Usps(JsonHandler):
    """USPS on a local port: a token, then the published 'status not available' answer or a delivery."""

    def do_POST(self):  # the OAuth token
        self._send(200, {"access_token": "tok", "token_type": "Bearer", "expires_in": 3599})

    def do_GET(self):
        spec = json.loads((PUBLISHED / "usps.json").read_text())
        name = "delivered" if self.path.startswith("/tracking/v3/tracking/9400109693009220314785") \
            else "not_yet_available"
        self._send(spec[name]["status"], spec[name]["body"])



@pytest.fixture
def usps_server(mocli_env, monkeypatch):
    yield from serve_carrier(_Usps, "usps", mocli_env, monkeypatch)


def test_usps_not_yet_scanned_through_the_cli_is_exit_1_with_the_reason(cli, usps_server):
    r = cli("track", "9400109693009220314792", "--carrier", "usps", "--json")
    assert r.code == 1, r.err
    [result] = json.loads(r.out)
    assert result["error"]["code"] == "not_found"
    assert "has not yet received this item" in result["error"]["message"]
    assert "<SUP>" not in r.out + r.err and "&reg;" not in r.out + r.err


def test_usps_delivery_time_through_the_cli(cli, usps_server):
    r = cli("track", "9400109693009220314785", "--carrier", "usps", "--json")
    assert r.code == 0, r.err
    [result] = json.loads(r.out)
    assert result["delivered_at"] == "2026-11-21T13:58:40-05:00"
    assert result["events"][0]["at"] == "2026-11-21T13:58:40-05:00"
