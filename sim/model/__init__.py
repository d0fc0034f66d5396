"""The model's mathematics: one place for every equation, no Mesa, Hydra or I/O.

=================  ==========================================================
module             what it holds
=================  ==========================================================
``names``          actions, outcomes, state variables and features, by name
``params``         every parameter with its default and range; ``make_config``
``validation``     the checks and messages for bad values (``ConfigError``)
``actors``         roles, what each action means and does to the shared state
``decisions``      utility features, utilities, the logit choice rule
``policies``       the decision rules, one registered unit each
``verification``   imperfect verification (imagery, false alarms)
``sequencing``     who moves first: the regimes and their conditionality
``events``         scheduled shocks
``dynamics``       the round: events, decisions, transition, outcome
``outcomes``       agreement, breakdown, (hedged) stalemate
``compile``        configs as arrays, the engines' input
=================  ==========================================================
"""
