"""Shared test setup: the helpers module, and a Hypothesis profile that writes nothing into the repository.

Helpers (sweeps over seeds, 95% intervals) live in ``tests/helpers.py``; this
file puts ``tests/`` on ``sys.path`` so every test module can ``import helpers``
under pytest's ``importlib`` import mode.
"""

import sys
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))

# No example database on disk (the tests must not write outside tests/), no
# per-example deadline (a Mesa run takes a few milliseconds, sometimes more),
# and a fixed derandomized search so the suite is reproducible.
# Hypothesis also caches constants it finds in the source: keep that out of the repo.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "stalemate-tests-hypothesis")
settings.register_profile("stalemate", database=None, deadline=None, derandomize=True)
settings.load_profile("stalemate")
