"""Where facts come from: CRM (customers), order systems (orders), carriers (tracking).

Every provider is async so the wizard can run its lookups at once. `registry.py` is the one table
from the names used in `config/settings.toml [providers]` to the roles they fill and their classes.
"""
