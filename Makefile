# Two commands:  make demo  (the main job)   make test  (the test suite)
# Both create .venv with a Python >= 3.12 (found by scripts/find-python.sh) on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	@PYBIN=$$(sh scripts/find-python.sh) && echo "Creating $(VENV) with $$PYBIN" && "$$PYBIN" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,analysis]"
	@touch $(STAMP)

## demo: the 2018 baseline over 200 seeds, then a small assurance x relief sweep, with figures
demo: $(STAMP)
	$(VENV)/bin/stalemate scenario=baseline_2018 seeds=200
	$(PY) experiments/sweep_study.py demo_map

## test: the whole test suite (unit, property-based, statistical, CLI)
test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check sim tests experiments

bench: $(STAMP)
	$(PY) experiments/benchmark_engines.py
	$(PY) experiments/benchmark_sweep.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
