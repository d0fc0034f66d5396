"""The Hydra layer: the structured config schema, composition, the ``stalemate`` command and sweeps.

========== ============================================================
module     what it holds
========== ============================================================
``schema`` ``AppConfig`` (every model parameter + run settings), validation
``compose`` the packaged YAML, ``compose()``, the scenario catalogue
``cli``    the ``stalemate`` command (a Hydra app)
``sweep``  merging, summarising and plotting a multirun
========== ============================================================

The sweeper plugin lives in ``hydra_plugins/stalemate_sweeper`` (Hydra finds
plugins only in that namespace package).
"""
