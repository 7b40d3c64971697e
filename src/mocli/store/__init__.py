"""The case store: one interface, two backends (the local journal file, a team's PostgreSQL server).

Names of the local backend (`CaseStore`, `read_projection`, `atomic_write`, ...) are reachable from here
as before the split, loaded on first use so importing this package stays light.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name.startswith("__"):  # import machinery probing (__path__ and such): not a store name
        raise AttributeError(name)
    import importlib

    local = importlib.import_module("mocli.store.local")
    try:
        return getattr(local, name)
    except AttributeError:
        raise AttributeError(f"module 'mocli.store' has no attribute {name!r}") from None
