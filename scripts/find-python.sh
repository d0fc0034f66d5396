#!/bin/sh
# Print the path of a Python >= 3.12 interpreter, or explain and fail.
# Order: $PYTHON, python3.13/python3.12/python3/python on PATH, then pyenv's
# installed versions (a pyenv shim such as python3.12 fails unless that version
# is selected, so each candidate is asked to run, not just found).
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
for cand in "${PYTHON:-}" python3.12 python3 python3.13 python; do
    [ -n "$cand" ] || continue
    path=$(command -v "$cand" 2>/dev/null) || continue
    if ok "$path"; then echo "$path"; exit 0; fi
done
root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
for dir in $(ls -d "$root"/versions/3.12* 2>/dev/null | sort -r -V) $(ls -d "$root"/versions/3.1[3-9]* 2>/dev/null | sort -V); do
    if ok "$dir/bin/python"; then echo "$dir/bin/python"; exit 0; fi
done
echo "find-python: no Python >= 3.12 found (tried \$PYTHON, python3.13, python3.12, python3, pyenv versions)." >&2
echo "Install one (e.g. 'pyenv install 3.12') or set PYTHON=/path/to/python3.12." >&2
exit 1
