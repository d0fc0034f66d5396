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
echo "Installing Debian's chromium (apt-get) for the browser test ..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
if [ ! -x /usr/bin/chromium ]; then
    echo "install-chromium: apt-get did not install /usr/bin/chromium" >&2
    exit 1
fi
/usr/bin/chromium --version 2>/dev/null || true
