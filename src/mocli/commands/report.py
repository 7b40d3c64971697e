"""`mocli report`: volume, outcomes, SLA health, carriers, costs, fraud and repeat claimants for leads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

FORMATS = ("table", "json", "csv", "markdown")
BAR_WIDTH = 28


def report(
    since: str = typer.Option(None, "--since", help="Cases opened on or after: a date (2026-11-01), or 7d, 30d."),
    until: str = typer.Option(None, "--until", help="Cases opened up to the end of this date (or before 7d ago)."),
    agent: str = typer.Option(None, "--agent", help="Only cases opened by this agent."),
    tier: str = typer.Option(None, "--tier", help="Only this tier."),
    carrier: str = typer.Option(None, "--carrier", help="Only parcels with this carrier."),
    fmt: str = typer.Option("table", "--format", "-f", metavar="table|json|csv|markdown",
                            help="Terminal tables with bar charts, or data for scripts, spreadsheets, wikis."),
    db: list[Path] = typer.Option(None, "--db", metavar="PATH",
                                  help="A case file, or a folder of them (*.db); repeat for a team roll-up. "
                                       "A case found in several files counts once (default: your own file)."),
    include_pii: bool = typer.Option(False, "--include-pii", help="Show repeat claimants' emails and addresses "
                                     "unmasked (masked by default in every format)."),
) -> None:
    """Report on the cases opened in a period: volume, outcomes, SLA, carriers, costs, fraud, agents.

    Every figure is over the cases opened in the period (all time without --since/--until).
    JSON keys are documented in docs/lifecycle.md.

    Examples:
      mocli report --since 30d
      mocli report --since 2026-11-01 --until 2026-11-30 --tier VIP --format markdown
      mocli report --db team/ --db ~/ava/cases.db --format json
    """
    from mocli import reporting
    from mocli.commands.common import load
    from mocli.errors import InvalidInput

    if fmt not in FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
    cfg, now = load(read_only=True)  # no business days, no messages
    start = reporting.parse_when(since, now, flag="--since")
    end = reporting.parse_when(until, now, flag="--until", end=True)
    if start and end and start >= end:
        raise InvalidInput("--since must be before --until")
    import gc

    collecting = gc.isenabled()
    gc.disable()  # ~10^6 acyclic objects made here: the cyclic collector would only cost time
    try:
        filters = reporting.Filters(since=start, until=end, agent=agent, tier=tier, carrier=carrier)
        if cfg.settings.store.url and not db:  # the team's store: the database computes the figures
            from mocli.commands.common import store

            team = store(cfg)
            figures = reporting.figures([], now, since=start, until=end, sources=[team.where],
                                        filters={"agent": agent, "tier": tier, "carrier": carrier})
            figures.update({k: v for k, v in team.report(filters, now).items()
                            if k not in ("generated_at", "period", "filters", "sources")})
        else:
            sources, loaded = _load(cfg, db or [])
            selected = reporting.select(reporting.merge(loaded) if len(loaded) > 1
                                        else (loaded[0] if loaded else []), filters)
            figures = reporting.figures(selected, now, since=start, until=end, sources=[str(s) for s in sources],
                                        filters={"agent": agent, "tier": tier, "carrier": carrier})
    finally:
        if collecting:
            gc.enable()
    if not include_pii:  # reports leave mocli (spreadsheets, wikis): personal data masked unless asked for
        from mocli.privacy import mask_figures

        figures = mask_figures(figures)
    if fmt == "json":
        import sys

        import orjson  # noqa: TID253 (loaded by the store already)

        from mocli.render import json_safe

        sys.stdout.write(json_safe(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode()) + "\n")
        sys.stdout.flush()
    elif fmt == "csv":
        _csv(figures)
    elif fmt == "markdown":
        typer.echo(_markdown(figures))
    else:
        _tables(figures)


def _case_files(paths: list[Path]) -> list[Path]:
    """The files to read: each --db file, and every *.db file in each --db folder; each file once."""
    from mocli.errors import NotFound

    files: list[Path] = []
    for p in paths:
        p = p.expanduser()
        if p.is_dir():
            found = sorted(x for x in p.glob("*.db") if x.is_file())
            if not found:
                raise NotFound(f"--db {p}: no case files (*.db) in this folder")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise NotFound(f"--db {p}: no such file or folder")
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def _load(cfg: Any, paths: list[Path]) -> tuple[list[Path], list[list[dict[str, Any]]]]:
    """The report's view of every case file (the slim projection of reporting.summary, cached)."""
    from mocli.config import data_dir
    from mocli.reporting import SUMMARY_KEY, summary
    from mocli.store import read_projection

    timeout = cfg.settings.store.lock_timeout_seconds
    files = _case_files(paths) if paths else [data_dir() / "cases.db"]
    loaded = []
    for f in files:
        if not f.exists():  # your own file before the first case: an empty report, not an error
            continue
        loaded.append(read_projection(f, summary, SUMMARY_KEY, lock_timeout=timeout, move_corrupt=False))
    return files, loaded


