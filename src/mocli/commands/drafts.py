"""`mocli drafts`: the wizards cancelled with Ctrl-C, one draft per customer + order; list or discard."""

from __future__ import annotations

import typer

from mocli.commands.options import JsonOut


def drafts(
    discard: list[str] = typer.Option(None, "--discard", metavar="ID", help="Discard this draft (repeatable)."),
    discard_all: bool = typer.Option(False, "--discard-all", help="Discard every draft."),
    json_out: JsonOut("Print the drafts as JSON on stdout.") = False,
) -> None:
    """List the drafts kept by cancelled wizards, or discard them.

    `mocli new-case` offers to resume one at start-up; `mocli new-case --resume` continues one.

    Examples:
      mocli drafts
      mocli drafts --discard ava.thompson@example.com__1001
    """
    from pathlib import Path

    from mocli.commands.env import current_env
    from mocli.errors import NotFound
    from mocli.render import print_json, t
    from mocli.store.drafts import describe_draft, list_drafts

    kept = list_drafts()
    if discard or discard_all:
        by_id = {d["id"]: d for d in kept}
        unknown = [i for i in discard or [] if i not in by_id]
        if unknown:
            raise NotFound(f"no draft named {', '.join(unknown)} (`mocli drafts` lists them)")
        for d in kept if discard_all else [by_id[i] for i in discard]:
            Path(d["path"]).unlink(missing_ok=True)
            current_env().console(stderr=True).print(t(f"discarded draft {d['id']} ({describe_draft(d)})"))
        return
    if json_out:
        print_json([{k: v for k, v in d.items() if k != "path"} for d in kept])
        return
    out = current_env().console()
    if not kept:
        out.print(t("No drafts."))
        return
    for d in kept:
        out.print(t(f"{d['id']}  {describe_draft(d)}  ({d['answers']} answers)"))
