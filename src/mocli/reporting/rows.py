"""The report as flat rows (CSV, markdown) and its title in words."""

from __future__ import annotations

from typing import Any

# ---------------------------------------------------------------- flat rows for CSV and markdown


def rows(report: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """The report as (section, key, measure, value) rows: one table for spreadsheets and wikis."""
    out: list[tuple[str, str, str, Any]] = [
        ("summary", "cases", "total", report["total"]),
        ("summary", "cases", "open", report["open"]),
        ("summary", "cases", "resolved", report["resolved"]),
        ("summary", "follow-ups", "overdue", report["overdue_follow_ups"]),
    ]
    ttr = report["time_to_resolution_hours"]
    out += [("time_to_resolution_hours", "all", k, ttr[k]) for k in ("count", "median", "p90")]
    for section in ("by_tier", "by_action", "by_outcome", "by_remedy", "by_carrier"):
        out += [(section, k, "cases", v) for k, v in report[section].items()]
    for name, figs in report["carriers"].items():
        out += [("carriers", name, k, v) for k, v in figs.items()]
    for tier, figs in report["sla_by_tier"].items():
        out += [("sla_by_tier", tier, k, v) for k, v in figs.items()]
    out.append(("refunds", "all", "count", report["refunds"]["count"]))
    out += [("refunds", cur, "total", v) for cur, v in report["refunds"]["total"].items()]
    out.append(("reshipments", "all", "count", report["reshipments"]["count"]))
    out += [("reshipments", cur, "value", v) for cur, v in report["reshipments"]["value"].items()]
    out.append(("fraud_reviews", "all", "opened", report["fraud_reviews"]["opened"]))
    out += [("fraud_reviews", rule, "signals", n) for rule, n in report["fraud_reviews"]["signals"].items()]
    repeat = report["repeat_claimants"]
    out += [("repeat_claimants", "all", k, repeat[f"{k}_total"]) for k in ("customers", "addresses")
            if f"{k}_total" in repeat]
    out += [("repeat_customers", r["customer"], "claims", r["claims"])
            for r in report["repeat_claimants"]["customers"]]
    out += [("repeat_addresses", r["address"], "customers", r["customers"])
            for r in report["repeat_claimants"]["addresses"]]
    for name, figs in report["by_agent"].items():
        out += [("by_agent", name, k, v) for k, v in figs.items()]
    for name, figs in (report.get("recovery") or {}).items():  # money per currency: "claimed USD"
        for k, v in figs.items():
            out += [("recovery", name, f"{k} {cur}", amount) for cur, amount in v.items()] if isinstance(v, dict) \
                else [("recovery", name, k, v)]
    out += [("overdue_cases", str(r["id"]), "hours_late", r["hours_late"]) for r in report.get("overdue_cases", ())]
    for w in report.get("trends", ()):
        out += [("trends", w["week"], k, w[k]) for k in ("opened", "resolved", "settled", "breached", "breach_rate")]
    return out


def title(report: dict[str, Any]) -> str:
    """What the report covers, in words: its period and every filter (`tier VIP`, `agent sam`)."""
    period = report["period"]
    text = (f"Missing-order report, {period['since'][:10] if period['since'] else 'all time'} to "
            f"{period['until'][:10] if period['until'] else 'now'}")
    filters = report.get("filters") or {}
    text += "".join(f", {name} {filters[name]}" for name in ("tier", "agent", "carrier") if filters.get(name))
    if len(report.get("sources") or ()) > 1:
        text += f" ({len(report['sources'])} case files)"
    return text


def late(hours: float) -> str:
    """How late a follow-up is, as people say it: `2d 5h`, `7h`."""
    days, rest = divmod(int(hours), 24)
    return f"{days}d {rest}h" if days else f"{rest}h"
