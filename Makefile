# Two commands:  make demo  (the main job)   make test  (the test suite)
# Both create .venv with a Python >= 3.12 (found by scripts/find-python.sh) on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LINTED := sim tests experiments hydra_plugins scripts

.PHONY: demo test test-fast app room chromium lint format wheel-check bench bench-page screenshots clean

$(STAMP): pyproject.toml
	@PYBIN=$$(sh scripts/find-python.sh) && echo "Creating $(VENV) with $$PYBIN" && "$$PYBIN" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# the distribution was called "stalemate" before 0.2 (a name taken on the public index)
	@$(PY) -m pip uninstall --quiet --yes stalemate >/dev/null 2>&1 || true
	$(PY) -m pip install --quiet --no-compile -e ".[test,analysis,app]"
	$(PY) scripts/fetch-solara-assets.py --quiet
	@# byte-compile once: start-up stays fast where PYTHONDONTWRITEBYTECODE is set. pip would
	@# compile what it installs on one core (about a minute); compileall uses every core.
	@# Third-party files that do not compile, or warn, are left as pip leaves them (silently).
	@$(PY) -m compileall -qq -j 0 "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" >/dev/null 2>&1 || true
	$(PY) -m compileall -q sim hydra_plugins >/dev/null
	@# compile the model's kernels now, with a line per step, not in the first command
	$(PY) scripts/compile-kernels.py
	@touch $(STAMP)

## demo: the 2018 baseline over 200 seeds, then a small assurance x relief sweep, with figures
demo: $(STAMP)
	$(VENV)/bin/stalemate scenario=baseline_2018 seeds=200
	$(PY) experiments/sweep_study.py demo_map

## test: the whole test suite (unit, property-based, statistical, CLI, browser) — what CI runs
test: $(STAMP) chromium
	$(PY) -m pytest -n auto --dist loadfile

## test-fast: unit and property tests only (no statistical, CLI or browser tests), under a minute
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

## app: the classroom page on http://127.0.0.1:8765 (works offline once installed)
app: $(STAMP)
	$(VENV)/bin/stalemate-app

## room: the whole class plays one negotiation (prints a join code and the teacher's links);
## students on the class network need HOST=0.0.0.0:  make room HOST=0.0.0.0
HOST ?= 127.0.0.1
room: $(STAMP)
	$(VENV)/bin/stalemate-room --host $(HOST)

# Debian's chromium for the real-browser test (under CI, or when we are root)
chromium:
	@if [ -n "$${CI:-}" ] || [ "$$(id -u)" = 0 ]; then sh scripts/install-chromium.sh; fi

## lint: ruff's checks and its formatter, as CI runs them
lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

format: $(STAMP)
	$(VENV)/bin/ruff check --fix $(LINTED)
	$(VENV)/bin/ruff format $(LINTED)

## typecheck: mypy (lenient, [tool.mypy]) against .mypy-baseline.txt, which may only shrink — as CI runs it;
## typecheck-baseline: shrink the baseline after fixing errors (it never adds one)
.PHONY: typecheck typecheck-baseline
typecheck: $(STAMP)
	$(PY) scripts/mypy-baseline.py

typecheck-baseline: $(STAMP)
	$(PY) scripts/mypy-baseline.py --update

## wheel-check: build the wheel, install it into a fresh venv outside the checkout, run a scenario there
wheel-check: $(STAMP)
	sh scripts/wheel-check.sh $(PY)

## newest: the fast tests against the newest versions every pin in pyproject.toml allows, in a
## venv of their own (.venv-newest; .venv is untouched). Upper bounds guard the dependencies whose
## private API we use (tests/test_pins.py lists them); run this before raising one. Not in CI:
## CI's fresh .venv already resolves to the newest allowed versions, and a second install plus
## the fast tests (about 2 min) would take CI past its 10 minutes.
NEWEST ?= .venv-newest
.PHONY: newest
newest:
	@test -x $(NEWEST)/bin/python || { PYBIN=$$(sh scripts/find-python.sh) && "$$PYBIN" -m venv $(NEWEST); }
	$(NEWEST)/bin/python -m pip install --quiet --upgrade pip
	$(NEWEST)/bin/python -m pip install --quiet --no-compile --upgrade --upgrade-strategy eager -e ".[test,analysis,app]"
	$(NEWEST)/bin/python scripts/fetch-solara-assets.py --quiet
	@$(NEWEST)/bin/python -c "import sys; sys.path.insert(0, 'tests'); from test_pins import PRIVATE; \
	from importlib.metadata import version; print('newest allowed:', ', '.join(f'{d} {version(d)}' for d in PRIVATE))"
	$(NEWEST)/bin/python -m pytest -m "not slow" -n 2

## bench: every figure of "How fast", each with the load average beside it; the commands side by
## side with BENCH_AGAINST (a git revision, default main; empty: this checkout only)
BENCH_AGAINST ?= main
bench: $(STAMP)
	$(PY) experiments/benchmark_commands.py --fresh $(if $(BENCH_AGAINST),--against $(BENCH_AGAINST))
	$(PY) experiments/benchmark_engines.py
	$(PY) experiments/benchmark_sweep.py
	$(PY) experiments/benchmark_fit.py

## bench-page: the classroom page in real browser sessions (server time per step, ▶ rounds/s, 10 sessions)
bench-page: $(STAMP) chromium
	$(PY) experiments/benchmark_page.py

## screenshots: the page at 1366x768 and the room's projector view, for docs/classroom.md
screenshots: $(STAMP) chromium
	$(PY) scripts/classroom-screenshot.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build dist
