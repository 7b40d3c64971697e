"""One base error carrying an exit code; the CLI turns it into a one-line message in one place."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The documented exit codes (README, `mocli --help`)."""

    OK = 0
    FAILED = 1  # a lookup or operation failed, or something was not found
    USAGE = 2  # usage error or invalid input (flags, answers file, config)
    TICKET_NOT_UPDATED = 3  # the case was saved, but the helpdesk ticket could not be updated
    CANCELLED = 130  # Ctrl-C


class MocliError(Exception):
    """An error the user can act on: printed as one line, never as a traceback."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, *, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class InvalidInput(MocliError):
    """Bad flags, a bad answers file, a malformed order number or email."""

    exit_code = ExitCode.USAGE


class MissingAnswers(InvalidInput):
    """`--no-input` was given and some answers were not supplied."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        # Named as the flags the agent types, in every command (an answer key `address_confirmed` is
        # the flag `--address-confirmed`; answers files use the keys, with `_`).
        named = [f"--{m.replace('_', '-')}" if m.replace("_", "").isalpha() and m.islower() else m for m in missing]
        super().__init__(
            "missing answers (give them as flags or in --answers FILE): " + ", ".join(named)
        )


class ConfigError(MocliError):
    """A config file or value is wrong; the message names the file and key."""

    exit_code = ExitCode.USAGE


class NotFound(MocliError):
    """A customer, order, case or tracking number does not exist."""


class AmbiguousCase(NotFound):
    """A part of a case id that several cases share: usage (exit 2), the message lists them.

    A NotFound so callers that handle "no such case" handle this too; the exit code says the agent
    must type more of the id, as git does for a short hash.
    """

    exit_code = ExitCode.USAGE


class ProviderError(MocliError):
    """A provider (CRM, order system, carrier) failed or answered something unexpected."""


class StoreError(MocliError):
    """The case store cannot be read or written."""


class StoreBusy(StoreError):
    """Another mocli process holds the case store for longer than the lock timeout."""


class StoreCorrupt(StoreError):
    """The case file cannot be parsed; it is left in place (or moved aside), never replaced."""


class TicketNotUpdated(MocliError):
    """The case is saved, but posting it to the helpdesk ticket failed; the message says how to retry."""

    exit_code = ExitCode.TICKET_NOT_UPDATED


class Cancelled(MocliError):
    """The agent pressed Ctrl-C."""

    exit_code = ExitCode.CANCELLED
