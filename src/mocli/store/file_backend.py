"""The local backend of the store interface: this agent's journal file (store/local.py), unchanged, with
the listing, claim-history, report and export queries the commands used to run on it themselves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mocli.store.local import IDS_KEY, CaseStore, _case_id, read_projection

if TYPE_CHECKING:
    from mocli.reporting import Filters


class LocalCaseStore(CaseStore):
    """One agent's case file behind the store interface (interface.CaseStoreAPI)."""

    backend = "local file"

    @property
    def where(self) -> str:
        return str(self.path)

    def list_cases(self, filters: Filters, *, now: datetime, due: bool = False, overdue: bool = False,
                   limit: int = 0) -> tuple[list[dict[str, Any]], int]:
        from mocli import reporting

        # Filter and sort the cached slim view of every case (reporting.listing: the fields the filters
        # and the sort read); then read only the whole records shown (local.py, "projections and fast
        # look-ups").
        scan = self.scan(reporting.listing, reporting.LISTING_KEY)
        found = [(doc_id, s) for doc_id, s in scan.docs.items() if filters.matches(s)]
        if due or overdue:
            found = [(doc_id, s) for doc_id, s in found if (due and reporting.is_due_today(s, now))
                     or (overdue and reporting.is_overdue(s, now))]
        unset = reporting.follow_up_key({"follow_up_by": now.isoformat()})  # no follow-up: sorted as now
        found.sort(key=lambda row: (unset if (k := row[1].get("follow_up_key")) is None else k,
                                    str(row[1].get("id"))))
        picked = found[:limit] if limit else found
        return self.records(scan, [doc_id for doc_id, _ in picked]), len(found)

    def claim_history(self, customer_id: str, address_key: str) -> list[dict[str, Any]]:
        """Every claim in this file (a cached projection: a full read of 50,000 cases would hold the
        wizard up for seconds); the fraud rules pick the customer's and the address's."""
        from mocli.errors import NotFound
        from mocli.policy.opening import CLAIMS_KEY, claim_fields

        try:
            return [c for c in read_projection(self.path, claim_fields, CLAIMS_KEY,
                                               lock_timeout=self.storage.lock_timeout) if c]
        except NotFound:  # no case file yet
            return []

    def report(self, filters: Filters, now: datetime, *, top: int = 20) -> dict[str, Any]:
        from mocli import reporting

        return reporting.figures(self._selected(filters), now, top=top)

    def recovery(self, filters: Filters, now: datetime) -> tuple[dict[str, Any], int]:
        from mocli.reporting import recovery_figures

        return recovery_figures(self._selected(filters), now), 0

    def _selected(self, filters: Filters) -> list[dict[str, Any]]:
        """The slim views (reporting.summary, cached) of the cases `filters` selects."""
        from mocli import reporting
        from mocli.errors import NotFound

        try:
            summaries = read_projection(self.path, reporting.summary, reporting.SUMMARY_KEY,
                                        lock_timeout=self.storage.lock_timeout, move_corrupt=False)
        except NotFound:  # no case file yet: an empty report
            summaries = []
        return reporting.select(summaries, filters)

    def export(self) -> Iterator[dict[str, Any]]:
        if self.path.exists():
            yield from self.all()

    def status(self) -> dict[str, Any]:
        count = len(self.scan(_case_id, IDS_KEY).docs)  # the id index `find` keeps if self.path.exists() else 0
        return {"backend": self.backend, "where": self.where, "schema_version": None, "cases": count,
                "reachable": True}
