"""Carrier tracking adapters: one module per real API, each returning `models.Tracking`.

Every adapter has ``name``, ``async track(number, carrier=None) -> Tracking`` (the TrackingProvider
protocol) and ``async lookup(number, carrier=None, proof=False) -> Lookup``, which also carries proof
of delivery images when the API gives them (``--save-proof``). All HTTP goes through
`mocli.providers.http`; status codes are mapped by the tables in `mocli.tracking.statuses`.
"""
