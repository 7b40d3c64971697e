"""`mocli claim status | file | update`, the claim line in `mocli case` and at step 8 (resolve)."""

from __future__ import annotations

import json

import pytest

from test_cases_support import build, store
from test_track import ups_server  # noqa: F401 - the local UPS API fixture


@pytest.fixture
def ava(cfg):
    """VIP, UPS Ground, expected and delivered Mon 23 Nov 2026, 389.00 USD (demo order #1001)."""
    case = build(cfg, "#1001", case_id="MO-261127-AVA01")
    store([case])
    return case


def test_status_json_of_a_ups_case(cli, ava):
    r = cli("claim", "status", "AVA01", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert (out["state"], out["opens"], out["expires"], out["days_left"]) == \
        ("eligible", "2026-11-24", "2027-01-22", 56)
    assert out["recoverable"] == 100.0 and out["recoverable_text"] == "recoverable 100.00 of 389.00 USD"
    assert out["carrier"] == "UPS" and "ups.com" in out["next_step"]
    assert out["facts"]["expected_delivery"] == "2026-11-23" and out["facts"]["service"] == "UPS Ground"
    assert out["source"].startswith("http") and out["claim"] is None


def test_status_table_names_the_state_and_money(cli, ava):
    r = cli("claim", "status", "AVA01")
    assert r.code == 0, r.err
    assert "eligible: can be filed until Fri 2027-01-22 (56 days left)" in r.out
    assert "recoverable 100.00 of 389.00 USD" in r.out


def test_dhl_asks_for_a_trace_and_expires_30_days_after_acceptance(cli, cfg, monkeypatch):
    store([build(cfg, "#1007", case_id="MO-261127-DHL01")])  # DHL Express, first scan Sun 25 Oct
    out = json.loads(cli("claim", "status", "DHL01", "--json").out)
    assert (out["state"], out["opens"], out["expires"], out["days_left"]) == \
        ("expired", "2026-10-25", "2026-11-24", -3)
    monkeypatch.setenv("MOCLI_NOW", "2026-11-10T10:00:00-05:00")
    out = json.loads(cli("claim", "status", "DHL01", "--json").out)
    assert out["state"] == "eligible" and out["days_left"] == 14
    assert "trace" in out["next_step"]
    monkeypatch.setenv("MOCLI_NOW", "2026-11-18T10:00:00-05:00")
    assert json.loads(cli("claim", "status", "DHL01", "--json").out)["state"] == "expiring"  # 6 days left
    monkeypatch.setenv("MOCLI_NOW", "2026-11-25T10:00:00-05:00")
    assert json.loads(cli("claim", "status", "DHL01", "--json").out)["state"] == "expired"


def test_a_found_or_unshipped_case_needs_no_claim(cli, cfg):
    store([build(cfg, "#1004", case_id="MO-261127-NOSHP")])
    out = json.loads(cli("claim", "status", "NOSHP", "--json").out)
    assert out["state"] == "not_needed" and "not shipped" in out["summary"]
    r = cli("claim", "file", "NOSHP", "--carrier-ref", "X1", "--amount", "10")
    assert r.code == 1 and "nothing to claim" in r.err


def test_unknown_case_is_exit_1(cli, ava):
    r = cli("claim", "status", "NOPE9")
    assert r.code == 1 and "Traceback" not in r.err


def test_case_view_and_resolve_show_the_claim_line(cli, ava):
    r = cli("case", "AVA01")
    assert r.code == 0, r.err
    assert "Carrier claim" in r.out and "recoverable 100.00 of 389.00 USD" in r.out
    r = cli("resolve", "AVA01", "--no-input", "--outcome", "lost", "--remedy", "refund")
    assert r.code == 0, r.err
    assert "carrier claim (UPS): eligible: can be filed until Fri 2027-01-22 (56 days left); " \
           "recoverable 100.00 of 389.00 USD" in r.err


def test_resolve_found_says_nothing_about_a_claim(cli, ava):
    r = cli("resolve", "AVA01", "--no-input", "--outcome", "found", "--remedy", "confirm")
    assert r.code == 0, r.err
    assert "carrier claim" not in r.err


# ---------------------------------------------------------------- the ledger


def test_file_then_submit_then_paid_each_a_history_entry(cli, ava):
    r = cli("claim", "file", "AVA01", "--carrier-ref", "UPS-CLM-42", "--amount", "100", "--json")
    assert r.code == 0, r.err
    case = json.loads(r.out)
    claim = case["carrier_claim"]
    assert (claim["status"], claim["amount"], claim["currency"], claim["carrier"], claim["deadline"]) == \
        ("filed", 100.0, "USD", "UPS", "2027-01-22")
    assert case["history"][-1]["event"] == "claim_filed"
    assert "UPS claim UPS-CLM-42 filed for 100.00 USD (deadline 2027-01-22)" == case["history"][-1]["detail"]
    assert cli("claim", "update", "AVA01", "--status", "submitted").code == 0
    r = cli("claim", "update", "AVA01", "--status", "paid", "--paid", "100", "--json")
    assert r.code == 0, r.err
    case = json.loads(r.out)
    assert case["carrier_claim"]["status"] == "paid" and case["carrier_claim"]["paid"] == 100.0
    assert [h["event"] for h in case["history"][-3:]] == ["claim_filed", "claim_submitted", "claim_paid"]
    assert "submitted → paid, 100.00 USD paid of 100.00" in case["history"][-1]["detail"]
    assert "UPS-CLM-42: paid, 100.00 USD claimed, paid 100.00" in cli("case", "AVA01").out
    status = json.loads(cli("claim", "status", "AVA01", "--json").out)
    assert status["claim"]["status"] == "paid" and status["next_step"] is None


def test_no_paid_before_submitted(cli, ava):
    assert cli("claim", "file", "AVA01", "--carrier-ref", "R1", "--amount", "100").code == 0
    r = cli("claim", "update", "AVA01", "--status", "paid", "--paid", "100")
    assert r.code == 1
    assert "a claim that is filed cannot become paid: it can go to submitted" in r.err
    case = json.loads(cli("case", "AVA01", "--json").out)
    assert case["carrier_claim"]["status"] == "filed"  # unchanged
    assert case["history"][-1]["event"] == "claim_filed"


@pytest.mark.parametrize("args, code, words", [
    (["update", "AVA01", "--status", "submitted"], 1, "no carrier claim on record"),
    (["file", "AVA01", "--carrier-ref", "R1", "--amount", "0"], 2, "--amount must be more than 0"),
    (["file", "AVA01", "--carrier-ref", "  ", "--amount", "5"], 2, "--carrier-ref is empty"),
    (["file", "AVA01", "--carrier-ref", "R1", "--amount", "5", "--currency", "dollars"], 2, "three-letter"),
])
def test_bad_ledger_input(cli, ava, args, code, words):
    r = cli("claim", *args)
    assert r.code == code and words in r.err, r.err


def test_ledger_refuses_twice_filed_bad_status_and_paid_without_amount(cli, ava):
    assert cli("claim", "file", "AVA01", "--carrier-ref", "R1", "--amount", "100").code == 0
    r = cli("claim", "file", "AVA01", "--carrier-ref", "R2", "--amount", "100")
    assert r.code == 1 and "already has a UPS claim R1 (filed)" in r.err
    assert cli("claim", "update", "AVA01", "--status", "submitted").code == 0
    r = cli("claim", "update", "AVA01", "--status", "lost")
    assert r.code == 2 and "--status must be one of submitted" in r.err
    r = cli("claim", "update", "AVA01", "--status", "paid")
    assert r.code == 2 and "needs --paid N" in r.err
    r = cli("claim", "update", "AVA01", "--status", "paid", "--paid", "150")
    assert r.code == 2 and "between 0 and the amount claimed" in r.err
    r = cli("claim", "update", "AVA01", "--status", "denied", "--paid", "5")
    assert r.code == 2 and "--paid goes with --status paid only" in r.err
    assert cli("claim", "update", "AVA01", "--status", "denied", "--note", "no proof of value").code == 0
    assert cli("claim", "update", "AVA01", "--status", "submitted", "--note", "appealed with invoice").code == 0
    hist = json.loads(cli("case", "AVA01", "--json").out)["history"]
    assert hist[-1]["detail"] == "claim R1: denied → submitted; appealed with invoice"


# ---------------------------------------------------------------- the claim packet


def test_packet_refuses_while_evidence_is_missing_and_writes_nothing(cli, ava, tmp_path):
    out = tmp_path / "packet"
    r = cli("claim", "packet", "AVA01", "--out", str(out))
    assert r.code == 1
    assert "the UPS claim packet for MO-261127-AVA01 is missing: the invoice (--invoice FILE)" in r.err
    assert not out.exists()


def test_incomplete_packet_lists_what_is_missing(cli, ava, tmp_path):
    out = tmp_path / "packet"
    r = cli("claim", "packet", "AVA01", "--out", str(out), "--allow-incomplete")
    assert r.code == 0, r.err
    data = json.loads((out / "packet.json").read_text())
    assert [m["item"] for m in data["missing"]] == ["proof_of_value"] and data["complete"] is False
    md = (out / "packet.md").read_text()
    assert "**INCOMPLETE: still missing**" in md and "- [ ] the invoice (--invoice FILE)" in md
    assert "INCOMPLETE, missing 1 item(s)" in r.err


def test_complete_packet_contents_and_file_modes(cli, cfg, tmp_path):
    case = build(cfg, "#1012", case_id="MO-261127-KAI01")  # UPS 2nd Day Air, 1,249.00 USD: serials needed
    case["history"].append({"at": "2026-11-27T11:00:00-05:00", "agent": "sam", "event": "note",
                            "detail": "Customer says the porch camera shows no drop-off"})
    store([case])
    invoice = tmp_path / "Invoice.PDF"
    invoice.write_bytes(b"%PDF-1.4 invoice")
    r = cli("claim", "packet", "KAI01", "--out", str(tmp_path / "p"))
    assert r.code == 1 and "serial numbers (--serial TEXT, once per item)" in r.err
    r = cli("claim", "packet", "KAI01", "--out", str(tmp_path / "p"), "--invoice", str(invoice),
            "--serial", "C02XK1", "--json")
    assert r.code == 0, r.err
    out = tmp_path / "p"
    assert sorted(p.name for p in out.iterdir()) == ["invoice.pdf", "packet.json", "packet.md"]
    assert (out.stat().st_mode & 0o777) == 0o700
    assert all((p.stat().st_mode & 0o777) == 0o600 for p in out.iterdir())
    data = json.loads((out / "packet.json").read_text())
    assert data == json.loads(r.out)
    assert data["complete"] is True and data["missing"] == []
    assert data["order"]["number"] == "#1012" and data["order"]["value"] == 1249.0 and data["order"]["items"]
    assert len(data["scans"]) == len(case["tracking"]["events"])
    assert data["scans"][0]["at"] <= data["scans"][-1]["at"]  # oldest first
    assert data["proof_of_delivery"]["delivered_at"] == case["tracking"]["delivered_at"]
    assert data["customer_answers"]["package_found"] is False
    assert data["agent_notes"][-1]["note"] == "Customer says the porch camera shows no drop-off"
    assert data["serial_numbers"] == ["C02XK1"]
    assert data["attachments"] == [{"kind": "invoice", "file": "invoice.pdf", "from": str(invoice)}]
    assert (out / "invoice.pdf").read_bytes() == b"%PDF-1.4 invoice"
    md = (out / "packet.md").read_text()
    for words in ("# Carrier claim packet: case MO-261127-KAI01", "recoverable 100.00 of 1,249.00 USD",
                  "Serial numbers: C02XK1", "## Scans", "package found: no", "porch camera", "invoice: invoice.pdf"):
        assert words in md, words
    assert "INCOMPLETE" not in md


def test_dhl_packet_needs_the_trace_reference(cli, cfg, tmp_path):
    store([build(cfg, "#1007", case_id="MO-261127-DHL01")])
    inv = tmp_path / "inv.pdf"
    inv.write_bytes(b"x")
    r = cli("claim", "packet", "DHL01", "--out", str(tmp_path / "p"), "--invoice", str(inv))
    assert r.code == 1 and "completed trace reference (--trace-ref REF)" in r.err
    r = cli("claim", "packet", "DHL01", "--out", str(tmp_path / "p"), "--invoice", str(inv), "--trace-ref", "TR-9")
    assert r.code == 0, r.err
    assert json.loads((tmp_path / "p" / "packet.json").read_text())["trace_reference"] == "TR-9"


def test_packet_bad_input(cli, ava, tmp_path):
    r = cli("claim", "packet", "AVA01", "--out", str(tmp_path / "p"), "--invoice", str(tmp_path / "nope.pdf"))
    assert r.code == 2 and "no such file" in r.err
    from mocli.config import load_config

    store([build(load_config(), "#1004", case_id="MO-261127-NOSHP")])
    r = cli("claim", "packet", "NOSHP", "--out", str(tmp_path / "p"))
    assert r.code == 1 and "nothing to claim" in r.err



@pytest.mark.usefixtures("ups_server")
def test_packet_fetches_the_delivery_photo_from_the_carrier(cli, cfg, tmp_path):
    case = build(cfg, "#1001", case_id="MO-261127-PHOTO")
    case["tracking"]["tracking_number"] = "1Z999AA10123456784"  # the UPS fixture's delivered parcel
    case["tracking"]["proof_of_delivery"]["photo_available"] = True
    store([case])
    inv = tmp_path / "inv.pdf"
    inv.write_bytes(b"x")
    r = cli("claim", "packet", "PHOTO", "--out", str(tmp_path / "p"), "--invoice", str(inv))
    assert r.code == 0, r.err
    photo = tmp_path / "p" / "proof-of-delivery-photo.png"
    assert photo.read_bytes().startswith(b"\x89PNG") and (photo.stat().st_mode & 0o777) == 0o600
    data = json.loads((tmp_path / "p" / "packet.json").read_text())
    assert {"kind": "pod_photo", "file": "proof-of-delivery-photo.png", "from": "carrier"} in data["attachments"]
    assert "proof-of-delivery-photo.png" in (tmp_path / "p" / "packet.md").read_text()


def test_packet_says_where_to_get_a_photo_the_carrier_did_not_send(cli, ava, tmp_path):
    r = cli("claim", "packet", "AVA01", "--out", str(tmp_path / "p"), "--allow-incomplete")
    assert r.code == 0, r.err
    assert "the carrier has a delivery photo for 1Z4E57A20368154024: save it with `mocli track" in r.err
    md = (tmp_path / "p" / "packet.md").read_text()
    assert "photo available: yes" in md and "gps: 40.66871, -73.98127" in md


def test_filing_too_early_is_recorded_with_a_warning(cli, cfg):
    store([build(cfg, "#1003", case_id="MO-261127-USP03")])  # USPS, first scan 25 Nov: opens 10 Dec
    r = cli("claim", "file", "USP03", "--carrier-ref", "USPS-1", "--amount", "32.99")
    assert r.code == 0, r.err
    assert "warning: the claim clock says it is too early" in r.err


def test_untrusted_text_stays_inert_in_the_packet(cli, cfg, tmp_path):
    case = build(cfg, "#1001", case_id="MO-261127-EVIL1")
    case["history"].append({"at": "2026-11-27T11:00:00-05:00", "agent": "sam", "event": "note",
                            "detail": "see \x1b]8;;http://evil.example\x07here\x1b]8;;\x07 | [bold]x[/bold]\nnext"})
    store([case])
    r = cli("claim", "packet", "EVIL1", "--out", str(tmp_path / "p"), "--allow-incomplete")
    assert r.code == 0, r.err
    md = (tmp_path / "p" / "packet.md").read_text()
    assert "\x1b" not in md and "\x07" not in md
    assert "\\| [bold]x[/bold] next" in md  # one line, the table pipe escaped, markup shown literally
    stored = json.loads((tmp_path / "p" / "packet.json").read_text())["agent_notes"][-1]["note"]
    assert stored == case["history"][-1]["detail"]  # the JSON keeps it exactly as received
