"""`mocli track`: where is this parcel, and can the carrier prove it was delivered?"""

from __future__ import annotations

import sys

import typer


def track(
    numbers: list[str] = typer.Argument(..., metavar="NUMBER...",
                                        help="Tracking numbers; '-' reads one per line from stdin."),
    carrier: str | None = typer.Option(None, "--carrier", "-c",
                                       help="Carrier to ask (ups, fedex, usps, dhl, amazon, ...), "
                                            "overriding detection from the number."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON array, one object per number."),
    fmt: str = typer.Option("table", "--format", "-f",
                            help="table (default), json, or ndjson (one object per line, as results arrive)."),
    save_proof: str | None = typer.Option(None, "--save-proof", metavar="DIR",
                                          help="Write delivery photos and signatures to files in DIR."),
    timeout: float = typer.Option(300.0, "--timeout", min=1.0, help="Overall deadline in seconds for the run."),
) -> None:
    """Track parcels: carrier detected from the number (check digits validated), normalised status,
    events newest first, proof of delivery.

    Exit codes: 0 every number found; 1 at least one lookup failed or was not found; 2 invalid input
    (a number no format fits, or one that is probably mistyped). Every number gets its result.

    Example: mocli track 1Z4E57A20368154024 794123300255; printf '%s\\n' 1Z... | mocli track - --format ndjson
    """
    from mocli.errors import InvalidInput

    fmt = "json" if json_out else fmt.lower()
    if fmt not in ("table", "json", "ndjson"):
        raise InvalidInput(f"--format: must be table, json or ndjson, not {fmt!r}")
    raws = _read_numbers(numbers)
    if not raws:
        raise InvalidInput("no tracking numbers given (stdin was empty)")
    code = _run(raws, carrier, fmt, save_proof, timeout)
    raise typer.Exit(code)


def _read_numbers(args: list[str]) -> list[str]:
    out: list[str] = []
    for arg in args:
        if arg == "-":
            out += [ln.strip() for ln in sys.stdin if ln.strip() and not ln.lstrip().startswith("#")]
        else:
            out.append(arg)
    return out


def _run(raws: list[str], carrier: str | None, fmt: str, save_proof: str | None, timeout: float) -> int:
    import asyncio
    import json

    from mocli.commands.common import load
    from mocli.providers.registry import Providers
    from mocli.tracking import run, view

    override = run.override_carrier(carrier)
    if save_proof:
        _save(save_proof, None)  # fail before any lookup if DIR cannot be made
    cfg, now = load(read_only=True)  # no business days, no messages
    providers = Providers(cfg, now.date())
    progress = _progress(len(raws), fmt)
    lines = _Lines(sys.stdout)

    def on_result(res: run.Result) -> None:
        if save_proof and res.files:
            res.saved = _save(save_proof, res)
        if fmt == "ndjson":
            from mocli.render import json_safe

            lines.add(json_safe(json.dumps(view.to_json(res), ensure_ascii=False)) + "\n")
        if progress is not None:
            progress.advance()

    try:
        results = asyncio.run(run.track_all(providers, raws, override, proof=bool(save_proof),
                                            on_result=on_result, deadline=timeout))
    finally:
        lines.flush()  # whatever arrived in the last turn of the event loop, or before a Ctrl-C
        if progress is not None:
            progress.stop()
    if fmt == "json":
        from mocli.render import print_json

        print_json([view.to_json(r) for r in results])
    elif fmt == "table":
        from mocli.render import console

        con = console()
        for r in results:
            con.print(view.render(r))
    failed = [r for r in results if r.error_code]
    if failed and fmt != "table":
        from mocli.render import sanitize

        for r in failed:
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

    from mocli.errors import InvalidInput

    d = Path(directory)
    try:
        d.mkdir(parents=True, exist_ok=True)
        paths: list[str] = []
        for i, f in enumerate(res.files if res is not None else []):
            suffix = f"-{i + 1}" if sum(1 for g in res.files if g.kind == f.kind) > 1 else ""
            path = d / f"{res.number}-{f.kind}{suffix}.{f.extension}"
            path.write_bytes(f.content)
            paths.append(str(path))
        return paths
    except OSError as exc:
        raise InvalidInput(f"--save-proof {directory}: cannot write: {exc.strerror}") from None


class _Bar:
    def __init__(self, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from mocli.render import console

        self.p = Progress(TextColumn("tracking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=console(stderr=True), transient=True)
        self.task = self.p.add_task("track", total=total)
        self.p.start()

    def advance(self) -> None:
        self.p.advance(self.task)

    def stop(self) -> None:
        self.p.stop()


def _progress(total: int, fmt: str) -> _Bar | None:
    """A progress bar on stderr for batches, only when stderr is a terminal."""
    if total < 2 or not sys.stderr.isatty():
        return None
    return _Bar(total)
