"""`mocli demo`: the demo scenarios, so a new user knows what to type."""

from __future__ import annotations

import typer


def demo(json_out: bool = typer.Option(False, "--json", help="Print the scenarios as JSON.")) -> None:
    """List the built-in demo scenarios: customer, order, tracking number and what each exercises.

    Example: mocli demo, then: mocli new-case --customer ava.thompson@example.com --order 1001
    """
    from mocli.commands.common import load
    from mocli.providers.registry import Providers
    from mocli.render import print_json

    cfg, now = load()
    data = Providers(cfg, now.date()).demo.demo.data
    rows = []
    for s in data["scenarios"]:
        customer = data["customers"].get(s["customer"]) or next(
            (c for c in data["customers"].values() if c.email == s["customer"]), None)
        rows.append({**s, "tier": customer.tier if customer else None})
    if json_out:
        print_json(rows)
        return
    from rich.table import Table

    from mocli.render import console, t

    table = Table(title="Demo scenarios: mocli new-case --customer EMAIL --order NUMBER", title_justify="left")
    for col in ("Order", "Customer", "Tier", "Tracking number", "Expected action"):
        table.add_column(col, no_wrap=True)
    table.add_column("Exercises", ratio=1)
    for r in rows:
        table.add_row(t(r["order"]), t(r["customer"]), t(r["tier"]), t(r["tracking_number"] or "-"),
                      t(r["expected_action"].split(" (")[0]), t(r["title"]))
    console().print(table)
