#!/bin/sh
# Build the wheel, install it into a fresh virtual environment outside the checkout,
# and run a scenario from there: the package must work as a library, not only from
# its source tree (configs found as package data, no path into the checkout).
# Usage: sh scripts/wheel-check.sh [python]       (CI runs it through `make wheel-check`)
set -eu
PY=${1:-python3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stalemate-wheel.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "wheel-check: building the wheel (from a copy: the checkout gets no build/ litter) ..."
mkdir "$WORK/src"
(cd "$ROOT" && tar cf - --exclude=.venv --exclude=.git --exclude=results --exclude=build --exclude=dist .) \
    | (cd "$WORK/src" && tar xf -)
"$PY" -m pip wheel --quiet --no-deps -w "$WORK/dist" "$WORK/src"
WHEEL=$(ls "$WORK"/dist/stalemate_sim-*.whl)
echo "wheel-check: installing $(basename "$WHEEL") into a fresh venv in $WORK ..."
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --no-compile "$WHEEL"
cd "$WORK"   # far from the checkout: nothing can be found there by accident
"$WORK/venv/bin/python" -c "import sim, pathlib; assert '$ROOT' not in sim.__file__, sim.__file__"
"$WORK/venv/bin/stalemate" scenario=baseline_2018 seeds=5 progress=false hydra.run.dir="$WORK/run"
test -s "$WORK/run/runs.parquet"
echo "wheel-check: OK (installed wheel ran scenario=baseline_2018 seeds=5)"
