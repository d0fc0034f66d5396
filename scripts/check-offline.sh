#!/bin/sh
# Check that the classroom page renders with no network at all: run the real-browser
# test inside a fresh network namespace that has only a loopback interface
# (`unshare -n`, needs root or user namespaces). Solara's CDN is unreachable there,
# so every front-end file must come from the asset cache filled at installation.
# Usage: sh scripts/check-offline.sh          (from the repository root)
set -eu
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
exec unshare -n sh -c "ip link set lo up && CI=true $PY -m pytest -q -p no:cacheprovider -o addopts='' tests/test_browser.py"
