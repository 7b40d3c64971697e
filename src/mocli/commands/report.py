"""`mocli report`: volume, outcomes, SLA health, carriers, costs, fraud and repeat claimants for leads.
The figures are computed in `mocli.reporting` and drawn in `render/report.py`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mocli.commands import options
from mocli.commands.options import AgentFilter, Db, Format, IncludePii, Json, NoPager, helped
from mocli.render.output import FORMATS


def report(
    since: options.Since = None,
    until: options.Until = None,
    agent: AgentFilter = None,
    tier: options.Tier = None,
    carrier: options.Carrier = None,
    json_fields: Json("the figures (`--json total,by_tier`: only those keys)") = None,
    fmt: Format = None,
    db: helped(Db, "A case file, or a folder of them (*.db); repeat for a team roll-up. A case found in "
               "several files counts once (default: your own file).", list[Path], dir_okay=True) = None,
    top: int = typer.Option(20, "--top", min=0, metavar="N",
                            help="Name the N biggest repeat claimants and repeat addresses and the N most late "
                                 "follow-ups, with how many there are in all (0: every one)."),
    include_pii: helped(IncludePii, "Show repeat claimants' emails and addresses unmasked (masked by default "
                        "in every format).") = False,
    no_pager: NoPager = False,
) -> None:
    """Report on the cases opened in a period: volume, outcomes, SLA, carriers, costs, fraud, agents.

    Every figure is over the cases opened in the period (all time without --since/--until).
    JSON keys are documented in docs/lifecycle.md.

    Examples:
      mocli report --since 30d
      mocli report --since 2026-11-01 --tier VIP --format markdown
      mocli report --db team/ --db ~/ava/cases.db --format json
      mocli report --top 50 --format csv
    """
    from mocli import reporting
    from mocli.commands.env import current_env
    from mocli.render import output
    from mocli.reporting import recovery_figures

    fmt = output.choose(fmt, json_fields, FORMATS)
    env = current_env()
    cfg, now = env.load(read_only=True)  # no business days, no messages
    start, end = reporting.parse_period(since, until, now)
    import gc

    collecting = gc.isenabled()
    gc.disable()  # ~10^6 acyclic objects made here: the cyclic collector would only cost time
    try:
        filters = reporting.Filters(since=start, until=end, agent=agent, tier=tier, carrier=carrier)
        if cfg.settings.store.url and not db:  # the team's store: the database computes the figures
            _check_filters(cfg, [], tier=tier, agent=agent)
            team = env.store(cfg)
            figures = reporting.figures([], now, since=start, until=end, sources=[team.where],
                                        filters={"agent": agent, "tier": tier, "carrier": carrier})
            figures.update({k: v for k, v in team.report(filters, now, top=top).items()
                            if k not in ("generated_at", "period", "filters", "sources")})
            figures["recovery"], stale = team.recovery(filters, now)
            if stale:
                typer.echo(f"mocli: warning: {stale} case(s) in the team store had their claim windows worked out "
                           "under other claim rules (claims.toml changed): run `mocli store init` to recompute "
                           "them (this report clocked them itself, more slowly)", err=True)
            figures["duplicate_ids"] = []  # one table, the id its primary key
        elif (indexed := _from_index(cfg, db or [], filters, now, top)) is not None:
            sources, (tally, recovered, agents, duplicates) = indexed
            _check_filters(cfg, agents, tier=tier, agent=agent)
            figures = reporting.assemble(tally, now, since=start, until=end, sources=[str(s) for s in sources],
                                         filters={"agent": agent, "tier": tier, "carrier": carrier}, top=top)
            figures["recovery"] = recovered
            figures["duplicate_ids"] = duplicates
        else:
            sources, loaded = _load(cfg, db or [])
            _check_filters(cfg, sorted({str(c.get("agent")) for cases in loaded for c in cases if c.get("agent")}),
                           tier=tier, agent=agent)
            selected = reporting.select(reporting.merge(loaded) if len(loaded) > 1
                                        else (loaded[0] if loaded else []), filters)
            figures = reporting.figures(selected, now, since=start, until=end, sources=[str(s) for s in sources],
                                        filters={"agent": agent, "tier": tier, "carrier": carrier}, top=top)
            figures["recovery"] = recovery_figures(selected, now)
            figures["duplicate_ids"] = reporting.duplicate_ids(selected)
    finally:
        if collecting:
            gc.enable()
    if figures["duplicate_ids"]:
        from mocli.render import sanitize

        shown = ", ".join(figures["duplicate_ids"][:5]) + (" ..." if len(figures["duplicate_ids"]) > 5 else "")
        typer.echo(f"mocli: warning: {len(figures['duplicate_ids'])} case id(s) belong to more than one case "
                   f"({sanitize(shown)}); each case is counted, find them with `mocli cases --db FILE`", err=True)
    if not include_pii:  # reports leave mocli (spreadsheets, wikis): personal data masked unless asked for
        from mocli.privacy import mask_figures

        figures = mask_figures(figures)
    from mocli.render.report import show_report

    show_report(figures, fmt, output.pick_fields(json_fields, list(figures)), no_pager)

def _check_filters(cfg: Any, agents: list[str], *, tier: str | None, agent: str | None) -> None:
    """An unknown tier or agent is a typo, not an empty report: exit 2 naming the valid ones (`agents`:
    every agent named in the case files, sorted)."""
    from mocli.errors import InvalidInput

    if tier is not None and tier.casefold() not in {t.casefold() for t in cfg.tiers}:
        raise InvalidInput(f"--tier {tier!r}: no such tier (tiers: {', '.join(cfg.tiers)})")
    if agent is not None:
        if agents and agent.casefold() not in {a.casefold() for a in agents}:
            raise InvalidInput(f"--agent {agent!r}: no cases by this agent (agents: {', '.join(agents)})")


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


def _from_index(cfg: Any, paths: list[Path], filters: Any, now: Any, top: int) -> tuple[list[Path], Any] | None:
    """The report's counts from the case file's index (store/index.py) when there is one file to read;
    None when several are rolled up (cases are merged across them) or the index cannot answer exactly."""
    from mocli.config import data_dir
    from mocli.store.index_queries import report

    files = _case_files(paths) if paths else [data_dir() / "cases.db"]
    present = [f for f in files if f.exists()]
    if len(present) != 1:
        return None
    found = report(present[0], filters, now, top=top, lock_timeout=cfg.settings.store.lock_timeout_seconds)
    return None if found is None else (files, found)


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
