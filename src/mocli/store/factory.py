"""Which case store the commands use: the team's PostgreSQL database when `[store] url` (or
`MOCLI_STORE_URL`) names one, else this agent's own file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mocli.config import Config


def open_store(cfg: Config, path: str | None = None) -> Any:
    """The configured store; an explicit case file (`--db PATH`) always means that local file."""
    settings = cfg.settings.store
    if settings.url and not path:
        from mocli.store.postgres import PostgresCaseStore

        return PostgresCaseStore(settings.url, statement_timeout=settings.statement_timeout_seconds,
                                 connect_timeout=settings.connect_timeout_seconds)
    from mocli.store.file_backend import LocalCaseStore

    return LocalCaseStore(path, lock_timeout=settings.lock_timeout_seconds)
