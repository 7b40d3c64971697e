"""The report's views: the same figures as JSON, NDJSON, tab-separated rows, CSV, Markdown or tables.

`show_report` picks the view for the format from one table; each view takes the figures as
`reporting.figures` computes them (masked or not: that is the command's choice).
"""

from __future__ import annotations

from typing import Any

BAR_WIDTH = 28


def show_report(figures: dict[str, Any], fmt: str, fields: list[str] | None, no_pager: bool = False) -> None:
    """Print the report in `fmt` (`fields`: only those keys of the JSON)."""
    VIEWS[fmt](figures, fields=fields, no_pager=no_pager)


def _json(figures: dict[str, Any], *, fields: list[str] | None, **_: Any) -> None:
    import sys

    import orjson  # noqa: TID253 (loaded by the store already)

    from mocli.render import json_safe
    from mocli.render.output import select

    sys.stdout.write(json_safe(orjson.dumps(select(figures, fields), option=orjson.OPT_INDENT_2).decode()) + "\n")
    sys.stdout.flush()


def _table(figures: dict[str, Any], *, no_pager: bool, **_: Any) -> None:
    from mocli.render import paged

    with paged(no_pager):
        _tables(figures)


def _print_markdown(figures: dict[str, Any], **_: Any) -> None:
    import sys

    sys.stdout.write(_markdown(figures) + "\n")
    sys.stdout.flush()


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dict):
        return ", ".join(f"{v:,.2f} {k}" for k, v in value.items()) or "0"
    return str(value)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _rounded(measure: str, value: Any) -> Any:
    """A figure rounded as the table shows it (a rate to 0.1%, hours and money to 0.01), not 0.0550000001."""
    if isinstance(value, float):
        return round(value, 3 if measure.endswith("rate") else 2)
    return value


def _csv(figures: dict[str, Any], **_: Any) -> None:
    import csv
    import sys

    from mocli.reporting import rows

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["section", "key", "measure", "value"])
    from mocli.render import sanitize

    def cell(text: str) -> str:
        # Sanitised (a CSV is often just `cat`), and never a live formula in a spreadsheet.
        return _inert(sanitize(text))

    for section, key, measure, value in rows(figures):
        value = _rounded(measure, value)
        writer.writerow([cell(section), cell(key), cell(measure),
                         "" if value is None else cell(value) if isinstance(value, str) else value])


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(text: str) -> str:
    """A text cell a spreadsheet shows as text: OWASP's CSV-injection advice, a leading apostrophe."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _rows(figures: dict[str, Any], fmt: str) -> None:
    """The CSV's rows as tab-separated lines (no header, as gh prints piped) or JSON objects per line."""
    from mocli.render import print_ndjson
    from mocli.render.output import cell
    from mocli.reporting import rows

    if fmt == "ndjson":
        print_ndjson([{"section": s, "key": k, "measure": m, "value": _rounded(m, v)}
                      for s, k, m, v in rows(figures)])
        return
    import sys

    for s, k, m, v in rows(figures):
        sys.stdout.write("\t".join(cell(x) for x in (s, k, m, _rounded(m, v))) + "\n")
    sys.stdout.flush()


def _md_cell(value: Any) -> str:
    from mocli.render import sanitize

    return sanitize(_fmt(value)).replace("|", "\\|").replace("\n", " ")


