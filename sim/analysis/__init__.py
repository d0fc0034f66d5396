"""Analyses built on the engines: the 2018 replay, screening, sensitivity, scenario discovery, the stage game.

============== ============================================================
module         what it holds
============== ============================================================
``replay``     the monthly calendar and counterfactual branching (common random numbers)
``screening``  Morris elementary effects and extra-trees feature scores over every parameter
``sensitivity`` the factor space and how a point is scored (Sobol)
``discovery``  PRIM boxes and CART (EMA Workbench): where in parameter space talks stall
``stagegame``  one round as a two-player game: payoffs and Nash equilibria
============== ============================================================
"""
