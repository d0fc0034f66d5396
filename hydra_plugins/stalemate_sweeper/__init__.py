"""Hydra sweeper plugin ``hydra/sweeper=stalemate`` (see :mod:`.sweeper`)."""
