"""Report figures and case filters over stored case dicts: pure, one pass, no pydantic per case.

Everything here takes plain case dicts (the stored JSON) and a `now`; nothing reads files or prints.
The JSON keys of `figures()` are documented in docs/lifecycle.md ("Report JSON keys"). Four modules:
`views` (the slim views of a case and their accessors), `filters` (periods, filters, roll-ups),
`figures` (the counts and the report) and `rows` (CSV and markdown rows); every name is here too.
"""

from __future__ import annotations

from mocli.policy.claims import CLAIM_ACTIONS  # noqa: F401 (named here by the store backends)
from mocli.reporting.figures import (  # noqa: F401
    TOP,
    Tally,
    _money,
    _sorted_counts,
    _trends,
    assemble,
    figures,
    median,
    percentile,
    rate,
    recovery_figures,
    tally,
)
from mocli.reporting.filters import (  # noqa: F401
    Filters,
    _identity,
    _progress,
    duplicate_ids,
    is_due_today,
    is_overdue,
    merge,
    parse_period,
    parse_when,
    select,
)
from mocli.reporting.rows import late, rows, title  # noqa: F401
from mocli.reporting.views import (  # noqa: F401
    _CLAIM_FIELDS,
    _EPOCH,
    _RESOLUTION_FIELDS,
    LISTING_KEY,
    SUMMARY_KEY,
    action_of,
    address_line,
    carrier_of,
    follow_up_key,
    listing,
    summary,
    tier_of,
    when,
)
