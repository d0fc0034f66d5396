"""The engines: the same mathematics played one run at a time (Mesa) or many at once (batch).

=============== ==============================================================
module          what it holds
=============== ==============================================================
``mesa_model``  ``NegotiationModel`` and ``StateAgent`` (Mesa 3.5), with the decision hook
``batch``       ``run_batch`` (many runs at once), ``run_mesa``, ``simulate`` (branching)
``tables``      the result tables both engines produce
=============== ==============================================================
"""
