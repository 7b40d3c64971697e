"""`mocli store init|import|export|status`: set up and fill a team's shared case store (PostgreSQL), and
look at whichever store is configured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mocli.commands.options import IncludePii, JsonOut, helped

app = typer.Typer(help="The case store: a team's shared PostgreSQL database, or this agent's own file.",
                  no_args_is_help=True)
IMPORT_BATCH = 5000  # cases per transaction: bounded memory, and a failure loses at most one batch's work


def _team(cfg: Any) -> Any:
    """The team store, or exit 2 when none is configured (these commands make no sense on a file)."""
    from mocli.commands.env import current_env
    from mocli.errors import InvalidInput

    if not cfg.settings.store.url:
        raise InvalidInput("no team case store is configured: set [store] url in settings.toml or "
                           "MOCLI_STORE_URL (postgresql://host/db; README, \"Team set-up\")")
    return current_env().store(cfg)


@app.command("init")
def init() -> None:
    """Create the team store's tables, or upgrade them to this mocli's schema (safe to run again).

    Also works out again the claim windows of the cases clocked under other claim rules (claims.toml
    changed since they were stored), which the report and `cases --claimable` otherwise clock slowly.

    The store is the one `[store] url` in settings.toml or MOCLI_STORE_URL names; its password comes
    from libpq (PGPASSWORD, ~/.pgpass, PGSERVICE), never from a mocli file.

    Examples:
      MOCLI_STORE_URL=postgresql://db.example.com/mocli mocli store init
      mocli store init
    """
    from mocli.commands.env import current_env

    env = current_env()
    cfg, _ = env.load(read_only=True)
    team = _team(cfg)
    before, after = team.init()
    if before == after:
        typer.echo(f"the team case store ({team.where}) is at schema version {after}: nothing to do")
    elif before is None:
        typer.echo(f"created the team case store's tables ({team.where}), schema version {after}")
    else:
        typer.echo(f"upgraded the team case store ({team.where}) from schema version {before} to {after}")
    # Claim windows follow claims.toml: cases stored before schema 3, or clocked under other rules, are
    # worked out again (in batches: the store stays usable meanwhile).
    refreshed = team.refresh_claims(lambda n: typer.echo(f"  worked out the claim windows of {n} cases ...",
                                                         err=True))
    if refreshed:
        typer.echo(f"worked out the claim windows of {refreshed} cases with the claim rules in use "
                   f"(claims.toml {team.claim_clock.fingerprint})")


@app.command("status")
def status(json_out: JsonOut("Print the status as JSON.") = False) -> None:
    """Which store the commands use, its schema version, how many cases, and whether it answers.

    Exit 1 when the store cannot be reached.

    Example: mocli store status
    """
    from mocli.commands.env import current_env
    from mocli.errors import StoreError

    env = current_env()
    cfg, _ = env.load(read_only=True)
    info = env.store(cfg).status()
    if json_out:
        from mocli.render import print_json

        print_json(info)
    else:
        shown = dict(info)
        if shown.get("schema_version") is None and shown["backend"] == "postgresql" and shown["reachable"]:
            shown["schema_version"] = "none (run `mocli store init`)"
        for key in ("backend", "where", "schema_version", "cases", "reachable"):
            value = shown.get(key)
            if value is not None:
                shown_value = "yes" if value is True else "no" if value is False else value
                typer.echo(f"{key.replace('_', ' '):<16}{shown_value}")
    if not info["reachable"]:
        raise StoreError(info.get("error") or f"the case store ({info['where']}) cannot be reached")


@app.command("import")
def import_(
    files: list[Path] = typer.Argument(..., metavar="FILE...", help="Local case files (cases.db) to import."),
    json_out: JsonOut("Print the counts (and refusals) as JSON.") = False,
) -> None:
    """Copy cases from local case files into the team store; a case already there (same id) is skipped,
    so running it again is harmless. Prints imported / already present / refused (with reasons).

    Exit 1 if any case was refused.

    Example: mocli store import ~/.local/share/mocli/cases.db team/ava.db team/ben.db
    """
    from mocli.commands.env import current_env
    from mocli.errors import StoreError
    from mocli.render import sanitize

    env = current_env()
    cfg, _ = env.load(read_only=True)
    team = _team(cfg)
    imported = present = 0
    refused: list[dict[str, str]] = []
    # One batch is stored (by the database, in another thread) while the next one's columns are worked out
    # here: the two take about as long, so the import takes half as long as doing them in turn.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as storing:
        pending: list[tuple[Any, int]] = []  # the batch being stored: (its future ids, its size)

        def stored() -> None:
            nonlocal imported, present
            for future, size in pending:
                added = len(future.result())
                imported, present = imported + added, present + size - added
            pending.clear()

        def store_batch(batch: list[dict[str, Any]], rows: list[tuple[Any, ...]]) -> None:
            stored()  # at most one batch in flight: bounded memory, and an error stops the import
            pending.append((storing.submit(team.add_many, batch, rows), len(batch)))

        for path in files:
            batch: list[dict[str, Any]] = []
            rows: list[tuple[Any, ...]] = []
            for number, case in enumerate(_read_cases(path), start=1):
                try:
                    rows.append(team.row(case))  # refuses what the store cannot hold, naming the field
                except StoreError as exc:
                    case_id = case.get("id") if isinstance(case, dict) else None
                    refused.append({"file": str(path), "case": str(case_id or f"#{number}"), "reason": str(exc)})
                    continue
                batch.append(case)
                if len(batch) >= IMPORT_BATCH:
                    store_batch(batch, rows)
                    batch, rows = [], []
            if batch:
                store_batch(batch, rows)
        stored()
    counts = {"imported": imported, "already_present": present, "refused": len(refused), "refusals": refused}
    if json_out:
        from mocli.render import print_json

        print_json(counts)
    else:
        typer.echo(f"imported {imported}, already present {present}, refused {len(refused)} ({team.where})")
        for r in refused:
            typer.echo(sanitize(f"refused {r['case']} from {r['file']}: {r['reason']}"), err=True)
    if refused:
        raise typer.Exit(1)


def _read_cases(path: Path) -> list[dict[str, Any]]:
    """Every live case of a local case file, read only (never moved, locked or chmodded: it may be a
    colleague's copy)."""
    from mocli.errors import NotFound
    from mocli.store.local import CASES, corrupt_error, scan_journal

    def corrupt(detail: str, ino: int) -> Any:
        return corrupt_error(path, detail, None, "import never changes case files")

    try:
        scan = scan_journal(path, lambda c: c, "import", table=CASES, lock=None, use_cache=False, corrupt=corrupt)
    except (FileNotFoundError, IsADirectoryError):
        raise NotFound(f"no case file {path}") from None
    return list(scan.docs.values())


@app.command("export")
def export(include_pii: helped(IncludePii, "Export names, emails, phone numbers and addresses unmasked.") = False,
           ) -> None:
    """Print every case of the configured store as NDJSON (one case per line), personal data masked.

    Each line is a case as `mocli case CASE --json` prints it, its whole history included.

    Examples:
      mocli store export > cases.ndjson
      mocli store export --include-pii | gzip > backup.ndjson.gz
    """
    import sys

    import orjson  # noqa: TID253

    from mocli.commands.env import current_env
    from mocli.privacy import mask_case

    env = current_env()
    cfg, _ = env.load(read_only=True)
    out = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
    for case in env.store(cfg).export():
        line = orjson.dumps(case if include_pii else mask_case(case)) + b"\n"
        if out is not None:
            out.write(line)
        else:
            sys.stdout.write(line.decode())
    sys.stdout.flush()
