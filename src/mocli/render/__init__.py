"""Everything formatted for people: Rich views, and the sanitiser for untrusted text.
Long because every step's panel lives here, beside the sanitiser they all go through.

Text from APIs, the CRM or customers is untrusted: it goes through `sanitize` (control characters,
escape sequences and bidi overrides removed) and into Rich as `Text`, never as markup.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

# C0/C1 controls except \n and \t, DEL, ANSI/OSC escape sequences, bidi controls, zero-width joiners.
_ESCAPES = r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?|\x1b[@-Z\\-_]?"
_CONTROLS = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
MAX_FIELD = 2000


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """A pattern compiled when first used: every start-up loads this module, few runs sanitise anything."""
    return re.compile(pattern)


def sanitize(text: Any, limit: int = MAX_FIELD) -> str:
    """Untrusted text made safe to show: no escape sequences or controls, bounded length."""
    s = str(text)
    s = _compiled(_ESCAPES).sub("", s)
    s = _compiled(_CONTROLS).sub("", s)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


# While a view is being paged: the terminal's width, so the consoles made meanwhile draw for it (with
# colour) into the buffer the pager shows.
_PAGING: dict[str, int] = {}


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    if _PAGING and not stderr:
        return Console(highlight=False, soft_wrap=False, force_terminal=True, width=_PAGING["width"])
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def quiet_console() -> Console:
    """With --json and no terminal the views are not wanted: print them nowhere."""
    import os

    from rich.console import Console

    return Console(file=open(os.devnull, "w"), width=100)  # noqa: SIM115 - lives for the command


def pager_wanted() -> bool:
    """Page only a real terminal (never a pipe or a test's captured output)."""
    return sys.stdout.isatty()


@contextmanager
def paged(no_pager: bool = False) -> Iterator[None]:
    """A long view through the pager on a terminal, like gh: `$MOCLI_PAGER`, else `$PAGER`, else
    `less -R` (with LESS=FRX unless set: quits when the view fits, keeps colours); `--no-pager`, an
    empty pager or `cat` print directly. Never when piped."""
    import io
    import os
    import shlex
    import shutil

    command = os.environ.get("MOCLI_PAGER", os.environ.get("PAGER", "less -R"))
    if no_pager or not pager_wanted() or not command.strip() or command.strip() == "cat":
        yield
        return
    size = shutil.get_terminal_size()
    real, buffer = sys.stdout, io.StringIO()
    _PAGING["width"] = size.columns
    sys.stdout = buffer
    try:
        yield
    finally:
        sys.stdout = real
        _PAGING.clear()
    text = buffer.getvalue()
    if text.count("\n") < size.lines:
        real.write(text)
        real.flush()
        return
    import subprocess

    env = {**os.environ, "LESS": os.environ.get("LESS", "FRX")}
    try:
        subprocess.run(shlex.split(command), input=text, text=True, env=env, check=False)
    except (OSError, ValueError):  # no such pager: the view is not lost
        real.write(text)
        real.flush()


def t(text: Any, style: str = "") -> Any:
    """A Rich Text from untrusted text: sanitised, never parsed as markup."""
    from rich.text import Text

    return Text(sanitize("" if text is None else text), style=style)


# Characters JSON may carry raw that a terminal would act on (C1 controls such as U+009B CSI, bidi
# overrides, line separators): written as \uXXXX escapes, so the decoded data is exactly what was stored.
_JSON_UNSAFE = "[\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]"


def json_safe(text: str) -> str:
    """JSON text with terminal-active characters escaped (json.dumps already escapes C0 controls)."""
    return _compiled(_JSON_UNSAFE).sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def print_json(data: Any) -> None:
    """Data for scripts on stdout: stable, UTF-8, nothing else on the line."""
    import json  # here, not at the top: `mocli --help` loads this package (render.output) and needs no JSON

    sys.stdout.write(json_safe(json.dumps(data, indent=2, ensure_ascii=False, default=str)) + "\n")
    sys.stdout.flush()


def print_ndjson(rows: list[Any]) -> None:
    """One JSON object per line, for streaming tools (jq -c, log shippers)."""
    import json

    for row in rows:
        sys.stdout.write(json_safe(json.dumps(row, ensure_ascii=False, default=str)) + "\n")
    sys.stdout.flush()


def stdout_is_terminal() -> bool:
    """Whether people read stdout (tables) or a program does (rows): the one place that decides."""
    return sys.stdout.isatty()


STATUS_STYLE = {
    "delivered": "bold green", "in_transit": "cyan", "out_for_delivery": "bold cyan",
    "pre_transit": "dim", "attempt_failed": "yellow", "available_for_pickup": "yellow",
    "exception": "bold red", "return_to_sender": "red", "cancelled": "red", "expired": "red",
    "unknown": "magenta",
}
ACTION_STYLE = {
    "refund_or_replacement": "bold green", "carrier_investigation": "bold yellow",
    "fraud_review": "bold red", "awaiting_shipment": "bold cyan", "awaiting_delivery": "bold cyan",
    "found": "bold green",
}


def status_badge(status: str) -> Any:
    from rich.text import Text

    return Text(f" {status.replace('_', ' ').upper()} ", style=f"reverse {STATUS_STYLE.get(status, '')}")


def _kv_table(rows: list[tuple[str, Any]]):
    from rich.table import Table

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        if value is None or value == "":
            continue
        table.add_row(key, value if not isinstance(value, str) else t(value))
    return table


def customer_panel(customer: Any, tier: Any, sla_text: str):
    from rich.panel import Panel

    rows = [
        ("Customer", f"{customer.name} <{customer.email}>" if customer.email else customer.name),
        ("Id", customer.id),
        ("Tier", t(customer.tier, "bold magenta")),
        ("SLA", f"follow up within {sla_text}"),
        ("Handling", tier.notes),
        ("CRM notes", customer.notes),
        ("Customer since", customer.since.isoformat() if customer.since else None),
        ("Prior claims", ", ".join(f"{c.order} ({c.date})" for c in customer.prior_claims) or None),
        ("Source", customer.source),
        ("Check", t(f"missing in {customer.source}: {', '.join(customer.missing)}", "yellow")
         if getattr(customer, "missing", None) else None),
    ]
    return Panel(_kv_table(rows), title="Customer", title_align="left", border_style="magenta")


def order_choice(order: Any) -> str:
    """One line of step 2's order picker: number, date, items, status."""
    items = ", ".join(order.items) or "no items listed"
    if len(items) > 40:
        items = items[:39] + "…"
    return sanitize(f"{order.number}  {order.placed_at:%Y-%m-%d}  {items}  ({order.fulfillment_status})", 120)


def order_panel(order: Any, customer: Any = None):
    from rich.panel import Panel

    value = f"{order.value:,.2f} {order.currency}"
    rows = [
        ("Order", order.number),
        ("Placed", f"{order.placed_at:%Y-%m-%d %H:%M}"),
        ("Expected delivery", order.expected_delivery.isoformat() if order.expected_delivery else "unknown"),
        ("Shipping", " / ".join(x for x in (order.shipping_method, order.carrier) if x) or "not assigned"),
        ("Tracking number", order.tracking_number or "none yet"),
        ("Ship to", order.address.one_line()),
        ("Fulfilment", order.fulfillment_status),
        ("Warehouse", order.warehouse),
        ("Value", value),
        ("Items", ", ".join(order.items) or None),
    ]
    if customer is not None and customer.address and customer.address.key() != order.address.key():
        rows.append(("CRM address", t(f"{customer.address.one_line()}  (differs from the order!)", "yellow")))
    return Panel(_kv_table(rows), title="Order", title_align="left", border_style="blue")


LOCAL_NOTE = " (local time at the place; the carrier gave no offset)"


def carrier_time(when: Any, fmt: str = "%Y-%m-%d %H:%M", note: str = " local") -> str:
    """A carrier time as the carrier gave it; one without an offset says it is local to its place."""
    return f"{when:{fmt}}".rstrip() + ("" if when.tzinfo is not None else note)


def estimate(tracking: Any) -> str | None:
    """The carrier's estimate: one time, or its window ('2026-11-30 13:00 – 17:00')."""
    end, start = tracking.estimated_delivery, getattr(tracking, "estimated_delivery_from", None)
    if end is None:
        return None
    if start is None:
        return carrier_time(end, note=LOCAL_NOTE)
    tail = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%Y-%m-%d %H:%M}"
    return f"{start:%Y-%m-%d %H:%M} – {tail}" + ("" if end.tzinfo is not None else LOCAL_NOTE)


