"""`mocli demo`: the demo scenarios, so a new user knows what to type."""

from __future__ import annotations

from mocli.commands.options import Format, Json

SCENARIO_KEYS = ("order", "customer", "tier", "tracking_number", "expected_action", "title")


def demo(
    json_fields: Json("the scenarios") = None,
    fmt: Format = None,
) -> None:
    """List the built-in demo scenarios: customer, order, tracking number and what each exercises.

    Open any of them with new-case, as below; `--json` and `--format` give the list to scripts.

    Examples:
      mocli demo
      mocli new-case --customer ava.thompson@example.com --order 1001
    """
    from mocli.commands.env import current_env
    from mocli.providers.registry import Providers
    from mocli.render import output, t

    how = output.choose(fmt, json_fields)
    fields = output.pick_fields(json_fields, SCENARIO_KEYS)
    env = current_env()
    cfg, now = env.load()
    data = Providers(cfg, now.date()).demo.demo.data
    rows = []
    for s in data["scenarios"]:
        customer = data["customers"].get(s["customer"]) or next(
            (c for c in data["customers"].values() if c.email == s["customer"]), None)
        rows.append({**s, "tier": customer.tier if customer else None})
    columns = [
        output.Column("Order", lambda r: r["order"]),
        output.Column("Customer", lambda r: r["customer"]),
        # At 80 columns: what to type (order, customer) and what it shows; the rest as width allows.
        output.Column("Tier", lambda r: r["tier"], drop=2),
        output.Column("Tracking number", lambda r: r["tracking_number"], lambda r: t(r["tracking_number"] or "-"),
                      drop=3),
        output.Column("Expected action", lambda r: r["expected_action"].split(" (")[0], drop=4),
        output.Column("Exercises", lambda r: r["title"], wrap=True, drop=1),
    ]
    output.emit_rows(rows, columns, how, fields=fields,
                     title="Demo scenarios: mocli new-case --customer EMAIL --order NUMBER")
