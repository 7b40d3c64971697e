"""The procedure as pure functions (/work/shared/missing-order-sop.txt): no I/O, no prompts, no printing.

Where each step is decided:
  1 tier, SLA and handling notes  opening.sla_text, Config.tier (config/tiers.toml)
  2 order and delivery address    opening.build_case (answers["address_confirmed"]), decide.decide
  3 tracking, known issues        situation.classify, opening.classify_case, opening.matching_known_issues
  4 delivery proof, exceptions    situation.classify, situation.exception_kind
  5 the delivery questions        decide.decide (answers), fraud.signals
  6 the action                    decide.decide; the VIP's choice in the call: opening.build_case
  7 the follow-up date            calendar.BusinessCalendar.follow_up, from opening.build_case
  8 resolving the case            resolving (questions, check, resolve, NEXT_STEP); carrier claims: claims
  9 the message and macro         opening.message_values, then messages.compose_for
"""
