"""`mocli reassess CASE`: the customer came back or tracking changed; re-run steps 5-9 on the case."""

from __future__ import annotations

from mocli.commands import options
from mocli.commands.options import Agent, CaseRef, Db, JsonOut, NoInput, helped


def reassess(
    case_ref: CaseRef,
    received_by_someone_else: options.ReceivedBySomeoneElse = None,
    checked_drop_off_spots: options.CheckedDropOffSpots = None,
    theft_in_area: options.TheftInArea = None,
    package_found: helped(options.PackageFound, "The customer found the package (step 5).") = None,
    customer_choice: helped(options.CustomerChoice,
                            "The customer's choice when a replacement or refund is offered.") = None,
    notes: helped(options.Notes, "What the customer said, added to the case history.") = None,
    agent: Agent = None,
    no_input: helped(NoInput, "Never prompt; earlier answers stand unless given.") = False,
    json_out: JsonOut("Print the updated case as JSON on stdout.") = False,
    db: Db = None,
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
