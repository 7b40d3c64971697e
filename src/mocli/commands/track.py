"""`mocli track`: where is this parcel, and can the carrier prove it was delivered?"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from mocli.commands.options import Format, Json, NoPager

if TYPE_CHECKING:
    from rich.console import Console

    from mocli.commands.env import Env

# The JSON object per number (docs/track.md): what `--json FIELDS` may select.
TRACK_KEYS = ("tracking_number", "input", "carrier", "status", "raw_status", "raw_description",
              "estimated_delivery", "delivered_at", "delivered_location", "events", "proof_of_delivery",
              "proof_files", "source", "candidates", "error", "tracking_page", "situation")


def track(
    numbers: list[str] = typer.Argument(..., metavar="NUMBER...",
                                        help="Tracking numbers; '-' reads one per line from stdin."),
    carrier: str | None = typer.Option(None, "--carrier", "-c",
                                       help="Carrier to ask (ups, fedex, usps, dhl, amazon, ...), "
                                            "overriding detection from the number."),
    json_fields: Json("an array, one object per number") = None,
    fmt: Format = None,
    save_proof: str | None = typer.Option(None, "--save-proof", metavar="DIR",
                                          help="Write delivery photos and signatures to files in DIR."),
    timeout: float = typer.Option(300.0, "--timeout", min=1.0, help="Overall deadline in seconds for the run."),
    no_pager: NoPager = False,
) -> None:
    """Track parcels: carrier detected from the number (check digits validated), normalised status,
    events newest first, proof of delivery.

    Exit codes: 0 every number found; 1 at least one lookup failed or was not found; 2 invalid input
    (a number no format fits, or one that is probably mistyped). Every number gets its result.

    ndjson prints one object per line as results arrive.

    Examples:
      mocli track 1Z4E57A20368154024 794123300255
      mocli track - --format ndjson < numbers.txt
    """
    from mocli.commands.env import current_env
    from mocli.errors import InvalidInput
    from mocli.render import output

    fmt = output.choose(fmt, json_fields)
    fields = output.pick_fields(json_fields, TRACK_KEYS)
    raws = _read_numbers(numbers)
    if not raws:
        raise InvalidInput("no tracking numbers given (stdin was empty)")
    code = _run(current_env(), raws, carrier, fmt, save_proof, timeout, fields, no_pager)
    raise typer.Exit(code)


def _read_numbers(args: list[str]) -> list[str]:
    out: list[str] = []
    for arg in args:
        if arg == "-":
            out += [ln.strip() for ln in _stdin_lines() if ln.strip() and not ln.lstrip().startswith("#")]
        else:
            out.append(arg)
    return out


def _stdin_lines():
    """stdin's lines, each decoded on its own: a line that is not UTF-8 becomes one invalid number (its
    bad bytes shown as U+FFFD), not the end of the whole batch."""
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:  # already text (a test's StringIO)
        yield from sys.stdin
        return
    for line in raw:
        yield line.decode("utf-8", errors="replace")


def _run(env: Env, raws: list[str], carrier: str | None, fmt: str, save_proof: str | None, timeout: float,
         fields: list[str] | None = None, no_pager: bool = False) -> int:
    import asyncio
    import json

    from mocli.lookups import tracking as run
    from mocli.policy.situation import ON_THE_WAY, late_or_stalled
    from mocli.providers.registry import Providers
    from mocli.render import output
    from mocli.render import tracking as view

    override = run.override_carrier(carrier)
    if save_proof:
        _save(save_proof, None)  # fail before any lookup if DIR cannot be made
    cfg, now = env.load(read_only=True)  # no business days, no messages
    providers = Providers(cfg, now.date())
    progress = _progress(len(raws), env)
    lines = _Lines(sys.stdout)

    sit = cfg.settings.situation

    def on_result(res: run.Result) -> None:
        if res.tracking is not None and res.tracking.status in ON_THE_WAY | {"unknown"}:
            # Late or stalled as the wizard says it (step 3); with no order, the carrier's estimate.
            res.situation = late_or_stalled(res.tracking, None, now, late_after_days=sit.late_after_days,
                                            stalled_after_days=sit.stalled_after_days)
        if save_proof and res.files:
            res.saved = _save(save_proof, res)
        if fmt == "ndjson":
            from mocli.render import json_safe

            lines.add(json_safe(json.dumps(output.select(view.to_json(res), fields), ensure_ascii=False))
                      + "\n")
        if progress is not None:
            progress.advance()

    try:
        results = asyncio.run(run.track_all(providers, raws, override, proof=bool(save_proof),
                                            on_result=on_result, deadline=timeout))
    finally:
        lines.flush()  # whatever arrived in the last turn of the event loop, or before a Ctrl-C
        if progress is not None:
            progress.stop()
    found = [r for r in results if not r.error_code]
    if fmt == "json":
        from mocli.render import print_json

        print_json([output.select(view.to_json(r), fields) for r in results])
    elif fmt == "table":
        from mocli.render import paged, tracking_link

        with paged(no_pager):
            con = env.console()  # made inside: while paging it draws into the pager's buffer
            for r in found:
                con.print(view.render(r))
                con.print(tracking_link(r.tracking), soft_wrap=True)  # the URL whole, never folded
    elif fmt != "ndjson":
        output.emit_rows(found, view.columns(now), fmt)
    # Errors go to stderr in every format, so stdout holds only what was found (one line each).
    failed = [r for r in results if r.error_code]
    if failed:
        from mocli.render import sanitize

        err = env.console(stderr=True)
        for r in failed:
            if fmt == "table":
                err.print(view.render(r))
            else:
                sys.stderr.write(f"mocli: {sanitize(r.error_message)}\n")
    return max((r.exit_code for r in results), default=0)


class _Lines:
    """ndjson lines, written as results arrive but gathered for up to `every` seconds: one write (one
    system call, one wake-up of the reading process) per burst instead of one per number. A write per
    line stalled the lookups whenever the reader was slow to run (1,000 numbers: 1,000 writes)."""

    def __init__(self, stream, every: float = 0.05) -> None:
        self.stream = stream
        self.every = every
        self.pending: list[str] = []
        self.scheduled = False

    def add(self, line: str) -> None:
        self.pending.append(line)
        if not self.scheduled:
            import asyncio

            self.scheduled = True
            asyncio.get_running_loop().call_later(self.every, self.flush)

    def flush(self) -> None:
        self.scheduled = False
        if self.pending:
            text, self.pending = "".join(self.pending), []
            self.stream.write(text)
            self.stream.flush()


def _save(directory: str, res) -> list[str]:
    """Write a result's proof files as DIR/<number>-<kind>.<ext>; their paths (never their content)."""
    from pathlib import Path

    from mocli.errors import InvalidInput, StoreError
    from mocli.store import DIR_MODE, atomic_write

    d = Path(directory)
    try:
        # Folders mocli makes are private; a folder the agent gave keeps its own mode.
        d.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        paths: list[str] = []
        for i, f in enumerate(res.files if res is not None else []):
            suffix = f"-{i + 1}" if sum(1 for g in res.files if g.kind == f.kind) > 1 else ""
            path = d / f"{res.number}-{f.kind}{suffix}.{f.extension}"
            atomic_write(path, f.content)  # 0600 whatever the umask: a photo shows a customer's door
            paths.append(str(path))
        return paths
    except OSError as exc:
        raise InvalidInput(f"--save-proof {directory}: cannot write: {exc.strerror}") from None
    except StoreError as exc:
        raise InvalidInput(f"--save-proof {directory}: {exc}") from None


class _Bar:
    def __init__(self, total: int, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.p = Progress(TextColumn("tracking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=console, transient=True)
        self.task = self.p.add_task("track", total=total)
        self.p.start()

    def advance(self) -> None:
        self.p.advance(self.task)

    def stop(self) -> None:
        self.p.stop()


def _progress(total: int, env: Env) -> _Bar | None:
    """A progress bar on the Env's message console for batches, only when stderr is a terminal."""
    if total < 2 or not env.stderr_is_terminal:
        return None
    return _Bar(total, env.console(stderr=True))