def timeline_table(tracking: Any, limit: int = 8):
    from rich.table import Table

    table = Table(title=None, show_edge=False, pad_edge=False, expand=False)
    table.add_column("When", no_wrap=True)
    table.add_column("Status")
    table.add_column("Event")
    table.add_column("Where")
    for ev in tracking.events[:limit]:
        table.add_row(carrier_time(ev.at), t(ev.status, STATUS_STYLE.get(ev.status, "")),
                      t(ev.description), t(ev.location or ""))
    return table


def tracking_link(tracking: Any) -> Any:
    """`Tracking page: URL` on one line, for under the tracking panel: print it with `soft_wrap=True`
    so the URL stays whole (a panel would fold it), clickable where the terminal supports links."""
    from rich.text import Text

    from mocli.tracking.detect import tracking_page

    url = tracking_page(tracking.carrier, tracking.tracking_number)
    if url is None:
        return Text("")
    return Text.assemble(("Tracking page: ", "bold"), (url, f"link {url}"))


def tracking_panel(tracking: Any, situation: tuple[str, str] | None = None):
    """Status, carrier, estimate and timeline; `situation` (late or stalled, why) under the status."""
    from rich.console import Group
    from rich.panel import Panel

    head = _kv_table([
        ("Status", status_badge(tracking.status)),
        ("Situation", t(f"{str(situation[0]).upper()}: {situation[1]}", "bold red") if situation else None),
        ("Carrier", f"{tracking.carrier} {tracking.tracking_number}"),
        ("Estimated delivery", estimate(tracking)),
        ("Carrier says", tracking.raw_description),
        *[("Check", t(flag, "yellow")) for flag in getattr(tracking, "flags", [])],
    ])
    return Panel(Group(head, timeline_table(tracking)), title="Tracking", title_align="left", border_style="cyan")


