"""Tracking numbers: which carrier a number belongs to (`detect`), what each carrier's status codes
mean in our words (`statuses`), and the views and JSON of `mocli track` (`view`).

Nothing here does I/O; the carrier APIs live in `mocli.providers.carriers`.
"""
