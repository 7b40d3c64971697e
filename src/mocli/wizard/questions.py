"""The wizard's questions as data: key, step, prompt, kind, flag and when it applies.

An answer comes, in order, from a flag, the --answers file, a resumed draft, or the agent at a prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mocli.errors import InvalidInput

STEPS = {
    1: "Identify the customer tier",
    2: "Gather key order information",
    3: "Investigate order status",
    4: "Confirm tracking and delivery details",
    5: "Assess possible delivery issues",
    6: "Take tier-based action",
    7: "Set clear expectations",
    8: "Deliver resolution",
    9: "Offer further support",
}

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
CUSTOMER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
ORDER_NUMBER = re.compile(r"^#?[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class Question:
    key: str
    step: int
    prompt: str
    kind: str  # "text" | "yesno" | "choice"
    flag: str
    help: str
    delivered_only: bool = False  # step 5: asked only when tracking says delivered
    optional: bool = False
    # The answer under the pointer before the agent picks; None: nothing, the agent must choose.
    preselect: bool | None = True
    choices: tuple[str, ...] = ()  # kind "choice": the values, each answered by its first letter
    decision: str | None = None  # asked only when step 6 decides this action
    asked_if_no: str | None = None  # asked only when this yes/no question was answered no


QUESTIONS: tuple[Question, ...] = (
    Question("customer", 1, "Customer email or id:", "text", "--customer",
             "the customer's email address or CRM id"),
    Question("order", 2, "Order number:", "text", "--order", "the order number, e.g. 1001 or #1001"),
    Question("address_confirmed", 2, "Does the customer confirm this delivery address?", "yesno",
             "--address-confirmed", "yes if the customer confirms the order's shipping address"),
    Question("customer_address", 2, "Where does the customer want it delivered (their address now)?", "text",
             "--customer-address", "the address the customer gives when they do not confirm the order's",
             optional=True, asked_if_no="address_confirmed"),
    Question("received_by_someone_else", 5,
             "Could someone else have received it (neighbour, household member)?", "yesno",
             "--received-by-someone-else", "a neighbour or household member may have it",
             delivered_only=True, preselect=None),
    Question("checked_drop_off_spots", 5,
             "Has the customer checked the usual drop-off spots (porch, mailbox, package room)?", "yesno",
             "--checked-drop-off-spots", "porch, mailbox, package room checked", delivered_only=True, preselect=None),
    Question("theft_in_area", 5, "Have there been parcel thefts in their area recently?", "yesno",
             "--theft-in-area", "recent parcel theft in the area", delivered_only=True, preselect=None),
    Question("package_found", 5, "Has the package been found after these checks?", "yesno",
             "--package-found", "the customer found the package", delivered_only=True, preselect=None),
    Question("customer_choice", 6,
             "The customer is offered a replacement or a refund: what do they choose?", "choice",
             "--customer-choice", "replacement, refund, or later (the customer decides later; the default "
                                  "without a prompt)",
             optional=True, preselect=None, choices=("replacement", "refund", "later"),
             decision="refund_or_replacement"),
    Question("notes", 5, "Notes for the case (what the customer said; Enter to skip):", "text", "--notes",
             "free notes recorded with the answers", optional=True),
)
BY_KEY = {q.key: q for q in QUESTIONS}
ANSWER_KEYS = tuple(BY_KEY)

# The short labels people read on the review screen and the case view; the keys stay in --json and
# answers files.
LABELS = {
    "customer": "Customer",
    "order": "Order",
    "address_confirmed": "Address confirmed",
    "received_by_someone_else": "Someone else received it",
    "checked_drop_off_spots": "Drop-off spots checked",
    "theft_in_area": "Thefts in the area",
    "package_found": "Package found",
    "customer_address": "Where the customer is now",
    "customer_choice": "Customer's choice",
    "notes": "Notes",
}


def label(key: str) -> str:
    """An answer's short label (a key without one reads as words)."""
    return LABELS.get(key) or key.replace("_", " ").capitalize()


