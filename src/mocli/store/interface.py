"""The one seam between the commands and where cases live: what every case store backend provides.

Two backends implement it: `file_backend.LocalCaseStore` (this agent's journal file, the default) and
`postgres.PostgresCaseStore` (a team's shared PostgreSQL database). `factory.open_store` picks one from
`[store] url` / `MOCLI_STORE_URL`. Cases are plain dicts in the stored JSON shape (models.Case).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mocli.reporting import Filters

from mocli.errors import StoreError

Case = dict[str, Any]


class CaseIdTaken(StoreError):
    """Another case already has this id (two agents drew the same random id): build it with a new one."""


class CaseStoreAPI(Protocol):
    """What the commands ask of a case store."""

    backend: str  # "local file" or "postgresql"
    where: str  # the file, or "host H, database D" (never a password): for messages

    def add(self, case: Case, fresh: Callable[[], Case] | None = None) -> Case:
        """Store a new case (durable when this returns) and return it. An id already taken is drawn
        again with `fresh` (the case built again with a new id), or else is a StoreError."""

    def find(self, ref: str) -> Case:
        """A case by id, or by a unique end of its id (what agents type); NotFound otherwise."""

    def update(self, ref: str, change: Callable[[Case], Case]) -> Case:
        """Apply `change` to one case atomically (no other change of it in between) and return the result.

        `change` may only append to the history; an error it raises leaves the case unchanged."""

    def list_cases(self, filters: Filters, *, now: datetime, due: bool = False, overdue: bool = False,
                   limit: int = 0) -> tuple[list[Case], int]:
        """Whole cases matching `filters` (and due today / overdue), most urgent follow-up first, at most
        `limit` (0: all); and how many matched in all."""

    def claim_history(self, customer_id: str, address_key: str) -> list[dict[str, Any]]:
        """Earlier claims (opening.claim_fields) by this customer or at this normalised address, from
        every agent who writes to this store: what the repeat-claim rules read."""

    def report(self, filters: Filters, now: datetime, *, top: int = 20) -> dict[str, Any]:
        """reporting.figures over the cases `filters` selects (without the period / sources keys), naming
        the `top` repeat claimants, addresses and overdue follow-ups (0: all)."""

    def recovery(self, filters: Filters, now: datetime) -> tuple[dict[str, Any], int]:
        """The report's carrier-claim recovery figures (policy/claims.py `recovery`) over the cases `filters`
        selects, with the configured claim rules; and how many cases had to be clocked the slow way."""

    def export(self) -> Iterator[Case]:
        """Every case, whole, in the order they were added."""

    def status(self) -> dict[str, Any]:
        """backend, where, schema version, case count, reachable: for `mocli store status`."""