# ---------------------------------------------------------------- output formats


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


def _csv(figures: dict[str, Any]) -> None:
    import csv
    import sys

    from mocli.reporting import rows

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["section", "key", "measure", "value"])
    from mocli.render import sanitize

    for section, key, measure, value in rows(figures):  # text cells sanitised: a CSV is often just `cat`
        writer.writerow([sanitize(section), sanitize(key), measure,
                         "" if value is None else sanitize(value) if isinstance(value, str) else value])


def _md_cell(value: Any) -> str:
    from mocli.render import sanitize

    return sanitize(_fmt(value)).replace("|", "\\|").replace("\n", " ")


def _markdown(figures: dict[str, Any]) -> str:
    period = figures["period"]
    lines = [f"# Missing-order report ({period['since'] or 'all time'} to {period['until'] or 'now'})", ""]
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
    table("SLA by tier", ["Tier", "Cases", "Settled", "Breached", "Breach rate"],
          [[k, v["cases"], v["settled"], v["breached"], _pct(v["breach_rate"])]
           for k, v in figures["sla_by_tier"].items()])
    table("Fraud signals", ["Rule", "Cases"], [[k, v] for k, v in figures["fraud_reviews"]["signals"].items()])
    rc = figures["repeat_claimants"]
    table("Repeat claimants: customers", ["Customer", "Email", "Claims", "Cases"],
          [[r["customer"], r["email"], r["claims"], ", ".join(r["cases"])] for r in rc["customers"]])
    table("Repeat claimants: addresses", ["Address", "Customers", "Claims"],
          [[r["address"], r["customers"], r["claims"]] for r in rc["addresses"]])
    table("Agents", ["Agent", "Opened", "Open", "Resolved", "Overdue"],
          [[k, v["opened"], v["open"], v["resolved"], v["overdue"]] for k, v in figures["by_agent"].items()])
    return "\n".join(lines).rstrip() + "\n"


def _bar(value: float, top: float, style: str = "cyan") -> Any:
    from rich.text import Text

    width = 0 if not top else round(BAR_WIDTH * value / top)
    if value and not width:
        width = 1
    return Text("█" * width, style=style)


def _tables(figures: dict[str, Any]) -> None:
    from rich.columns import Columns
    from rich.panel import Panel
    from rich.table import Table

    from mocli.render import console, t

    out = console()
    period = figures["period"]
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
    title = f"Missing orders, {period['since'][:10] if period['since'] else 'all time'} to " \
            f"{period['until'][:10] if period['until'] else 'now'}"
    if len(figures["sources"]) > 1:
        title += f" ({len(figures['sources'])} case files)"
    out.print(Panel(head, title=title, title_align="left", border_style="magenta", expand=False))
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

    sla = Table(title="SLA by tier (breached: not resolved by the follow-up time)", title_justify="left",
                show_edge=False, pad_edge=False)
    for col in ("Tier", "Cases", "Settled", "Breached", "Breach rate", ""):
        sla.add_column(col, justify="left" if col in ("Tier", "") else "right")
    for name, s in figures["sla_by_tier"].items():
        sla.add_row(t(name), str(s["cases"]), str(s["settled"]), str(s["breached"]), _pct(s["breach_rate"]),
                    _bar(s["breach_rate"] or 0, 1, "red"))
    out.print(sla)

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
        rep = Table(title="Repeat claimants (top 10)", title_justify="left", show_edge=False, pad_edge=False)
        rep.add_column("Customer / address")
        rep.add_column("Claims", justify="right")
        rep.add_column("Detail")
        for r in rc["customers"][:10]:
            rep.add_row(t(f"{r['customer']} {r['email']}"), str(r["claims"]), t(", ".join(r["cases"][:4])))
        for r in rc["addresses"][:10]:
            rep.add_row(t(r["address"]), str(r["claims"]), t(f"{r['customers']} different customers"))
        out.print(rep)
