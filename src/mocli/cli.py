"""The thin Typer layer: commands, flags, and exit codes in exactly one place.

Only typer and the standard library load here; every command imports what it needs when it runs.
"""

from __future__ import annotations

import os
import sys

import typer

from mocli import __version__
from mocli.commands import (
    cases,
    claim,
    config_cmd,
    demo,
    drafts,
    macros,
    new_case,
    reassess,
    report,
    resolve,
    store_repair,
    store_team,
    ticket,
    track,
)
from mocli.commands.env import Env, enter
from mocli.errors import ExitCode, MocliError

EXIT_CODES_HELP = (
    "Exit codes: 0 success; 1 a lookup or operation failed (or not found); 2 usage error or "
    "invalid input; 3 the case was saved but its helpdesk ticket was not updated; 130 cancelled with "
    "Ctrl-C. Messages go to stderr, data to stdout."
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
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="On an internal error, show the traceback."),
) -> None:
    if debug:
        os.environ["MOCLI_DEBUG"] = "1"
    if not isinstance(ctx.obj, Env):  # built once here; a test may have handed in its own
        ctx.obj = Env.from_process()
    ctx.call_on_close(enter(ctx.obj))


app.command("new-case")(new_case.new_case)
app.command("demo")(demo.demo)
app.command("drafts")(drafts.drafts)
app.add_typer(config_cmd.app, name="config")
# Each command module registers itself here, one line each (keeps `--help` import-light).
app.command("cases")(cases.cases)
app.command("case")(cases.case)
app.command("note")(cases.note)
app.command("reassess")(reassess.reassess)
app.command("resolve")(resolve.resolve)
app.command("report")(report.report)
app.command("track")(track.track)
app.add_typer(claim.app, name="claim")
app.add_typer(ticket.app, name="ticket")
# The `mocli store` group: the team store's init / import / export / status, the local file's check / repair.
store_team.app.registered_commands += store_repair.app.registered_commands
app.add_typer(store_team.app, name="store")
app.add_typer(macros.app, name="macros")


# Commands whose `--json` takes optional FIELDS (mocli.render.output), with their JSON keys.
JSON_KEYS = {"demo": demo.SCENARIO_KEYS, "cases": cases.CASE_KEYS, "case": cases.CASE_KEYS,
             "note": cases.CASE_KEYS, "resolve": cases.CASE_KEYS, "track": track.TRACK_KEYS,
             "report": ()}  # report: its figures' keys, checked once computed


@app.command("completion")
def completion(shell: str = typer.Argument(..., metavar="bash|zsh|fish",
                                           help="The shell to complete commands and flags in.")) -> None:
    """Print the shell completion script for commands and flags.

    Add it to your shell's start-up files once; it costs nothing until you press Tab.

    Examples:
      mocli completion bash >> ~/.bashrc
      mocli completion zsh > ~/.zfunc/_mocli
      mocli completion fish > ~/.config/fish/completions/mocli.fish
    """
    from typer._completion_shared import get_completion_script

    from mocli.errors import InvalidInput

    if shell not in ("bash", "zsh", "fish"):
        raise InvalidInput(f"completion: unknown shell {shell!r} (bash, zsh or fish)")
    typer.echo(get_completion_script(prog_name="mocli", complete_var="_MOCLI_COMPLETE", shell=shell))


def _reflow(doc: str | None) -> str | None:
    """A docstring's hard-wrapped prose joined into one line per paragraph, so Rich wraps it to the
    terminal without breaking sentences mid-line; indented lines (examples) and lines after one ending
    in `:` stay on their own lines."""
    import inspect

    if not doc:
        return doc
    paragraphs = []
    for para in inspect.cleandoc(doc).split("\n\n"):
        lines: list[str] = []
        for line in para.splitlines():
            if lines and not line[:1].isspace() and not lines[-1][:1].isspace() and not lines[-1].endswith(":"):
                lines[-1] += " " + line.strip()
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def _plain_switches() -> None:
    """Help shows no `<bool>` type beside a switch (Typer labels every option with its type)."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: typer.Context) -> str | None:
        return None if self.is_flag and self.metavar is None else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_plain_switches()
for _typer in (app, *(group.typer_instance for group in app.registered_groups)):
    for _info in _typer.registered_commands:
        _info.callback.__doc__ = _reflow(_info.callback.__doc__)


def main(argv: list[str] | None = None, env: Env | None = None) -> None:
    """Run the CLI in `env` (the process's own by default); every error becomes one line on stderr and a
    documented exit code."""
    if (store := sys.modules.get("mocli.store")) is not None:
        store.forget_warnings()  # warnings are once per command, and tests run many in one process
    from mocli.render.output import split_json_flag

    args = split_json_flag(sys.argv[1:] if argv is None else list(argv), JSON_KEYS,
                           takes_args={"case", "note", "resolve", "track"})
    try:
        code = _app_for(args)(args=args, standalone_mode=False, obj=env)
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
    if code == ExitCode.CANCELLED:  # Typer turns Ctrl-C in a command into a bare return of 130
        _fail("cancelled", ExitCode.CANCELLED)
    sys.exit(code if isinstance(code, int) else 0)


def _app_for(args: list[str]) -> typer.Typer:
    """The app with the root's options and only the command (or group) `args` starts with: Typer makes
    every registered command's Click command before it parses anything, and the ones a run does not
    use were ~54 M instructions of `mocli cases`' start-up (benchmarks/startup.py). Anything else (a root
    option first, an unknown name, shell completion) gets the whole app, so help and errors are as before."""
    import copy

    name = args[0] if args else ""
    commands = [c for c in app.registered_commands if c.name == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not (commands or groups) or "_MOCLI_COMPLETE" in os.environ:
        return app
    only = copy.copy(app)
    only.registered_commands, only.registered_groups = commands, groups
    return only


def _fail(message: str, code: int) -> None:
    from mocli.render import sanitize

    sys.stderr.write(f"mocli: {sanitize(message)}\n")
    sys.stderr.flush()
    sys.exit(int(code))
