#!/usr/bin/env bash
# Debian's chromium for the site's real-browser test (tests/site/test_browser.py).
# playwright drives it through executable_path=/usr/bin/chromium, so no playwright
# browser download is needed. With CI set, that test fails when the browser is missing.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium
/usr/bin/chromium --version 2>/dev/null  # the Debian wrapper script prints a harmless shell warning on stderr
