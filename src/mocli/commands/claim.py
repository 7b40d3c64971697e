"""`mocli claim status | file | update | packet`: the carrier claim for a case, from the claim clock
to the money recovered (the status in claim_ledger.py, its views in render/claims.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mocli.commands.options import Agent, CaseRef, Db, JsonOut

app = typer.Typer(help="Carrier claims: when a claim can be filed, the claim packet, and the recovery ledger.",
                  no_args_is_help=True)



# ---------------------------------------------------------------- commands


@app.command("status")
def status(
    case_ref: CaseRef,
    json_out: JsonOut("Print the claim status as JSON.") = False,
    db: Db = None,
) -> None:
    """When the carrier claim can be filed, what the carrier expects next, and how much is recoverable.

    The clock says too early (from when), eligible (until when), expiring (the deadline is near) or
    expired, from the carrier's rule in claims.toml; the money is the carrier's cover against the
    order value.

    Examples:
      mocli claim status 7K2QF
      mocli claim status MO-261127-7K2QF --json
    """
    from mocli.claim_ledger import status_record
    from mocli.commands.env import current_env

    env = current_env()
    cfg, now = env.load(read_only=True)
    case = env.store(cfg, db).find(case_ref)
    record = status_record(case, now.date())
    if json_out:
        from mocli.render import print_json

        print_json(record)
        return
    from mocli.render.claims import status_panel

    env.console().print(status_panel(record))


@app.command("file")
def file(
    case_ref: CaseRef,
    carrier_ref: str = typer.Option(..., "--carrier-ref", metavar="REF",
                                    help="The claim number the carrier gave."),
    amount: float = typer.Option(..., "--amount", metavar="N", help="The amount claimed."),
    currency: str = typer.Option(None, "--currency", help="Currency of the amount (default: the order's)."),
    agent: Agent = None,
    json_out: JsonOut("Print the updated case as JSON.") = False,
    db: Db = None,
) -> None:
    """Record the carrier claim filed for a case (the recovery ledger starts at "filed").

    Example: mocli claim file 7K2QF --carrier-ref 1Z-CLM-0042 --amount 100
    """
    import re
    import sys

    from mocli import claim_ledger
    from mocli.claim_ledger import status_record
    from mocli.commands.env import current_env
    from mocli.errors import InvalidInput
    from mocli.policy import resolving
    from mocli.render import sanitize

    ref = resolving.clean_text(carrier_ref, "--carrier-ref")
    if ref is None:
        raise InvalidInput("--carrier-ref is empty")
    if currency is not None and not re.fullmatch(r"[A-Za-z]{3}", currency):
        raise InvalidInput(f"--currency must be a three-letter code such as USD (got {currency!r})")
    env = current_env()
    cfg, now = env.load(read_only=True)
    who = env.agent(agent)
    cases = env.store(cfg, db)
    case = cases.find(case_ref)
    record = status_record(case, now.date())  # before the write: a bad rules file fails with nothing changed

    def change(stored: dict[str, Any]) -> dict[str, Any]:
        return claim_ledger.file_claim(
            stored, carrier=record["carrier"] or "unknown", carrier_ref=ref, amount=amount,
            currency=(currency or record["currency"]).upper(), deadline=record["expires"], rule=record["rule"],
            now=now, agent=who)

    updated = cases.update(case["id"], change)
    if json_out:
        from mocli.render import print_json

        print_json(updated)
    warn = {"expired": " (warning: the claim clock says the deadline has passed)",
            "too_early": " (warning: the claim clock says it is too early; the carrier may refuse it)"}
    sys.stderr.write(sanitize(f"claim {ref} filed on {updated['id']} for {amount:,.2f} "
                              f"{updated['carrier_claim']['currency']}{warn.get(record['state'], '')}") + "\n")


@app.command("update")
def update(
    case_ref: CaseRef,
    new_status: str = typer.Option(..., "--status", metavar="submitted|approved|partial|denied|paid",
                                   help="The claim's new status (the ledger allows filed → submitted → "
                                        "approved/partial/denied/paid; approved/partial → paid; denied → "
                                        "submitted)."),
    paid: float = typer.Option(None, "--paid", metavar="N", help="With --status paid: the amount paid."),
    note: str = typer.Option(None, "--note", help="A note recorded with the change."),
    agent: Agent = None,
    json_out: JsonOut("Print the updated case as JSON.") = False,
    db: Db = None,
) -> None:
    """Move a case's carrier claim to its next status; every change is a history entry.

    The moves: filed to submitted; submitted to approved, partial, denied or paid; approved and partial
    to paid; denied back to submitted (an appeal). Any other move is refused and nothing changes.

    Examples:
      mocli claim update 7K2QF --status submitted
      mocli claim update 7K2QF --status paid --paid 100
    """
    import sys

    from mocli import claim_ledger
    from mocli.commands.env import current_env
    from mocli.policy import resolving
    from mocli.render import sanitize

    text = resolving.clean_text(note, "--note")
    env = current_env()
    cfg, now = env.load(read_only=True)
    who = env.agent(agent)
    updated = env.store(cfg, db).update(case_ref, lambda c: claim_ledger.update_claim(
        c, status=new_status.strip().lower(), paid=paid, note=text, now=now, agent=who))
    if json_out:
        from mocli.render import print_json

        print_json(updated)
    sys.stderr.write(sanitize(f"{updated['id']}: {updated['history'][-1]['detail']}") + "\n")


@app.command("packet")
def packet(
    case_ref: CaseRef,
    out: Path = typer.Option(..., "--out", metavar="DIR", file_okay=False,
                             help="Folder for packet.json, packet.md and the attachments (made 0700 if new)."),
    invoice: Path = typer.Option(None, "--invoice", metavar="FILE", dir_okay=False,
                                 help="The invoice (proof of value), copied into the packet."),
    receipt: Path = typer.Option(None, "--receipt", metavar="FILE", dir_okay=False,
                                 help="Proof of mailing or insurance (receipt, label), copied into the packet."),
    photo: list[Path] = typer.Option(None, "--photo", metavar="FILE", dir_okay=False,
                                     help="A photo of the items or packaging (repeatable)."),
    pod_photo: Path = typer.Option(None, "--pod-photo", metavar="FILE", dir_okay=False,
                                   help="The carrier's delivery photo, if saved already (mocli track "
                                        "--save-proof); otherwise mocli asks the carrier for it."),
    serial: list[str] = typer.Option(None, "--serial", metavar="TEXT", help="A serial number (repeatable)."),
    trace_ref: str = typer.Option(None, "--trace-ref", metavar="REF",
                                  help="The carrier's completed trace / search reference."),
    allow_incomplete: bool = typer.Option(False, "--allow-incomplete",
                                          help="Write the packet even while required evidence is missing."),
    json_out: JsonOut("Print packet.json on stdout too.") = False,
    db: Db = None,
) -> None:
    """Write the claim packet for the carrier, and list the evidence it still lacks.

    packet.json and a readable packet.md hold the order, value and items, every scan, proof of delivery
    (and its photo where the carrier gives one), the customer's step-5 answers, the agent's notes, and
    the list of what is still missing for that carrier.

    Exit 1 while a required item is missing (nothing is written), unless --allow-incomplete.

    Examples:
      mocli claim packet 7K2QF --out packet --invoice bill.pdf --serial SN-4411
      mocli claim packet 7K2QF --out claim-7K2QF --allow-incomplete
    """
    import json
    import sys

    from mocli.claim_ledger import status_record
    from mocli.commands.env import current_env
    from mocli.errors import InvalidInput, MocliError
    from mocli.policy import resolving
    from mocli.policy.claims import EVIDENCE_LABELS, missing_evidence
    from mocli.render import sanitize

    serials = [s for s in (resolving.clean_text(x, "--serial") for x in serial or ()) if s]
    trace = resolving.clean_text(trace_ref, "--trace-ref")
    files = {"invoice": invoice, "receipt": receipt, "pod_photo": pod_photo}
    for i, p in enumerate(photo or ()):
        files[f"photo-{i + 1}"] = p
    for flag, p in files.items():
        if p is not None and not p.is_file():
            raise InvalidInput(f"--{flag.split('-')[0].replace('_', '-')} {p}: no such file")
    env = current_env()
    cfg, now = env.load(read_only=True)
    case = env.store(cfg, db).find(case_ref)
    record = status_record(case, now.date())
    if record["state"] == "not_needed":
        raise MocliError(f"case {case.get('id')}: nothing to claim from the carrier: "
                         f"{record['summary'].split(': ', 1)[1]}")
    from mocli.claim_rules import load_claim_rules
    from mocli.policy.claims import pick_rule

    facts = record["facts"]
    rule = pick_rule(load_claim_rules().rules, facts["carrier"], facts["service"])
    given = {"invoice": invoice, "receipt": receipt, "serials": serials, "trace_ref": trace}
    missing = missing_evidence(rule, case, given) if rule else []
    if missing and not allow_incomplete:
        raise MocliError(f"the {record['carrier']} claim packet for {case.get('id')} is missing: "
                         + "; ".join(EVIDENCE_LABELS[k] for k in missing)
                         + " (give them, or --allow-incomplete to write it anyway)")
    pod_file, pod_note = None, None
    if files["pod_photo"] is None:
        pod_file, pod_note = _carrier_photo(cfg, now, case)
    data = _packet_data(case, record, now, missing, serials, trace)
    data["proof_of_delivery"]["photo_note"] = pod_note
    written = _write_packet(out, data, files, pod_file)
    if json_out:
        from mocli.render import print_json

        print_json(json.loads((out / "packet.json").read_text()))
    if pod_note:
        sys.stderr.write(sanitize(pod_note) + "\n")
    state = f"INCOMPLETE, missing {len(missing)} item(s)" if missing else "complete"
    sys.stderr.write(sanitize(f"claim packet for {case.get('id')} ({state}) written to {out}: "
                              f"{', '.join(written)}") + "\n")


def _packet_data(case: dict[str, Any], record: dict[str, Any], now: Any, missing: list[str],
                 serials: list[str], trace: str | None) -> dict[str, Any]:
    """packet.json (documented in docs/claims.md)."""
    from mocli.policy.claims import EVIDENCE_LABELS

    order = case.get("order") or {}
    customer = case.get("customer") or {}
    tracking = case.get("tracking") or {}
    answers = dict(case.get("answers") or {})
    notes = [{"at": h.get("at"), "agent": h.get("agent"), "note": h.get("detail")}
             for h in case.get("history") or () if h.get("event") == "note"]
    if answers.get("notes"):
        notes.insert(0, {"at": case.get("created_at"), "agent": case.get("agent"), "note": answers["notes"]})
    answers.pop("notes", None)
    return {
        "format": "mocli-claim-packet/1",
        "generated_at": now.isoformat(),
        "case": case.get("id"),
        "carrier": record["carrier"],
        "rule": record["rule"],
        "rule_source": record["source"],
        "clock": {k: record[k] for k in ("state", "summary", "opens", "expires", "days_left")},
        "recoverable": record["recoverable"],
        "recoverable_text": record["recoverable_text"],
        "claim": case.get("carrier_claim"),
        "order": {k: order.get(k) for k in ("number", "placed_at", "value", "currency", "items",
                                             "shipping_method", "expected_delivery", "address")},
        "recipient": {"name": customer.get("name"), "email": customer.get("email"), "phone": customer.get("phone")},
        "tracking_number": tracking.get("tracking_number") or order.get("tracking_number"),
        "first_carrier_scan": record["facts"]["mailed"],
        "scans": list(reversed(tracking.get("events") or [])),  # oldest first, as a claim form reads
        "proof_of_delivery": {"delivered_at": tracking.get("delivered_at"),
                              "delivered_location": tracking.get("delivered_location"),
                              **(tracking.get("proof_of_delivery") or {})},
        "customer_answers": answers,
        "agent_notes": notes,
        "serial_numbers": serials,
        "trace_reference": trace,
        "attachments": [],
        "missing": [{"item": k, "what": EVIDENCE_LABELS[k]} for k in missing],
        "complete": not missing,
    }


def _carrier_photo(cfg: Any, now: Any, case: dict[str, Any]) -> tuple[Any, str | None]:
    """The delivery photo from the carrier, where it says it has one; else None and why."""
    tracking = case.get("tracking") or {}
    if not (tracking.get("proof_of_delivery") or {}).get("photo_available"):
        return None, None
    number = tracking.get("tracking_number")
    hint = (f"the carrier has a delivery photo for {number}: save it with `mocli track {number} --save-proof "
            "DIR` and pass --pod-photo FILE")
    import asyncio

    from mocli.errors import MocliError
    from mocli.lookups import tracking as run
    from mocli.providers.registry import Providers

    try:
        override = run.override_carrier(tracking.get("carrier"))
        results = asyncio.run(run.track_all(Providers(cfg, now.date()), [number], override, proof=True,
                                            deadline=60))
    except MocliError as exc:
        return None, f"{hint} (asking the carrier failed: {exc})"
    photos = [f for f in results[0].files if f.kind == "photo"]
    if not photos:
        return None, hint + (f" ({results[0].error_message})" if results[0].error_message else "")
    return photos[0], None


def _write_packet(out: Path, data: dict[str, Any], files: dict[str, Path | None], pod_file: Any) -> list[str]:
    """packet.json, packet.md and the attachments, each 0600 and written whole; the names written."""
    import json
    import os

    from mocli.errors import InvalidInput
    from mocli.render.claims import packet_markdown
    from mocli.store import atomic_write

    try:
        if not out.exists():
            out.mkdir(parents=True, mode=0o700)
            os.chmod(out, 0o700)  # mkdir's mode is masked by the umask
    except OSError as exc:
        raise InvalidInput(f"--out {out}: cannot create: {exc.strerror}") from None
    written: list[str] = []
    names = {"invoice": "invoice", "receipt": "proof-of-mailing", "pod_photo": "proof-of-delivery-photo"}
    for key, path in files.items():
        if path is None:
            continue
        name = f"{names.get(key, key)}{path.suffix.lower()}"
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"{path}: cannot read: {exc.strerror}") from None
        atomic_write(out / name, content)
        data["attachments"].append({"kind": key, "file": name, "from": str(path)})
        written.append(name)
    if pod_file is not None:
        name = f"proof-of-delivery-photo.{pod_file.extension}"
        atomic_write(out / name, pod_file.content)
        data["attachments"].append({"kind": "pod_photo", "file": name, "from": "carrier"})
        written.append(name)
    atomic_write(out / "packet.json", (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())
    atomic_write(out / "packet.md", packet_markdown(data).encode())
    return ["packet.json", "packet.md", *written]
