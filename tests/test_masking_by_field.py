"""#11.5: exports mask personal fields, never ids, numbers or dates that merely look like a phone number."""

from __future__ import annotations

import copy


def stored_case() -> dict:
    """A stored case (README, "The case record") from a Shopify store: numeric CRM ids, ISO dates."""
    address = {"line1": "12 Elm St", "line2": None, "city": "Newark", "region": "NJ", "postal_code": "07102",
               "country": "US"}
    return {
        "id": "MO-20261127-0003", "created_at": "2026-11-27T10:00:00-05:00", "agent": "sam",
        "customer": {"id": "7310000001", "email": "ava.thompson@example.com", "name": "Ava Thompson",
                     "tier": "VIP", "phone": "+1 (555) 010-2233", "since": "2024-03-03",
                     "notes": "Prefers a call on +1 555 010 2233 after 5pm", "address": address,
                     "prior_claims": [{"date": "2026-10-03", "order": "#1001", "address": address}],
                     "source": "shopify"},
        "order": {"number": "#1042", "customer_id": "7310000001", "customer_email": "ava.thompson@example.com",
                  "placed_at": "2026-11-03T09:12:00-05:00", "expected_delivery": "2026-11-10",
                  "tracking_number": "9400109693009220314785", "carrier": "usps", "address": address,
                  "value": 84.5, "currency": "USD", "fulfillment_status": "shipped", "items": ["Kettle"],
                  "source": "shopify", "warehouse": "5550102233"},
        "tracking": {"tracking_number": "9400109693009220314785", "carrier": "usps", "status": "delivered",
                     "delivered_at": "2026-11-21T13:58:40-05:00", "events": [
                         {"at": "2026-11-21T13:58:40-05:00", "status": "delivered",
                          "description": "Delivered, In/At Mailbox", "location": "NEWARK, NJ, 07102",
                          "raw_code": "01"}],
                     "proof_of_delivery": {"photo_available": False, "signature_available": True,
                                           "received_by": "Ava Thompson", "location_note": None, "gps": None},
                     "source": "usps"},
        "answers": {"notes": "Customer 7310000001 says the box was gone on 2026-11-21; call 555-010-2233"},
        "signals": [{"rule": "repeat_claims", "evidence": "2 claims since 2026-10-03 (orders #1001, #1042)",
                     "detail": {"customer": "7310000001", "orders": ["#1001", "#1042"]}}],
        "known_issues": [], "decision": {"action": "fraud_review", "macro": "MO-FRAUD-REVIEW",
                                         "reasons": ["delivered 2026-11-21 13:58"], "situation": "delivered"},
        "follow_up_by": "2026-12-01T17:00:00-05:00",
        "message": "Hi Ava, order #1042 (placed 2026-11-03) shows delivered on 2026-11-21.",
        "status": "open", "ticket": "48213", "sources": {"customer": "shopify"},
        "history": [{"at": "2026-11-27T10:00:00-05:00", "agent": "sam", "event": "opened",
                     "detail": "customer 7310000001, ticket 48213"}],
    }


def test_numeric_crm_ids_and_iso_dates_survive_masking():
    from mocli.privacy import mask_case

    case = stored_case()
    masked = mask_case(copy.deepcopy(case))
    assert masked["customer"]["id"] == masked["order"]["customer_id"] == "7310000001"
    assert masked["signals"][0]["detail"]["customer"] == "7310000001"
    assert masked["order"]["warehouse"] == "5550102233"  # an id, not a phone
    assert masked["ticket"] == "48213"
    assert masked["customer"]["since"] == "2024-03-03"
    assert masked["customer"]["prior_claims"][0]["date"] == "2026-10-03"
    assert masked["order"]["expected_delivery"] == "2026-11-10"
    assert masked["tracking"]["tracking_number"] == "9400109693009220314785"
    assert masked["tracking"]["events"][0]["at"] == case["tracking"]["events"][0]["at"]
    assert masked["decision"] == case["decision"]
    assert masked["signals"][0]["evidence"] == case["signals"][0]["evidence"]
    assert masked["message"] == "Hi A., order #1042 (placed 2026-11-03) shows delivered on 2026-11-21."
    assert masked["answers"]["notes"] == "Customer 7310000001 says the box was gone on 2026-11-21; call ***33"
    assert masked["history"][0]["detail"] == "customer 7310000001, ticket 48213"


def test_personal_fields_and_free_text_are_still_masked():
    from mocli.privacy import mask_case

    masked = mask_case(stored_case())
    text = str(masked)
    for value in ("Ava Thompson", "ava.thompson@example.com", "12 Elm St", "07102", "010 2233", "010-2233"):
        assert value not in text, value
    assert masked["customer"]["phone"] == "***33"
    assert masked["customer"]["notes"] == "Prefers a call on ***33 after 5pm"
    assert masked["tracking"]["proof_of_delivery"]["received_by"] == "A. T."


def test_masking_a_case_builds_new_containers_without_deep_copying_it(monkeypatch):
    """Masking rebuilds every dict and list it returns: a deep copy first only doubled the cost."""
    from mocli.privacy import mask_case

    case = stored_case()
    case["customer"]["prior_claims"] = [{"order": "#1", "address": dict(case["order"]["address"])}]
    before = copy.deepcopy(case)
    expected = mask_case(case)

    def no_deep_copy(*_a, **_k):
        raise AssertionError("deepcopy")

    monkeypatch.setattr(copy, "deepcopy", no_deep_copy)
    masked = mask_case(case)
    assert masked == expected and case == before
    masked["customer"]["prior_claims"][0]["address"]["city"] = "changed"  # nothing shared with the case
    masked["order"]["address"]["city"] = "changed"
    assert case == before
