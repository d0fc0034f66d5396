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


#: The test files that take longest, longest first (CPU seconds on a quiet machine, kernels
#: compiled cold as in CI; measured with the per-test CPU of a full run). ``make test`` hands
#: whole files to its two workers (``--dist loadfile``) in collection order; these go first,
#: so that no long file is started last while the other worker runs out of work. (xdist's
#: own order, by number of tests, started the two-test files that compile kernels — actions,
#: plug-ins — and the kill-at-every-phase searches last.) The other files follow in their
#: usual order; a file missing from this list is only scheduled later, never skipped.
FIRST = (
    "test_faults.py",  # ~210 s: the stalemate command killed at every phase, ~65 commands
    "test_actions_table.py",  # ~120 s cold: compiles the kernels of a four-action table
    "test_cli.py",  # ~125 s: sweeps through every launcher
    "test_browser.py",  # ~100 s and chromium: four servers, a 20 s play
    "test_estimate.py",  # ~85 s: stalemate-fit end to end (its refusals: ~24 CPU-s less)
    "test_provenance.py",  # ~65 s, and compiles an edited copy's kernels cold
    "test_search_faults.py",  # ~70 s: stalemate-search killed at every phase
    "test_room.py",  # ~60 s: a process for each refused command line (~30 CPU-s less)
    "test_plugins.py",  # ~45 s cold: compiles the kernels with a plug-in rule
    "test_cluster.py",  # the fake SLURM: mostly waiting on submitit's polls
    "test_analysis.py",
    "test_engines.py",
    "test_uncertainty.py",
    "test_app.py",
    "test_robust.py",
    "test_search.py",
    "test_startup.py",
    "test_oracle.py",
)


def pytest_configure(config):
    # keep the order below: xdist would otherwise sort files by their number of tests
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(session, config, items):
    """The files of :data:`FIRST` first, in that order; every file's tests in their order."""
    rank = {name: i for i, name in enumerate(FIRST)}
    position = {id(item): i for i, item in enumerate(items)}
    items.sort(key=lambda item: (rank.get(item.path.name, len(FIRST)), position[id(item)]))
