"""The thin Typer layer: commands, flags, and exit codes in exactly one place.

Only typer and the standard library load here; every command imports what it needs when it runs.
"""

from __future__ import annotations

import os
import sys

import typer

from mocli import __version__
from mocli.commands import cases, config_cmd, demo, new_case, report, resolve, store_team, track
from mocli.errors import ExitCode, MocliError

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 a lookup or operation failed (or not found); 2 usage error or "
    "invalid input; 130 cancelled with Ctrl-C. Messages go to stderr, data to stdout."
)

app = typer.Typer(
    name="mocli",
    help="Walk a missing-order case from the customer's first call to refund, reshipment or fraud "
    "review, step by step as the procedure says.\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mocli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="On an internal error, show the traceback."),
) -> None:
    if debug:
        os.environ["MOCLI_DEBUG"] = "1"


app.command("new-case")(new_case.new_case)
app.command("demo")(demo.demo)
app.add_typer(config_cmd.app, name="config")
# Each command module registers itself here, one line each (keeps `--help` import-light).
app.command("cases")(cases.cases)
app.command("case")(cases.case)
app.command("note")(cases.note)
app.command("resolve")(resolve.resolve)
app.command("report")(report.report)
app.command("track")(track.track)
app.add_typer(store_team.app, name="store")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every error becomes one line on stderr and a documented exit code."""
    try:
        code = app(args=argv, standalone_mode=False)
    except MocliError as exc:
        _fail(str(exc), exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _fail("cancelled", ExitCode.CANCELLED)
    except typer.TyperException as exc:  # usage errors: bad flag, missing value, bad choice
        if hasattr(exc, "show"):
            exc.show()
        else:
            sys.stderr.write(f"mocli: {exc.format_message()}\n")
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(ExitCode.FAILED)
    except Exception as exc:  # noqa: BLE001 - the one place unexpected errors become a message
        if os.environ.get("MOCLI_DEBUG"):
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)", ExitCode.FAILED)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> None:
    from mocli.render import sanitize

    sys.stderr.write(f"mocli: {sanitize(message)}\n")
    sys.stderr.flush()
    sys.exit(int(code))
