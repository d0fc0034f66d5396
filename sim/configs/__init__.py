"""The Hydra configs, shipped as package data (``pkg://sim.configs``); see ``config.yaml``."""
