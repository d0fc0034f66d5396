"""Analyses built on the engines: the 2018 replay, sensitivity, scenario discovery, the stage game.

============== ============================================================
module         what it holds
============== ============================================================
``replay``     the monthly calendar and counterfactual branching (common random numbers)
``sensitivity`` the factor space and how a point is scored (Sobol)
``discovery``  PRIM boxes and a shallow tree: where in parameter space talks stall
``stagegame``  one round as a two-player game: payoffs and Nash equilibria
============== ============================================================
"""
