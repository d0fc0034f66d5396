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
# The version the checkout has (from git tags: sim/_version.py). The copy below has no
# .git, so it is handed over as an unpacked sdist's PKG-INFO, which versioningit reads.
VERSION=$("$PY" -c "import sim; print(sim.__version__)")
echo "wheel-check: building the wheel of stalemate-sim $VERSION (from a copy: the checkout gets no build/ litter) ..."
mkdir "$WORK/src"
(cd "$ROOT" && tar cf - --exclude=.venv --exclude=.git --exclude=results --exclude=build --exclude=dist .) \
    | (cd "$WORK/src" && tar xf -)
printf 'Metadata-Version: 2.1\nName: stalemate-sim\nVersion: %s\n' "$VERSION" >"$WORK/src/PKG-INFO"
"$PY" -m pip wheel --quiet --no-deps -w "$WORK/dist" "$WORK/src"
WHEEL=$(ls "$WORK"/dist/stalemate_sim-*.whl)
"$PY" -m zipfile -l "$WHEEL" >"$WORK/files.txt"
grep -q 'dist-info/licenses/LICENSE' "$WORK/files.txt" || { echo "wheel-check: no LICENSE in $WHEEL" >&2; exit 1; }
echo "wheel-check: installing $(basename "$WHEEL") into a fresh venv in $WORK ..."
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --no-compile "$WHEEL"
cd "$WORK"   # far from the checkout: nothing can be found there by accident
"$WORK/venv/bin/python" -c "import sim, pathlib; assert '$ROOT' not in sim.__file__, sim.__file__"
"$WORK/venv/bin/python" -c "import sim; assert sim.__version__ == '$VERSION', (sim.__version__, '$VERSION')"
"$WORK/venv/bin/stalemate" scenario=baseline_2018 seeds=5 progress=false hydra.run.dir="$WORK/run"
test -s "$WORK/run/runs.parquet"
echo "wheel-check: OK (installed wheel $(basename "$WHEEL") ran scenario=baseline_2018 seeds=5)"
