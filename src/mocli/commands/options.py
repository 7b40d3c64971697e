"""The flags many commands take, as `Annotated` aliases declared once: `db: Db = None`.

Each flag is declared once: here (--db, --agent, --no-input and the rest below) or, for the output
flags (--json [FIELDS], --format, --no-pager), in render/output.py, which this module wraps; so a flag
is spelled, checked and explained the same on every command. `helped` gives a command its own help
text for the same flag.
Only typer and the standard library load here.
"""

from __future__ import annotations

from copy import copy
from functools import cache
from pathlib import Path
from typing import Annotated, Any, get_args

import typer

from mocli.render.output import format_option, json_option, pager_option

# Shared texts, so every command names things the same way.
CASE_HELP = "Case id, or any unique part of it (e.g. 7K2QF or 261127-7K2)."
DB_HELP = "Case file (default: the data directory, see `mocli config path`)."
AGENT_HELP = "Agent name recorded (default: MOCLI_AGENT or your login)."
NO_INPUT_HELP = "Never prompt; fail naming every missing answer."


# The aliases' types are plain (`str`, not `str | None`): the `= None` default says a flag may be absent,
# and Typer strips a Union from every annotation each start-up.
def _annotated(kind: Any, declared: Any) -> Any:
    """A flag declared as a default (`typer.Option(None, "--db", ...)`) as an `Annotated` alias: Typer
    takes the default from the parameter's `= value` then."""
    info = copy(declared)
    info.default = ...
    return Annotated[kind, info]


# Cached: Typer evaluates each command's annotations more than once while it builds the commands, and
# a new Annotated type each time costs start-up time.
@cache
def helped(alias: Any, help: str, kind: Any = None, **settings: Any) -> Any:
    """The same flag with this command's help text (and, for a repeatable one, its list type and checks)."""
    was, info = get_args(alias)
    info = copy(info)
    info.help = help
    for name, value in settings.items():
        setattr(info, name, value)
    return Annotated[kind or was, info]


CaseRef = Annotated[str, typer.Argument(metavar="CASE", help=CASE_HELP)]
# --db on every command that reads or writes cases.
Db = Annotated[Path, typer.Option("--db", metavar="PATH", dir_okay=False, help=DB_HELP)]
# --agent: the agent recorded (or, on a listing, the agent to filter by).
Agent = Annotated[str, typer.Option("--agent", help=AGENT_HELP)]
AgentFilter = helped(Agent, "Only cases opened by this agent.")
# --no-input: never prompt, as when stdin or stdout is not a terminal.
NoInput = Annotated[bool, typer.Option("--no-input", help=NO_INPUT_HELP)]
Format = _annotated(str, format_option())
NoPager = _annotated(bool, pager_option())
# The customer message copied to the clipboard (new-case, resolve, case).
Copy = Annotated[bool, typer.Option(
    "--copy", help="Also copy the customer message to the clipboard (OSC 52).")]
# Personal data unmasked (cases, report, store export), each saying where.
IncludePii = Annotated[bool, typer.Option(
    "--include-pii", help="Names, emails, phone numbers and addresses unmasked.")]
# Answers from a file (new-case, resolve), each naming its keys.
AnswersFile = Annotated[Path, typer.Option(
    "--answers", metavar="FILE", dir_okay=False, help="Answers from a TOML or JSON file.")]

# The listing filters `mocli cases` and `mocli report` share.
Since = Annotated[str, typer.Option(
    "--since", help="Cases opened on or after: a date (2026-11-01), or 7d, 30d.")]
Until = Annotated[str, typer.Option(
    "--until", help="Cases opened up to the end of this date (or before 7d ago).")]
Tier = Annotated[str, typer.Option("--tier", help="Only this tier (e.g. VIP, Standard, 'New Customer', B2B).")]
Carrier = Annotated[str, typer.Option("--carrier", help="Only parcels with this carrier (e.g. UPS).")]

# Step 5's answers (and the VIP's choice), given to `mocli new-case` and again to `mocli reassess`.
YES_NO = "yes|no"
ReceivedBySomeoneElse = Annotated[str, typer.Option(
    "--received-by-someone-else", metavar=YES_NO, help="A neighbour or household member may have it (step 5).")]
CheckedDropOffSpots = Annotated[str, typer.Option(
    "--checked-drop-off-spots", metavar=YES_NO, help="Porch, mailbox, package room checked (step 5).")]
TheftInArea = Annotated[str, typer.Option(
    "--theft-in-area", metavar=YES_NO, help="Recent parcel theft in the area (step 5).")]
PackageFound = Annotated[str, typer.Option(
    "--package-found", metavar=YES_NO, help="The customer found the package after checking (step 5).")]
CustomerChoice = Annotated[str, typer.Option(
    "--customer-choice", metavar="replacement|refund|later",
    help="When step 6 offers a replacement or a refund (VIP): the customer's choice; a choice resolves the case "
         "now (default later).")]
Notes = Annotated[str, typer.Option("--notes", help="Free notes recorded with the answers.")]


# Json and JsonOut are named as types: they are used where a type goes (`json_fields: Json("the case") = None`).
@cache
def Json(what: str) -> Any:
    """`--json [FIELDS]`: print `what` as JSON, all of it or the keys listed."""
    return _annotated(str, json_option(what))


@cache
def JsonOut(help: str) -> Any:
    """`--json` on a command whose JSON has no FIELDS to pick."""
    return Annotated[bool, typer.Option("--json", help=help)]
