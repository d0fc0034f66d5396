"""Robust policy search: which package of levers gets to agreement, across what we do not know.

Above the analyses in the layers (it uses their scenario discovery). ``stalemate-search
+policy_search=<preset>`` runs it (:mod:`sim.search.cli`); ``docs/analysis.md`` §6 reads
a result.

============== ==============================================================
module         what it holds
============== ==============================================================
``spec``       levers, uncertainties and objectives as config, checked against the model
``evaluate``   scenarios (Latin hypercube + posterior draws), candidates scored with
               common random numbers, robustness statistics with intervals
``moea``       NSGA-II (pymoo) in ask-and-tell, ε-archive, hypervolume, checkpoints
``pipeline``   search, out-of-sample re-evaluation, failure boxes, the files written
``plots``      the Pareto set, the trade-off, convergence, failure boxes
``cli``        the ``stalemate-search`` command, refusals before any work
============== ==============================================================
"""
