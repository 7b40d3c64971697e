"""`mocli store check` and `mocli store repair`: what is damaged in a case file, and getting back what
can be got back. Damaged records are set aside one by one (store.py, "damaged records"); these commands
report them and recover the cases they still hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mocli.commands.options import Db, JsonOut

app = typer.Typer(help="Check and repair the case store.", no_args_is_help=True)



def _path(db: Path | None) -> Path:
    from mocli.config import data_dir

    return Path(db) if db else data_dir() / "cases.db"


def examine(path: Path) -> dict[str, Any]:
    """What a case file holds, read without changing it: intact cases, damaged lines, set-aside ones."""
    from mocli.errors import NotFound, StoreError
    from mocli.store import CASES, HEADER, live_documents, quarantine_files, split_damaged

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(f"no case file {path}") from None
    except OSError as exc:
        raise StoreError(f"cannot read the case store {path}: {exc.strerror}") from None
    report: dict[str, Any] = {"path": str(path), "is_case_store": data.startswith(HEADER), "cases": 0,
                              "records": 0, "damaged_lines": [], "set_aside": []}
    if report["is_case_store"]:
        good, _ = split_damaged(data)
        report["cases"] = len(live_documents(good, CASES))
        report["records"] = good.count(b"\n") - 1
        lines = data[len(HEADER):].split(b"\n")
        tail = lines.pop()
        good_lines = set(good.split(b"\n"))
        report["damaged_lines"] = [n for n, line in enumerate(lines, start=2) if line not in good_lines]
        if tail.strip(b"\x00"):
            report["damaged_lines"].append(len(lines) + 2)
    for q in quarantine_files(path):
        report["set_aside"].append({"file": str(q), "records": q.read_bytes().count(b"\n")})
    report["healthy"] = report["is_case_store"] and not report["damaged_lines"] and not report["set_aside"]
    return report


def salvage(line: bytes) -> list[dict[str, Any]]:
    """The whole case records inside one damaged line: two records run together (a lost newline) are
    both read, and so is a record followed by stray bytes; a record with a bad byte inside cannot be,
    and yields nothing."""
    import orjson  # noqa: TID253

    from mocli.store import CASES, valid_record

    marker = b'{"t":'
    starts = [i for i in range(len(line)) if line.startswith(marker, i)]
    found = []
    for a, b in zip(starts, [*starts[1:], len(line)], strict=True):
        piece = line[a:b]
        if not valid_record(piece) and b"}" in piece:
            piece = piece[: piece.rindex(b"}") + 1]  # stray bytes after the record's end
        if valid_record(piece):
            rec = orjson.loads(piece)
            if rec["t"] == CASES and not rec.get("x") and isinstance(rec["d"].get("id"), str):
                found.append(rec["d"])
    return found


@app.command("check")
def check(db: Db = None,
          json_out: JsonOut("Print the findings as JSON.") = False) -> None:
    """Report what a case file holds: intact cases, damaged lines still in it, and damaged records set
    aside in quarantine files. Changes nothing. Exit 0 when all is well, 1 when something is damaged.

    Example: mocli store check
    """
    from mocli.render import print_json

    found = examine(_path(db))
    if json_out:
        print_json(found)
    else:
        typer.echo(f"{found['path']}: " + ("a mocli case store" if found["is_case_store"]
                                            else "NOT a mocli case store (bad or missing header)"))
        typer.echo(f"intact cases     {found['cases']}  ({found['records']} records)")
        lines = found["damaged_lines"]
        typer.echo(f"damaged lines    {len(lines)}" + (f"  (line {', '.join(map(str, lines[:10]))}"
                                                        f"{' ...' if len(lines) > 10 else ''})" if lines else ""))
        for q in found["set_aside"]:
            typer.echo(f"set aside        {q['records']} record(s) in {q['file']}")
        if not found["healthy"]:
            typer.echo("run `mocli store repair` to set damaged lines aside and recover the cases they hold")
    raise typer.Exit(0 if found["healthy"] else 1)


@app.command("repair")
def repair(db: Db = None) -> None:
    """Set damaged lines aside (every intact case stays), then recover the cases that set-aside records
    still hold (e.g. two records run together) into the store. The quarantine files are kept, byte for
    byte, renamed `*.reviewed`, and the warnings stop.

    Example: mocli store repair
    """
    import os

    from mocli.commands.env import current_env
    from mocli.errors import StoreCorrupt
    from mocli.store import REVIEWED, quarantine_files

    env = current_env()
    cfg, _ = env.load(read_only=True)
    path = _path(db)
    cases = env.store(cfg, path)
    with cases.storage.locked():
        if cases.storage.set_aside_damaged() is None and path.exists():
            raise StoreCorrupt(f"{path} is not a mocli case store (bad or missing header); nothing to repair "
                               "line by line: move it away and recover cases from a backup")
        known = {c.get("id") for c in cases.all()}
        recovered, unreadable = 0, 0
        pending = quarantine_files(path)
        for q in pending:
            for line in q.read_bytes().split(b"\n")[:-1]:
                docs = salvage(line)
                for doc in docs:
                    if doc["id"] not in known:  # a later version already stored wins
                        cases.add(doc)
                        known.add(doc["id"])
                        recovered += 1
                unreadable += not docs
        for q in pending:  # kept as they were; only their name says they have been dealt with
            os.replace(q, q.with_name(q.name + REVIEWED))
    typer.echo(f"recovered {recovered} case(s) from {len(pending)} quarantine file(s)"
               + (f"; {unreadable} damaged line(s) could not be read (kept in "
                  f"{', '.join(q.name + REVIEWED for q in pending)})" if unreadable else ""), err=True)
