"""Drafts: the answers of a wizard cancelled with Ctrl-C, one file per customer + order (0600), kept for
`mocli new-case --resume` and listed by `mocli drafts`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mocli.errors import InvalidInput

DRAFTS_DIR = "drafts"
LEGACY_DRAFT = "draft.json"  # the single draft slot of earlier versions, still listed and resumable



def drafts_dir() -> Path:
    from mocli.config import data_dir

    return data_dir() / DRAFTS_DIR


def draft_id(answers: dict[str, Any]) -> str:
    """The draft's name: its customer and order, so two cases never share (or overwrite) one."""
    import re

    parts = [str(answers.get("customer") or "no-customer"), str(answers.get("order") or "no-order").lstrip("#")]
    return re.sub(r"[^A-Za-z0-9@._-]+", "_", "__".join(parts))[:120]


def save_draft(answers: dict[str, Any], extra: dict[str, Any]) -> Path | None:
    """Keep the answers so far (atomic, 0600) for `new-case --resume`; nothing when there are none."""
    from datetime import UTC, datetime

    from mocli.store.local import atomic_write, ensure_private_dir

    if not any(v not in (None, "") for v in answers.values()):
        return None  # an empty wizard leaves nothing, and never overwrites another draft
    path = drafts_dir() / f"{draft_id(answers)}.json"
    ensure_private_dir(path.parent.parent)
    ensure_private_dir(path.parent)
    payload = {"answers": answers, "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
               **{k: v for k, v in extra.items() if v is not None}}
    atomic_write(path, json.dumps(payload, ensure_ascii=False, indent=1).encode())
    return path


def list_drafts() -> list[dict[str, Any]]:
    """Every kept draft: id, customer, order, saved_at, path (unreadable ones are listed as such)."""
    from mocli.config import data_dir

    paths = sorted(drafts_dir().glob("*.json")) if drafts_dir().is_dir() else []
    legacy = data_dir() / LEGACY_DRAFT
    if legacy.is_file():
        paths.append(legacy)
    out = []
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            answers = data.get("answers") if isinstance(data, dict) else None
            if not isinstance(answers, dict):
                raise ValueError("no answers")
        except (OSError, ValueError, UnicodeDecodeError):
            data, answers = {}, {}
        out.append({"id": path.stem, "customer": answers.get("customer"), "order": answers.get("order"),
                    "answers": len(answers), "saved_at": data.get("saved_at"), "path": str(path)})
    return out


def describe_draft(d: dict[str, Any]) -> str:
    saved = f", saved {d['saved_at'][:16].replace('T', ' ')} UTC" if d.get("saved_at") else ""
    return f"{d['customer'] or 'no customer yet'}, order {d['order'] or 'not yet given'}{saved}"


def load_draft(path: Path) -> dict[str, Any]:
    """The draft's answers as saved (the wizard validates them again) and who and what it was for."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput("no draft to resume (a draft is kept when a wizard is cancelled with Ctrl-C)") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the draft {path} cannot be read ({exc}); discard it with `mocli drafts "
                           "--discard ID`") from None
    answers = data.get("answers") if isinstance(data, dict) else None
    if not isinstance(answers, dict):
        raise InvalidInput(f"the draft {path} holds no answers; discard it with `mocli drafts --discard ID`")
    return {"answers": answers, "agent": data.get("agent"), "ticket": data.get("ticket"),
            "locale": data.get("locale"), "path": path}


def pick_draft(customer: str | None, order: str | None) -> Path:
    """`--resume` without a terminal: the only draft, or the one for the customer / order (#1001) given."""
    drafts = list_drafts()
    if order:
        drafts = [d for d in drafts if d["order"] == order]
    if customer:
        drafts = [d for d in drafts if (d["customer"] or "").casefold() == customer.casefold()]
    if not drafts:
        raise InvalidInput("no draft to resume (a draft is kept when a wizard is cancelled with Ctrl-C; "
                           "`mocli drafts` lists them)")
    if len(drafts) > 1:
        raise InvalidInput(f"{len(drafts)} drafts match: name one with --customer and --order "
                           f"({'; '.join(describe_draft(d) for d in drafts)})")
    return Path(drafts[0]["path"])
