"""`mocli new-case`: the nine steps of the missing-order procedure, from lookup to stored case."""

from __future__ import annotations

import typer

from mocli.commands import options
from mocli.commands.options import YES_NO, Agent, AnswersFile, Copy, Db, JsonOut, NoInput, helped


def new_case(
    customer: str = typer.Option(None, "--customer", help="Customer email or CRM id (step 1)."),
    order: str = typer.Option(None, "--order", help="Order number, e.g. 1001 or '#1001' (step 2)."),
    address_confirmed: str = typer.Option(None, "--address-confirmed", metavar=YES_NO,
                                          help="Customer confirms the order's shipping address (step 2)."),
    customer_address: str = typer.Option(None, "--customer-address", metavar="ADDRESS",
                                         help="Where the customer is now, when they do not confirm the "
                                              "order's address (step 2)."),
    received_by_someone_else: options.ReceivedBySomeoneElse = None,
    checked_drop_off_spots: options.CheckedDropOffSpots = None,
    theft_in_area: options.TheftInArea = None,
    package_found: options.PackageFound = None,
    customer_choice: options.CustomerChoice = None,
    notes: options.Notes = None,
    answers_file: helped(AnswersFile, "Answers from a TOML or JSON file (keys as the flags, with _).") = None,
    agent: helped(Agent, "Agent name recorded on the case (default: MOCLI_AGENT or your login).") = None,
    ticket: str = typer.Option(None, "--ticket", help="Helpdesk ticket id to link (and update, with a "
                                                        "Zendesk provider)."),
    update_ticket: bool = typer.Option(False, "--update-ticket", help="Without prompts, post the case note and "
                                       "macro to --ticket (interactive runs ask first)."),
    locale: str = typer.Option(None, "--locale", metavar="LOCALE",
                               help="Write the customer message in this language (fr-CA, es), instead of the "
                                    "customer's locale from the CRM; falls back fr-CA -> fr -> the default."),
    resume: bool = typer.Option(False, "--resume", help="Continue the draft kept when a wizard was cancelled."),
    no_input: NoInput = False,
    json_out: JsonOut("Print the stored case as JSON on stdout.") = False,
    copy: Copy = False,
    db: Db = None,
) -> None:
    """Open a missing-order case: the wizard walks the nine steps of the procedure.

    Interactive on a terminal; otherwise (or with --no-input) every answer comes from flags or
    --answers FILE. Ctrl-C keeps a draft that --resume continues.

    Examples:
      mocli new-case
      mocli new-case --customer ava.thompson@example.com --order 1001
      mocli new-case --no-input --json --answers answers.toml
      mocli new-case --locale fr-CA --customer hana.kim@example.com --order 1006
    """
    flags = {
        "customer": customer, "order": order, "address_confirmed": address_confirmed,
        "customer_address": customer_address,
        "received_by_someone_else": received_by_someone_else,
        "checked_drop_off_spots": checked_drop_off_spots, "theft_in_area": theft_in_area,
        "package_found": package_found, "customer_choice": customer_choice, "notes": notes,
    }
    from mocli.commands.new_case_run import run_new_case

    record = run_new_case(flags=flags, answers_file=answers_file, agent=agent, ticket=ticket, resume=resume,
                          no_input=no_input, json_out=json_out, db=db, update_ticket=update_ticket, locale=locale)
    if copy:
        from mocli.commands.cases import copy_message

        copy_message(record["message"])
