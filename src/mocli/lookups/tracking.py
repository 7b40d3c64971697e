"""Looking up many numbers at once: detection, the provider for each carrier, and one result each.

A batch never stops at the first failure: every number ends as a `Result` with either a tracking or
an error code (`ERROR_CODES`). Concurrency is bounded where it matters, per provider, inside
`mocli.providers.http`; here every lookup simply starts at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mocli.errors import ConfigError, InvalidInput, MocliError, NotFound
from mocli.tracking.detect import CARRIERS, Detection, carrier_id, detect

# The `error.code` values scripts see, and the exit code each leads to.
ERROR_CODES = {
    "invalid_number": 2,     # fits no format mocli knows (give --carrier to look it up anyway)
    "probably_mistyped": 2,  # fits a format, fails its check digit
    "not_found": 1,          # the carrier has no such number (yet)
    "provider_error": 1,     # the carrier's API failed, refused us, or answered nonsense
}


@dataclass
class Result:
    """One number's outcome: its detection, the carrier asked, and a tracking or an error."""

    input: str
    detection: Detection
    carrier: str | None = None
    tracking: Any = None  # models.Tracking
    error_code: str | None = None
    error_message: str | None = None
    files: list[Any] = field(default_factory=list)  # ProofFile, for --save-proof
    saved: list[str] = field(default_factory=list)  # where they were written
    situation: tuple[str, str] | None = None  # ("late" | "stalled", why) for a parcel on its way

    @property
    def number(self) -> str:
        return self.detection.number

    @property
    def exit_code(self) -> int:
        return ERROR_CODES.get(self.error_code or "", 0)


def override_carrier(name: str | None) -> str | None:
    """The --carrier value as a carrier id; InvalidInput listing the known ones."""
    if name is None:
        return None
    cid = carrier_id(name)
    if cid is None:
        raise InvalidInput(f"--carrier: unknown carrier {name!r} (known: {', '.join(CARRIERS)})")
    return cid


# A number's detection, the carriers to ask (best first), or its result when there is none to ask.
Plan = tuple[Detection, list[str], Result | None]


def plan(raw: str, override: str | None) -> Plan:
    """The carriers to ask for `raw`, best first; or an immediate result when there is none."""
    det = detect(raw)
    if override:
        return det, [override], None
    if det.candidates:
        return det, [c.carrier for c in det.candidates], None
    if det.probably_mistyped:
        like = ", ".join(f"{CARRIERS[c]}" for c in det.resembles())
        formats = ", ".join(dict.fromkeys(c.format for c in det.mistyped))
        return det, [], Result(raw, det, error_code="probably_mistyped",
                               error_message=f"{det.number} looks like {like} ({formats}) but its check digit is "
                                             "wrong: probably mistyped (use --carrier to look it up anyway)")
    shown = det.number or raw.strip() or "(empty)"
    if "\ufffd" in raw:
        return det, [], Result(raw, det, error_code="invalid_number",
                               error_message=f"{shown} is not valid UTF-8 text (its bad bytes are shown as \ufffd)")
    return det, [], Result(raw, det, error_code="invalid_number",
                           error_message=f"{shown} is not a tracking number format mocli knows "
                                         "(use --carrier to look it up anyway)")


async def track_one(providers: Any, raw: str, override: str | None, proof: bool,
                    lookup_timeout: float | None = None, planned: Plan | None = None) -> Result:
    """One number's result; each carrier asked gets at most `lookup_timeout` seconds, retries included.
    `planned` is `plan(raw, override)` when the caller has made it already."""
    det, carriers, early = planned or plan(raw, override)
    if early is not None:
        return early
    result = Result(raw, det)
    for cid in carriers:
        provider = providers.tracking(cid)
        result.carrier = cid
        try:
            async with asyncio.timeout(lookup_timeout):
                found = await provider.lookup(det.number, cid, proof)
                tracking, result.files = found.tracking, found.files
        except TimeoutError:
            result.error_code = "provider_error"
            result.error_message = (f"{cid}: no answer within {lookup_timeout:g} s for {det.number} (the "
                                    "deadline for one lookup: providers.lookup_timeout_seconds)")
            return result
        except NotFound as exc:
            result.error_code, result.error_message = "not_found", str(exc)
            continue  # another candidate carrier may know it
        except InvalidInput as exc:
            result.error_code, result.error_message = "invalid_number", str(exc)
            continue
        except ConfigError:
            raise  # the whole run is misconfigured: one message, exit 2
        except MocliError as exc:
            result.error_code, result.error_message = "provider_error", str(exc)
            return result
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
            # A body whose shape the adapter could not read (pydantic's ValidationError is a ValueError):
            # this number fails with a message, the batch goes on.
            result.error_code = "provider_error"
            result.error_message = (f"{cid}: answered something mocli cannot read for {det.number} "
                                    f"({type(exc).__name__})")
            return result
        result.tracking = tracking
        result.carrier = carrier_id(tracking.carrier) or cid
        result.error_code = result.error_message = None
        return result
    return result


def check_providers(providers: Any, raws: list[str], override: str | None) -> list[Plan]:
    """Build every provider the batch needs before any lookup, so a missing secret fails at once; the
    plan of each number, for its lookup (a batch used to detect every number twice)."""
    plans = [plan(raw, override) for raw in raws]
    for cid in {c for p in plans for c in p[1]}:
        providers.tracking(cid)
    return plans


async def track_all(providers: Any, raws: list[str], override: str | None = None, proof: bool = False,
                    on_result: Callable[[Result], None] | None = None, deadline: float | None = 300.0,
                    transport: Any = None, lookup_timeout: float | None = None) -> list[Result]:
    """Every number's result, in input order; `on_result` sees each as soon as it is known.

    `deadline` bounds the whole run, `lookup_timeout` each number's lookup (default: the config's
    `providers.lookup_timeout_seconds`)."""
    from mocli.providers import http

    if lookup_timeout is None and getattr(providers, "cfg", None) is not None:
        lookup_timeout = providers.cfg.settings.providers.lookup_timeout_seconds
    plans = check_providers(providers, raws, override)
    async with http.run_session(deadline=deadline, transport=transport, token_cache=http.TokenCache.in_data_dir()):

        async def one(i: int, raw: str) -> tuple[int, Result]:
            res = await track_one(providers, raw, override, proof, lookup_timeout, plans[i])
            if on_result is not None:
                on_result(res)
            return i, res

        out: list[Result | None] = [None] * len(raws)
        for fut in asyncio.as_completed([one(i, r) for i, r in enumerate(raws)]):
            i, res = await fut
            out[i] = res
        return [r for r in out if r is not None]
