"""`mocli reassess CASE`: the customer came back or tracking changed; re-run steps 5-9 on the case."""

from __future__ import annotations

from pathlib import Path

import typer

from mocli.commands.common import CASE_HELP, agent_option, db_option, no_input_option
from mocli.commands.new_case import CHECKED_DROP_OFF_SPOTS, RECEIVED_BY_SOMEONE_ELSE, THEFT_IN_AREA, YES_NO


def reassess(
    case_ref: str = typer.Argument(..., metavar="CASE", help=CASE_HELP),
    received_by_someone_else: str = RECEIVED_BY_SOMEONE_ELSE,
    checked_drop_off_spots: str = CHECKED_DROP_OFF_SPOTS,
    theft_in_area: str = THEFT_IN_AREA,
    package_found: str = typer.Option(None, "--package-found", metavar=YES_NO,
                                      help="The customer found the package (step 5)."),
    customer_choice: str = typer.Option(None, "--customer-choice", metavar="replacement|refund|later",
                                        help="The customer's choice when a replacement or refund is offered."),
    notes: str = typer.Option(None, "--notes", help="What the customer said, added to the case history."),
    agent: str = agent_option(),
    no_input: bool = no_input_option("Never prompt; earlier answers stand unless given."),
    json_out: bool = typer.Option(False, "--json", help="Print the updated case as JSON on stdout."),
    db: Path = db_option(),
) -> None:
    """Re-assess an open case: fresh lookups, steps 5-9 again, the new decision added to the history.

    On a terminal the step-5 questions are asked again; otherwise earlier answers stand unless a flag
    gives a new one. The case keeps its id and history; the change is appended with who and when.

    Examples:
      mocli reassess 7K2QF
      mocli reassess 7K2QF --no-input --received-by-someone-else no
      mocli reassess 7K2QF --no-input --notes "neighbour didn't have it"
    """
    flags = {"received_by_someone_else": received_by_someone_else, "checked_drop_off_spots": checked_drop_off_spots,
             "theft_in_area": theft_in_area, "package_found": package_found, "customer_choice": customer_choice,
             "notes": notes}
    from mocli.commands.reassess_run import run_reassess

    run_reassess(case_ref=case_ref, flags=flags, agent=agent, no_input=no_input, json_out=json_out, db=db)
