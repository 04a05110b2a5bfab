#!/usr/bin/env bash
# Headless Chromium for the browser test (tests/browser) from Debian's packages: the test drives it
# with puppeteer-core, which downloads no browser. Idempotent: does nothing when it is installed.
# Prints the executable's path. Needs root (CI runs as root) or passwordless sudo.
set -euo pipefail
for exe in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$exe" ]; then echo "$exe"; exit 0; fi
done
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# fonts-liberation: text renders with metric-compatible fonts in the screenshots
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >&2
echo /usr/bin/chromium
