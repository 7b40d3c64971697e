"""The case store: one interface, two backends (the local journal file, a team's PostgreSQL server).

Names of the local backend (`CaseStore`, `read_projection`, `atomic_write`, ...) are reachable from here
as before the split, loaded on first use so importing this package stays light.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name.startswith("__"):  # import machinery probing (__path__ and such): not a store name
        raise AttributeError(name)
    from pathlib import Path

    if (Path(__file__).parent / f"{name}.py").is_file():
        # `from mocli.store import migrations` asks for the submodule here first: answering by loading
        # the local backend (TinyDB, filelock) would cost the team store's commands ~40 ms for nothing.
        raise AttributeError(name)
    import importlib

    local = importlib.import_module("mocli.store.local")
    try:
        return getattr(local, name)
    except AttributeError:
        raise AttributeError(f"module 'mocli.store' has no attribute {name!r}") from None
