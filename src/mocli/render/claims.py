"""The carrier claim's views: the one-line status (step 8, `mocli case`), the panel (`mocli claim
status`, `mocli case`) and the claim packet in Markdown (`mocli claim packet`)."""

from __future__ import annotations

from typing import Any


def status_line(record: dict[str, Any]) -> str:
    """One line for `mocli case` and step 8: the clock, the money, and the ledger."""
    parts = [f"carrier claim ({record['carrier'] or 'no carrier'}): {record['summary']}"]
    if record["recoverable_text"] and record["state"] != "not_needed":
        parts.append(record["recoverable_text"])
    if claim := record["claim"]:
        paid = f", paid {claim['paid']:,.2f}" if claim.get("paid") is not None else ""
        parts.append(f"claim {claim['carrier_ref']} {claim['status']} for {claim['amount']:,.2f} "
                     f"{claim['currency']}{paid}")
    if record["next_step"]:
        parts.append(f"next: {record['next_step']}")
    return "; ".join(parts)


def status_panel(record: dict[str, Any]) -> Any:
    """The claim as a Rich panel (also shown by `mocli case`)."""
    from rich.panel import Panel
    from rich.table import Table

    from mocli.render import t

    style = {"eligible": "green", "expiring": "bold yellow", "expired": "bold red", "too_early": "cyan"}
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("Clock", t(record["summary"], style.get(record["state"], "")))
    if record["rule"]:
        grid.add_row("Rule", t(f"{record['rule']} (source checked {record['checked']})"))
    if record["recoverable_text"] and record["state"] != "not_needed":
        grid.add_row("Money", t(record["recoverable_text"]))
    facts = record["facts"]
    shown = [f"{k.replace('_', ' ')} {facts[k]}" for k in ("mailed", "expected_delivery", "delivered") if facts[k]]
    if shown:
        grid.add_row("Dates", t(", ".join(shown) + (" (order date: no carrier scan)" if facts["mailed_assumed"]
                                                    else "")))
    if claim := record["claim"]:
        paid = f", paid {claim['paid']:,.2f}" if claim.get("paid") is not None else ""
        grid.add_row("Claim", t(f"{claim['carrier_ref']}: {claim['status']}, {claim['amount']:,.2f} "
                                f"{claim['currency']} claimed{paid}"))
    if record["next_step"]:
        grid.add_row("Next", t(record["next_step"]))
    return Panel(grid, title="Carrier claim", title_align="left")


def _pod_value(value: Any) -> str:
    from mocli.render import sanitize

    if value is True:
        return "yes"
    if isinstance(value, dict) and {"lat", "lon"} <= set(value):
        return f"{value['lat']}, {value['lon']}"
    return sanitize(value).replace("|", "\\|").replace("\n", " ")


def packet_markdown(data: dict[str, Any]) -> str:
    """packet.md: the same packet for a person (or to paste into the carrier's claim form)."""
    from mocli.render import sanitize

    def s(value: Any) -> str:  # untrusted text stays inert in Markdown too: one line, no markup
        return sanitize("" if value is None else value).replace("|", "\\|").replace("\n", " ")

    order = data["order"]
    lines = [f"# Carrier claim packet: case {s(data['case'])}", ""]
    if not data["complete"]:
        lines += ["**INCOMPLETE: still missing**", ""] + [f"- [ ] {s(m['what'])}" for m in data["missing"]] + [""]
    clock = data["clock"]
    lines += [f"- Carrier: {s(data['carrier'])} ({s(data['rule'])})",
              f"- Tracking number: {s(data['tracking_number'])}",
              f"- Claim clock: {s(clock['summary'])}",
              f"- Money: {s(data['recoverable_text'])}"]
    if data["claim"]:
        c = data["claim"]
        lines.append(f"- Claim: {s(c['carrier_ref'])}, {s(c['status'])}, {c['amount']:,.2f} {s(c['currency'])}")
    lines += ["", "## Order", "",
              f"- Order {s(order['number'])}, placed {s(order['placed_at'])}, "
              f"{(order['value'] or 0):,.2f} {s(order['currency'])}",
              f"- Service: {s(order['shipping_method'])}; expected delivery {s(order['expected_delivery'])}",
              f"- Recipient: {s(data['recipient']['name'])}, "
              f"{s(', '.join(str(v) for v in (order['address'] or {}).values() if v))}",
              "- Items:"] + [f"  - {s(i)}" for i in order["items"] or ["(none listed)"]]
    if data["serial_numbers"]:
        lines += ["- Serial numbers: " + ", ".join(s(x) for x in data["serial_numbers"])]
    if data["trace_reference"]:
        lines += [f"- Carrier trace reference: {s(data['trace_reference'])}"]
    lines += ["", f"## Scans (first carrier scan {s(data['first_carrier_scan'])})", "",
              "| When | Status | Event | Where |", "|---|---|---|---|"]
    lines += [f"| {s(e.get('at'))} | {s(e.get('status'))} | {s(e.get('description'))} | {s(e.get('location'))} |"
              for e in data["scans"]] or ["| - | - | no scans | - |"]
    pod = data["proof_of_delivery"]
    lines += ["", "## Proof of delivery", ""]
    lines += [f"- {k.replace('_', ' ')}: {_pod_value(v)}" for k, v in pod.items() if v not in (None, False, {})] \
        or ["- none"]
    lines += ["", "## Customer's answers (step 5)", ""]
    lines += [f"- {k.replace('_', ' ')}: {'yes' if v is True else 'no' if v is False else s(v)}"
              for k, v in data["customer_answers"].items()] or ["- none"]
    lines += ["", "## Agent's notes", ""]
    lines += [f"- {s(n['at'])[:16]} {s(n['agent'])}: {s(n['note'])}" for n in data["agent_notes"]] or ["- none"]
    lines += ["", "## Attachments", ""]
    lines += [f"- {s(a['kind'])}: {s(a['file'])}" for a in data["attachments"]] or ["- none"]
    return "\n".join(lines) + "\n"
