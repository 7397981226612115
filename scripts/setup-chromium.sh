#!/usr/bin/env bash
# Installs Debian's chromium for the console's browser tests (test/browser):
# the browser builds that test tools download for themselves cannot be fetched
# on these machines, Debian's package can. Needs root and apt; without
# chromium the browser tests fail (they never skip).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && dpkg -s fonts-noto-cjk >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-chromium: not root or no apt-get; the browser tests will fail without chromium" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends chromium fonts-noto-cjk
