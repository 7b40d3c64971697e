"""Personal data masked in exports (`mocli cases --json`, `mocli report`) unless --include-pii is given.

Pure functions over the stored JSON shapes; no I/O. Masking keeps what a script or a lead needs (ids,
tiers, cities, regions, countries, counts) and reduces what identifies a person: an email becomes
``a***@example.com``, a name its initials, a phone number its last two digits, an address line and a
postal code stars, a GPS fix is dropped. Masking goes by field, never by a pattern over every string:
ids (a numeric CRM id such as 7310000001), order and tracking numbers and dates are kept as they are.
The case's own personal values are replaced by their masked forms wherever they appear as whole words;
only free text (the message, notes, answers, history details, fraud evidence, carrier event texts) is
also searched for any other email address or phone number, and there a date or one of the case's own
ids is not taken for a phone number. A name typed into a note that the case does not know cannot be
recognised.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_EMAIL = re.compile(r"[^@\s<>(),;:\"']+@([^@\s<>(),;:\"']+\.[A-Za-z]{2,})")
_PHONE = re.compile(r"(?<![\w-])\+?\d[\d ().-]{6,}\d(?![\w-])")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")

# Where free text lives in a stored case ("*" is any key or list item): searched for unknown emails and
# phone numbers. Everything else is a field: masked by what it is, or kept.
FREE_TEXT = (
    ("message",), ("customer", "notes"), ("answers", "*"), ("history", "*", "detail"),
    ("signals", "*", "evidence"), ("resolution", "*"), ("known_issues", "*", "note"),
    ("tracking", "raw_description"), ("tracking", "events", "*", "description"),
    ("tracking", "proof_of_delivery", "location_note"),
)


def mask_email(email: Any) -> Any:
    """``ava.thompson@example.com`` -> ``a***@example.com``."""
    if not isinstance(email, str) or "@" not in email:
        return email if not isinstance(email, str) else _scrub_patterns(email)
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


def mask_name(name: Any) -> Any:
    """``Ava Thompson`` -> ``A. T.``."""
    if not isinstance(name, str) or not name.strip():
        return name
    return " ".join(f"{part[0]}." for part in name.split())


def mask_phone(phone: Any) -> Any:
    """``+1 555 010 2233`` -> ``***33``."""
    if not isinstance(phone, str) or not phone.strip():
        return phone
    digits = re.sub(r"\D", "", phone)
    return f"***{digits[-2:]}" if len(digits) > 2 else "***"


def _stars(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return text
    return re.sub(r"[^\s,.-]", "*", text)


def mask_address(address: Any) -> Any:
    """Street lines and postal code starred; city, region and country kept (reports group by them)."""
    if not isinstance(address, dict):
        return address
    out = dict(address)
    for key in ("line1", "line2", "postal_code", "name"):
        if out.get(key):
            out[key] = _stars(out[key])
    return out


def _scrub_patterns(text: str, ids: frozenset[str] = frozenset()) -> str:
    """Unknown emails and phone numbers in free text masked; dates and the case's own ids kept."""
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)

    def phone(m: re.Match[str]) -> str:
        found = m.group(0)
        if _DATE.match(found) or re.sub(r"\D", "", found) in ids:
            return found
        return mask_phone(found)

    return _PHONE.sub(phone, text)


def _case_ids(case: dict[str, Any]) -> frozenset[str]:
    """The digits of the case's own ids and numbers (CRM ids, order, tracking, ticket): never a phone."""
    customer = case.get("customer") if isinstance(case.get("customer"), dict) else {}
    order = case.get("order") if isinstance(case.get("order"), dict) else {}
    tracking = case.get("tracking") if isinstance(case.get("tracking"), dict) else {}
    values = (case.get("id"), case.get("ticket"), customer.get("id"), order.get("number"), order.get("customer_id"),
              order.get("tracking_number"), tracking.get("tracking_number"))
    return frozenset(d for v in values if isinstance(v, str | int) and (d := re.sub(r"\D", "", str(v))))


def _one_line(address: dict[str, Any]) -> str:
    return ", ".join(str(address[k]) for k in ("line1", "line2", "city", "region", "postal_code", "country")
                     if address.get(k))


