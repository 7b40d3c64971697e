"""`mocli reassess CASE`: the customer came back or tracking changed; re-run steps 5-9 on the case."""

from __future__ import annotations

from pathlib import Path

import typer

from mocli.commands.common import CASE_HELP

YES_NO = "yes|no"


def reassess(
    case_ref: str = typer.Argument(..., metavar="CASE", help=CASE_HELP),
    received_by_someone_else: str = typer.Option(None, "--received-by-someone-else", metavar=YES_NO,
                                                 help="A neighbour or household member may have it (step 5)."),
    checked_drop_off_spots: str = typer.Option(None, "--checked-drop-off-spots", metavar=YES_NO,
                                               help="Porch, mailbox, package room checked (step 5)."),
    theft_in_area: str = typer.Option(None, "--theft-in-area", metavar=YES_NO,
                                      help="Recent parcel theft in the area (step 5)."),
    package_found: str = typer.Option(None, "--package-found", metavar=YES_NO,
                                      help="The customer found the package (step 5)."),
    customer_choice: str = typer.Option(None, "--customer-choice", metavar="replacement|refund|later",
                                        help="The customer's choice when a replacement or refund is offered."),
    notes: str = typer.Option(None, "--notes", help="What the customer said, added to the case history."),
    agent: str = typer.Option(None, "--agent", help="Agent name recorded (default: MOCLI_AGENT or your login)."),
    no_input: bool = typer.Option(False, "--no-input", help="Never prompt; earlier answers stand unless given."),
    json_out: bool = typer.Option(False, "--json", help="Print the updated case as JSON on stdout."),
    db: Path = typer.Option(None, "--db", metavar="PATH", dir_okay=False,
                            help="Case file (default: the data directory, see `mocli config path`)."),
) -> None:
    """Re-assess an open case: fresh lookups, steps 5-9 again, the new decision added to the history.

    On a terminal the step-5 questions are asked again; otherwise earlier answers stand unless a flag
    gives a new one. The case keeps its id and history; the change is appended with who and when.

    Examples:
      mocli reassess 7K2QF
      mocli reassess 7K2QF --no-input --received-by-someone-else no
      mocli reassess 7K2QF --no-input --notes "neighbour didn't have it"
    """
    from mocli.wizard.flow import run_reassess

    flags = {"received_by_someone_else": received_by_someone_else, "checked_drop_off_spots": checked_drop_off_spots,
             "theft_in_area": theft_in_area, "package_found": package_found, "customer_choice": customer_choice,
             "notes": notes}
    run_reassess(case_ref=case_ref, flags=flags, agent=agent, no_input=no_input, json_out=json_out, db=db)