def delivery_panel(tracking: Any):
    from rich.panel import Panel

    pod = tracking.proof_of_delivery
    rows: list[tuple[str, Any]] = [
        ("Delivered", carrier_time(tracking.delivered_at, "%A %Y-%m-%d at %H:%M %Z", LOCAL_NOTE)
         if tracking.delivered_at else None),
        ("Where", tracking.delivered_location),
    ]
    if pod is not None:
        rows += [
            ("Photo", "yes (not shown here; see the carrier's site or `mocli track --save-proof`)"
             if pod.photo_available else "no"),
            ("Signature", "yes" if pod.signature_available else "no"),
            ("Received by", pod.received_by),
            ("Location note", pod.location_note),
            ("GPS", f"{pod.gps.lat:.5f}, {pod.gps.lon:.5f}" if pod.gps else None),
        ]
    else:
        rows.append(("Proof of delivery", "none available"))
    exceptions = [e for e in tracking.events if e.status in ("exception", "attempt_failed")]
    for ev in exceptions:
        rows.append(("Exception", f"{ev.at:%Y-%m-%d} {sanitize(ev.description)}"))
    return Panel(_kv_table(rows), title="Delivery and proof", title_align="left", border_style="green")


def decision_panel(case: Any, sla_text: str):
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    d = case.decision
    parts: list[Any] = [
        Text.assemble(("Action  ", "bold"), (d.action.replace("_", " "), ACTION_STYLE.get(d.action, "bold"))),
        Text.assemble(("Macro   ", "bold"), (d.macro, "bold")),
        Text("Why", style="bold"),
    ]
    parts += [t(f"  • {r}") for r in d.reasons]
    if case.signals:
        parts.append(Text("Fraud signals", style="bold red"))
        parts += [t(f"  • {s.rule}: {s.evidence}") for s in case.signals]
    parts.append(Text.assemble(("Follow up by  ", "bold"),
                               f"{case.follow_up_by:%A %Y-%m-%d %H:%M %Z}  ({sla_text})"))
    return Panel(Group(*parts), title="Decision", title_align="left", border_style="yellow")


def message_panel(message: str, macro: str, locale: dict | None = None):
    """The customer message, ready to paste, under the exact macro to apply (never truncated), with
    the language it is written in and why, and a warning when it fell back to the default texts.

    Between two rules and with no side borders or hard line breaks: a mouse copy brings plain
    paragraphs into the helpdesk. Print it with `crop=False` so long lines reach the terminal whole
    (the terminal wraps them on screen only).
    """
    from rich.console import Group
    from rich.rule import Rule
    from rich.text import Text

    macro_line = Text.assemble(("Apply macro: ", "bold"), (sanitize(macro), "bold green"))
    lines: list = [macro_line]
    if locale:
        lines.append(Text.assemble(("Language: ", "bold"), (sanitize(f"{locale.get('used')} ({locale.get('why')})"),
                                                             "")))
        if locale.get("note"):
            lines.append(t(f"Note: {locale['note']}", "bold yellow"))
    # Its inputs are bounded, the message never is.
    body = Text(sanitize(message, limit=len(message) + 1).strip("\n"), no_wrap=True, overflow="ignore")
    return Group(*lines, Rule("Customer message (ready to paste)", align="left", style="green"), body,
                 Rule(style="green"))


def copy_to_clipboard(text: str) -> str | None:
    """Put `text` on the terminal's clipboard with OSC 52 (works over SSH); why not, when it cannot."""
    import base64
    import os

    if not stdout_is_terminal():
        return "stdout is not a terminal (OSC 52 needs one)"
    seq = f"\x1b]52;c;{base64.b64encode(sanitize(text, limit=100_000).encode()).decode()}\x07"
    if os.environ.get("TMUX"):  # tmux passes it on only inside its own escape
        seq = "\x1bPtmux;" + seq.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    sys.stdout.write(seq)
    sys.stdout.flush()
    return None
