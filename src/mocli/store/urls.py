"""How a team database is named in messages, apart from the factory that opens it (which imports the
PostgreSQL backend, so the backend importing the factory would close a circle)."""

from __future__ import annotations


def describe_url(url: str) -> str:
    """"host H, database D" for messages: never the user's password, whatever the URL holds."""
    import os
    from urllib.parse import parse_qs, urlsplit

    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        host = parts.hostname or (query.get("host") or [None])[0] or os.environ.get("PGHOST") or "localhost"
        port = parts.port or (query.get("port") or [None])[0] or os.environ.get("PGPORT")
        db = parts.path.lstrip("/") or (query.get("dbname") or [None])[0] or os.environ.get("PGDATABASE") or "?"
    except ValueError:
        return "host ?, database ?"
    return f"host {host}{f':{port}' if port else ''}, database {db}"