def _markdown(figures: dict[str, Any]) -> str:
    from mocli import reporting

    lines = [f"# {_md_cell(reporting.title(figures))}", ""]
    ttr = figures["time_to_resolution_hours"]
    summary = [("Cases opened", figures["total"]), ("Open", figures["open"]), ("Resolved", figures["resolved"]),
               ("Follow-ups overdue", figures["overdue_follow_ups"]),
               ("Median time to resolution (h)", ttr["median"]), ("90th percentile (h)", ttr["p90"]),
               ("Refunds", f"{figures['refunds']['count']} ({_fmt(figures['refunds']['total'])})"),
               ("Reshipments", f"{figures['reshipments']['count']} ({_fmt(figures['reshipments']['value'])})"),
               ("Fraud reviews opened", figures["fraud_reviews"]["opened"])]
    lines += ["| Figure | Value |", "|---|---|"] + [f"| {k} | {_md_cell(v)} |" for k, v in summary] + [""]

    def table(title: str, head: list[str], body: list[list[Any]]) -> None:
        if not body:
            return
        lines.extend([f"## {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)])
        lines.extend("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in body)
        lines.append("")

    for key, title in (("by_tier", "By tier"), ("by_action", "By action"), ("by_outcome", "By outcome"),
                       ("by_remedy", "By remedy")):
        table(title, ["", "Cases"], [[k, v] for k, v in figures[key].items()])
    table("Carriers", ["Carrier", "Cases", "Claims", "Claim rate", "Found", "Lost", "Lost rate"],
          [[k, v["cases"], v["claims"], _pct(v["claim_rate"]), v["found"], v["lost"], _pct(v["lost_rate"])]
           for k, v in figures["carriers"].items()])
    table("Carrier claims: recovery", RECOVERY_HEAD, _recovery_rows(figures))
    table("SLA by tier", ["Tier", "Cases", "Settled", "Breached", "Breach rate"],
          [[k, v["cases"], v["settled"], v["breached"], _pct(v["breach_rate"])]
           for k, v in figures["sla_by_tier"].items()])
    table("Fraud signals", ["Rule", "Cases"], [[k, v] for k, v in figures["fraud_reviews"]["signals"].items()])
    rc = figures["repeat_claimants"]
    table(f"Repeat claimants: customers ({_of(len(rc['customers']), rc['customers_total'])})",
          ["Customer", "Email", "Claims", "Cases"],
          [[r["customer"], r["email"], r["claims"], ", ".join(r["cases"])] for r in rc["customers"]])
    table(f"Repeat claimants: addresses ({_of(len(rc['addresses']), rc['addresses_total'])})",
          ["Address", "Customers", "Claims"], [[r["address"], r["customers"], r["claims"]] for r in rc["addresses"]])
    table("Agents", ["Agent", "Opened", "Open", "Resolved", "Overdue"],
          [[k, v["opened"], v["open"], v["resolved"], v["overdue"]] for k, v in figures["by_agent"].items()])
    table("Trends per week (breach rate: follow-ups due that week not met)",
          ["Week of", "Opened", "Resolved", "Breach rate"],
          [[w["week"], w["opened"], w["resolved"], _pct(w["breach_rate"])] for w in figures.get("trends", ())])
    overdue = figures.get("overdue_cases", ())
    table(f"Overdue follow-ups (most late first; {_of(len(overdue), figures['overdue_follow_ups'])})",
          ["Case", "Agent", "Tier", "Follow up by", "Late"],
          [[r["id"], r["agent"], r["tier"], str(r["follow_up_by"])[:16], reporting.late(r["hours_late"])]
           for r in overdue])
    return "\n".join(lines).rstrip() + "\n"


def _of(shown: int, total: int, hint: bool = True) -> str:
    """How much of a list the report names: `all 12`, or `top 20 of 146,212; --top 0 lists them all`."""
    if shown >= total:
        return f"all {total:,}"
    return f"top {shown:,} of {total:,}" + ("; --top 0 lists them all" if hint else "")


RECOVERY_HEAD = ["Carrier", "Filed", "Paid", "Denied", "Pending", "Claimed", "Recovered", "Lost", "Recovery rate",
                 "Expired unfiled", "Left with carrier"]


def _recovery_rows(figures: dict[str, Any]) -> list[list[Any]]:
    return [[k, v["filed"], v["paid"], v["denied"], v["pending"], _fmt(v["claimed"]), _fmt(v["recovered"]),
             _fmt(v["lost"]), _pct(v["recovery_rate"]), v["expired_unfiled"], _fmt(v["left_with_carrier"])]
            for k, v in (figures.get("recovery") or {}).items()]


class _Bar:
    """A bar chart cell that takes the width its column is given (up to BAR_WIDTH), so a narrow
    terminal gets shorter bars instead of bars cut with `…`. `parts`: (value, style, glyph)."""

    def __init__(self, top: float, *parts: tuple[float, str, str]) -> None:
        self.top, self.parts = top, parts

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        from rich.measure import Measurement

        return Measurement(1, BAR_WIDTH)

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.text import Text

        room = min(options.max_width, BAR_WIDTH) - (len(self.parts) - 1)
        share = room // len(self.parts)
        text = Text()
        for i, (value, style, glyph) in enumerate(self.parts):
            width = 0 if not self.top else round(share * value / self.top)
            text.append(("" if i == 0 else " ") + glyph * (width or (1 if value else 0)), style=style)
        yield text


def _bar(value: float, top: float, style: str = "cyan") -> Any:
    return _Bar(top, (value, style, "█"))


def _trend_table(trends: list[dict[str, Any]]) -> Any:
    """Opened and resolved per week as paired bars, with the week's SLA breach rate."""
    from rich.table import Table

    table = Table(title="Trends per week (█ opened, ░ resolved; breach rate: follow-ups due that week not met)",
                  title_justify="left", show_edge=False, pad_edge=False)
    for col in ("Week of", "Opened", "Resolved", "Breach rate", ""):
        table.add_column(col, justify="left" if col in ("Week of", "") else "right")
    top = max((max(w["opened"], w["resolved"]) for w in trends), default=0)
    for w in trends:
        bars = _Bar(top, (w["opened"], "cyan", "█"), (w["resolved"], "green", "░"))
        table.add_row(w["week"], str(w["opened"]), str(w["resolved"]), _pct(w["breach_rate"]), bars)
    return table


def _tables(figures: dict[str, Any]) -> None:
    from rich.columns import Columns
    from rich.panel import Panel
    from rich.table import Table

    from mocli.render import console, t
    from mocli.reporting import late, title

    out = console()
    ttr = figures["time_to_resolution_hours"]
    head = Table.grid(padding=(0, 3))
    head.add_column(style="bold")
    head.add_column(justify="right")
    for k, v in (("Cases opened", figures["total"]), ("Open", figures["open"]), ("Resolved", figures["resolved"]),
                 ("Follow-ups overdue", figures["overdue_follow_ups"]),
                 ("Time to resolution, median", f"{_fmt(ttr['median'])} h"),
                 ("Time to resolution, 90th pct", f"{_fmt(ttr['p90'])} h"),
                 ("Refunds", f"{figures['refunds']['count']}  ({_fmt(figures['refunds']['total'])})"),
                 ("Reshipments", f"{figures['reshipments']['count']}  ({_fmt(figures['reshipments']['value'])})"),
                 ("Fraud reviews opened", figures["fraud_reviews"]["opened"])):
        head.add_row(k, t(_fmt(v), "bold red" if k == "Follow-ups overdue" and v else ""))
    out.print(t(title(figures), "bold"))  # above the panel: a long list of filters is never cut
    out.print(Panel(head, border_style="magenta", expand=False))
    if not figures["total"]:
        out.print("No cases in this period.")
        return

    def counts(title: str, data: dict[str, int], style: str) -> Any:
        table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
        table.add_column("")
        table.add_column("Cases", justify="right")
        table.add_column("", min_width=BAR_WIDTH)
        top = max(data.values(), default=0)
        for k, v in data.items():
            table.add_row(t(k.replace("_", " ")), str(v), _bar(v, top, style))
        return table

    out.print(Columns([counts("By tier", figures["by_tier"], "magenta"),
                       counts("By action", figures["by_action"], "yellow")], padding=(0, 4)))
    if figures["by_outcome"] or figures["by_remedy"]:
        out.print(Columns([counts("By outcome", figures["by_outcome"], "green"),
                           counts("By remedy", figures["by_remedy"], "green")], padding=(0, 4)))

    carriers = Table(title="Carriers (claim rate: claims / cases; lost rate: lost / found or lost)",
                     title_justify="left", show_edge=False, pad_edge=False)
    for col in ("Carrier", "Cases", "Claims", "Claim rate", "Lost", "Lost rate", ""):
        carriers.add_column(col, justify="left" if col in ("Carrier", "") else "right", min_width=0)
    for name, c in figures["carriers"].items():
        carriers.add_row(t(name), str(c["cases"]), str(c["claims"]), _pct(c["claim_rate"]), str(c["lost"]),
                         _pct(c["lost_rate"]), _bar(c["lost_rate"] or 0, 1, "red"))
    out.print(carriers)
    if body := _recovery_rows(figures):
        rec = Table(title="Carrier claims: recovery (recovery rate: recovered / lost; expired unfiled: money left "
                          "with the carrier)", title_justify="left", show_edge=False, pad_edge=False)
        for col in RECOVERY_HEAD:
            rec.add_column(col, justify="left" if col == "Carrier" else "right")
        for r in body:
            rec.add_row(*[t(str(c), "bold red" if i == 9 and c else "") for i, c in enumerate(r)])
        out.print(rec)

    sla = Table(title="SLA by tier (breached: not resolved by the follow-up time)", title_justify="left",
                show_edge=False, pad_edge=False)
    for col in ("Tier", "Cases", "Settled", "Breached", "Breach rate", ""):
        sla.add_column(col, justify="left" if col in ("Tier", "") else "right")
    for name, s in figures["sla_by_tier"].items():
        sla.add_row(t(name), str(s["cases"]), str(s["settled"]), str(s["breached"]), _pct(s["breach_rate"]),
                    _bar(s["breach_rate"] or 0, 1, "red"))
    out.print(sla)

    trends = figures.get("trends") or []
    if len(trends) > 1:
        out.print(_trend_table(trends))
    overdue = figures.get("overdue_cases") or []
    if overdue:
        from mocli.render.output import Column, fitted_table

        shown = overdue
        cols = [Column("Case", lambda r: r["id"]), Column("Agent", lambda r: r["agent"]),
                Column("Late", lambda r: late(r["hours_late"]), lambda r: t(late(r["hours_late"]), "bold red")),
                Column("Follow up by", lambda r: str(r["follow_up_by"])[:16], drop=2),
                Column("Tier", lambda r: r["tier"], drop=1)]
        left = figures["overdue_follow_ups"] - len(shown)
        more = f"; {left:,} more: --top 0 lists them all" if left > 0 else ""
        out.print(fitted_table(shown, cols, title=f"Overdue follow-ups (most late first{more})"))

    agents = Table(title="Agents", title_justify="left", show_edge=False, pad_edge=False)
    for col in ("Agent", "Opened", "Open", "Resolved", "Overdue", ""):
        agents.add_column(col, justify="left" if col in ("Agent", "") else "right")
    top = max((a["open"] for a in figures["by_agent"].values()), default=0)
    for name, a in figures["by_agent"].items():
        agents.add_row(t(name), str(a["opened"]), str(a["open"]), str(a["resolved"]),
                       t(str(a["overdue"]), "bold red" if a["overdue"] else ""), _bar(a["open"], top, "blue"))
    out.print(agents)

    fraud = figures["fraud_reviews"]["signals"]
    if fraud:
        out.print(counts("Fraud review signals", fraud, "red"))
    rc = figures["repeat_claimants"]
    if rc["customers"] or rc["addresses"]:
        title = (f"Repeat claimants (customers: {_of(len(rc['customers']), rc['customers_total'], False)}; "
                 f"addresses: {_of(len(rc['addresses']), rc['addresses_total'], False)}")
        cut = len(rc["customers"]) < rc["customers_total"] or len(rc["addresses"]) < rc["addresses_total"]
        title += "; --top 0 lists them all)" if cut else ")"
        rep = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
        rep.add_column("Customer / address")
        rep.add_column("Claims", justify="right")
        rep.add_column("Detail")
        for r in rc["customers"]:
            rep.add_row(t(f"{r['customer']} {r['email']}"), str(r["claims"]), t(", ".join(r["cases"][:4])))
        for r in rc["addresses"]:
            rep.add_row(t(r["address"]), str(r["claims"]), t(f"{r['customers']} different customers"))
        out.print(rep)


VIEWS = {"json": _json, "ndjson": lambda figures, **_: _rows(figures, "ndjson"),
         "tsv": lambda figures, **_: _rows(figures, "tsv"), "csv": _csv, "markdown": _print_markdown,
         "table": _table}