def applicable(delivered: bool, answers: dict[str, Any] | None = None) -> list[Question]:
    """The questions this case needs: step 5's only when tracking says delivered; a follow-up question
    only when its yes/no question was answered no."""
    return [q for q in QUESTIONS if (delivered or not q.delivered_only) and q.decision is None
            and (q.asked_if_no is None or (answers or {}).get(q.asked_if_no) is False)]


def parse_yes_no(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("y", "yes", "true", "1"):
            return True
        if v in ("n", "no", "false", "0"):
            return False
    raise InvalidInput(f"{key}: expected yes or no, got {value!r}")


def check_customer_ref(ref: str) -> str:
    ref = ref.strip()
    if "@" in ref:
        if not EMAIL.match(ref):
            raise InvalidInput(f"customer: {ref!r} is not a valid email address")
        return ref
    if not CUSTOMER_ID.match(ref):
        raise InvalidInput(f"customer: {ref!r} is neither an email address nor a customer id")
    return ref


def check_order_number(number: str) -> str:
    number = number.strip()
    if not ORDER_NUMBER.match(number):
        raise InvalidInput(f"order: {number!r} is not an order number (letters, digits, '-', optional leading '#')")
    return number if number.startswith("#") else f"#{number}"


def check_text(key: str, value: str) -> str:
    """Refuse text that could never be stored as UTF-8: a non-UTF-8 byte in a flag (Python hands it
    over as a lone surrogate) or a lone \\uD800 escape in a JSON file. Caught before any step runs."""
    bad = next((ch for ch in value if "\ud800" <= ch <= "\udfff"), None)
    if bad is not None:
        byte = f" (byte 0x{ord(bad) - 0xDC00:02x})" if "\udc80" <= bad <= "\udcff" else ""
        raise InvalidInput(f"{key}: not valid UTF-8 text{byte}; retype it, or set the terminal or file to UTF-8")
    return value


def validate_answer(key: str, value: Any) -> Any:
    """One answer, checked and normalised; InvalidInput names the key."""
    q = BY_KEY[key]
    if q.kind == "yesno":
        return parse_yes_no(value, key)
    if not isinstance(value, str):
        raise InvalidInput(f"{key}: expected text, got {type(value).__name__}")
    check_text(key, value)
    if q.kind == "choice":
        v = value.strip().lower()
        if v not in q.choices:
            raise InvalidInput(f"{key}: expected one of {', '.join(q.choices)}, got {value!r}")
        return v
    if key == "customer":
        return check_customer_ref(value)
    if key == "order":
        return check_order_number(value)
    if len(value) > 10_000:
        raise InvalidInput(f"{key}: longer than 10,000 characters")
    return value


def load_answers_file(path: str) -> dict[str, Any]:
    """Answers from a TOML or JSON file; unknown keys and wrong types are errors naming the key."""
    import json
    import tomllib
    from pathlib import Path

    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"answers file {path}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8") if raw else ""
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"answers file {path}: not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise InvalidInput(f"answers file {path} is empty")
    data: Any
    try:
        if p.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        elif p.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                data = tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"answers file {path}: not valid TOML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"answers file {path}: expected a table/object of answers")
    extra = {"agent", "ticket", "locale"}
    unknown = sorted(set(data) - set(ANSWER_KEYS) - extra)
    if unknown:
        raise InvalidInput(f"answers file {path}: unknown key {', '.join(unknown)} "
                           f"(known: {', '.join(ANSWER_KEYS)}, agent, ticket, locale)")
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in extra:
            if not isinstance(value, str):
                raise InvalidInput(f"answers file {path}: {key}: expected text, got {type(value).__name__}")
            out[key] = value
            continue
        q = BY_KEY[key]
        if q.kind == "yesno" and not isinstance(value, bool):
            raise InvalidInput(f"answers file {path}: {key}: expected true or false, got {value!r}")
        try:
            out[key] = validate_answer(key, value)
        except InvalidInput as exc:
            raise InvalidInput(f"answers file {path}: {exc}") from None
    return out
