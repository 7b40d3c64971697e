"""The local backend of the store interface: this agent's journal file (store/local.py), unchanged, with
the listing, claim-history, report and export queries the commands used to run on it themselves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mocli.store.local import CASES, IDS_KEY, CaseStore, Scan, _case_id, read_projection

if TYPE_CHECKING:
    from mocli.reporting import Filters


class LocalCaseStore(CaseStore):
    """One agent's case file behind the store interface (interface.CaseStoreAPI)."""

    backend = "local file"

    @property
    def where(self) -> str:
        return str(self.path)

    def _indexed(self, work: Callable[[Any], Any]) -> Any:
        """`work(index)` on this file's index (store/index.py), or None when the index cannot answer
        exactly (no journal yet, a damaged journal, a case of unusual shape): then the caller reads the
        journal as before, which also sets damage aside."""
        from mocli.store import index_queries
        from mocli.store.index import Unusable, open_index

        try:
            with open_index(self.path, lock_timeout=self.storage.lock_timeout, lock=self.storage.locked) as ix:
                return None if index_queries.has_odd(ix) else work(ix)
        except (Unusable, FileNotFoundError):
            return None

    def add(self, case: dict[str, Any], fresh: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:
        """As CaseStore.add; the drawn id is checked against the index's (under the store's lock, the index
        brought up to the journal's end first) instead of a scan of every id."""
        from mocli.errors import StoreError
        from mocli.store import index_queries

        if fresh is None:
            return super().add(case)
        with self.storage.locked():
            def draw(ix: Any) -> dict[str, Any]:
                drawn = case
                for _ in range(100):
                    if not index_queries.id_taken(ix, _case_id(drawn)):
                        return drawn
                    drawn = fresh()
                raise StoreError(f"could not draw an unused case id in {self.path}")

            picked = self._indexed(draw)
            if picked is None:  # no journal yet, or the index cannot answer: as before
                return super().add(case, fresh)
            self.table.insert(picked)
        return picked

    def _locate(self, ref: str) -> tuple[int, dict[str, Any], Scan] | None:
        """The case `ref` names from the index and its one record (see CaseStore._locate)."""
        from mocli.store import index_queries
        from mocli.store.local import _normal_ref, read_records

        ref = _normal_ref(ref)
        found = self._indexed(lambda ix: index_queries.locate(ix, ref)) if ref.isascii() else None
        if found is None:
            return super()._locate(ref)
        doc_id, case_id, scan = found
        docs = read_records(self.path, scan, CASES, [doc_id])
        if docs is None or _case_id(docs[0]) != case_id:
            return None
        return doc_id, docs[0], scan

    def list_cases(self, filters: Filters, *, now: datetime, due: bool = False, overdue: bool = False,
                   limit: int = 0) -> tuple[list[dict[str, Any]], int]:
        from mocli import reporting
        from mocli.store import index_queries

        # The index picks the page (ORDER BY ... LIMIT over its columns); only the records shown are read,
        # one pread each.
        found = self._indexed(lambda ix: (index_queries.page(ix, filters, now, due=due, overdue=overdue,
                                                             limit=limit), ix.dev, ix.ino))
        if found is not None:
            (shown, count), dev, ino = found
            scan = Scan(dev, ino, {}, {doc_id: (off, length) for doc_id, off, length in shown})
            return self.records(scan, [doc_id for doc_id, _, _ in shown]), count
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
        """The claims by this customer or at this address (the index's claims table; a full read of 50,000
        cases would hold the wizard up for seconds); the fraud rules pick what they count."""
        from mocli.errors import NotFound
        from mocli.policy.opening import CLAIMS_KEY, claim_fields
        from mocli.store import index_queries

        found = self._indexed(lambda ix: index_queries.claim_history(ix, customer_id, address_key))
        if found is not None:
            return found
        try:
            return [c for c in read_projection(self.path, claim_fields, CLAIMS_KEY,
                                               lock_timeout=self.storage.lock_timeout) if c]
        except NotFound:  # no case file yet
            return []

    def report(self, filters: Filters, now: datetime, *, top: int = 20) -> dict[str, Any]:
        from mocli import reporting
        from mocli.store import index_queries

        found = self._indexed(lambda ix: index_queries.tally(ix, filters, now, top=top))
        if found is not None:
            return reporting.assemble(found, now, top=top)
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