def _known_values(case: dict[str, Any]) -> dict[str, str]:
    """Each personal value of this case and its masked form, longest first (for free-text replacement)."""
    pairs: dict[str, str] = {}
    customer = case.get("customer") if isinstance(case.get("customer"), dict) else {}
    order = case.get("order") if isinstance(case.get("order"), dict) else {}
    name = customer.get("name")
    if isinstance(name, str) and name.strip():
        pairs[name] = mask_name(name)
        for part in name.split():
            if len(part) > 1:
                pairs.setdefault(part, f"{part[0]}.")
    for email in (customer.get("email"), order.get("customer_email")):
        if isinstance(email, str) and "@" in email:
            pairs[email] = mask_email(email)
    if isinstance(customer.get("phone"), str) and customer["phone"].strip():
        pairs[customer["phone"]] = mask_phone(customer["phone"])
    for address in (customer.get("address"), order.get("address")):
        if isinstance(address, dict):
            masked = mask_address(address)
            pairs[_one_line(address)] = _one_line(masked)
            for key in ("line1", "line2", "postal_code"):
                if isinstance(address.get(key), str) and address[key]:
                    pairs[address[key]] = masked[key]
    tracking = case.get("tracking") if isinstance(case.get("tracking"), dict) else {}
    pod = tracking.get("proof_of_delivery") or {}
    if isinstance(pod, dict) and isinstance(pod.get("received_by"), str) and pod["received_by"].strip():
        pairs[pod["received_by"]] = mask_name(pod["received_by"])
    return dict(sorted(pairs.items(), key=lambda kv: -len(kv[0])))


def _replace_known(text: str, known: dict[str, str]) -> str:
    for value, masked in known.items():
        if value in text:
            text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", lambda _m, m=masked: m, text)
    return text


@lru_cache(maxsize=4096)  # asked for every string of every case exported: the same few hundred paths
def _is_free_text(path: tuple[str, ...]) -> bool:
    return any(len(path) >= len(p) and all(a in ("*", b) for a, b in zip(p, path, strict=False))
               for p in FREE_TEXT)


def _scrub(node: Any, known: dict[str, str], ids: frozenset[str], path: tuple[str, ...] = ()) -> Any:
    if isinstance(node, str):
        node = _replace_known(node, known)
        return _scrub_patterns(node, ids) if _is_free_text(path) else node
    if isinstance(node, dict):
        return {k: _scrub(v, known, ids, (*path, str(k))) for k, v in node.items()}
    if isinstance(node, list):
        return [_scrub(v, known, ids, (*path, "*")) for v in node]
    return node


def mask_case(case: dict[str, Any]) -> dict[str, Any]:
    """A stored case with its personal data masked (the stored record is not changed)."""
    known = _known_values(case)
    # Only the dicts changed below are copied (shallowly) here: `_scrub` then builds every dict and list
    # of the result anew, so nothing mutable is shared with the stored case, without a deep copy.
    out = dict(case)
    customer = out.get("customer")
    if isinstance(customer, dict):
        customer = out["customer"] = dict(customer)
        customer["name"] = mask_name(customer.get("name"))
        customer["email"] = mask_email(customer.get("email"))
        if "phone" in customer:
            customer["phone"] = mask_phone(customer.get("phone"))
        if "address" in customer:
            customer["address"] = mask_address(customer.get("address"))
        if isinstance(customer.get("prior_claims"), list):
            customer["prior_claims"] = [{**claim, "address": mask_address(claim["address"])}
                                        if isinstance(claim, dict) and "address" in claim else claim
                                        for claim in customer["prior_claims"]]
    order = out.get("order")
    if isinstance(order, dict):
        order = out["order"] = dict(order)
        order["address"] = mask_address(order.get("address"))
        if "customer_email" in order:
            order["customer_email"] = mask_email(order.get("customer_email"))
    tracking = out.get("tracking")
    if isinstance(tracking, dict) and isinstance(tracking.get("proof_of_delivery"), dict):
        pod = dict(tracking["proof_of_delivery"])
        out["tracking"] = {**tracking, "proof_of_delivery": pod}
        pod["received_by"] = mask_name(pod.get("received_by"))
        if pod.get("gps") is not None:
            pod["gps"] = None  # a delivery fix is where the customer lives
    return _scrub(out, known, _case_ids(case))


def mask_figures(figures: dict[str, Any]) -> dict[str, Any]:
    """`mocli report` figures with the repeat claimants' emails and addresses masked."""
    out = dict(figures)  # only the repeat claimants hold personal data: copy just their rows, shallowly
    repeat = dict(figures.get("repeat_claimants") or {})
    repeat["customers"] = [dict(row) for row in repeat.get("customers") or []]
    repeat["addresses"] = [dict(row) for row in repeat.get("addresses") or []]
    out["repeat_claimants"] = repeat
    for row in repeat["customers"]:
        row["email"] = mask_email(row.get("email"))
        if isinstance(row.get("customer"), str) and "@" in row["customer"]:  # no CRM id: the email stood in
            row["customer"] = mask_email(row["customer"])
    for row in repeat["addresses"]:
        address = row.get("address")
        if isinstance(address, str):
            parts = address.split(", ")
            # "line1[, line2], city[, region], postal, country": star the street and the postal code
            row["address"] = ", ".join([_stars(parts[0])] + parts[1:-2] + [_stars(p) for p in parts[-2:-1]]
                                       + parts[-1:]) if len(parts) >= 3 else _stars(address)
    return out
