#!/bin/sh
# Install Debian's chromium for the real-browser test (tests/test_browser.py).
# Playwright cannot download its own browser builds here; the test drives this one
# (executable_path=/usr/bin/chromium). Does nothing if chromium is already there.
# Usage: sh scripts/install-chromium.sh        (as root, or with sudo available)
set -eu
CHROMIUM=${STALEMATE_CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
    echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: no apt-get here; install Chromium yourself and set STALEMATE_CHROMIUM=/path/to/chromium" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
# Another apt-get or dpkg (unattended upgrades, a parallel make test) may hold the dpkg
# or the package-list lock: wait for it, up to STALEMATE_APT_LOCK_WAIT seconds (default
# 300), instead of failing at once. apt waits for the dpkg lock itself
# (DPkg::Lock::Timeout); apt-get update does not wait for the lists lock in every apt
# release, so a run that failed on a lock is retried until the same deadline.
LOCK_WAIT=${STALEMATE_APT_LOCK_WAIT:-300}
DEADLINE=$(( $(date +%s) + LOCK_WAIT ))
apt_waiting() {
    while :; do
        if OUT=$(DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout="$LOCK_WAIT" "$@" 2>&1); then
            return 0
        fi
        case $OUT in
            *"Could not get lock"*|*"Unable to acquire"*|*"Unable to lock"*) ;;
            *) printf '%s\n' "$OUT" >&2; return 1 ;;
        esac
        if [ "$(date +%s)" -ge "$DEADLINE" ]; then
            echo "install-chromium: apt's lock was still held after ${LOCK_WAIT} s (STALEMATE_APT_LOCK_WAIT): $(printf '%s' "$OUT" | tail -n 1)" >&2
            return 1
        fi
        echo "install-chromium: another apt or dpkg holds its lock; waiting (up to ${LOCK_WAIT} s) ..." >&2
        sleep 5
    done
}
echo "Installing Debian's chromium (apt-get) for the browser test ..."
apt_waiting update -qq
apt_waiting install -y -qq chromium
if [ ! -x /usr/bin/chromium ]; then
    echo "install-chromium: apt-get did not install /usr/bin/chromium" >&2
    exit 1
fi
/usr/bin/chromium --version 2>/dev/null || true
