"""Real CRM and order-system adapters: Shopify, Zendesk, HubSpot and a generic HTTP/JSON adapter.

Each module reads its own `[providers.settings.<name>]` table (documented in docs/providers.md) and
talks HTTP only through `mocli.providers.http`; `mocli.providers.registry` builds one by its config name.
"""
